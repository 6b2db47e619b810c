package page

import (
	"net/url"
	"strings"
	"time"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Entry is what listings, feeds and sitemaps show of an article. The
// rendering service keeps one per article in its index, so a listing is
// rendered without reading any article back.
type Entry struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Headline  string    `json:"headline"`
	Dek       string    `json:"dek,omitempty"`
	Language  string    `json:"lang"`
	Published time.Time `json:"published"`
	Updated   time.Time `json:"updated"`
	Section   *Label    `json:"section,omitempty"`
	Authors   []Person  `json:"authors,omitempty"`
	Tags      []Label   `json:"tags,omitempty"`
	Image     *Picture  `json:"image,omitempty"`
}

// Person is a byline.
type Person struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	// Organization the person writes for.
	Organization string `json:"org,omitempty"`
	// IsOrganization marks an agency credit (AP, EFE), not a person.
	IsOrganization bool `json:"is_org,omitempty"`
	// Profile is the author registry's URL for the person, if any.
	Profile string `json:"profile,omitempty"`
}

// Label is a section or a tag.
type Label struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Picture is an image with what readers and crawlers need of it.
type Picture struct {
	URL     string `json:"url"`
	Alt     string `json:"alt,omitempty"`
	Caption string `json:"caption,omitempty"`
	Credit  string `json:"credit,omitempty"`
	Width   int    `json:"w,omitempty"`
	Height  int    `json:"h,omitempty"`
}

// EntryOf summarises an article for listings. Published is the first
// publication (created_at), Updated this revision's time; both fall back
// to each other, and to the zero time when the article carries neither.
func EntryOf(site Site, a *newsroomv1.Article) Entry {
	e := Entry{
		ID:       a.Id,
		URL:      a.Url,
		Headline: strings.TrimSpace(a.Headline),
		Dek:      strings.TrimSpace(a.Dek),
		Language: a.Language,
	}
	if e.Headline == "" {
		e.Headline = "Untitled"
	}
	if !isHTTP(e.URL) {
		e.URL = site.ArticleURL(a.Id)
	}
	if !ValidLanguage(e.Language) {
		e.Language = site.Language
	}
	if a.CreatedAt != nil {
		e.Published = a.CreatedAt.AsTime().UTC()
	}
	if a.UpdatedAt != nil {
		e.Updated = a.UpdatedAt.AsTime().UTC()
	}
	switch {
	case e.Published.IsZero():
		e.Published = e.Updated
	case e.Updated.IsZero() || e.Updated.Before(e.Published):
		e.Updated = e.Published
	}
	if s := strings.TrimSpace(a.Section); s != "" {
		if sl := Slug("", s); sl != "" {
			e.Section = &Label{Name: s, Slug: sl}
		}
	}
	seen := map[string]bool{}
	for _, b := range a.Bylines {
		name := strings.TrimSpace(b.Name)
		sl := Slug(b.Slug, name)
		if name == "" || sl == "" || seen[sl] {
			continue
		}
		seen[sl] = true
		p := Person{Name: name, Slug: sl, Organization: strings.TrimSpace(b.Organization), IsOrganization: b.IsOrganization}
		if isHTTP(b.Url) {
			p.Profile = b.Url
		}
		e.Authors = append(e.Authors, p)
	}
	seen = map[string]bool{}
	for _, t := range a.Tags {
		name := strings.TrimSpace(t.Name)
		sl := Slug(t.Slug, name)
		if name == "" || sl == "" || seen[sl] {
			continue
		}
		seen[sl] = true
		e.Tags = append(e.Tags, Label{Name: name, Slug: sl})
	}
	if pics := pictures(site, a.Images); len(pics) > 0 {
		e.Image = &pics[0]
	}
	return e
}

// pictures keeps the images that have a usable http(s) URL, resolved
// against the site, with alt text falling back to the caption.
func pictures(site Site, images []*newsroomv1.Image) []Picture {
	var out []Picture
	base, _ := url.Parse(site.BaseURL + "/")
	for _, im := range images {
		if im == nil || strings.TrimSpace(im.Url) == "" {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(im.Url))
		if err != nil {
			continue
		}
		if base != nil {
			u = base.ResolveReference(u)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			continue
		}
		p := Picture{
			URL:     u.String(),
			Alt:     strings.TrimSpace(im.Alt),
			Caption: strings.TrimSpace(im.Caption),
			Credit:  strings.TrimSpace(im.Credit),
		}
		if im.Width > 0 && im.Height > 0 {
			p.Width, p.Height = int(im.Width), int(im.Height)
		}
		if p.Alt == "" {
			p.Alt = p.Caption
		}
		out = append(out, p)
	}
	return out
}

// Kind is the kind of a listing.
type Kind string

// The listings of the site.
const (
	KindHome    Kind = "home"
	KindSection Kind = "section"
	KindTag     Kind = "tag"
	KindAuthor  Kind = "author"
)

// Label is how a page names the kind.
func (k Kind) Label() string {
	switch k {
	case KindSection:
		return "Section"
	case KindTag:
		return "Topic"
	case KindAuthor:
		return "Author"
	}
	return ""
}

// Listing names one listing page.
type Listing struct {
	Kind Kind
	Slug string
}

// Home is the front page.
var Home = Listing{Kind: KindHome}

// Key names the listing in the index: "home", "section.<slug>", ….
func (l Listing) Key() string {
	if l.Kind == KindHome {
		return string(KindHome)
	}
	return string(l.Kind) + "." + l.Slug
}

// ParseListingKey is the inverse of Key.
func ParseListingKey(key string) (Listing, bool) {
	if key == string(KindHome) {
		return Home, true
	}
	kind, sl, ok := strings.Cut(key, ".")
	if !ok || !slugPattern.MatchString(sl) {
		return Listing{}, false
	}
	switch Kind(kind) {
	case KindSection, KindTag, KindAuthor:
		return Listing{Kind: Kind(kind), Slug: sl}, true
	}
	return Listing{}, false
}

// Path is the listing page's path.
func (l Listing) Path() string {
	switch l.Kind {
	case KindSection:
		return "/sections/" + l.Slug
	case KindTag:
		return "/tags/" + l.Slug
	case KindAuthor:
		return "/authors/" + l.Slug
	}
	return "/"
}

// FeedPath is the path of one of the listing's feeds (PathRSS, PathAtom).
func (l Listing) FeedPath(name string) string {
	if l.Kind == KindHome {
		return "/" + name
	}
	return l.Path() + "/" + name
}

// Listings are the listings an entry appears in.
func (e Entry) Listings() []Listing {
	out := []Listing{Home}
	if e.Section != nil {
		out = append(out, Listing{Kind: KindSection, Slug: e.Section.Slug})
	}
	for _, t := range e.Tags {
		out = append(out, Listing{Kind: KindTag, Slug: t.Slug})
	}
	for _, a := range e.Authors {
		out = append(out, Listing{Kind: KindAuthor, Slug: a.Slug})
	}
	return out
}

// TitleIn is the name an entry gives a listing it appears in (the
// section's, tag's or author's name).
func (e Entry) TitleIn(l Listing) string {
	switch l.Kind {
	case KindSection:
		if e.Section != nil && e.Section.Slug == l.Slug {
			return e.Section.Name
		}
	case KindTag:
		for _, t := range e.Tags {
			if t.Slug == l.Slug {
				return t.Name
			}
		}
	case KindAuthor:
		for _, a := range e.Authors {
			if a.Slug == l.Slug {
				return a.Name
			}
		}
	}
	return ""
}

package page

import (
	"encoding/json"
	"html/template"
	"time"
)

// JSON-LD for schema.org, as Google's article structured data asks for it.
// encoding/json escapes <, > and & so the script element can never be
// closed from inside a value.

type ldThing = map[string]any

func (r *Renderer) publisher() ldThing {
	u, w, h := r.site.Logo()
	logo := ldThing{"@type": "ImageObject", "url": u}
	if w > 0 && h > 0 {
		logo["width"], logo["height"] = w, h
	}
	p := ldThing{"@type": "Organization", "name": r.site.Name, "url": r.site.BaseURL + "/", "logo": logo}
	if len(r.site.SameAs) > 0 {
		p["sameAs"] = r.site.SameAs
	}
	return p
}

func (r *Renderer) newsArticle(e Entry, d articleData) (template.JS, error) {
	images := []ldThing{}
	pics := []Picture{d.Share}
	if d.Lead != nil {
		pics = append([]Picture{}, *d.Lead)
		pics = append(pics, d.More...)
	}
	for _, p := range pics {
		im := ldThing{"@type": "ImageObject", "url": p.URL}
		if p.Width > 0 && p.Height > 0 {
			im["width"], im["height"] = p.Width, p.Height
		}
		if p.Caption != "" {
			im["caption"] = p.Caption
		}
		if p.Credit != "" {
			im["creditText"] = p.Credit
		}
		images = append(images, im)
	}
	authors := []ldThing{}
	for _, a := range e.Authors {
		t := "Person"
		if a.IsOrganization {
			t = "Organization"
		}
		au := ldThing{"@type": t, "name": a.Name, "url": r.site.URL(Listing{Kind: KindAuthor, Slug: a.Slug}.Path())}
		if a.Profile != "" && a.Profile != au["url"] {
			au["sameAs"] = a.Profile
		}
		if a.Organization != "" && !a.IsOrganization {
			au["worksFor"] = ldThing{"@type": "Organization", "name": a.Organization}
		}
		authors = append(authors, au)
	}
	if len(authors) == 0 {
		// Google wants an author; an unsigned story is the publication's.
		authors = append(authors, ldThing{"@type": "Organization", "name": r.site.Name, "url": r.site.BaseURL + "/"})
	}
	ld := ldThing{
		"@context":            "https://schema.org",
		"@type":               "NewsArticle",
		"headline":            headline110(e.Headline),
		"description":         d.Desc,
		"url":                 d.Canonical,
		"mainEntityOfPage":    ldThing{"@type": "WebPage", "@id": d.Canonical},
		"image":               images,
		"datePublished":       e.Published.Format(time.RFC3339),
		"dateModified":        e.Updated.Format(time.RFC3339),
		"author":              authors,
		"publisher":           r.publisher(),
		"inLanguage":          e.Language,
		"isAccessibleForFree": true,
	}
	if e.Section != nil {
		ld["articleSection"] = e.Section.Name
	}
	if len(e.Tags) > 0 {
		kw := make([]string, len(e.Tags))
		for i, t := range e.Tags {
			kw[i] = t.Name
		}
		ld["keywords"] = kw
	}
	if d.WordCount > 0 {
		ld["wordCount"] = d.WordCount
	}
	return marshalJS(ld)
}

func (r *Renderer) collectionPage(v ListingView, title, desc string) (template.JS, error) {
	items := []ldThing{}
	for i, e := range v.Entries {
		items = append(items, ldThing{"@type": "ListItem", "position": i + 1, "url": e.URL, "name": e.Headline})
	}
	t := "CollectionPage"
	page := ldThing{
		"@context":    "https://schema.org",
		"@type":       t,
		"name":        title,
		"description": desc,
		"url":         r.site.URL(v.Listing.Path()),
		"inLanguage":  r.site.Language,
		"isPartOf":    ldThing{"@type": "WebSite", "name": r.site.Name, "url": r.site.BaseURL + "/", "publisher": r.publisher()},
		"mainEntity":  ldThing{"@type": "ItemList", "itemListElement": items},
	}
	if v.Listing.Kind == KindAuthor && v.Title != "" {
		page["about"] = ldThing{"@type": "Person", "name": v.Title, "url": r.site.URL(v.Listing.Path())}
	}
	return marshalJS(page)
}

func marshalJS(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return template.JS(b), nil
}

// headline110 keeps a headline within the 110 characters Google reads.
func headline110(h string) string {
	r := []rune(h)
	if len(r) <= 110 {
		return h
	}
	return string(r[:109]) + "…"
}

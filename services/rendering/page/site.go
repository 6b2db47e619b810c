package page

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/newsroom/newsroom/pkg/slug"
)

// Site is the publication's identity, from configuration.
type Site struct {
	Name string
	// BaseURL is the public root of the site, without a trailing slash,
	// e.g. https://news.example.com. Every URL on a page is absolute.
	BaseURL string
	// Language is the BCP 47 tag for articles that carry none, and of the
	// listing pages.
	Language string
	// LogoURL is the publisher logo (JSON-LD, the masthead); LogoWidth and
	// LogoHeight its size in pixels. When empty the site serves its own
	// logo at /assets/logo.png.
	LogoURL    string
	LogoWidth  int
	LogoHeight int
	// XHandle is the publication's account on X, e.g. "@newsroom".
	XHandle string
	// FacebookAppID, if set, is announced as fb:app_id.
	FacebookAppID string
	// SameAs are the publication's profiles elsewhere (Facebook page,
	// Mastodon, …), announced in JSON-LD.
	SameAs []string
	// Description is the site's one-line description for feeds and the home page.
	Description string
}

// Check reports configuration that would make pages wrong.
func (s Site) Check() error {
	if s.Name == "" {
		return fmt.Errorf("site name is empty")
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("site base URL %q must be an absolute http(s) URL", s.BaseURL)
	}
	if strings.HasSuffix(s.BaseURL, "/") {
		return fmt.Errorf("site base URL %q must not end in '/'", s.BaseURL)
	}
	if !languagePattern.MatchString(s.Language) {
		return fmt.Errorf("site language %q is not a BCP 47 tag", s.Language)
	}
	if s.LogoURL != "" {
		if u, err := url.Parse(s.LogoURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("site logo %q must be an absolute http(s) URL", s.LogoURL)
		}
	}
	if s.XHandle != "" && !xHandlePattern.MatchString(s.XHandle) {
		return fmt.Errorf("X handle %q must look like @name", s.XHandle)
	}
	for _, p := range s.SameAs {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("profile %q must be an absolute http(s) URL", p)
		}
	}
	return nil
}

var (
	languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	xHandlePattern  = regexp.MustCompile(`^@[A-Za-z0-9_]{1,15}$`)
	slugPattern     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
)

// The site's URL scheme. Keys in the Object Store are these paths without
// the leading slash (the home page is "index").
const (
	PathStylesheet = "/assets/site.css"
	PathLogo       = "/assets/logo.png"
	PathRSS        = "feed.xml"
	PathAtom       = "atom.xml"
)

// URL makes an absolute URL of a site path.
func (s Site) URL(path string) string { return s.BaseURL + path }

// ArticleURL is the page of an article: the URL ingest hands out.
func (s Site) ArticleURL(id string) string { return s.BaseURL + "/articles/" + id }

// Logo is the publisher logo's URL and size.
func (s Site) Logo() (u string, w, h int) {
	if s.LogoURL != "" {
		return s.LogoURL, s.LogoWidth, s.LogoHeight
	}
	return s.URL(PathLogo), DefaultLogoWidth, DefaultLogoHeight
}

// Slug is a stable URL segment for a name: the given slug when it is one,
// else one made from the name, else (a name in a script slug.Make drops)
// a short hash of it, so that every author, tag and section has a page.
func Slug(given, name string) string {
	if slugPattern.MatchString(given) && len(given) <= 80 {
		return given
	}
	if s := slug.Make(name, 80); s != "" {
		return s
	}
	if strings.TrimSpace(name) == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(name)))
	return "x-" + hex.EncodeToString(sum[:6])
}

// Locale is the Open Graph locale of a BCP 47 tag ("es-MX" → "es_MX").
func Locale(lang string) string { return strings.ReplaceAll(lang, "-", "_") }

// ValidLanguage reports whether lang is usable as a BCP 47 tag.
func ValidLanguage(lang string) bool { return languagePattern.MatchString(lang) }

// Direction is the text direction of a language.
func Direction(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch base {
	case "ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv":
		return "rtl"
	}
	return "ltr"
}

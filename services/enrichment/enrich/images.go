package enrich

import (
	"net/url"
	"strings"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/caption"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
)

// MaxImages is the most images one story gets.
const MaxImages = 50

func (s *story) images() {
	a := s.a
	found := s.foundImages()
	s.dropImageBlocks()
	if !s.editorImages {
		a.Images = found
		return
	}
	// The editor's images stand; what the editor left empty is filled from
	// the image the story itself shows in the same position (a pasted
	// story's caption line under the photo the editor uploaded), then from
	// the editor's own caption.
	for i, im := range a.Images {
		if i < len(found) && sameImage(im, found[i]) {
			f := found[i]
			filled := false
			if im.Caption == "" && f.Caption != "" {
				im.Caption, filled = f.Caption, true
			}
			if im.Credit == "" && f.Credit != "" {
				im.Credit, filled = f.Credit, true
			}
			if im.Alt == "" && f.Alt != "" {
				im.Alt, im.AltDerived, filled = f.Alt, f.AltDerived, true
			}
			if filled {
				e := f.Evidence
				e.Rule += ", filling the editor's image"
				im.Evidence = e
			}
		}
		if im.Credit == "" && im.Caption != "" {
			if _, cr, ok := caption.Split(im.Caption); ok {
				im.Credit = cr
			}
		}
		if im.Alt == "" && im.Caption != "" {
			im.Alt = caption.DeriveAlt(im.Caption)
			im.AltDerived = im.Alt != ""
		}
	}
}

// sameImage: the story's image can describe the editor's one when it has
// no address of its own (a paste) or the same address.
func sameImage(editor, found *newsroomv1.Image) bool {
	return found.Url == "" || found.Url == editor.Url
}

// foundImages are the images the story itself shows, in story order, with
// their captions, credits and alt text.
func (s *story) foundImages() []*newsroomv1.Image {
	var out []*newsroomv1.Image
	seen := map[string]bool{}
	add := func(b document.Block, source, rule string, conf float64) {
		if len(out) >= MaxImages {
			return
		}
		src := s.resolve(b.Src)
		if src != "" {
			if seen[src] {
				return
			}
			seen[src] = true
		}
		im := &newsroomv1.Image{Url: src, Caption: b.Caption, Credit: b.Credit, Alt: b.Alt, Width: b.Width, Height: b.Height}
		if im.Alt == "" && im.Caption != "" {
			im.Alt = caption.DeriveAlt(im.Caption)
			im.AltDerived = im.Alt != ""
		}
		excerpt := b.Caption
		if excerpt == "" {
			excerpt = b.Alt
		}
		if b.Credit != "" {
			excerpt += " (" + b.Credit + ")"
		}
		im.Evidence = ev(source, rule, conf, strings.TrimSpace(excerpt))
		out = append(out, im)
	}
	if s.page != nil {
		// The page's lead image, as its structured data describes it.
		for _, b := range s.page.LDImages {
			add(b, "jsonld", "ImageObject", 0.85)
			break
		}
	}
	for _, b := range s.blocks {
		if b.Kind != document.Image {
			continue
		}
		switch {
		case s.source == "paste":
			add(b, "paste", "alt-and-caption-lines", 0.75)
		case b.Caption != "":
			add(b, s.source, "figcaption", 0.85)
		default:
			add(b, s.source, "img", 0.6)
		}
	}
	return out
}

func (s *story) dropImageBlocks() {
	kept := s.blocks[:0]
	for _, b := range s.blocks {
		if b.Kind != document.Image {
			kept = append(kept, b)
		}
	}
	s.blocks = kept
}

// resolve makes a page-relative image URL absolute against the page's
// canonical URL; what cannot be resolved is dropped.
func (s *story) resolve(src string) string {
	src = strings.TrimSpace(src)
	if src == "" {
		return ""
	}
	u, err := url.Parse(src)
	if err != nil {
		return ""
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.String()
	}
	if u.Scheme != "" {
		return ""
	}
	if s.page == nil || s.page.Canonical == "" {
		return ""
	}
	base, err := url.Parse(s.page.Canonical)
	if err != nil || base.Host == "" {
		return ""
	}
	return base.ResolveReference(u).String()
}

package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
	"github.com/newsroom/newsroom/services/enrichment/enrich/caption"
	"github.com/newsroom/newsroom/services/enrichment/enrich/clean"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
	"github.com/newsroom/newsroom/services/enrichment/enrich/lang"
)

// tidy removes chrome and lifts out what is not body text: translation
// links, the headline and keyword line of a paste, byline and bio lines,
// images with their captions; and marks a paste's subheads.
func (s *story) tidy() {
	s.dropChrome()
	s.cutTail()
	if s.source != "html" {
		s.pasteTop()
	}
	s.bylineLines()
	s.captions()
	s.bioLines()
	if s.source == "paste" {
		s.subheads()
	}
	// A link-only block offering a translation, anywhere.
	kept := s.blocks[:0]
	for _, b := range s.blocks {
		if b.Kind != document.Image && s.translationHint(b) {
			continue
		}
		kept = append(kept, b)
	}
	s.blocks = kept
}

// dropChrome removes chrome lines from every block, and blocks left empty.
func (s *story) dropChrome() {
	kept := s.blocks[:0]
	for _, b := range s.blocks {
		if b.Kind == document.Image {
			kept = append(kept, b)
			continue
		}
		if len(b.Lines) > 1 {
			lines := b.Lines[:0]
			for _, l := range b.Lines {
				if clean.IsChromeLine(l) || clean.IsTrackingJunk(l) {
					s.chromeRemoved++
					continue
				}
				lines = append(lines, l)
			}
			b.Lines = lines
			if len(lines) == 0 {
				continue
			}
			if b.Inline == "" || s.source == "paste" {
				b.Text = strings.Join(lines, " ")
			}
		} else if clean.IsChromeLine(b.Text) || clean.IsTrackingJunk(b.Text) {
			s.chromeRemoved++
			continue
		}
		kept = append(kept, b)
	}
	s.blocks = kept
}

// cutTail drops everything from a "Leave a Reply"-style line on, when it
// comes in the second half of the story.
func (s *story) cutTail() {
	total := 0
	for _, b := range s.blocks {
		total += len(b.Text)
	}
	seen := 0
	for i, b := range s.blocks {
		line := b.Text
		if len(b.Lines) > 0 {
			line = b.Lines[0]
		}
		if b.Kind != document.Image && seen*2 > total && clean.IsTailLine(line) {
			s.chromeRemoved += len(s.blocks) - i
			s.blocks = s.blocks[:i]
			return
		}
		seen += len(b.Text)
	}
}

// translationHint turns a block that is only a translation link into a
// Translation.
func (s *story) translationHint(b document.Block) bool {
	text := b.Text
	if utf8.RuneCountInString(text) > 60 {
		return false
	}
	href := ""
	// A Markdown link "[Leer en español](url)" in a paste or Markdown.
	if strings.HasPrefix(strings.TrimSpace(b.Inline), "[") || strings.HasPrefix(text, "[") {
		src := b.Inline
		if src == "" {
			src = text
		}
		if i := strings.Index(src, "]("); i > 0 && strings.HasSuffix(strings.TrimSpace(src), ")") {
			href = strings.TrimSuffix(strings.TrimSpace(src[i+2:]), ")")
			text = strings.TrimPrefix(src[:i], "[")
		}
	}
	if len(b.Links) == 1 {
		href = b.Links[0].Href
		if hl := lang.Normalize(b.Links[0].Hreflang); hl != "" {
			if _, ok := lang.Hint(text); !ok {
				return false
			}
		}
	}
	code, ok := lang.Hint(text)
	if !ok {
		return false
	}
	label := strings.Trim(strings.TrimSpace(text), "[]")
	t := &newsroomv1.Translation{Language: code, Label: label}
	if strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") {
		t.Url = href
	}
	s.translations = append(s.translations, t)
	return true
}

// pasteTop finds a paste's headline and the keyword line under it.
func (s *story) pasteTop() {
	// Translation links can sit above the headline.
	for len(s.blocks) > 0 && s.blocks[0].Kind != document.Image && s.translationHint(s.blocks[0]) {
		s.blocks = s.blocks[1:]
	}
	if len(s.blocks) == 0 {
		return
	}
	first := s.blocks[0]
	switch {
	case first.Kind == document.Heading && first.Level == 1:
		s.headlineFound, s.headlineRule = first.Text, "markdown-h1"
		s.blocks = s.blocks[1:]
	case s.editorHeadline && sameText(first.Text, s.a.Headline):
		s.blocks = s.blocks[1:]
	case !s.editorHeadline && first.Kind != document.Image && len(first.Lines) == 1 && isTitleLike(first.Text) && len(s.blocks) > 1:
		s.headlineFound, s.headlineRule = first.Text, "first-line"
		s.blocks = s.blocks[1:]
	}
	if s.headlineFound == "" && !s.editorHeadline {
		return
	}
	// Translation link or keyword line right under the headline.
	for i := 0; i < 2 && len(s.blocks) > 0; i++ {
		b := s.blocks[0]
		if b.Kind == document.Image {
			return
		}
		if s.translationHint(b) {
			s.blocks = s.blocks[1:]
			continue
		}
		if kws, ok := keywordLine(b); ok && s.keywordLine == nil {
			s.keywordLine = kws
			s.blocks = s.blocks[1:]
			continue
		}
		return
	}
}

// isTitleLike: one short line that does not end like a sentence.
func isTitleLike(t string) bool {
	n := document.Words(t)
	if n == 0 || n > 30 || len(t) > 250 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(t)
	return r != '.' && r != ',' && r != ';' || strings.HasSuffix(t, "...")
}

// keywordLine reads "Parler, Amazon, demanda": short comma-separated items
// and nothing else.
func keywordLine(b document.Block) ([]string, bool) {
	if len(b.Lines) != 1 || b.Kind != document.Paragraph {
		return nil, false
	}
	t := b.Text
	if !strings.Contains(t, ",") || len(t) > 160 {
		return nil, false
	}
	if r, _ := utf8.DecodeLastRuneInString(t); r == '.' || r == '!' || r == '?' || r == ':' {
		return nil, false
	}
	var out []string
	for part := range strings.SplitSeq(t, ",") {
		p := strings.TrimSpace(part)
		if p == "" || document.Words(p) > 4 {
			return nil, false
		}
		out = append(out, p)
	}
	if len(out) < 2 || len(out) > 12 {
		return nil, false
	}
	return out, true
}

// bylineLines lifts "By X" lines near the top into credits.
func (s *story) bylineLines() {
	limit := min(len(s.blocks), 5)
	for i := 0; i < limit; i++ {
		b := s.blocks[i]
		if b.Kind == document.Image || len(b.Lines) > 2 {
			continue
		}
		line := b.Text
		if len(b.Lines) == 2 {
			// "By Jane Doe" followed by a date line.
			line = b.Lines[0]
		}
		cs, ok := byline.Line(line)
		if !ok {
			continue
		}
		for _, c := range cs {
			s.credits = append(s.credits, candidate{credit: c, source: s.source, rule: "by-line", conf: 0.8, excerpt: line})
		}
		s.blocks = append(s.blocks[:i], s.blocks[i+1:]...)
		return
	}
}

// captions turns a paste's image lines into images: an alt-text line with
// a caption line under it that ends in a credit ("Parler\nParler will ...
// game. (EFE)"), or a lone caption line with a credit.
func (s *story) captions() {
	for i := range s.blocks {
		b := &s.blocks[i]
		if b.Kind == document.Image {
			if b.Caption != "" && b.Credit == "" {
				if c, cr, ok := caption.Split(b.Caption); ok {
					b.Caption, b.Credit = c, cr
				}
			}
			continue
		}
		if b.Kind != document.Paragraph || s.source == "html" && len(b.Text) > 400 {
			continue
		}
		switch len(b.Lines) {
		case 2:
			alt, capLine := b.Lines[0], b.Lines[1]
			if document.Words(alt) > 12 || strings.HasSuffix(alt, ".") {
				continue
			}
			c, cr, ok := caption.Split(capLine)
			if !ok {
				continue
			}
			*b = document.Block{Kind: document.Image, Alt: alt, Caption: c, Credit: cr}
		case 1:
			if !strings.HasSuffix(b.Text, ")") && !photoLabel(b.Text) || document.Words(b.Text) > 60 {
				continue
			}
			c, cr, ok := caption.Split(b.Text)
			if !ok || !caption.IsCredit(cr) || !looksLikeCaption(b.Text, c) {
				continue
			}
			*b = document.Block{Kind: document.Image, Caption: c, Credit: cr}
		}
	}
}

// looksLikeCaption: a credit closing a short paragraph ("... (EFE)") or
// a line labelled as a photo. A paragraph of prose that quotes an agency
// at its end is not a caption: it would be longer.
func looksLikeCaption(text, caption string) bool {
	if photoLabel(text) {
		return true
	}
	return strings.HasSuffix(strings.TrimSpace(text), ")") && document.Words(caption) <= 40
}

// bioLines lifts an author's bio line from the end of the story.
func (s *story) bioLines() {
	start := max(0, len(s.blocks)-4)
	for i := len(s.blocks) - 1; i >= start; i-- {
		b := s.blocks[i]
		if b.Kind != document.Paragraph {
			continue
		}
		c, ok := byline.Bio(b.Text)
		if !ok {
			continue
		}
		s.credits = append(s.credits, candidate{credit: c, source: s.source, rule: "bio-line", conf: 0.75, excerpt: b.Text})
		s.blocks = append(s.blocks[:i], s.blocks[i+1:]...)
		return
	}
}

// subheads marks a paste's short standalone lines as subheads.
func (s *story) subheads() {
	for i := range s.blocks {
		b := &s.blocks[i]
		if b.Kind != document.Paragraph || len(b.Lines) != 1 || i == len(s.blocks)-1 {
			continue
		}
		next := s.blocks[i+1]
		if next.Kind != document.Paragraph || document.Words(next.Text) < 12 {
			continue
		}
		if isSubhead(b.Text) {
			b.Kind, b.Level = document.Heading, 2
		}
	}
}

func isSubhead(t string) bool {
	n := document.Words(t)
	if n == 0 || n > 14 || len(t) > 120 {
		return false
	}
	first, _ := utf8.DecodeRuneInString(t)
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(t)
	return !strings.ContainsRune(".,;:!”\"’')…", last)
}

// photoLabel: a line that announces itself as a picture's ("Photo: ...").
func photoLabel(text string) bool {
	if len(text) < 5 {
		return false
	}
	lt := strings.ToLower(text[:5])
	return strings.HasPrefix(lt, "photo") || strings.HasPrefix(lt, "foto") || strings.HasPrefix(lt, "image")
}

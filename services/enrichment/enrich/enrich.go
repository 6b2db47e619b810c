// Package enrich turns a submitted article, however messy, into a clean,
// labelled one: headline, dek, slug, language, word count and reading time,
// translation hints, images with captions, credits and alt text, bylines,
// and tags (people, organisations, places with counts, salience and
// aliases; IPTC Media Topics; keywords). It is pure and fast: the service
// and the `newsroom enrich` CLI run the same code, and the author registry
// (which needs the bus) is applied by the service afterwards.
//
// Inputs are Article.body as BodyFormat TEXT (a paste, site chrome and
// all), HTML (a fragment or a whole page), or MARKDOWN, possibly with
// editor-supplied fields from structured JSON. What the editor supplied
// always wins; every inferred value carries Evidence (source, rule,
// confidence, excerpt): on the Byline, Image and Tag it describes, and in
// Article.evidence for scalar fields.
//
// The enriched body is always Markdown (body_format MARKDOWN): paragraphs
// separated by blank lines, subheads as "## " (and "### " for lower
// levels), quotes as "> ", list items as "- " or "1. ", inline links and
// emphasis kept from HTML and Markdown input, and no raw HTML. Text from
// pastes and pages is escaped so that it renders literally. Images are not
// in the body: they are in Article.images, in story order.
package enrich

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
	"github.com/newsroom/newsroom/services/enrichment/enrich/htmlpage"
	"github.com/newsroom/newsroom/services/enrichment/enrich/lang"
)

// WordsPerMinute is the reading speed behind reading time.
const WordsPerMinute = 230

// MaxBodyBytes is the largest body enrichment reads; ingest accepts less.
const MaxBodyBytes = 8 << 20

// Errors for input no enrichment can help.
var (
	ErrNoArticle = errors.New("no article")
	ErrTooLarge  = fmt.Errorf("body is larger than %d bytes", MaxBodyBytes)
	ErrBinary    = errors.New("body is not text (binary data or invalid UTF-8)")
)

// Article returns an enriched copy of in; in is not modified. What the
// editor supplied always wins over what is inferred. An error means the
// input cannot be read at all (binary, too large); an article with nothing
// in it comes back with nothing inferred.
func Article(in *newsroomv1.Article) (*newsroomv1.Article, error) {
	if in == nil {
		return nil, ErrNoArticle
	}
	if len(in.Body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	if isBinary(in.Body) {
		return nil, ErrBinary
	}
	a := proto.Clone(in).(*newsroomv1.Article)
	if a.Evidence == nil {
		a.Evidence = map[string]*newsroomv1.Evidence{}
	}
	s := &story{a: a, editorHeadline: a.Headline != "", editorBylines: len(a.Bylines) > 0, editorImages: len(a.Images) > 0}
	switch a.BodyFormat {
	case newsroomv1.BodyFormat_BODY_FORMAT_HTML:
		s.page = htmlpage.Parse(a.Body)
		s.blocks = s.page.Blocks
		s.source = "html"
	case newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN:
		s.blocks = document.ParseMarkdown(a.Body)
		s.source = "markdown"
	default:
		s.blocks = document.ParseText(a.Body)
		s.source = "paste"
	}
	s.tidy()
	s.headline()
	s.bylines()
	s.images()
	s.finish()
	s.tags()
	return a, nil
}

// story is one enrichment in progress.
type story struct {
	a              *newsroomv1.Article
	page           *htmlpage.Page
	blocks         []document.Block
	source         string
	editorHeadline bool
	editorBylines  bool
	editorImages   bool

	// Found while tidying.
	headlineFound string
	headlineRule  string
	keywordLine   []string
	credits       []candidate
	translations  []*newsroomv1.Translation
	chromeRemoved int
	plain         string
	detectedLang  lang.Result
}

// isBinary: NUL bytes, invalid UTF-8, or many control characters.
func isBinary(s string) bool {
	if strings.IndexByte(s, 0) >= 0 {
		return true
	}
	sample := s
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
		for len(sample) > 0 && !utf8.RuneStart(s[len(sample)]) {
			sample = sample[:len(sample)-1]
		}
	}
	if !utf8.ValidString(sample) {
		return true
	}
	ctl := 0
	for _, r := range sample {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == utf8.RuneError || r == 0x7f {
			ctl++
		}
	}
	return ctl > 8 && ctl*100 > len(sample)
}

func ev(source, rule string, conf float64, excerpt string) *newsroomv1.Evidence {
	return &newsroomv1.Evidence{Source: source, Rule: rule, Confidence: round2(conf), Excerpt: cut(excerpt, 160)}
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// cut shortens s to at most n runes at a word boundary, with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	lastSpace := -1
	for j := range s {
		if count == n {
			i = j
			break
		}
		if s[j] == ' ' {
			lastSpace = j
		}
		count++
	}
	if lastSpace > i/2 {
		i = lastSpace
	}
	return strings.TrimRight(s[:i], " ,;:") + "…"
}

func (s *story) headline() {
	a := s.a
	if s.editorHeadline {
		return
	}
	switch {
	case s.page != nil && s.page.H1 != "":
		// What the reader sees as the headline; the metadata title is
		// often an SEO variant with the site's name.
		a.Headline = s.page.H1
		conf := 0.8
		if sameText(stripSiteSuffix(s.page.Headline, s.page), s.page.H1) {
			conf = 0.95
		}
		a.Evidence["headline"] = ev("h1", "page-h1", conf, a.Headline)
	case s.page != nil && s.page.Headline != "":
		a.Headline = s.page.Headline
		conf := 0.9
		if s.page.HeadlineSource == "og:title" {
			conf = 0.8
		}
		a.Evidence["headline"] = ev(s.page.HeadlineSource, "page-metadata", conf, a.Headline)
	case s.headlineFound != "":
		a.Headline = s.headlineFound
		a.Evidence["headline"] = ev(s.source, s.headlineRule, 0.7, a.Headline)
	case s.page != nil && s.page.Title != "":
		a.Headline = s.page.Title
		a.Evidence["headline"] = ev("title", "page-title", 0.6, a.Headline)
	}
	a.Headline = strings.TrimSpace(stripSiteSuffix(a.Headline, s.page))
	// The headline repeated as the body's first heading goes.
	if len(s.blocks) > 0 && (s.blocks[0].Kind == document.Heading || s.blocks[0].Kind == document.Paragraph) &&
		sameText(s.blocks[0].Text, a.Headline) {
		s.blocks = s.blocks[1:]
	}
	for i, b := range s.blocks {
		if i > 3 {
			break
		}
		if b.Kind == document.Heading && b.Level == 1 && sameText(b.Text, a.Headline) {
			s.blocks = append(s.blocks[:i], s.blocks[i+1:]...)
			break
		}
	}
}

// stripSiteSuffix drops " | Section | Site" and "Site - " from a page
// title: segments that name the publication, and the sections between.
func stripSiteSuffix(h string, p *htmlpage.Page) string {
	if p == nil {
		return h
	}
	isPub := func(seg string) bool {
		k := foldKey(seg)
		for _, pub := range p.Publishers {
			pk := foldKey(pub)
			if pk != "" && k != "" && (k == pk || strings.Contains(k, pk) || strings.Contains(pk, k) && len(k) > 3) {
				return true
			}
		}
		return false
	}
	for _, sep := range []string{" | ", " - ", " — ", " – ", " :: "} {
		parts := strings.Split(h, sep)
		if len(parts) < 2 {
			continue
		}
		// Trailing: "Headline | News | The Daily Planet".
		if isPub(parts[len(parts)-1]) {
			end := len(parts) - 1
			for end > 1 && len(strings.Fields(parts[end-1])) <= 2 {
				end--
			}
			return strings.TrimSpace(strings.Join(parts[:end], sep))
		}
		// Leading: "JacketsOnline - Headline".
		if isPub(parts[0]) {
			return strings.TrimSpace(strings.Join(parts[1:], sep))
		}
	}
	return h
}

// foldKey is a comparison key: folded letters and digits only.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range byline.Fold(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sameText(a, b string) bool {
	ka, kb := foldKey(a), foldKey(b)
	return ka != "" && ka == kb
}

// finish sets the body and the scalar fields that follow from it.
func (s *story) finish() {
	a := s.a
	var plain strings.Builder
	for _, b := range s.blocks {
		if b.Kind != document.Image && b.Text != "" {
			plain.WriteString(b.Text)
			plain.WriteByte('\n')
		}
	}
	s.plain = plain.String()
	a.Body = document.Markdown(s.blocks)
	a.BodyFormat = newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN
	a.Evidence["body"] = ev(s.source, "cleaned", 1, fmt.Sprintf("%d blocks kept, %d chrome lines removed", countText(s.blocks), s.chromeRemoved))
	a.WordCount = int32(document.Words(s.plain))
	a.ReadingMinutes = 0
	if a.WordCount > 0 {
		a.ReadingMinutes = int32(max(1, (int(a.WordCount)+WordsPerMinute-1)/WordsPerMinute))
		a.Evidence["reading_minutes"] = ev("body", fmt.Sprintf("%d words at %d a minute", a.WordCount, WordsPerMinute), 1, "")
	}
	if a.Slug == "" && a.Headline != "" {
		a.Slug = slug.Make(a.Headline, 80)
		if a.Slug != "" {
			a.Evidence["slug"] = ev("headline", "slugify", 1, a.Headline)
		}
	}
	s.dek()
	s.language()
	s.translationsOut()
}

func countText(bs []document.Block) int {
	n := 0
	for _, b := range bs {
		if b.Kind != document.Image {
			n++
		}
	}
	return n
}

func (s *story) dek() {
	a := s.a
	if a.Dek != "" {
		return
	}
	if s.page != nil && s.page.Description != "" {
		d := document.CollapseSpace(s.page.Description)
		if !sameText(d, a.Headline) && utf8.RuneCountInString(d) >= 20 {
			a.Dek = cut(d, 300)
			a.Evidence["dek"] = ev("meta", "description", 0.8, d)
			return
		}
	}
	for _, b := range s.blocks {
		if b.Kind != document.Paragraph {
			continue
		}
		if document.Words(b.Text) < 8 {
			continue
		}
		first := firstSentence(b.Text)
		a.Dek = cut(first, 300)
		a.Evidence["dek"] = ev(s.source, "lede-first-sentence", 0.5, first)
		return
	}
}

// firstSentence is s up to its first sentence end (". " after a few words).
func firstSentence(s string) string {
	words := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			words++
		case '.', '!', '?':
			if words >= 4 && (i+1 == len(s) || s[i+1] == ' ') {
				// Not after an initial or a short abbreviation.
				j := strings.LastIndexByte(s[:i], ' ')
				if i-j > 3 {
					return s[:i+1]
				}
			}
		}
	}
	return s
}

func (s *story) language() {
	a := s.a
	sample := s.plain
	if len(sample) > 20000 {
		sample = sample[:20000]
	}
	s.detectedLang = lang.Detect(a.Headline + "\n" + sample)
	if a.Language != "" {
		return
	}
	declared := ""
	if s.page != nil {
		declared = lang.Normalize(s.page.Lang)
	}
	d := s.detectedLang
	switch {
	case d.Language != "" && (declared == "" || declared == d.Language || d.Confidence >= 0.8 && d.Words >= 40):
		a.Language = d.Language
		rule := "function-words"
		if declared == d.Language {
			rule = "function-words+html-lang"
		}
		a.Evidence["language"] = ev("text", rule, d.Confidence, fmt.Sprintf("%d words", d.Words))
	case declared != "":
		a.Language = declared
		a.Evidence["language"] = ev("html", "lang-attribute", 0.6, s.page.Lang)
	}
}

func (s *story) translationsOut() {
	a := s.a
	if s.page != nil {
		for _, l := range s.page.TranslationLinks {
			code, _ := lang.Hint(l.Text)
			s.translations = append(s.translations, &newsroomv1.Translation{Language: code, Url: absURL(l.Href, s.page.Canonical), Label: l.Text})
		}
		for _, l := range s.page.Alternates {
			if code := lang.Normalize(l.Hreflang); code != "" {
				s.translations = append(s.translations, &newsroomv1.Translation{Language: code, Url: absURL(l.Href, s.page.Canonical), Label: "hreflang " + l.Hreflang})
			}
		}
	}
	have := map[string]bool{}
	for _, t := range a.Translations {
		have[t.Language] = true
	}
	for _, t := range s.translations {
		if have[t.Language] || t.Language == a.Language {
			continue
		}
		have[t.Language] = true
		a.Translations = append(a.Translations, t)
	}
	if len(s.translations) > 0 {
		labels := make([]string, 0, len(s.translations))
		for _, t := range s.translations {
			labels = append(labels, t.Label)
		}
		a.Evidence["translations"] = ev(s.source, "translation-link", 0.9, strings.Join(labels, "; "))
	}
}

// absURL resolves href against base; "" when it cannot be an http(s) URL.
func absURL(href, base string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	if u.Scheme == "" && base != "" {
		b, err := url.Parse(base)
		if err != nil {
			return ""
		}
		u = b.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

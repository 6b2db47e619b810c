package formats

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/net/html"

	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Text decodes a pasted article: the body as pasted, for enrichment to clean
// and label (headline, byline, captions all come from the paste).
func Text(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	if errs := checkBody(body); errs != nil {
		return nil, errs
	}
	text := string(body)
	if r, ok := BadControl(text, true); ok {
		return nil, []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("contains the control character %U", r)}}
	}
	return &newsroomv1.Article{
		Body:         text,
		BodyFormat:   newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
		SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_TEXT,
	}, nil
}

// Markdown decodes a Markdown article. A first-level heading on the first
// line (ATX "# Headline" or setext "Headline\n====") is the headline; the
// rest is the body. Without one, enrichment infers the headline.
func Markdown(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	if errs := checkBody(body); errs != nil {
		return nil, errs
	}
	text := strings.TrimPrefix(string(body), "\uFEFF")
	if r, ok := BadControl(text, true); ok {
		return nil, []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("contains the control character %U", r)}}
	}
	a := &newsroomv1.Article{
		BodyFormat:   newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
		SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_MARKDOWN,
	}
	headline, rest, rule := markdownHeadline(text)
	if headline != "" && len([]rune(headline)) <= 300 {
		a.Headline = headline
		a.Evidence = map[string]*newsroomv1.Evidence{"headline": {Source: "markdown", Rule: rule, Confidence: 1, Excerpt: headline}}
		text = rest
	}
	a.Body = strings.TrimLeft(text, "\r\n")
	if strings.TrimSpace(a.Body) == "" {
		return nil, []problem.FieldError{{Field: "body", Detail: "has a headline but no text"}}
	}
	return a, nil
}

// markdownHeadline splits off a first-level heading at the top.
func markdownHeadline(text string) (headline, rest, rule string) {
	trimmed := strings.TrimLeft(text, " \t\r\n")
	first, after, _ := strings.Cut(trimmed, "\n")
	first = strings.TrimRight(first, "\r")
	if h, ok := strings.CutPrefix(first, "# "); ok {
		h = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(h), "#"))
		return h, after, "atx-h1"
	}
	second, after2, _ := strings.Cut(after, "\n")
	second = strings.TrimSpace(second)
	if strings.TrimSpace(first) != "" && len(second) >= 2 && strings.Trim(second, "=") == "" {
		return strings.TrimSpace(first), after2, "setext-h1"
	}
	return "", text, ""
}

// HTML takes a whole web page (or a fragment) as it is: enrichment extracts
// the article from it. It must be text with markup, not binary data renamed.
func HTML(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	if errs := checkBody(body); errs != nil {
		return nil, errs
	}
	text := strings.TrimPrefix(string(body), "\uFEFF")
	for _, r := range text {
		// Form feeds occur in real pages; other control characters mean
		// the file is not text.
		if r == '\n' || r == '\r' || r == '\t' || r == '\f' {
			continue
		}
		if unicode.IsControl(r) {
			return nil, []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("contains the control character %U: is it a binary file?", r)}}
		}
	}
	if !hasElement(body) {
		return nil, []problem.FieldError{{Field: "body", Detail: "has no HTML elements; send plain text as text/plain"}}
	}
	return &newsroomv1.Article{
		Body:         text,
		BodyFormat:   newsroomv1.BodyFormat_BODY_FORMAT_HTML,
		SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_HTML,
	}, nil
}

// hasElement reports whether the markup holds at least one element.
func hasElement(body []byte) bool {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			return true
		}
	}
}

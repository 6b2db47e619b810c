// Package enrich turns a submitted article, however messy, into a clean,
// labelled one. It is pure: the service and the `newsroom enrich` CLI run
// the same code.
package enrich

import (
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// WordsPerMinute is the reading speed behind reading time.
const WordsPerMinute = 230

// Article returns an enriched copy of in; in is not modified. What the
// editor supplied always wins over what is inferred.
func Article(in *newsroomv1.Article) (*newsroomv1.Article, error) {
	a := proto.Clone(in).(*newsroomv1.Article)
	if a.Evidence == nil {
		a.Evidence = map[string]*newsroomv1.Evidence{}
	}
	if a.Headline == "" {
		if h, rest := firstLine(a.Body); h != "" {
			a.Headline, a.Body = h, rest
			a.Evidence["headline"] = &newsroomv1.Evidence{Source: "body", Rule: "first-line", Confidence: 0.5, Excerpt: h}
		}
	}
	if a.Slug == "" {
		a.Slug = slug.Make(a.Headline, 80)
	}
	a.WordCount = int32(countWords(a.Body))
	a.ReadingMinutes = int32(max(1, (int(a.WordCount)+WordsPerMinute-1)/WordsPerMinute))
	if a.Language == "" {
		a.Language = "en"
		a.Evidence["language"] = &newsroomv1.Evidence{Source: "default", Rule: "site-default", Confidence: 0.3}
	}
	return a, nil
}

func firstLine(body string) (line, rest string) {
	body = strings.TrimLeft(body, " \t\r\n")
	line, rest, _ = strings.Cut(body, "\n")
	return strings.TrimSpace(line), rest
}

func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		if word && !in {
			n++
		}
		in = word || (in && (r == '\'' || r == '’' || r == '-'))
	}
	return n
}

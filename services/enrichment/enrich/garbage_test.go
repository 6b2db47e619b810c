package enrich_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
)

var formats = []newsroomv1.BodyFormat{
	newsroomv1.BodyFormat_BODY_FORMAT_TEXT, newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN, newsroomv1.BodyFormat_BODY_FORMAT_HTML,
}

// checkResult is what any input must give: a clear error, or an article
// whose body is valid Markdown text and whose numbers add up.
func checkResult(t *testing.T, in *newsroomv1.Article, a *newsroomv1.Article, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, enrich.ErrBinary) && !errors.Is(err, enrich.ErrTooLarge) && !errors.Is(err, enrich.ErrNoArticle) {
			t.Fatalf("unexpected kind of error: %v", err)
		}
		if a != nil {
			t.Fatal("an error with a result")
		}
		return
	}
	if a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN {
		t.Fatalf("body format %v", a.BodyFormat)
	}
	if !utf8.ValidString(a.Body) || !utf8.ValidString(a.Headline) {
		t.Fatal("invalid UTF-8 out")
	}
	if a.WordCount < 0 || a.ReadingMinutes < 0 || a.WordCount > 0 && a.ReadingMinutes < 1 {
		t.Fatalf("word count %d, reading minutes %d", a.WordCount, a.ReadingMinutes)
	}
	if n := document.Words(a.Body); int(a.WordCount) > n {
		t.Fatalf("word count %d, but the body has %d words: %q", a.WordCount, n, a.Body[:min(len(a.Body), 80)])
	}
	for _, tg := range a.Tags {
		if tg.Evidence == nil || tg.Name == "" {
			t.Fatalf("tag without name or evidence: %v", tg)
		}
	}
	for _, b := range a.Bylines {
		if b.Evidence == nil || b.Name == "" {
			t.Fatalf("byline without name or evidence: %v", b)
		}
	}
	if in.Body != "" && a == in {
		t.Fatal("input returned instead of a copy")
	}
}

// TestGarbage is acceptance 4 at full size: binary data, nothing, 5 MB
// of one word, deeply nested HTML. Each gives a clear error or an empty
// result, and returns.
func TestGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 1<<20)
	for i := range bin {
		bin[i] = byte(r.UintN(256))
	}
	oneWord := strings.Repeat("word ", 1<<20)  // 5 MiB
	oneLong := strings.Repeat("x", 5<<20)      // one 5 MiB word
	capWords := strings.Repeat("Word ", 1<<20) // 5 MiB of one capitalised word
	nested := strings.Repeat("<div>", 400_000) + "text" + strings.Repeat("</div>", 400_000)
	nestedB := strings.Repeat("<b><i>", 200_000) + "x"
	tests := []struct {
		name    string
		body    string
		format  newsroomv1.BodyFormat
		wantErr error
		empty   bool
	}{
		{"binary", string(bin), newsroomv1.BodyFormat_BODY_FORMAT_TEXT, enrich.ErrBinary, false},
		{"binary html", string(bin), newsroomv1.BodyFormat_BODY_FORMAT_HTML, enrich.ErrBinary, false},
		{"empty", "", newsroomv1.BodyFormat_BODY_FORMAT_TEXT, nil, true},
		{"white space", " \n\t\n ", newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN, nil, true},
		{"empty html", "<html><body></body></html>", newsroomv1.BodyFormat_BODY_FORMAT_HTML, nil, true},
		{"5 MB of one word", oneWord, newsroomv1.BodyFormat_BODY_FORMAT_TEXT, nil, false},
		{"5 MB word", oneLong, newsroomv1.BodyFormat_BODY_FORMAT_TEXT, nil, false},
		{"5 MB of one capitalised word", capWords, newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN, nil, false},
		{"400,000 nested divs", nested, newsroomv1.BodyFormat_BODY_FORMAT_HTML, nil, false},
		{"nested inline, unclosed", nestedB, newsroomv1.BodyFormat_BODY_FORMAT_HTML, nil, false},
		{"too large", strings.Repeat("a", enrich.MaxBodyBytes+1), newsroomv1.BodyFormat_BODY_FORMAT_TEXT, enrich.ErrTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &newsroomv1.Article{Id: "garbage", Body: tt.body, BodyFormat: tt.format}
			a, err := enrich.Article(in)
			checkResult(t, in, a, err)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if tt.empty && (a.Body != "" || a.Headline != "" || len(a.Tags) > 0 || len(a.Bylines) > 0) {
				t.Errorf("something inferred from nothing: %v", a)
			}
			if len(a.Body) > len(tt.body)*2+100 {
				t.Errorf("body grew from %d to %d bytes", len(tt.body), len(a.Body))
			}
		})
	}
	if _, err := enrich.Article(nil); !errors.Is(err, enrich.ErrNoArticle) {
		t.Errorf("nil article: %v", err)
	}
}

// FuzzArticle feeds enrichment anything in any format: it must never
// panic, and must give a clear error or a consistent article.
func FuzzArticle(f *testing.F) {
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("fbpx\nSkip to content\n\nHeadline Here\n\nBy Jane Doe and John Roe\n\nBody text, with a comma.\n\nA caption line. (EFE)\n\nJane Doe is a journalist at The Paper.\n\nLeave a Reply\n"), uint8(0))
	f.Add([]byte("# Title\n\n## Sub\n\n> quote\n\n- item\n\n![alt](http://x/y.jpg)\n\n[Leer en español](http://x/es)\n"), uint8(1))
	f.Add([]byte(`<html lang="en"><head><script type="application/ld+json">{"@type":"NewsArticle","headline":"H","author":[{"@type":"Person","name":"Jane Doe"},{"@id":"#x"}],"@graph":[{"@id":"#x","name":"X Y"}]}</script><meta name="author" content="Jane Doe"></head><body><h1>H</h1><div class="byline">By <a href="/author/jd">Jane Doe</a></div><article><p>Text, text, text.</p><figure><img src="a.jpg"><figcaption>Cap. Photo: A/Getty Images</figcaption></figure></article></body></html>`), uint8(2))
	f.Add([]byte("<div><div><div><p>deep"), uint8(2))
	f.Add([]byte("\x00\x01\x02\xff\xfe"), uint8(0))
	f.Add([]byte(`<script type="application/ld+json">[[[[[[[[[[{"author":`), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, format uint8) {
		in := &newsroomv1.Article{Id: "fuzz", Body: string(body), BodyFormat: formats[int(format)%len(formats)]}
		a, err := enrich.Article(in)
		checkResult(t, in, a, err)
		if err == nil {
			// Enrichment is idempotent on its own output.
			b, err := enrich.Article(a)
			checkResult(t, a, b, err)
		}
	})
}

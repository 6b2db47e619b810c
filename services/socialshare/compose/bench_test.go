package compose

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// BenchmarkComposeAll composes an article's six posts and reports the
// ratio to a baseline measured in the same run: the naive placeholder this
// package replaced (headline cut by runes, plus the link) for six
// networks. The ratio is the price of counting each network's way and
// shortening safely; absolute times depend on the machine.
func BenchmarkComposeAll(b *testing.B) {
	c, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	a := seedArticle(b)
	rules := make([]Rules, len(Networks))
	for i, n := range Networks {
		rules[i], _ = RulesFor(n)
	}
	long := &newsroomv1.Article{Id: "long", Headline: strings.Repeat("Éléphant 東京 👨‍👩‍👧‍👦 ", 40), Dek: strings.Repeat("São Paulo ", 200)}
	for _, tc := range []struct {
		name string
		a    *newsroomv1.Article
	}{{"seed", a}, {"needs-shortening", long}} {
		b.Run(tc.name, func(b *testing.B) {
			// Baseline and composer alternate in one loop, so both see
			// the same machine load.
			var base time.Duration
			for b.Loop() {
				t0 := time.Now()
				for _, n := range Networks {
					naive(n, tc.a, pageURL)
				}
				base += time.Since(t0)
				for _, r := range rules {
					if _, err := c.Compose(Input{Article: tc.a, URL: pageURL}, r); err != nil {
						b.Fatal(err)
					}
				}
			}
			composed := b.Elapsed() - base
			n := float64(b.N)
			b.ReportMetric(float64(composed.Nanoseconds())/n, "compose-ns/op")
			b.ReportMetric(float64(base.Nanoseconds())/n, "baseline-ns/op")
			b.ReportMetric(float64(composed)/float64(max(base, 1)), "x-baseline")
		})
	}
}

// naive is the placeholder composer this package replaced.
func naive(network string, a *newsroomv1.Article, link string) string {
	text := a.Headline
	if utf8.RuneCountInString(text) > 250 {
		r := []rune(text)
		text = string(r[:249])
		if i := strings.LastIndexByte(text, ' '); i > 0 {
			text = text[:i]
		}
		text += "…"
	}
	return text + " " + link + "?utm_source=" + network
}

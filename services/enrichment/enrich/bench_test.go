package enrich_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
)

// article1000 is the seed paste grown to 1,000 words of story (its
// chrome, headline, caption and bio line kept), the benchmark's input.
func article1000(tb testing.TB) string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(testtool.SharedDir(tb), "fixtures", "seed-article.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(raw)
	// Repeat story paragraphs before the bio line until 1,000 words.
	head, tail, ok := strings.Cut(s, "Emmanuel Alejandro Rondón is a journalist")
	if !ok {
		tb.Fatal("seed article changed: no bio line")
	}
	paras := strings.Split(strings.SplitN(head, "[Leer en español]", 2)[1], "\n\n")
	var b strings.Builder
	b.WriteString(head)
	for i := 0; document.Words(b.String()) < 1000; i++ {
		if p := strings.TrimSpace(paras[i%len(paras)]); document.Words(p) > 20 {
			b.WriteString(p + "\n\n")
		}
	}
	b.WriteString("Emmanuel Alejandro Rondón is a journalist" + tail)
	return b.String()
}

// baseline is the least any enrichment must do: split the text into words
// and copy it once.
func baseline(s string) int {
	words := strings.Fields(s)
	return len(strings.Join(words, " "))
}

// BenchmarkArticle1000Words is acceptance 3: enriching a 1,000-word paste,
// with its cost against the baseline measured in the same run.
func BenchmarkArticle1000Words(b *testing.B) {
	body := article1000(b)
	in := &newsroomv1.Article{Id: "bench", Body: body, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT}
	benchAgainstBaseline(b, in)
}

// BenchmarkArticle1000WordsHTML is the same story as an HTML fragment.
func BenchmarkArticle1000WordsHTML(b *testing.B) {
	var h strings.Builder
	h.WriteString("<article><h1>Parler Sues Amazon For Taking Down Its Servers</h1>")
	for p := range strings.SplitSeq(article1000(b), "\n\n") {
		h.WriteString("<p>" + strings.ReplaceAll(p, "&", "&amp;") + "</p>\n")
	}
	h.WriteString("</article>")
	in := &newsroomv1.Article{Id: "bench", Body: h.String(), BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_HTML}
	benchAgainstBaseline(b, in)
}

func benchAgainstBaseline(b *testing.B, in *newsroomv1.Article) {
	if a, err := enrich.Article(in); err != nil || a.WordCount < 900 {
		b.Fatalf("input is not a 1,000-word story: %v, %d words", err, a.GetWordCount())
	}
	// The baseline runs as many times as enrichment, right before and
	// right after it in the same run, so the ratio holds on a noisy machine.
	n := 0
	runBaseline := func() time.Duration {
		iters := max(b.N, 100)
		start := time.Now()
		for range iters {
			n += baseline(in.Body)
		}
		return time.Since(start) / time.Duration(iters)
	}
	before := runBaseline()
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := enrich.Article(in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(max(b.N, 1))
	base := (before + runBaseline()) / 2
	b.ReportMetric(float64(base.Nanoseconds()), "baseline-ns/op")
	b.ReportMetric(float64(per)/float64(max(base, 1)), "x-baseline")
	b.ReportMetric(float64(per)/float64(time.Millisecond), "ms/op")
	_ = n
}

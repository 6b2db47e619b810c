package enrich_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
)

// Byline targets of the issue, on the dev half of the data set.
const (
	targetMatch    = 0.85
	targetInvented = 0.10
)

type truthPage struct {
	URL     string   `json:"url"`
	Site    string   `json:"site"`
	Title   string   `json:"title"`
	Authors []string `json:"authors"`
	Text    string   `json:"text"`
}

// score accumulates the README's byline scoring.
type score struct {
	pages, matched, tp, fp, fn, noAuthor, invented int
}

func (s *score) add(truth, got []string) bool {
	norm := func(ns []string) []string {
		var out []string
		for _, n := range ns {
			if k := byline.Normalized(n); k != "" && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	t, g := norm(truth), norm(got)
	s.pages++
	ok := slices.Equal(t, g)
	if ok {
		s.matched++
	}
	for _, n := range g {
		if slices.Contains(t, n) {
			s.tp++
		} else {
			s.fp++
		}
	}
	for _, n := range t {
		if !slices.Contains(g, n) {
			s.fn++
		}
	}
	if len(t) == 0 {
		s.noAuthor++
		if len(g) > 0 {
			s.invented++
		}
	}
	return ok
}

func (s *score) match() float64        { return float64(s.matched) / float64(max(s.pages, 1)) }
func (s *score) inventedRate() float64 { return float64(s.invented) / float64(max(s.noAuthor, 1)) }
func (s *score) String() string {
	p := float64(s.tp) / float64(max(s.tp+s.fp, 1))
	r := float64(s.tp) / float64(max(s.tp+s.fn, 1))
	f1 := 0.0
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return fmt.Sprintf("name-set match %.3f (%d/%d)  precision %.3f  recall %.3f  F1 %.3f  invented %.3f (%d/%d pages without an author)",
		s.match(), s.matched, s.pages, p, r, f1, s.inventedRate(), s.invented, s.noAuthor)
}

// TestBylineEval is acceptance 2: bylines over the naeb-dev pages, scored
// exactly as the data set's README says, every byline printed counting
// (agency credits included: on a page whose truth has no author, any
// byline is invented). Person bylines alone are reported beside it.
// NEWSROOM_EVAL_DIR points the
// test at another half of the data (the held-out one); with -v the misses
// are listed, and EVAL_BODY=1 / EVAL_HEADLINE=1 list weak bodies and
// headlines that differ from the title. Body and headline quality are
// reported, not asserted: the data set's cleaned text is one editor's cut.
func TestBylineEval(t *testing.T) {
	dir := os.Getenv("NEWSROOM_EVAL_DIR")
	if dir == "" {
		dir = filepath.Join(testtool.SharedDir(t), "eval", "naeb-dev")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth map[string]truthPage
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(truth))
	for k := range truth {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var people, all score
	var misses []string
	var bodyP, bodyR float64
	var headlines int
	// Pages are enriched concurrently (enrichment is pure), scored in order.
	results := make([]*newsroomv1.Article, len(keys))
	var wg sync.WaitGroup
	work := make(chan int)
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range work {
				page, err := readGzip(filepath.Join(dir, "html", keys[i]+".html.gz"))
				if err != nil {
					t.Error(err)
					continue
				}
				a, err := enrich.Article(&newsroomv1.Article{Id: "eval", Body: page, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_HTML})
				if err != nil {
					t.Errorf("%s: %v", keys[i], err)
					continue
				}
				results[i] = a
			}
		})
	}
	for i := range keys {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, k := range keys {
		tp := truth[k]
		a := results[i]
		if a == nil {
			continue
		}
		p, r := overlap(a.Body, tp.Text)
		bodyP += p
		bodyR += r
		if os.Getenv("EVAL_BODY") != "" && (p < 0.5 || r < 0.5) {
			t.Logf("body %s %-22s P %.2f R %.2f words %d/%d start %q", k[:8], tp.Site, p, r, a.WordCount, len(strings.Fields(tp.Text)), cut(a.Body, 100))
		}
		if sameWords(a.Headline, tp.Title) {
			headlines++
		} else if os.Getenv("EVAL_HEADLINE") != "" {
			t.Logf("headline %s got %q want %q", k[:8], a.Headline, tp.Title)
		}
		var persons, names []string
		for _, b := range a.Bylines {
			names = append(names, b.Name)
			if !b.IsOrganization {
				persons = append(persons, b.Name)
			}
		}
		if !all.add(tp.Authors, names) && len(tp.Authors) == 0 && os.Getenv("EVAL_INVENTED") != "" {
			for _, b := range a.Bylines {
				t.Logf("invented %s %-22s %q org=%v %s/%s %q", k[:8], tp.Site, b.Name, b.IsOrganization, b.Evidence.GetSource(), b.Evidence.GetRule(), cut(b.Evidence.GetExcerpt(), 120))
			}
		}
		if !people.add(tp.Authors, persons) {
			ev := ""
			for _, b := range a.Bylines {
				ev += fmt.Sprintf(" [%s org=%v %s/%s %q]", b.Name, b.IsOrganization, b.Evidence.GetSource(), b.Evidence.GetRule(), b.Evidence.GetExcerpt())
			}
			misses = append(misses, fmt.Sprintf("%s %-24s truth=%q got=%q%s", k[:8], tp.Site, tp.Authors, persons, ev))
		}
	}
	t.Logf("bylines (the README's scoring): %s", &all)
	t.Logf("person bylines only: %s", &people)
	n := float64(len(keys))
	t.Logf("body against the cleaned text: word precision %.3f, recall %.3f; headline equal to the title on %d/%d pages",
		bodyP/n, bodyR/n, headlines, len(keys))
	if testing.Verbose() {
		for _, m := range misses {
			t.Log("miss: " + m)
		}
	}
	if all.match() < targetMatch {
		t.Errorf("name-set match %.3f is below the target %.2f", all.match(), targetMatch)
	}
	if all.inventedRate() > targetInvented {
		t.Errorf("invented-byline rate %.3f is above the target %.2f", all.inventedRate(), targetInvented)
	}
}

func readGzip(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(z)
	return string(b), err
}

// overlap compares the bags of words of got and want: the share of got's
// words that are in want (precision) and of want's that are in got.
func overlap(got, want string) (precision, recall float64) {
	bag := func(s string) map[string]int {
		m := map[string]int{}
		for w := range strings.FieldsFuncSeq(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
		}) {
			m[w]++
		}
		return m
	}
	g, w := bag(got), bag(want)
	common, ng, nw := 0, 0, 0
	for k, c := range g {
		ng += c
		common += min(c, w[k])
	}
	for _, c := range w {
		nw += c
	}
	if ng == 0 || nw == 0 {
		return 0, 0
	}
	return float64(common) / float64(ng), float64(common) / float64(nw)
}

func sameWords(a, b string) bool {
	return strings.Join(strings.Fields(strings.ToLower(a)), " ") == strings.Join(strings.Fields(strings.ToLower(b)), " ")
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Corpus makes the benchmark's articles: real story text (the cleaned
// text, titles and authors of the news pages in naeb-dev's truth.json),
// recombined with a seeded generator into as many varied articles as a
// run needs. Article i is the same in every run with the same seed, for
// newsroom and for Hugo alike.
type Corpus struct {
	seed    uint64
	stories []story
	authors []string
}

type story struct {
	title string
	paras []string
}

// LoadCorpus reads a truth.json of naeb-dev's shape: {key: {title,
// authors, text}}.
func LoadCorpus(path string, seed uint64) (*Corpus, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var truth map[string]struct {
		Title   string   `json:"title"`
		Authors []string `json:"authors"`
		Text    string   `json:"text"`
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		return nil, fmt.Errorf("corpus %s: %w", path, err)
	}
	c := &Corpus{seed: seed}
	seen := map[string]bool{}
	// Map order is random; the corpus must not be.
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range truth {
			if !yield(k) {
				return
			}
		}
	}) {
		t := truth[k]
		var paras []string
		for p := range strings.SplitSeq(strings.ReplaceAll(t.Text, "\r\n", "\n"), "\n") {
			if p = strings.TrimSpace(p); len(strings.Fields(p)) >= 4 {
				paras = append(paras, p)
			}
		}
		if strings.TrimSpace(t.Title) == "" || len(paras) < 2 {
			continue
		}
		c.stories = append(c.stories, story{title: strings.TrimSpace(t.Title), paras: paras})
		for _, a := range t.Authors {
			if a = strings.TrimSpace(a); a != "" && !seen[a] && len(a) < 60 {
				seen[a] = true
				c.authors = append(c.authors, a)
			}
		}
	}
	if len(c.stories) < 10 || len(c.authors) < 5 {
		return nil, fmt.Errorf("corpus %s: %d usable stories and %d authors; want at least 10 and 5", path, len(c.stories), len(c.authors))
	}
	return c, nil
}

// Sections of the generated site, and the tag vocabulary. Some tags are
// far more common than others, as on a real site.
var (
	sections = []string{"Politics", "Business", "Technology", "Culture", "Sport", "Science", "World", "Opinion"}
	tagWords = []string{
		"elections", "markets", "climate", "courts", "health", "education", "energy", "transport",
		"housing", "immigration", "artificial intelligence", "space", "football", "music", "film",
		"books", "trade", "inflation", "wildfires", "public safety", "city council", "labor",
		"agriculture", "water", "privacy", "cybersecurity", "vaccines", "tourism", "banking",
		"startups", "retail", "oil", "nuclear", "drought", "floods", "schools", "universities",
		"supreme court", "congress", "parliament", "china", "europe", "ukraine", "middle east",
		"africa", "latin america", "olympics", "baseball", "basketball", "tennis", "television",
		"theater", "museums", "fashion", "food", "travel", "weather", "transit", "taxes", "pensions",
	}
	kickers  = []string{"Analysis", "Explainer", "Update", "Live", "Review", "Interview", "Opinion", "Report", "Q&A", "Briefing"}
	subheads = []string{"What happened", "Why it matters", "What comes next", "The background", "Reactions", "By the numbers"}
)

// Article is generated article i: id, headline, dek, Markdown body,
// section, tags and bylines. Times are left to the caller: ingest stamps
// its own clock, an archive sets created_at itself.
func (c *Corpus) Article(i int) *newsroomv1.Article {
	r := rand.New(rand.NewPCG(c.seed, uint64(i)))
	s := c.stories[r.IntN(len(c.stories))]
	headline := s.title
	if i >= len(c.stories) {
		headline = kickers[r.IntN(len(kickers))] + ": " + s.title
	}
	// A run of the story's paragraphs from a random start, at least three
	// and up to twelve, with a subhead in longer ones.
	n := min(len(s.paras), 3+r.IntN(10))
	start := r.IntN(len(s.paras) - n + 1)
	paras := slices.Clone(s.paras[start : start+n])
	if len(paras) > 5 {
		at := 2 + r.IntN(len(paras)-3)
		paras = slices.Insert(paras, at, "## "+subheads[r.IntN(len(subheads))])
	}
	dek := firstSentence(paras[0], 200)

	a := &newsroomv1.Article{
		Id:         fmt.Sprintf("%s-%06d", strings.TrimSuffix(slug.Make(headline, 40), "-"), i),
		Headline:   headline,
		Dek:        dek,
		Body:       strings.Join(paras, "\n\n"),
		BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
		Language:   "en",
		Section:    sections[skewed(r, len(sections))],
	}
	if strings.HasPrefix(a.Id, "-") || bus.ValidateArticleID(a.Id) != nil {
		a.Id = fmt.Sprintf("story-%06d", i)
	}
	for range 1 + r.IntN(3) {
		t := tagWords[skewed(r, len(tagWords))]
		if !slices.ContainsFunc(a.Tags, func(x *newsroomv1.Tag) bool { return x.Name == t }) {
			a.Tags = append(a.Tags, &newsroomv1.Tag{Name: t, Type: newsroomv1.TagType_TAG_TYPE_KEYWORD})
		}
	}
	for range 1 + r.IntN(2) {
		name := c.authors[skewed(r, len(c.authors))]
		if !slices.ContainsFunc(a.Bylines, func(b *newsroomv1.Byline) bool { return b.Name == name }) {
			a.Bylines = append(a.Bylines, &newsroomv1.Byline{Name: name})
		}
	}
	return a
}

// skewed picks an index in [0, n), the low ones far more often.
func skewed(r *rand.Rand, n int) int {
	f := r.Float64()
	return min(n-1, int(f*f*float64(n)))
}

func firstSentence(p string, limit int) string {
	if i := strings.Index(p, ". "); i > 0 && i < limit {
		return p[:i+1]
	}
	if len(p) <= limit {
		return p
	}
	cut := strings.LastIndexByte(p[:limit], ' ')
	if cut < 1 {
		cut = limit
	}
	return strings.TrimRight(p[:cut], ",;:") + "…"
}

// SubmitJSON is article a as an editor submits it to POST /v1/articles.
func SubmitJSON(a *newsroomv1.Article) []byte {
	type in struct {
		ID       string   `json:"id"`
		Headline string   `json:"headline"`
		Dek      string   `json:"dek,omitempty"`
		Body     string   `json:"body"`
		Format   string   `json:"body_format"`
		Bylines  []string `json:"bylines,omitempty"`
		Tags     []string `json:"tags,omitempty"`
		Section  string   `json:"section,omitempty"`
		Language string   `json:"language"`
	}
	v := in{ID: a.Id, Headline: a.Headline, Dek: a.Dek, Body: a.Body, Format: "markdown", Section: a.Section, Language: a.Language}
	for _, b := range a.Bylines {
		v.Bylines = append(v.Bylines, b.Name)
	}
	for _, t := range a.Tags {
		v.Tags = append(v.Tags, t.Name)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// Submitted is article a as ingest would have stored it at acceptedAt, for
// an archive loaded straight into the log and for the stages' inputs.
func Submitted(a *newsroomv1.Article, publicURL string, at time.Time) *newsroomv1.ArticleSubmitted {
	a.Url = strings.TrimRight(publicURL, "/") + "/articles/" + a.Id
	a.CreatedAt = timestamppb.New(at)
	a.UpdatedAt = a.CreatedAt
	a.SourceFormat = newsroomv1.SourceFormat_SOURCE_FORMAT_JSON
	a.Editor = "bench"
	for _, b := range a.Bylines {
		b.Evidence = &newsroomv1.Evidence{Source: "editor", Confidence: 1}
	}
	for _, t := range a.Tags {
		t.Evidence = &newsroomv1.Evidence{Source: "editor", Confidence: 1}
	}
	return &newsroomv1.ArticleSubmitted{
		EventId:    bus.MsgID(a.Id, 1, bus.EventSubmitted),
		ArticleId:  a.Id,
		Revision:   1,
		OccurredAt: a.CreatedAt,
		Article:    a,
		AcceptedAt: a.CreatedAt,
	}
}

package compose

import (
	"compress/gzip"
	"html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/richtext"
	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// seedArticle is the fixture article as enrichment would leave it; the
// headline, dek and tags are written by hand here because enrichment is
// another stage's work.
func seedArticle(t testing.TB) *newsroomv1.Article {
	raw, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if !strings.Contains(body, "Parler Sues Amazon For Taking Down Its Servers") {
		t.Fatal("seed article changed: headline not found")
	}
	tag := func(name string, typ newsroomv1.TagType, sal float64) *newsroomv1.Tag {
		return &newsroomv1.Tag{Name: name, Type: typ, Salience: sal}
	}
	return &newsroomv1.Article{
		Id:       "parler-sues-amazon",
		Headline: "Parler Sues Amazon For Taking Down Its Servers",
		Dek: "A legal battle that will be very important for the future of Parler, the new social network that calls itself " +
			"a “conservative microblogging alternative and competitor of Twitter,” is coming: the lawsuit is against Amazon.com Inc., " +
			"after the company decided to expel Parler from its servers after the events on Capitol Hill.",
		Body:     body,
		Section:  "Technology",
		Slug:     "parler-sues-amazon-for-taking-down-its-servers",
		Language: "en",
		Tags: []*newsroomv1.Tag{
			tag("Parler", newsroomv1.TagType_TAG_TYPE_ORGANIZATION, 0.95),
			tag("Amazon Web Services", newsroomv1.TagType_TAG_TYPE_ORGANIZATION, 0.9),
			tag("antitrust", newsroomv1.TagType_TAG_TYPE_TOPIC, 0.6),
			tag("Mike Pence", newsroomv1.TagType_TAG_TYPE_PERSON, 0.4),
			tag("Seattle", newsroomv1.TagType_TAG_TYPE_PLACE, 0.2),
		},
		Images: []*newsroomv1.Image{{Url: "https://news.example.org/media/parler.jpg", Caption: "Parler will engage in a legal battle against Amazon", Credit: "EFE"}},
	}
}

const pageURL = "https://news.example.org/articles/parler-sues-amazon"

func composeAll(t testing.TB, c *Composer, a *newsroomv1.Article, u string) []Post {
	t.Helper()
	var out []Post
	for _, n := range Networks {
		r, err := RulesFor(n)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Compose(Input{Article: a, URL: u, Site: "Newsroom"}, r)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		checkPost(t, a, r, p)
		out = append(out, p)
	}
	return out
}

// checkPost asserts what every post must satisfy, measured independently
// of the composer's own bookkeeping.
func checkPost(t testing.TB, a *newsroomv1.Article, r Rules, p Post) {
	t.Helper()
	if err := r.Check(p.Text); err != nil {
		t.Errorf("%s post for %s is over its limits: %v\n%s", r.Network, a.Id, err, p.Text)
	}
	if !utf8.ValidString(p.Text) {
		t.Errorf("%s: invalid UTF-8", r.Network)
	}
	switch r.Network {
	case X:
		if res := twittertext.Parse(p.Text, twittertext.V3); !res.Valid || res.WeightedLength > 280 {
			t.Errorf("x: %+v", res)
		}
	case Bluesky:
		if n := uniseg.GraphemeClusterCount(p.Text); n > 300 || len(p.Text) > 3000 {
			t.Errorf("bluesky: %d graphemes, %d bytes", n, len(p.Text))
		}
		if !richtext.Valid(p.Text, p.Facets) {
			t.Errorf("bluesky facets invalid: %+v", p.Facets)
		}
		linked := false
		for _, f := range p.Facets {
			for _, ft := range f.Features {
				if ft.Type == richtext.TypeLink && ft.URI == p.Link {
					linked = true
				}
			}
		}
		if !linked || p.Card == nil || p.Card.URL != p.Link {
			t.Errorf("bluesky: link facet %v, card %+v", linked, p.Card)
		}
	case Threads:
		if n := len(twittertext.ExtractURLs(p.Text, true)); n > 5 || utf8.RuneCountInString(p.Text) > 500 {
			t.Errorf("threads: %d links, %d characters", n, utf8.RuneCountInString(p.Text))
		}
	}
	u, err := url.Parse(p.Link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("utm_source") != r.Network || q.Get("utm_medium") != "social" || q.Get("utm_campaign") == "" {
		t.Errorf("%s: link %s lacks UTM parameters", r.Network, p.Link)
	}
	switch r.Network {
	case X, Mastodon, Threads:
		if !strings.Contains(p.Text, p.Link) {
			t.Errorf("%s: text does not carry the link:\n%s", r.Network, p.Text)
		}
	}
	if strings.TrimSpace(p.Text) == "" {
		t.Errorf("%s: empty text", r.Network)
	}
}

func TestSeedArticleFitsEveryNetwork(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := seedArticle(t)
	posts := composeAll(t, c, a, pageURL)
	for _, p := range posts {
		t.Logf("%s (%d/%d):\n%s", p.Network, p.Length, p.Limit, p.Text)
		if !strings.Contains(p.Text, "Parler Sues Amazon") {
			t.Errorf("%s: headline lost", p.Network)
		}
	}
	// Facebook's message has no link: the link goes as its own field.
	if p := posts[4]; strings.Contains(p.Text, "http") {
		t.Errorf("facebook message carries a link: %q", p.Text)
	}
	// LinkedIn hashtags use the little format's hashtag template.
	if p := posts[3]; !strings.Contains(p.Text, `{hashtag|\#|Parler}`) {
		t.Errorf("linkedin hashtags: %q", p.Text)
	}
}

var (
	titleRe = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	metaRe  = regexp.MustCompile(`(?is)<meta\s[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)(property|name|content)\s*=\s*("([^"]*)"|'([^']*)')`)
)

// pageArticle derives a simple article from a page: og:title or <title>
// for the headline, og:description or the description for the dek,
// keywords for tags.
func pageArticle(key, page string) *newsroomv1.Article {
	meta := map[string]string{}
	for _, m := range metaRe.FindAllString(page, -1) {
		var name, content string
		for _, a := range attrRe.FindAllStringSubmatch(m, -1) {
			v := a[3] + a[4]
			switch strings.ToLower(a[1]) {
			case "property", "name":
				name = strings.ToLower(v)
			case "content":
				content = v
			}
		}
		if name != "" && meta[name] == "" {
			meta[name] = html.UnescapeString(content)
		}
	}
	headline := meta["og:title"]
	if headline == "" {
		if m := titleRe.FindStringSubmatch(page); m != nil {
			headline = html.UnescapeString(m[1])
		}
	}
	dek := meta["og:description"]
	if dek == "" {
		dek = meta["description"]
	}
	a := &newsroomv1.Article{Id: key, Headline: headline, Dek: dek, Language: "en", Section: meta["article:section"]}
	for _, k := range strings.Split(meta["keywords"]+","+meta["news_keywords"], ",") {
		if k = strings.TrimSpace(k); k != "" {
			a.Tags = append(a.Tags, &newsroomv1.Tag{Name: k})
		}
	}
	if img := meta["og:image"]; img != "" {
		a.Images = append(a.Images, &newsroomv1.Image{Url: img})
	}
	return a
}

func TestNAEBDevArticlesFitEveryNetwork(t *testing.T) {
	dir := filepath.Join(testtool.SharedDir(t), "eval", "naeb-dev", "html")
	files, err := filepath.Glob(filepath.Join(dir, "*.html.gz"))
	if err != nil || len(files) < 100 {
		t.Fatalf("naeb-dev pages: %d found, %v", len(files), err)
	}
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	shortened := 0
	for _, f := range files {
		key := strings.TrimSuffix(filepath.Base(f), ".html.gz")
		page := readGz(t, f)
		a := pageArticle(key, page)
		if a.Headline == "" {
			a.Headline = key
		}
		posts := composeAll(t, c, a, "https://news.example.org/articles/"+key+"?from=feed#top")
		for _, p := range posts {
			if strings.Contains(p.Text, Ellipsis) {
				shortened++
			}
			if !strings.Contains(p.Link, "from=feed") || !strings.HasSuffix(p.Link, "#top") {
				t.Errorf("%s: link lost its query or fragment: %s", p.Network, p.Link)
			}
		}
	}
	t.Logf("%d pages, %d posts shortened", len(files), shortened)
}

func readGz(t testing.TB, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostileArticlesStillFit: very long headlines and deks in scripts and
// emoji that weigh double, tags galore, a headline that is one long URL.
func TestHostileArticlesStillFit(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	family := "👨‍👩‍👧‍👦"
	cases := map[string]*newsroomv1.Article{
		"cjk":     {Id: "cjk", Headline: strings.Repeat("故人西辞黄鹤楼，烟花三月下扬州。", 30), Dek: strings.Repeat("孤帆远影碧空尽", 80)},
		"emoji":   {Id: "emoji", Headline: strings.Repeat(family+" ", 200), Dek: strings.Repeat("🏴󠁧󠁢󠁥󠁮󠁧󠁿", 400)},
		"accent":  {Id: "accent", Headline: strings.Repeat("Éléphant à l’école — ", 60), Dek: strings.Repeat("São Paulo ", 500)},
		"url":     {Id: "url", Headline: "Read https://example.com/" + strings.Repeat("a", 600) + " now", Dek: "see example.com"},
		"oneword": {Id: "oneword", Headline: strings.Repeat("x", 5000)},
		"links":   {Id: "links", Headline: "Links", Dek: strings.Repeat("example.com and example.org ", 20)},
	}
	for name, a := range cases {
		for i := range 20 {
			a.Tags = append(a.Tags, &newsroomv1.Tag{Name: strings.Repeat("tag", i+1), Salience: float64(i)})
		}
		t.Run(name, func(t *testing.T) { composeAll(t, c, a, pageURL) })
	}
}

func TestTemplatesPerNetworkAndSection(t *testing.T) {
	c, err := New(map[string]string{
		X:               "{{.Headline}} {{.Link}}",
		X + "/politics": "🗳 {{.Headline}} {{.Link}} {{.Hashtags}}",
		Mastodon:        "{{.Site}}: {{.Headline}} {{.Link}}",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := seedArticle(t)
	rx, _ := RulesFor(X)
	p, err := c.Compose(Input{Article: a, URL: pageURL}, rx)
	if err != nil || strings.HasPrefix(p.Text, "🗳") || strings.Contains(p.Text, "#") {
		t.Fatalf("x default section: %q %v", p.Text, err)
	}
	a.Section = "Politics"
	if p, err = c.Compose(Input{Article: a, URL: pageURL}, rx); err != nil || !strings.HasPrefix(p.Text, "🗳 ") || !strings.Contains(p.Text, "#Parler") {
		t.Fatalf("x politics: %q %v", p.Text, err)
	}
	rm, _ := RulesFor(Mastodon)
	if p, err = c.Compose(Input{Article: a, URL: pageURL, Site: "Daily"}, rm); err != nil || !strings.HasPrefix(p.Text, "Daily: ") {
		t.Fatalf("mastodon: %q %v", p.Text, err)
	}
	if _, err := New(map[string]string{X: "{{.Nope}}"}); err == nil {
		t.Fatal("a template with an unknown field was accepted")
	}
}

func TestCorrectionReply(t *testing.T) {
	c, _ := New(nil)
	a := seedArticle(t)
	for _, n := range Networks {
		r, _ := RulesFor(n)
		p, err := c.Correction(Input{Article: a, URL: pageURL, Note: strings.Repeat("An earlier version misstated the court. ", 40)}, r)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := r.Check(p.Text); err != nil || !strings.HasPrefix(p.Text, "Correction: An earlier version") {
			t.Errorf("%s: %v %q", n, err, p.Text)
		}
		if !strings.Contains(p.Link, "utm_content=correction") {
			t.Errorf("%s: correction link %s", n, p.Link)
		}
	}
}

func TestWithUTMKeepsQuery(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://n.example/a/1", "https://n.example/a/1?utm_source=x&utm_medium=social&utm_campaign=my-slug"},
		{"https://n.example/a/1?b=2&a=1#frag", "https://n.example/a/1?b=2&a=1&utm_source=x&utm_medium=social&utm_campaign=my-slug#frag"},
		{"https://n.example/a/1?utm_source=old&keep=%C3%A9", "https://n.example/a/1?keep=%C3%A9&utm_source=x&utm_medium=social&utm_campaign=my-slug"},
	}
	for _, c := range cases {
		got, err := WithUTM(c.in, "x", "my-slug", "")
		if err != nil || got != c.want {
			t.Errorf("WithUTM(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/relative", "ftp://x.example/", "http://%zz"} {
		if _, err := WithUTM(bad, "x", "s", ""); err == nil {
			t.Errorf("WithUTM(%q) accepted", bad)
		}
	}
}

func TestShortenBoundaries(t *testing.T) {
	under := func(n int) func(string) bool {
		return func(s string) bool { return uniseg.GraphemeClusterCount(s) <= n }
	}
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"Parler sues Amazon over its servers", 20, "Parler sues Amazon…"},
		{"Parler sues Amazon, again", 21, "Parler sues Amazon…"},
		// Never inside the URL: the cut falls before it.
		{"Read this https://example.com/a/very/long/path today", 30, "Read this…"},
		// Never inside the family emoji: it is one grapheme, kept or dropped whole.
		{"Family 👨‍👩‍👧‍👦 reunion day", 9, "Family 👨‍👩‍👧‍👦…"},
		{"Family 👨‍👩‍👧‍👦 reunion day", 8, "Family…"},
		// No word boundary fits: grapheme cut.
		{"Donaudampfschifffahrtsgesellschaft", 10, "Donaudamp…"},
		// CJK breaks between ideographs.
		{"故人西辞黄鹤楼", 4, "故人西…"},
		// Accents stay on their letters.
		{"e\u0301e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301…"},
	}
	for _, c := range cases {
		got, ok := Shorten(c.in, under(c.n))
		if !ok || got != c.want {
			t.Errorf("Shorten(%q, %d) = %q, %v; want %q", c.in, c.n, got, ok, c.want)
		}
	}
	if _, ok := Shorten("https://example.com/only-a-url", under(10)); ok {
		t.Error("a URL was cut")
	}
}

func FuzzShorten(f *testing.F) {
	for _, s := range []string{"Parler sues Amazon", "👨‍👩‍👧‍👦 family https://x.com/a", "故人西辞黄鹤楼", "e\u0301\u0301x"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if !utf8.ValidString(s) || n < 0 || n > 1000 {
			return
		}
		got, ok := Shorten(s, func(x string) bool { return uniseg.GraphemeClusterCount(x) <= n })
		if !ok {
			return
		}
		if uniseg.GraphemeClusterCount(got) > n {
			t.Fatalf("Shorten(%q, %d) = %q is too long", s, n, got)
		}
		if got == s {
			return
		}
		prefix := strings.TrimSuffix(got, Ellipsis)
		if !strings.HasPrefix(s, prefix) {
			t.Fatalf("Shorten(%q) = %q is not a prefix", s, got)
		}
		// The cut is on a grapheme boundary of s and outside any URL.
		onBoundary := len(prefix) == 0
		for g := uniseg.NewGraphemes(s); g.Next(); {
			if _, e := g.Positions(); e == len(prefix) {
				onBoundary = true
			}
		}
		if !onBoundary {
			t.Fatalf("Shorten(%q) cut inside a grapheme: %q", s, got)
		}
		for _, u := range twittertext.ExtractURLs(s, true) {
			if len(prefix) > u.Start && len(prefix) < u.End {
				t.Fatalf("Shorten(%q) cut inside URL %q: %q", s, u.URL, got)
			}
		}
	})
}

// TestBlueskyFacetsOnComposedPost: in a post whose text mixes accents, CJK
// and emoji sequences, the link facet covers exactly the displayed link
// and each hashtag facet exactly its "#tag", by UTF-8 byte offsets that
// are recomputed here from rune widths, not by searching the text.
func TestBlueskyFacetsOnComposedPost(t *testing.T) {
	c, _ := New(nil)
	r, _ := RulesFor(Bluesky)
	a := &newsroomv1.Article{Id: "mixed", Headline: "Éléphants à Tōkyō 東京 👨‍👩‍👧‍👦 🇯🇵", Dek: "Café ☕️ crème",
		Tags: []*newsroomv1.Tag{{Name: "Tōkyō", Salience: 1}, {Name: "東京", Salience: 0.5}}}
	p, err := c.Compose(Input{Article: a, URL: pageURL}, r)
	if err != nil {
		t.Fatal(err)
	}
	byteOffset := func(runeIndex int) int {
		n := 0
		for i, rr := range []rune(p.Text) {
			if i == runeIndex {
				return n
			}
			n += utf8.RuneLen(rr)
		}
		return n
	}
	runes := []rune(p.Text)
	find := func(sub string) (int, int) {
		sr := []rune(sub)
		for i := 0; i+len(sr) <= len(runes); i++ {
			if string(runes[i:i+len(sr)]) == sub {
				return byteOffset(i), byteOffset(i + len(sr))
			}
		}
		t.Fatalf("%q not in %q", sub, p.Text)
		return 0, 0
	}
	want := map[string][2]int{}
	s, e := find(DisplayLink(p.Link))
	want[richtext.TypeLink] = [2]int{s, e}
	s, e = find("#Tōkyō")
	want["Tōkyō"] = [2]int{s, e}
	s, e = find("#東京")
	want["東京"] = [2]int{s, e}
	if len(p.Facets) != 3 {
		t.Fatalf("facets %+v on %q", p.Facets, p.Text)
	}
	for _, f := range p.Facets {
		k := f.Features[0].Tag
		if f.Features[0].Type == richtext.TypeLink {
			k = richtext.TypeLink
			if f.Features[0].URI != p.Link {
				t.Errorf("link facet points at %s", f.Features[0].URI)
			}
		}
		if got := [2]int{f.Index.ByteStart, f.Index.ByteEnd}; got != want[k] {
			t.Errorf("%s facet at %v, want %v in %q", k, got, want[k], p.Text)
		}
	}
}

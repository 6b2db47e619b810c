package htmlpage

import (
	"strings"
	"testing"

	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
)

const page = `<!doctype html><html lang="en-GB"><head>
<title>Budget vote delayed | Politics | The Paper</title>
<meta property="og:site_name" content="The Paper">
<meta property="og:url" content="https://www.thepaper.example/politics/budget">
<meta name="description" content="Lawmakers put off the vote again.">
<meta name="author" content="Jane Doe">
<meta property="article:author" content="https://facebook.com/janedoe">
<link rel="alternate" hreflang="es" href="https://www.thepaper.example/es/presupuesto">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"NewsArticle","headline":"Budget vote delayed &ndash; again","author":[{"@id":"#jane"},{"@type":"Organization","name":"Reuters"}],
  "publisher":{"@type":"Organization","name":"The Paper"},
  "image":{"@type":"ImageObject","url":"https://img.example/lead.jpg","caption":"The chamber","creditText":"AP Photo/John Roe"}},
 {"@type":"Person","@id":"#jane","name":"Jane O&#039;Doe","description":"Jane is a reporter."}]}</script>
<script>var junk = "<p>not text</p>";</script><style>p{}</style>
</head><body class="has-sidebar layout--sidebar">
<nav><a href="/">Home</a><a href="/politics">Politics</a></nav>
<header><h1>Budget vote delayed</h1><div class="byline">By <a href="/author/jane-doe">Jane Doe</a> | Updated Dec 3, 2023</div></header>
<div class="share-bar"><a href="#">Share on Facebook</a> 12 shares</div>
<article class="article-body">
<p>Lawmakers in the capital delayed the budget vote again on Monday, the third delay this year, officials said.</p>
<h2>What comes next</h2>
<p>The committee will meet again, its chair said, and a new date, perhaps in January, is expected soon after that.</p>
<figure><img src="/img/a.jpg" alt="Lawmakers leave"><figcaption>Lawmakers leave the chamber. <span class="credit">REUTERS/Jane Roe</span></figcaption></figure>
<blockquote><p>“We need more time,” she said.</p></blockquote>
<ul><li>First point of the plan, in words.</li><li>Second point of the plan, in words.</li></ul>
<div class="related-articles"><h3>Related</h3><ul><li><a href="/x">Other story by Someone Else</a></li></ul></div>
<img src="/pixel.gif" width="1" height="1">
</article>
<aside class="sidebar"><p>Most popular stories of the week, all of them in one long list here.</p></aside>
<footer><p>All rights reserved, The Paper, 2023, and more footer text here.</p></footer>
</body></html>`

func TestParsePage(t *testing.T) {
	p := Parse(page)
	if p.Headline != "Budget vote delayed – again" || p.HeadlineSource != "jsonld" || p.H1 != "Budget vote delayed" {
		t.Errorf("headline %q (%s), h1 %q", p.Headline, p.HeadlineSource, p.H1)
	}
	if p.Lang != "en-GB" || p.Canonical != "https://www.thepaper.example/politics/budget" || p.Description != "Lawmakers put off the vote again." {
		t.Errorf("lang %q canonical %q description %q", p.Lang, p.Canonical, p.Description)
	}
	if strings.Join(p.Publishers, ",") != "The Paper,thepaper" {
		t.Errorf("publishers %q", p.Publishers)
	}
	if len(p.Alternates) != 1 || p.Alternates[0].Hreflang != "es" {
		t.Errorf("alternates %v", p.Alternates)
	}
	var credits []string
	for _, c := range p.Credits {
		credits = append(credits, c.Source+":"+c.Raw)
	}
	want := "meta:Jane Doe|jsonld:Jane O'Doe|jsonld:Reuters|byline-element:Jane Doe"
	if got := strings.Join(credits, "|"); got != want {
		t.Errorf("credits\n%s\nwant\n%s", got, want)
	}
	if !p.Credits[2].Org || p.Credits[1].Bio != "Jane is a reporter." {
		t.Errorf("credit details %+v %+v", p.Credits[1], p.Credits[2])
	}
	if len(p.LDImages) != 1 || p.LDImages[0].Credit != "AP Photo/John Roe" {
		t.Errorf("LD images %+v", p.LDImages)
	}
	var blocks []string
	for _, b := range p.Blocks {
		s := [...]string{"p", "h", "q", "li", "img"}[b.Kind] + ":" + b.Text
		if b.Kind == document.Image {
			s += b.Src + "|" + b.Caption + "|" + b.Credit
		}
		blocks = append(blocks, s)
	}
	got := strings.Join(blocks, "\n")
	wantBlocks := strings.Join([]string{
		"p:Lawmakers in the capital delayed the budget vote again on Monday, the third delay this year, officials said.",
		"h:What comes next",
		"p:The committee will meet again, its chair said, and a new date, perhaps in January, is expected soon after that.",
		"img:/img/a.jpg|Lawmakers leave the chamber.|Reuters/Jane Roe",
		"q:“We need more time,” she said.",
		"li:First point of the plan, in words.",
		"li:Second point of the plan, in words.",
	}, "\n")
	if got != wantBlocks {
		t.Errorf("blocks\n%s\nwant\n%s", got, wantBlocks)
	}
}

func TestDeepAndBrokenMarkup(t *testing.T) {
	deep := strings.Repeat("<div>", 5000) + "<p>deep text, with a comma, and more words here</p>" + strings.Repeat("</div>", 5000)
	p := Parse(deep)
	if len(p.Blocks) != 1 || !strings.Contains(p.Blocks[0].Text, "deep text") {
		t.Errorf("deep: %+v", p.Blocks)
	}
	p = Parse("<p>one<p>two</b></i><li>three<script>x</script>")
	if len(p.Blocks) == 0 {
		t.Error("broken markup lost its text")
	}
	p = Parse(`<script type="application/ld+json">{"@graph":[[[[[[[[{"author":"x"}]]]]]]]]}</script><script type="application/ld+json">not json</script>`)
	if len(p.Credits) != 0 {
		t.Errorf("credits from garbage JSON-LD: %+v", p.Credits)
	}
}

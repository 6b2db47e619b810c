package document

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	blocks := []Block{
		{Kind: Paragraph, Text: "A *starred* [word] and 1 < 2."},
		{Kind: Heading, Level: 2, Text: "What next"},
		{Kind: Quote, Text: "We will see."},
		{Kind: ListItem, Text: "- not a nested item"},
		{Kind: ListItem, Level: 0, Text: "second"},
		{Kind: Image, Src: "x.jpg"},
		{Kind: Paragraph, Text: "2023. A year.", Inline: ""},
		{Kind: Paragraph, Text: "linked", Inline: "[linked](https://example.com)"},
	}
	got := Markdown(blocks)
	want := "A \\*starred\\* \\[word\\] and 1 \\< 2.\n\n## What next\n\n> We will see.\n\n- \\- not a nested item\n- second\n\n2023\\. A year.\n\n[linked](https://example.com)\n"
	if got != want {
		t.Errorf("Markdown =\n%q\nwant\n%q", got, want)
	}
	if Escape("1. First") != "1\\. First" || Escape("# tag") != "\\# tag" || Escape("- x") != "\\- x" {
		t.Errorf("Escape: %q %q", Escape("1. First"), Escape("# tag"))
	}
}

func TestParseMarkdown(t *testing.T) {
	src := "# Title\n\nBy Jane Doe\n\nSome *em* text\nwrapped [link](http://x).\n\n## Sub\n\n> quoted\n> more\n\n- one\n- two\n\n![An alt](http://x/a.jpg \"t\")\n\nSetext\n---\n"
	bs := ParseMarkdown(src)
	var kinds []string
	for _, b := range bs {
		kinds = append(kinds, [...]string{"p", "h", "q", "li", "img"}[b.Kind]+":"+b.Text)
	}
	got := strings.Join(kinds, "|")
	want := "h:Title|p:By Jane Doe|p:Some em text wrapped link.|h:Sub|q:quoted more|li:one|li:two|img:|h:Setext"
	if got != want {
		t.Errorf("ParseMarkdown =\n%s\nwant\n%s", got, want)
	}
	if bs[0].Level != 1 || bs[len(bs)-2].Alt != "An alt" || bs[len(bs)-2].Src != "http://x/a.jpg" {
		t.Errorf("levels/images: %+v %+v", bs[0], bs[len(bs)-2])
	}
}

func TestParseTextAndWords(t *testing.T) {
	bs := ParseText("fbpx\nSkip\n\n\n  Para\u00a0one  \n\nPara two\n")
	if len(bs) != 3 || len(bs[0].Lines) != 2 || bs[1].Text != "Para one" || bs[2].Text != "Para two" {
		t.Errorf("ParseText = %+v", bs)
	}
	if n := Words("Don't stop — Rondón's AWS-backed 30 days."); n != 6 {
		t.Errorf("Words = %d", n)
	}
}

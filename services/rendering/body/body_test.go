package body_test

import (
	"html/template"
	"strings"
	"testing"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/body"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
)

var formats = []newsroomv1.BodyFormat{
	newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
	newsroomv1.BodyFormat_BODY_FORMAT_HTML,
	newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
	newsroomv1.BodyFormat_BODY_FORMAT_UNSPECIFIED,
}

// TestInjectionsNeverRender is acceptance point 3 at the body's level:
// each payload alone, inside a paragraph, and all of them together, in
// every format.
func TestInjectionsNeverRender(t *testing.T) {
	r := body.New()
	all := strings.Join(fixture.Injections, "\n\n")
	for _, f := range formats {
		for i, p := range append(fixture.Injections, all) {
			for _, in := range []string{p, "Before " + p + " after.", "## Heading\n\n" + p + "\n\n- item " + p} {
				out := r.HTML(f, in)
				if err := fixture.CheckSafe(string(out), nil); err != nil {
					t.Errorf("%s payload %d %q rendered unsafe: %v\n%s", f, i, p, err, out)
				}
			}
		}
	}
}

// TestCheckSafeCatches makes sure the checker itself would see an
// injection: a test of safety is worth only what its detector catches.
func TestCheckSafeCatches(t *testing.T) {
	for _, bad := range []string{
		`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
		`<a href=" jav&#x09;ascript:alert(1)">x</a>`, `<svg></svg>`, `<p style="x">y</p>`, `<iframe></iframe>`,
	} {
		if err := fixture.CheckSafe(bad, nil); err == nil {
			t.Errorf("CheckSafe accepted %q", bad)
		}
	}
	if err := fixture.CheckSafe(`<p><a href="https://ok.example/" rel="nofollow">ok</a> <a href="/rel">r</a> <a href="mailto:a@b.c">m</a></p>`, nil); err != nil {
		t.Errorf("CheckSafe refused a safe fragment: %v", err)
	}
}

func TestFormats(t *testing.T) {
	r := body.New()
	cases := []struct {
		name   string
		format newsroomv1.BodyFormat
		in     string
		want   []string
		not    []string
	}{
		{"markdown subheads", newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
			"Para one.\n\n## Subhead\n\nPara *two* with [a link](https://example.org/x).",
			[]string{"<p>Para one.</p>", "<h2>Subhead</h2>", "<em>two</em>", `<a href="https://example.org/x" rel="nofollow">a link</a>`}, nil},
		{"markdown h1 becomes h2", newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN, "# Top\n\ntext", []string{"<h2>Top</h2>"}, []string{"<h1>"}},
		{"markdown raw html dropped", newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN, "text <b>bold</b>\n\n<div>block</div>", []string{"text"}, []string{"<div>"}},
		{"html page keeps only body", newsroomv1.BodyFormat_BODY_FORMAT_HTML,
			"<html><head><title>Leak</title></head><body><p>Story</p></body></html>", []string{"<p>Story</p>"}, []string{"Leak"}},
		{"html misnesting repaired", newsroomv1.BodyFormat_BODY_FORMAT_HTML,
			"<p>One<ul><li>a</ul>two</p>", []string{"<ul><li>a</li></ul>"}, []string{"<p><ul>"}},
		{"html img gets alt", newsroomv1.BodyFormat_BODY_FORMAT_HTML, `<img src="https://i.example/a.jpg">`, []string{`alt=""`}, nil},
		{"html img without src dropped", newsroomv1.BodyFormat_BODY_FORMAT_HTML, `<p>x<img alt="y"></p>`, []string{"<p>x</p>"}, []string{"<img"}},
		{"html h1 not kept", newsroomv1.BodyFormat_BODY_FORMAT_HTML, `<h1>Two</h1><h2>Sub</h2>`, []string{"<h2>Sub</h2>"}, []string{"<h1>"}},
		{"text paragraphs", newsroomv1.BodyFormat_BODY_FORMAT_TEXT, "One\nline two\n\n<b>Two</b> & more",
			[]string{"<p>One<br>line two</p>", "<p>&lt;b&gt;Two&lt;/b&gt; &amp; more</p>"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := string(r.HTML(c.format, c.in))
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("want %q in\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("did not want %q in\n%s", n, out)
				}
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	got := body.PlainText(template.HTML("<p>One <em>two</em></p><p>three</p>"))
	if got != "One two three" {
		t.Errorf("PlainText = %q", got)
	}
}

// FuzzBody: no input in any format renders anything that could run.
func FuzzBody(f *testing.F) {
	for _, p := range fixture.Injections {
		f.Add(p, uint8(2))
		f.Add(p, uint8(3))
	}
	r := body.New()
	f.Fuzz(func(t *testing.T, in string, format uint8) {
		out := r.HTML(newsroomv1.BodyFormat(format%4), in)
		if err := fixture.CheckSafe(string(out), nil); err != nil {
			t.Fatalf("unsafe output for %q: %v\n%s", in, err, out)
		}
	})
}

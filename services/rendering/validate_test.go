package rendering_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
)

// The outside programs the acceptance tests run.
var (
	vnuTool      = testtool.Vnu
	sdttTool     = testtool.Sdtt
	chromiumTool = testtool.Chromium
	axeTool      = testtool.Axe
)

// publication is a small site with every kind of page: the seed article
// and its Spanish translation, articles with HTML and plain-text bodies,
// one without a photo, and a retracted one.
func publication(t *testing.T) (*site, map[string]string) {
	t.Helper()
	s := newSite(t, fixture.SeedPublished.Add(3*time.Hour))
	s.enrich(fixture.Seed(t, s.base, s.base+"/media/parler.jpg"), 2)
	s.enrich(fixture.SeedSpanish(s.base), 1)
	htmlBody := fixture.Article(s.base, 1, fixture.SeedPublished.Add(-time.Hour))
	htmlBody.BodyFormat = newsroomv1.BodyFormat_BODY_FORMAT_HTML
	htmlBody.Body = `<html><head><title>Wire copy</title><style>p{color:red}</style></head><body>
<p>An editor pasted this from a wire service.<p>It has <b>unclosed</b> paragraphs, <a href="javascript:alert(1)">a bad link</a>,
<img src="https://images.example/x.jpg"> an image without alt and <script>alert(1)</script> a script.
<ul><li>One<li>Two</ul><h1>A second h1</h1><table><tr><td>cell</table></body></html>`
	htmlBody.Images = []*newsroomv1.Image{{Url: s.base + "/media/wire.jpg", Caption: "A wire photo.", Credit: "AP", Width: 1200, Height: 675}}
	s.enrich(htmlBody, 1)
	text := fixture.Article(s.base, 2, fixture.SeedPublished.Add(-2*time.Hour))
	text.BodyFormat = newsroomv1.BodyFormat_BODY_FORMAT_TEXT
	text.Body = "First paragraph.\nWith a line break.\n\nSecond paragraph <not a tag> & ampersand."
	s.enrich(text, 1)
	s.enrich(fixture.Article(s.base, 3, fixture.SeedPublished.Add(-3*time.Hour)), 1)
	s.enrich(fixture.Article(s.base, 4, fixture.SeedPublished.Add(-4*time.Hour)), 1)
	s.retract("story-00004", 2, "The story could not be verified.")
	pages := map[string]string{
		"seed-article":    "/articles/" + fixture.SeedID,
		"spanish-article": "/articles/" + fixture.SeedSpanishID,
		"html-article":    "/articles/story-00001",
		"text-article":    "/articles/story-00002",
		"no-photo":        "/articles/story-00003",
		"home":            "/",
		"section":         "/sections/technology",
		"tag":             "/tags/parler",
		"author":          "/authors/emmanuel-alejandro-rondon",
		"gone":            "/articles/story-00004",
	}
	return s, pages
}

// TestPublicationValidates is acceptance points 1, 2 and 4: the pages pass
// the Nu Html Checker and axe-core in headless Chromium, their structured
// data passes structured-data-testing-tool's Google, Twitter and Facebook
// presets, and a screenshot of the seed article is kept for people to see.
func TestPublicationValidates(t *testing.T) {
	vnu := testtool.Find(t, vnuTool)
	sdtt := testtool.Find(t, sdttTool)
	chromium := testtool.Find(t, chromiumTool)
	axe := testtool.Find(t, axeTool)

	s, pages := publication(t)
	dir := t.TempDir()
	files := map[string]string{}
	for name, path := range pages {
		res, body := s.get(path)
		want := 200
		if name == "gone" {
			want = 410
		}
		if res.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
		f := filepath.Join(dir, name+".html")
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}

	t.Run("nu-html-checker", func(t *testing.T) {
		// The three checkers are separate processes: let them overlap.
		t.Parallel()
		// One run for every page: the JVM takes seconds to start.
		args := []string{"--errors-only", "--format", "json"}
		for _, f := range files {
			args = append(args, f)
		}
		out, err := exec.Command(vnu, args...).CombinedOutput()
		var report struct {
			Messages []struct {
				Type, URL, Message string
				LastLine           int
				Extract            string
			}
		}
		if jerr := json.Unmarshal(out, &report); jerr != nil {
			t.Fatalf("vnu: %v (%v)\n%s", jerr, err, out)
		}
		for _, m := range report.Messages {
			t.Errorf("%s:%d: %s: %s\n\t%s", filepath.Base(m.URL), m.LastLine, m.Type, m.Message, m.Extract)
		}
		if err != nil && len(report.Messages) == 0 {
			t.Fatalf("vnu failed without messages: %v\n%s", err, out)
		}
	})

	t.Run("structured-data", func(t *testing.T) {
		// The three checkers are separate processes: let them overlap.
		t.Parallel()
		for _, name := range []string{"seed-article", "spanish-article", "html-article", "no-photo", "home", "section", "tag", "author"} {
			out, err := exec.Command(sdtt, "--file", files[name], "--presets", "Google,Twitter,Facebook").CombinedOutput()
			if err != nil {
				t.Errorf("%s: structured-data-testing-tool failed: %v\n%s", name, err, out)
				continue
			}
			// A page without the markup would pass vacuously: make sure
			// the groups that matter ran.
			wants := []string{"Twitter - 100%", "Facebook - 100%"}
			if strings.HasSuffix(name, "article") || name == "no-photo" {
				wants = append(wants, "Google > NewsArticle > #0 (jsonld) - 100%")
			}
			for _, w := range wants {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s: structured-data-testing-tool did not report %q\n%s", name, w, out)
				}
			}
		}
	})

	t.Run("chromium", func(t *testing.T) {
		// The three checkers are separate processes: let them overlap.
		t.Parallel()
		axeJS, err := os.ReadFile(axe)
		if err != nil {
			t.Fatal(err)
		}
		ctx := browser(t, chromium)
		for _, name := range []string{"seed-article", "spanish-article", "html-article", "text-article", "no-photo", "home", "section", "tag", "author", "gone"} {
			violations := axeRun(t, ctx, s.base+pages[name], string(axeJS))
			for _, v := range violations {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s: axe %s violation %s: %s (%d nodes, e.g. %s)", name, v.Impact, v.ID, v.Help, len(v.Nodes), v.first())
				} else {
					t.Logf("%s: axe %s violation %s: %s", name, v.Impact, v.ID, v.Help)
				}
			}
		}
		screenshot(t, ctx, s.base+pages["seed-article"])
	})
}

// browser starts headless Chromium with a fresh profile and nothing that
// talks to the network on its own.
func browser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser for the lifetime of its context:
	// no timeout on that one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) first() string {
	if len(v.Nodes) == 0 {
		return ""
	}
	return v.Nodes[0].HTML
}

// axeRun loads url, injects axe-core and returns its violations.
func axeRun(t *testing.T, ctx context.Context, url, axeJS string) []axeViolation {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitReady("body"),
		chromedp.Evaluate[chromedp.Void](axeJS),
	)
	var raw string
	if err == nil {
		raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	}
	if err != nil {
		t.Fatalf("axe on %s: %v", url, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe on %s: %v\n%s", url, err, raw)
	}
	return vs
}

// screenshot keeps a full-page image of the seed article at
// artifacts/screenshots/seed-article.png under the repository root.
func screenshot(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(url),
		chromedp.WaitVisible("figure.lead img"),
		// The photo has loaded and been laid out, not only its box.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			for {
				ok, err := chromedp.Evaluate[bool](`document.querySelector("figure.lead img").complete && document.querySelector("figure.lead img").naturalWidth > 0`)(ctx, t)
				if err != nil || ok {
					return err
				}
				time.Sleep(50 * time.Millisecond)
			}
		}),
	)
	var png []byte
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "artifacts", "screenshots", "seed-article.png")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the seed article: %s", out)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/newsroom/newsroom/pkg/testtool"
)

// TestSeedArticleThroughThePipeline follows the seed article as a desk
// would publish it: the messy paste with the photo the editor uploaded,
// through the real ingest, enrichment and rendering. The published page
// must carry what the fixture's README expects (headline, byline, no site
// chrome, subheads, the photo's caption and EFE credit), pass the Nu Html
// Checker, and show the photo with its caption in headless Chromium; its
// screenshot is kept at artifacts/screenshots/seed-article-pipeline.png.
func TestSeedArticleThroughThePipeline(t *testing.T) {
	vnu := testtool.Find(t, testtool.Vnu)
	chromium := testtool.Find(t, testtool.Chromium)

	photo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		img := image.NewRGBA(image.Rect(0, 0, 1200, 800))
		for y := range 800 {
			for x := range 1200 {
				img.Set(x, y, color.RGBA{uint8(40 + y/8), uint8(60 + x/10), 150, 255})
			}
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_ = jpeg.Encode(w, img, nil)
	}))
	defer photo.Close()

	srv, _ := testPipeline(t)
	seed := seedArticle(t)
	body, _ := json.Marshal(map[string]any{
		"headline":    "Parler Sues Amazon For Taking Down Its Servers",
		"body":        string(seed),
		"body_format": "text",
		"section":     "technology",
		"images":      []map[string]any{{"url": photo.URL + "/parler.jpg", "width": 1200, "height": 800}},
	})
	sub := post(t, srv, string(body))
	waitUntil(t, 20*time.Second, "the seed article through all four stages", func() bool { return complete(t, sub.StatusURL) })

	resp, err := http.Get(sub.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page: %s", resp.Status)
	}
	html := string(page)
	for _, want := range []string{
		"<h1", "Parler Sues Amazon For Taking Down Its Servers",
		"Emmanuel Alejandro Rondón", "El American",
		"<h2", "Parler’s banning by Apple, Amazon and Google", "Beyond Justice",
		"<figcaption", "Parler will engage in a legal battle against Amazon", "EFE",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The paste's chrome must not reach the article (the page's own
	// skip link to #main is the site's, not the paste's).
	article := html
	if i := strings.Index(html, "<article"); i >= 0 {
		article = html[i:]
	}
	for _, chrome := range []string{"fbpx", "Skip to content", "Leave a Reply", "Total 0 Share", "[Leer en español]", "Parler, Amazon, demanda"} {
		if strings.Contains(article, chrome) {
			t.Errorf("site chrome %q reached the article", chrome)
		}
	}

	pagePath := filepath.Join(t.TempDir(), "seed-article.html")
	if err := os.WriteFile(pagePath, page, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(vnu, "--errors-only", "--format", "json", pagePath).CombinedOutput()
	var report struct {
		Messages []struct {
			Type, Message string
			LastLine      int
			Extract       string
		}
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("vnu: %v\n%s", err, out)
	}
	for _, m := range report.Messages {
		t.Errorf("Nu Html Checker, line %d: %s: %s\n\t%s", m.LastLine, m.Type, m.Message, m.Extract)
	}

	shot := browserShot(t, chromium, sub.URL)
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(root, "artifacts", "screenshots", "seed-article-pipeline.png")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// browserShot loads url in headless Chromium, checks the lead photo
// loaded and its caption is visible, and returns a full-page screenshot.
func browserShot(t *testing.T, chromium, url string) []byte {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelRun := context.WithTimeout(bctx, time.Minute)
	defer cancelRun()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("figure img"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for {
				ok, err := chromedp.Evaluate[bool](`(() => { const i = document.querySelector("figure img"); return i.complete && i.naturalWidth > 0 })()`)(ctx, tg)
				if err != nil || ok {
					return err
				}
				time.Sleep(50 * time.Millisecond)
			}
		}),
	)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	caption, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(() => { const c = document.querySelector("figure figcaption"); const r = c.getBoundingClientRect(); return r.height > 0 && getComputedStyle(c).visibility === "visible" ? c.innerText : "" })()`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if !strings.Contains(caption, "legal battle against Amazon") || !strings.Contains(strings.ToUpper(caption), "EFE") {
		t.Errorf("the photo's visible caption is %q, want the caption and its EFE credit", caption)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("screenshot is not a PNG")
	}
	return png
}

package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/rendering"
)

// archiveSpan is how far back the archive's articles go: a year of a
// newsroom's output, as the site being compared would hold.
const archiveSpan = 365 * 24 * time.Hour

// archiveTime is when archive article i of n was published: evenly over
// the year before end.
func archiveTime(i, n int, end time.Time) time.Time {
	return end.Add(-archiveSpan + time.Duration(i+1)*archiveSpan/time.Duration(n)).Truncate(time.Second)
}

// writeArchive stores articles 0..n-1 in a new data directory's NEWS
// stream as ingest would have accepted them over the past year (their
// ArticleSubmitted events, times spread out), and writes the same
// articles, as enrichment hands them to rendering, as Hugo content: one
// Markdown file with front matter each.
func (b *Bench) writeArchive(ctx context.Context, dataDir, hugoDir, base string, n int, end time.Time) error {
	ns, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dataDir, "nats")})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, js, err := bus.Connect("", "archive", natsembed.ConnectOption(ns))
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return err
	}
	if err := writeHugoSite(hugoDir, base); err != nil {
		return err
	}
	for i := range n {
		a := b.corpus.Article(i)
		ev := Submitted(a, base, archiveTime(i, n, end))
		data, err := proto.Marshal(ev)
		if err != nil {
			return err
		}
		m := nats.NewMsg(bus.Subject(bus.EventSubmitted, ev.ArticleId))
		m.Data = data
		m.Header.Set(bus.HeaderContentType, bus.ContentTypeFor(ev))
		m.Header.Set(bus.HeaderAcceptedAt, ev.AcceptedAt.AsTime().Format(time.RFC3339Nano))
		m.Header.Set(jetstream.MsgIDHeader, ev.EventId)
		if err := publishAsyncMsg(ctx, js, m); err != nil {
			return fmt.Errorf("archive %s: %w", ev.ArticleId, err)
		}
		// Hugo gets the article as rendering renders it: enriched, with
		// the entity and topic tags enrichment adds, so both build the
		// same listings.
		enriched, err := enrich.Article(proto.Clone(ev.Article).(*newsroomv1.Article))
		if err != nil {
			return fmt.Errorf("enrich %s: %w", ev.ArticleId, err)
		}
		enriched.CreatedAt = ev.Article.CreatedAt
		if err := writeHugoContent(hugoDir, enriched); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return errors.New("archive: PubAcks missing after 5m")
	}
	return nc.Drain()
}

// hugoConfig makes Hugo build what newsroom's site holds: every article's
// page, a home page, a page and an RSS feed per section, tag and author
// (30 newest each, as newsroom's listings), and a sitemap.
const hugoConfig = `baseURL = %q
languageCode = "en"
title = "Newsroom"
disableKinds = ["taxonomy"]
enableRobotsTXT = true
[taxonomies]
  tag = "tags"
  author = "authors"
[services.rss]
  limit = 30
[outputs]
  home = ["html", "rss"]
  section = ["html", "rss"]
  term = ["html", "rss"]
  page = ["html"]
`

var hugoLayouts = map[string]string{
	"_default/baseof.html": `<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} – {{ site.Title }}{{ end }}</title>
{{ with .Description }}<meta name="description" content="{{ . }}">{{ end }}
<link rel="canonical" href="{{ .Permalink }}">
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}" title="{{ site.Title }}">{{ end }}
<meta property="og:title" content="{{ .Title }}">
<meta property="og:url" content="{{ .Permalink }}">
<meta property="og:site_name" content="{{ site.Title }}">
</head>
<body>
<header><a href="{{ site.Home.Permalink }}">{{ site.Title }}</a>
<nav>{{ range site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}</nav></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>{{ site.Title }}</footer>
</body>
</html>
`,
	"_default/single.html": `{{ define "main" }}<article>
<p class="section"><a href="{{ .CurrentSection.RelPermalink }}">{{ .CurrentSection.Title }}</a></p>
<h1>{{ .Title }}</h1>
{{ with .Description }}<p class="dek">{{ . }}</p>{{ end }}
<p class="byline">By {{ range $i, $a := .GetTerms "authors" }}{{ if $i }}, {{ end }}<a href="{{ $a.RelPermalink }}">{{ $a.LinkTitle }}</a>{{ end }}
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "January 2, 2006" }}</time></p>
{{ .Content }}
<ul class="tags">{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<script type="application/ld+json">{{ dict "@context" "https://schema.org" "@type" "NewsArticle" "headline" .Title "description" .Description "datePublished" (.Date.Format "2006-01-02T15:04:05Z07:00") "url" .Permalink | jsonify | safeJS }}</script>
</article>{{ end }}
`,
	"_default/list.html": `{{ define "main" }}<h1>{{ if .IsHome }}Latest{{ else }}{{ .Title }}{{ end }}</h1>
<ol>{{ range first 30 .Pages.ByDate.Reverse }}<li lang="en"><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ with .Description }}<p>{{ . }}</p>{{ end }}<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "January 2, 2006" }}</time></li>
{{ end }}</ol>{{ end }}
`,
}

func writeHugoSite(dir, base string) error {
	if err := os.MkdirAll(filepath.Join(dir, "content"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hugo.toml"), []byte(fmt.Sprintf(hugoConfig, base+"/")), 0o644); err != nil {
		return err
	}
	for name, body := range hugoLayouts {
		p := filepath.Join(dir, "layouts", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeHugoContent writes a as content/<section>/<id>.md, at the same URL
// newsroom publishes it: /articles/<id>/.
func writeHugoContent(dir string, a *newsroomv1.Article) error {
	var fm strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&fm, "---\ntitle: %s\ndescription: %s\ndate: %s\nurl: %s\n", q(a.Headline), q(a.Dek),
		a.CreatedAt.AsTime().UTC().Format(time.RFC3339), q("/articles/"+a.Id+"/"))
	list := func(key string, vs []string) {
		if len(vs) == 0 {
			return
		}
		quoted := make([]string, len(vs))
		for i, v := range vs {
			quoted[i] = q(v)
		}
		fmt.Fprintf(&fm, "%s: [%s]\n", key, strings.Join(quoted, ", "))
	}
	var tags, authors []string
	for _, t := range a.Tags {
		tags = append(tags, t.Name)
	}
	for _, by := range a.Bylines {
		authors = append(authors, by.Name)
	}
	list("tags", tags)
	list("authors", authors)
	fm.WriteString("---\n\n")
	fm.WriteString(a.Body)
	fm.WriteString("\n")
	p := filepath.Join(dir, "content", slug.Make(a.Section, 40), a.Id+".md")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(fm.String()), 0o644)
}

// hugoBuild builds the site into a fresh directory and returns how long
// the hugo process took and how many files it wrote.
func (b *Bench) hugoBuild(ctx context.Context, dir string) (time.Duration, int, error) {
	out := filepath.Join(dir, "public")
	if err := os.RemoveAll(out); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, b.opts.Hugo, "--source", dir, "--destination", out,
		"--cacheDir", filepath.Join(dir, ".cache"), "--quiet", "--noBuildLock")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("hugo: %w\n%s", err, tailString(stderr.String(), 2000))
	}
	took := time.Since(start)
	files := 0
	err := filepath.WalkDir(out, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	return took, files, err
}

// child is a newsroom command run as its own process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
	base string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// childEnv is the environment of a child newsroom: only what it needs,
// not the benchmark's own OTEL_* or NEWSROOM_* settings.
func childEnv(dataDir, addr string) []string {
	env := []string{
		"NEWSROOM_DATA_DIR=" + dataDir,
		"NEWSROOM_HTTP_ADDR=" + addr,
		"NEWSROOM_PUBLIC_URL=http://" + addr,
		"NEWSROOM_API_TOKENS=editor:" + benchToken,
		"NEWSROOM_API_RATE=-1",
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServe runs "newsroom serve" on dataDir and waits until it serves.
func (b *Bench) startServe(name, dataDir, addr string) (*child, error) {
	cmd := exec.Command(b.opts.Self, "serve")
	cmd.Env = childEnv(dataDir, addr)
	c := &child{cmd: cmd, done: make(chan struct{}), log: &lockedBuffer{}, base: "http://" + addr}
	cmd.Stderr = c.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		b.keepLog(name, c.log.String())
		close(c.done)
	}()
	running := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			c.log.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "newsroom is running") {
				once.Do(func() { close(running) })
			}
		}
	}()
	select {
	case <-running:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("newsroom serve exited during start:\n%s", tailString(c.log.String(), 2000))
	case <-time.After(2 * time.Minute):
		c.kill()
		return nil, fmt.Errorf("newsroom serve did not start within 2m:\n%s", tailString(c.log.String(), 2000))
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop asks for a graceful shutdown, as an operator would before rerender.
func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(2 * time.Minute):
		c.kill()
		return errors.New("newsroom serve did not stop within 2m of SIGTERM")
	}
}

// memory reads the process's resident set now and at its peak, in MiB.
func (c *child) memory() (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", line, err)
		}
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			peak = kb / 1024
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc status")
	}
	return rss, peak, nil
}

var metricLine = regexp.MustCompile(`^([a-z_]+)\{([^}]*)\} ([0-9.e+]+)$`)

// messages reads the child's count of messages service settled with
// outcome for event, from its /metrics.
func (c *child) messages(ctx context.Context, hc *http.Client, service, event, outcome string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	want := []string{`event="` + event + `"`, `outcome="` + outcome + `"`, `service="` + service + `"`}
	for sc.Scan() {
		m := metricLine.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != "newsroom_messages_total" {
			continue
		}
		labels := strings.Split(m[2], ",")
		if !containsAll(labels, want) {
			continue
		}
		return strconv.ParseFloat(m[3], 64)
	}
	return 0, sc.Err()
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// rerender runs "newsroom rerender" on dataDir (serve stopped) and
// returns how long the process took.
func (b *Bench) rerender(ctx context.Context, dataDir, addr string) (time.Duration, string, error) {
	cmd := exec.CommandContext(ctx, b.opts.Self, append([]string{"rerender"}, b.opts.RerenderArgs...)...)
	cmd.Env = childEnv(dataDir, addr)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, "", fmt.Errorf("newsroom rerender: %w\n%s", err, tailString(out.String(), 2000))
	}
	took := time.Since(start)
	b.keepLog("rerender", out.String())
	line := ""
	for l := range strings.SplitSeq(out.String(), "\n") {
		if strings.HasPrefix(l, "rerendered the site") {
			line = l
		}
	}
	return took, line, nil
}

// siteObjects counts the objects of the site bucket in dataDir.
func siteObjects(ctx context.Context, dataDir string) (int, error) {
	ns, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dataDir, "nats")})
	if err != nil {
		return 0, err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, js, err := bus.Connect("", "count", natsembed.ConnectOption(ns))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	obj, err := js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		return 0, err
	}
	infos, err := obj.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, i := range infos {
		if !strings.HasPrefix(i.Name, "_") {
			n++
		}
	}
	return n, nil
}

// keepLog writes a child's output to Options.Logs, if set.
func (b *Bench) keepLog(name, text string) {
	if b.opts.Logs == "" {
		return
	}
	if err := os.MkdirAll(b.opts.Logs, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(b.opts.Logs, name+".log"), []byte(text), 0o644)
	}
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

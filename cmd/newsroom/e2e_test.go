package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/jaegertest"
	"github.com/newsroom/newsroom/pkg/testtool"
)

// binary is the newsroom command built once for the end-to-end tests, with
// the race detector when the tests run with it.
var binary struct {
	once sync.Once
	path string
	err  error
}

func newsroomBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "newsroom-e2e-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "newsroom")
		args := []string{"build", "-o", binary.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// proc is a running all-in-one.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	baseURL string
	token   string
	out     *syncBuffer
	done    chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startNewsroom runs the binary as a new user would, with only the data
// dir and address set (plus extra environment), and waits until it serves.
func startNewsroom(t *testing.T, dataDir, addr string, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(newsroomBinary(t))
	cmd.Env = append(os.Environ(), "NEWSROOM_DATA_DIR="+dataDir, "NEWSROOM_HTTP_ADDR="+addr)
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, baseURL: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("newsroom log:\n%s", tail(p.out.String(), 4000))
		}
	})
	// The token line, if any, comes before the running line.
	running := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		token := ""
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if tok, ok := strings.CutPrefix(line, "API token (kept in "); ok {
				_, token, _ = strings.Cut(tok, "): ")
			}
			if strings.HasPrefix(line, "newsroom is running") {
				running <- token
			}
		}
	}()
	select {
	case p.token = <-running:
	case <-p.done:
		t.Fatalf("newsroom exited during start:\n%s", p.out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("newsroom did not start within 60s:\n%s", p.out.String())
	}
	if p.token == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "api-token"))
		if err != nil {
			t.Fatal(err)
		}
		p.token = strings.TrimSpace(string(b))
	}
	return p
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// stop asks for a graceful shutdown and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Errorf("newsroom did not stop within 60s of SIGTERM")
		p.kill()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type submitted struct {
	ID        string `json:"id"`
	Revision  int64  `json:"revision"`
	StatusURL string `json:"status_url"`
	URL       string `json:"url"`
}

type status struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	URL      string `json:"url"`
	Stages   map[string]*time.Time
}

func (p *proc) submit(ctx context.Context, contentType string, body []byte) (int, submitted, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+"/v1/articles", bytes.NewReader(body))
	if err != nil {
		return 0, submitted{}, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, submitted{}, err
	}
	defer resp.Body.Close()
	var s submitted
	if resp.StatusCode == http.StatusAccepted {
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return resp.StatusCode, s, fmt.Errorf("202 body: %w", err)
		}
	}
	return resp.StatusCode, s, nil
}

func (p *proc) status(t *testing.T, url string) (status, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return status{}, false
	}
	var s status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("status body: %v", err)
	}
	return s, true
}

var stageNames = []string{"submitted", "enriched", "rendered", "shared"}

func (s status) complete() bool {
	for _, st := range stageNames {
		if s.Stages[st] == nil {
			return false
		}
	}
	return true
}

func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", jaegertest.FreePorts(t, 1)[0])
}

func seedArticle(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewUserFlow is acceptance 1 and 2 of the walking skeleton: the
// binary as a new user runs it, the seed article submitted over HTTP, all
// four stages, the page, and one trace across four services in a real
// Jaeger.
func TestNewUserFlow(t *testing.T) {
	j := jaegertest.Start(t)
	p := startNewsroom(t, t.TempDir(), freeAddr(t),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+j.OTLPEndpoint, "OTEL_BSP_SCHEDULE_DELAY=100")

	code, sub, err := p.submit(context.Background(), "text/plain; charset=utf-8", seedArticle(t))
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, err)
	}
	if sub.ID == "" || sub.Revision != 1 || sub.StatusURL == "" || !strings.HasPrefix(sub.URL, p.baseURL+"/") {
		t.Fatalf("202 body: %+v", sub)
	}

	start := time.Now()
	var st status
	waitUntil(t, 30*time.Second, "all four stages", func() bool {
		var ok bool
		st, ok = p.status(t, sub.StatusURL)
		return ok && st.complete()
	})
	t.Logf("all four stages %v after the 202 (the issue asks for under 2s)", time.Since(start).Round(time.Millisecond))
	if st.ID != sub.ID || st.Revision != 1 || st.URL != sub.URL {
		t.Errorf("status = %+v, want id %s revision 1 url %s", st, sub.ID, sub.URL)
	}

	resp, err := http.Get(sub.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !regexp.MustCompile(`<h1[^>]*>\s*Parler Sues Amazon For Taking Down Its Servers\s*</h1>`).Match(page) {
		t.Errorf("page does not show the headline as its h1:\n%s", tail(string(page), 2000))
	}

	assertOneTrace(t, j, sub.ID)
}

// assertOneTrace finds the trace of the article's submission and checks
// every stage is in it, under its own service name, with the right parent.
func assertOneTrace(t *testing.T, j *jaegertest.Jaeger, articleID string) {
	t.Helper()
	type want struct{ service, name, parentService, parentName string }
	wants := []want{
		{"ingest", "POST /v1/articles", "", ""},
		{"ingest", "publish news.article.submitted.*", "ingest", "POST /v1/articles"},
		{"enrichment", "process news.article.submitted.*", "ingest", "publish news.article.submitted.*"},
		{"enrichment", "publish news.article.enriched.*", "enrichment", "process news.article.submitted.*"},
		{"rendering", "process news.article.enriched.*", "enrichment", "publish news.article.enriched.*"},
		{"rendering", "publish news.article.rendered.*", "rendering", "process news.article.enriched.*"},
		{"socialshare", "process news.article.rendered.*", "rendering", "publish news.article.rendered.*"},
		{"socialshare", "publish news.article.shared.*", "socialshare", "process news.article.rendered.*"},
		{"ingest", "process news.article.shared.*", "socialshare", "publish news.article.shared.*"},
	}
	for _, n := range []string{"x", "mastodon", "bluesky", "linkedin", "facebook", "threads"} {
		wants = append(wants, want{"socialshare", "share " + n, "socialshare", "process news.article.rendered.*"})
	}

	var tr jaegertest.Trace
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if found := func() bool {
			traces, err := j.Traces(context.Background(), "ingest")
			if err != nil {
				missing = []string{err.Error()}
				return false
			}
			tr = jaegertest.Trace{}
			for _, c := range traces {
				for _, s := range c.Spans {
					if s.OperationName == "publish news.article.submitted.*" && s.Tag("newsroom.article_id") == articleID {
						tr = c
					}
				}
			}
			if tr.TraceID == "" {
				missing = []string{"the trace"}
				return false
			}
			if full, err := j.Trace(context.Background(), tr.TraceID); err == nil {
				tr = full
			}
			missing = nil
			for _, w := range wants {
				if _, ok := find(tr, w.service, w.name); !ok {
					missing = append(missing, w.service+": "+w.name)
				}
			}
			return len(missing) == 0
		}(); found || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("trace %s lacks %v", tr.TraceID, missing)
	}
	services := map[string]bool{}
	for _, s := range tr.Spans {
		services[tr.Service(s)] = true
		if s.TraceID != tr.TraceID {
			t.Errorf("span %s in trace %s", s.OperationName, s.TraceID)
		}
	}
	for _, svc := range []string{"ingest", "enrichment", "rendering", "socialshare"} {
		if !services[svc] {
			t.Errorf("no span from service %s", svc)
		}
	}
	for _, w := range wants {
		s, _ := find(tr, w.service, w.name)
		if w.parentName == "" {
			if s.Parent() != "" {
				t.Errorf("%s has a parent; want it to be the root", w.name)
			}
			continue
		}
		parent, ok := find(tr, w.parentService, w.parentName)
		if !ok || s.Parent() != parent.SpanID {
			t.Errorf("%s/%s: parent %s, want %s/%s (%s)", w.service, w.name, s.Parent(), w.parentService, w.parentName, parent.SpanID)
		}
	}
}

func find(tr jaegertest.Trace, service, name string) (jaegertest.Span, bool) {
	for _, s := range tr.Spans {
		if s.OperationName == name && tr.Service(s) == service {
			return s, true
		}
	}
	return jaegertest.Span{}, false
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

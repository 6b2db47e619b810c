package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	"github.com/newsroom/newsroom/pkg/testtool"
	"github.com/newsroom/newsroom/services/ingest"
)

const cliToken = "cli-test-token-0123456789"

// editorAPI runs ingest's API on a real nats-server and returns its URL.
func editorAPI(t *testing.T) string {
	t.Helper()
	s := natstest.Server(t, "")
	nc, js := natstest.Connect(t, s, ingest.Name)
	tokens, err := apiauth.ParseTokens("copydesk:" + cliToken)
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingest.New(context.Background(), ingest.Deps{JS: js, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		ingest.Config{PublicURL: "https://news.example.com", Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- ing.Run(ctx, nc, bus.RunOptions{Ready: ready}) }()
	<-ready
	srv := httptest.NewServer(ing.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
	})
	return srv.URL
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, args ...string) cliRun {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return cliRun{code, out.String(), errOut.String()}
}

func TestEditorCLI(t *testing.T) {
	api := editorAPI(t)
	env := map[string]string{"NEWSROOM_API_URL": api, "NEWSROOM_API_TOKEN": cliToken}
	seed := filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt")

	first := runCLI(t, env, "submit", seed)
	if first.code != 0 {
		t.Fatalf("submit: %d %s", first.code, first.stderr)
	}
	m := regexp.MustCompile(`^(\S+) revision 1: processing`).FindStringSubmatch(first.stdout)
	if m == nil {
		t.Fatalf("submit printed %q", first.stdout)
	}
	id := m[1]
	// The same submit again is the same article, not a second one.
	if again := runCLI(t, env, "submit", seed); again.code != 0 || again.stdout != first.stdout {
		t.Fatalf("second submit: %d %q", again.code, again.stdout)
	}

	// A faulty file is refused here, naming its fields, and not sent.
	bad := filepath.Join(t.TempDir(), "story.json")
	if err := os.WriteFile(bad, []byte(`{"headline": "", "body": "b", "images": [{"url": "ftp://x"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, env, "submit", bad); r.code != 1 || !strings.Contains(r.stderr, "/headline") || !strings.Contains(r.stderr, "/images/0/url") {
		t.Fatalf("bad file: %d %q", r.code, r.stderr)
	}

	rev2 := filepath.Join(t.TempDir(), "revised.md")
	if err := os.WriteFile(rev2, []byte("# Parler sues Amazon\n\nCorrected text.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, env, "submit", "--id", id, "--if-match", "1", rev2); r.code != 0 || !strings.HasPrefix(r.stdout, id+" revision 2: processing") {
		t.Fatalf("revision 2: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The API's refusal is printed in full.
	if r := runCLI(t, env, "submit", rev2, "--id", id, "--if-match", "1", "--key", "other"); r.code != 1 || !strings.Contains(r.stderr, "If-Match") {
		t.Fatalf("stale revision: %d %q", r.code, r.stderr)
	}

	st := runCLI(t, env, "status", id)
	if st.code != 0 || !strings.Contains(st.stdout, id+"  PROCESSING  revision 2") || !strings.Contains(st.stdout, "revision 1 by copydesk") {
		t.Fatalf("status: %d %q %q", st.code, st.stdout, st.stderr)
	}

	if r := runCLI(t, env, "retract", id); r.code != 2 {
		t.Fatalf("retract without a reason: %d", r.code)
	}
	if r := runCLI(t, env, "retract", id, "--reason", "Legal: unverified court order"); r.code != 0 || !strings.Contains(r.stdout, "retracted at revision 2") {
		t.Fatalf("retract: %d %q %q", r.code, r.stdout, r.stderr)
	}
	st = runCLI(t, env, "status", "--wait", "5s", id)
	if !strings.Contains(st.stdout, "RETRACTED") || !strings.Contains(st.stdout, "Legal: unverified court order") {
		t.Fatalf("status after retraction: %q", st.stdout)
	}

	// The list, as the API answers it once the status view holds the article.
	deadline := time.Now().Add(15 * time.Second)
	for {
		l := runCLI(t, env, "list", "--state", "retracted")
		if l.code != 0 {
			t.Fatalf("list: %d %q", l.code, l.stderr)
		}
		if lines := strings.Split(strings.TrimSpace(l.stdout), "\n"); len(lines) == 2 && strings.HasPrefix(lines[0], "ID") &&
			strings.HasPrefix(lines[1], id+" ") && strings.Contains(lines[1], " retracted ") && strings.Contains(lines[1], " 2 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list --state retracted: %q", l.stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if l := runCLI(t, env, "list", "--problems"); l.code != 0 || strings.TrimSpace(l.stdout) != "no articles" {
		t.Fatalf("list --problems: %d %q %q", l.code, l.stdout, l.stderr)
	}
	if l := runCLI(t, env, "list", "--state", "lost"); l.code != 1 || !strings.Contains(l.stderr, "state") {
		t.Fatalf("list --state lost: %d %q", l.code, l.stderr)
	}

	// Without NEWSROOM_API_TOKEN, the all-in-one's token file is used.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tokenFile), []byte(cliToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, map[string]string{"NEWSROOM_API_URL": api, "NEWSROOM_DATA_DIR": dir}, "status", "--json", id); r.code != 0 ||
		!strings.Contains(r.stdout, `"state":"retracted"`) {
		t.Fatalf("token from the data dir: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, map[string]string{"NEWSROOM_API_URL": api, "NEWSROOM_DATA_DIR": t.TempDir()}, "status", id); r.code != 1 ||
		!strings.Contains(r.stderr, "NEWSROOM_API_TOKEN") {
		t.Fatalf("no token: %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, map[string]string{"NEWSROOM_API_URL": api, "NEWSROOM_API_TOKEN": "wrong-token-0123456789"}, "status", id); r.code != 1 ||
		!strings.Contains(r.stderr, "Unauthorized") {
		t.Fatalf("wrong token: %d %q", r.code, r.stderr)
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/natstest"
)

// TestRevisionReplacesPageAndRetraction runs the four services in one
// process on a real nats-server and drives them with the editor's CLI:
// revision 2 replaces the page of revision 1, and a retracted article's
// status says so.
func TestRevisionReplacesPageAndRetraction(t *testing.T) {
	srv := natstest.Server(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	token := "e2e-token-0123456789abcdef"
	env := map[string]string{"NEWSROOM_PUBLIC_URL": base, "NEWSROOM_API_TOKENS": "copydesk:" + token, "NEWSROOM_LOG_LEVEL": "error"}
	cfg := parseConfig(func(k string) string { return env[k] })
	tokens, err := apiauth.ParseTokens(cfg.tokens)
	if err != nil {
		t.Fatal(err)
	}
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		return bus.Connect("", name, natsembed.ConnectOption(srv))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := startPipeline(ctx, cfg, tokens, connect, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		p.close()
	})

	cliEnv := map[string]string{"NEWSROOM_API_URL": base, "NEWSROOM_API_TOKEN": token}
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	page := func(id string) (int, string) {
		resp, err := http.Get(base + "/articles/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitPage := func(id, want string) string {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := page(id)
			if code == http.StatusOK && strings.Contains(body, want) {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("page of %s never showed %q: %d %.300s", id, want, code, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	r := runCLI(t, cliEnv, "submit", write("v1.json", `{"headline": "Council approves the first budget", "body": "The council met on Monday and approved the budget.", "bylines": ["Ana Ruiz"]}`))
	if r.code != 0 {
		t.Fatalf("submit: %s", r.stderr)
	}
	id := regexp.MustCompile(`^\S+`).FindString(r.stdout)
	waitPage(id, "Council approves the first budget")

	r = runCLI(t, cliEnv, "submit", "--id", id, write("v2.json", `{"headline": "Council approves the amended budget", "body": "The council met on Monday and approved an amended budget.", "bylines": ["Ana Ruiz"], "correction": "An earlier version gave the wrong budget."}`))
	if r.code != 0 || !strings.Contains(r.stdout, "revision 2") {
		t.Fatalf("revision 2: %q %q", r.stdout, r.stderr)
	}
	body := waitPage(id, "Council approves the amended budget")
	if strings.Contains(body, "the first budget") {
		t.Fatal("revision 2's page still shows revision 1")
	}
	st := runCLI(t, cliEnv, "status", "--wait", "30s", id)
	if !strings.Contains(st.stdout, "revision 2") || !strings.Contains(st.stdout, "correction: An earlier version gave the wrong budget.") {
		t.Fatalf("status: %s", st.stdout)
	}

	if r := runCLI(t, cliEnv, "retract", id, "--reason", "Published in error"); r.code != 0 {
		t.Fatalf("retract: %s", r.stderr)
	}
	st = runCLI(t, cliEnv, "status", "--json", id)
	if !strings.Contains(st.stdout, `"state":"retracted"`) || !strings.Contains(st.stdout, `"reason":"Published in error"`) {
		t.Fatalf("retracted status: %s", st.stdout)
	}
	// socialshare withdraws the posts (dry runs here: nothing was up), and
	// the status says so.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st = runCLI(t, cliEnv, "status", id)
		_, current, _ := strings.Cut(st.stdout, "\nrevision 2 by")
		if strings.Contains(current, "withdrawn ") && strings.Count(current, ": deleted") == 6 && !strings.Contains(current, "dry_run") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status does not show the posts withdrawn: %s", st.stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, body := page(id)
		if code != http.StatusOK || !strings.Contains(body, "amended budget") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retracted page is still served: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

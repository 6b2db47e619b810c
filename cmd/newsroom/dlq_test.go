package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
)

const testToken = "editor:test-token-0123456789"

// testPipeline composes the all-in-one in the test process against a real
// embedded nats-server, and serves its handler.
func testPipeline(t *testing.T) (*httptest.Server, jetstream.JetStream) {
	t.Helper()
	ns := natstest.Server(t, "")
	tokens, err := apiauth.ParseTokens(testToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(func(string) string { return "" })
	srv := httptest.NewUnstartedServer(nil)
	cfg.publicURL = "http://" + srv.Listener.Addr().String()
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) { return bus.Connect(ns.ClientURL(), name) }
	ctx, cancel := context.WithCancel(context.Background())
	p, err := startPipeline(ctx, cfg, tokens, connect, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.handler()
	srv.Start()
	done := make(chan error, 1)
	go func() { done <- p.runConsumers(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
		srv.Close()
		p.close()
	})
	_, js := natstest.Connect(t, ns, "test")
	return srv, js
}

func post(t *testing.T, srv *httptest.Server, body string) submitted {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/articles", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(testToken, "editor:"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %s %s", resp.Status, b)
	}
	var s submitted
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func complete(t *testing.T, url string) bool {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(testToken, "editor:"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var s status
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&s) == nil && s.complete()
}

// TestMalformedSubmissionIsDeadLettered is acceptance 4 of the walking
// skeleton: a malformed message on news.article.submitted.* lands on
// news.dlq.enrichment with its reason, and the articles behind it flow.
func TestMalformedSubmissionIsDeadLettered(t *testing.T) {
	srv, js := testPipeline(t)
	ctx := context.Background()
	before := post(t, srv, `{"headline":"Before the poison","body":"Text."}`)
	if _, err := js.Publish(ctx, "news.article.submitted.poison-1", []byte("this is not protobuf \xff\xfe")); err != nil {
		t.Fatal(err)
	}
	behind := []submitted{post(t, srv, `{"headline":"Behind the poison 1","body":"Text."}`),
		post(t, srv, `{"headline":"Behind the poison 2","body":"Text."}`)}

	for _, s := range append(behind, before) {
		waitUntil(t, 20*time.Second, s.ID+" through all four stages", func() bool { return complete(t, s.StatusURL) })
	}
	dlq, err := js.Stream(ctx, bus.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	var m *jetstream.RawStreamMsg
	waitUntil(t, 10*time.Second, "the dead letter", func() bool {
		m, err = dlq.GetLastMsgForSubject(ctx, bus.DLQSubject("enrichment"))
		return err == nil
	})
	if got := m.Header.Get(bus.HeaderDLQSubject); got != "news.article.submitted.poison-1" {
		t.Errorf("dead letter from %q", got)
	}
	if reason := m.Header.Get(bus.HeaderDLQReason); !strings.Contains(reason, "decode") {
		t.Errorf("dead letter reason %q does not say why", reason)
	}
	if !bytes.Equal(m.Data, []byte("this is not protobuf \xff\xfe")) {
		t.Errorf("dead letter body %q is not the original", m.Data)
	}
	// Ingest's status view reads every event and cannot decode the poison
	// either, so it may dead-letter it too; nothing else may be there.
	info, err := dlq.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(bus.HeaderDLQSubject) != "news.article.submitted.poison-1" {
			t.Errorf("unexpected dead letter on %s from %s", m.Subject, m.Header.Get(bus.HeaderDLQSubject))
		}
	}
}

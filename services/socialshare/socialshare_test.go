package socialshare

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/fakes"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func statusOf(ev *newsroomv1.ArticleShared) map[string]*newsroomv1.Share {
	out := map[string]*newsroomv1.Share{}
	for _, s := range ev.Shares {
		out[s.Network] = s
	}
	return out
}

// TestExactlyOnceUnderRedelivery: the rendered event arrives three times
// (JetStream redelivers, rendering publishes again after a crash); every
// network gets one post, and the posts are what the networks accept.
func TestExactlyOnceUnderRedelivery(t *testing.T) {
	h := newHarness(t)
	s := h.service(h.config())
	h.run(s, Name)
	a := testArticle("redelivered")
	ev := h.publishRendered(a, 1)
	shared := h.waitShared(a.Id, 1, 20*time.Second)
	for _, n := range compose.Networks {
		sh := statusOf(shared)[n]
		if sh == nil || sh.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED || sh.RemoteId == "" || sh.Attempts != 1 {
			t.Errorf("%s: %+v", n, sh)
		}
	}
	h.assertOnePostEach(a.Id)

	// The same event again, as a redelivery would hand it over, directly
	// and through the stream with a new message id.
	if _, err := s.Handle(context.Background(), Request{Rendered: ev}); err != nil {
		t.Fatal(err)
	}
	h.publishRendered(a, 1) // deduplicated by Nats-Msg-Id
	ev2 := proto.Clone(ev).(*newsroomv1.ArticleRendered)
	ev2.EventId = "another-id"
	if _, err := s.Handle(context.Background(), Request{Rendered: ev2}); err != nil {
		t.Fatal(err)
	}
	h.assertOnePostEach(a.Id)

	// What the networks received is well-formed.
	b := h.bluesky.Posts()[0]
	embed, _ := b.Record["embed"].(map[string]any)
	ext, _ := embed["external"].(map[string]any)
	if ext["thumb"] == nil || !strings.Contains(ext["uri"].(string), "utm_source=bluesky") || len(b.Facets) == 0 {
		t.Errorf("bluesky record lacks its card, thumbnail or facets: %s", mustJSON(b.Record))
	}
	for _, f := range b.Facets {
		if f.Features[0].URI != "" && b.Text[f.Index.ByteStart:f.Index.ByteEnd] != compose.DisplayLink(f.Features[0].URI) {
			t.Errorf("bluesky link facet spans %q", b.Text[f.Index.ByteStart:f.Index.ByteEnd])
		}
	}
	if li := h.linkedin.Posts()[0]; !strings.Contains(li.Commentary, `{hashtag|\#|Parler}`) {
		t.Errorf("linkedin commentary: %q", li.Commentary)
	}
}

// TestCrashBetweenCallAndLedger: the network accepted the post, then the
// handler died before the ledger said so. On redelivery the service finds
// the post (Mastodon: replays its Idempotency-Key; Bluesky: its record
// key; the others: the account's posts) instead of posting again. A second
// run loses the network's answer instead (a timeout after the commit).
func TestCrashBetweenCallAndLedger(t *testing.T) {
	h := newHarness(t)
	s := h.service(h.config())
	var mu sync.Mutex
	crashed := map[string]bool{}
	s.afterPost = func(network string, _ networks.Remote) error {
		mu.Lock()
		defer mu.Unlock()
		if !crashed[network] {
			crashed[network] = true
			return errors.New("simulated crash after the network accepted the post")
		}
		return nil
	}
	stop := h.run(s, Name)
	a := testArticle("crash-after-call")
	h.publishRendered(a, 1)
	shared := h.waitShared(a.Id, 1, 30*time.Second)
	stop()
	if len(crashed) != len(compose.Networks) {
		t.Errorf("crash hook fired for %v", crashed)
	}
	for _, sh := range shared.Shares {
		if sh.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED {
			t.Errorf("%s: %v %s", sh.Network, sh.Status, sh.LastError)
		}
	}
	h.assertOnePostEach(a.Id)

	// Lost answers: each network commits the post, then times out or
	// fails; a fresh instance takes over.
	lost := fakes.Fault{AfterCommit: true, Delay: 2 * time.Second}
	h.x.Inject("POST /2/tweets", lost)
	h.mastodon.Inject("POST /api/v1/statuses", lost)
	h.bluesky.Inject("com.atproto.repo.createRecord", fakes.Fault{AfterCommit: true, Status: 502})
	h.linkedin.Inject("POST /rest/posts", lost)
	h.facebook.Inject("POST /{page-id}/feed", fakes.Fault{AfterCommit: true, Status: 500})
	h.threads.Inject("POST /{user-id}/threads_publish", lost)
	s2 := h.service(h.config())
	h.run(s2, Name)
	b := testArticle("lost-answer")
	h.publishRendered(b, 1)
	shared = h.waitShared(b.Id, 1, 30*time.Second)
	for _, sh := range shared.Shares {
		if sh.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED || sh.Attempts < 1 {
			t.Errorf("%s: %v attempts %d %s", sh.Network, sh.Status, sh.Attempts, sh.LastError)
		}
	}
	h.assertOnePostEach(b.Id)
	if n := h.x.Pending() + h.mastodon.Pending() + h.bluesky.Pending() + h.linkedin.Pending() + h.facebook.Pending() + h.threads.Pending(); n != 0 {
		t.Errorf("%d injected faults never served", n)
	}
}

// TestCorrectionAfterAnUnknownOutcome: a correction's reply carries the
// article's link as the post does, and Facebook takes no idempotency key.
// After the network's answer to the reply is lost (the handler dies after
// the call), the retry finds the reply and makes no second one; after a
// reply that failed, the retry does not take the post for it and makes
// the reply.
func TestCorrectionAfterAnUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool
	}{{"reply made, answer lost", true}, {"reply failed", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			s := h.service(h.config())
			var mu sync.Mutex
			calls, crashed := map[string]int{}, map[string]bool{}
			s.afterPost = func(network string, _ networks.Remote) error {
				mu.Lock()
				defer mu.Unlock()
				// The first call is the post, the second the reply.
				if calls[network]++; tc.crash && calls[network] == 2 && !crashed[network] {
					crashed[network] = true
					return errors.New("simulated crash after the network accepted the reply")
				}
				return nil
			}
			h.run(s, Name)
			a := testArticle("corrected-" + strings.ReplaceAll(tc.name, " ", "-"))
			a.Id = strings.ReplaceAll(a.Id, ",", "")
			h.publishRendered(a, 1)
			h.waitShared(a.Id, 1, 20*time.Second)
			if !tc.crash {
				fail := fakes.Fault{Status: 500}
				h.x.Inject("POST /2/tweets", fail)
				h.mastodon.Inject("POST /api/v1/statuses", fail)
				h.bluesky.Inject("com.atproto.repo.createRecord", fail)
				h.facebook.Inject("POST /{post-id}/comments", fail)
				h.threads.Inject("POST /{user-id}/threads_publish", fail)
			}
			corrected := testArticle(a.Id)
			corrected.Correction = &newsroomv1.Correction{Note: "An earlier version misnamed the court.", At: timestamppb.Now()}
			h.publishRendered(corrected, 2)
			shared := h.waitShared(a.Id, 2, 30*time.Second)
			for _, sh := range shared.Shares {
				if sh.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED && sh.Network != compose.LinkedIn {
					t.Errorf("%s: %v %s", sh.Network, sh.Status, sh.LastError)
				}
			}
			if tc.crash && len(crashed) != 5 {
				t.Errorf("crashed after the reply on %v, want every network that replies", crashed)
			}
			h.assertOnePostEach(a.Id)
			h.assertOneReplyEach()
			if n := h.x.Pending() + h.mastodon.Pending() + h.bluesky.Pending() + h.facebook.Pending() + h.threads.Pending(); n != 0 {
				t.Errorf("%d injected faults never served", n)
			}
		})
	}
}

// TestRetriesOnTimeoutsAnd5xxAnd429: timeouts before the commit, 500s,
// 503s and 429s with Retry-After; each network ends with one post.
func TestRetriesOnTimeoutsAnd5xxAnd429(t *testing.T) {
	h := newHarness(t)
	timeout := fakes.Fault{Delay: 2 * time.Second}
	h.x.Inject("POST /2/tweets", fakes.Fault{Status: 500}, timeout, fakes.Fault{Status: 429, RetryAfter: "1"})
	h.mastodon.Inject("POST /api/v1/statuses", fakes.Fault{Status: 429, RetryAfter: "1"}, fakes.Fault{Status: 503}, timeout)
	h.bluesky.Inject("com.atproto.repo.createRecord", timeout, fakes.Fault{Status: 500}, fakes.Fault{Status: 429, RetryAfter: "1"})
	h.linkedin.Inject("POST /rest/posts", fakes.Fault{Status: 503}, fakes.Fault{Status: 429, RetryAfter: "1"})
	h.facebook.Inject("POST /{page-id}/feed", fakes.Fault{Status: 500}, timeout)
	h.threads.Inject("POST /{user-id}/threads", fakes.Fault{Status: 429, RetryAfter: "1"}, fakes.Fault{Status: 500})
	s := h.service(h.config())
	h.run(s, Name)
	a := testArticle("retried")
	h.publishRendered(a, 1)
	shared := h.waitShared(a.Id, 1, 40*time.Second)
	want := map[string]int32{compose.X: 4, compose.Mastodon: 4, compose.Bluesky: 4, compose.LinkedIn: 3, compose.Facebook: 3, compose.Threads: 3}
	for _, sh := range shared.Shares {
		if sh.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED || sh.Attempts != want[sh.Network] {
			t.Errorf("%s: %v after %d attempts (want %d): %s", sh.Network, sh.Status, sh.Attempts, want[sh.Network], sh.LastError)
		}
	}
	h.assertOnePostEach(a.Id)
}

// TestPermanentFailureIsNeverSilent: X refuses the token, Mastodon's
// instance allows only 60 characters (read live, so the post fits), and
// LinkedIn keeps failing until the attempts run out. The failures show
// as FAILED with the reason and go to the dead-letter subject, once.
func TestPermanentFailureIsNeverSilent(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.Credentials.X.Token = "revoked"
	cfg.MaxAttempts = 3
	h.mastodon.MaxCharacters = 60
	h.linkedin.Inject("POST /rest/posts", fakes.Fault{Status: 500}, fakes.Fault{Status: 500}, fakes.Fault{Status: 500})
	s := h.service(cfg)
	h.run(s, Name)
	a := testArticle("refused")
	h.publishRendered(a, 1)
	shared := statusOf(h.waitShared(a.Id, 1, 30*time.Second))
	if x := shared[compose.X]; x.Status != newsroomv1.ShareStatus_SHARE_STATUS_FAILED || !strings.Contains(x.LastError, "401") {
		t.Errorf("x: %+v", x)
	}
	if li := shared[compose.LinkedIn]; li.Status != newsroomv1.ShareStatus_SHARE_STATUS_FAILED || li.Attempts != 3 || !strings.Contains(li.LastError, "gave up after 3 attempts") {
		t.Errorf("linkedin: %+v", li)
	}
	if m := shared[compose.Mastodon]; m.Status != newsroomv1.ShareStatus_SHARE_STATUS_POSTED || h.mastodon.Count(m.Text) > 60 {
		t.Errorf("mastodon did not fit its instance's live limit: %+v", m)
	}
	var dl []string
	h.eventually(5*time.Second, "dead letter", func() bool { dl = h.deadLetters(); return len(dl) > 0 })
	if len(dl) != 1 || !strings.Contains(dl[0], "x post") || !strings.Contains(dl[0], "linkedin post") || !strings.Contains(dl[0], a.Id) {
		t.Errorf("dead letters: %q", dl)
	}
	if got := h.remote(a.Id); got[compose.X].made != 0 || got[compose.LinkedIn].made != 0 {
		t.Errorf("posts made despite failures: %+v", got)
	}
}

// TestReplayPostsNothing: a new consumer reading the log from its start
// (as a rerender or a rebuilt view would) meets every rendered event
// again, including a retracted article's; no network gets a new post.
func TestReplayPostsNothing(t *testing.T) {
	h := newHarness(t)
	s := h.service(h.config())
	stop := h.run(s, Name)
	a, b := testArticle("replayed-a"), testArticle("replayed-b")
	h.publishRendered(a, 1)
	h.publishRendered(b, 1)
	h.waitShared(a.Id, 1, 20*time.Second)
	h.waitShared(b.Id, 1, 20*time.Second)
	h.publishRetracted(b.Id, 1)
	h.eventually(10*time.Second, "retraction", func() bool { return h.remote(b.Id)[compose.X].live == 0 })
	stop()
	before := map[string]map[string]remote{a.Id: h.remote(a.Id), b.Id: h.remote(b.Id)}

	replay := h.service(h.config())
	h.run(replay, "socialshare-replay")
	h.eventually(20*time.Second, "replay to reach the end of the log", func() bool {
		c, err := h.js.Consumer(context.Background(), "NEWS", "socialshare-replay")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	for _, id := range []string{a.Id, b.Id} {
		if got := h.remote(id); !equalRemote(got, before[id]) {
			t.Errorf("%s: replay changed the networks: %+v, was %+v", id, got, before[id])
		}
	}
	h.assertOnePostEach(a.Id)
}

func equalRemote(a, b map[string]remote) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRevisionsCorrectionsAndRetraction: a minor revision posts nothing;
// a correction adds one reply where the network takes replies (a comment
// on Facebook; LinkedIn records why not); a retraction deletes every post
// and reply, and records what could not be deleted.
func TestRevisionsCorrectionsAndRetraction(t *testing.T) {
	h := newHarness(t)
	s := h.service(h.config())
	h.run(s, Name)
	a := testArticle("revised")
	h.publishRendered(a, 1)
	h.waitShared(a.Id, 1, 20*time.Second)

	minor := testArticle(a.Id)
	minor.Headline += " (typo fixed)"
	minor.Minor = true
	h.publishRendered(minor, 2)
	h.waitShared(a.Id, 2, 20*time.Second)
	h.assertOnePostEach(a.Id)

	corrected := testArticle(a.Id)
	corrected.Correction = &newsroomv1.Correction{Note: "An earlier version misnamed the court.", At: timestamppb.Now()}
	h.publishRendered(corrected, 3)
	h.waitShared(a.Id, 3, 20*time.Second)
	// The correction persists on later revisions: still one reply.
	corrected4 := testArticle(a.Id)
	corrected4.Correction = corrected.Correction
	h.publishRendered(corrected4, 4)
	h.waitShared(a.Id, 4, 20*time.Second)
	h.assertOnePostEach(a.Id)

	h.assertOneReplyEach()
	entries, err := s.Shares(context.Background(), a.Id)
	if err != nil {
		t.Fatal(err)
	}
	var liCorrection *Entry
	for i, e := range entries {
		if e.Network == compose.LinkedIn && e.Kind == KindCorrection {
			liCorrection = &entries[i]
		}
	}
	if liCorrection == nil || liCorrection.Status != StatusSkipped || liCorrection.LastError == "" {
		t.Errorf("linkedin correction: %+v", liCorrection)
	}

	// Retraction: X refuses to delete (403), the rest delete.
	h.x.Inject("DELETE /2/tweets/:id", fakes.Fault{Status: 403})
	h.publishRetracted(a.Id, 5)
	h.eventually(10*time.Second, "retraction", func() bool { return h.remote(a.Id)[compose.Threads].live == 0 })
	// Every entry settled: a delete that met a transient failure (a slow
	// answer on a busy machine) is retried with the message after a
	// backoff, after the other networks are done.
	h.eventually(30*time.Second, "ledger after retraction", func() bool {
		entries, err = s.Shares(context.Background(), a.Id)
		if err != nil || len(entries) != 12 {
			return false
		}
		for _, e := range entries {
			if e.Status == StatusPosted || e.Status == StatusPending {
				return false
			}
		}
		return true
	})
	for _, e := range entries {
		want := StatusDeleted
		switch {
		case e.Network == compose.LinkedIn && e.Kind == KindCorrection:
			want = StatusRetracted
		case e.Network == compose.X && e.Kind == KindCorrection:
			want = StatusDeleteFailed // the first DELETE met the 403
		}
		if e.Status != want {
			t.Errorf("%s %s: %s (%s), want %s", e.Network, e.Kind, e.Status, e.LastError, want)
		}
	}
	for n, r := range h.remote(a.Id) {
		if r.live != 0 {
			t.Errorf("%s: %d posts still live", n, r.live)
		}
	}
	// X's reply is the one that could not be deleted: still there.
	for _, p := range h.x.Tweets() {
		if p.InReplyTo != "" && p.Deleted {
			t.Error("x reply deleted despite the 403")
		}
	}
	h.eventually(5*time.Second, "dead letter of the undeletable", func() bool {
		for _, r := range h.deadLetters() {
			if strings.Contains(r, "could not delete") {
				return true
			}
		}
		return false
	})
	// The withdrawn event tells the status view what became of each
	// network's post: deleted, except X, where the correction's reply is
	// still up.
	w := h.waitEvent(bus.EventWithdrawn, a.Id, 5, 10*time.Second)
	if len(w.Shares) != len(compose.Networks) {
		t.Fatalf("withdrawn event has %d shares, want one per network: %+v", len(w.Shares), w.Shares)
	}
	for _, sh := range w.Shares {
		want := newsroomv1.ShareStatus_SHARE_STATUS_DELETED
		if sh.Network == compose.X {
			want = newsroomv1.ShareStatus_SHARE_STATUS_FAILED
			if !strings.Contains(sh.LastError, "correction's reply") || !strings.Contains(sh.LastError, "could not delete") {
				t.Errorf("x: %q does not say the correction's reply could not be deleted", sh.LastError)
			}
		}
		if sh.Status != want {
			t.Errorf("withdrawn %s: %s (%s), want %s", sh.Network, sh.Status, sh.LastError, want)
		}
	}
}

// TestEmbargoAndDelays: nothing goes out before the embargo ends, and
// Threads waits its own delay after that.
func TestEmbargoAndDelays(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.Delays = map[string]time.Duration{compose.Threads: 1500 * time.Millisecond}
	s := h.service(cfg)
	h.run(s, Name)
	a := testArticle("embargoed")
	embargo := time.Now().Add(2 * time.Second)
	a.EmbargoUntil = timestamppb.New(embargo)
	h.publishRendered(a, 1)
	for time.Now().Before(embargo.Add(-300 * time.Millisecond)) {
		for n, r := range h.remote(a.Id) {
			if r.made > 0 {
				t.Fatalf("%s posted before the embargo ended", n)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.eventually(10*time.Second, "x after the embargo", func() bool { return h.remote(a.Id)[compose.X].made == 1 })
	threadsDue := embargo.Add(1500 * time.Millisecond)
	if time.Now().Before(threadsDue.Add(-300*time.Millisecond)) && h.remote(a.Id)[compose.Threads].made > 0 {
		t.Fatal("threads posted before its delay")
	}
	h.waitShared(a.Id, 1, 20*time.Second)
	h.assertOnePostEach(a.Id)
}

// TestDryRunAndSharesAPI: without credentials nothing is sent, the
// composed posts are recorded, and the shares API shows them.
func TestDryRunAndSharesAPI(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.Credentials = Credentials{Mastodon: cfg.Credentials.Mastodon}
	s := h.service(cfg)
	h.run(s, Name)
	a := testArticle("dry-run")
	h.publishRendered(a, 1)
	shared := statusOf(h.waitShared(a.Id, 1, 20*time.Second))
	for _, n := range compose.Networks {
		want := newsroomv1.ShareStatus_SHARE_STATUS_DRY_RUN
		if n == compose.Mastodon {
			want = newsroomv1.ShareStatus_SHARE_STATUS_POSTED
		}
		if shared[n].Status != want || shared[n].Text == "" || !strings.Contains(shared[n].Link, "utm_source="+n) {
			t.Errorf("%s: %+v", n, shared[n])
		}
	}
	if len(h.x.Tweets())+len(h.bluesky.Posts())+len(h.linkedin.Posts()) != 0 {
		t.Error("a dry-run network was called")
	}

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/articles/" + a.Id + "/shares")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ID     string `json:"id"`
		Shares []struct {
			Network, Status, Text, Link, Kind string
			RemoteID                          string `json:"remote_id"`
			RemoteURL                         string `json:"remote_url"`
			Attempts                          int
			LastError                         string `json:"last_error"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body.ID != a.Id || len(body.Shares) != len(compose.Networks) {
		t.Fatalf("shares API: %d %+v", resp.StatusCode, body)
	}
	for _, sh := range body.Shares {
		if sh.Network == compose.Mastodon {
			if sh.Status != StatusPosted || sh.RemoteID == "" || !strings.HasPrefix(sh.RemoteURL, h.mastodon.URL) || sh.Attempts != 1 {
				t.Errorf("mastodon share: %+v", sh)
			}
		} else if sh.Status != StatusDryRun || sh.Text == "" {
			t.Errorf("%s share: %+v", sh.Network, sh)
		}
	}
	for _, bad := range []string{"/v1/articles/Bad.Id/shares", "/v1/articles/nothing-here/shares"} {
		r, err := http.Get(srv.URL + bad)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if want := map[bool]int{true: 404, false: 200}[strings.Contains(bad, "Bad")]; r.StatusCode != want {
			t.Errorf("%s: %d, want %d", bad, r.StatusCode, want)
		}
	}
}

// TestSpanPerNetworkPost: each network's post is a client span, child of
// the message's process span.
func TestSpanPerNetworkPost(t *testing.T) {
	h := newHarness(t)
	s := h.service(h.config())
	h.run(s, Name)
	a := testArticle("traced")
	h.publishRendered(a, 1)
	h.waitShared(a.Id, 1, 20*time.Second)
	// The process span ends after the share spans, once the message is
	// settled: wait for it too.
	h.eventually(5*time.Second, "spans", func() bool {
		n, processed := 0, false
		for _, sp := range h.spans.Ended() {
			if strings.HasPrefix(sp.Name(), "share ") {
				n++
			}
			processed = processed || strings.HasPrefix(sp.Name(), "process news.article.rendered")
		}
		return n >= len(compose.Networks) && processed
	})
	process := map[trace.SpanID]bool{}
	for _, sp := range h.spans.Ended() {
		if strings.HasPrefix(sp.Name(), "process news.article.rendered") {
			process[sp.SpanContext().SpanID()] = true
		}
	}
	per := map[string]int{}
	for _, sp := range h.spans.Ended() {
		if !strings.HasPrefix(sp.Name(), "share ") {
			continue
		}
		per[strings.TrimPrefix(sp.Name(), "share ")]++
		if sp.SpanKind() != trace.SpanKindClient || !process[sp.Parent().SpanID()] {
			t.Errorf("%s: kind %v, parent is a process span: %v", sp.Name(), sp.SpanKind(), process[sp.Parent().SpanID()])
		}
	}
	for _, n := range compose.Networks {
		if per[n] != 1 {
			t.Errorf("%d spans for %s, want 1", per[n], n)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	secret := dir + "/x-token"
	if err := writeFile(secret, "tok-from-file\n"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SOCIALSHARE_X_TOKEN_FILE": secret, "SOCIALSHARE_MASTODON_URL": "https://m.example", "SOCIALSHARE_MASTODON_TOKEN": "mt",
		"SOCIALSHARE_DELAY_THREADS": "10m", "SOCIALSHARE_NETWORKS": "x, mastodon,threads", "SOCIALSHARE_RATE_X": "2",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Credentials.X.Token != "tok-from-file" || c.Credentials.Mastodon.Token != "mt" || c.Delays[compose.Threads] != 10*time.Minute ||
		len(c.Networks) != 3 || c.PerMinute[compose.X] != 2 {
		t.Errorf("config: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"SOCIALSHARE_MASTODON_TOKEN": "only-token"},
		{"SOCIALSHARE_X_TOKEN_FILE": dir + "/missing"},
		{"SOCIALSHARE_DELAY_X": "soon"},
		{"SOCIALSHARE_NETWORKS": "x,myspace"},
		{"SOCIALSHARE_X_TOKEN": "a", "SOCIALSHARE_X_TOKEN_FILE": secret},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

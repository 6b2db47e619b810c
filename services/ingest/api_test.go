package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

func TestSubmitEachFormat(t *testing.T) {
	e := startEnv(t, "", Config{})
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		format            newsroomv1.SourceFormat
		headline          string
	}{
		{"json", "application/json", []byte(`{"headline": "Parler sues Amazon", "body": "A legal battle.", "bylines": ["Emmanuel Alejandro Rondón"], "tags": ["Parler"]}`),
			newsroomv1.SourceFormat_SOURCE_FORMAT_JSON, "Parler sues Amazon"},
		{"seed paste", "text/plain; charset=utf-8", seedPaste(t), newsroomv1.SourceFormat_SOURCE_FORMAT_TEXT, ""},
		{"markdown", "text/markdown", []byte("# Parler sues Amazon\n\nA legal *battle*.\n"), newsroomv1.SourceFormat_SOURCE_FORMAT_MARKDOWN, "Parler sues Amazon"},
		{"html page", "text/html; charset=utf-8", htmlPage(t), newsroomv1.SourceFormat_SOURCE_FORMAT_HTML, ""},
		{"ninjs", "application/ninjs+json", ninjsSample(t), newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS, "Militärövning i jätteformat hålls 2023"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do("POST", "/v1/articles", deskToken, tc.contentType, tc.body)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			resp := decodeJSON[SubmitResponse](t, rec)
			if rec.Header().Get("Location") != resp.StatusURL || resp.Revision != 1 || resp.State != StateProcessing ||
				resp.URL != "https://news.example.com/articles/"+resp.ID {
				t.Fatalf("response %+v, Location %q", resp, rec.Header().Get("Location"))
			}
			evs := e.submitted(resp.ID)
			if len(evs) != 1 {
				t.Fatalf("%d submitted events", len(evs))
			}
			a := evs[0].Article
			if a.SourceFormat != tc.format || a.Headline != tc.headline || a.Editor != "desk" || a.Id != resp.ID ||
				evs[0].Revision != 1 || a.CreatedAt == nil || a.Url != resp.URL {
				t.Fatalf("event: rev %d article %v %q editor %q", evs[0].Revision, a.SourceFormat, a.Headline, a.Editor)
			}
			if tc.name == "seed paste" && a.Body != string(tc.body) {
				t.Fatal("the paste was altered")
			}
			st := e.status(resp.ID)
			if st.State != StateProcessing || st.Revision != 1 || st.Revisions[0].Editor != "desk" || st.Stages.Submitted == nil {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

func TestEveryNinjsExampleAccepted(t *testing.T) {
	e := startEnv(t, "", Config{})
	dir := filepath.Join(testtool.SharedDir(t), "conformance", "ninjs", "examples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		body, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if rec := e.do("POST", "/v1/articles", wireToken, "application/ninjs+json", body); rec.Code != http.StatusAccepted {
			t.Errorf("%s: %d %s", ent.Name(), rec.Code, rec.Body)
		}
	}
}

func TestErrors(t *testing.T) {
	e := startEnv(t, "", Config{})
	existing := e.submit("application/json", []byte(`{"id": "taken", "headline": "h", "body": "b"}`))
	big := make([]byte, e.ing.MaxBodyBytes()+1)
	for i := range big {
		big[i] = 'a'
	}
	for _, tc := range []struct {
		name, method, path, token, ct string
		body                          string
		header                        []string
		status                        int
		fields                        []string
	}{
		{"no token", "POST", "/v1/articles", "", "application/json", `{}`, nil, 401, nil},
		{"wrong token", "GET", "/v1/articles/taken", "not-a-token-0123456789", "", "", nil, 401, nil},
		{"reader may not submit", "POST", "/v1/articles", readerToken, "application/json", `{"headline": "h", "body": "b"}`, nil, 403, nil},
		{"wire may not retract", "POST", "/v1/articles/taken/retract", wireToken, "application/json", `{"reason": "x"}`, nil, 403, nil},
		{"wire may not read", "GET", "/v1/articles/taken", wireToken, "", "", nil, 403, nil},
		{"every field at fault", "POST", "/v1/articles", deskToken, "application/json",
			`{"headline": "", "body": 3, "images": [{"url": "javascript:alert(1)"}], "publish_at": "soon", "extra": 1}`, nil, 400,
			[]string{"/headline", "/body", "/images/0/url", "/publish_at", "/extra"}},
		{"syntax", "POST", "/v1/articles", deskToken, "application/json", `{"headline": "h",`, nil, 400, []string{"body"}},
		{"invalid utf-8", "POST", "/v1/articles", deskToken, "text/plain", "caf\xe9 au lait", nil, 400, []string{"body"}},
		{"control character", "POST", "/v1/articles", deskToken, "text/plain", "a paste\x1b[31m with an escape", nil, 400, []string{"body"}},
		{"header injection in headline", "POST", "/v1/articles", deskToken, "application/json", `{"headline": "a\r\nX-Evil: 1", "body": "b"}`, nil, 400, []string{"/headline"}},
		{"subject token in body id", "POST", "/v1/articles", deskToken, "application/json", `{"id": "a.>", "headline": "h", "body": "b"}`, nil, 400, []string{"/id"}},
		{"wildcard in path id", "PUT", "/v1/articles/a*b", deskToken, "text/plain", "x", nil, 400, []string{"id"}},
		{"dot in path id", "GET", "/v1/articles/news.article", readerToken, "", "", nil, 400, []string{"id"}},
		{"line break in path id", "GET", "/v1/articles/a%0d%0ab", readerToken, "", "", nil, 400, []string{"id"}},
		{"space in retract id", "POST", "/v1/articles/a%20b/retract", deskToken, "application/json", `{"reason": "x"}`, nil, 400, []string{"id"}},
		{"body id differs", "PUT", "/v1/articles/taken", deskToken, "application/json", `{"id": "other", "headline": "h", "body": "b"}`, nil, 400, []string{"/id"}},
		{"too large", "POST", "/v1/articles", deskToken, "text/plain", string(big), nil, 413, []string{"body"}},
		{"too large with a key", "POST", "/v1/articles", deskToken, "text/plain", string(big), []string{"Idempotency-Key", "k-big"}, 413, []string{"body"}},
		{"unsupported type", "POST", "/v1/articles", deskToken, "image/png", "\x89PNG", nil, 415, []string{"Content-Type"}},
		{"latin-1", "POST", "/v1/articles", deskToken, "text/plain; charset=iso-8859-1", "x", nil, 415, []string{"Content-Type"}},
		{"binary as html", "POST", "/v1/articles", deskToken, "text/html", "\x00\x01\x02<html>", nil, 400, []string{"body"}},
		{"ninjs schema", "POST", "/v1/articles", deskToken, "application/ninjs+json", `{"uri": "urn:x", "headlines": [{"role": "main"}], "urgency": "high"}`, nil, 400, []string{"/headlines/0", "/urgency"}},
		{"ninjs-like json", "POST", "/v1/articles", deskToken, "application/json", `{"body": "b", "headlines": [], "uri": "x"}`, nil, 400, []string{"/uri", "/headlines", "/headline"}},
		{"ninjs as json, invalid", "POST", "/v1/articles", deskToken, "application/json", `{"uri": "urn:x", "headlines": []}`, nil, 400, []string{"/bodies"}},
		{"duplicate id", "POST", "/v1/articles", deskToken, "application/json", `{"id": "taken", "headline": "h", "body": "b"}`, nil, 409, []string{"/id"}},
		{"unknown article", "GET", "/v1/articles/nobody", readerToken, "", "", nil, 404, nil},
		{"revise unknown", "PUT", "/v1/articles/nobody", deskToken, "text/plain", "x", nil, 404, nil},
		{"retract unknown", "POST", "/v1/articles/nobody/retract", deskToken, "application/json", `{"reason": "x"}`, nil, 404, nil},
		{"retract without reason", "POST", "/v1/articles/taken/retract", deskToken, "application/json", `{}`, nil, 400, []string{"/reason"}},
		{"retract empty body", "POST", "/v1/articles/taken/retract", deskToken, "application/json", ``, nil, 400, []string{"/reason"}},
		{"retract as text", "POST", "/v1/articles/taken/retract", deskToken, "text/plain", `because`, nil, 415, []string{"Content-Type"}},
		{"stale If-Match", "PUT", "/v1/articles/taken", deskToken, "text/plain", "x", []string{"If-Match", `"7"`}, 412, []string{"If-Match"}},
		{"bad If-Match", "PUT", "/v1/articles/taken", deskToken, "text/plain", "x", []string{"If-Match", "yesterday"}, 400, []string{"If-Match"}},
		{"bad idempotency key", "POST", "/v1/articles", deskToken, "text/plain", "x", []string{"Idempotency-Key", "a b"}, 400, []string{"Idempotency-Key"}},
		{"list filters", "GET", "/v1/articles?state=lost&since=now&limit=0&cursor=%%%&sort=x", readerToken, "", "", nil, 400,
			[]string{"state", "since", "limit", "query"}},
		{"list bad cursor", "GET", "/v1/articles?cursor=abc&limit=500&color=1", readerToken, "", "", nil, 400, []string{"cursor", "limit", "color"}},
		{"unknown route", "GET", "/v1/nothing", readerToken, "", "", nil, 404, nil},
		{"unknown method", "DELETE", "/v1/articles/taken", deskToken, "", "", nil, 405, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(tc.method, tc.path, tc.token, tc.ct, []byte(tc.body), tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			p := decodeProblem(t, rec)
			if p.Status != tc.status || p.Title == "" {
				t.Fatalf("problem %+v", p)
			}
			var got []string
			for _, fe := range p.Errors {
				got = append(got, fe.Field)
			}
			for _, f := range tc.fields {
				if !slices.Contains(got, f) {
					t.Errorf("field %q not named; errors: %+v", f, p.Errors)
				}
			}
			if tc.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Nothing above was stored.
	if evs := e.events(bus.EventSubmitted, "*"); len(evs) != 1 || !strings.HasSuffix(evs[0].Subject, existing.ID) {
		t.Fatalf("%d submitted events after refused requests", len(evs))
	}
}

func TestRateLimitPerToken(t *testing.T) {
	e := startEnv(t, "", Config{RatePerSecond: 0.5, RateBurst: 2})
	for i := 0; i < 2; i++ {
		if rec := e.do("GET", "/v1/articles", readerToken, "", nil); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := e.do("GET", "/v1/articles", readerToken, "", nil)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third request: %d", rec.Code)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "2" && ra != "1" {
		t.Fatalf("Retry-After %q", ra)
	}
	decodeProblem(t, rec)
	// Another token has its own budget.
	if rec := e.do("GET", "/v1/articles", deskToken, "", nil); rec.Code != http.StatusOK {
		t.Fatalf("other token: %d", rec.Code)
	}
}

func TestRevisionsAndRetraction(t *testing.T) {
	e := startEnv(t, "", Config{})
	first := e.submit("text/plain", seedPaste(t))
	id := first.ID
	e.stages(id, 1, &newsroomv1.Share{Network: "mastodon", Status: newsroomv1.ShareStatus_SHARE_STATUS_POSTED, Attempts: 1})
	st := e.eventually(id, func(s Status) bool { return s.State == StatePublished && s.Stages.Shared != nil })
	if st.Revision != 1 || st.Headline != "Enriched headline" {
		t.Fatalf("status %+v", st)
	}

	// Revision 2, with a correction, against the revision last seen.
	rec := e.do("PUT", "/v1/articles/"+id, deskToken, "application/json",
		[]byte(`{"headline": "Parler sues Amazon", "body": "Corrected text.", "correction": "An earlier version misspelled a name."}`),
		"If-Match", `"1"`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	second := decodeJSON[SubmitResponse](t, rec)
	if second.Revision != 2 || second.ID != id || rec.Header().Get("ETag") != `"2"` {
		t.Fatalf("PUT answered %+v", second)
	}
	evs := e.submitted(id)
	if len(evs) != 2 || evs[1].Revision != 2 || evs[1].Article.Correction.GetNote() != "An earlier version misspelled a name." ||
		evs[1].EventId != bus.MsgID(id, 2, bus.EventSubmitted) || !evs[1].Article.CreatedAt.AsTime().Equal(evs[0].Article.CreatedAt.AsTime()) {
		t.Fatalf("revision 2 on the log: %+v", evs)
	}
	st = e.eventually(id, func(s Status) bool { return s.Revision == 2 })
	if st.State != StateProcessing || st.Revisions[1].Correction == "" || st.Stages.Rendered != nil {
		t.Fatalf("revision 2 status %+v", st)
	}
	e.stages(id, 2)
	st = e.eventually(id, func(s Status) bool { return s.State == StatePublished && s.Revision == 2 })
	if len(st.Revisions) != 2 || st.Revisions[0].Stages.Rendered == nil || st.Revisions[1].Stages.Rendered == nil {
		t.Fatalf("history %+v", st.Revisions)
	}

	// A stale If-Match is refused and stores nothing.
	if rec := e.do("PUT", "/v1/articles/"+id, deskToken, "text/plain", []byte("x"), "If-Match", `"1"`); rec.Code != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d", rec.Code)
	}

	// Retraction.
	rec = e.do("POST", "/v1/articles/"+id+"/retract", deskToken, "application/json", []byte(`{"reason": "Legal: unverified court order."}`))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("retract: %d %s", rec.Code, rec.Body)
	}
	rr := decodeJSON[RetractResponse](t, rec)
	if rr.Revision != 2 || rr.State != StateRetracted {
		t.Fatalf("retract answered %+v", rr)
	}
	msgs := e.events(bus.EventRetracted, id)
	if len(msgs) != 1 {
		t.Fatalf("%d retracted events", len(msgs))
	}
	var ret newsroomv1.ArticleRetracted
	if err := proto.Unmarshal(msgs[0].Data, &ret); err != nil {
		t.Fatal(err)
	}
	if ret.Reason != "Legal: unverified court order." || ret.Editor != "desk" || ret.Revision != 2 || ret.ArticleId != id {
		t.Fatalf("retracted event %+v", &ret)
	}
	st = e.status(id)
	if st.State != StateRetracted || st.Retraction == nil || st.Retraction.Reason != ret.Reason || st.Retraction.Editor != "desk" {
		t.Fatalf("retracted status %+v", st)
	}
	// A retracted article takes no revision and no second retraction.
	if rec := e.do("PUT", "/v1/articles/"+id, deskToken, "text/plain", []byte("x")); rec.Code != http.StatusConflict {
		t.Fatalf("PUT after retraction: %d", rec.Code)
	}
	if rec := e.do("POST", "/v1/articles/"+id+"/retract", deskToken, "application/json", []byte(`{"reason": "again"}`)); rec.Code != http.StatusConflict {
		t.Fatalf("second retraction: %d", rec.Code)
	}
	// The view survives a rebuild from the log: the consumer's projection
	// agrees with what the API wrote.
	e.eventually(id, func(s Status) bool { return s.State == StateRetracted && len(s.Revisions) == 2 })

	// socialshare withdraws the posts: the status view shows them deleted,
	// and one still up as a problem.
	withdrawnAt := time.Now().UTC().Truncate(time.Millisecond)
	e.publish(bus.Event{Subject: bus.Subject(bus.EventWithdrawn, id), MsgID: bus.MsgID(id, 2, bus.EventWithdrawn),
		Message: &newsroomv1.ArticleShared{ArticleId: id, Revision: 2, OccurredAt: timestamppb.New(withdrawnAt), Shares: []*newsroomv1.Share{
			{Network: "mastodon", Status: newsroomv1.ShareStatus_SHARE_STATUS_DELETED, Attempts: 1},
			{Network: "x", Status: newsroomv1.ShareStatus_SHARE_STATUS_FAILED, Attempts: 1, LastError: "could not delete: 403 Forbidden"},
		}}})
	st = e.eventually(id, func(s Status) bool { return s.Stages.Withdrawn != nil })
	if !st.Stages.Withdrawn.Equal(withdrawnAt) || st.State != StateRetracted || st.Stages.Shared == nil {
		t.Fatalf("withdrawn status %+v", st)
	}
	wantShares := []Share{{Network: "mastodon", Status: "deleted", Attempts: 1},
		{Network: "x", Status: "failed", Attempts: 1, Error: "could not delete: 403 Forbidden"}}
	if !reflect.DeepEqual(st.Revisions[1].Shares, wantShares) {
		t.Fatalf("shares after the withdrawal: %+v", st.Revisions[1].Shares)
	}
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "the post on x is still up after the retraction: could not delete") {
		t.Fatalf("problems after the withdrawal: %q", st.Problems)
	}
	// A shared event that occurred before the withdrawal, projected after
	// it (another instance, a replay), leaves the withdrawal's shares.
	sharedAt := withdrawnAt.Add(-time.Second)
	e.publish(bus.Event{Subject: bus.Subject(bus.EventShared, id), MsgID: bus.MsgID(id, 2, bus.EventShared+"-late"),
		Message: &newsroomv1.ArticleShared{ArticleId: id, Revision: 2, OccurredAt: timestamppb.New(sharedAt), Shares: []*newsroomv1.Share{
			{Network: "mastodon", Status: newsroomv1.ShareStatus_SHARE_STATUS_POSTED, Attempts: 1}}}})
	st = e.eventually(id, func(s Status) bool { return s.Stages.Shared != nil && s.Stages.Shared.Equal(sharedAt) })
	if !reflect.DeepEqual(st.Revisions[1].Shares, wantShares) {
		t.Fatalf("an older shared event replaced the withdrawal's shares: %+v", st.Revisions[1].Shares)
	}
}

func TestStatusShowsEvidenceSharesAndDeadLetters(t *testing.T) {
	e := startEnv(t, "", Config{})
	id := e.submit("text/plain", seedPaste(t)).ID
	e.stages(id, 1,
		&newsroomv1.Share{Network: "mastodon", Status: newsroomv1.ShareStatus_SHARE_STATUS_POSTED, RemoteUrl: "https://m.example/1", Attempts: 1},
		&newsroomv1.Share{Network: "bluesky", Status: newsroomv1.ShareStatus_SHARE_STATUS_FAILED, Attempts: 5, LastError: "401 Unauthorized"})
	st := e.eventually(id, func(s Status) bool { return s.Stages.Shared != nil })
	rv := st.Revisions[0]
	en := rv.Enrichment
	if en == nil || en.Evidence["language"].Source != "detector" || len(en.Bylines) != 1 ||
		en.Bylines[0].Evidence.Source != "bio-line" || en.Images[0].Evidence.Rule != "credit-in-parentheses" ||
		en.Tags[0].Type != "organization" || en.Tags[0].Evidence == nil {
		t.Fatalf("enrichment %+v", en)
	}
	if len(rv.Shares) != 2 || rv.Shares[1].Status != "failed" || rv.Shares[1].Error != "401 Unauthorized" {
		t.Fatalf("shares %+v", rv.Shares)
	}
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "bluesky") {
		t.Fatalf("a failed share is not a problem: %v", st.Problems)
	}

	// A dead-lettered revision 2: enrichment gave up on it.
	second := e.do("PUT", "/v1/articles/"+id, deskToken, "text/plain", []byte("revised paste"))
	if second.Code != http.StatusAccepted {
		t.Fatalf("PUT: %d", second.Code)
	}
	m := e.events(bus.EventSubmitted, id)[1]
	pub := bus.NewPublisher(e.js, e.ing.deps.Tracer)
	if err := bus.DeadLetter(t.Context(), pub, "enrichment", m.Subject, m.Header, m.Data, 5, m.Sequence, "extractor crashed: index out of range"); err != nil {
		t.Fatal(err)
	}
	st = e.eventually(id, func(s Status) bool { return s.State == StateFailed })
	dl := st.Revisions[1].DeadLetters
	if st.Revision != 2 || len(dl) != 1 || dl[0].Service != "enrichment" || dl[0].Event != bus.EventSubmitted || dl[0].Deliveries != 5 {
		t.Fatalf("dead letter %+v", st)
	}
	if !slices.ContainsFunc(st.Problems, func(p string) bool { return strings.Contains(p, "extractor crashed") }) {
		t.Fatalf("problems %v", st.Problems)
	}
}

func TestList(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	e := startEnv(t, "", Config{Now: clock.Now})
	var ids []string
	for i := 0; i < 5; i++ {
		clock.Set(clock.Now().Add(time.Minute))
		ids = append(ids, e.submit("application/json", []byte(fmt.Sprintf(`{"id": "story-%d", "headline": "Story %d", "body": "b"}`, i, i))).ID)
	}
	clock.Set(clock.Now().Add(time.Minute))
	held := e.submit("application/json", []byte(`{"id": "held", "headline": "Held", "body": "b", "publish_at": "2026-03-02T09:00:00Z"}`))
	if held.State != StateScheduled {
		t.Fatalf("held: %+v", held)
	}
	e.do("POST", "/v1/articles/story-0/retract", deskToken, "application/json", []byte(`{"reason": "wrong"}`))

	list := func(query string) ListResponse {
		rec := e.do("GET", "/v1/articles"+query, readerToken, "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
		}
		return decodeJSON[ListResponse](t, rec)
	}
	idsOf := func(l ListResponse) []string {
		var out []string
		for _, s := range l.Articles {
			out = append(out, s.ID)
		}
		return out
	}
	// Pages of two, newest activity first, each article once.
	var seen []string
	cursor := ""
	for page := 0; page < 10; page++ {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		l := list(q)
		seen = append(seen, idsOf(l)...)
		if cursor = l.Next; cursor == "" {
			break
		}
	}
	// story-0's retraction is its latest event.
	want := []string{"held", "story-0", "story-4", "story-3", "story-2", "story-1"}
	if !slices.Equal(seen, want) {
		t.Fatalf("pages %v, want %v", seen, want)
	}
	if got := idsOf(list("?state=scheduled")); !slices.Equal(got, []string{"held"}) {
		t.Fatalf("scheduled: %v", got)
	}
	if got := idsOf(list("?state=retracted,scheduled")); !slices.Equal(got, []string{"held", "story-0"}) {
		t.Fatalf("retracted or scheduled: %v", got)
	}
	if got := idsOf(list("?since=2026-03-01T09:02:00Z&until=2026-03-01T09:04:00Z")); !slices.Equal(got, []string{"story-2", "story-1"}) {
		t.Fatalf("time window: %v", got)
	}
	if l := list("?state=published"); len(l.Articles) != 0 || l.Next != "" {
		t.Fatalf("published: %+v", l)
	}

	// Each list reads what changed since the one before: a new article, a
	// new state and a status record gone all show. An article whose
	// record is gone is still listed, from its log, without what the
	// later stages did.
	clock.Set(clock.Now().Add(time.Minute))
	e.submit("application/json", []byte(`{"id": "story-5", "headline": "Story 5", "body": "b"}`))
	e.stages("story-1", 1)
	e.stages("story-2", 1)
	e.eventually("story-1", func(s Status) bool { return s.State == StatePublished })
	e.eventually("story-2", func(s Status) bool { return s.State == StatePublished })
	if got := idsOf(list("?state=published")); !slices.Equal(got, []string{"story-2", "story-1"}) && !slices.Equal(got, []string{"story-1", "story-2"}) {
		t.Fatalf("published: %v", got)
	}
	kv, err := e.js.KeyValue(context.Background(), StatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(context.Background(), "story-2"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		all, published, processing := idsOf(list("")), idsOf(list("?state=published")), idsOf(list("?state=processing"))
		if slices.Contains(all, "story-5") && slices.Equal(published, []string{"story-1"}) && slices.Contains(processing, "story-2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the changes: all %v, published %v, processing %v", all, published, processing)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// What needs an editor's attention: a share that failed.
	e.stages("story-3", 1, &newsroomv1.Share{Network: "bluesky", Status: newsroomv1.ShareStatus_SHARE_STATUS_FAILED, Attempts: 5, LastError: "500"})
	e.eventually("story-3", func(s Status) bool { return len(s.Problems) == 1 })
	deadline = time.Now().Add(15 * time.Second)
	for {
		with, without := idsOf(list("?problems=true")), idsOf(list("?problems=false&limit=200"))
		if slices.Equal(with, []string{"story-3"}) && !slices.Contains(without, "story-3") && len(without) == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("problems=true %v, problems=false %v", with, without)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec := e.do("GET", "/v1/articles?problems=maybe", readerToken, "", nil)
	if p := decodeProblem(t, rec); rec.Code != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != "problems" {
		t.Fatalf("problems=maybe: %d %+v", rec.Code, p)
	}
}

// TestListWhileWritten: lists running side by side while records are
// written each see every article once (the race detector watches the
// instance's shared copy).
func TestListWhileWritten(t *testing.T) {
	e := startEnvWith(t, "", Config{}, true)
	ctx := context.Background()
	svc := e.ing.svc
	const articles = 60
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range articles {
			id := fmt.Sprintf("story-%d", i)
			at := time.Now().UTC()
			data, _ := json.Marshal(record{ID: id, URL: svc.PageURL(id), UpdatedAt: at,
				Revisions: []RevisionInfo{{Revision: 1, AcceptedAt: at, Stages: Stages{Submitted: &at}}}})
			if _, err := svc.status.Put(ctx, id, data); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 20 {
				resp, err := svc.List(ctx, ListRequest{Limit: MaxListLimit})
				if err != nil {
					t.Error(err)
					return
				}
				seen := map[string]bool{}
				for _, a := range resp.Articles {
					if seen[a.ID] {
						t.Errorf("%s listed twice", a.ID)
					}
					seen[a.ID] = true
				}
			}
		})
	}
	wg.Wait()
	resp, err := svc.List(ctx, ListRequest{Limit: MaxListLimit})
	if err != nil || len(resp.Articles) != articles {
		t.Fatalf("after the writes: %d articles, %v", len(resp.Articles), err)
	}
}

func TestOpenAPIServedWithoutToken(t *testing.T) {
	e := startEnv(t, "", Config{})
	rec := e.do("GET", "/v1/openapi.json", "", "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("openapi.json: %d", rec.Code)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %v", err)
	}
}

// TestLargestEvalPageAccepted: the largest real page of the evaluation set
// (2.8 MB) is accepted whole; the limit is what one NATS message carries.
func TestLargestEvalPageAccepted(t *testing.T) {
	e := startEnv(t, "", Config{})
	page := gunzip(t, sharedFile(t, "eval", "naeb-dev", "html", "78b8e99f9ba349e91bbd7368a0083868.html.gz"))
	if len(page) < 2<<20 || len(page) > e.ing.MaxBodyBytes() {
		t.Fatalf("page of %d bytes, limit %d", len(page), e.ing.MaxBodyBytes())
	}
	resp := e.submit("text/html", page)
	if evs := e.submitted(resp.ID); len(evs) != 1 || len(evs[0].Article.Body) != len(page) {
		t.Fatalf("page not stored whole")
	}
}

// The status consumer reads no ingest event: an article's status is its
// record of the later stages merged with its last revisions and retraction
// read from the log. Nothing is written on the request path, the status
// shows each revision as soon as its answer does, and an earlier revision
// keeps its history from the stages' events, which carry what was
// submitted.
func TestStatusMergesTheLog(t *testing.T) {
	e := startEnvWith(t, "", Config{}, true) // the API alone: nothing projects
	e.submit("application/json", []byte(`{"id": "fresh", "headline": "Fresh story", "body": "b", "correction": "Spelling."}`))
	e.submit("application/json", []byte(`{"id": "later", "headline": "Held story", "body": "b", "publish_at": "2030-03-02T09:00:00Z"}`))
	kv, err := e.js.KeyValue(context.Background(), StatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(context.Background(), "fresh"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("a status record was written on the request path (%v): this test reads nothing from the log", err)
	}
	fromLog := map[string]Status{"fresh": e.status("fresh"), "later": e.status("later")}
	if st := fromLog["fresh"]; st.Revision != 1 || st.State != StateProcessing || st.Headline != "Fresh story" ||
		len(st.Revisions) != 1 || st.Revisions[0].Stages.Submitted == nil || st.Revisions[0].Editor == "" || st.Revisions[0].Correction != "Spelling." {
		t.Errorf("status from the log: %+v", st)
	}
	if st := fromLog["later"]; st.State != StateScheduled || len(st.Revisions) != 1 || st.Revisions[0].ScheduledFor == nil {
		t.Errorf("held create from the log: %+v", st)
	}
	// Revisions no stage has reported on yet are read from the log too.
	e.submit("application/json", []byte(`{"id": "busy", "headline": "Busy story", "body": "b"}`))
	for _, body := range []string{`{"headline": "Busy story", "body": "b2", "correction": "Name."}`, `{"headline": "Busy story", "body": "b3"}`} {
		if rec := e.do("PUT", "/v1/articles/busy", deskToken, "application/json", []byte(body)); rec.Code != http.StatusAccepted {
			t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
		}
	}
	if st := e.status("busy"); st.Revision != 3 || len(st.Revisions) != 3 || st.Revisions[0].Stages.Submitted == nil ||
		st.Revisions[1].Correction != "Name." || st.Revisions[1].Stages.Submitted == nil || st.Revisions[2].Stages.Submitted == nil {
		t.Errorf("three revisions from the log: %+v", st)
	}
	// The id is taken, though the view does not know it.
	if rec := e.do("POST", "/v1/articles", deskToken, "application/json", []byte(`{"id": "fresh", "headline": "h", "body": "b"}`)); rec.Code != http.StatusConflict {
		t.Errorf("second create of the id: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do("GET", "/v1/articles/none", readerToken, "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown id: %d", rec.Code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ing.Run(ctx, e.nc, bus.RunOptions{}) }()
	t.Cleanup(func() { cancel(); <-done })
	// Enrichment and rendering of revision 1, as the stages publish them:
	// each with the article it worked on and when it was accepted.
	sub := e.submitted("fresh")[0]
	pub := bus.NewPublisher(e.js, noop.NewTracerProvider())
	enrichedAt, renderedAt := sub.AcceptedAt.AsTime().Add(time.Second), sub.AcceptedAt.AsTime().Add(2*time.Second)
	a := proto.Clone(sub.Article).(*newsroomv1.Article)
	a.Headline, a.Language = "Fresh story, enriched", "en"
	for _, ev := range []bus.Event{
		{Subject: bus.Subject(bus.EventEnriched, "fresh"), MsgID: bus.MsgID("fresh", 1, bus.EventEnriched),
			Message: &newsroomv1.ArticleEnriched{ArticleId: "fresh", Revision: 1, OccurredAt: timestamppb.New(enrichedAt), Article: a, AcceptedAt: sub.AcceptedAt}},
		{Subject: bus.Subject(bus.EventRendered, "fresh"), MsgID: bus.MsgID("fresh", 1, bus.EventRendered),
			Message: &newsroomv1.ArticleRendered{ArticleId: "fresh", Revision: 1, OccurredAt: timestamppb.New(renderedAt), Article: a, AcceptedAt: sub.AcceptedAt, Url: a.Url}},
	} {
		if _, err := pub.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	published := e.eventually("fresh", func(s Status) bool { return s.State == StatePublished })
	if published.Headline != "Fresh story, enriched" {
		t.Errorf("enrichment's headline is not the one shown: %q", published.Headline)
	}
	// The record holds what the stages did, and revision 1's submission
	// from their events.
	rec, _, err := e.ing.svc.getStatus(ctx, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	want := fromLog["fresh"].Revisions[0]
	if got := rec.Revisions[0]; got.Editor != want.Editor || got.Correction != want.Correction || got.SourceFormat != want.SourceFormat ||
		!got.AcceptedAt.Equal(want.AcceptedAt) || got.Stages.Submitted == nil || !got.Stages.Submitted.Equal(*want.Stages.Submitted) {
		t.Errorf("revision 1 from the stages' events:\n%+v\nfrom the log:\n%+v", got, want)
	}

	// Revision 2 shows at once, and revision 1 keeps its history though the
	// log now answers for revision 2.
	if rec := e.do("PUT", "/v1/articles/fresh", deskToken, "application/json", []byte(`{"headline": "Fresh story, updated", "body": "b2"}`)); rec.Code != http.StatusAccepted {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	st := e.status("fresh")
	if st.Revision != 2 || st.State != StateProcessing || st.Headline != "Fresh story, updated" || len(st.Revisions) != 2 {
		t.Fatalf("after revision 2: %+v", st)
	}
	if r1 := st.Revisions[0]; r1.Correction != "Spelling." || r1.Stages.Rendered == nil || r1.Stages.Submitted == nil || r1.Enrichment == nil {
		t.Errorf("revision 1 lost its history: %+v", r1)
	}
	if r2 := st.Revisions[1]; r2.Stages.Submitted == nil || r2.Correction != "" || r2.Enrichment != nil {
		t.Errorf("revision 2: %+v", r2)
	}
	// An article whose log holds an unreadable event still has a status
	// (the stage that cannot read it dead-letters it, and the status
	// lists that).
	if _, err := e.js.Publish(ctx, bus.Subject(bus.EventSubmitted, "poison"), []byte("\xff not protobuf")); err != nil {
		t.Fatal(err)
	}
	if rec := e.do("GET", "/v1/articles/poison", readerToken, "", nil); rec.Code != http.StatusOK {
		t.Errorf("status of an article with an unreadable event: %d %s", rec.Code, rec.Body)
	}
	// A retraction shows at once too.
	if rec := e.do("POST", "/v1/articles/later/retract", deskToken, "application/json", []byte(`{"reason": "wrong"}`)); rec.Code != http.StatusAccepted {
		t.Fatalf("retract: %d %s", rec.Code, rec.Body)
	}
	if st := e.status("later"); st.State != StateRetracted || st.Retraction == nil || st.Retraction.Reason != "wrong" {
		t.Errorf("after the retraction: %+v", st)
	}
}

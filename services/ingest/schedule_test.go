package ingest

import (
	"net/http"
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
)

// TestScheduledSurvivesRestart: a revision held for its publish time is
// kept through a stop of ingest and of the nats-server, is not released
// early, and is released once the (injected) clock reaches its time.
func TestScheduledSurvivesRestart(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := startEnv(t, "", Config{Now: clock.Now})
	resp := e.submit("application/json", []byte(`{"headline": "Budget vote", "body": "The council votes today.", "publish_at": "2026-05-01T09:00:00Z"}`))
	release := t0.Add(time.Hour)
	if resp.State != StateScheduled || resp.ReleaseAt == nil || !resp.ReleaseAt.Equal(release) {
		t.Fatalf("submit answered %+v", resp)
	}
	st := e.status(resp.ID)
	if st.State != StateScheduled || st.ScheduledFor == nil || !st.ScheduledFor.Equal(release) || st.Stages.Submitted != nil {
		t.Fatalf("status %+v", st)
	}
	if len(e.events(bus.EventScheduled, resp.ID)) != 1 {
		t.Fatal("the held revision is not on the log")
	}
	time.Sleep(300 * time.Millisecond) // several release checks
	if n := len(e.submitted(resp.ID)); n != 0 {
		t.Fatalf("released %d times before its time", n)
	}

	// Stop everything; start again on the same store, half an hour on.
	dir := e.dir
	e.stop()
	clock.Set(t0.Add(30 * time.Minute))
	e = startEnv(t, dir, Config{Now: clock.Now})
	if st := e.status(resp.ID); st.State != StateScheduled {
		t.Fatalf("after restart: %+v", st)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.submitted(resp.ID)); n != 0 {
		t.Fatalf("released %d times before its time, after restart", n)
	}

	clock.Set(release.Add(time.Second))
	st = e.eventually(resp.ID, func(s Status) bool { return s.Stages.Submitted != nil })
	if st.State != StateProcessing || st.Revision != 1 {
		t.Fatalf("released status %+v", st)
	}
	evs := e.submitted(resp.ID)
	if len(evs) != 1 || evs[0].Revision != 1 || evs[0].OccurredAt.AsTime().Before(release) ||
		!evs[0].AcceptedAt.AsTime().Equal(t0) || evs[0].Article.Headline != "Budget vote" {
		t.Fatalf("released events %+v", evs)
	}
	// Released once, whatever the redeliveries.
	time.Sleep(200 * time.Millisecond)
	if n := len(e.submitted(resp.ID)); n != 1 {
		t.Fatalf("released %d times", n)
	}
}

// TestEmbargoedNinjs: a wire item's embargo holds it like publish_at.
func TestEmbargoedNinjs(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	e := startEnv(t, "", Config{Now: clock.Now})
	resp := e.submit("application/ninjs+json", []byte(`{"uri": "urn:wire:1", "embargoed": "2026-05-01T12:00:00+02:00",
	  "headlines": [{"role": "main", "value": "Embargoed result"}], "bodies": [{"contenttype": "text/plain", "value": "Figures."}]}`))
	if resp.State != StateScheduled || !resp.ReleaseAt.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", resp)
	}
	clock.Set(time.Date(2026, 5, 1, 9, 59, 0, 0, time.UTC))
	time.Sleep(200 * time.Millisecond)
	if len(e.submitted(resp.ID)) != 0 {
		t.Fatal("released before the embargo")
	}
	clock.Set(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	e.eventually(resp.ID, func(s Status) bool { return s.State == StateProcessing })
}

// TestHeldRevisionSuperseded: a newer revision or a retraction cancels a
// held one; it is never released over them.
func TestHeldRevisionSuperseded(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := startEnv(t, "", Config{Now: clock.Now})

	// Held revision 1, then an immediate revision 2.
	a := e.submit("application/json", []byte(`{"id": "superseded", "headline": "v1", "body": "b", "publish_at": "2026-05-01T09:00:00Z"}`))
	rec := e.do("PUT", "/v1/articles/superseded", deskToken, "application/json", []byte(`{"headline": "v2", "body": "b"}`))
	if rec.Code != http.StatusAccepted || decodeJSON[SubmitResponse](t, rec).Revision != 2 {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	// Held, then retracted.
	b := e.submit("application/json", []byte(`{"id": "cancelled", "headline": "v1", "body": "b", "embargo_until": "2026-05-01T09:00:00Z"}`))
	if rec := e.do("POST", "/v1/articles/cancelled/retract", deskToken, "application/json", []byte(`{"reason": "story killed"}`)); rec.Code != http.StatusAccepted {
		t.Fatalf("retract: %d %s", rec.Code, rec.Body)
	}
	if st := e.status(b.ID); st.State != StateRetracted {
		t.Fatalf("held then retracted: %+v", st)
	}

	clock.Set(t0.Add(2 * time.Hour))
	time.Sleep(400 * time.Millisecond)
	if evs := e.submitted(a.ID); len(evs) != 1 || evs[0].Revision != 2 || evs[0].Article.Headline != "v2" {
		t.Fatalf("superseded: %d events", len(evs))
	}
	if evs := e.submitted(b.ID); len(evs) != 0 {
		t.Fatalf("retracted article released: %d events", len(evs))
	}
	st := e.status(a.ID)
	if st.Revision != 2 || st.State != StateProcessing || st.Revisions[0].ScheduledFor == nil || st.Revisions[0].Stages.Submitted != nil {
		t.Fatalf("history %+v", st)
	}
}

package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Stages of one revision: when each stage's event was stored, or null.
type Stages struct {
	Submitted *time.Time `json:"submitted"`
	Enriched  *time.Time `json:"enriched"`
	Rendered  *time.Time `json:"rendered"`
	Shared    *time.Time `json:"shared"`
}

// RevisionInfo is one revision in the history.
type RevisionInfo struct {
	Revision   int64     `json:"revision"`
	Editor     string    `json:"editor,omitempty"`
	AcceptedAt time.Time `json:"accepted_at"`
	Correction string    `json:"correction,omitempty"`
	Stages     Stages    `json:"stages"`
}

// Status is the editor's view of an article, answered by GET /v1/articles/{id}.
type Status struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	URL      string `json:"url"`
	// State: processing, published, retracted.
	State       string         `json:"state"`
	Headline    string         `json:"headline,omitempty"`
	Stages      Stages         `json:"stages"`
	Revisions   []RevisionInfo `json:"revisions"`
	RetractedAt *time.Time     `json:"retracted_at,omitempty"`
	Retraction  string         `json:"retraction_reason,omitempty"`
}

// record is what the status bucket stores per article.
type record struct {
	ID          string         `json:"id"`
	URL         string         `json:"url"`
	Headline    string         `json:"headline,omitempty"`
	Revisions   []RevisionInfo `json:"revisions"`
	RetractedAt *time.Time     `json:"retracted_at,omitempty"`
	Retraction  string         `json:"retraction_reason,omitempty"`
}

func (r *record) revision(n int64) *RevisionInfo {
	for i := range r.Revisions {
		if r.Revisions[i].Revision == n {
			return &r.Revisions[i]
		}
	}
	r.Revisions = append(r.Revisions, RevisionInfo{Revision: n})
	slices.SortFunc(r.Revisions, func(a, b RevisionInfo) int { return int(a.Revision - b.Revision) })
	return r.revision(n)
}

func (r *record) view() Status {
	st := Status{
		ID: r.ID, URL: r.URL, Headline: r.Headline, Revisions: r.Revisions,
		RetractedAt: r.RetractedAt, Retraction: r.Retraction, State: "processing",
	}
	if st.Revisions == nil {
		st.Revisions = []RevisionInfo{}
	}
	if n := len(r.Revisions); n > 0 {
		cur := r.Revisions[n-1]
		st.Revision, st.Stages = cur.Revision, cur.Stages
		if cur.Stages.Rendered != nil {
			st.State = "published"
		}
	}
	if r.RetractedAt != nil {
		st.State = "retracted"
	}
	return st
}

func (s *service) getStatus(ctx context.Context, id string) (*record, uint64, error) {
	e, err := s.status.Get(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("status of %s: %w", id, err)
	}
	return &r, e.Revision(), nil
}

// updateStatus applies fn to the article's record with compare-and-set, so
// several ingest instances can project events concurrently.
func (s *service) updateStatus(ctx context.Context, id string, fn func(*record)) error {
	for attempt := 0; ; attempt++ {
		r, rev, err := s.getStatus(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			r, rev, err = &record{ID: id, URL: s.PageURL(id)}, 0, nil
		}
		if err != nil {
			return err
		}
		fn(r)
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = s.status.Create(ctx, id, data)
		} else {
			_, err = s.status.Update(ctx, id, data, rev)
		}
		if err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		conflict := errors.Is(err, jetstream.ErrKeyExists) ||
			(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
		if !conflict || attempt >= 20 {
			return fmt.Errorf("status of %s: %w", id, err)
		}
	}
}

func (s *service) recordSubmitted(ctx context.Context, ev *newsroomv1.ArticleSubmitted) error {
	return s.updateStatus(ctx, ev.ArticleId, func(r *record) {
		rv := r.revision(ev.Revision)
		at := ev.OccurredAt.AsTime()
		rv.Stages.Submitted = &at
		rv.AcceptedAt = ev.AcceptedAt.AsTime()
		if a := ev.Article; a != nil {
			rv.Editor = a.Editor
			if a.Correction != nil {
				rv.Correction = a.Correction.Note
			}
			if a.Headline != "" && ev.Revision >= latest(r) {
				r.Headline = a.Headline
			}
			if a.Url != "" {
				r.URL = a.Url
			}
		}
	})
}

func latest(r *record) int64 {
	if n := len(r.Revisions); n > 0 {
		return r.Revisions[n-1].Revision
	}
	return 0
}

// statusEvent is an event as the status view sees it.
type statusEvent struct {
	event string
	raw   []byte
	hdr   *newsroomv1.EventHeader
}

// decodeEvent reads any article event: every event begins with the fields of
// EventHeader.
func decodeEvent(_ context.Context, msg jetstream.Msg) (statusEvent, error) {
	event, id, ok := bus.ParseSubject(msg.Subject())
	if !ok {
		return statusEvent{}, fmt.Errorf("subject %q is not an article event", msg.Subject())
	}
	var h newsroomv1.EventHeader
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(msg.Data(), &h); err != nil {
		return statusEvent{}, fmt.Errorf("event %s: %w", msg.Subject(), err)
	}
	if h.ArticleId != id {
		return statusEvent{}, fmt.Errorf("event for %q on the subject of %q", h.ArticleId, id)
	}
	return statusEvent{event: event, raw: msg.Data(), hdr: &h}, nil
}

// project applies one event to the status view.
func (s *service) project(ctx context.Context, ev statusEvent) (struct{}, error) {
	h := ev.hdr
	at := h.OccurredAt.AsTime()
	switch ev.event {
	case bus.EventSubmitted:
		var full newsroomv1.ArticleSubmitted
		if err := proto.Unmarshal(ev.raw, &full); err != nil {
			return struct{}{}, bus.Permanent(err)
		}
		return struct{}{}, s.recordSubmitted(ctx, &full)
	case bus.EventEnriched, bus.EventRendered, bus.EventShared:
		return struct{}{}, s.updateStatus(ctx, h.ArticleId, func(r *record) {
			rv := r.revision(h.Revision)
			switch ev.event {
			case bus.EventEnriched:
				rv.Stages.Enriched = &at
			case bus.EventRendered:
				rv.Stages.Rendered = &at
			case bus.EventShared:
				rv.Stages.Shared = &at
			}
		})
	case bus.EventRetracted:
		var full newsroomv1.ArticleRetracted
		if err := proto.Unmarshal(ev.raw, &full); err != nil {
			return struct{}{}, bus.Permanent(err)
		}
		return struct{}{}, s.updateStatus(ctx, h.ArticleId, func(r *record) {
			r.RetractedAt, r.Retraction = &at, full.Reason
		})
	}
	// Events this view does not know yet are fine: newer services may add them.
	return struct{}{}, nil
}

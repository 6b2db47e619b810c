package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ListRequest filters and pages the articles.
type ListRequest struct {
	// States keeps articles in any of these states; empty keeps all.
	States []string
	// Since and Until bound the time of the article's last event.
	Since, Until time.Time
	Limit        int
	// After is the cursor of the previous page.
	After *Cursor
}

// Cursor is a position in the list's order: newest first, then by id.
type Cursor struct {
	UpdatedAt time.Time `json:"u"`
	ID        string    `json:"i"`
}

// Encode makes the opaque cursor of a page's last item.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor reads a cursor made by Encode.
func ParseCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not a cursor from a previous page")
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, errors.New("not a cursor from a previous page")
	}
	return &c, nil
}

// before reports whether an article sorts before the cursor position.
func (c Cursor) before(updated time.Time, id string) bool {
	if !updated.Equal(c.UpdatedAt) {
		return updated.After(c.UpdatedAt)
	}
	return id <= c.ID
}

// Summary is one article in a list.
type Summary struct {
	ID           string     `json:"id"`
	Revision     int64      `json:"revision"`
	State        string     `json:"state"`
	Headline     string     `json:"headline,omitempty"`
	URL          string     `json:"url"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
	Problems     int        `json:"problems,omitempty"`
}

// ListResponse is one page.
type ListResponse struct {
	Articles []Summary `json:"articles"`
	// Next is the cursor of the following page; empty on the last.
	Next string `json:"next,omitempty"`
}

// Page sizes.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

func (s *service) List(ctx context.Context, req ListRequest) (ListResponse, error) {
	if req.Limit <= 0 {
		req.Limit = DefaultListLimit
	}
	req.Limit = min(req.Limit, MaxListLimit)
	// One watcher delivers every record once, then a nil marker: a single
	// pass over the bucket instead of a lookup per key.
	w, err := s.status.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return ListResponse{}, unavailable(err)
	}
	defer func() { _ = w.Stop() }()
	var all []Summary
	for {
		var e jetstream.KeyValueEntry
		select {
		case e = <-w.Updates():
		case <-ctx.Done():
			return ListResponse{}, unavailable(ctx.Err())
		}
		if e == nil {
			break
		}
		var r record
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			s.log.WarnContext(ctx, "unreadable status record skipped", "key", e.Key(), "err", err)
			continue
		}
		st := r.view()
		sum := Summary{ID: st.ID, Revision: st.Revision, State: st.State, Headline: st.Headline, URL: st.URL,
			UpdatedAt: st.UpdatedAt, ScheduledFor: st.ScheduledFor, Problems: len(st.Problems)}
		if req.keeps(sum) {
			all = append(all, sum)
		}
	}
	slices.SortFunc(all, func(a, b Summary) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	resp := ListResponse{Articles: []Summary{}}
	for _, sum := range all {
		if len(resp.Articles) == req.Limit {
			last := resp.Articles[len(resp.Articles)-1]
			resp.Next = Cursor{UpdatedAt: last.UpdatedAt, ID: last.ID}.Encode()
			break
		}
		resp.Articles = append(resp.Articles, sum)
	}
	return resp, nil
}

func (req ListRequest) keeps(s Summary) bool {
	switch {
	case len(req.States) > 0 && !slices.Contains(req.States, s.State):
		return false
	case !req.Since.IsZero() && s.UpdatedAt.Before(req.Since):
		return false
	case !req.Until.IsZero() && !s.UpdatedAt.Before(req.Until):
		return false
	case req.After != nil && req.After.before(s.UpdatedAt, s.ID):
		return false
	}
	return true
}

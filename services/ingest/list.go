package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ListRequest filters and pages the articles.
type ListRequest struct {
	// States keeps articles in any of these states; empty keeps all.
	States []string
	// Problems, when set, keeps only articles that need an editor's
	// attention (true: dead letters, failed shares, posts still up after
	// a retraction) or only those that do not (false).
	Problems *bool
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
	all, err := s.list.matching(ctx, s, req)
	if err != nil {
		return ListResponse{}, unavailable(err)
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

// summaries is the list's copy of the status view: one summary per
// article, as of a sequence of the status bucket's stream. Each list first
// reads what the bucket stored after that sequence, so it costs the
// records written since the last list, not a read of every record. Each
// instance keeps its own; the bucket is the truth.
type summaries struct {
	mu   sync.Mutex
	seq  uint64
	byID map[string]Summary
}

// The stream behind the status bucket, and the prefix of its subjects
// (the prefix and a key).
const (
	statusStream  = "KV_" + StatusBucket
	statusSubject = "$KV." + StatusBucket + "."
)

// matching brings the copy up to the bucket's last sequence and returns the
// summaries req keeps, in no order.
func (c *summaries) matching(ctx context.Context, s *service, req ListRequest) ([]Summary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, s); err != nil {
		return nil, err
	}
	var out []Summary
	for _, sum := range c.byID {
		if req.keeps(sum) {
			out = append(out, sum)
		}
	}
	return out, nil
}

// catchUp reads the status records stored after c.seq, up to the stream's
// last sequence when it is called.
func (c *summaries) catchUp(ctx context.Context, s *service) error {
	str, err := s.js.Stream(ctx, statusStream)
	if err != nil {
		return err
	}
	state := str.CachedInfo().State
	last := state.LastSeq
	if last < c.seq || c.byID == nil || state.Msgs == 0 {
		// A new or emptied bucket (or none read yet): start over.
		c.seq, c.byID = 0, map[string]Summary{}
	}
	if last == c.seq || state.Msgs == 0 {
		c.seq = last
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if last-c.seq <= directReads {
		// A few writes since the last list: read them one by one (a write
		// superseded since is gone, and its key's newer write is read).
		for seq := c.seq + 1; seq <= last; seq++ {
			m, err := str.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			c.apply(s, strings.TrimPrefix(m.Subject, statusSubject), m.Header.Get(kvOperation), m.Data)
		}
		c.seq = last
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{statusSubject + ">"},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: c.seq + 1}
	if c.seq == 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverLastPerSubjectPolicy, 0
	}
	cons, err := str.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	// Every write is a new sequence, and a deleted key leaves a marker: a
	// message at or after last exists, so this ends unless ctx does.
	for c.seq < last {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		c.apply(s, strings.TrimPrefix(m.Subject(), statusSubject), m.Headers().Get(kvOperation), m.Data())
		c.seq = md.Sequence.Stream
	}
	return nil
}

// directReads is how many sequences a list reads one by one rather than
// through a consumer.
const directReads = 64

// kvOperation is the header of a KV delete or purge marker.
const kvOperation = "KV-Operation"

func (c *summaries) apply(s *service, key, op string, value []byte) {
	if op != "" {
		delete(c.byID, key)
		return
	}
	var r record
	if err := json.Unmarshal(value, &r); err != nil {
		delete(c.byID, key)
		s.log.Warn("unreadable status record skipped", "key", key, "err", err)
		return
	}
	st := r.view()
	c.byID[key] = Summary{ID: st.ID, Revision: st.Revision, State: st.State, Headline: st.Headline, URL: st.URL,
		UpdatedAt: st.UpdatedAt, ScheduledFor: st.ScheduledFor, Problems: len(st.Problems)}
}

func (req ListRequest) keeps(s Summary) bool {
	switch {
	case len(req.States) > 0 && !slices.Contains(req.States, s.State):
		return false
	case req.Problems != nil && *req.Problems != (s.Problems > 0):
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

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
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
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
// article, made from its status record (the later stages' events, as of a
// sequence of the status bucket's stream) and ingest's own last events (as
// of a sequence of the NEWS stream). Each list first reads what the bucket
// and the log stored after those sequences, so it costs what changed
// since the last list, not a read of every record. Each instance keeps its
// own; the bucket and the log are the truth.
type summaries struct {
	mu sync.Mutex
	// seq and logSeq: how far the bucket's stream and the log were read.
	seq, logSeq uint64
	// recs and own are what the summaries are made of, trimmed to what a
	// summary needs.
	recs map[string]*record
	own  map[string]*ownEvents
	byID map[string]Summary
}

// The stream behind the status bucket, and the prefix of its subjects
// (the prefix and a key).
const (
	statusStream  = "KV_" + StatusBucket
	statusSubject = "$KV." + StatusBucket + "."
)

// ownSubjects are the subjects of ingest's own events, which the status
// consumer does not read.
var ownSubjects = []string{
	bus.EventSubjects(bus.EventSubmitted), bus.EventSubjects(bus.EventScheduled), bus.EventSubjects(bus.EventRetracted),
}

// matching brings the copy up to the bucket's and the log's last sequences
// and returns the summaries req keeps, in no order.
func (c *summaries) matching(ctx context.Context, s *service, req ListRequest) ([]Summary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.recs, c.own, c.byID = map[string]*record{}, map[string]*ownEvents{}, map[string]Summary{}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	changed := map[string]bool{}
	if err := c.catchUp(ctx, s, changed); err != nil {
		return nil, err
	}
	if err := c.catchUpLog(ctx, s, changed); err != nil {
		return nil, err
	}
	for id := range changed {
		c.summarize(s, id)
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
func (c *summaries) catchUp(ctx context.Context, s *service, changed map[string]bool) error {
	str, err := s.js.Stream(ctx, statusStream)
	if err != nil {
		return err
	}
	state := str.CachedInfo().State
	last := state.LastSeq
	if last < c.seq || (state.Msgs == 0 && len(c.recs) > 0) {
		// A new or emptied bucket: start over.
		for id := range c.recs {
			changed[id] = true
		}
		c.seq, c.recs = 0, map[string]*record{}
	}
	if last == c.seq || state.Msgs == 0 {
		c.seq = last
		return nil
	}
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
			c.apply(s, strings.TrimPrefix(m.Subject, statusSubject), m.Header.Get(kvOperation), m.Data, changed)
		}
		c.seq = last
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{statusSubject + ">"},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: c.seq + 1}
	if c.seq == 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverLastPerSubjectPolicy, 0
	}
	// Every write is a new sequence, and a deleted key leaves a marker: a
	// message at or after last exists, so this ends unless ctx does.
	return readOrdered(ctx, str, cfg, func(m jetstream.Msg, seq uint64) bool {
		c.apply(s, strings.TrimPrefix(m.Subject(), statusSubject), m.Headers().Get(kvOperation), m.Data(), changed)
		c.seq = seq
		return c.seq < last
	})
}

// catchUpLog reads ingest's own events stored in the log after c.logSeq.
func (c *summaries) catchUpLog(ctx context.Context, s *service, changed map[string]bool) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return err
	}
	last := info.State.LastSeq
	if last < c.logSeq {
		// A new log: start over.
		for id := range c.own {
			changed[id] = true
		}
		c.logSeq, c.own = 0, map[string]*ownEvents{}
	}
	if last == c.logSeq {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: ownSubjects,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: c.logSeq + 1}
	if c.logSeq == 0 {
		// Each subject is one article's events of one kind: its last
		// message is all a status takes from it.
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverLastPerSubjectPolicy, 0
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	// What the consumer has pending when made is every matching message
	// up to last, at least.
	pending := cons.CachedInfo().NumPending
	if pending == 0 {
		_ = s.stream.DeleteConsumer(ctx, cons.CachedInfo().Name)
		c.logSeq = last
		return nil
	}
	read := uint64(0)
	return readOrderedFrom(ctx, cons, func(m jetstream.Msg, seq uint64) bool {
		c.applyOwn(s, m, changed)
		c.logSeq = max(c.logSeq, seq)
		read++
		return read < pending
	})
}

// readOrdered reads an ordered consumer's messages, each with its stream
// sequence, while more says so.
func readOrdered(ctx context.Context, str jetstream.Stream, cfg jetstream.OrderedConsumerConfig, more func(jetstream.Msg, uint64) bool) error {
	cons, err := str.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	return readOrderedFrom(ctx, cons, more)
}

func readOrderedFrom(ctx context.Context, cons jetstream.Consumer, more func(jetstream.Msg, uint64) bool) error {
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		if !more(m, md.Sequence.Stream) {
			return nil
		}
	}
}

// directReads is how many sequences a list reads one by one rather than
// through a consumer.
const directReads = 64

// kvOperation is the header of a KV delete or purge marker.
const kvOperation = "KV-Operation"

// apply takes a status record (or its deletion) into the copy.
func (c *summaries) apply(s *service, key, op string, value []byte, changed map[string]bool) {
	changed[key] = true
	if op != "" {
		delete(c.recs, key)
		return
	}
	var r record
	if err := json.Unmarshal(value, &r); err != nil {
		delete(c.recs, key)
		s.log.Warn("unreadable status record skipped", "key", key, "err", err)
		return
	}
	// A summary needs no enrichment but whether it found a headline.
	for i := range r.Revisions {
		if e := r.Revisions[i].Enrichment; e != nil {
			r.Revisions[i].Enrichment = &Enrichment{Headline: e.Headline}
		}
	}
	c.recs[key] = &r
}

// applyOwn takes one of ingest's own events into the copy, without the
// article's body.
func (c *summaries) applyOwn(s *service, m jetstream.Msg, changed map[string]bool) {
	event, id, ok := bus.ParseSubject(m.Subject())
	if !ok {
		return
	}
	var (
		sub newsroomv1.ArticleSubmitted
		ret newsroomv1.ArticleRetracted
		ev  proto.Message = &sub
	)
	if event == bus.EventRetracted {
		ev = &ret
	}
	if err := proto.Unmarshal(m.Data(), ev); err != nil {
		s.log.Warn("unreadable event skipped", "subject", m.Subject(), "err", err)
		return
	}
	o := c.own[id]
	if o == nil {
		o = &ownEvents{}
		c.own[id] = o
	}
	changed[id] = true
	if event == bus.EventRetracted {
		o.retracted = &ret
		return
	}
	a := sub.Article
	sub.Article = &newsroomv1.Article{Headline: a.GetHeadline(), Editor: a.GetEditor(), SourceFormat: a.GetSourceFormat(),
		Correction: a.GetCorrection(), Url: a.GetUrl(), PublishAt: a.GetPublishAt(), EmbargoUntil: a.GetEmbargoUntil()}
	if event == bus.EventSubmitted {
		o.submitted = &sub
	} else {
		o.scheduled = &sub
	}
}

// summarize makes an article's summary from its record and own events.
func (c *summaries) summarize(s *service, id string) {
	rec, own := c.recs[id], c.own[id]
	if rec == nil && own == nil {
		delete(c.byID, id)
		return
	}
	r := &record{ID: id, URL: s.PageURL(id)}
	if rec != nil {
		cp := *rec
		cp.Revisions = slices.Clone(rec.Revisions)
		r = &cp
	}
	if own != nil {
		own.applyTo(r)
	}
	st := r.view()
	c.byID[id] = Summary{ID: st.ID, Revision: st.Revision, State: st.State, Headline: st.Headline, URL: st.URL,
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

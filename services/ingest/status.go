package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// States of an article, as the status view reports them.
const (
	StateScheduled  = "scheduled"
	StateProcessing = "processing"
	StatePublished  = "published"
	StateFailed     = "failed"
	StateRetracted  = "retracted"
)

// States lists every state, for filters and docs.
var States = []string{StateScheduled, StateProcessing, StatePublished, StateFailed, StateRetracted}

// Stages of one revision: when each stage's event was stored, or null.
type Stages struct {
	Submitted *time.Time `json:"submitted"`
	Enriched  *time.Time `json:"enriched"`
	Rendered  *time.Time `json:"rendered"`
	Shared    *time.Time `json:"shared"`
	// Withdrawn: after a retraction, when every network's post of the
	// article was dealt with (deleted, or failed to delete: see Shares).
	Withdrawn *time.Time `json:"withdrawn,omitempty"`
}

// Evidence says where an inferred value came from.
type Evidence struct {
	Source     string  `json:"source"`
	Rule       string  `json:"rule,omitempty"`
	Confidence float64 `json:"confidence"`
	Excerpt    string  `json:"excerpt,omitempty"`
}

func evidence(e *newsroomv1.Evidence) *Evidence {
	if e == nil {
		return nil
	}
	return &Evidence{Source: e.Source, Rule: e.Rule, Confidence: e.Confidence, Excerpt: e.Excerpt}
}

// Byline as enrichment settled it.
type Byline struct {
	Name           string    `json:"name"`
	Organization   string    `json:"organization,omitempty"`
	IsOrganization bool      `json:"is_organization,omitempty"`
	Slug           string    `json:"slug,omitempty"`
	URL            string    `json:"url,omitempty"`
	Evidence       *Evidence `json:"evidence,omitempty"`
}

// Image as enrichment settled it.
type Image struct {
	URL        string    `json:"url"`
	Caption    string    `json:"caption,omitempty"`
	Credit     string    `json:"credit,omitempty"`
	Alt        string    `json:"alt,omitempty"`
	AltDerived bool      `json:"alt_derived,omitempty"`
	Evidence   *Evidence `json:"evidence,omitempty"`
}

// Tag as enrichment settled it.
type Tag struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Code     string    `json:"code,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Enrichment is what enrichment made of a revision, each inferred value
// with its evidence, so a copy desk can judge it.
type Enrichment struct {
	Headline       string               `json:"headline,omitempty"`
	Dek            string               `json:"dek,omitempty"`
	Language       string               `json:"language,omitempty"`
	Section        string               `json:"section,omitempty"`
	Slug           string               `json:"slug,omitempty"`
	WordCount      int32                `json:"word_count,omitempty"`
	ReadingMinutes int32                `json:"reading_minutes,omitempty"`
	Evidence       map[string]*Evidence `json:"evidence,omitempty"`
	Bylines        []Byline             `json:"bylines,omitempty"`
	Images         []Image              `json:"images,omitempty"`
	Tags           []Tag                `json:"tags,omitempty"`
}

func enrichmentOf(a *newsroomv1.Article) *Enrichment {
	if a == nil {
		return nil
	}
	e := &Enrichment{Headline: a.Headline, Dek: a.Dek, Language: a.Language, Section: a.Section,
		Slug: a.Slug, WordCount: a.WordCount, ReadingMinutes: a.ReadingMinutes}
	for k, v := range a.Evidence {
		if e.Evidence == nil {
			e.Evidence = map[string]*Evidence{}
		}
		e.Evidence[k] = evidence(v)
	}
	for _, b := range a.Bylines {
		e.Bylines = append(e.Bylines, Byline{Name: b.Name, Organization: b.Organization, IsOrganization: b.IsOrganization,
			Slug: b.Slug, URL: b.Url, Evidence: evidence(b.Evidence)})
	}
	for _, im := range a.Images {
		e.Images = append(e.Images, Image{URL: im.Url, Caption: im.Caption, Credit: im.Credit, Alt: im.Alt,
			AltDerived: im.AltDerived, Evidence: evidence(im.Evidence)})
	}
	for _, t := range a.Tags {
		e.Tags = append(e.Tags, Tag{Name: t.Name, Type: strings.ToLower(strings.TrimPrefix(t.Type.String(), "TAG_TYPE_")),
			Code: t.Code, Evidence: evidence(t.Evidence)})
	}
	return e
}

// Share is one network's outcome for a revision.
type Share struct {
	Network   string `json:"network"`
	Status    string `json:"status"`
	Link      string `json:"link,omitempty"`
	RemoteURL string `json:"remote_url,omitempty"`
	Attempts  int32  `json:"attempts,omitempty"`
	Error     string `json:"error,omitempty"`
}

// DeadLetter is a message of this article a stage gave up on.
type DeadLetter struct {
	Service    string    `json:"service"`
	Event      string    `json:"event"`
	Reason     string    `json:"reason"`
	Deliveries int64     `json:"deliveries,omitempty"`
	At         time.Time `json:"at"`
}

// RevisionInfo is one revision in the history.
type RevisionInfo struct {
	Revision     int64        `json:"revision"`
	Editor       string       `json:"editor,omitempty"`
	AcceptedAt   time.Time    `json:"accepted_at"`
	ScheduledFor *time.Time   `json:"scheduled_for,omitempty"`
	Correction   string       `json:"correction,omitempty"`
	SourceFormat string       `json:"source_format,omitempty"`
	Stages       Stages       `json:"stages"`
	Enrichment   *Enrichment  `json:"enrichment,omitempty"`
	Shares       []Share      `json:"shares,omitempty"`
	DeadLetters  []DeadLetter `json:"dead_letters,omitempty"`
}

// Retraction is how an article was taken down.
type Retraction struct {
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
	Editor   string    `json:"editor,omitempty"`
	Revision int64     `json:"revision"`
}

// Status is the editor's view of an article, answered by GET /v1/articles/{id}.
type Status struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	URL      string `json:"url"`
	// State: scheduled, processing, published, failed, retracted.
	State        string         `json:"state"`
	Headline     string         `json:"headline,omitempty"`
	ScheduledFor *time.Time     `json:"scheduled_for,omitempty"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Stages       Stages         `json:"stages"`
	Revisions    []RevisionInfo `json:"revisions"`
	Retraction   *Retraction    `json:"retraction,omitempty"`
	// Problems lists what needs an editor's attention: dead letters and
	// failed shares of the current revision. Nothing fails silently.
	Problems []string `json:"problems"`
}

// record is what the status bucket stores per article.
type record struct {
	ID         string         `json:"id"`
	URL        string         `json:"url"`
	Headline   string         `json:"headline,omitempty"`
	UpdatedAt  time.Time      `json:"updated_at"`
	Revisions  []RevisionInfo `json:"revisions"`
	Retraction *Retraction    `json:"retraction,omitempty"`
	// Orphans are dead letters whose revision could not be read.
	Orphans []DeadLetter `json:"orphan_dead_letters,omitempty"`
}

func (r *record) revision(n int64) *RevisionInfo {
	if rv := r.find(n); rv != nil {
		return rv
	}
	r.Revisions = append(r.Revisions, RevisionInfo{Revision: n})
	slices.SortFunc(r.Revisions, func(a, b RevisionInfo) int { return int(a.Revision - b.Revision) })
	return r.revision(n)
}

// find is revision n, or nil.
func (r *record) find(n int64) *RevisionInfo {
	for i := range r.Revisions {
		if r.Revisions[i].Revision == n {
			return &r.Revisions[i]
		}
	}
	return nil
}

func (r *record) touch(t time.Time) {
	if t.After(r.UpdatedAt) {
		r.UpdatedAt = t
	}
}

func (r *record) latest() *RevisionInfo {
	if n := len(r.Revisions); n > 0 {
		return &r.Revisions[n-1]
	}
	return nil
}

func (r *record) state() string {
	cur := r.latest()
	switch {
	case r.Retraction != nil:
		return StateRetracted
	case cur == nil:
		return StateProcessing
	case cur.Stages.Submitted == nil && cur.ScheduledFor != nil:
		return StateScheduled
	case cur.Stages.Rendered == nil && len(cur.DeadLetters) > 0:
		return StateFailed
	case cur.Stages.Rendered != nil:
		return StatePublished
	}
	return StateProcessing
}

func (r *record) view() Status {
	st := Status{
		ID: r.ID, URL: r.URL, Headline: r.Headline, Revisions: r.Revisions, UpdatedAt: r.UpdatedAt,
		Retraction: r.Retraction, State: r.state(), Problems: []string{},
	}
	if st.Revisions == nil {
		st.Revisions = []RevisionInfo{}
	}
	if cur := r.latest(); cur != nil {
		st.Revision, st.Stages = cur.Revision, cur.Stages
		if st.State == StateScheduled {
			st.ScheduledFor = cur.ScheduledFor
		}
		for _, d := range cur.DeadLetters {
			st.Problems = append(st.Problems, fmt.Sprintf("%s gave up on the %s event of revision %d after %d deliveries: %s",
				d.Service, d.Event, cur.Revision, d.Deliveries, d.Reason))
		}
		for _, sh := range cur.Shares {
			switch {
			case sh.Status != "failed":
			case cur.Stages.Withdrawn != nil:
				st.Problems = append(st.Problems, fmt.Sprintf("the post on %s is still up after the retraction: %s", sh.Network, sh.Error))
			default:
				st.Problems = append(st.Problems, fmt.Sprintf("sharing revision %d on %s failed after %d attempts: %s",
					cur.Revision, sh.Network, sh.Attempts, sh.Error))
			}
		}
	}
	for _, d := range r.Orphans {
		st.Problems = append(st.Problems, fmt.Sprintf("%s gave up on an unreadable %s event: %s", d.Service, d.Event, d.Reason))
	}
	return st
}

// ETag of a status: its revision.
func (st Status) ETag() string { return strconv.Quote(strconv.FormatInt(st.Revision, 10)) }

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

func (s *service) Status(ctx context.Context, id string) (Status, error) {
	r, err := s.statusOf(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Status{}, problem.New(http.StatusNotFound, "not-found", "Article not found", fmt.Sprintf("No article %q.", id))
	}
	if err != nil {
		return Status{}, unavailable(err)
	}
	return r.view(), nil
}

// statusOf is the article's record in the status view with ingest's own
// last events merged in, read from the log: the status consumer does not
// read them (see ConsumerSpec), so the answer holds a revision, a held
// revision or a retraction as soon as its PubAck does. ErrKeyNotFound if
// neither knows the article.
func (s *service) statusOf(ctx context.Context, id string) (*record, error) {
	r, _, err := s.getStatus(ctx, id)
	found := err == nil
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		r, err = &record{ID: id, URL: s.PageURL(id)}, nil
	}
	if err != nil {
		return nil, err
	}
	l, err := s.readLogWith(ctx, id, true)
	if err != nil {
		return nil, err
	}
	if !found && !l.exists() {
		return nil, jetstream.ErrKeyNotFound
	}
	l.own.applyTo(r)
	if err := s.readHistory(ctx, r, l.revision); err != nil {
		return nil, err
	}
	return r, nil
}

// readHistory reads from the log the revisions up to last that the record
// does not hold: earlier revisions no stage has reported on yet (revised
// again before enrichment, or while the stages are down). Revisions are
// numbered from 1 without gaps, and each kind's subject holds them in
// order, so the walk stops past the highest one missing.
func (s *service) readHistory(ctx context.Context, r *record, last int64) error {
	missing := map[int64]bool{}
	var highest int64
	for n := int64(1); n <= last; n++ {
		rv := r.find(n)
		// A held revision shown as still held may have been released
		// before a later one came.
		if rv == nil || rv.AcceptedAt.IsZero() || (n < last && rv.ScheduledFor != nil && rv.Stages.Submitted == nil) {
			missing[n], highest = true, n
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, event := range []string{bus.EventScheduled, bus.EventSubmitted} {
		subject := bus.Subject(event, r.ID)
		for seq := uint64(1); ; {
			m, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return fmt.Errorf("history of %s: %w", r.ID, err)
			}
			seq = m.Sequence + 1
			var ev newsroomv1.ArticleSubmitted
			if err := proto.Unmarshal(m.Data, &ev); err != nil {
				continue // unreadable: a stage's dead letter reports it
			}
			if missing[ev.Revision] {
				submitted(r, event, &ev)
			}
			if ev.Revision >= highest {
				break
			}
		}
	}
	return nil
}

// updateStatus applies fn to the article's record with compare-and-set, so
// several ingest instances can project events concurrently.
func (s *service) updateStatus(ctx context.Context, id string, fn func(*record)) error {
	for attempt := 0; ; attempt++ {
		r, rev := &record{ID: id, URL: s.PageURL(id)}, uint64(0)
		var old []byte
		e, err := s.status.Get(ctx, id)
		switch {
		case err == nil:
			if err := json.Unmarshal(e.Value(), r); err != nil {
				return fmt.Errorf("status of %s: %w", id, err)
			}
			rev, old = e.Revision(), e.Value()
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return err
		}
		fn(r)
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if bytes.Equal(data, old) {
			return nil // already projected (a redelivery)
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

// ownEvents are ingest's own last events of an article, as the log holds
// them: the last revision released (submitted), the last held (scheduled),
// the retraction.
type ownEvents struct {
	submitted, scheduled *newsroomv1.ArticleSubmitted
	retracted            *newsroomv1.ArticleRetracted
}

// applyTo merges them into a record of the later stages' events. Each
// sets only its own parts, so the merge gives what projecting every event
// in log order gave.
func (o ownEvents) applyTo(r *record) {
	if o.scheduled != nil {
		submitted(r, bus.EventScheduled, o.scheduled)
	}
	if o.submitted != nil {
		submitted(r, bus.EventSubmitted, o.submitted)
	}
	if o.retracted != nil {
		retracted(r, o.retracted)
	}
}

// fromStage fills a revision's submission from a later stage's event,
// which carries the article and when it was accepted: the log answers only
// for an article's last submitted and scheduled revisions, and this keeps
// the earlier ones in the history. A held revision was released at its
// time.
func (r *record) fromStage(rev int64, a *newsroomv1.Article, acceptedAt *timestamppb.Timestamp) {
	if a == nil || acceptedAt == nil || !r.revision(rev).AcceptedAt.IsZero() {
		return
	}
	ev := &newsroomv1.ArticleSubmitted{ArticleId: r.ID, Revision: rev, OccurredAt: acceptedAt, AcceptedAt: acceptedAt, Article: a}
	if due := releaseTime(a); due.After(acceptedAt.AsTime()) {
		submitted(r, bus.EventScheduled, ev)
		ev.OccurredAt = timestamppb.New(due)
	}
	submitted(r, bus.EventSubmitted, ev)
}

// submitted applies a revision's event to a record.
func submitted(r *record, event string, ev *newsroomv1.ArticleSubmitted) {
	rv := r.revision(ev.Revision)
	at := ev.OccurredAt.AsTime()
	r.touch(at)
	rv.AcceptedAt = ev.AcceptedAt.AsTime()
	a := ev.Article
	if event == bus.EventSubmitted {
		rv.Stages.Submitted = &at
	} else if due := releaseTime(a); !due.IsZero() {
		rv.ScheduledFor = &due
	}
	if a == nil {
		return
	}
	rv.Editor = a.Editor
	rv.SourceFormat = strings.ToLower(strings.TrimPrefix(a.SourceFormat.String(), "SOURCE_FORMAT_"))
	if a.Correction != nil {
		rv.Correction = a.Correction.Note
	}
	// Enrichment's headline, once there, is the one shown.
	if a.Headline != "" && ev.Revision >= r.latest().Revision && (rv.Enrichment == nil || rv.Enrichment.Headline == "") {
		r.Headline = a.Headline
	}
}

// retracted applies a retraction to a record.
func retracted(r *record, ev *newsroomv1.ArticleRetracted) {
	at := ev.OccurredAt.AsTime()
	r.touch(at)
	r.Retraction = &Retraction{At: at, Reason: ev.Reason, Editor: ev.Editor, Revision: ev.Revision}
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

// project applies one event to the status view. Each event sets only its
// own parts, so replaying the log in any order per article converges.
func (s *service) project(ctx context.Context, ev statusEvent) (struct{}, error) {
	h := ev.hdr
	at := h.OccurredAt.AsTime()
	switch ev.event {
	case bus.EventEnriched:
		var full newsroomv1.ArticleEnriched
		if err := proto.Unmarshal(ev.raw, &full); err != nil {
			return struct{}{}, bus.Permanent(err)
		}
		return struct{}{}, s.updateStatus(ctx, h.ArticleId, func(r *record) {
			r.touch(at)
			r.fromStage(h.Revision, full.Article, full.AcceptedAt)
			rv := r.revision(h.Revision)
			rv.Stages.Enriched = &at
			rv.Enrichment = enrichmentOf(full.Article)
			// A paste or a page has its headline only once enrichment
			// found it.
			if hl := full.Article.GetHeadline(); hl != "" && h.Revision >= r.latest().Revision {
				r.Headline = hl
			}
		})
	case bus.EventRendered:
		var full newsroomv1.ArticleRendered
		if err := proto.Unmarshal(ev.raw, &full); err != nil {
			return struct{}{}, bus.Permanent(err)
		}
		return struct{}{}, s.updateStatus(ctx, h.ArticleId, func(r *record) {
			r.touch(at)
			r.fromStage(h.Revision, full.Article, full.AcceptedAt)
			r.revision(h.Revision).Stages.Rendered = &at
			if full.Url != "" && h.Revision >= r.latest().Revision {
				r.URL = full.Url
			}
		})
	case bus.EventShared, bus.EventWithdrawn:
		// Both carry each network's outcome: after sharing, or after
		// the posts of a retracted article were dealt with.
		var full newsroomv1.ArticleShared
		if err := proto.Unmarshal(ev.raw, &full); err != nil {
			return struct{}{}, bus.Permanent(err)
		}
		return struct{}{}, s.updateStatus(ctx, h.ArticleId, func(r *record) {
			r.touch(at)
			rv := r.revision(h.Revision)
			rv.setShares(at, full.Shares)
			if ev.event == bus.EventShared {
				rv.Stages.Shared = &at
			} else {
				rv.Stages.Withdrawn = &at
			}
		})
	}
	// Ingest's own events are read from the log when asked (statusOf), and
	// events this view does not know yet are fine: newer services may add
	// them.
	return struct{}{}, nil
}

// setShares takes each network's outcome from a shared or withdrawn event
// that occurred at t, unless the revision holds a later one: both events
// come from the share ledger, so the later is the truer, in whatever order
// they are projected.
func (rv *RevisionInfo) setShares(t time.Time, in []*newsroomv1.Share) {
	for _, seen := range []*time.Time{rv.Stages.Shared, rv.Stages.Withdrawn} {
		if seen != nil && seen.After(t) {
			return
		}
	}
	rv.Shares = make([]Share, 0, len(in))
	for _, sh := range in {
		rv.Shares = append(rv.Shares, Share{Network: sh.Network,
			Status: strings.ToLower(strings.TrimPrefix(sh.Status.String(), "SHARE_STATUS_")),
			Link:   sh.Link, RemoteURL: sh.RemoteUrl, Attempts: sh.Attempts, Error: sh.LastError})
	}
}

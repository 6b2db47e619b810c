package ingest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// dlqDurable is ingest's consumer of the dead letters, which it shows in
// the status view: a stage that gave up on an article is never silent.
const dlqDurable = Name + "-dead-letters"

// deadLetter is a dead-lettered article event, as its headers describe it.
type deadLetter struct {
	articleID string
	revision  int64
	view      DeadLetter
	// submission is the dead-lettered event when it was a revision
	// (enrichment gave up on it): the history shows what was submitted.
	submission *newsroomv1.ArticleSubmitted
}

func decodeDeadLetter(msg jetstream.Msg) (deadLetter, bool) {
	h := msg.Headers()
	event, id, ok := bus.ParseSubject(h.Get(bus.HeaderDLQSubject))
	if !ok {
		return deadLetter{}, false
	}
	d := deadLetter{articleID: id, view: DeadLetter{
		Service: h.Get(bus.HeaderDLQService), Event: event, Reason: h.Get(bus.HeaderDLQReason),
	}}
	d.view.Deliveries, _ = strconv.ParseInt(h.Get(bus.HeaderDLQDeliveries), 10, 64)
	if md, err := msg.Metadata(); err == nil {
		d.view.At = md.Timestamp
	}
	// The dead letter carries the event as it was; a poison payload has no
	// readable revision and is shown on the article as a whole.
	var hdr newsroomv1.EventHeader
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(msg.Data(), &hdr); err == nil && hdr.ArticleId == id {
		d.revision = hdr.Revision
		var sub newsroomv1.ArticleSubmitted
		if (event == bus.EventSubmitted || event == bus.EventScheduled) && proto.Unmarshal(msg.Data(), &sub) == nil {
			d.submission = &sub
		}
	}
	return d, true
}

func (s *service) recordDeadLetter(ctx context.Context, d deadLetter) error {
	return s.updateStatus(ctx, d.articleID, func(r *record) {
		r.touch(d.view.At)
		if d.submission != nil {
			submitted(r, d.view.Event, d.submission)
		}
		list := &r.Orphans
		if d.revision > 0 {
			list = &r.revision(d.revision).DeadLetters
		}
		for _, old := range *list {
			if old.Service == d.view.Service && old.Event == d.view.Event && old.At.Equal(d.view.At) {
				return // a redelivered dead letter
			}
		}
		*list = append(*list, d.view)
	})
}

// runDeadLetters projects dead letters into the status view until ctx ends.
func (s *service) runDeadLetters(ctx context.Context, ready chan<- struct{}) error {
	cons, err := s.js.CreateOrUpdateConsumer(ctx, bus.DLQStreamName, jetstream.ConsumerConfig{
		Durable:       dlqDurable,
		Description:   "newsroom ingest: dead letters shown in the status view",
		FilterSubject: bus.DLQSubject(">"),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("ensure consumer %s: %w", dlqDurable, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		d, ok := decodeDeadLetter(msg)
		if !ok {
			s.log.Warn("dead letter without an article subject; not shown", "subject", msg.Subject())
			_ = msg.Term()
			return
		}
		// Finish the message even while shutting down.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.recordDeadLetter(mctx, d); err != nil {
			s.log.Warn("dead letter not projected; will retry", "article_id", d.articleID, "err", err)
			_ = msg.NakWithDelay(time.Second)
			return
		}
		_ = msg.Ack()
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.log.Warn("consumer", "durable", dlqDurable, "err", err)
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", dlqDurable, err)
	}
	close(ready)
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	return nil
}

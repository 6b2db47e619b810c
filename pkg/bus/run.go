package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/newsroom/newsroom/pkg/telemetry"
)

// MsgHandler handles one message to its settlement; Subscriber.ServeMsg is one.
type MsgHandler interface {
	ServeMsg(jetstream.Msg)
}

// RunOptions tune a consumer loop.
type RunOptions struct {
	// Concurrency is the number of workers. Messages of one article always
	// go to the same worker, so one instance handles an article's events
	// in order. Defaults to 4.
	Concurrency int
	Logger      *slog.Logger
	// Ready, if set, is closed once the consumer exists and is consuming.
	Ready chan<- struct{}
	// Finalizer, if set, is called once per message after it is settled,
	// after the Subscriber's own finalizers: the process around the
	// service (its metrics) observes every message without the service
	// wiring it. It is called only for handlers built by NewSubscriber.
	Finalizer func(context.Context, Result)
	// AckWait, if set, replaces the consumer spec's (NEWSROOM_ACK_WAIT):
	// how long a delivered message that is neither settled nor marked in
	// progress waits before the server redelivers it, e.g. after a crash.
	// Subscribers built with another spec keep their messages in progress
	// at a third of it.
	AckWait time.Duration
}

// runHandler is a MsgHandler that takes the loop's options per message;
// *Subscriber is one.
type runHandler interface {
	serveMsg(jetstream.Msg, serveOptions)
}

// Run ensures the durable consumer and handles its messages until ctx ends,
// then drains: no new messages are pulled, the ones already delivered are
// handled and settled, and Run returns nil.
func Run(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec, h MsgHandler, o RunOptions) error {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.AckWait > 0 {
		spec.AckWait = o.AckWait
	}
	cons, err := EnsureConsumer(ctx, js, spec)
	if err != nil {
		return err
	}
	inProgress := spec.withDefaults().AckWait / 3

	serve := h.ServeMsg
	if rh, ok := h.(runHandler); ok {
		so := serveOptions{finalizer: o.Finalizer}
		if o.AckWait > 0 {
			so.inProgress = inProgress
		}
		serve = func(m jetstream.Msg) { rh.serveMsg(m, so) }
	}
	// A message waiting behind a slow one of its worker is as much in
	// hand as the one being handled: keep it in progress too, or its
	// AckWait runs out in the queue and another instance does the same
	// work again.
	waiting := newWaitRoom()
	stopKeeper := waiting.keep(inProgress)
	defer stopKeeper()
	workers := make([]chan jetstream.Msg, o.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		ch := make(chan jetstream.Msg, 16)
		workers[i] = ch
		wg.Go(func() {
			for m := range ch {
				waiting.leave(m)
				serve(m)
			}
		})
	}
	dispatch := func(m jetstream.Msg) {
		key := m.Subject()
		if _, id, ok := ParseSubject(key); ok {
			key = id
		}
		f := fnv.New32a()
		f.Write([]byte(key))
		waiting.enter(m)
		workers[f.Sum32()%uint32(len(workers))] <- m
	}

	cc, err := cons.Consume(dispatch,
		jetstream.PullMaxMessages(max(64, 8*o.Concurrency)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			o.Logger.Warn("consumer", "durable", spec.Durable, "err", err)
		}))
	if err != nil {
		for _, ch := range workers {
			close(ch)
		}
		wg.Wait()
		return fmt.Errorf("consume %s: %w", spec.Durable, err)
	}
	if o.Ready != nil {
		close(o.Ready)
	}

	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	for _, ch := range workers {
		close(ch)
	}
	wg.Wait()
	return nil
}

// waitRoom holds the messages a consumer loop has received and not yet
// started, and keeps them in progress.
type waitRoom struct {
	mu   sync.Mutex
	msgs map[jetstream.Msg]struct{}
}

func newWaitRoom() *waitRoom { return &waitRoom{msgs: map[jetstream.Msg]struct{}{}} }

func (w *waitRoom) enter(m jetstream.Msg) {
	w.mu.Lock()
	w.msgs[m] = struct{}{}
	w.mu.Unlock()
}

func (w *waitRoom) leave(m jetstream.Msg) {
	w.mu.Lock()
	delete(w.msgs, m)
	w.mu.Unlock()
}

// keep marks every waiting message in progress every interval, until stop.
func (w *waitRoom) keep(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			w.mu.Lock()
			msgs := make([]jetstream.Msg, 0, len(w.msgs))
			for m := range w.msgs {
				msgs = append(msgs, m)
			}
			w.mu.Unlock()
			for _, m := range msgs {
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// maxDeliveriesAdvisory is the server's advisory when a message reaches
// MaxDeliver without being settled (its handler crashed or timed out on the
// last delivery).
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// WatchMaxDeliveries dead-letters messages the server gave up on because
// every delivery timed out (a crash or hang on the last attempt, which the
// Subscriber could not settle itself). Several instances may watch; the
// dead letter's Nats-Msg-Id stores it once.
func WatchMaxDeliveries(ctx context.Context, nc *nats.Conn, pub *Publisher, service string, logger *slog.Logger) (stop func(), err error) {
	js := pub.JetStream()
	subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", StreamName, service)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			logger.Warn("unreadable max-deliveries advisory", "err", err)
			return
		}
		stream, err := js.Stream(ctx, StreamName)
		if err != nil {
			logger.Error("max deliveries: stream lookup", "err", err, "seq", adv.StreamSeq)
			return
		}
		raw, err := stream.GetMsg(ctx, adv.StreamSeq)
		if err != nil {
			logger.Error("max deliveries: message lookup", "err", err, "seq", adv.StreamSeq)
			return
		}
		// The dead letter belongs to the article's trace, and its log lines
		// carry the article's ids like every other line about it.
		actx := Propagator.Extract(ctx, HeaderCarrier(raw.Header))
		_, id, _ := ParseSubject(raw.Subject)
		actx = telemetry.WithArticleID(actx, id)
		actx, span := pub.tracer.Start(actx, "dead-letter "+SubjectPattern(raw.Subject),
			trace.WithAttributes(attribute.String("newsroom.article_id", id),
				attribute.Int64("messaging.nats.stream_sequence", int64(adv.StreamSeq))))
		defer span.End()
		reason := fmt.Sprintf("not acknowledged after %d deliveries (handler crashed or exceeded AckWait)", adv.Deliveries)
		if err := DeadLetter(actx, pub, service, raw.Subject, raw.Header, raw.Data, adv.Deliveries, adv.StreamSeq, reason); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			logger.ErrorContext(actx, "max deliveries: dead letter", "err", err, "seq", adv.StreamSeq)
			return
		}
		logger.WarnContext(actx, "message dead-lettered", "subject", raw.Subject, "reason", reason, "dlq", DLQSubject(service))
	})
	if err != nil {
		return nil, fmt.Errorf("watch max deliveries: %w", err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

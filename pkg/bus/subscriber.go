package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/newsroom/newsroom/pkg/telemetry"
)

// Endpoint is a stage's business logic for one request: go-kit's endpoint,
// typed.
type Endpoint[Req, Resp any] func(ctx context.Context, req Req) (Resp, error)

// DecodeFunc turns a delivered message into the endpoint's request. An error
// is treated as Permanent: a message that cannot be decoded never will be.
type DecodeFunc[Req any] func(ctx context.Context, msg jetstream.Msg) (Req, error)

// EncodeFunc records the endpoint's response, typically by publishing the
// stage's own event. It runs before the ack, so a crash here means
// redelivery, and the event's Nats-Msg-Id makes the second publish a no-op.
type EncodeFunc[Resp any] func(ctx context.Context, resp Resp) error

// Outcome is what happened to a message.
type Outcome string

const (
	OutcomeAcked      Outcome = "ack"
	OutcomeNaked      Outcome = "nak"
	OutcomeDeadLetter Outcome = "dead_letter"
	// OutcomeFailed: the settlement itself failed (connection lost); the
	// server will redeliver after AckWait.
	OutcomeFailed Outcome = "settle_failed"
)

// Result describes one handled message, for metrics and logs.
type Result struct {
	Subject    string
	ArticleID  string
	Deliveries uint64
	Outcome    Outcome
	Err        error
	Duration   time.Duration
	// Published is when the message was stored in the stream.
	Published time.Time
	// AcceptedAt is when ingest accepted the article's revision
	// (HeaderAcceptedAt); zero when the message does not say.
	AcceptedAt time.Time
}

// Subscriber handles JetStream messages in the shape of go-kit's
// transport/nats Subscriber, with the acknowledgement added: decode →
// endpoint → encode → ack, or nak/term plus a dead letter.
type Subscriber[Req, Resp any] struct {
	service    string
	e          Endpoint[Req, Resp]
	dec        DecodeFunc[Req]
	enc        EncodeFunc[Resp]
	before     []func(context.Context, jetstream.Msg) context.Context
	finalizer  []func(context.Context, Result)
	pub        *Publisher
	tracer     trace.Tracer
	logger     *slog.Logger
	maxDeliver int
	inProgress time.Duration
	backoff    func(delivered uint64) time.Duration
}

// SubscriberOption configures a Subscriber.
type SubscriberOption func(*subscriberOptions)

type subscriberOptions struct {
	before     []func(context.Context, jetstream.Msg) context.Context
	finalizer  []func(context.Context, Result)
	logger     *slog.Logger
	tp         trace.TracerProvider
	maxDeliver int
	inProgress time.Duration
	backoff    func(uint64) time.Duration
}

// SubscriberBefore runs fn on the context before decoding, like go-kit's
// ServerBefore.
func SubscriberBefore(fn func(context.Context, jetstream.Msg) context.Context) SubscriberOption {
	return func(o *subscriberOptions) { o.before = append(o.before, fn) }
}

// SubscriberFinalizer is called once per message after it is settled.
func SubscriberFinalizer(fn func(context.Context, Result)) SubscriberOption {
	return func(o *subscriberOptions) { o.finalizer = append(o.finalizer, fn) }
}

// SubscriberLogger sets the logger; settlement problems are logged here.
func SubscriberLogger(l *slog.Logger) SubscriberOption {
	return func(o *subscriberOptions) { o.logger = l }
}

// SubscriberTracerProvider sets where "process" spans go.
func SubscriberTracerProvider(tp trace.TracerProvider) SubscriberOption {
	return func(o *subscriberOptions) { o.tp = tp }
}

// SubscriberSpec takes MaxDeliver and the in-progress interval from the
// consumer spec, so that the last delivery is recognised and long work
// keeps its message.
func SubscriberSpec(spec ConsumerSpec) SubscriberOption {
	spec = spec.withDefaults()
	return func(o *subscriberOptions) {
		o.maxDeliver = spec.MaxDeliver
		o.inProgress = spec.AckWait / 3
	}
}

// SubscriberBackoff replaces the default nak backoff.
func SubscriberBackoff(fn func(delivered uint64) time.Duration) SubscriberOption {
	return func(o *subscriberOptions) { o.backoff = fn }
}

// NewSubscriber builds a Subscriber for service. pub publishes dead letters.
func NewSubscriber[Req, Resp any](service string, pub *Publisher, e Endpoint[Req, Resp], dec DecodeFunc[Req], enc EncodeFunc[Resp], opts ...SubscriberOption) *Subscriber[Req, Resp] {
	o := subscriberOptions{
		logger:     slog.Default(),
		maxDeliver: 5,
		inProgress: 10 * time.Second,
		backoff:    Backoff,
	}
	for _, opt := range opts {
		opt(&o)
	}
	tp := o.tp
	if tp == nil {
		tp = pub.tracerProvider()
	}
	return &Subscriber[Req, Resp]{
		service: service, e: e, dec: dec, enc: enc, pub: pub,
		before: o.before, finalizer: o.finalizer,
		tracer:     tp.Tracer("github.com/newsroom/newsroom/pkg/bus"),
		logger:     o.logger,
		maxDeliver: o.maxDeliver,
		inProgress: o.inProgress,
		backoff:    o.backoff,
	}
}

// ServeMsg handles one message to its settlement. It is a
// jetstream.MessageHandler.
func (s *Subscriber[Req, Resp]) ServeMsg(msg jetstream.Msg) { s.serveMsg(msg, serveOptions{}) }

// serveOptions are what the consumer loop adds to a Subscriber (RunOptions).
type serveOptions struct {
	// finalizer is called after the Subscriber's own finalizers.
	finalizer func(context.Context, Result)
	// inProgress, when positive, replaces the Subscriber's interval: the
	// loop's consumer has another AckWait than the spec it was built with.
	inProgress time.Duration
}

// serveMsg is ServeMsg with the consumer loop's options.
func (s *Subscriber[Req, Resp]) serveMsg(msg jetstream.Msg, so serveOptions) {
	start := time.Now()
	res := Result{Subject: msg.Subject()}
	_, res.ArticleID, _ = ParseSubject(msg.Subject())
	var streamSeq uint64
	if md, err := msg.Metadata(); err == nil {
		res.Deliveries = md.NumDelivered
		res.Published = md.Timestamp
		streamSeq = md.Sequence.Stream
	}

	res.AcceptedAt = parseAcceptedAt(msg.Headers())

	ctx := Propagator.Extract(context.Background(), HeaderCarrier(msg.Headers()))
	ctx, span := s.tracer.Start(ctx, "process "+SubjectPattern(msg.Subject()),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", msg.Subject()),
			attribute.String("messaging.consumer.group.name", s.service),
			attribute.Int64("messaging.nats.stream_sequence", int64(streamSeq)),
			attribute.Int64("messaging.nats.deliveries", int64(res.Deliveries)),
			attribute.String("newsroom.article_id", res.ArticleID),
		))
	defer span.End()
	ctx = telemetry.WithArticleID(ctx, res.ArticleID)
	ctx = WithAcceptedAt(ctx, res.AcceptedAt)
	for _, f := range s.before {
		ctx = f(ctx, msg)
	}

	interval := s.inProgress
	if so.inProgress > 0 {
		interval = so.inProgress
	}
	stop := keepInProgress(msg, interval)
	err := s.handle(ctx, msg)
	stop()

	res.Err = err
	res.Outcome = s.settle(ctx, msg, res.Deliveries, streamSeq, err)
	res.Duration = time.Since(start)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(attribute.String("newsroom.outcome", string(res.Outcome)))
	s.logger.DebugContext(ctx, "message handled", "subject", res.Subject, "outcome", string(res.Outcome),
		"deliveries", res.Deliveries, "duration", res.Duration)
	for _, f := range s.finalizer {
		f(ctx, res)
	}
	if so.finalizer != nil {
		so.finalizer(ctx, res)
	}
}

func (s *Subscriber[Req, Resp]) handle(ctx context.Context, msg jetstream.Msg) (err error) {
	defer func() {
		// A panic in a stage is a bug for that message, not a reason to
		// lose the consumer: treat it as a permanent failure of the message.
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("panic: %v", r))
		}
	}()
	req, err := s.dec(ctx, msg)
	if err != nil {
		return Permanent(fmt.Errorf("decode: %w", err))
	}
	resp, err := s.e(ctx, req)
	if err != nil {
		return err
	}
	if err := s.encode(ctx, msg, resp); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

// streamFullHold is how long a stage keeps a message whose event the full
// stream refuses, retrying the publish, before it gives the message back
// with a nak. Its work is done and only the event is missing: retrying the
// whole message would spend MaxDeliver on a state of the log and end in
// the dead letters, while holding it (in progress) waits for an operator
// to make room without losing anything.
const streamFullHold = 5 * time.Minute

// encode records the response, holding the message while the stream is
// full (see IsStreamFull).
func (s *Subscriber[Req, Resp]) encode(ctx context.Context, msg jetstream.Msg, resp Resp) error {
	delay, held := 250*time.Millisecond, time.Duration(0)
	for {
		err := s.enc(ctx, resp)
		if err == nil {
			if held > 0 {
				s.logger.InfoContext(ctx, "stream has room again; event published", "subject", msg.Subject(), "held", held)
			}
			return nil
		}
		if !IsStreamFull(err) || held >= streamFullHold {
			return err
		}
		if held == 0 {
			s.logger.WarnContext(ctx, "stream full: holding the message until its event can be stored", "subject", msg.Subject(), "err", err)
		}
		time.Sleep(delay)
		held += delay
		delay = min(2*delay, 5*time.Second)
	}
}

// keepInProgress tells the server the message is still being worked on,
// every interval (a third of AckWait), so long work is not redelivered
// elsewhere.
func keepInProgress(msg jetstream.Msg, interval time.Duration) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
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
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (s *Subscriber[Req, Resp]) settle(ctx context.Context, msg jetstream.Msg, delivered, streamSeq uint64, err error) Outcome {
	// Built only when something is to be said: most messages are acked.
	logger := func() *slog.Logger { return s.logger.With("subject", msg.Subject(), "deliveries", delivered) }
	if err == nil {
		if aerr := msg.Ack(); aerr != nil {
			logger().ErrorContext(ctx, "ack failed; message will be redelivered", "err", aerr)
			return OutcomeFailed
		}
		injectFault(FaultAfterAck, msg.Subject(), s.flush)
		return OutcomeAcked
	}
	log := logger()
	lastTry := s.maxDeliver > 0 && delivered >= uint64(s.maxDeliver)
	if IsPermanent(err) || lastTry {
		reason := err.Error()
		if lastTry && !IsPermanent(err) {
			reason = fmt.Sprintf("failed %d deliveries: %s", delivered, reason)
		}
		if derr := s.deadLetter(ctx, msg, delivered, streamSeq, reason); derr != nil {
			// The dead letter is not stored: keep the message rather
			// than lose it.
			log.ErrorContext(ctx, "dead letter failed; message kept for redelivery", "err", derr, "reason", reason)
			_ = msg.NakWithDelay(s.backoff(delivered))
			return OutcomeFailed
		}
		if terr := msg.TermWithReason(truncate(reason, 200)); terr != nil {
			log.ErrorContext(ctx, "term failed after dead letter", "err", terr)
		}
		log.WarnContext(ctx, "message dead-lettered", "reason", reason, "dlq", DLQSubject(s.service))
		return OutcomeDeadLetter
	}
	delay, ok := RetryDelay(err)
	if !ok {
		delay = s.backoff(delivered)
	}
	log.WarnContext(ctx, "message will be retried", "err", err, "delay", delay)
	if nerr := msg.NakWithDelay(delay); nerr != nil {
		log.ErrorContext(ctx, "nak failed; message will be redelivered after AckWait", "err", nerr)
		return OutcomeFailed
	}
	return OutcomeNaked
}

// deadLetter stores the message on news.dlq.<service> with the reason and
// origin in headers. Its Nats-Msg-Id is derived from the stream sequence, so
// a retried dead letter is stored once.
// flush waits until the server has everything the connection sent (an
// ack is fire-and-forget).
func (s *Subscriber[Req, Resp]) flush() error {
	nc := s.pub.JetStream().Conn()
	if nc == nil {
		return nil
	}
	return nc.FlushTimeout(2 * time.Second)
}

func (s *Subscriber[Req, Resp]) deadLetter(ctx context.Context, msg jetstream.Msg, delivered, streamSeq uint64, reason string) error {
	return DeadLetter(ctx, s.pub, s.service, msg.Subject(), msg.Headers(), msg.Data(), delivered, streamSeq, reason)
}

// DeadLetter publishes data, which came from subject, to the service's
// dead-letter subject.
func DeadLetter(ctx context.Context, pub *Publisher, service, subject string, hdr nats.Header, data []byte, delivered, streamSeq uint64, reason string) error {
	h := nats.Header{}
	for k, v := range hdr {
		// Server directives stored with the original (its Nats-Msg-Id, a
		// publisher's Nats-Expected-* compare-and-set, a rollup or TTL)
		// would apply to the dead letter's publish and fail or distort it.
		if strings.HasPrefix(strings.ToLower(k), "nats-") {
			continue
		}
		h[k] = v
	}
	h.Set(HeaderDLQReason, truncate(sanitizeHeader(reason), 1024))
	h.Set(HeaderDLQSubject, subject)
	h.Set(HeaderDLQService, service)
	h.Set(HeaderDLQStreamSeq, strconv.FormatUint(streamSeq, 10))
	h.Set(HeaderDLQDeliveries, strconv.FormatUint(delivered, 10))
	contentType := h.Get(HeaderContentType)
	h.Del(HeaderContentType)
	_, err := pub.PublishRaw(ctx, DLQSubject(service), fmt.Sprintf("%s-%d", service, streamSeq), contentType, data, h)
	return err
}

func sanitizeHeader(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

// ContentTypeFor is the Content-Type header of a protobuf event.
func ContentTypeFor(m proto.Message) string {
	name := m.ProtoReflect().Descriptor().FullName()
	if ct, ok := contentTypes.Load(name); ok {
		return ct.(string)
	}
	ct := "application/protobuf; proto=" + string(name)
	contentTypes.Store(name, ct)
	return ct
}

// contentTypes holds each message type's Content-Type, made once.
var contentTypes sync.Map

// Propagator is the composite W3C TraceContext + Baggage propagator used on
// every message.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Publisher publishes events durably: each Publish waits for the stream's
// PubAck, so a nil error means the event is stored.
type Publisher struct {
	js     jetstream.JetStream
	tp     trace.TracerProvider
	tracer trace.Tracer
}

// NewPublisher publishes through js, tracing with tp.
func NewPublisher(js jetstream.JetStream, tp trace.TracerProvider) *Publisher {
	return &Publisher{js: js, tp: tp, tracer: tp.Tracer("github.com/newsroom/newsroom/pkg/bus")}
}

// JetStream is the context the publisher publishes through.
func (p *Publisher) JetStream() jetstream.JetStream { return p.js }

func (p *Publisher) tracerProvider() trace.TracerProvider { return p.tp }

// Event is one message to publish.
type Event struct {
	Subject string
	// MsgID deduplicates within the stream's window; use MsgID().
	MsgID   string
	Message proto.Message
	// Data, when set, is Message already encoded (by a caller that had to
	// know its size), so it is not encoded twice.
	Data []byte
	// Header adds headers; trace context and content type are set by Publish.
	Header nats.Header
}

// Publish stores ev on its stream and returns the PubAck. The producer span
// "publish <subject pattern>" is injected into the headers, so the consumer's
// span becomes its child. HeaderAcceptedAt is set from the event's
// accepted_at field or else from ctx (see WithAcceptedAt).
func (p *Publisher) Publish(ctx context.Context, ev Event) (*jetstream.PubAck, error) {
	data, err := ev.encode()
	if err != nil {
		return nil, err
	}
	return p.publish(ctx, ev.Subject, ev.MsgID, ContentTypeFor(ev.Message), data, ev.Header, ev.Message)
}

// ErrConflict: the subject's last sequence was not the expected one; another
// writer stored a message first.
var ErrConflict = errors.New("another message was stored on the subject first")

// PublishExpect publishes ev only if the last message on its subject has
// stream sequence lastSeq (0: no message yet). It is an atomic
// compare-and-set on the log.
func (p *Publisher) PublishExpect(ctx context.Context, ev Event, lastSeq uint64) (*jetstream.PubAck, error) {
	return p.publishCAS(ctx, ev, jetstream.WithExpectLastSequencePerSubject(lastSeq))
}

// PublishExpectFor publishes ev only if the last message on the subjects
// matching filter (which may hold wildcards, e.g. every event of one
// article: "news.article.*.<id>") has stream sequence lastSeq (0: none
// yet). It is an atomic compare-and-set over several subjects of the log.
func (p *Publisher) PublishExpectFor(ctx context.Context, ev Event, lastSeq uint64, filter string) (*jetstream.PubAck, error) {
	return p.publishCAS(ctx, ev, jetstream.WithExpectLastSequenceForSubject(lastSeq, filter))
}

// encode is ev.Data, or else ev.Message encoded.
func (ev Event) encode() ([]byte, error) {
	if ev.Data != nil {
		return ev.Data, nil
	}
	data, err := proto.Marshal(ev.Message)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", ev.Subject, err)
	}
	return data, nil
}

func (p *Publisher) publishCAS(ctx context.Context, ev Event, expect jetstream.PublishOpt) (*jetstream.PubAck, error) {
	data, err := ev.encode()
	if err != nil {
		return nil, err
	}
	ack, err := p.publish(ctx, ev.Subject, ev.MsgID, ContentTypeFor(ev.Message), data, ev.Header, ev.Message, expect)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return nil, fmt.Errorf("publish %s: %w", ev.Subject, ErrConflict)
	}
	return ack, err
}

// PublishRaw publishes already-encoded bytes (dead letters, tests).
func (p *Publisher) PublishRaw(ctx context.Context, subject, msgID, contentType string, data []byte, extra nats.Header) (*jetstream.PubAck, error) {
	return p.publish(ctx, subject, msgID, contentType, data, extra, nil)
}

func (p *Publisher) publish(ctx context.Context, subject, msgID, contentType string, data []byte, extra nats.Header, m proto.Message, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ctx, span := p.tracer.Start(ctx, publishSpanName(subject), trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	// Attributes only for a span that keeps them: with tracing off (or
	// this trace not sampled) a publish makes none.
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.message.id", msgID),
			attribute.Int("messaging.message.body.size", len(data)),
		)
		if _, id, ok := ParseSubject(subject); ok {
			span.SetAttributes(attribute.String("newsroom.article_id", id))
		}
	}

	msg := nats.NewMsg(subject)
	msg.Data = data
	for k, v := range extra {
		msg.Header[k] = v
	}
	if contentType != "" {
		msg.Header.Set(HeaderContentType, contentType)
	}
	setAcceptedAt(ctx, msg.Header, m)
	Propagator.Inject(ctx, HeaderCarrier(msg.Header))

	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	injectFault(FaultBeforePublish, subject, nil)
	ack, err := p.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	injectFault(FaultAfterPublish, subject, nil)
	if recording {
		span.SetAttributes(attribute.Int64("messaging.nats.stream_sequence", int64(ack.Sequence)),
			attribute.Bool("messaging.nats.duplicate", ack.Duplicate))
	}
	return ack, nil
}

// publishSpanName is "publish " and the subject's pattern, made once per
// kind of event.
func publishSpanName(subject string) string {
	event, _, ok := ParseSubject(subject)
	if !ok {
		return "publish " + subject
	}
	if name, ok := publishSpanNames.Load(event); ok {
		return name.(string)
	}
	name := "publish " + SubjectPattern(subject)
	publishSpanNames.Store(strings.Clone(event), name)
	return name
}

var publishSpanNames sync.Map

// SubjectPattern replaces the article id of an article subject with '*', so
// span names stay low in cardinality: "news.article.submitted.*".
func SubjectPattern(subject string) string {
	if event, _, ok := ParseSubject(subject); ok {
		return subjectPrefix + event + ".*"
	}
	return subject
}

package bus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type acceptedAtKey struct{}

// WithAcceptedAt records in ctx when the article's revision was accepted.
// The Subscriber does this for every message that carries
// HeaderAcceptedAt, and the Publisher copies it into every event published
// with that ctx, so the time travels from ingest through every stage.
func WithAcceptedAt(ctx context.Context, t time.Time) context.Context {
	if t.IsZero() {
		return ctx
	}
	return context.WithValue(ctx, acceptedAtKey{}, t)
}

// AcceptedAt returns the time recorded by WithAcceptedAt.
func AcceptedAt(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(acceptedAtKey{}).(time.Time)
	return t, ok
}

// acceptedAtOf reads an event's accepted_at field (every article event but
// the retraction has one), without knowing the event's type.
func acceptedAtOf(m proto.Message) (time.Time, bool) {
	if m == nil {
		return time.Time{}, false
	}
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("accepted_at")
	if fd == nil || fd.Message() == nil || fd.Message().FullName() != "google.protobuf.Timestamp" || !r.Has(fd) {
		return time.Time{}, false
	}
	v := r.Get(fd).Message()
	if ts, ok := v.Interface().(*timestamppb.Timestamp); ok {
		return ts.AsTime(), true
	}
	// A dynamic message: read the well-known fields directly.
	f := v.Descriptor().Fields()
	secs, nanos := f.ByName("seconds"), f.ByName("nanos")
	if secs == nil || nanos == nil {
		return time.Time{}, false
	}
	return time.Unix(v.Get(secs).Int(), v.Get(nanos).Int()), true
}

// setAcceptedAt sets HeaderAcceptedAt on h unless it is already there: the
// event's own accepted_at wins, then the consumed message's (from ctx).
func setAcceptedAt(ctx context.Context, h nats.Header, m proto.Message) {
	if h.Get(HeaderAcceptedAt) != "" {
		return
	}
	t, ok := acceptedAtOf(m)
	if !ok {
		t, ok = AcceptedAt(ctx)
	}
	if ok {
		h.Set(HeaderAcceptedAt, t.UTC().Format(time.RFC3339Nano))
	}
}

// parseAcceptedAt reads HeaderAcceptedAt; a missing or malformed value is
// no time at all (older producers, hand-made messages).
func parseAcceptedAt(h nats.Header) time.Time {
	v := h.Get(HeaderAcceptedAt)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

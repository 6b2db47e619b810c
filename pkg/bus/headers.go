package bus

import (
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// Header names newsroom sets besides the W3C trace context.
const (
	HeaderMsgID       = "Nats-Msg-Id"
	HeaderContentType = "Content-Type"
	// Dead-letter headers: why, from where, after how many deliveries.
	HeaderDLQReason     = "Newsroom-Dlq-Reason"
	HeaderDLQSubject    = "Newsroom-Dlq-Subject"
	HeaderDLQStreamSeq  = "Newsroom-Dlq-Stream-Seq"
	HeaderDLQDeliveries = "Newsroom-Dlq-Deliveries"
	HeaderDLQService    = "Newsroom-Dlq-Service"
	// HeaderAcceptedAt is when ingest accepted the article's revision
	// (RFC 3339, UTC). It travels with every event of the revision, so any
	// stage can measure submit-to-stage latency without decoding the event.
	HeaderAcceptedAt = "Newsroom-Accepted-At"
)

// HeaderCarrier adapts NATS headers for OTel propagation without
// canonicalising keys: NATS headers are case-sensitive and W3C trace context
// is written lower case (traceparent, tracestate, baggage). It also finds a
// key written in another case, for producers that canonicalised it.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range c {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0]
		}
	}
	return ""
}

func (c HeaderCarrier) Set(key, value string) { c[key] = []string{value} }

func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

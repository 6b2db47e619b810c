package kithttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/newsroom/newsroom/pkg/kithttp"
)

const callerTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestTracedCarriesTheCallersTrace: traced or not, a handler behind Traced
// works in the caller's trace, so that the events it publishes join it.
func TestTracedCarriesTheCallersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	for _, tc := range []struct {
		name  string
		tp    trace.TracerProvider
		spans int
	}{
		{"tracing off", noop.NewTracerProvider(), 0},
		{"tracing on", sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got trace.SpanContext
			mux := http.NewServeMux()
			kithttp.Handle(mux, "POST /v1/articles", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = trace.SpanContextFromContext(r.Context())
				w.WriteHeader(http.StatusAccepted)
			}))
			h := kithttp.Traced(mux, "ingest", tc.tp, propagation.TraceContext{})
			req := httptest.NewRequest(http.MethodPost, "/v1/articles", nil)
			req.Header.Set("traceparent", callerTraceparent)
			before := len(rec.Ended())
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Fatalf("handler's trace = %s, want the caller's", got.TraceID())
			}
			spans := rec.Ended()[before:]
			if len(spans) != tc.spans {
				t.Fatalf("%d spans recorded, want %d", len(spans), tc.spans)
			}
			if tc.spans == 1 {
				if s := spans[0]; s.Name() != "POST /v1/articles" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
					t.Fatalf("span %q with parent %s, want POST /v1/articles under the caller's span", s.Name(), s.Parent().SpanID())
				}
			}
		})
	}
}

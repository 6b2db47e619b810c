package kithttp

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

type routeKey struct{}

// Traced wraps h in an OpenTelemetry server span. The span is named after
// the route that handled the request ("POST /v1/articles",
// "GET /v1/articles/{id}"), registered with Handle, whatever muxes sit
// outside: the all-in-one mounts services under its own mux.
//
// With tracing off (a no-op provider) there is no span to record: the
// caller's trace context is only carried on, so that the events a request
// publishes still join the caller's trace, without otelhttp's work.
func Traced(h http.Handler, operation string, tp trace.TracerProvider, prop propagation.TextMapPropagator) http.Handler {
	if _, off := tp.(noop.TracerProvider); off {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A request with no trace context keeps its own (no copy).
			if ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)); ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			h.ServeHTTP(w, r)
		})
	}
	inner := otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if route, ok := r.Context().Value(routeKey{}).(*string); ok && *route != "" {
				return *route
			}
			return r.Method
		}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := new(string)
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, route)))
	})
}

// Handle registers h on mux for pattern and names the request's span after
// pattern.
func Handle(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route, ok := r.Context().Value(routeKey{}).(*string); ok {
			*route = pattern
		}
		trace.SpanFromContext(r.Context()).SetName(pattern)
		h.ServeHTTP(w, r)
	}))
}

package jaegertest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The helper is only useful if spans exported over OTLP come back through
// the query API with their service name and parentage.
func TestRoundTrip(t *testing.T) {
	j := Start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(j.OTLPEndpoint+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "roundtrip"))))
	ctx, parent := tp.Tracer("t").Start(ctx, "parent")
	_, child := tp.Tracer("t").Start(ctx, "child")
	child.End()
	parent.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := parent.SpanContext().TraceID().String()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tr, err := j.Trace(context.Background(), want)
		if err == nil && len(tr.Spans) == 2 {
			for _, s := range tr.Spans {
				if tr.Service(s) != "roundtrip" {
					t.Errorf("span %s from service %q", s.OperationName, tr.Service(s))
				}
				if s.OperationName == "child" && s.Parent() != parent.SpanContext().SpanID().String() {
					t.Errorf("child's parent = %q, want %s", s.Parent(), parent.SpanContext().SpanID())
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s not found in jaeger: %v", want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestServiceNameWinsOverEnvironment(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := Setup(context.Background(), Config{ServiceName: "rendering",
		Env:            envOf(map[string]string{"OTEL_SERVICE_NAME": "all-in-one", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,service.name=ignored"}),
		SpanProcessors: []sdktrace.SpanProcessor{rec}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("t").Start(context.Background(), "s")
	span.End()
	res := rec.Ended()[0].Resource()
	attrs := map[string]string{}
	for _, kv := range res.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["service.name"] != "rendering" || attrs["deployment.environment"] != "test" || attrs["service.namespace"] != "newsroom" {
		t.Errorf("resource = %v", attrs)
	}
}

func TestEnvironmentChoosesExporter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{env: map[string]string{"OTEL_SERVICE_NAME": "x"}},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_EXPORTER": "none"}},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_SDK_DISABLED": "true"}},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, wantErr: "not supported"},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "not supported"},
		{env: map[string]string{}, wantErr: "no service name"},
	} {
		tel, err := Setup(ctx, Config{Env: envOf(tc.env)})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		_ = tel.Shutdown(ctx)
	}
}

func TestLoggerAddsTraceAndArticle(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "enrichment", "info")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	log.InfoContext(WithArticleID(ctx, "abc"), "enriched", "words", 12)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not a JSON line: %q", buf.String())
	}
	if line["trace_id"] != span.SpanContext().TraceID().String() || line["span_id"] != span.SpanContext().SpanID().String() ||
		line["article_id"] != "abc" || line["service"] != "enrichment" {
		t.Errorf("log line = %v", line)
	}
}

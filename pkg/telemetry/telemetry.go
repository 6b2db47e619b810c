// Package telemetry sets up OpenTelemetry tracing and structured logging
// from the standard OTEL_* environment, one provider per service, so that
// each service reports under its own service.name even when several run in
// one process (the all-in-one).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config for one service's telemetry.
type Config struct {
	// ServiceName wins over OTEL_SERVICE_NAME; the all-in-one sets it per
	// service.
	ServiceName string
	// Env reads the environment (os.Getenv in binaries, a map in tests).
	Env func(string) string
	// SpanProcessors are added besides the exporter (tests record spans).
	SpanProcessors []sdktrace.SpanProcessor
	// Exporter, when set, replaces the one chosen from the environment.
	Exporter sdktrace.SpanExporter
}

// Telemetry is one service's tracer provider.
type Telemetry struct {
	TracerProvider trace.TracerProvider
	ServiceName    string
	shutdown       func(context.Context) error
}

// Shutdown flushes pending spans.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Setup builds the tracer provider for cfg.ServiceName from the environment:
//
//	OTEL_SDK_DISABLED=true              no tracing at all
//	OTEL_TRACES_EXPORTER=none           spans are made (trace ids propagate) but not exported
//	OTEL_EXPORTER_OTLP_ENDPOINT         OTLP collector base URL, e.g. http://localhost:4318
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full traces URL, wins over the above
//	OTEL_EXPORTER_OTLP_PROTOCOL         http/protobuf (default) or grpc
//	OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*
//
// With no endpoint configured nothing is exported: the all-in-one runs
// without a collector and without export errors.
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	env := cfg.Env
	if env == nil {
		env = func(string) string { return "" }
	}
	name := cfg.ServiceName
	if name == "" {
		name = env("OTEL_SERVICE_NAME")
	}
	if name == "" {
		return nil, errors.New("telemetry: no service name (set OTEL_SERVICE_NAME)")
	}
	if strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") {
		return &Telemetry{TracerProvider: noop.NewTracerProvider(), ServiceName: name}, nil
	}

	attrs := []attribute.KeyValue{attribute.String("service.namespace", "newsroom")}
	for _, kv := range strings.Split(env("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k != "" && k != "service.name" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	attrs = append(attrs, attribute.String("service.name", name))
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}

	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	exp := cfg.Exporter
	if exp == nil {
		exp, err = exporterFromEnv(ctx, env)
		if err != nil {
			return nil, err
		}
	}
	if exp != nil {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, sp := range cfg.SpanProcessors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Telemetry{TracerProvider: tp, ServiceName: name, shutdown: tp.Shutdown}, nil
}

func exporterFromEnv(ctx context.Context, env func(string) string) (sdktrace.SpanExporter, error) {
	switch e := strings.ToLower(env("OTEL_TRACES_EXPORTER")); e {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER=%q is not supported (otlp or none)", e)
	}
	tracesURL := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	base := env("OTEL_EXPORTER_OTLP_ENDPOINT")
	if tracesURL == "" && base == "" {
		return nil, nil
	}
	proto := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = env("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch proto {
	case "", "http/protobuf":
		if tracesURL == "" {
			tracesURL = strings.TrimRight(base, "/") + "/v1/traces"
		}
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL))
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp http exporter: %w", err)
		}
		return exp, nil
	case "grpc":
		if tracesURL == "" {
			tracesURL = base
		}
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(tracesURL))
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp grpc exporter: %w", err)
		}
		return exp, nil
	default:
		return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_PROTOCOL=%q is not supported (http/protobuf or grpc)", proto)
	}
}

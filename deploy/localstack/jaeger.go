package localstack

import "fmt"

// JaegerConfig is a Jaeger v2 configuration (an OpenTelemetry Collector
// configuration with Jaeger's extensions) for the stack: OTLP in on gRPC
// and HTTP, in-memory storage, and the query API and UI, on host's ports.
// It is the all-in-one default trimmed to what newsroom uses: no Jaeger or
// Zipkin receivers, no sampling endpoints, and no internal metrics port, so
// that several stacks can run side by side.
func JaegerConfig(host string, p Ports) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_query:
    # Jaeger would trace its own queries; keep them out of newsroom's traces.
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: %[1]s:%[4]d
    grpc:
      endpoint: %[1]s:%[5]d
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s:%[2]d
      http:
        endpoint: %[1]s:%[3]d

processors:
  batch:
    timeout: 200ms

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, host, p.OTLPGRPC, p.OTLPHTTP, p.JaegerQuery, p.JaegerGRPC)
}

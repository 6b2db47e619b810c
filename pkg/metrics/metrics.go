// Package metrics is newsroom's Prometheus instrumentation: what every stage
// reports about the messages it handles (latency, submit-to-stage latency,
// redeliveries, dead letters), its consumer's backlog read from JetStream,
// and the share attempts socialshare makes. Counters and histograms are
// go-kit metrics backed by Prometheus, so code that records them depends on
// go-kit's interfaces only; everything lives in one registry per Set, never
// in Prometheus' global one, so several Sets (tests, the all-in-one) never
// collide.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	kitmetrics "github.com/go-kit/kit/metrics"
	kitprometheus "github.com/go-kit/kit/metrics/prometheus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsroom/newsroom/pkg/bus"
)

// Namespace prefixes every newsroom metric.
const Namespace = "newsroom"

// Metric names, for dashboards, alerts and tests.
const (
	StageProcessingSeconds = Namespace + "_stage_processing_seconds"
	SubmitToStageSeconds   = Namespace + "_submit_to_stage_seconds"
	MessagesTotal          = Namespace + "_messages_total"
	RedeliveriesTotal      = Namespace + "_redeliveries_total"
	DeadLettersTotal       = Namespace + "_dead_letters_total"
	ShareAttemptsTotal     = Namespace + "_share_attempts_total"
	ConsumerPending        = Namespace + "_consumer_pending_messages"
	ConsumerAckPending     = Namespace + "_consumer_ack_pending_messages"
	ConsumerRedelivered    = Namespace + "_consumer_redelivered_messages"
	ConsumerInfoUp         = Namespace + "_consumer_info_up"
	DeadLettersStored      = Namespace + "_dead_letters_stored_messages"
	APIRequestsTotal       = Namespace + "_api_requests_total"
	APIRequestSeconds      = Namespace + "_api_request_seconds"
)

const (
	// consumerInfoTimeout bounds each JetStream lookup during a scrape.
	consumerInfoTimeout = 2 * time.Second
	// unknownEvent labels a message whose subject is not an article event.
	unknownEvent            = "other"
	deadLetterPermanent     = "permanent"
	deadLetterMaxDeliveries = "max_deliveries"
)

// Outcomes of a share attempt (the outcome label of ShareAttemptsTotal).
// Keep to these so the label stays low in cardinality.
const (
	// SharePosted: the network accepted the post.
	SharePosted = "posted"
	// ShareDryRun: composed and recorded; the network has no credentials.
	ShareDryRun = "dry_run"
	// ShareFailed: a transient failure (5xx, timeout); it will be retried.
	ShareFailed = "failed"
	// ShareRateLimited: the network asked to wait (429 and its reset).
	ShareRateLimited = "rate_limited"
	// ShareRejected: a permanent refusal (4xx other than 429).
	ShareRejected = "rejected"
	// ShareSkipped: not posted on purpose (minor revision, disabled network).
	ShareSkipped = "skipped"
)

// Set is one process's metrics and the registry that serves them.
type Set struct {
	reg *prometheus.Registry

	// Observe's series are resolved once per label set (seriesOf):
	// go-kit's With builds a label map on every call, and Observe runs for
	// every message every stage settles.
	processing, submitToStage *prometheus.HistogramVec
	messages, redeliveries    *prometheus.CounterVec
	series                    sync.Map // seriesKey → *settledSeries

	deadLetters   kitmetrics.Counter
	shareAttempts kitmetrics.Counter

	apiRequests *prometheus.CounterVec
	apiSeconds  *prometheus.HistogramVec

	consumers *consumerCollector
}

type seriesKey struct{ service, event, outcome string }

// settledSeries is one service, event and outcome's series.
type settledSeries struct {
	processing, submitToStage prometheus.Observer
	messages, redeliveries    prometheus.Counter
}

func (s *Set) seriesOf(service, event, outcome string) *settledSeries {
	k := seriesKey{service, event, outcome}
	if v, ok := s.series.Load(k); ok {
		return v.(*settledSeries)
	}
	v, _ := s.series.LoadOrStore(k, &settledSeries{
		processing:    s.processing.WithLabelValues(service, event, outcome),
		messages:      s.messages.WithLabelValues(service, event, outcome),
		redeliveries:  s.redeliveries.WithLabelValues(service, event),
		submitToStage: s.submitToStage.WithLabelValues(service, event),
	})
	return v.(*settledSeries)
}

// New builds a Set with its own registry, including the Go runtime and
// process collectors.
func New() *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(hv)
		return hv
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(cv)
		return cv
	}
	s := &Set{
		reg: reg,
		// 1ms to ~16s: a stage's work on one message.
		processing: histogram(StageProcessingSeconds,
			"Time a stage spent on one message, from delivery to settlement (ack, nak or dead letter).",
			prometheus.ExponentialBuckets(0.001, 2, 15), "service", "event", "outcome"),
		// 5ms to ~1.7h: embargoed articles wait on purpose.
		submitToStage: histogram(SubmitToStageSeconds,
			"Time from ingest accepting a revision to this stage acknowledging its event.",
			prometheus.ExponentialBuckets(0.005, 2.5, 15), "service", "event"),
		messages: counter(MessagesTotal,
			"Messages a stage settled, by outcome (ack, nak, dead_letter, settle_failed).",
			"service", "event", "outcome"),
		redeliveries: counter(RedeliveriesTotal,
			"Deliveries of a message after its first: crashes, naks and AckWait expiries.",
			"service", "event"),
		deadLetters: kitprometheus.NewCounter(counter(DeadLettersTotal,
			"Messages this process sent to its dead-letter subject, by reason (permanent, max_deliveries).",
			"service", "event", "reason")),
		shareAttempts: kitprometheus.NewCounter(counter(ShareAttemptsTotal,
			"Attempts to post an article to a social network, by network and outcome.",
			"network", "outcome")),
		apiRequests: counter(APIRequestsTotal,
			"Answers of a service's HTTP API, by route and status code (refusals of authentication, rate limits and validation included).",
			"service", "route", "code"),
		// 0.25ms to ~4s: one call of the API.
		apiSeconds: histogram(APIRequestSeconds,
			"Time a service's HTTP API took to answer one call, by route.",
			prometheus.ExponentialBuckets(0.00025, 2, 15), "service", "route"),
		consumers: &consumerCollector{},
	}
	reg.MustRegister(s.consumers)
	return s
}

// Registry is where the Set's metrics are registered; add more here.
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// Handler serves the metrics in the Prometheus exposition format. A failing
// consumer lookup does not fail the scrape: its consumer_info_up is 0.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Observer returns the function that records one settled message of
// service: give it to bus.RunOptions.Finalizer (or bus.SubscriberFinalizer).
// It is nil on a nil Set, which bus treats as no observer.
func (s *Set) Observer(service string) func(context.Context, bus.Result) {
	if s == nil {
		return nil
	}
	return func(_ context.Context, r bus.Result) { s.Observe(service, r) }
}

// Observe records one settled message of service.
func (s *Set) Observe(service string, r bus.Result) {
	if s == nil {
		return
	}
	event, _, ok := bus.ParseSubject(r.Subject)
	if !ok {
		event = unknownEvent
	}
	series := s.seriesOf(service, event, string(r.Outcome))
	series.processing.Observe(r.Duration.Seconds())
	series.messages.Add(1)
	if r.Deliveries > 1 {
		series.redeliveries.Add(1)
	}
	switch r.Outcome {
	case bus.OutcomeAcked:
		if !r.AcceptedAt.IsZero() {
			// Clocks of different hosts may disagree by a little; a
			// negative latency is skew, not news.
			series.submitToStage.Observe(max(time.Since(r.AcceptedAt).Seconds(), 0))
		}
	case bus.OutcomeDeadLetter:
		reason := deadLetterMaxDeliveries
		if bus.IsPermanent(r.Err) {
			reason = deadLetterPermanent
		}
		s.deadLetters.With("service", service, "event", event, "reason", reason).Add(1)
	}
}

// ShareAttempt counts one attempt to post to network with outcome (one of
// the Share* constants). Safe on a nil Set.
func (s *Set) ShareAttempt(network, outcome string) {
	if s == nil {
		return
	}
	s.shareAttempts.With("network", network, "outcome", outcome).Add(1)
}

// ShareAttempts is the share-attempt counter as a go-kit Counter, for code
// that takes go-kit metrics (labels: network, outcome).
func (s *Set) ShareAttempts() kitmetrics.Counter { return s.shareAttempts }

// WatchConsumer reports service's durable consumer on the NEWS stream
// (pending, ack pending, redelivered) and its stored dead letters, read
// from JetStream at every scrape. Every instance of a service reports the
// same shared consumer: aggregate with max, not sum.
func (s *Set) WatchConsumer(service string, js jetstream.JetStream, durable string) {
	if s == nil {
		return
	}
	s.consumers.add(consumerTarget{service: service, durable: durable, js: js})
}

package metrics

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsroom/newsroom/pkg/bus"
)

// consumerCollector reads consumer and dead-letter state from JetStream when
// Prometheus scrapes: the numbers are the server's, never a stale copy, and
// nothing polls between scrapes.
type consumerCollector struct {
	mu      sync.Mutex
	targets []consumerTarget
}

type consumerTarget struct {
	service string
	durable string
	js      jetstream.JetStream
}

var (
	consumerLabels  = []string{"service", "consumer"}
	descPending     = prometheus.NewDesc(ConsumerPending, "Messages on the stream the consumer has not delivered yet (JetStream num_pending).", consumerLabels, nil)
	descAckPending  = prometheus.NewDesc(ConsumerAckPending, "Messages delivered and not yet acknowledged (JetStream num_ack_pending).", consumerLabels, nil)
	descRedelivered = prometheus.NewDesc(ConsumerRedelivered, "Messages delivered more than once and not yet acknowledged (JetStream num_redelivered).", consumerLabels, nil)
	descUp          = prometheus.NewDesc(ConsumerInfoUp, "1 when the consumer's state could be read from JetStream at this scrape, else 0.", consumerLabels, nil)
	descDLQStored   = prometheus.NewDesc(DeadLettersStored, "Dead letters of the service stored in the NEWS_DLQ stream (from any instance).", []string{"service"}, nil)
)

func (c *consumerCollector) add(t consumerTarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets = append(c.targets, t)
}

func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descAckPending, descRedelivered, descUp, descDLQStored} {
		ch <- d
	}
}

func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	targets := append([]consumerTarget(nil), c.targets...)
	c.mu.Unlock()
	for _, t := range targets {
		c.collect(ch, t)
	}
}

func (c *consumerCollector) collect(ch chan<- prometheus.Metric, t consumerTarget) {
	ctx, cancel := context.WithTimeout(context.Background(), consumerInfoTimeout)
	defer cancel()
	up := 0.0
	if cons, err := t.js.Consumer(ctx, bus.StreamName, t.durable); err == nil {
		if info, err := cons.Info(ctx); err == nil {
			up = 1
			ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(info.NumPending), t.service, t.durable)
			ch <- prometheus.MustNewConstMetric(descAckPending, prometheus.GaugeValue, float64(info.NumAckPending), t.service, t.durable)
			ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.GaugeValue, float64(info.NumRedelivered), t.service, t.durable)
		}
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, t.service, t.durable)

	subject := bus.DLQSubject(t.service)
	if stream, err := t.js.Stream(ctx, bus.DLQStreamName); err == nil {
		if info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject)); err == nil {
			ch <- prometheus.MustNewConstMetric(descDLQStored, prometheus.GaugeValue, float64(info.State.Subjects[subject]), t.service)
		}
	}
}

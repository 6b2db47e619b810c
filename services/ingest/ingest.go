package ingest

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
)

// Ingest is the running service: the editor API and the status view's
// consumer.
type Ingest struct {
	svc  *service
	deps Deps
	auth *apiauth.Tokens
}

// Service returns the business service, for the CLI and tests.
func (i *Ingest) Service() Service { return i.svc }

// ConsumerSpec is the status view's durable consumer: every article event.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{bus.AllArticleSubjects}}
}

// Run keeps the status view up to date until ctx ends.
func (i *Ingest) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	spec := ConsumerSpec()
	log := i.deps.Logger
	if log == nil {
		log = slog.Default()
	}
	sub := bus.NewSubscriber(Name, i.svc.pub, i.svc.project, decodeEvent, func(context.Context, struct{}) error { return nil },
		bus.SubscriberSpec(spec), bus.SubscriberLogger(log), bus.SubscriberTracerProvider(i.deps.Tracer))
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, i.svc.pub, Name, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts.Logger = log
	return bus.Run(ctx, i.deps.JS, spec, sub, opts)
}

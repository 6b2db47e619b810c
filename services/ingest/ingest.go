package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Ingest is the running service: the editor API, the status view's
// consumer, the release of held revisions and the dead-letter watch.
type Ingest struct {
	svc     *service
	deps    Deps
	auth    *apiauth.Tokens
	limiter *tokenLimiter
}

// Service returns the business service, for the CLI and tests.
func (i *Ingest) Service() Service { return i.svc }

// MaxBodyBytes is the submission size limit in force.
func (i *Ingest) MaxBodyBytes() int { return i.svc.cfg.MaxBodyBytes }

// ConsumerSpec is the status view's durable consumer: the events of the
// stages after ingest. Ingest's own events (submitted, scheduled,
// retracted) are not delivered to it: the log is their record, and a
// status reads the article's last ones from it when asked (statusOf, and
// the list's copy), so a submission costs the server one write and no
// delivery.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{
		bus.EventSubjects(bus.EventEnriched), bus.EventSubjects(bus.EventRendered),
		bus.EventSubjects(bus.EventShared), bus.EventSubjects(bus.EventWithdrawn),
	}}
}

// ReleaseDurable is the consumer that holds scheduled revisions.
const ReleaseDurable = Name + "-release"

// ReleaseConsumerSpec holds every scheduled revision until its time: the
// message is redelivered with a delay until then, so the wait survives
// restarts and moves between instances. It never gives up on a message
// (MaxDeliver -1), and has room for many held articles at once.
func ReleaseConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{
		Durable:        ReleaseDurable,
		FilterSubjects: []string{bus.EventSubjects(bus.EventScheduled)},
		MaxDeliver:     -1,
		MaxAckPending:  100_000,
	}
}

func decodeHeld(_ context.Context, msg jetstream.Msg) (*newsroomv1.ArticleSubmitted, error) {
	_, id, ok := bus.ParseSubject(msg.Subject())
	if !ok {
		return nil, fmt.Errorf("subject %q is not an article event", msg.Subject())
	}
	var ev newsroomv1.ArticleSubmitted
	if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
		return nil, fmt.Errorf("held revision %s: %w", msg.Subject(), err)
	}
	if ev.ArticleId != id || ev.Article == nil || ev.Revision < 1 {
		return nil, fmt.Errorf("held revision %s: malformed", msg.Subject())
	}
	return &ev, nil
}

// Run keeps the status view up to date and releases held revisions on
// time, until ctx ends. o.Ready, if set, is closed once every consumer is
// consuming.
func (i *Ingest) Run(ctx context.Context, nc *nats.Conn, o bus.RunOptions) error {
	log := i.deps.Logger
	o.Logger = log
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, i.svc.pub, Name, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	none := func(context.Context, struct{}) error { return nil }

	statusSpec := ConsumerSpec()
	status := bus.NewSubscriber(Name, i.svc.pub, i.svc.project, decodeEvent, none,
		bus.SubscriberSpec(statusSpec), bus.SubscriberLogger(log), bus.SubscriberTracerProvider(i.deps.Tracer))

	releaseSpec := ReleaseConsumerSpec()
	release := bus.NewSubscriber(Name, i.svc.pub, i.svc.release, decodeHeld, none,
		bus.SubscriberSpec(releaseSpec), bus.SubscriberLogger(log), bus.SubscriberTracerProvider(i.deps.Tracer),
		// Waiting is the normal state of a held revision, not a failure.
		bus.SubscriberBackoff(func(uint64) time.Duration { return i.svc.cfg.ReleaseCheck }))

	readies := make([]chan struct{}, 3)
	for n := range readies {
		readies[n] = make(chan struct{})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		so := o
		so.Ready = readies[0]
		return bus.Run(gctx, i.deps.JS, statusSpec, status, so)
	})
	g.Go(func() error {
		ro := o
		ro.Ready = readies[1]
		return bus.Run(gctx, i.deps.JS, releaseSpec, release, ro)
	})
	g.Go(func() error { return i.svc.runDeadLetters(gctx, readies[2]) })
	if o.Ready != nil {
		g.Go(func() error {
			for _, r := range readies {
				select {
				case <-r:
				case <-gctx.Done():
					return nil
				}
			}
			close(o.Ready)
			return nil
		})
	}
	return g.Wait()
}

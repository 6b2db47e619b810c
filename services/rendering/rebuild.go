package rendering

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
)

// RebuildStats says what a rebuild read.
type RebuildStats struct {
	Events    int
	Malformed int
}

// RebuildOptions tune a rebuild.
type RebuildOptions struct {
	// Clean empties the index and the site first, for an index that is
	// lost or suspect. Only while no rendering service runs on the same
	// buckets: the site is empty until the rebuild ends.
	Clean bool
	// Progress, if set, is told every event handled.
	Progress func(RebuildStats)
}

// Rebuild re-renders the whole site from the NEWS log: every enriched and
// retracted event from the start, in order, through an ephemeral ordered
// consumer (no durable, no acks: the service's own consumer is untouched).
// Each article's latest revision is rendered again with the current
// templates, retracted ones get their notice again, and every listing,
// feed and sitemap is rendered once at the end. It publishes no event, so
// nothing is shared again on any network. Events appended while it runs
// are left to the service's consumer.
func (r *Rendering) Rebuild(ctx context.Context, o RebuildOptions) (RebuildStats, error) {
	var st RebuildStats
	if o.Clean {
		if err := r.clean(ctx); err != nil {
			return st, err
		}
	}
	cons, err := r.deps.JS.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: ConsumerSpec().FilterSubjects,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return st, fmt.Errorf("rebuild: consumer: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return st, fmt.Errorf("rebuild: consumer: %w", err)
	}
	err = r.Batch(ctx, func(handle func(Request) error) error {
		if info.NumPending == 0 {
			return nil
		}
		it, err := cons.Messages()
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		defer it.Stop()
		for {
			msg, err := it.Next(jetstream.NextContext(ctx))
			if err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			md, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			st.Events++
			req, err := decode(msg.Subject(), msg.Data())
			if err != nil {
				// The service dead-lettered it when it first came; a
				// rebuild skips it the same way.
				st.Malformed++
				r.deps.Logger.Warn("rebuild: malformed event skipped", "subject", msg.Subject(), "seq", md.Sequence.Stream, "err", err)
			} else if err := handle(req); err != nil {
				return fmt.Errorf("rebuild: %s: %w", msg.Subject(), err)
			}
			if o.Progress != nil {
				o.Progress(st)
			}
			if md.NumPending == 0 {
				return nil
			}
		}
	})
	if err != nil {
		return st, err
	}
	// The fixed files too: a new stylesheet or logo comes with new templates.
	return st, r.writeFixed(ctx)
}

// clean empties the index and removes every object of the site.
func (r *Rendering) clean(ctx context.Context) error {
	lister, err := r.index.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("rebuild: clean index: %w", err)
	}
	for k := range lister.Keys() {
		if err := r.index.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("rebuild: clean index %s: %w", k, err)
		}
	}
	objs, err := r.site.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rebuild: clean site: %w", err)
	}
	for _, o := range objs {
		if strings.HasPrefix(o.Name, "assets/") || o.Name == robotsKey {
			continue
		}
		if err := r.remove(ctx, o.Name); err != nil {
			return err
		}
	}
	return nil
}

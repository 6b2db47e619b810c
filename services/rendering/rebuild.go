package rendering

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
)

// RebuildStats says what a rebuild read.
type RebuildStats struct {
	Events    int
	Malformed int
	// Kept counts the index keys a rendering service running meanwhile
	// changed after the rebuild read them: its newer values were kept.
	Kept int
}

// RebuildOptions tune a rebuild.
type RebuildOptions struct {
	// Clean empties the index and the site first, for an index that is
	// lost or suspect. Only while no rendering service runs on the same
	// buckets: the site is empty until the rebuild ends.
	Clean bool
	// Progress, if set, is told every event handled, one call at a time.
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
	// The site is listed, then the index read, then the log's end fixed:
	// every event whose effects the index holds is replayed, and every
	// object a service running meanwhile writes after the listing is left
	// as it wrote it (see siteOverlay), as is every index key it writes
	// after the read (see writeBack).
	began := time.Now()
	phase := func(msg string, args ...any) {
		r.deps.Logger.Info("rebuild: "+msg, append(args, "took", time.Since(began))...)
		began = time.Now()
	}
	site, err := overlaySite(ctx, r.deps.JS, r.site)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	phase("site listed", "objects", len(site.infos))
	mem, err := snapshotKV(ctx, r.index.KeyValue)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	phase("index read", "keys", len(mem.disk))
	// The events go through the service's own code against the index in
	// memory, collecting what they touch: the article pages, listings,
	// feeds and sitemaps are rendered once each when all are in.
	replay := r.with(newIndexKV(mem), site)
	replay.batch = newTouched()
	err = readToEnd(ctx, r.deps.JS, bus.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: ConsumerSpec().FilterSubjects,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}, func(msg jetstream.Msg, md *jetstream.MsgMetadata) error {
		// Handled in the log's order: the index in memory then comes out
		// as a service handling the log one event at a time leaves it
		// (the day lists' dates and the listings' titles depend on the
		// order), and it is all in memory, so one core keeps up.
		req, err := decode(msg.Subject(), msg.Data())
		if err != nil {
			// The service dead-lettered it when it first came; a rebuild
			// skips it the same way.
			r.deps.Logger.Warn("rebuild: malformed event skipped", "subject", msg.Subject(), "seq", md.Sequence.Stream, "err", err)
			st.Malformed++
		} else if _, err := replay.Handle(ctx, req); err != nil {
			return fmt.Errorf("%s: %w", msg.Subject(), err)
		}
		st.Events++
		if o.Progress != nil {
			o.Progress(st)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	phase("log replayed", "events", st.Events)
	if st.Kept, err = mem.writeBack(ctx, r.index.KeyValue); err != nil {
		return st, fmt.Errorf("rebuild: index: %w", err)
	}
	phase("index written back", "kept_as_the_service_wrote_them", st.Kept)
	// Every article page, listing, feed and sitemap the events touched,
	// once, from the index in memory (and the fixed files: a new
	// stylesheet or logo comes with new templates). What a service wrote
	// meanwhile stays as it is.
	t := replay.batch
	if err := replay.render(ctx, t); err != nil {
		return st, err
	}
	if err := replay.writeFixed(ctx); err != nil {
		return st, err
	}
	phase("pages, listings, feeds and sitemaps rendered", "listings", len(t.listings), "days", len(t.days))
	return st, nil
}

// readToEnd reads a stream through an ephemeral ordered consumer, from
// where cfg says up to the last message when it starts, handing each to
// fn.
func readToEnd(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.OrderedConsumerConfig, fn func(jetstream.Msg, *jetstream.MsgMetadata) error) error {
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	if info.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		if err := fn(msg, md); err != nil {
			return err
		}
		if md.NumPending == 0 {
			return nil
		}
	}
}

// with is r reading and writing the given index and site.
func (r *Rendering) with(index *indexKV, site jetstream.ObjectStore) *Rendering {
	return &Rendering{cfg: r.cfg, deps: r.deps, pub: r.pub, site: site, index: index, pages: r.pages}
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

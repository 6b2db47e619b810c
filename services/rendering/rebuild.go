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
	site, err := overlaySite(ctx, r.deps.JS, r.site)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	r.deps.Logger.Info("rebuild: site listed", "objects", len(site.infos), "took", time.Since(began))
	began = time.Now()
	mem, err := snapshotKV(ctx, r.index.KeyValue)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	r.deps.Logger.Info("rebuild: index read", "keys", len(mem.disk), "took", time.Since(began))
	began = time.Now()
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
	// The events go through the service's own code against the index in
	// memory, collecting what they touch; pages whose bytes change are
	// written as they come.
	replay := r.with(newIndexKV(mem), site)
	replay.batch = newTouched()
	if info.NumPending > 0 {
		it, err := cons.Messages()
		if err != nil {
			return st, fmt.Errorf("rebuild: %w", err)
		}
		err = r.rebuildEvents(ctx, it, func(req Request) error {
			_, err := replay.Handle(ctx, req)
			return err
		}, &st, o.Progress)
		it.Stop()
		if err != nil {
			return st, err
		}
	}
	// The article pages, each once, from the index in memory: it holds
	// every event now, so each page has all its translations.
	if err := replay.renderPages(ctx, replay.batch); err != nil {
		return st, err
	}
	r.deps.Logger.Info("rebuild: log replayed, article pages rendered", "events", st.Events, "took", time.Since(began))
	began = time.Now()
	if st.Kept, err = mem.writeBack(ctx, r.index.KeyValue); err != nil {
		return st, fmt.Errorf("rebuild: index: %w", err)
	}
	if st.Kept > 0 {
		r.deps.Logger.Info("rebuild: index keys changed meanwhile by the service were left as it wrote them", "keys", st.Kept)
	}
	r.deps.Logger.Info("rebuild: index written back", "took", time.Since(began))
	began = time.Now()
	// Every listing, feed and sitemap the events touched, once, from the
	// index in memory (and the fixed files: a new stylesheet or logo comes
	// with new templates). What a service wrote meanwhile stays as it is.
	t := replay.batch
	replay.batch = nil
	if err := replay.render(ctx, t); err != nil {
		return st, err
	}
	if err := replay.writeFixed(ctx); err != nil {
		return st, err
	}
	r.deps.Logger.Info("rebuild: listings, feeds and sitemaps rendered", "listings", len(t.listings), "days", len(t.days), "took", time.Since(began))
	return st, nil
}

// with is r reading and writing the given index and site.
func (r *Rendering) with(index *indexKV, site jetstream.ObjectStore) *Rendering {
	return &Rendering{cfg: r.cfg, deps: r.deps, pub: r.pub, site: site, index: index, pages: r.pages}
}

// rebuildEvents reads the ordered consumer to its end and hands each
// event to handle, in the log's order: the index in memory then comes out
// as a service handling the log one event at a time leaves it (the day
// lists' dates and the listings' titles depend on the order), and it is
// all in memory, so one core keeps up.
func (r *Rendering) rebuildEvents(ctx context.Context, it jetstream.MessagesContext, handle func(Request) error, st *RebuildStats, progress func(RebuildStats)) error {
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		req, err := decode(msg.Subject(), msg.Data())
		if err != nil {
			// The service dead-lettered it when it first came; a rebuild
			// skips it the same way.
			r.deps.Logger.Warn("rebuild: malformed event skipped", "subject", msg.Subject(), "seq", md.Sequence.Stream, "err", err)
			st.Malformed++
		} else if err := handle(req); err != nil {
			return fmt.Errorf("rebuild: %s: %w", msg.Subject(), err)
		}
		st.Events++
		if progress != nil {
			progress(*st)
		}
		if md.NumPending == 0 {
			return nil
		}
	}
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

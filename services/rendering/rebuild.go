package rendering

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

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
	mem, err := snapshotKV(ctx, r.index.KeyValue)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
	}
	site, err := overlaySite(ctx, r.site)
	if err != nil {
		return st, fmt.Errorf("rebuild: %w", err)
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
	if st.Kept, err = mem.writeBack(ctx, r.index.KeyValue); err != nil {
		return st, fmt.Errorf("rebuild: index: %w", err)
	}
	if st.Kept > 0 {
		r.deps.Logger.Info("rebuild: index keys changed meanwhile by the service were left as it wrote them", "keys", st.Kept)
	}
	// Every listing, feed and sitemap the events touched, once, from the
	// bucket's index as now written (and the fixed files: a new
	// stylesheet or logo comes with new templates).
	final := r.with(r.index, site)
	if err := final.render(ctx, replay.batch); err != nil {
		return st, err
	}
	return st, final.writeFixed(ctx)
}

// with is r reading and writing the given index and site.
func (r *Rendering) with(index *indexKV, site jetstream.ObjectStore) *Rendering {
	return &Rendering{cfg: r.cfg, deps: r.deps, pub: r.pub, site: site, index: index, pages: r.pages}
}

// rebuildWorkers is how many articles a rebuild handles at once. An event
// is a few dozen round trips to the index and the bucket, mostly spent
// waiting, so several articles side by side keep both cores busy; the
// events of one article stay on one worker, in the log's order.
const rebuildWorkers = 8

type rebuildEvent struct {
	subject string
	req     Request
}

// rebuildEvents reads the ordered consumer to its end and hands each
// event to the worker of its article.
func (r *Rendering) rebuildEvents(ctx context.Context, it jetstream.MessagesContext, handle func(Request) error, st *RebuildStats, progress func(RebuildStats)) error {
	var mu sync.Mutex
	report := func(malformed bool) {
		mu.Lock()
		defer mu.Unlock()
		st.Events++
		if malformed {
			st.Malformed++
		}
		if progress != nil {
			progress(*st)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	workers := make([]chan rebuildEvent, rebuildWorkers)
	for i := range workers {
		ch := make(chan rebuildEvent, 16)
		workers[i] = ch
		g.Go(func() error {
			for ev := range ch {
				if err := handle(ev.req); err != nil {
					return fmt.Errorf("rebuild: %s: %w", ev.subject, err)
				}
				report(false)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer func() {
			for _, ch := range workers {
				close(ch)
			}
		}()
		for {
			msg, err := it.Next(jetstream.NextContext(gctx))
			if err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			md, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			req, err := decode(msg.Subject(), msg.Data())
			if err != nil {
				// The service dead-lettered it when it first came; a
				// rebuild skips it the same way.
				r.deps.Logger.Warn("rebuild: malformed event skipped", "subject", msg.Subject(), "seq", md.Sequence.Stream, "err", err)
				report(true)
			} else {
				_, id, _ := bus.ParseSubject(msg.Subject())
				f := fnv.New32a()
				f.Write([]byte(id))
				select {
				case workers[f.Sum32()%rebuildWorkers] <- rebuildEvent{subject: msg.Subject(), req: req}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			if md.NumPending == 0 {
				return nil
			}
		}
	})
	return g.Wait()
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

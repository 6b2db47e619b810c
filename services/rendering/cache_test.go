package rendering

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/natstest"
	"github.com/newsroom/newsroom/services/rendering/page"
)

// Two instances share one index, each with its own cache of decoded
// values: neither ever reads a value the other has replaced, and changing
// what update hands out never changes what is cached.
func TestIndexCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	kv := testKV(t, "cache_test")
	a, b := newIndexKV(kv), newIndexKV(kv)
	const key = "shard.home.2026112708"
	ids := func(es []page.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	add := func(ix *indexKV, id string) {
		t.Helper()
		if _, err := update(ctx, ix, key, func(es []page.Entry, _ bool) ([]page.Entry, bool) {
			return append(es, page.Entry{ID: id}), false
		}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(ix *indexKV) []string {
		t.Helper()
		es, _, _, err := getJSON[[]page.Entry](ctx, ix, key)
		if err != nil {
			t.Fatal(err)
		}
		return ids(es)
	}

	add(a, "one")
	if got := read(a); !slices.Equal(got, []string{"one"}) {
		t.Fatalf("a reads %v after its own write", got)
	}
	add(b, "two") // b decodes a's write, a's cache still holds "one"
	if got := read(a); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("a reads %v after b's write, want [one two]", got)
	}
	// A caller changing what it read in place leaves the cache alone.
	es, _, _, err := getJSON[[]page.Entry](ctx, a, key)
	if err != nil {
		t.Fatal(err)
	}
	es[0].ID = "changed"
	_ = slices.DeleteFunc(es, func(e page.Entry) bool { return e.ID == "two" })
	if got := read(a); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("a reads %v after a caller changed its copy", got)
	}
	if _, err := update(ctx, a, key, func(es []page.Entry, _ bool) ([]page.Entry, bool) {
		return slices.DeleteFunc(es, func(e page.Entry) bool { return e.ID == "one" }), false
	}); err != nil {
		t.Fatal(err)
	}
	for name, ix := range map[string]*indexKV{"a": a, "b": b} {
		if got := read(ix); !slices.Equal(got, []string{"two"}) {
			t.Fatalf("%s reads %v after the delete, want [two]", name, got)
		}
	}
	// Removed by one instance, gone for the other.
	if _, err := update(ctx, b, key, func(es []page.Entry, _ bool) ([]page.Entry, bool) { return nil, true }); err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := getJSON[[]page.Entry](ctx, a, key); err != nil || found {
		t.Fatalf("a still finds the removed key (found %v, err %v)", found, err)
	}

	// Maps are copied too: days and listing metas are filled in place.
	if _, err := update(ctx, a, "list.home", func(m listMeta, _ bool) (listMeta, bool) {
		m.Months = map[string]int{"202611": 1}
		return m, false
	}); err != nil {
		t.Fatal(err)
	}
	m, _, _, _ := getJSON[listMeta](ctx, a, "list.home")
	m.Months["202611"] = 99
	if m, _, _, _ := getJSON[listMeta](ctx, a, "list.home"); m.Months["202611"] != 1 {
		t.Fatalf("a caller's change reached the cached listing meta: %v", m.Months)
	}
}

// Placing an entry the index holds already writes nothing (a rebuild
// replays every event); a changed entry in the same hour rewrites its
// shard and the listing's meta, whose revision is how renderers notice.
func TestReplayedPlacementWritesNothing(t *testing.T) {
	ctx := context.Background()
	kv := testKV(t, "replay_test")
	r := &Rendering{index: newIndexKV(kv)}
	const listing, slot = "home", "2026112708"
	e := page.Entry{ID: "a", Headline: "First"}
	if _, err := r.place(ctx, listing, slot, "a", &e); err != nil {
		t.Fatal(err)
	}
	revs := func() map[string]uint64 {
		out := map[string]uint64{}
		for _, k := range []string{shardKey(listing, slot), daysKey(listing, slot[:6]), listKey(listing)} {
			en, err := kv.Get(ctx, k)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			out[k] = en.Revision()
		}
		return out
	}
	before := revs()
	if _, err := r.place(ctx, listing, slot, "a", &e); err != nil {
		t.Fatal(err)
	}
	if after := revs(); !maps.Equal(before, after) {
		t.Fatalf("a replayed placement wrote: %v → %v", before, after)
	}
	e.Headline = "First, corrected"
	if _, err := r.place(ctx, listing, slot, "a", &e); err != nil {
		t.Fatal(err)
	}
	after := revs()
	for _, k := range []string{shardKey(listing, slot), listKey(listing)} {
		if after[k] == before[k] {
			t.Errorf("%s not rewritten after the entry changed", k)
		}
	}
	es, _, _, err := getJSON[[]page.Entry](ctx, r.index, shardKey(listing, slot))
	if err != nil || len(es) != 1 || es[0].Headline != "First, corrected" {
		t.Fatalf("shard holds %v (%v)", es, err)
	}
}

// Two instances place articles into one listing at the same moment, some
// into the same hour: the day lists and the listing meta, derived from
// the shards, end up counting exactly what the shards hold.
func TestConcurrentPlacementsKeepCountsExact(t *testing.T) {
	ctx := context.Background()
	kv := testKV(t, "counts_test")
	a, b := &Rendering{index: newIndexKV(kv)}, &Rendering{index: newIndexKV(kv)}
	const listing, n = "home", 48
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		r := a
		if i%2 == 1 {
			r = b
		}
		slot := fmt.Sprintf("20261127%02d", i%3)
		wg.Go(func() {
			e := page.Entry{ID: fmt.Sprintf("a%02d", i), Headline: "Story", Updated: time.Date(2026, 11, 27, i%3, i, 0, 0, time.UTC)}
			if _, err := r.place(ctx, listing, slot, e.ID, &e); err != nil {
				errs <- err
				return
			}
			if i%4 == 0 { // and some go again, as a revision moving out
				if _, err := r.place(ctx, listing, slot, e.ID, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check := &Rendering{index: newIndexKV(kv)}
	total := 0
	days, _, _, err := getJSON[monthDays](ctx, check.index, daysKey(listing, "202611"))
	if err != nil {
		t.Fatal(err)
	}
	for h := range 3 {
		slot := fmt.Sprintf("20261127%02d", h)
		shard, _, _, err := getJSON[[]page.Entry](ctx, check.index, shardKey(listing, slot))
		if err != nil {
			t.Fatal(err)
		}
		total += len(shard)
		if got := days["20261127"].Hours[slot[8:]]; got != len(shard) {
			t.Errorf("hour %s: day list says %d, shard holds %d", slot[8:], got, len(shard))
		}
	}
	if want := n - n/4; total != want {
		t.Errorf("shards hold %d entries, want %d", total, want)
	}
	if days["20261127"].N != total {
		t.Errorf("day list says %d entries, shards hold %d", days["20261127"].N, total)
	}
	m, _, _, err := getJSON[listMeta](ctx, check.index, listKey(listing))
	if err != nil {
		t.Fatal(err)
	}
	if m.Months["202611"] != total {
		t.Errorf("listing meta says %d entries, shards hold %d", m.Months["202611"], total)
	}
}

// testKV is a fresh KV bucket on an embedded server.
func testKV(t *testing.T, bucket string) jetstream.KeyValue {
	t.Helper()
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, bucket)
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

package rendering

import (
	"maps"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/services/rendering/page"
)

// indexKV is the index bucket with a cache of decoded values. Every event
// reads the same listing shards, day lists and listing metas again (to
// place its entry, then to render each listing and sitemap), and decoding
// their JSON was a quarter of rendering's CPU. A KV revision is the
// stream sequence of one write, so a value cached under its key and
// revision is exactly what the bucket holds at that revision, whichever
// instance wrote it: reads still ask the bucket for the current revision,
// and only the decoding is saved.
type indexKV struct {
	jetstream.KeyValue
	cache *valueCache
}

// valueCacheSize bounds the cache: the newest shards of the busiest
// listings are what every event reads.
const valueCacheSize = 4096

type cached struct {
	rev uint64
	v   any
}

type valueCache struct {
	mu sync.Mutex
	m  map[string]cached
}

func newIndexKV(kv jetstream.KeyValue) *indexKV {
	return &indexKV{KeyValue: kv, cache: &valueCache{m: make(map[string]cached, valueCacheSize)}}
}

// cacheOf is kv's cache if T is a type it keeps.
func cacheOf[T any](kv jetstream.KeyValue) *valueCache {
	ix, ok := kv.(*indexKV)
	if !ok {
		return nil
	}
	var zero T
	switch any(zero).(type) {
	case []page.Entry, monthDays, listMeta:
		return ix.cache
	}
	return nil
}

// lookup returns a copy of the value of key at rev, if kept.
func lookup[T any](c *valueCache, key string, rev uint64) (T, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || e.rev != rev {
		var zero T
		return zero, false
	}
	return cloneValue(e.v.(T)), true
}

// keep remembers a copy of v as key's value at rev.
func keep[T any](c *valueCache, key string, rev uint64, v T) {
	v = cloneValue(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.rev > rev {
		return
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= valueCacheSize {
		for k := range c.m { // an arbitrary victim
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cached{rev: rev, v: v}
}

func (c *valueCache) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// cloneValue copies what callers may change in place (update's functions
// delete from and append to shards, and fill maps), so the cached value
// stays what the bucket holds.
func cloneValue[T any](v T) T {
	switch x := any(v).(type) {
	case []page.Entry:
		return any(slices.Clone(x)).(T)
	case listMeta:
		x.Months = maps.Clone(x.Months)
		return any(x).(T)
	case monthDays:
		// The days are values, and their hours maps are never changed in
		// place (place copies the one it changes): a copy of the outer map
		// is enough.
		return any(maps.Clone(x)).(T)
	}
	return v
}

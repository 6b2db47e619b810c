package rendering

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// A rebuild replays the whole log through the same code as the service,
// but against the index held in memory (memKV) and a site bucket whose
// object infos are listed once (siteOverlay): replaying 10,000 articles
// is then some 400,000 index reads and writes in memory instead of round
// trips to the server, and the only round trips left are for what
// actually changed. The index is written back at the end, key by key,
// each only if nobody changed it since it was read.

// memKV is a KV bucket held in memory, from a snapshot of a real one. It
// has the semantics the index code relies on: Create fails on a key that
// exists, Update and delete fail unless the key is at the revision given,
// every write gets a new revision.
type memKV struct {
	jetstream.KeyValue // not used: any method not below panics

	mu   sync.Mutex
	rev  uint64
	base map[string]memValue // as read from the bucket
	cur  map[string]memValue // as the rebuild left it
}

type memValue struct {
	value   []byte
	rev     uint64
	deleted bool
}

// snapshotKV reads every key of kv (its latest values) into memory.
func snapshotKV(ctx context.Context, kv jetstream.KeyValue) (*memKV, error) {
	m := &memKV{base: map[string]memValue{}, cur: map[string]memValue{}}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("index snapshot: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("index snapshot: watcher stopped")
			}
			if e == nil { // every key read
				return m, nil
			}
			m.base[e.Key()] = memValue{value: e.Value(), rev: e.Revision()}
			m.rev = max(m.rev, e.Revision())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (m *memKV) get(key string) (memValue, bool) {
	if v, ok := m.cur[key]; ok {
		return v, !v.deleted
	}
	v, ok := m.base[key]
	return v, ok
}

func (m *memKV) Get(_ context.Context, key string) (jetstream.KeyValueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.get(key)
	if !ok {
		return nil, jetstream.ErrKeyNotFound
	}
	return memEntry{key: key, v: v}, nil
}

func (m *memKV) Create(_ context.Context, key string, value []byte, _ ...jetstream.KVCreateOpt) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.get(key); ok {
		return 0, jetstream.ErrKeyExists
	}
	return m.set(key, value, false), nil
}

func (m *memKV) Update(_ context.Context, key string, value []byte, rev uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.get(key); !ok || v.rev != rev {
		return 0, jetstream.ErrKeyExists
	}
	return m.set(key, value, false), nil
}

// deleteAt deletes key if it is at rev (Delete's LastRevision option is
// opaque outside the jetstream package).
func (m *memKV) deleteAt(key string, rev uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.get(key)
	if !ok {
		return nil
	}
	if v.rev != rev {
		return jetstream.ErrKeyExists
	}
	m.set(key, nil, true)
	return nil
}

func (m *memKV) set(key string, value []byte, deleted bool) uint64 {
	m.rev++
	m.cur[key] = memValue{value: value, rev: m.rev, deleted: deleted}
	return m.rev
}

type memEntry struct {
	key string
	v   memValue
}

func (e memEntry) Bucket() string                  { return IndexBucket }
func (e memEntry) Key() string                     { return e.key }
func (e memEntry) Value() []byte                   { return e.v.value }
func (e memEntry) Revision() uint64                { return e.v.rev }
func (e memEntry) Created() time.Time              { return time.Time{} }
func (e memEntry) Delta() uint64                   { return 0 }
func (e memEntry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }

// writeBack writes what the rebuild changed to kv, each key only if kv
// still holds it at the revision the snapshot read (a service running
// meanwhile wrote a newer value, which stays). Shards and day lists go
// first, then the listing metas — written whenever one of their shards
// or day lists was, so that a renderer reading meanwhile sees the listing
// move — then the article records. It returns how many keys it left to a
// newer writer.
func (m *memKV) writeBack(ctx context.Context, kv jetstream.KeyValue) (conflicts int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var waves [3][]string
	metas := map[string]bool{}
	for key, v := range m.cur {
		b, had := m.base[key]
		if !had && v.deleted || had && !v.deleted && string(b.value) == string(v.value) {
			continue
		}
		switch {
		case strings.HasPrefix(key, "shard.") || strings.HasPrefix(key, "days."):
			waves[0] = append(waves[0], key)
			// shard.<listing>.<slot>, days.<listing>.<month>: the listing
			// is what lies between the first and the last dot.
			rest := key[strings.IndexByte(key, '.')+1:]
			metas[listKey(rest[:strings.LastIndexByte(rest, '.')])] = true
		case strings.HasPrefix(key, "list."):
			metas[key] = true
		case strings.HasPrefix(key, "article."):
			waves[2] = append(waves[2], key)
		default:
			waves[0] = append(waves[0], key)
		}
	}
	for key := range metas {
		if _, ok := m.get(key); ok || m.cur[key].deleted {
			waves[1] = append(waves[1], key)
		}
	}
	var mu sync.Mutex
	for _, wave := range waves {
		slices.Sort(wave)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(32)
		for _, key := range wave {
			g.Go(func() error {
				err := m.writeKey(gctx, kv, key)
				if errors.Is(err, errConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					return nil
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return conflicts, err
		}
	}
	return conflicts, nil
}

func (m *memKV) writeKey(ctx context.Context, kv jetstream.KeyValue, key string) error {
	b, had := m.base[key]
	v, ok := m.cur[key]
	if !ok {
		v = b
	}
	switch {
	case v.deleted && !had:
		return nil
	case v.deleted:
		return deleteKey(ctx, kv, key, b.rev)
	case had:
		_, err := putBytes(ctx, kv, key, v.value, b.rev)
		return err
	default:
		_, err := putBytes(ctx, kv, key, v.value, 0)
		return err
	}
}

// siteOverlay is the site bucket with every object's info listed once, so
// that a rebuild asks the server only about objects whose bytes change.
// An object is replaced or deleted only while the bucket still holds what
// the overlay thinks it holds: a service running meanwhile wrote a newer
// revision, which stays.
type siteOverlay struct {
	jetstream.ObjectStore // the bucket: reads of bytes go straight to it

	mu    sync.Mutex
	infos map[string]*jetstream.ObjectInfo
}

func overlaySite(ctx context.Context, obs jetstream.ObjectStore) (*siteOverlay, error) {
	s := &siteOverlay{ObjectStore: obs, infos: map[string]*jetstream.ObjectInfo{}}
	list, err := obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, fmt.Errorf("site: %w", err)
	}
	for _, info := range list {
		s.infos[info.Name] = info
	}
	return s, nil
}

func (s *siteOverlay) GetInfo(_ context.Context, name string, _ ...jetstream.GetObjectInfoOpt) (*jetstream.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info, ok := s.infos[name]; ok {
		return info, nil
	}
	return nil, jetstream.ErrObjectNotFound
}

// unchanged says whether the bucket still holds name as the overlay does.
func (s *siteOverlay) unchanged(ctx context.Context, name string) (bool, error) {
	s.mu.Lock()
	want, had := s.infos[name]
	s.mu.Unlock()
	info, err := s.ObjectStore.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return !had, nil
	}
	if err != nil {
		return false, err
	}
	return had && info.NUID == want.NUID, nil
}

func (s *siteOverlay) Put(ctx context.Context, meta jetstream.ObjectMeta, body io.Reader) (*jetstream.ObjectInfo, error) {
	ok, err := s.unchanged(ctx, meta.Name)
	if err != nil || !ok {
		return nil, err
	}
	info, err := s.ObjectStore.Put(ctx, meta, body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.infos[meta.Name] = info
	s.mu.Unlock()
	return info, nil
}

func (s *siteOverlay) Delete(ctx context.Context, name string) error {
	ok, err := s.unchanged(ctx, name)
	if err != nil || !ok {
		return err
	}
	if err := s.ObjectStore.Delete(ctx, name); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.infos, name)
	s.mu.Unlock()
	return nil
}

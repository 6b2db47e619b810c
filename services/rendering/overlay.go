package rendering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// A rebuild replays the whole log through the same code as the service,
// but against an index built in memory from nothing (memKV) and a site
// bucket whose object infos are listed once (siteOverlay): replaying
// 10,000 articles is then some 400,000 index reads and writes in memory
// instead of round trips to the server, and the only round trips left
// are for what actually changed. The index is compared with the bucket's
// at the end and written back key by key where it differs, each key only
// if nobody changed it since it was read.

// memKV is a KV bucket held in memory, beside a snapshot of the real one
// (disk) that it is compared with when written back. It has the semantics
// the index code relies on: Create fails on a key that exists, Update and
// delete fail unless the key is at the revision given, every write gets a
// new revision.
type memKV struct {
	jetstream.KeyValue // not used: any method not below panics

	mu   sync.Mutex
	rev  uint64
	disk map[string]memValue // the bucket as read
	cur  map[string]memValue // the index the rebuild made
}

type memValue struct {
	value []byte
	// obj, when set, is the value decoded (a listing shard, day list or
	// meta): the rebuild reads and changes those in place of their JSON,
	// which is encoded once, when needed. value is nil until then.
	obj     any
	rev     uint64
	deleted bool
}

// encoded is v with its value encoded.
func (v memValue) encoded() (memValue, error) {
	if v.value != nil || v.obj == nil || v.deleted {
		return v, nil
	}
	b, err := json.Marshal(v.obj)
	v.value = b
	return v, err
}

// snapshotKV reads every key of kv (its latest values), for an index in
// memory that starts empty.
func snapshotKV(ctx context.Context, kv jetstream.KeyValue) (*memKV, error) {
	m := &memKV{disk: map[string]memValue{}, cur: map[string]memValue{}}
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
			m.disk[e.Key()] = memValue{value: e.Value(), rev: e.Revision()}
			m.rev = max(m.rev, e.Revision())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (m *memKV) get(key string) (memValue, bool) {
	v, ok := m.cur[key]
	return v, ok && !v.deleted
}

func (m *memKV) Get(_ context.Context, key string) (jetstream.KeyValueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.get(key)
	if !ok {
		return nil, jetstream.ErrKeyNotFound
	}
	v, err := v.encoded()
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", key, err)
	}
	return memEntry{key: key, v: v}, nil
}

// memGet is key's value decoded (a copy the caller may change), decoding
// it only the first time.
func memGet[T any](m *memKV, key string) (T, uint64, bool, error) {
	ref, rev, found, err := memRef[T](m, key)
	if !found || err != nil {
		return ref, rev, found, err
	}
	return cloneValue(ref), rev, true, nil
}

// memRef is key's value decoded, as held: not to be changed.
func memRef[T any](m *memKV, key string) (T, uint64, bool, error) {
	var zero T
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.get(key)
	if !ok {
		return zero, 0, false, nil
	}
	if v.obj == nil {
		x, err := decodeJSON[T](v.value)
		if err != nil {
			return zero, 0, false, fmt.Errorf("index %s: %w", key, err)
		}
		v.obj = x
		m.cur[key] = v
	}
	return v.obj.(T), v.rev, true, nil
}

// memUpdate is updateWrote on the index in memory: no JSON either way, and
// a value fn leaves as it was is not written. The value it returns is the
// one held: callers only read it.
func memUpdate[T any](m *memKV, key string, force bool, fn func(v T, found bool) (nv T, remove bool)) (T, bool, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		ref, rev, found, err := memRef[T](m, key)
		if err != nil {
			return zero, false, err
		}
		nv, remove := fn(cloneValue(ref), found)
		switch {
		case remove && !found:
			return nv, false, nil
		case remove:
			err = m.deleteAt(key, rev)
		case found && !force && reflect.DeepEqual(nv, ref):
			return nv, false, nil
		default:
			err = m.setObj(key, nv, rev)
		}
		if err == nil {
			return nv, true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) || attempt >= 50 {
			return zero, false, fmt.Errorf("index %s: %w", key, err)
		}
	}
}

// ListKeysFiltered lists the keys under filters of the form "prefix.>"
// or exact keys (what renderPagesSitemap asks).
func (m *memKV) ListKeysFiltered(_ context.Context, filters ...string) (jetstream.KeyLister, error) {
	m.mu.Lock()
	var keys []string
	for k, v := range m.cur {
		if v.deleted {
			continue
		}
		for _, f := range filters {
			if p, ok := strings.CutSuffix(f, ">"); ok && strings.HasPrefix(k, p) || k == f {
				keys = append(keys, k)
				break
			}
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	ch := make(chan string, len(keys))
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	return memLister(ch), nil
}

type memLister chan string

func (l memLister) Keys() <-chan string { return l }
func (l memLister) Stop() error         { return nil }

// setObj writes a decoded value if key is at rev (0: absent).
func (m *memKV) setObj(key string, obj any, rev uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.get(key)
	if rev == 0 && ok || rev != 0 && (!ok || v.rev != rev) {
		return jetstream.ErrKeyExists
	}
	m.rev++
	m.cur[key] = memValue{obj: obj, rev: m.rev}
	return nil
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

// writeBack writes to kv every key where the rebuild's index differs from
// the snapshot, each only if kv still holds it at the revision the
// snapshot read (a service running meanwhile wrote a newer value, which
// stays). Keys the rebuild did not make are left: an index that may hold
// what no event says is rebuilt with Clean. Shards and day lists go
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
		if v, err = v.encoded(); err != nil {
			return 0, fmt.Errorf("index %s: %w", key, err)
		}
		m.cur[key] = v
		d, had := m.disk[key]
		if !had && v.deleted || had && !v.deleted && string(d.value) == string(v.value) {
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
		if v, ok := m.cur[key]; ok && (!v.deleted || m.disk[key].rev != 0) {
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
	d, had := m.disk[key]
	v := m.cur[key]
	switch {
	case v.deleted && !had:
		return nil
	case v.deleted:
		return deleteKey(ctx, kv, key, d.rev)
	case had:
		_, err := putBytes(ctx, kv, key, v.value, d.rev)
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

func overlaySite(ctx context.Context, js jetstream.JetStream, obs jetstream.ObjectStore) (*siteOverlay, error) {
	s := &siteOverlay{ObjectStore: obs, infos: map[string]*jetstream.ObjectInfo{}}
	// ObjectStore.List does this with the client's default API timeout
	// (5 s), which a bucket of tens of thousands of objects, much
	// rewritten, outlasts: the server walks the stream to find each
	// object's last meta. Here the walk has the rebuild's time.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err := readToEnd(cctx, js, "OBJ_"+SiteBucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"$O." + SiteBucket + ".M.>"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	}, func(msg jetstream.Msg, md *jetstream.MsgMetadata) error {
		var oi jetstream.ObjectInfo
		if err := json.Unmarshal(msg.Data(), &oi); err != nil {
			return fmt.Errorf("object info %s: %w", msg.Subject(), err)
		}
		if !oi.Deleted {
			oi.ModTime = md.Timestamp
			s.infos[oi.Name] = &oi
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
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

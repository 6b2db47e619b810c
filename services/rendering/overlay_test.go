package rendering

import (
	"bytes"
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/natstest"
)

// A rebuild makes its index in memory and writes it back key by key where
// it differs from the bucket, leaving every key that a service running
// meanwhile changed after the snapshot as the service wrote it. A listing whose shard it writes gets its meta written too,
// even unchanged, so that a renderer reading meanwhile sees it move.
func TestWriteBackKeepsNewerValues(t *testing.T) {
	ctx := context.Background()
	kv := testKV(t, "writeback_test")
	for _, k := range []string{"article.a", "article.b", "shard.home.2026112708", "list.home", "xref.c"} {
		if _, err := kv.Put(ctx, k, []byte("old "+k)); err != nil {
			t.Fatal(err)
		}
	}
	mem, err := snapshotKV(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	if len(mem.disk) != 5 || len(mem.cur) != 0 {
		t.Fatalf("snapshot holds %d keys and the index in memory %d, want 5 and 0", len(mem.disk), len(mem.cur))
	}
	// The service writes article.a after the snapshot.
	if _, err := kv.Put(ctx, "article.a", []byte("service")); err != nil {
		t.Fatal(err)
	}
	metaRev := func() uint64 {
		e, err := kv.Get(ctx, "list.home")
		if err != nil {
			t.Fatal(err)
		}
		return e.Revision()
	}
	before := metaRev()
	// The rebuild makes its index: a, b and the shard differ from the
	// bucket, the listing meta is the same, xref.c is made and removed
	// again, d is new.
	for k, v := range map[string]string{"article.a": "rebuilt article.a", "article.b": "rebuilt article.b",
		"shard.home.2026112708": "rebuilt shard", "list.home": "old list.home", "xref.c": "x", "article.d": "new d"} {
		rev, err := mem.Create(ctx, k, []byte("first "+k))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Create(ctx, k, []byte("again")); err == nil {
			t.Errorf("%s: a create of an existing key succeeded", k)
		}
		if _, err := mem.Update(ctx, k, []byte(v), rev); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Update(ctx, k, []byte("stale"), rev); err == nil {
			t.Errorf("%s: an update at an old revision succeeded", k)
		}
	}
	e, _ := mem.Get(ctx, "xref.c")
	if err := mem.deleteAt("xref.c", e.Revision()-1); err == nil {
		t.Error("a delete at an old revision succeeded")
	}
	if err := mem.deleteAt("xref.c", e.Revision()); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Get(ctx, "xref.c"); err == nil {
		t.Error("xref.c still there in memory")
	}
	kept, err := mem.writeBack(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	if kept != 1 {
		t.Errorf("%d keys kept, want 1 (article.a)", kept)
	}
	want := map[string]string{"article.a": "service", "article.b": "rebuilt article.b",
		"shard.home.2026112708": "rebuilt shard", "list.home": "old list.home", "article.d": "new d"}
	for k, v := range want {
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if string(e.Value()) != v {
			t.Errorf("%s = %q, want %q", k, e.Value(), v)
		}
	}
	if _, err := kv.Get(ctx, "xref.c"); err == nil {
		t.Error("xref.c not deleted")
	}
	if metaRev() == before {
		t.Error("the listing meta was not written with its shard")
	}
}

// The site overlay answers infos from one listing, and replaces or
// deletes an object only while the bucket holds what it listed: what a
// service wrote meanwhile stays.
func TestOverlayLeavesNewerObjects(t *testing.T) {
	ctx := context.Background()
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "overlay-test")
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: SiteBucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"page", "other", "gone"} {
		if _, err := obs.PutBytes(ctx, name, []byte("old "+name)); err != nil {
			t.Fatal(err)
		}
	}
	ov, err := overlaySite(ctx, js, obs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.PutBytes(ctx, "page", []byte("service")); err != nil {
		t.Fatal(err)
	}
	if _, err := obs.PutBytes(ctx, "fresh", []byte("service")); err != nil {
		t.Fatal(err)
	}
	if _, err := ov.GetInfo(ctx, "fresh"); err == nil {
		t.Error("the overlay knows an object written after its listing")
	}
	for _, name := range []string{"page", "other", "fresh", "new"} {
		if _, err := ov.Put(ctx, jetstream.ObjectMeta{Name: name}, bytes.NewReader([]byte("rebuilt"))); err != nil {
			t.Fatal(err)
		}
	}
	if err := ov.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"page": "service", "fresh": "service", "other": "rebuilt", "new": "rebuilt"}
	for name, v := range want {
		b, err := obs.GetBytes(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(b) != v {
			t.Errorf("%s = %q, want %q", name, b, v)
		}
		if info, err := ov.GetInfo(ctx, name); v == "rebuilt" && (err != nil || info.Size != 7) {
			t.Errorf("overlay info of %s: %v %v", name, info, err)
		}
	}
	if _, err := obs.GetInfo(ctx, "gone"); err == nil {
		t.Error("gone not deleted")
	}
}

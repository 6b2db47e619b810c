package rendering

import (
	"bytes"
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/natstest"
)

// A rebuild writes its index back key by key, and leaves every key that a
// service running meanwhile changed after the snapshot as the service
// wrote it. A listing whose shard it writes gets its meta written too,
// even unchanged, so that a renderer reading meanwhile sees it move.
func TestWriteBackKeepsNewerValues(t *testing.T) {
	ctx := context.Background()
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "writeback-test")
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "writeback_test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"article.a", "article.b", "shard.home.2026112708", "list.home", "xref.c"} {
		if _, err := kv.Put(ctx, k, []byte("old "+k)); err != nil {
			t.Fatal(err)
		}
	}
	mem, err := snapshotKV(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	if len(mem.base) != 5 {
		t.Fatalf("snapshot holds %d keys, want 5", len(mem.base))
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
	// The rebuild changes a, b and the shard, deletes xref.c, creates d.
	for _, k := range []string{"article.a", "article.b", "shard.home.2026112708"} {
		e, err := mem.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Update(ctx, k, []byte("rebuilt "+k), e.Revision()); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Update(ctx, k, []byte("stale"), e.Revision()); err == nil {
			t.Errorf("%s: an update at an old revision succeeded", k)
		}
	}
	e, _ := mem.Get(ctx, "xref.c")
	if err := mem.deleteAt("xref.c", e.Revision()); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Create(ctx, "article.d", []byte("new d")); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Create(ctx, "article.d", []byte("again")); err == nil {
		t.Error("a create of an existing key succeeded")
	}
	kept, err := mem.writeBack(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	if kept != 1 {
		t.Errorf("%d keys kept, want 1 (article.a)", kept)
	}
	want := map[string]string{"article.a": "service", "article.b": "rebuilt article.b",
		"shard.home.2026112708": "rebuilt shard.home.2026112708", "list.home": "old list.home", "article.d": "new d"}
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
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "overlay_test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"page", "other", "gone"} {
		if _, err := obs.PutBytes(ctx, name, []byte("old "+name)); err != nil {
			t.Fatal(err)
		}
	}
	ov, err := overlaySite(ctx, obs)
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

package rendering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/services/rendering/page"
)

// IndexBucket is the KV bucket in which rendering remembers what the site
// holds, so each event re-renders only what it touches:
//
//	article.<id>            record: revision, status, entry, listings, day
//	xref.<id>               ids of the articles that name <id> as a translation
//	list.<listing>           listing meta: title and how many entries in each month
//	days.<listing>.<month>   the days (and hours) of that month it has entries in
//	shard.<listing>.<slot>   the listing's entries published in that UTC hour, newest first
//
// A listing is "home", "section.<slug>", "tag.<slug>" or "author.<slug>";
// a month is YYYYMM, a slot YYYYMMDDHH. Sharding by hour keeps every value
// far below the server's payload limit even for a wire service's front
// page; the two levels of meta keep what every event reads small however
// many years the site spans; a listing page reads only its newest hours.
const IndexBucket = "rendering_index"

// record is what the index knows of one article.
type record struct {
	Revision int64       `json:"rev"`
	Gone     bool        `json:"gone,omitempty"`
	GoneAt   time.Time   `json:"gone_at,omitzero"`
	Reason   string      `json:"reason,omitempty"`
	Entry    *page.Entry `json:"entry,omitempty"`
	// Listings and Slot say where the entry is listed now (none once gone).
	Listings []string `json:"listings,omitempty"`
	Slot     string   `json:"slot,omitempty"`
	// Translations are the ids here that the article names as its
	// translations.
	Translations []string `json:"translations,omitempty"`
}

// listMeta is a listing's meta. Every change to one of its shards
// rewrites it, so its KV revision changes whenever the listing does;
// renderers use that to know their output is current.
type listMeta struct {
	Title  string         `json:"title,omitempty"`
	Months map[string]int `json:"months"`
}

// monthDays are the days of one month a listing has entries on.
type monthDays map[string]dayInfo

type dayInfo struct {
	// N entries that day, the newest change among them, and how many in
	// each hour ("00"–"23") that has any.
	N       int            `json:"n"`
	LastMod time.Time      `json:"lastmod"`
	Hours   map[string]int `json:"h"`
}

func dayOf(t time.Time) string  { return t.UTC().Format("20060102") }
func slotOf(t time.Time) string { return t.UTC().Format("2006010215") }

// slots are a day's hour slots, oldest first.
func (d dayInfo) slots(day string) []string {
	out := make([]string, 0, len(d.Hours))
	for _, h := range slices.Sorted(maps.Keys(d.Hours)) {
		out = append(out, day+h)
	}
	return out
}

func recordKey(id string) string            { return "article." + id }
func xrefKey(id string) string              { return "xref." + id }
func listKey(l string) string               { return "list." + l }
func shardKey(l, slot string) string        { return "shard." + l + "." + slot }
func daysKey(l, month string) string        { return "days." + l + "." + month }
func (m listMeta) months() []string         { return slices.Sorted(maps.Keys(m.Months)) }
func (d monthDays) days() []string          { return slices.Sorted(maps.Keys(d)) }
func (r *record) live() bool                { return r != nil && !r.Gone && r.Entry != nil }
func decodeJSON[T any](b []byte) (T, error) { var v T; err := json.Unmarshal(b, &v); return v, err }

// getJSON reads a key; found is false (and rev 0) when it does not exist.
func getJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string) (v T, rev uint64, found bool, err error) {
	v, _, rev, found, err = getValue[T](ctx, kv, key)
	return v, rev, found, err
}

// getValue is getJSON with the bytes stored.
func getValue[T any](ctx context.Context, kv jetstream.KeyValue, key string) (v T, raw []byte, rev uint64, found bool, err error) {
	if m := memOf(kv); m != nil && cacheOf[T](kv) != nil {
		v, rev, found, err = memGet[T](m, key)
		return v, nil, rev, found, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return v, nil, 0, false, nil
	}
	if err != nil {
		return v, nil, 0, false, fmt.Errorf("index %s: %w", key, err)
	}
	c := cacheOf[T](kv)
	if c != nil {
		if v, ok := lookup[T](c, key, e.Revision()); ok {
			return v, e.Value(), e.Revision(), true, nil
		}
	}
	v, err = decodeJSON[T](e.Value())
	if err != nil {
		return v, nil, 0, false, fmt.Errorf("index %s: %w", key, err)
	}
	if c != nil {
		keep(c, key, e.Revision(), v)
	}
	return v, e.Value(), e.Revision(), true, nil
}

// errConflict means another writer changed the key first.
var errConflict = errors.New("index: concurrent update")

// putJSON writes a key if it is still at rev (0: must not exist).
func putJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any, rev uint64) (uint64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("index %s: %w", key, err)
	}
	return putBytes(ctx, kv, key, b, rev)
}

func putBytes(ctx context.Context, kv jetstream.KeyValue, key string, b []byte, rev uint64) (uint64, error) {
	var (
		n   uint64
		err error
	)
	if rev == 0 {
		n, err = kv.Create(ctx, key, b)
	} else {
		n, err = kv.Update(ctx, key, b, rev)
	}
	if isConflict(err) {
		return 0, fmt.Errorf("%s: %w", key, errConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("index %s: %w", key, err)
	}
	return n, nil
}

func deleteKey(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64) error {
	var err error
	if m := memOf(kv); m != nil {
		err = m.deleteAt(key, rev)
	} else {
		err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
	}
	if isConflict(err) {
		return fmt.Errorf("%s: %w", key, errConflict)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("index %s: %w", key, err)
	}
	return nil
}

// memOf is kv's in-memory bucket, if it is one (a rebuild's).
func memOf(kv jetstream.KeyValue) *memKV {
	if ix, ok := kv.(*indexKV); ok {
		kv = ix.KeyValue
	}
	m, _ := kv.(*memKV)
	return m
}

func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// update applies fn to a key's value until it wins against concurrent
// writers. fn returns the new value, or remove to delete the key.
func update[T any](ctx context.Context, kv jetstream.KeyValue, key string, fn func(v T, found bool) (nv T, remove bool)) (T, error) {
	nv, _, err := updateWrote(ctx, kv, key, false, fn)
	return nv, err
}

// updateWrote is update that says whether it wrote. A value fn leaves as
// it was is not written again unless force is set: a replay of events the
// index holds already (a rebuild, a redelivery) costs reads, not writes.
// Skipping is safe because fn's result holds at the revision read: other
// writers only ever change other articles' entries.
func updateWrote[T any](ctx context.Context, kv jetstream.KeyValue, key string, force bool, fn func(v T, found bool) (nv T, remove bool)) (T, bool, error) {
	if m := memOf(kv); m != nil && cacheOf[T](kv) != nil {
		return memUpdate(m, key, force, fn)
	}
	var zero T
	for attempt := 0; ; attempt++ {
		v, raw, rev, found, err := getValue[T](ctx, kv, key)
		if err != nil {
			return zero, false, err
		}
		nv, remove := fn(v, found)
		var n uint64
		switch {
		case remove && !found:
			return nv, false, nil
		case remove:
			err = deleteKey(ctx, kv, key, rev)
		default:
			b, merr := json.Marshal(nv)
			if merr != nil {
				return zero, false, fmt.Errorf("index %s: %w", key, merr)
			}
			if found && !force && bytes.Equal(b, raw) {
				return nv, false, nil
			}
			n, err = putBytes(ctx, kv, key, b, rev)
		}
		if c := cacheOf[T](kv); c != nil {
			if err == nil && !remove {
				keep(c, key, n, nv)
			} else {
				c.drop(key)
			}
		}
		if err == nil {
			return nv, true, nil
		}
		if !errors.Is(err, errConflict) || attempt >= 50 {
			return zero, false, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return zero, false, err
		}
	}
}

// backoff waits a random moment before a writer that lost a race tries
// again, longer the more often it lost: writers that all retry at once
// would keep colliding on a hot key (a busy listing's meta).
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(250*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// placed says what a placement changed beyond the listing's entries.
type placed struct {
	// set: the listing appeared or disappeared.
	set bool
	// day: a day appeared in or disappeared from the listing.
	day bool
}

// place puts e into a listing (or, with e nil, takes id out of it) in the
// given hour slot, and rewrites the listing's meta.
//
// The day list is derived from the shards and the meta from the day
// lists, and other articles of the same listing are placed at the same
// moment (other workers, other instances). So whoever writes a derived
// value reads its source again afterwards and writes it again if the
// source moved meanwhile: the last writer of a source then always leaves
// the values derived from it current, or the writer it raced does.
func (r *Rendering) place(ctx context.Context, listing, slot, id string, e *page.Entry) (placed, error) {
	var out placed
	day, hour, month := slot[:8], slot[8:], slot[:6]
	shard, shardWrote, err := updateWrote(ctx, r.index, shardKey(listing, slot), false, func(es []page.Entry, _ bool) ([]page.Entry, bool) {
		es = slices.DeleteFunc(es, func(x page.Entry) bool { return x.ID == id })
		if e != nil {
			es = append(es, *e)
			sortEntries(es)
		}
		return es, len(es) == 0
	})
	if err != nil {
		return out, err
	}
	var days monthDays
	for again := false; ; again = true {
		d, wrote, err := updateWrote(ctx, r.index, daysKey(listing, month), false, func(m monthDays, _ bool) (monthDays, bool) {
			if m == nil {
				m = monthDays{}
			}
			info, had := m[day]
			info.Hours = maps.Clone(info.Hours) // shared with cached copies
			if info.Hours == nil {
				info.Hours = map[string]int{}
			}
			if len(shard) == 0 {
				delete(info.Hours, hour)
			} else {
				info.Hours[hour] = len(shard)
			}
			info.N = 0
			for _, n := range info.Hours {
				info.N += n
			}
			// A removal is a change of the day too, so LastMod never goes
			// back: it is the newest change, not the newest entry.
			if t := lastMod(shard); t.After(info.LastMod) {
				info.LastMod = t
			}
			if info.N == 0 {
				delete(m, day)
			} else {
				m[day] = info
			}
			if !again { // what this placement changed, not a correction
				out.day = had != (info.N > 0)
			}
			return m, len(m) == 0
		})
		if err != nil {
			return out, err
		}
		days = d
		if !wrote {
			break
		}
		now, _, _, err := getJSON[[]page.Entry](ctx, r.index, shardKey(listing, slot))
		if err != nil {
			return out, err
		}
		if len(now) == len(shard) && lastMod(now).Equal(lastMod(shard)) {
			break
		}
		shard = now
	}
	title := ""
	if e != nil {
		if l, ok := page.ParseListingKey(listing); ok {
			title = e.TitleIn(l)
		}
	}
	// The meta is written whenever the shard was, even unchanged: its
	// revision is how a renderer knows the listing moved while it read.
	force := shardWrote
	for again := false; ; again = true {
		total := monthTotal(days)
		_, wrote, err := updateWrote(ctx, r.index, listKey(listing), force, func(m listMeta, found bool) (listMeta, bool) {
			if !again {
				out.set = !found
			}
			if m.Months == nil {
				m.Months = map[string]int{}
			}
			if title != "" {
				m.Title = title
			}
			if total == 0 {
				delete(m.Months, month)
			} else {
				m.Months[month] = total
			}
			if len(m.Months) == 0 && listing != string(page.KindHome) {
				if !again {
					out.set = found
				}
				return m, true
			}
			return m, false
		})
		if err != nil || !wrote {
			return out, err
		}
		now, _, _, err := getJSON[monthDays](ctx, r.index, daysKey(listing, month))
		if err != nil {
			return out, err
		}
		if monthTotal(now) == total {
			return out, nil
		}
		days, force = now, false
	}
}

func lastMod(es []page.Entry) time.Time {
	var t time.Time
	for _, x := range es {
		if x.Updated.After(t) {
			t = x.Updated
		}
	}
	return t
}

func monthTotal(m monthDays) int {
	n := 0
	for _, d := range m {
		n += d.N
	}
	return n
}

// sortEntries orders a listing newest first; ties by id, so every
// renderer writes the same bytes.
func sortEntries(es []page.Entry) {
	slices.SortFunc(es, func(a, b page.Entry) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

// newest reads up to n of a listing's newest entries.
func (r *Rendering) newest(ctx context.Context, listing string, m listMeta, n int) ([]page.Entry, error) {
	var out []page.Entry
	months := m.months()
	slices.Reverse(months)
	for _, month := range months {
		days, _, _, err := getJSON[monthDays](ctx, r.index, daysKey(listing, month))
		if err != nil {
			return nil, err
		}
		ds := days.days()
		slices.Reverse(ds)
		for _, day := range ds {
			slots := days[day].slots(day)
			slices.Reverse(slots)
			for _, slot := range slots {
				if len(out) >= n {
					return out[:n], nil
				}
				es, _, _, err := getJSON[[]page.Entry](ctx, r.index, shardKey(listing, slot))
				if err != nil {
					return nil, err
				}
				out = append(out, es...)
			}
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// onDays reads a listing's entries of the given days (YYYYMMDD), newest
// first.
func (r *Rendering) onDays(ctx context.Context, listing string, days []string) ([]page.Entry, error) {
	var out []page.Entry
	months := map[string]monthDays{}
	for _, day := range days {
		md, ok := months[day[:6]]
		if !ok {
			var err error
			md, _, _, err = getJSON[monthDays](ctx, r.index, daysKey(listing, day[:6]))
			if err != nil {
				return nil, err
			}
			months[day[:6]] = md
		}
		for _, slot := range md[day].slots(day) {
			es, _, _, err := getJSON[[]page.Entry](ctx, r.index, shardKey(listing, slot))
			if err != nil {
				return nil, err
			}
			out = append(out, es...)
		}
	}
	sortEntries(out)
	return out, nil
}

// setXref adds or removes from as a translation source of to.
func (r *Rendering) setXref(ctx context.Context, to, from string, add bool) error {
	_, err := update(ctx, r.index, xrefKey(to), func(ids []string, _ bool) ([]string, bool) {
		ids = slices.DeleteFunc(ids, func(x string) bool { return x == from })
		if add {
			ids = append(ids, from)
			slices.Sort(ids)
		}
		return ids, len(ids) == 0
	})
	return err
}

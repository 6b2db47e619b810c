package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/socialshare"
	"github.com/newsroom/newsroom/services/socialshare/compose"
)

// expectations are what a scenario's ledger must show.
type expectations struct {
	// accepted are the revisions ingest answered 2xx for: each must be in
	// the log and carried through every stage.
	accepted map[string][]int64
	// poison are the ids of the poison messages, by the service whose
	// dead letters (news.dlq.<service>) must hold exactly them.
	poison map[string][]string
	// nets, when set, are the fakes socialshare posts to: each article has
	// exactly one post on each; without them shares are dry runs.
	nets *networks
}

// isPoison: the suite's poison messages use ids starting "poison-".
func isPoison(id string) bool { return strings.HasPrefix(id, "poison-") }

// ledgerReport is what the ledger held, for the scenario's log line.
type ledgerReport struct {
	articles, revisions, posts, deadLetters int
	wait                                    time.Duration
}

func (r ledgerReport) String() string {
	return fmt.Sprintf("%d articles, %d revisions, %d network posts, %d dead letters; drained %s after the load stopped",
		r.articles, r.revisions, r.posts, r.deadLetters, r.wait.Round(100*time.Millisecond))
}

// assertLedger is the ledger assertion. It first waits (up to timeout)
// for the pipeline to come to rest: every consumer of NEWS and NEWS_DLQ
// with nothing pending or unacknowledged, every revision in the log
// shared, the dead letters all in. Then, reading the whole log, the site
// and the share ledger:
//
//   - every revision answered 2xx is in the log;
//   - every revision in the log (answered or not: a crash can store one
//     and lose the answer) has exactly one submitted, enriched, rendered
//     and shared event;
//   - every article's page is there, at its latest revision, status 200;
//   - every article has exactly one share record per network, and, with
//     the fakes, exactly one post on each network;
//   - news.dlq.<service> holds exactly the poison ids expected of it, once
//     each, and no other dead letter exists.
func assertLedger(t *testing.T, js jetstream.JetStream, exp expectations, timeout time.Duration) ledgerReport {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	deadline := start.Add(timeout)
	var rest error
	for {
		if rest = atRest(ctx, js, exp); rest == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pipeline did not come to rest within %s: %v", timeout, rest)
		}
		time.Sleep(250 * time.Millisecond)
	}
	rep := ledgerReport{wait: time.Since(start)}

	log := readLog(ctx, t, js)
	ids := slices.Sorted(maps.Keys(log.revisions))
	rep.articles = len(ids)

	for id, revs := range exp.accepted {
		for _, rev := range revs {
			if !log.revisions[id][rev] {
				t.Errorf("%s r%d: answered 2xx but not in the log", id, rev)
			}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(log.events), compareKey) {
		if !log.revisions[k.id][k.rev] {
			t.Errorf("%s r%d: %d %s events for a revision never submitted", k.id, k.rev, log.events[k], k.event)
		}
	}

	site, err := js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := js.KeyValue(ctx, socialshare.LedgerBucket)
	if err != nil {
		t.Fatal(err)
	}
	var posts map[string]map[string]int
	if exp.nets != nil {
		posts = exp.nets.posts()
	}
	for _, id := range ids {
		latest := int64(0)
		for rev := range log.revisions[id] {
			rep.revisions++
			latest = max(latest, rev)
			for _, ev := range []string{bus.EventSubmitted, bus.EventEnriched, bus.EventRendered, bus.EventShared} {
				if n := log.events[eventKey{ev, id, rev}]; n != 1 {
					t.Errorf("%s r%d: %d %s events, want exactly 1", id, rev, n, ev)
				}
			}
		}
		info, err := site.GetInfo(ctx, "articles/"+id)
		if err != nil {
			t.Errorf("%s: no page: %v", id, err)
		} else if info.Metadata["revision"] != strconv.FormatInt(latest, 10) || info.Metadata["status"] != "200" {
			t.Errorf("%s: page at revision %s status %s, want revision %d status 200", id, info.Metadata["revision"], info.Metadata["status"], latest)
		}
		checkShares(ctx, t, ledger, id, exp.nets != nil)
		if posts != nil {
			for _, n := range compose.Networks {
				if c := posts[n][id]; c != 1 {
					t.Errorf("%s: %d posts on %s, want exactly 1", id, c, n)
				}
				rep.posts += posts[n][id]
			}
		}
	}
	for _, n := range compose.Networks {
		for id, c := range posts[n] {
			if _, ok := log.revisions[id]; !ok {
				t.Errorf("%s holds %d posts of %q, which is no article of the log", n, c, id)
			}
		}
	}

	got := readDeadLetters(ctx, t, js)
	for _, svc := range slices.Sorted(maps.Keys(got)) {
		rep.deadLetters += len(got[svc])
		if _, ok := exp.poison[svc]; !ok {
			t.Errorf("news.dlq.%s holds %v; no dead letters expected there", svc, got[svc])
		}
	}
	for svc, want := range exp.poison {
		w := slices.Sorted(slices.Values(want))
		if g := got[svc]; !slices.Equal(g, w) {
			t.Errorf("news.dlq.%s holds %v, want exactly %v", svc, g, w)
		}
	}
	return rep
}

// atRest reports why the pipeline is still busy, or nil.
func atRest(ctx context.Context, js jetstream.JetStream, exp expectations) error {
	for _, stream := range []string{bus.StreamName, bus.DLQStreamName} {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		names := s.ConsumerNames(ctx)
		for name := range names.Name() {
			c, err := s.Consumer(ctx, name)
			if err != nil {
				return err
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if ci.NumPending != 0 || ci.NumAckPending != 0 {
				return fmt.Errorf("consumer %s on %s: %d pending, %d unacknowledged", name, stream, ci.NumPending, ci.NumAckPending)
			}
		}
		if err := names.Err(); err != nil {
			return err
		}
	}
	news, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		return err
	}
	info, err := news.Info(ctx, jetstream.WithSubjectFilter(bus.AllArticleSubjects))
	if err != nil {
		return err
	}
	var missing []string
	for subject, n := range info.State.Subjects {
		event, id, ok := bus.ParseSubject(subject)
		if !ok || event != bus.EventSubmitted || isPoison(id) {
			continue
		}
		if shared := info.State.Subjects[bus.Subject(bus.EventShared, id)]; shared < n {
			missing = append(missing, fmt.Sprintf("%s (%d of %d revisions shared)", id, shared, n))
		}
	}
	for id := range exp.accepted {
		if info.State.Subjects[bus.Subject(bus.EventSubmitted, id)] == 0 {
			missing = append(missing, id+" (not in the log)")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("articles not through: %s", strings.Join(missing, ", "))
	}
	dlq, err := js.Stream(ctx, bus.DLQStreamName)
	if err != nil {
		return err
	}
	dinfo, err := dlq.Info(ctx, jetstream.WithSubjectFilter(bus.DLQSubject(">")))
	if err != nil {
		return err
	}
	for svc, ids := range exp.poison {
		if n := dinfo.State.Subjects[bus.DLQSubject(svc)]; n < uint64(len(ids)) {
			return fmt.Errorf("news.dlq.%s holds %d dead letters, %d expected", svc, n, len(ids))
		}
	}
	return nil
}

type eventKey struct {
	event, id string
	rev       int64
}

func compareKey(a, b eventKey) int {
	return strings.Compare(fmt.Sprintf("%s %09d %s", a.id, a.rev, a.event), fmt.Sprintf("%s %09d %s", b.id, b.rev, b.event))
}

// articleLog is the NEWS stream read message by message.
type articleLog struct {
	// revisions of every article with a submitted event (poison aside).
	revisions map[string]map[int64]bool
	// events counts every event by kind, article and revision.
	events map[eventKey]int
}

func readLog(ctx context.Context, t *testing.T, js jetstream.JetStream) articleLog {
	t.Helper()
	s, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log := articleLog{revisions: map[string]map[int64]bool{}, events: map[eventKey]int{}}
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("NEWS message %d: %v", seq, err)
		}
		event, id, ok := bus.ParseSubject(m.Subject)
		if !ok {
			t.Errorf("NEWS message %d on %q, not an article subject", seq, m.Subject)
			continue
		}
		if isPoison(id) {
			continue
		}
		var h newsroomv1.EventHeader
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(m.Data, &h); err != nil || h.ArticleId != id {
			t.Errorf("NEWS message %d (%s): unreadable event header (%v)", seq, m.Subject, err)
			continue
		}
		log.events[eventKey{event, id, h.Revision}]++
		if event == bus.EventSubmitted {
			if log.revisions[id] == nil {
				log.revisions[id] = map[int64]bool{}
			}
			log.revisions[id][h.Revision] = true
		}
	}
	return log
}

// checkShares: one ledger entry per network for the article, the post
// (no corrections were submitted), done; with real posting, one remote
// post recorded across the entry's whole history.
func checkShares(ctx context.Context, t *testing.T, ledger jetstream.KeyValue, id string, posting bool) {
	t.Helper()
	lister, err := ledger.ListKeysFiltered(ctx, id+".>")
	if err != nil {
		t.Errorf("%s: share ledger: %v", id, err)
		return
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var want []string
	for _, n := range compose.Networks {
		want = append(want, id+"."+n)
	}
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Errorf("%s: share ledger keys %v, want one per network %v", id, keys, want)
	}
	for _, k := range keys {
		hist, err := ledger.History(ctx, k)
		if err != nil {
			t.Errorf("%s: history: %v", k, err)
			continue
		}
		remote := map[string]bool{}
		var last socialshare.Entry
		for _, e := range hist {
			if e.Operation() != jetstream.KeyValuePut {
				t.Errorf("%s: %s in its history", k, e.Operation())
				continue
			}
			last = socialshare.Entry{}
			if err := json.Unmarshal(e.Value(), &last); err != nil {
				t.Errorf("%s: %v", k, err)
			}
			if last.RemoteID != "" {
				remote[last.RemoteID] = true
			}
		}
		want := socialshare.StatusDryRun
		if posting {
			want = socialshare.StatusPosted
		}
		if last.Status != want || last.Kind != socialshare.KindPost {
			t.Errorf("%s: %s %s (%s), want a %s post", k, last.Kind, last.Status, last.LastError, want)
		}
		if posting && len(remote) != 1 {
			t.Errorf("%s: %d remote posts recorded in its history %v, want 1", k, len(remote), slices.Sorted(maps.Keys(remote)))
		}
	}
}

// readDeadLetters returns, per service, the sorted article ids of its
// dead letters (one entry per dead letter).
func readDeadLetters(ctx context.Context, t *testing.T, js jetstream.JetStream) map[string][]string {
	t.Helper()
	s, err := js.Stream(ctx, bus.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("NEWS_DLQ message %d: %v", seq, err)
		}
		svc := strings.TrimPrefix(m.Subject, bus.DLQSubject(""))
		_, id, ok := bus.ParseSubject(m.Header.Get(bus.HeaderDLQSubject))
		if !ok {
			id = "<" + m.Header.Get(bus.HeaderDLQSubject) + ">"
		}
		out[svc] = append(out[svc], id)
	}
	for svc := range out {
		sort.Strings(out[svc])
	}
	return out
}

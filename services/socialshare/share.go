package socialshare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// outcome of one network for one message: the post's entry, or a wait
// before it can go on, or an error that needs the message again.
type outcome struct {
	entry Entry
	wait  time.Duration
	err   error
}

// shareNetwork brings the article's post on one network (and a
// correction's reply under it) as far as it can go now, in a client span
// that is a child of the message's process span.
func (s *Socialshare) shareNetwork(ctx context.Context, ev *newsroomv1.ArticleRendered, network string) outcome {
	ctx, span := s.tracer.Start(ctx, "share "+network, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("newsroom.network", network), attribute.String("newsroom.article_id", ev.ArticleId),
			attribute.Int64("newsroom.revision", ev.Revision)))
	defer span.End()
	o := s.sharePost(ctx, ev, network)
	if o.err == nil && o.wait == 0 && (o.entry.Status == StatusPosted || o.entry.Status == StatusDryRun) {
		if c := ev.Article.GetCorrection(); c.GetNote() != "" && !ev.Article.Minor {
			co := s.shareCorrection(ctx, ev, network, o.entry, c.GetNote())
			if co.err != nil || co.wait > 0 {
				o.err, o.wait = co.err, co.wait
			}
			span.SetAttributes(attribute.String("newsroom.correction.status", co.entry.Status))
		}
	}
	span.SetAttributes(attribute.String("newsroom.share.status", o.entry.Status), attribute.Int("newsroom.share.attempts", o.entry.Attempts))
	if o.entry.RemoteID != "" {
		span.SetAttributes(attribute.String("newsroom.share.remote_id", o.entry.RemoteID))
	}
	switch {
	case o.err != nil:
		span.RecordError(o.err)
		span.SetStatus(codes.Error, o.err.Error())
	case o.entry.Status == StatusFailed:
		span.SetStatus(codes.Error, o.entry.LastError)
	}
	return o
}

// dueAt is when a network may post: not before publication, not before
// the embargo ends, plus the network's delay after either.
func (s *Socialshare) dueAt(ev *newsroomv1.ArticleRendered, network string) time.Time {
	a := ev.Article
	t := s.cfg.Now()
	if ev.OccurredAt != nil {
		t = ev.OccurredAt.AsTime()
	}
	for _, ts := range []*timestamppb.Timestamp{a.GetPublishAt(), a.GetEmbargoUntil()} {
		if ts != nil && ts.IsValid() && ts.AsTime().After(t) {
			t = ts.AsTime()
		}
	}
	return t.Add(s.cfg.Delays[network])
}

func (s *Socialshare) sharePost(ctx context.Context, ev *newsroomv1.ArticleRendered, network string) outcome {
	key := postKey(ev.ArticleId, network)
	return s.advance(ctx, key, network, func() Entry {
		e := Entry{ArticleID: ev.ArticleId, Network: network, Kind: KindPost, Revision: ev.Revision,
			IdempotencyKey: idempotencyKey(key), CreatedAt: s.cfg.Now().UTC(), NotBefore: s.dueAt(ev, network)}
		rules, err := s.rulesFor(ctx, network)
		if err == nil {
			var p compose.Post
			p, err = s.composer.Compose(compose.Input{Article: ev.Article, URL: ev.Url, Site: s.cfg.Site}, rules)
			e.Post, e.Text, e.Link = &p, p.Text, p.Link
		}
		switch {
		case err != nil:
			e.Status, e.LastError = StatusFailed, err.Error()
		case s.clients[network] == nil:
			e.Status = StatusDryRun
		default:
			e.Status = StatusPending
		}
		return e
	})
}

func (s *Socialshare) shareCorrection(ctx context.Context, ev *newsroomv1.ArticleRendered, network string, post Entry, note string) outcome {
	key := correctionKey(ev.ArticleId, network, note)
	return s.advance(ctx, key, network, func() Entry {
		e := Entry{ArticleID: ev.ArticleId, Network: network, Kind: KindCorrection, Revision: ev.Revision,
			IdempotencyKey: idempotencyKey(key), CreatedAt: s.cfg.Now().UTC(), NotBefore: s.dueAt(ev, network)}
		c := s.clients[network]
		if post.Status == StatusPosted {
			r := post.remote()
			e.ReplyTo = &r
		}
		rules, err := s.rulesFor(ctx, network)
		if err == nil {
			var p compose.Post
			p, err = s.composer.Correction(compose.Input{Article: ev.Article, URL: ev.Url, Site: s.cfg.Site, Note: note}, rules)
			e.Post, e.Text, e.Link = &p, p.Text, p.Link
		}
		switch {
		case err != nil:
			e.Status, e.LastError = StatusFailed, err.Error()
		case c == nil || post.Status == StatusDryRun:
			e.Status = StatusDryRun
		case !c.Replies():
			e.Status, e.LastError = StatusSkipped, network+" takes no replies from newsroom: the correction is on the page only"
		default:
			e.Status = StatusPending
		}
		return e
	})
}

// rulesFor is the network's limits, live from the network when its client
// knows them (Mastodon's instance), cached for an hour.
func (s *Socialshare) rulesFor(ctx context.Context, network string) (compose.Rules, error) {
	base, err := compose.RulesFor(network)
	if err != nil {
		return base, err
	}
	src, ok := s.clients[network].(networks.RulesSource)
	if !ok {
		return base, nil
	}
	s.rulesMu.Lock()
	c, ok := s.rules[network]
	s.rulesMu.Unlock()
	if ok && s.cfg.Now().Before(c.until) {
		return c.rules, nil
	}
	live, err := src.Rules(ctx, base)
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "live limits unavailable, using the defaults", "network", network, "err", err)
		return base, nil
	}
	s.rulesMu.Lock()
	s.rules[network] = cachedRules{live, s.cfg.Now().Add(time.Hour)}
	s.rulesMu.Unlock()
	return live, nil
}

// advance moves one ledger entry towards a final state:
//
//  1. no entry: compose, and create it (pending, with its idempotency key)
//     before anything is sent; a concurrent creator wins and is followed;
//  2. final (posted, failed, dry run, …): nothing to do, whatever the
//     delivery (redelivery, replay);
//  3. pending and not due: wait;
//  4. pending after an attempt with an unknown outcome: look the post up
//     on the network first, and record it if it is there;
//  5. otherwise count the attempt in the ledger, then call the network
//     with the same key as every earlier attempt; record the post, or the
//     error with the time of the next attempt (Retry-After, rate-limit
//     reset or backoff), or FAILED once retrying cannot help.
func (s *Socialshare) advance(ctx context.Context, key, network string, create func() Entry) outcome {
	for {
		e, rev, found, err := s.ledger.get(ctx, key)
		if err != nil {
			return outcome{err: err}
		}
		if !found {
			e = create()
			e.UpdatedAt = s.cfg.Now().UTC()
			if _, err := s.ledger.create(ctx, key, e); errors.Is(err, errConflict) {
				continue
			} else if err != nil {
				return outcome{err: err}
			}
			switch e.Status {
			case StatusDryRun:
				s.deps.Metrics.ShareAttempt(network, metrics.ShareDryRun)
			case StatusSkipped:
				s.deps.Metrics.ShareAttempt(network, metrics.ShareSkipped)
			}
			continue
		}
		if e.terminal() {
			return outcome{entry: e}
		}
		now := s.cfg.Now()
		if now.Before(e.NotBefore) {
			return outcome{entry: e, wait: e.NotBefore.Sub(now)}
		}
		if now.Before(e.NextAttemptAt) {
			return outcome{entry: e, wait: e.NextAttemptAt.Sub(now)}
		}
		client := s.clients[network]
		if client == nil {
			// Credentials were removed while the post waited.
			e.Status, e.LastError = StatusDryRun, "no credentials when due: recorded only"
			if _, err := s.ledger.update(ctx, key, e, rev); err != nil && !errors.Is(err, errConflict) {
				return outcome{err: err}
			}
			continue
		}
		req := networks.Request{ArticleID: e.ArticleID, Key: e.IdempotencyKey, CreatedAt: e.CreatedAt, Post: *e.Post, ReplyTo: e.ReplyTo}

		var remote networks.Remote
		var callErr error
		if e.Attempts > 0 {
			// An earlier attempt may have reached the network.
			r, ok, err := client.Find(ctx, req)
			switch {
			case err != nil:
				callErr = err
				e.Attempts++ // a failed look-up counts, so it cannot loop for ever
			case ok:
				remote = r
			}
		}
		if remote.ID == "" && callErr == nil {
			if e.Attempts >= s.cfg.MaxAttempts {
				e.Status = StatusFailed
				e.LastError = fmt.Sprintf("gave up after %d attempts: %s", e.Attempts, e.LastError)
				e.UpdatedAt = now.UTC()
				if _, err := s.ledger.update(ctx, key, e, rev); err != nil && !errors.Is(err, errConflict) {
					return outcome{err: err}
				}
				continue
			}
			// The attempt is in the ledger before the call.
			e.Attempts++
			e.UpdatedAt = now.UTC()
			if rev, err = s.ledger.update(ctx, key, e, rev); errors.Is(err, errConflict) {
				// Another instance is attempting it; see what it did later.
				return outcome{entry: e, wait: time.Second}
			} else if err != nil {
				return outcome{err: err}
			}
			remote, callErr = client.Post(ctx, req)
			s.deps.Metrics.ShareAttempt(network, attemptOutcome(callErr))
			if callErr == nil && s.afterPost != nil {
				if err := s.afterPost(network, remote); err != nil {
					return outcome{entry: e, err: err}
				}
			}
		}
		if ctx.Err() != nil {
			return outcome{entry: e, err: fmt.Errorf("%s for %s: %w", network, e.ArticleID, ctx.Err())}
		}
		now = s.cfg.Now()
		e.UpdatedAt = now.UTC()
		var wait time.Duration
		switch {
		case callErr == nil:
			e.Status, e.LastError, e.NextAttemptAt = StatusPosted, "", time.Time{}
			e.RemoteID, e.RemoteURL, e.RemoteCID = remote.ID, remote.URL, remote.CID
		case networks.IsPermanent(callErr):
			e.Status, e.LastError = StatusFailed, callErr.Error()
		default:
			retry, after := networks.Retryable(callErr)
			if !retry {
				// Not the network's answer: our side (a bad request we
				// built, a closed client). Keep the entry pending.
				return outcome{entry: e, err: fmt.Errorf("%s for %s: %w", network, e.ArticleID, callErr)}
			}
			wait = max(after, s.backoff(e.Attempts))
			e.LastError, e.NextAttemptAt = callErr.Error(), now.Add(wait)
			if e.Attempts >= s.cfg.MaxAttempts {
				e.Status = StatusFailed
				e.LastError = fmt.Sprintf("gave up after %d attempts: %s", e.Attempts, callErr)
			}
		}
		if _, err := s.ledger.update(ctx, key, e, rev); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return outcome{entry: e, err: err}
		}
		if e.terminal() {
			return outcome{entry: e}
		}
		if wait > s.cfg.InlineWait {
			return outcome{entry: e, wait: wait}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return outcome{entry: e, err: ctx.Err()}
		}
	}
}

// attemptOutcome labels a network call for the share-attempts metric.
func attemptOutcome(err error) string {
	var ne *networks.Error
	switch {
	case err == nil:
		return metrics.SharePosted
	case errors.As(err, &ne) && ne.Status == http.StatusTooManyRequests:
		return metrics.ShareRateLimited
	case networks.IsPermanent(err):
		return metrics.ShareRejected
	}
	return metrics.ShareFailed
}

// backoff before attempt n+1 after n failed attempts.
func (s *Socialshare) backoff(n int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < n && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.RetryMax)
}

// retract withdraws every post of the article: deletes it where the
// network allows, records what could not be deleted, and leaves an entry
// for networks not yet posted to, so nothing is posted later. It returns
// the withdrawn event: each network's post as the ledger now holds it, so
// the status view shows posts deleted, not still posted.
func (s *Socialshare) retract(ctx context.Context, ev *newsroomv1.ArticleRetracted) (*newsroomv1.ArticleShared, error) {
	keys, err := s.ledger.keys(ctx, ev.ArticleId)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	var errs []error
	for _, k := range keys {
		have[k] = true
		if err := s.retractEntry(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range s.cfg.Networks {
		k := postKey(ev.ArticleId, n)
		if have[k] {
			continue
		}
		e := Entry{ArticleID: ev.ArticleId, Network: n, Kind: KindPost, Revision: ev.Revision, Status: StatusRetracted,
			IdempotencyKey: idempotencyKey(k), CreatedAt: s.cfg.Now().UTC(), UpdatedAt: s.cfg.Now().UTC(),
			LastError: "retracted before it was shared"}
		keys = append(keys, k)
		if _, err := s.ledger.create(ctx, k, e); errors.Is(err, errConflict) {
			if err := s.retractEntry(ctx, k); err != nil {
				errs = append(errs, err)
			}
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("retract article %s: %w", ev.ArticleId, errors.Join(errs...))
	}
	if err := s.deadLetterFailures(ctx, ev.ArticleId, bus.Subject(bus.EventRetracted, ev.ArticleId), ev); err != nil {
		return nil, err
	}
	return s.withdrawn(ctx, ev, keys)
}

// withdrawn is the event of a retraction handled: every network's post of
// the article (keys: its ledger entries) as the ledger now holds it. A
// correction's reply that could not be deleted marks its network failed:
// something of the article is still up there.
func (s *Socialshare) withdrawn(ctx context.Context, ev *newsroomv1.ArticleRetracted, keys []string) (*newsroomv1.ArticleShared, error) {
	out := &newsroomv1.ArticleShared{
		EventId:    bus.MsgID(ev.ArticleId, ev.Revision, bus.EventWithdrawn),
		ArticleId:  ev.ArticleId,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(s.cfg.Now()),
	}
	posts := map[string]*newsroomv1.Share{}
	var stuck []Entry
	for _, k := range keys {
		e, _, ok, err := s.ledger.get(ctx, k)
		switch {
		case err != nil:
			return nil, err
		case !ok:
		case e.Kind == KindPost:
			posts[e.Network] = e.share()
			out.Shares = append(out.Shares, posts[e.Network])
		case e.Status == StatusDeleteFailed:
			stuck = append(stuck, e)
		}
	}
	for _, e := range stuck {
		sh := posts[e.Network]
		if sh == nil {
			sh = &newsroomv1.Share{Network: e.Network}
			posts[e.Network] = sh
			out.Shares = append(out.Shares, sh)
		}
		sh.Status = newsroomv1.ShareStatus_SHARE_STATUS_FAILED
		msg := "the correction's reply: " + e.LastError
		if sh.LastError != "" {
			msg += "; " + sh.LastError
		}
		sh.LastError = msg
	}
	// In posting order, as the shared event has them.
	order := func(n string) int {
		if i := slices.Index(compose.Networks, n); i >= 0 {
			return i
		}
		return len(compose.Networks)
	}
	slices.SortStableFunc(out.Shares, func(a, b *newsroomv1.Share) int {
		return cmp.Or(order(a.Network)-order(b.Network), strings.Compare(a.Network, b.Network))
	})
	return out, nil
}

func (s *Socialshare) retractEntry(ctx context.Context, key string) error {
	e, rev, ok, err := s.ledger.get(ctx, key)
	if err != nil || !ok {
		return err
	}
	ctx, span := s.tracer.Start(ctx, "delete "+e.Network, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("newsroom.network", e.Network), attribute.String("newsroom.article_id", e.ArticleID),
			attribute.String("newsroom.share.kind", e.Kind)))
	defer span.End()
	client := s.clients[e.Network]
	switch e.Status {
	case StatusDeleted, StatusRetracted, StatusDeleteFailed:
		return nil
	case StatusPending:
		// A post may have landed: find it before deciding.
		if client != nil && e.Attempts > 0 {
			req := networks.Request{ArticleID: e.ArticleID, Key: e.IdempotencyKey, CreatedAt: e.CreatedAt, Post: *e.Post, ReplyTo: e.ReplyTo}
			r, found, err := client.Find(ctx, req)
			if err != nil {
				if networks.IsPermanent(err) {
					e.Status, e.LastError = StatusDeleteFailed, "retracted while pending; could not check the network: "+err.Error()
					break
				}
				return err
			}
			if found {
				e.RemoteID, e.RemoteURL, e.RemoteCID = r.ID, r.URL, r.CID
				e.Status = StatusPosted
				return s.deleteRemote(ctx, key, e, rev, client)
			}
		}
		e.Status, e.LastError = StatusRetracted, "retracted before it was shared"
	case StatusPosted:
		if client == nil {
			e.Status, e.LastError = StatusDeleteFailed, "no credentials to delete it with"
			break
		}
		return s.deleteRemote(ctx, key, e, rev, client)
	default: // dry run, failed, skipped: nothing on the network
		e.Status = StatusRetracted
	}
	e.UpdatedAt = s.cfg.Now().UTC()
	span.SetAttributes(attribute.String("newsroom.share.status", e.Status))
	_, err = s.ledger.update(ctx, key, e, rev)
	return err
}

func (s *Socialshare) deleteRemote(ctx context.Context, key string, e Entry, rev uint64, client networks.Client) error {
	err := client.Delete(ctx, e.remote())
	switch {
	case err == nil:
		e.Status, e.LastError = StatusDeleted, ""
	case networks.IsPermanent(err):
		e.Status, e.LastError = StatusDeleteFailed, "could not delete: "+err.Error()
	default:
		return fmt.Errorf("delete %s post of %s: %w", e.Network, e.ArticleID, err)
	}
	e.UpdatedAt = s.cfg.Now().UTC()
	_, err = s.ledger.update(ctx, key, e, rev)
	return err
}

package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/socialshare"
)

// stageRates are each stage's own work alone: its endpoint (what the bus
// Subscriber calls between decode and publish) called directly, with as
// many in flight as the platform gives a stage, on a fresh server, for
// the same articles the pipeline run takes. The state a stage writes
// (author registry, site bucket and index, share ledger) is part of its
// work; consuming, publishing and acking are not.
type stageRates struct {
	enrichment, rendering, socialshare float64
}

// stageInputs are the events each stage receives for articles
// first..first+n-1, made (untimed) as the stages before would make them,
// stamped as ingest stamps a burst: accepted one after another, now.
type stageInputs struct {
	submitted []*newsroomv1.ArticleSubmitted
	enriched  []*newsroomv1.ArticleEnriched
	rendered  []*newsroomv1.ArticleRendered
}

func (b *Bench) stageInputs(base string, n, first int) (stageInputs, error) {
	var in stageInputs
	now := time.Now()
	for i := range n {
		sub := Submitted(b.corpus.Article(first+i), base, now.Add(time.Duration(i)*time.Millisecond))
		in.submitted = append(in.submitted, sub)
		a, err := enrich.Article(proto.Clone(sub.Article).(*newsroomv1.Article))
		if err != nil {
			return in, fmt.Errorf("enrich %s: %w", sub.ArticleId, err)
		}
		in.enriched = append(in.enriched, &newsroomv1.ArticleEnriched{
			EventId: bus.MsgID(sub.ArticleId, 1, bus.EventEnriched), ArticleId: sub.ArticleId, Revision: 1,
			OccurredAt: timestamppb.Now(), Article: a, AcceptedAt: sub.AcceptedAt,
		})
		in.rendered = append(in.rendered, &newsroomv1.ArticleRendered{
			EventId: bus.MsgID(sub.ArticleId, 1, bus.EventRendered), ArticleId: sub.ArticleId, Revision: 1,
			OccurredAt: timestamppb.Now(), Article: a, AcceptedAt: sub.AcceptedAt,
			Url: strings.TrimRight(base, "/") + "/articles/" + sub.ArticleId, ObjectKey: "articles/" + sub.ArticleId,
		})
	}
	return in, nil
}

func (b *Bench) measureStages(ctx context.Context, n, first int) (stageRates, error) {
	var res stageRates
	const base = "http://127.0.0.1:8080"
	in, err := b.stageInputs(base, n, first)
	if err != nil {
		return res, err
	}
	tp := noop.NewTracerProvider()
	env := pipelineEnv(base, nil)

	res.enrichment, err = b.onFreshServer(ctx, func(js jetstreamJS) (float64, error) {
		e, err := enrichment.New(ctx, enrichment.Deps{JS: js, Tracer: tp, Logger: discardLogger}, enrichment.Config{PublicURL: base})
		if err != nil {
			return 0, err
		}
		return closedLoop(ctx, n, relayWorkers, func(i int) error {
			_, err := e.Enrich(ctx, in.submitted[i])
			return err
		})
	})
	if err != nil {
		return res, fmt.Errorf("enrichment alone: %w", err)
	}

	res.rendering, err = b.onFreshServer(ctx, func(js jetstreamJS) (float64, error) {
		site, err := rendering.SiteFromEnv(env)
		if err != nil {
			return 0, err
		}
		r, err := rendering.New(ctx, rendering.Deps{JS: js, Tracer: tp, Logger: discardLogger}, rendering.Config{Site: site})
		if err != nil {
			return 0, err
		}
		return closedLoop(ctx, n, relayWorkers, func(i int) error {
			_, err := r.Handle(ctx, rendering.Request{Enriched: in.enriched[i]})
			return err
		})
	})
	if err != nil {
		return res, fmt.Errorf("rendering alone: %w", err)
	}

	res.socialshare, err = b.onFreshServer(ctx, func(js jetstreamJS) (float64, error) {
		cfg, err := socialshare.ConfigFromEnv(env)
		if err != nil {
			return 0, err
		}
		cfg.Site = "Newsroom"
		s, err := socialshare.New(ctx, socialshare.Deps{JS: js, Tracer: tp, Logger: discardLogger}, cfg)
		if err != nil {
			return 0, err
		}
		return closedLoop(ctx, n, relayWorkers, func(i int) error {
			ev, err := s.Handle(ctx, socialshare.Request{Rendered: in.rendered[i]})
			if err == nil && ev == nil {
				err = fmt.Errorf("article %s: nothing shared", in.rendered[i].ArticleId)
			}
			return err
		})
	})
	if err != nil {
		return res, fmt.Errorf("socialshare alone: %w", err)
	}
	return res, nil
}

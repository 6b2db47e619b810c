package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/services/ingest"
)

func init() {
	register(command{
		name:    "status",
		summary: "show an article's state, revisions, inferred values and share outcomes",
		help: `usage: newsroom status [flags] ID

Shows GET /v1/articles/ID: the state (scheduled, processing, published,
failed, retracted), each revision's stages with editor and correction, what
enrichment inferred and from which evidence, each network's share outcome, and
every problem (dead letters, failed shares).

flags:
  --wait DURATION  poll until the article is no longer processing, up to DURATION
  --json           print the API's JSON answer

` + apiEnvHelp,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			return problemError(runStatus(ctx, cio, args))
		},
	})
}

func runStatus(ctx context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wait := fs.Duration("wait", 0, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage(err.Error())
	}
	if len(pos) != 1 {
		return errUsage("status takes one article ID")
	}
	id := pos[0]
	if err := bus.ValidateArticleID(id); err != nil {
		return errUsage(err.Error())
	}
	c, err := newAPIClient(cio.getenv)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(*wait)
	for {
		var st ingest.Status
		raw, err := c.do(ctx, "GET", "/v1/articles/"+id, nil, nil, &st)
		if err != nil {
			return err
		}
		if st.State != ingest.StateProcessing || !time.Now().Before(deadline) {
			if *asJSON {
				_, err := cio.stdout.Write(raw)
				return err
			}
			printStatus(cio.stdout, st)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func printStatus(w io.Writer, st ingest.Status) {
	fmt.Fprintf(w, "%s  %s  revision %d\n", st.ID, strings.ToUpper(st.State), st.Revision)
	if st.Headline != "" {
		fmt.Fprintf(w, "  %s\n", st.Headline)
	}
	fmt.Fprintf(w, "  page: %s\n", st.URL)
	if st.ScheduledFor != nil {
		fmt.Fprintf(w, "  held until %s\n", stamp(st.ScheduledFor))
	}
	if r := st.Retraction; r != nil {
		fmt.Fprintf(w, "  retracted %s by %s: %s\n", stamp(&r.At), r.Editor, r.Reason)
	}
	for _, rv := range st.Revisions {
		fmt.Fprintf(w, "\nrevision %d by %s, accepted %s", rv.Revision, rv.Editor, stamp(&rv.AcceptedAt))
		if rv.SourceFormat != "" {
			fmt.Fprintf(w, " (%s)", rv.SourceFormat)
		}
		fmt.Fprintln(w)
		if rv.Correction != "" {
			fmt.Fprintf(w, "  correction: %s\n", rv.Correction)
		}
		fmt.Fprintf(w, "  submitted %s  enriched %s  rendered %s  shared %s",
			stamp(rv.Stages.Submitted), stamp(rv.Stages.Enriched), stamp(rv.Stages.Rendered), stamp(rv.Stages.Shared))
		if rv.Stages.Withdrawn != nil {
			fmt.Fprintf(w, "  withdrawn %s", stamp(rv.Stages.Withdrawn))
		}
		fmt.Fprintln(w)
		if en := rv.Enrichment; en != nil {
			for _, field := range slices.Sorted(maps.Keys(en.Evidence)) {
				ev := en.Evidence[field]
				fmt.Fprintf(w, "  %s: from %s %s (%.2f) %q\n", field, ev.Source, ev.Rule, ev.Confidence, ev.Excerpt)
			}
			for _, b := range en.Bylines {
				fmt.Fprintf(w, "  byline %s %s%s\n", b.Name, orgSuffix(b.Organization), evidenceNote(b.Evidence))
			}
			for _, im := range en.Images {
				fmt.Fprintf(w, "  image %s credit %q%s\n", im.URL, im.Credit, evidenceNote(im.Evidence))
			}
			var tags []string
			for _, t := range en.Tags {
				tags = append(tags, t.Name+" ("+t.Type+")")
			}
			if len(tags) > 0 {
				fmt.Fprintf(w, "  tags: %s\n", strings.Join(tags, ", "))
			}
		}
		for _, sh := range rv.Shares {
			fmt.Fprintf(w, "  %s: %s", sh.Network, sh.Status)
			if sh.RemoteURL != "" {
				fmt.Fprintf(w, " %s", sh.RemoteURL)
			}
			if sh.Error != "" {
				fmt.Fprintf(w, " after %d attempts: %s", sh.Attempts, sh.Error)
			}
			fmt.Fprintln(w)
		}
	}
	if len(st.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range st.Problems {
			fmt.Fprintf(w, "  ! %s\n", p)
		}
	}
}

func orgSuffix(org string) string {
	if org == "" {
		return ""
	}
	return "(" + org + ")"
}

func evidenceNote(ev *ingest.Evidence) string {
	if ev == nil {
		return ""
	}
	return fmt.Sprintf("  [%s %s %.2f]", ev.Source, ev.Rule, ev.Confidence)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/newsroom/newsroom/services/ingest"
)

func init() {
	register(command{
		name:    "list",
		summary: "list articles, newest activity first: all, by state, or what needs attention",
		help: `usage: newsroom list [flags]

Shows GET /v1/articles: each article's id, state, revision, last activity,
problem count and headline, newest activity first.

flags:
  --state LIST     keep these states (comma-separated: ` + strings.Join(ingest.States, ", ") + `)
  --problems       keep only articles that need an editor's attention (dead
                   letters, failed shares, posts still up after a retraction)
  --since TIME     keep articles active at or after TIME (RFC 3339)
  --limit N        at most N articles (default 50, at most ` + strconv.Itoa(ingest.MaxListLimit) + `)
  --all            follow the pages to the end
  --json           print the API's JSON answer (one page)

` + apiEnvHelp,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			return problemError(runList(ctx, cio, args))
		},
	})
}

func runList(ctx context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	state := fs.String("state", "", "")
	problems := fs.Bool("problems", false, "")
	since := fs.String("since", "", "")
	limit := fs.Int("limit", 0, "")
	all := fs.Bool("all", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage(err.Error())
	}
	if len(pos) != 0 {
		return errUsage("list takes no arguments, only flags")
	}
	q := url.Values{}
	if *state != "" {
		q.Set("state", *state)
	}
	if *problems {
		q.Set("problems", "true")
	}
	if *since != "" {
		q.Set("since", *since)
	}
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	c, err := newAPIClient(cio.getenv)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(cio.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tREV\tUPDATED\tPROBLEMS\tHEADLINE")
	n, more := 0, false
	for {
		var page ingest.ListResponse
		raw, err := c.do(ctx, "GET", "/v1/articles?"+q.Encode(), nil, nil, &page)
		if err != nil {
			return err
		}
		if *asJSON {
			_, err := cio.stdout.Write(raw)
			return err
		}
		for _, a := range page.Articles {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", a.ID, a.State, a.Revision, stamp(&a.UpdatedAt), a.Problems, a.Headline)
			n++
		}
		if !*all || page.Next == "" {
			more = page.Next != ""
			break
		}
		q.Set("cursor", page.Next)
	}
	if n == 0 {
		_, err := fmt.Fprintln(cio.stdout, "no articles")
		return err
	}
	if err := tw.Flush(); err != nil || !more {
		return err
	}
	_, err = fmt.Fprintln(cio.stdout, "(more: --all, or --limit)")
	return err
}

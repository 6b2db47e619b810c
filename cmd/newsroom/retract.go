package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/services/ingest"
)

func init() {
	register(command{
		name:    "retract",
		summary: "take an article down, with a reason",
		help: `usage: newsroom retract ID --reason TEXT

Retracts article ID through POST /v1/articles/ID/retract: its page is taken
down and its social posts are removed (rendering and socialshare act on the
retraction). The reason is recorded with the editor's identity.

flags:
  --reason TEXT   why the article is taken down (required)
  --json          print the API's JSON answer

` + apiEnvHelp,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			return problemError(runRetract(ctx, cio, args))
		},
	})
}

func runRetract(ctx context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("retract", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	reason := fs.String("reason", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage(err.Error())
	}
	if len(pos) != 1 {
		return errUsage("retract takes one article ID")
	}
	id := pos[0]
	if err := bus.ValidateArticleID(id); err != nil {
		return errUsage(err.Error())
	}
	if strings.TrimSpace(*reason) == "" {
		return errUsage("retract needs --reason TEXT: say why the article is taken down")
	}
	body, err := json.Marshal(map[string]string{"reason": *reason})
	if err != nil {
		return err
	}
	path := "/v1/articles/" + id + "/retract"
	header := http.Header{"Content-Type": {"application/json"}}
	header.Set(ingest.HeaderIdempotencyKey, requestKey("POST", path, body))
	c, err := newAPIClient(cio.getenv)
	if err != nil {
		return err
	}
	var resp ingest.RetractResponse
	raw, err := c.do(ctx, "POST", path, header, body, &resp)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := cio.stdout.Write(raw)
		return err
	}
	fmt.Fprintf(cio.stdout, "%s retracted at revision %d, %s: %s\n  status: %s\n",
		resp.ID, resp.Revision, resp.RetractedAt.Local().Format(time.RFC1123), resp.Reason, resp.StatusURL)
	return nil
}

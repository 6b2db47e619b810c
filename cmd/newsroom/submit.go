package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/services/ingest"
	"github.com/newsroom/newsroom/services/ingest/formats"
)

const apiEnvHelp = `environment:
  NEWSROOM_API_URL    the API (default http://127.0.0.1:8080)
  NEWSROOM_API_TOKEN  the API token; without it, the all-in-one's generated token
                      is read from NEWSROOM_DATA_DIR/api-token (default ./data)
`

func init() {
	register(command{
		name:    "submit",
		summary: "submit an article file to a running API (a new revision with --id)",
		help: `usage: newsroom submit [flags] FILE

Sends FILE to POST /v1/articles, or as a new revision to PUT /v1/articles/ID
with --id. The format comes from the extension: .json (structured article),
.ninjs.json (IPTC ninjs), .md, .html, .txt (a paste); "-" reads standard input.
The file is checked here first, so mistakes are named before anything is sent.
A repeated submit of the same file is answered with the first response (its
Idempotency-Key is derived from the request), never as a second article.

flags:
  --id ID          store a new revision of article ID
  --type TYPE      media type, overriding the extension
  --if-match REV   refuse the revision unless the article is at revision REV
  --key KEY        Idempotency-Key (default: derived from the request)
  --json           print the API's JSON answer

` + apiEnvHelp,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			return problemError(runSubmit(ctx, cio, args))
		},
	})
}

func runSubmit(ctx context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	id := fs.String("id", "", "")
	mediaType := fs.String("type", "", "")
	ifMatch := fs.String("if-match", "", "")
	key := fs.String("key", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage(err.Error())
	}
	if len(pos) != 1 {
		return errUsage("submit takes one FILE (or - for standard input)")
	}
	file := pos[0]
	var body []byte
	if file == "-" {
		body, err = io.ReadAll(io.LimitReader(cio.stdin, formats.MaxBodyBytes+1))
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	if *mediaType == "" {
		mt, ok := formats.ForFileName(file)
		if !ok {
			if file != "-" {
				return errUsage(fmt.Sprintf("cannot tell the format of %q from its extension; give --type", filepath.Base(file)))
			}
			mt = "text/plain"
		}
		*mediaType = mt
	}
	decode, err := formats.ForContentType(*mediaType)
	if err != nil {
		return errUsage(err.Error())
	}
	if _, errs := decode(body); len(errs) > 0 {
		return &problem.Details{Title: "Invalid article", Detail: fmt.Sprintf("%s was not sent.", file), Errors: errs}
	}

	method, path := "POST", "/v1/articles"
	if *id != "" {
		if err := bus.ValidateArticleID(*id); err != nil {
			return errUsage(err.Error())
		}
		method, path = "PUT", "/v1/articles/"+*id
	}
	header := http.Header{"Content-Type": {*mediaType}}
	if *ifMatch != "" {
		header.Set("If-Match", fmt.Sprintf("%q", strings.Trim(*ifMatch, `"`)))
	}
	if *key == "" {
		*key = requestKey(method, path, *mediaType, header.Get("If-Match"), body)
	}
	header.Set(ingest.HeaderIdempotencyKey, *key)
	c, err := newAPIClient(cio.getenv)
	if err != nil {
		return err
	}
	var resp ingest.SubmitResponse
	raw, err := c.do(ctx, method, path, header, body, &resp)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := cio.stdout.Write(raw)
		return err
	}
	fmt.Fprintf(cio.stdout, "%s revision %d: %s", resp.ID, resp.Revision, resp.State)
	if resp.ReleaseAt != nil {
		fmt.Fprintf(cio.stdout, " until %s", resp.ReleaseAt.Local().Format(time.RFC1123))
	}
	fmt.Fprintf(cio.stdout, "\n  status: %s\n  page:   %s\n", resp.StatusURL, resp.URL)
	return nil
}

// requestKey derives an Idempotency-Key from the request, so running the
// same command twice is answered once.
func requestKey(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return "cli-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// parseInterspersed parses flags before and after the positional arguments
// ("newsroom retract ID --reason TEXT").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// apiClient calls a running newsroom API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(getenv func(string) string) (*apiClient, error) {
	base := strings.TrimRight(getenv("NEWSROOM_API_URL"), "/")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	token := strings.TrimSpace(getenv("NEWSROOM_API_TOKEN"))
	if token == "" {
		dir := getenv("NEWSROOM_DATA_DIR")
		if dir == "" {
			dir = "data"
		}
		b, err := os.ReadFile(filepath.Join(dir, tokenFile))
		if err != nil {
			return nil, fmt.Errorf("no API token: set NEWSROOM_API_TOKEN, or run where the all-in-one keeps %s (%w)",
				filepath.Join(dir, tokenFile), err)
		}
		token = strings.TrimSpace(string(b))
	}
	return &apiClient{base: base, token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// do sends a request and decodes a 2xx answer into out; an error answer
// becomes the API's problem document.
func (c *apiClient) do(ctx context.Context, method, path string, header http.Header, body []byte, out any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	if resp.StatusCode >= 300 {
		var p problem.Details
		if json.Unmarshal(raw, &p) != nil || p.Title == "" {
			return nil, fmt.Errorf("%s %s: %s: %s", method, c.base+path, resp.Status, bytes.TrimSpace(raw))
		}
		return nil, &p
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s %s: unreadable answer: %w", method, c.base+path, err)
		}
	}
	return raw, nil
}

// describeProblem prints a problem with every field at fault.
func describeProblem(p *problem.Details) string {
	var b strings.Builder
	b.WriteString(p.Title)
	if p.Status != 0 {
		fmt.Fprintf(&b, " (%d)", p.Status)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for _, fe := range p.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", fe.Field, fe.Detail)
	}
	if p.RetryAfter > 0 {
		fmt.Fprintf(&b, "\n  retry after %ds", p.RetryAfter)
	}
	return b.String()
}

// problemError makes the CLI print a problem in full.
func problemError(err error) error {
	var p *problem.Details
	if errors.As(err, &p) {
		return errors.New(describeProblem(p))
	}
	return err
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
)

func runEnrichCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = cli(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errw)
	return code, out.String(), errw.String()
}

type cliResult struct {
	Headline string `json:"headline"`
	Language string `json:"language"`
	Body     string `json:"body"`
	Bylines  []struct {
		Name           string `json:"name"`
		Organization   string `json:"organization"`
		IsOrganization bool   `json:"is_organization"`
		Evidence       *struct {
			Source     string  `json:"source"`
			Rule       string  `json:"rule"`
			Confidence float64 `json:"confidence"`
		} `json:"evidence"`
	} `json:"bylines"`
	Images []struct {
		Caption string `json:"caption"`
		Credit  string `json:"credit"`
		Alt     string `json:"alt"`
	} `json:"images"`
	Tags []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Code string `json:"code"`
	} `json:"tags"`
	Translations []struct {
		Language string `json:"language"`
	} `json:"translations"`
}

func decode(t *testing.T, stdout string) cliResult {
	t.Helper()
	var r cliResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output is not the JSON object: %v\n%s", err, stdout)
	}
	return r
}

// TestEnrichCLI is acceptance 5: `newsroom enrich FILE` prints the JSON
// object the issue specifies, from the code the service runs.
func TestEnrichCLI(t *testing.T) {
	seed := filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt")
	code, stdout, stderr := runEnrichCLI(t, "", "enrich", seed)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"headline", "bylines", "images", "tags", "language", "body"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("output has no %q", k)
		}
	}
	r := decode(t, stdout)
	if r.Headline != "Parler Sues Amazon For Taking Down Its Servers" || r.Language != "en" {
		t.Errorf("headline %q language %q", r.Headline, r.Language)
	}
	if len(r.Bylines) != 1 || r.Bylines[0].Name != "Emmanuel Alejandro Rondón" || r.Bylines[0].Organization != "El American" ||
		r.Bylines[0].Evidence == nil || r.Bylines[0].Evidence.Rule != "bio-line" {
		t.Errorf("bylines %+v", r.Bylines)
	}
	if len(r.Images) != 1 || r.Images[0].Credit != "EFE" || r.Images[0].Caption == "" || r.Images[0].Alt == "" {
		t.Errorf("images %+v", r.Images)
	}
	types := map[string]string{}
	for _, tg := range r.Tags {
		types[tg.Name] = tg.Type
		switch tg.Type {
		case "person", "organization", "place", "topic", "keyword":
		default:
			t.Errorf("tag %q has type %q", tg.Name, tg.Type)
		}
	}
	if types["Parler"] != "organization" || types["Mike Pence"] != "person" || types["Seattle"] != "place" || types["politics"] != "topic" {
		t.Errorf("tags %v", types)
	}
	if !strings.Contains(r.Body, "\n## Beyond Justice\n") || strings.Contains(r.Body, "fbpx") {
		t.Errorf("body %q", r.Body)
	}
	if len(r.Translations) != 1 || r.Translations[0].Language != "es" {
		t.Errorf("translations %+v", r.Translations)
	}

	// The same from standard input.
	b, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	code, stdin, _ := runEnrichCLI(t, string(b), "enrich", "--format", "text", "-")
	if code != 0 || stdin != stdout {
		t.Errorf("stdin run: exit %d, output differs: %v", code, stdin != stdout)
	}
}

func TestEnrichCLIFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	story := "Lawmakers in Madrid met on Monday, and the vote on the budget was delayed again, officials said."
	// Structured JSON: the editor's byline wins over the one in the body.
	js := write("a.json", `{"headline":"Budget vote delayed","body":"By Someone Else\n\n`+story+`","body_format":"text","bylines":[{"name":"Jane Doe","organization":"The Paper"}]}`)
	code, out, errs := runEnrichCLI(t, "", "enrich", js)
	if code != 0 {
		t.Fatalf("json: exit %d %s", code, errs)
	}
	r := decode(t, out)
	if r.Headline != "Budget vote delayed" || len(r.Bylines) != 1 || r.Bylines[0].Name != "Jane Doe" || r.Bylines[0].Evidence.Source != "editor" {
		t.Errorf("json: %+v", r)
	}
	// HTML page.
	h := write("a.html", `<html lang="en"><head><title>Budget vote delayed | The Paper</title><meta property="og:site_name" content="The Paper">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Budget vote delayed","author":[{"@type":"Person","name":"Jane Doe"},{"@type":"Organization","name":"Reuters"}]}</script></head>
<body><nav><a href="/">Home</a></nav><article><h1>Budget vote delayed</h1><p>`+story+`</p><h2>What next</h2><p>`+story+`</p>
<figure><img src="https://x.example/a.jpg" alt=""><figcaption>Lawmakers leave the chamber. Photo: John Roe/Reuters</figcaption></figure></article>
<div class="share-bar">Share on Facebook</div></body></html>`)
	code, out, errs = runEnrichCLI(t, "", "enrich", h)
	if code != 0 {
		t.Fatalf("html: exit %d %s", code, errs)
	}
	r = decode(t, out)
	if len(r.Bylines) != 2 || r.Bylines[0].Name != "Jane Doe" || !r.Bylines[1].IsOrganization {
		t.Errorf("html bylines %+v", r.Bylines)
	}
	if len(r.Images) != 1 || r.Images[0].Credit != "John Roe/Reuters" || r.Images[0].Alt != "Lawmakers leave the chamber." {
		t.Errorf("html images %+v", r.Images)
	}
	if !strings.Contains(r.Body, "## What next") || strings.Contains(r.Body, "Share on Facebook") || strings.Contains(r.Body, "Home") {
		t.Errorf("html body %q", r.Body)
	}
	// Markdown and ninjs.
	md := write("a.md", "# Budget vote delayed\n\nBy Jane Doe\n\n"+story+"\n\n## What next\n\n"+story+"\n")
	code, out, _ = runEnrichCLI(t, "", "enrich", md)
	if r = decode(t, out); code != 0 || r.Headline != "Budget vote delayed" || len(r.Bylines) != 1 || !strings.Contains(r.Body, "## What next") {
		t.Errorf("markdown: exit %d %+v", code, r)
	}
	nj := write("a.ninjs", `{"headline":"Budget vote delayed","byline":"Jane Doe and John Roe","body_html":"<p>`+story+`</p>","language":"en"}`)
	code, out, errs = runEnrichCLI(t, "", "enrich", "--format", "ninjs", nj)
	if r = decode(t, out); code != 0 || len(r.Bylines) != 2 || r.Language != "en" {
		t.Errorf("ninjs: exit %d %s %+v", code, errs, r)
	}

	// Clear failures.
	if code, _, errs := runEnrichCLI(t, "", "enrich", "--format", "pdf", md); code != 2 || !strings.Contains(errs, "unknown --format") {
		t.Errorf("unknown format: exit %d %q", code, errs)
	}
	if code, _, _ := runEnrichCLI(t, "", "enrich"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
	if code, _, errs := runEnrichCLI(t, "", "enrich", filepath.Join(dir, "missing.txt")); code != 1 || errs == "" {
		t.Errorf("missing file: exit %d", code)
	}
	bin := write("bin.txt", "\x00\x01\x02")
	if code, _, errs := runEnrichCLI(t, "", "enrich", bin); code != 1 || !strings.Contains(errs, "control character") {
		t.Errorf("binary: exit %d %q", code, errs)
	}
	bad := write("bad.json", `{"headline":""}`)
	if code, _, errs := runEnrichCLI(t, "", "enrich", bad); code != 1 || !strings.Contains(errs, "/headline") {
		t.Errorf("invalid json: exit %d %q", code, errs)
	}
}

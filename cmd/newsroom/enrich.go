package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
	"github.com/newsroom/newsroom/services/ingest/formats"
)

func init() {
	register(command{
		name:    "enrich",
		summary: "enrich an article file and print the result as JSON",
		help: `usage: newsroom enrich [--format text|markdown|html|json|ninjs] FILE

Reads FILE ("-" for standard input), decodes it as ingest does, runs the
enrichment the enrichment service runs, and prints a JSON object: headline,
dek, slug, language, word_count, reading_minutes, bylines (name,
organization, is_organization, slug, bio, evidence), images (url, caption,
credit, alt, alt_derived, evidence), tags (name, type: person,
organization, place, topic or keyword; code, count, salience, aliases,
evidence), translations, evidence for inferred fields, body_format and body
(Markdown). The author registry is the service's: profile URLs are not
filled here.

--format defaults from the file name: .txt text, .md markdown, .html html,
.json json; anything else is read as pasted text.
`,
		run: runEnrich,
	})
}

func runEnrich(_ context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("enrich", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "", "text, markdown, html, json or ninjs")
	if err := fs.Parse(args); err != nil {
		return errUsage(err.Error())
	}
	if fs.NArg() != 1 {
		return errUsage("enrich takes one FILE (or - for standard input)")
	}
	path := fs.Arg(0)
	var body []byte
	var err error
	if path == "-" {
		body, err = io.ReadAll(io.LimitReader(cio.stdin, enrich.MaxBodyBytes+1))
	} else {
		body, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	if *format == "" {
		*format = formatFromName(path)
	}
	in, ferrs, err := decodeArticle(*format, body)
	if err != nil {
		return err
	}
	if len(ferrs) > 0 {
		var msgs []string
		for _, fe := range ferrs {
			msgs = append(msgs, fe.Field+": "+fe.Detail)
		}
		return fmt.Errorf("%s is not a valid %s article: %s", path, *format, strings.Join(msgs, "; "))
	}
	a, err := enrich.Article(in)
	if err != nil {
		return fmt.Errorf("enrich %s: %w", path, err)
	}
	enc := json.NewEncoder(cio.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(enrichedJSON(a))
}

func formatFromName(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return "markdown"
	case ".html", ".htm":
		return "html"
	case ".json":
		return "json"
	}
	return "text"
}

// decodeArticle reads body with the decoders ingest's API uses.
func decodeArticle(format string, body []byte) (*newsroomv1.Article, []problem.FieldError, error) {
	decoders := map[string]func([]byte) (*newsroomv1.Article, []problem.FieldError){
		"json": formats.JSON, "text": formats.Text, "markdown": formats.Markdown,
		"html": formats.HTML, "ninjs": formats.Ninjs,
	}
	dec, ok := decoders[format]
	if !ok {
		return nil, nil, errUsage(fmt.Sprintf("unknown --format %q: use text, markdown, html, json or ninjs", format))
	}
	a, errs := dec(body)
	return a, errs, nil
}

// The printed shape: stable names, the fields first.
type (
	evidenceOut struct {
		Source     string  `json:"source"`
		Rule       string  `json:"rule,omitempty"`
		Confidence float64 `json:"confidence"`
		Excerpt    string  `json:"excerpt,omitempty"`
	}
	bylineOut struct {
		Name           string       `json:"name"`
		Organization   string       `json:"organization"`
		IsOrganization bool         `json:"is_organization"`
		Slug           string       `json:"slug,omitempty"`
		URL            string       `json:"url,omitempty"`
		Bio            string       `json:"bio,omitempty"`
		Evidence       *evidenceOut `json:"evidence"`
	}
	imageOut struct {
		URL        string       `json:"url,omitempty"`
		Caption    string       `json:"caption"`
		Credit     string       `json:"credit"`
		Alt        string       `json:"alt"`
		AltDerived bool         `json:"alt_derived"`
		Evidence   *evidenceOut `json:"evidence,omitempty"`
	}
	tagOut struct {
		Name     string       `json:"name"`
		Type     string       `json:"type"`
		Code     string       `json:"code,omitempty"`
		Count    int32        `json:"count,omitempty"`
		Salience float64      `json:"salience,omitempty"`
		Aliases  []string     `json:"aliases,omitempty"`
		Evidence *evidenceOut `json:"evidence,omitempty"`
	}
	translationOut struct {
		Language string `json:"language"`
		URL      string `json:"url,omitempty"`
		Label    string `json:"label,omitempty"`
	}
	enrichedOut struct {
		Headline       string                  `json:"headline"`
		Dek            string                  `json:"dek"`
		Slug           string                  `json:"slug"`
		Language       string                  `json:"language"`
		WordCount      int32                   `json:"word_count"`
		ReadingMinutes int32                   `json:"reading_minutes"`
		Bylines        []bylineOut             `json:"bylines"`
		Images         []imageOut              `json:"images"`
		Tags           []tagOut                `json:"tags"`
		Translations   []translationOut        `json:"translations"`
		Evidence       map[string]*evidenceOut `json:"evidence"`
		BodyFormat     string                  `json:"body_format"`
		Body           string                  `json:"body"`
	}
)

func evidenceJSON(e *newsroomv1.Evidence) *evidenceOut {
	if e == nil {
		return nil
	}
	return &evidenceOut{Source: e.Source, Rule: e.Rule, Confidence: e.Confidence, Excerpt: e.Excerpt}
}

var tagTypes = map[newsroomv1.TagType]string{
	newsroomv1.TagType_TAG_TYPE_PERSON: "person", newsroomv1.TagType_TAG_TYPE_ORGANIZATION: "organization",
	newsroomv1.TagType_TAG_TYPE_PLACE: "place", newsroomv1.TagType_TAG_TYPE_TOPIC: "topic",
	newsroomv1.TagType_TAG_TYPE_KEYWORD: "keyword",
}

func enrichedJSON(a *newsroomv1.Article) enrichedOut {
	out := enrichedOut{
		Headline: a.Headline, Dek: a.Dek, Slug: a.Slug, Language: a.Language, WordCount: a.WordCount,
		ReadingMinutes: a.ReadingMinutes, Body: a.Body, Evidence: map[string]*evidenceOut{},
		Bylines: []bylineOut{}, Images: []imageOut{}, Tags: []tagOut{}, Translations: []translationOut{},
		BodyFormat: strings.ToLower(strings.TrimPrefix(a.BodyFormat.String(), "BODY_FORMAT_")),
	}
	for _, b := range a.Bylines {
		out.Bylines = append(out.Bylines, bylineOut{Name: b.Name, Organization: b.Organization, IsOrganization: b.IsOrganization,
			Slug: b.Slug, URL: b.Url, Bio: b.Bio, Evidence: evidenceJSON(b.Evidence)})
	}
	for _, im := range a.Images {
		out.Images = append(out.Images, imageOut{URL: im.Url, Caption: im.Caption, Credit: im.Credit, Alt: im.Alt,
			AltDerived: im.AltDerived, Evidence: evidenceJSON(im.Evidence)})
	}
	for _, t := range a.Tags {
		typ := tagTypes[t.Type]
		if typ == "" {
			typ = "keyword"
		}
		out.Tags = append(out.Tags, tagOut{Name: t.Name, Type: typ, Code: t.Code, Count: t.Count, Salience: t.Salience,
			Aliases: t.Aliases, Evidence: evidenceJSON(t.Evidence)})
	}
	for _, t := range a.Translations {
		out.Translations = append(out.Translations, translationOut{Language: t.Language, URL: t.Url, Label: t.Label})
	}
	for k, e := range a.Evidence {
		out.Evidence[k] = evidenceJSON(e)
	}
	return out
}

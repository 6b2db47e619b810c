// Package page renders an article's HTML page. It is pure: the service, the
// rerender command and the benchmarks run the same templates.
package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

//go:embed templates/*.html
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"paragraphs": paragraphs,
	"rfc3339":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human":      func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 MST") },
}).ParseFS(templates, "templates/*.html"))

// Site is the publication's identity.
type Site struct {
	Name    string
	BaseURL string
	// Language is the default for articles without one.
	Language string
}

// Article renders the page of one article revision.
func Article(site Site, a *newsroomv1.Article, revision int64) ([]byte, error) {
	lang := a.Language
	if lang == "" {
		lang = site.Language
	}
	data := map[string]any{
		"Site":      site,
		"A":         a,
		"Lang":      lang,
		"Revision":  revision,
		"Published": a.CreatedAt.AsTime(),
		"Updated":   a.UpdatedAt.AsTime(),
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "article.html", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", a.Id, err)
	}
	return buf.Bytes(), nil
}

// Gone renders the notice served with 410 for a retracted article.
func Gone(site Site, id, reason string) ([]byte, error) {
	var buf bytes.Buffer
	err := tmpl.ExecuteTemplate(&buf, "gone.html", map[string]any{"Site": site, "ID": id, "Reason": reason, "Lang": site.Language})
	return buf.Bytes(), err
}

// paragraphs splits a text body on blank lines. Markdown and HTML bodies
// get their own renderers in the rendering issue; until then they are shown
// as escaped text, never as markup.
func paragraphs(body string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package enrich_test

import (
	"strings"
	"testing"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
)

// A wire agency that only the page's metadata names, with no person
// credited and no byline a reader sees, is the story's provenance: it is
// kept as evidence and not printed as a byline. Shown on the page, it is
// the byline (an organisation).
func TestAgencyOnlyInMetadataIsNotAByline(t *testing.T) {
	page := func(visible string) string {
		return `<!doctype html><html><head><title>Floods close the port</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Floods close the port","author":{"@type":"Organization","name":"AFP"}}</script>
</head><body><article><h1>Floods close the port</h1>` + visible + `
<p>` + strings.Repeat("Heavy rain flooded the harbour district on Tuesday and the port authority closed every berth until further notice. ", 6) + `</p>
</article></body></html>`
	}
	a, err := enrich.Article(&newsroomv1.Article{Body: page(""), BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_HTML})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Bylines) != 0 {
		t.Errorf("bylines %v, want none: the agency is only in the metadata", a.Bylines)
	}
	if e := a.Evidence["source_credit"]; e.GetExcerpt() != "AFP" {
		t.Errorf("source credit evidence = %v, want AFP", e)
	}

	a, err = enrich.Article(&newsroomv1.Article{Body: page(`<p class="byline">By AFP</p>`), BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_HTML})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Bylines) != 1 || !a.Bylines[0].IsOrganization || !strings.Contains(a.Bylines[0].Name+a.Bylines[0].Organization, "AFP") && !strings.Contains(a.Bylines[0].Name+a.Bylines[0].Organization, "Agence France-Presse") {
		t.Errorf("bylines %v, want the visible agency credit", a.Bylines)
	}
}

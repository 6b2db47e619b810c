package enrich_test

import (
	"strings"
	"testing"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
)

const story = "Lawmakers in Madrid delayed the budget vote again on Monday, the third delay this year, officials said. " +
	"The committee will meet again in January, its chair said, and the government hopes to pass the budget before spring."

// What the editor supplied wins; only what is missing is inferred, and
// only inferred values carry inferred evidence.
func TestEditorWins(t *testing.T) {
	editor := &newsroomv1.Evidence{Source: "editor", Confidence: 1}
	in := &newsroomv1.Article{
		Headline: "Budget vote delayed", Dek: "A third delay.", Language: "en", Slug: "budget",
		Body:       "By Someone Else\n\n" + story + "\n\nJohn Roe is a reporter at The Other Paper.",
		BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
		Bylines:    []*newsroomv1.Byline{{Name: "Jane Doe", Organization: "The Paper", Evidence: editor}, {Name: "AP", Evidence: editor}},
		Images:     []*newsroomv1.Image{{Url: "https://x.example/a.jpg", Caption: "The chamber on Monday. Photo: Ann Poe/Getty Images", Evidence: editor}},
		Tags:       []*newsroomv1.Tag{{Name: "Madrid", Type: newsroomv1.TagType_TAG_TYPE_KEYWORD, Evidence: editor}},
	}
	a, err := enrich.Article(in)
	if err != nil {
		t.Fatal(err)
	}
	if a.Headline != "Budget vote delayed" || a.Dek != "A third delay." || a.Language != "en" || a.Slug != "budget" {
		t.Errorf("editor's fields changed: %q %q %q %q", a.Headline, a.Dek, a.Language, a.Slug)
	}
	for _, f := range []string{"headline", "dek", "language", "slug"} {
		if a.Evidence[f] != nil {
			t.Errorf("editor-supplied %s has inferred evidence %v", f, a.Evidence[f])
		}
	}
	if len(a.Bylines) != 2 || a.Bylines[0].Name != "Jane Doe" || a.Bylines[0].Evidence.Source != "editor" {
		t.Fatalf("bylines %v", a.Bylines)
	}
	if !a.Bylines[1].IsOrganization || a.Bylines[1].Organization != "The Associated Press" {
		t.Errorf("AP not marked as an agency: %v", a.Bylines[1])
	}
	if strings.Contains(a.Body, "Someone Else") || strings.Contains(a.Body, "is a reporter at") {
		t.Errorf("byline and bio lines left in the body: %q", a.Body)
	}
	im := a.Images[0]
	if im.Caption != in.Images[0].Caption || im.Credit != "Ann Poe/Getty Images" || im.Alt != "The chamber on Monday." || !im.AltDerived {
		t.Errorf("image %+v", im)
	}
	if a.Tags[0].Name != "Madrid" || a.Tags[0].Type != newsroomv1.TagType_TAG_TYPE_KEYWORD {
		t.Errorf("editor's tag replaced: %v", a.Tags[0])
	}
	for _, tg := range a.Tags[1:] {
		if tg.Name == "Madrid" {
			t.Error("an inferred tag duplicates the editor's")
		}
		if tg.Evidence.GetSource() == "editor" {
			t.Errorf("inferred tag %q claims the editor", tg.Name)
		}
	}
	if in.Body == a.Body || in.Headline != "Budget vote delayed" || len(in.Tags) != 1 {
		t.Error("the input was modified or the body not enriched")
	}
}

func TestMarkdownInput(t *testing.T) {
	a, err := enrich.Article(&newsroomv1.Article{BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
		Body: "# Budget vote delayed\n\n[Read in Spanish](https://x.example/es/presupuesto)\n\nBy Jane Doe and John Roe\n\n" +
			story + "\n\n![Lawmakers leave](https://x.example/a.jpg)\n\n## What comes next\n\n" + story + " See *the* [plan](https://x.example/plan).\n\nShare\n"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Headline != "Budget vote delayed" || len(a.Bylines) != 2 || a.Bylines[1].Name != "John Roe" {
		t.Errorf("headline %q bylines %v", a.Headline, a.Bylines)
	}
	if len(a.Translations) != 1 || a.Translations[0].Url != "https://x.example/es/presupuesto" || a.Translations[0].Language != "es" {
		t.Errorf("translations %v", a.Translations)
	}
	if len(a.Images) != 1 || a.Images[0].Url != "https://x.example/a.jpg" || a.Images[0].Alt != "Lawmakers leave" {
		t.Errorf("images %v", a.Images)
	}
	if !strings.Contains(a.Body, "\n\n## What comes next\n\n") || !strings.Contains(a.Body, "See *the* [plan](https://x.example/plan).") ||
		strings.Contains(a.Body, "Share") || strings.HasPrefix(a.Body, "#") {
		t.Errorf("body %q", a.Body)
	}
}

func TestLanguages(t *testing.T) {
	for want, body := range map[string]string{
		"es": "El gobierno anunció el lunes que el presupuesto se votará en enero, según dijeron los funcionarios del partido, y que la oposición no está de acuerdo con los cambios.",
		"fr": "Le gouvernement a annoncé lundi que le budget sera voté en janvier, selon les responsables du parti, et que l'opposition n'est pas d'accord avec les changements.",
		"de": "Die Regierung hat am Montag angekündigt, dass der Haushalt im Januar abgestimmt wird, und die Opposition ist mit den Änderungen nicht einverstanden, wie es heißt.",
	} {
		a, err := enrich.Article(&newsroomv1.Article{Body: "Titular\n\n" + body, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT})
		if err != nil {
			t.Fatal(err)
		}
		if a.Language != want || a.Evidence["language"].GetConfidence() < 0.5 {
			t.Errorf("language %q (%v), want %s", a.Language, a.Evidence["language"], want)
		}
	}
}

func TestHTMLTranslationAndPublisherCredit(t *testing.T) {
	page := `<html lang="en"><head><meta property="og:site_name" content="Daily Planet"><meta name="author" content="Daily Planet">
<link rel="canonical" href="https://dailyplanet.example/a"></head><body><h1>Budget vote delayed again</h1>
<p><a href="https://dailyplanet.example/es/a" hreflang="es">Leer en español</a></p><article><p>` + story + `</p><p>` + story + `</p></article></body></html>`
	a, err := enrich.Article(&newsroomv1.Article{Body: page, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_HTML})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Bylines) != 0 {
		t.Errorf("the publication credited as an author: %v", a.Bylines)
	}
	if len(a.Translations) != 1 || a.Translations[0].Url != "https://dailyplanet.example/es/a" {
		t.Errorf("translations %v", a.Translations)
	}
	if a.Headline != "Budget vote delayed again" || strings.Contains(a.Body, "Leer en") {
		t.Errorf("headline %q body %q", a.Headline, a.Body)
	}
}

// An editor who pastes a story and uploads its photo gives the photo's
// address only: the caption line and credit under the photo in the paste
// fill what the editor left empty, and nothing the editor wrote changes.
func TestPastedCaptionFillsTheEditorsPhoto(t *testing.T) {
	editor := &newsroomv1.Evidence{Source: "editor", Confidence: 1}
	paste := "Budget vote delayed\n\n" + story + "\n\nThe chamber\nThe chamber on Monday, before the vote. (EFE)\n\n" + story
	a, err := enrich.Article(&newsroomv1.Article{Body: paste, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
		Images: []*newsroomv1.Image{{Url: "https://x.example/chamber.jpg", Width: 1200, Height: 800, Evidence: editor}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Images) != 1 {
		t.Fatalf("images %v", a.Images)
	}
	im := a.Images[0]
	if im.Url != "https://x.example/chamber.jpg" || im.Width != 1200 || im.Caption != "The chamber on Monday, before the vote." || im.Credit != "EFE" || im.Alt == "" {
		t.Errorf("image %+v", im)
	}
	if im.Evidence.GetSource() != "paste" {
		t.Errorf("filled image's evidence = %v, want the paste", im.Evidence)
	}

	// The editor's own caption and credit stand.
	a, err = enrich.Article(&newsroomv1.Article{Body: paste, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
		Images: []*newsroomv1.Image{{Url: "https://x.example/chamber.jpg", Caption: "MPs gather.", Credit: "Ann Poe", Alt: "MPs", Evidence: editor}}})
	if err != nil {
		t.Fatal(err)
	}
	if im := a.Images[0]; im.Caption != "MPs gather." || im.Credit != "Ann Poe" || im.Alt != "MPs" || im.Evidence.GetSource() != "editor" {
		t.Errorf("editor's image changed: %+v", im)
	}
}

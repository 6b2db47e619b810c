package enrich_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
)

func seed(t *testing.T) *newsroomv1.Article {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := enrich.Article(&newsroomv1.Article{Id: "seed", Body: string(body), BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSeedArticle is acceptance 1: what a newsroom expects of the seed
// paste (see ../shared/fixtures/README.md).
func TestSeedArticle(t *testing.T) {
	a := seed(t)
	if testing.Verbose() {
		t.Logf("headline %q\ndek %q\nlanguage %s words %d minutes %d slug %s", a.Headline, a.Dek, a.Language, a.WordCount, a.ReadingMinutes, a.Slug)
		for _, b := range a.Bylines {
			t.Logf("byline %+v", b)
		}
		for _, im := range a.Images {
			t.Logf("image %+v", im)
		}
		for _, tg := range a.Tags {
			t.Logf("tag %-14s %-40q n=%d s=%.2f %s aliases=%v ev=%s", tg.Type, tg.Name, tg.Count, tg.Salience, tg.Code, tg.Aliases, tg.Evidence.GetRule())
		}
		t.Logf("translations %v", a.Translations)
		t.Logf("body:\n%s", a.Body)
	}

	if a.Headline != "Parler Sues Amazon For Taking Down Its Servers" {
		t.Errorf("headline = %q", a.Headline)
	}
	if a.Evidence["headline"] == nil {
		t.Error("inferred headline has no evidence")
	}
	if len(a.Bylines) != 1 {
		t.Fatalf("bylines = %v, want one", a.Bylines)
	}
	by := a.Bylines[0]
	if by.Name != "Emmanuel Alejandro Rondón" || by.Organization != "El American" || by.IsOrganization {
		t.Errorf("byline = %+v, want Emmanuel Alejandro Rondón of El American", by)
	}
	if by.Evidence.GetSource() == "" || by.Evidence.GetConfidence() <= 0 {
		t.Errorf("byline evidence = %v", by.Evidence)
	}
	if len(a.Images) != 1 || a.Images[0].Credit != "EFE" {
		t.Fatalf("images = %v, want one credited EFE", a.Images)
	}
	im := a.Images[0]
	if !strings.HasPrefix(im.Caption, "Parler will engage in a legal battle against Amazon") || strings.Contains(im.Caption, "EFE") {
		t.Errorf("caption = %q", im.Caption)
	}
	if im.Alt != "Parler" || im.AltDerived {
		t.Errorf("alt = %q derived=%v, want the alt line %q", im.Alt, im.AltDerived, "Parler")
	}

	if a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN {
		t.Errorf("body format = %v", a.BodyFormat)
	}
	for _, chrome := range []string{"fbpx", "Skip to content", "Leer en español", "Leave a Reply", "Total", "Share",
		"[email", "protected]", "is a journalist at", "Parler, Amazon, demanda", "(EFE)", "Parler will engage"} {
		if strings.Contains(a.Body, chrome) {
			t.Errorf("body still holds %q", chrome)
		}
	}
	for _, sub := range []string{"## Parler’s banning by Apple, Amazon and Google", "## Reactions to Amazon, Apple and Google’s move", "## Beyond Justice"} {
		if !strings.Contains(a.Body, "\n"+sub+"\n") {
			t.Errorf("subhead %q not kept as a subhead", sub)
		}
	}
	if !strings.HasPrefix(a.Body, "A legal battle that will be very important") {
		t.Errorf("body starts %q", a.Body[:min(80, len(a.Body))])
	}
	if !strings.Contains(a.Body, "Note: the case in question is Parler LLC v Amazon Web Services Inc") {
		t.Error("the last paragraph of the story was lost")
	}

	tags := map[string]*newsroomv1.Tag{}
	for _, tg := range a.Tags {
		tags[tg.Name] = tg
		if tg.Evidence == nil {
			t.Errorf("tag %q has no evidence", tg.Name)
		}
	}
	want := map[string]newsroomv1.TagType{
		"Parler": newsroomv1.TagType_TAG_TYPE_ORGANIZATION, "Amazon": newsroomv1.TagType_TAG_TYPE_ORGANIZATION,
		"Apple": newsroomv1.TagType_TAG_TYPE_ORGANIZATION, "Google": newsroomv1.TagType_TAG_TYPE_ORGANIZATION,
		"Twitter": newsroomv1.TagType_TAG_TYPE_ORGANIZATION, "Mike Pence": newsroomv1.TagType_TAG_TYPE_PERSON,
		"Joe Biden": newsroomv1.TagType_TAG_TYPE_PERSON, "Lin Wood": newsroomv1.TagType_TAG_TYPE_PERSON,
		"New York Post": newsroomv1.TagType_TAG_TYPE_ORGANIZATION, "Bloomberg": newsroomv1.TagType_TAG_TYPE_ORGANIZATION,
		"Seattle": newsroomv1.TagType_TAG_TYPE_PLACE,
	}
	for name, typ := range want {
		tg := tags[name]
		if tg == nil {
			t.Errorf("no tag %q", name)
			continue
		}
		if tg.Type != typ {
			t.Errorf("tag %q is %v, want %v", name, tg.Type, typ)
		}
	}
	if aws := tags["Amazon Web Services"]; aws == nil || !slices.Contains(aws.Aliases, "AWS") {
		t.Errorf("Amazon Web Services with alias AWS: %v", aws)
	}
	if p := tags["Parler"]; p != nil && p.Salience != 1 {
		t.Errorf("Parler is the story's subject; salience %v", p.Salience)
	}
	topics := map[string]bool{}
	for _, tg := range a.Tags {
		if tg.Type == newsroomv1.TagType_TAG_TYPE_TOPIC {
			topics[tg.Code] = true
		}
	}
	for _, code := range []string{"medtop:13000000", "medtop:02000000", "medtop:11000000"} {
		if !topics[code] {
			t.Errorf("topic %s missing; topics %v", code, topics)
		}
	}
	if a.Language != "en" {
		t.Errorf("language = %q", a.Language)
	}
	if len(a.Translations) != 1 || a.Translations[0].Language != "es" || a.Translations[0].Label != "Leer en español" {
		t.Errorf("translations = %v, want a Spanish hint", a.Translations)
	}
	if a.WordCount < 700 || a.WordCount > 900 || a.ReadingMinutes != (a.WordCount+229)/230 {
		t.Errorf("word count %d, reading minutes %d", a.WordCount, a.ReadingMinutes)
	}
	if a.Slug != "parler-sues-amazon-for-taking-down-its-servers" {
		t.Errorf("slug = %q", a.Slug)
	}
	if a.Dek == "" || a.Evidence["dek"] == nil {
		t.Errorf("dek %q without evidence", a.Dek)
	}
}

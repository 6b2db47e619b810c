package enrich

import (
	"strings"

	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
	"github.com/newsroom/newsroom/services/enrichment/enrich/entity"
	"github.com/newsroom/newsroom/services/enrichment/enrich/topics"
)

// Tag limits: enough to describe a story, few enough to check.
const (
	MaxEntityTags  = 20
	MaxKeywordTags = 8
)

func (s *story) tags() {
	a := s.a
	have := map[string]bool{}
	for _, t := range a.Tags {
		have[byline.Fold(t.Name)] = true
	}
	add := func(t *newsroomv1.Tag) {
		k := byline.Fold(t.Name)
		if k == "" || have[k] {
			return
		}
		have[k] = true
		if t.Slug == "" {
			t.Slug = slug.Make(t.Name, 60)
		}
		a.Tags = append(a.Tags, t)
	}

	in := entity.Input{Headline: a.Headline}
	for _, b := range s.blocks {
		if b.Kind != document.Image && b.Text != "" {
			in.Paragraphs = append(in.Paragraphs, b.Text)
		}
	}
	ents := entity.Extract(in)
	n := 0
	entityWords := map[string]bool{}
	for _, e := range ents {
		if n >= MaxEntityTags {
			break
		}
		var typ newsroomv1.TagType
		switch e.Type {
		case entity.Person:
			typ = newsroomv1.TagType_TAG_TYPE_PERSON
		case entity.Organization:
			typ = newsroomv1.TagType_TAG_TYPE_ORGANIZATION
		case entity.Place:
			typ = newsroomv1.TagType_TAG_TYPE_PLACE
		default:
			continue
		}
		n++
		for w := range strings.FieldsSeq(byline.Fold(e.Name)) {
			entityWords[w] = true
		}
		add(&newsroomv1.Tag{Name: e.Name, Type: typ, Count: int32(e.Count), Salience: e.Salience, Aliases: e.Aliases,
			Evidence: ev("text", "entity:"+e.Rule, e.Confidence, e.Excerpt)})
	}

	text := a.Headline + "\n" + s.plain
	for _, t := range topics.Classify(text) {
		add(&newsroomv1.Tag{Name: t.Name, Type: newsroomv1.TagType_TAG_TYPE_TOPIC, Code: t.Code, Salience: t.Score,
			Count:    int32(len(t.Hits)),
			Evidence: ev("text", "iptc-mediatopic-cues", 0.4+0.5*t.Score, strings.Join(t.Hits, ", "))})
	}

	kw := 0
	addKeyword := func(name, source, rule string, conf float64) {
		if kw >= MaxKeywordTags {
			return
		}
		before := len(a.Tags)
		add(&newsroomv1.Tag{Name: name, Type: newsroomv1.TagType_TAG_TYPE_KEYWORD, Evidence: ev(source, rule, conf, name)})
		if len(a.Tags) > before {
			kw++
		}
	}
	for _, k := range s.keywordLine {
		addKeyword(k, s.source, "keyword-line", 0.6)
	}
	if s.page != nil {
		for _, k := range s.page.Keywords {
			addKeyword(k, "meta", "news_keywords", 0.7)
		}
	}
	for _, k := range topics.Keywords(s.plain, 5, 3, entityWords) {
		addKeyword(k, "text", "frequent-term", 0.4)
	}
}

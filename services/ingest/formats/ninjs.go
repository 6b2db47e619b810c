package formats

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// The IPTC ninjs 2.2 JSON Schema (MIT, schema/LICENSE-ninjs), which also
// accepts 2.0 and 2.1 items.
//
//go:embed schema/ninjs-schema_2.2.json
var ninjsSchemaJSON []byte

const ninjsSchemaURL = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"

// geoJSONURL is referenced by the schema for places' geometry. It is not
// fetched: a minimal stand-in checks that a geometry is an object with a
// type.
const geoJSONURL = "https://geojson.org/schema/GeoJSON.json"

var ninjsSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ninjsSchemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(ninjsSchemaURL, doc); err != nil {
		return nil, err
	}
	geo := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
		"required": []any{"type"}, "properties": map[string]any{"type": map[string]any{"type": "string"}},
	}
	if err := c.AddResource(geoJSONURL, geo); err != nil {
		return nil, err
	}
	return c.Compile(ninjsSchemaURL)
})

var englishPrinter = message.NewPrinter(language.English)

// legacyNinjsKeys are ninjs 1.x properties (still produced by Superdesk and
// others): an item using them is read leniently instead of against the 2.x
// schema, which does not know them.
var legacyNinjsKeys = []string{"headline", "body_text", "body_html", "byline", "description_text", "description_html"}

type ninjsText struct {
	Role        string `json:"role"`
	ContentType string `json:"contenttype"`
	Value       string `json:"value"`
}

type ninjsConcept struct {
	Name    string `json:"name"`
	Rel     string `json:"rel"`
	URI     string `json:"uri"`
	Literal string `json:"literal"`
}

type ninjsRendition struct {
	Name        string  `json:"name"`
	Href        string  `json:"href"`
	ContentType string  `json:"contenttype"`
	MimeType    string  `json:"mimetype"` // ninjs 1.x
	Width       float64 `json:"width"`
	Height      float64 `json:"height"`
}

// ninjsItem is a ninjs 2.x item, with the 1.x spellings beside.
type ninjsItem struct {
	URI             string          `json:"uri"`
	Type            string          `json:"type"`
	Name            string          `json:"name"` // of an association
	FirstCreated    string          `json:"firstcreated"`
	VersionCreated  string          `json:"versioncreated"`
	Embargoed       string          `json:"embargoed"`
	PubStatus       string          `json:"pubstatus"`
	Language        string          `json:"language"`
	Headlines       []ninjsText     `json:"headlines"`
	Bodies          []ninjsText     `json:"bodies"`
	Descriptions    []ninjsText     `json:"descriptions"`
	By              string          `json:"by"`
	CopyrightHolder string          `json:"copyrightholder"`
	CopyrightNotice string          `json:"copyrightnotice"`
	Subjects        []ninjsConcept  `json:"subjects"`
	People          []ninjsConcept  `json:"people"`
	Organisations   []ninjsConcept  `json:"organisations"`
	Places          []ninjsConcept  `json:"places"`
	Renditions      json.RawMessage `json:"renditions"`
	Associations    json.RawMessage `json:"associations"`

	// ninjs 1.x
	Headline        string `json:"headline"`
	BodyText        string `json:"body_text"`
	BodyHTML        string `json:"body_html"`
	Byline          string `json:"byline"`
	DescriptionText string `json:"description_text"`
	DescriptionHTML string `json:"description_html"`
	AltText         string `json:"alt_text"`
}

// Ninjs decodes an IPTC ninjs item (News in JSON), so wire stories and
// Superdesk output come in unchanged. ninjs 2.x items are validated against
// the IPTC 2.2 schema and every violation is named; 1.x items (headline,
// body_html, byline, associations by name) are read leniently. Mapped:
// headline(s), bodies or body_html/body_text (HTML preferred), descriptions
// (dek, or the body of a picture item), by/byline, language, embargoed,
// firstcreated/versioncreated, subjects/people/organisations/places as tags,
// and picture associations (or the item's own renditions) as images with
// caption, creditline and copyright notice.
func Ninjs(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	if errs := checkBody(body); errs != nil {
		return nil, errs
	}
	raw, errs := parseJSON(body)
	if errs != nil {
		return nil, errs
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, []problem.FieldError{{Field: "body", Detail: "a ninjs item must be a JSON object"}}
	}
	if !isLegacyNinjs(top) {
		if errs := validateNinjs(raw); errs != nil {
			return nil, errs
		}
	}
	var it ninjsItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return nil, []problem.FieldError{jsonTypeError(err)}
	}
	return it.article()
}

func isLegacyNinjs(top map[string]json.RawMessage) bool {
	for _, k := range legacyNinjsKeys {
		if _, ok := top[k]; ok {
			return true
		}
	}
	for _, k := range []string{"associations", "renditions"} {
		if v := bytes.TrimSpace(top[k]); len(v) > 0 && v[0] == '{' {
			return true
		}
	}
	return false
}

// validateNinjs checks the item against the schema and names each
// violation by its JSON Pointer.
func validateNinjs(raw json.RawMessage) []problem.FieldError {
	sch, err := ninjsSchema()
	if err != nil {
		// The embedded schema is fixed at build time; a test compiles it.
		return []problem.FieldError{{Field: "body", Detail: "ninjs schema unavailable: " + err.Error()}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []problem.FieldError{{Field: "body", Detail: "invalid JSON: " + err.Error()}}
	}
	verr, ok := sch.Validate(inst).(*jsonschema.ValidationError)
	if !ok {
		return nil
	}
	type leaf struct {
		problem.FieldError
		unevaluated bool
	}
	var leaves []leaf
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		field := "/" + strings.Join(escapeAll(e.InstanceLocation), "/")
		if field == "/" {
			field = "body"
		}
		_, unevaluated := e.ErrorKind.(*kind.FalseSchema)
		// Property lists come from map iteration: sorted, the same item
		// gets the same message.
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			slices.Sort(k.Properties)
		case *kind.Required:
			slices.Sort(k.Missing)
		case *kind.DependentRequired:
			slices.Sort(k.Missing)
		case *kind.Dependency:
			slices.Sort(k.Missing)
		}
		leaves = append(leaves, leaf{problem.FieldError{Field: field, Detail: "ninjs: " + e.ErrorKind.LocalizedString(englishPrinter)}, unevaluated})
	}
	walk(verr)
	// The validator's causes come in no fixed order; the same item must
	// get the same answer, in the same order.
	slices.SortStableFunc(leaves, func(a, b leaf) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Detail, b.Detail))
	})
	// unevaluatedProperties reports every property of an object that failed
	// elsewhere; only a property with no other error is truly unknown.
	var errs []problem.FieldError
	seen := map[problem.FieldError]bool{}
	for _, l := range leaves {
		if l.unevaluated {
			explained := slices.ContainsFunc(leaves, func(o leaf) bool {
				return !o.unevaluated && (o.Field == l.Field || strings.HasPrefix(o.Field, l.Field+"/"))
			})
			if explained || knownNinjsProperty(l.Field) {
				continue
			}
			l.Detail = "is not a ninjs 2.x property"
		}
		if !seen[l.FieldError] && len(errs) < 50 {
			seen[l.FieldError] = true
			errs = append(errs, l.FieldError)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, problem.FieldError{Field: "body", Detail: "ninjs: " + verr.Error()})
	}
	return errs
}

// ninjsProperties are the property names the schema defines for an item.
var ninjsProperties = sync.OnceValue(func() map[string]bool {
	var doc struct {
		Defs struct {
			Item struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"ninjsType"`
		} `json:"$defs"`
	}
	_ = json.Unmarshal(ninjsSchemaJSON, &doc)
	known := map[string]bool{"name": true} // an association's name
	for k := range doc.Defs.Item.Properties {
		known[k] = true
	}
	return known
})

func knownNinjsProperty(pointer string) bool {
	return ninjsProperties()[pointer[strings.LastIndex(pointer, "/")+1:]]
}

func escapeAll(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = escapePointer(t)
	}
	return out
}

// jsonTypeError names the field of a type mismatch in a leniently read item.
func jsonTypeError(err error) problem.FieldError {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return problem.FieldError{Field: "/" + strings.ReplaceAll(te.Field, ".", "/"), Detail: "must be " + kindName(te.Type.Kind().String())}
	}
	return problem.FieldError{Field: "body", Detail: "invalid ninjs: " + err.Error()}
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a JSON string"
	case "slice":
		return "a JSON array"
	case "struct", "map":
		return "a JSON object"
	case "float64":
		return "a number"
	}
	return "of another JSON type"
}

func ninjsEvidence(rule string, confidence float64, excerpt string) *newsroomv1.Evidence {
	return &newsroomv1.Evidence{Source: "ninjs", Rule: rule, Confidence: confidence, Excerpt: clip(excerpt, 200)}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func (it *ninjsItem) article() (*newsroomv1.Article, []problem.FieldError) {
	c := &checker{}
	a := &newsroomv1.Article{SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS, Language: it.Language}
	switch it.PubStatus {
	case "", "usable":
	case "canceled", "withheld":
		c.add("/pubstatus", "is %q: only usable items are published; retract an article to take it down", it.PubStatus)
	default:
		c.add("/pubstatus", "must be usable, withheld or canceled")
	}

	a.Headline = strings.TrimSpace(it.headline())
	c.text("/headlines", a.Headline, false, 300, false)

	var dekRule string
	a.Body, a.BodyFormat, dekRule = it.body()
	if strings.TrimSpace(a.Body) == "" {
		c.add("/bodies", "the item has no body (bodies, body_html or body_text) and no description to publish")
	}
	c.text("/bodies", a.Body, false, MaxBodyBytes, true)
	if dekRule != "descriptions" {
		a.Dek = it.dek()
	}
	c.text("/descriptions", a.Dek, false, 1000, false)
	c.language("/language", a.Language)

	by := it.By
	if by == "" {
		by = it.Byline
	}
	a.Bylines = parseBy(by, it.CopyrightHolder)
	for _, b := range a.Bylines {
		c.text("/by", b.Name, false, 200, false)
	}

	for _, tg := range []struct {
		list []ninjsConcept
		typ  newsroomv1.TagType
		rule string
	}{
		{it.Subjects, newsroomv1.TagType_TAG_TYPE_TOPIC, "subjects"},
		{it.People, newsroomv1.TagType_TAG_TYPE_PERSON, "people"},
		{it.Organisations, newsroomv1.TagType_TAG_TYPE_ORGANIZATION, "organisations"},
		{it.Places, newsroomv1.TagType_TAG_TYPE_PLACE, "places"},
	} {
		for i, s := range tg.list {
			name := strings.TrimSpace(s.Name)
			if name == "" {
				continue // a code without a name says nothing to a reader
			}
			c.text(fmt.Sprintf("/%s/%d/name", tg.rule, i), name, false, 100, false)
			a.Tags = append(a.Tags, &newsroomv1.Tag{Name: name, Type: tg.typ, Code: mediaTopic(s),
				Evidence: ninjsEvidence(tg.rule, 1, name)})
		}
	}

	a.Images = it.images(c)
	c.count("/by", len(a.Bylines), MaxBylines)
	c.count("/associations", len(a.Images), MaxImages)
	c.count("/subjects", len(a.Tags), MaxTags)

	if t := c.timestamp("/embargoed", it.Embargoed); t != nil {
		a.EmbargoUntil = t
	}
	// The wire's own times are kept as provenance; the article's created_at
	// is when it is first published here, which ingest sets.
	for field, v := range map[string]string{"firstcreated": it.FirstCreated, "versioncreated": it.VersionCreated} {
		if c.timestamp("/"+field, v) != nil {
			if a.Evidence == nil {
				a.Evidence = map[string]*newsroomv1.Evidence{}
			}
			a.Evidence[field] = ninjsEvidence(field, 1, v)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return a, nil
}

func (it *ninjsItem) headline() string {
	for _, h := range it.Headlines {
		if h.Role == "" || h.Role == "main" {
			return h.Value
		}
	}
	if len(it.Headlines) > 0 {
		return it.Headlines[0].Value
	}
	return it.Headline
}

func isHTML(t ninjsText) bool {
	ct := strings.ToLower(t.ContentType)
	role := strings.ToLower(t.Role)
	return strings.Contains(ct, "html") || (ct == "" && slices.Contains([]string{"html", "html5", "xhtml", "richtext"}, role))
}

// body picks the richest body: HTML over plain text, then the 1.x fields,
// then the descriptions (a picture item's caption is its text).
func (it *ninjsItem) body() (string, newsroomv1.BodyFormat, string) {
	for _, b := range it.Bodies {
		if isHTML(b) && strings.TrimSpace(b.Value) != "" {
			return b.Value, newsroomv1.BodyFormat_BODY_FORMAT_HTML, "bodies"
		}
	}
	for _, b := range it.Bodies {
		if strings.TrimSpace(b.Value) != "" {
			return b.Value, newsroomv1.BodyFormat_BODY_FORMAT_TEXT, "bodies"
		}
	}
	switch {
	case strings.TrimSpace(it.BodyHTML) != "":
		return it.BodyHTML, newsroomv1.BodyFormat_BODY_FORMAT_HTML, "body_html"
	case strings.TrimSpace(it.BodyText) != "":
		return it.BodyText, newsroomv1.BodyFormat_BODY_FORMAT_TEXT, "body_text"
	}
	var parts []string
	for _, d := range it.Descriptions {
		if d.Role != "creditline" && strings.TrimSpace(d.Value) != "" {
			parts = append(parts, strings.TrimSpace(d.Value))
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "\n\n"), newsroomv1.BodyFormat_BODY_FORMAT_TEXT, "descriptions"
	}
	switch {
	case strings.TrimSpace(it.DescriptionHTML) != "":
		return it.DescriptionHTML, newsroomv1.BodyFormat_BODY_FORMAT_HTML, "descriptions"
	case strings.TrimSpace(it.DescriptionText) != "":
		return it.DescriptionText, newsroomv1.BodyFormat_BODY_FORMAT_TEXT, "descriptions"
	}
	return "", newsroomv1.BodyFormat_BODY_FORMAT_TEXT, ""
}

// dek is a subheadline, or a short summary description.
func (it *ninjsItem) dek() string {
	for _, h := range it.Headlines {
		if slices.Contains([]string{"sub", "subheadline", "subtitle", "dek"}, strings.ToLower(h.Role)) {
			return strings.TrimSpace(h.Value)
		}
	}
	for _, d := range it.Descriptions {
		role := strings.ToLower(d.Role)
		v := strings.TrimSpace(d.Value)
		if (role == "" || slices.Contains([]string{"summary", "abstract", "teaser", "lead", "text"}, role)) &&
			!isHTML(d) && v != "" && len([]rune(v)) <= 1000 {
			return v
		}
	}
	if v := strings.TrimSpace(it.DescriptionText); len([]rune(v)) <= 1000 {
		return v
	}
	return ""
}

var (
	byPrefix    = regexp.MustCompile(`(?i)^(by|von|av|af|por|par|di|door|de)\s+`)
	bySeparator = regexp.MustCompile(`\s*(?:,|/|;|\s+and\s+|\s+&\s+)\s*`)
)

// parseBy reads a "by" line: "Paulo Santalucia and Frances d'Emilio",
// "Von Christian Hollmann, dpa", "Karl Melander/TT", "NTB". A short
// all-letters token after a comma or slash, or the copyright holder, is the
// agency: the people's organisation, or an organisation byline alone.
func parseBy(by, holder string) []*newsroomv1.Byline {
	by = strings.TrimSpace(by)
	if by == "" {
		return nil
	}
	ev := ninjsEvidence("by", 0.9, by)
	line := byPrefix.ReplaceAllString(by, "")
	var people []string
	org := ""
	for _, part := range bySeparator.Split(line, -1) {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case isAgency(part, holder):
			if org == "" {
				org = part
			}
		default:
			people = append(people, part)
		}
	}
	if len(people) == 0 {
		if org == "" {
			return nil
		}
		return []*newsroomv1.Byline{{Name: org, Organization: org, IsOrganization: true, Evidence: ev}}
	}
	out := make([]*newsroomv1.Byline, 0, len(people))
	for _, p := range people {
		out = append(out, &newsroomv1.Byline{Name: p, Organization: org, Evidence: ev})
	}
	return out
}

func isAgency(s, holder string) bool {
	if holder != "" && strings.EqualFold(s, holder) {
		return true
	}
	if len(s) > 5 || len(s) < 2 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	// "dpa", "NTB", "AP", "TT", "EFE", "AFP": one short word, and either
	// upper case or lower case throughout (a name would be capitalised).
	return strings.ToUpper(s) == s || strings.ToLower(s) == s
}

var mediaTopicURI = regexp.MustCompile(`^https?://cv\.iptc\.org/newscodes/mediatopic/(\d{8})$`)

// mediaTopic is the concept's IPTC Media Topic code, if it has one.
func mediaTopic(s ninjsConcept) string {
	if m := mediaTopicURI.FindStringSubmatch(s.URI); m != nil {
		return "medtop:" + m[1]
	}
	if strings.HasPrefix(s.Literal, "medtop:") {
		return s.Literal
	}
	return ""
}

// renditions reads a 2.x array or a 1.x object of renditions.
func renditions(raw json.RawMessage) []ninjsRendition {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var list []ninjsRendition
	if raw[0] == '[' {
		_ = json.Unmarshal(raw, &list)
		return list
	}
	var byName map[string]ninjsRendition
	_ = json.Unmarshal(raw, &byName)
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r := byName[n]
		r.Name = n
		list = append(list, r)
	}
	return list
}

// associations reads a 2.x array or a 1.x object of associated items.
func associations(raw json.RawMessage) []ninjsItem {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var list []ninjsItem
	if raw[0] == '[' {
		_ = json.Unmarshal(raw, &list)
		return list
	}
	var byName map[string]*ninjsItem
	_ = json.Unmarshal(raw, &byName)
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if it := byName[n]; it != nil {
			if it.Name == "" {
				it.Name = n
			}
			list = append(list, *it)
		}
	}
	return list
}

// bestRendition is the smallest image rendition at least 800 pixels wide
// (good for a page, not a 10 MB original), else the widest.
func bestRendition(list []ninjsRendition) (ninjsRendition, bool) {
	var best ninjsRendition
	found := false
	better := func(r ninjsRendition) bool {
		switch {
		case !found:
			return true
		case r.Width >= 800 && best.Width >= 800:
			return r.Width < best.Width
		default:
			return r.Width > best.Width
		}
	}
	for _, r := range list {
		ct := r.ContentType
		if ct == "" {
			ct = r.MimeType
		}
		if !absoluteHTTP(r.Href) || (ct != "" && !strings.HasPrefix(ct, "image/")) {
			continue
		}
		if better(r) {
			best, found = r, true
		}
	}
	return best, found
}

func (it *ninjsItem) isPicture() bool {
	return it.Type == "picture" || it.Type == "graphic"
}

// images are the picture associations, or the item itself when it is a
// picture.
func (it *ninjsItem) images(c *checker) []*newsroomv1.Image {
	var out []*newsroomv1.Image
	if it.isPicture() {
		if im := it.image("renditions"); im != nil {
			out = append(out, im)
		}
	}
	for i, as := range associations(it.Associations) {
		if as.Type != "" && !as.isPicture() {
			continue
		}
		im := as.image("associations/" + as.Name)
		if im == nil {
			continue
		}
		field := fmt.Sprintf("/associations/%d", i)
		c.text(field+"/caption", im.Caption, false, 2000, false)
		c.text(field+"/credit", im.Credit, false, 300, false)
		c.text(field+"/alt", im.Alt, false, 1000, false)
		out = append(out, im)
	}
	return out
}

func (it *ninjsItem) image(rule string) *newsroomv1.Image {
	im := &newsroomv1.Image{Evidence: ninjsEvidence(rule, 1, "")}
	if r, ok := bestRendition(renditions(it.Renditions)); ok {
		im.Url = r.Href
		im.Width = int32(math.Min(math.Max(r.Width, 0), math.MaxInt32))
		im.Height = int32(math.Min(math.Max(r.Height, 0), math.MaxInt32))
	} else if absoluteHTTP(it.URI) {
		im.Url = it.URI
	} else {
		return nil
	}
	im.Evidence.Excerpt = clip(im.Url, 200)
	var credit string
	for _, d := range it.Descriptions {
		v := strings.TrimSpace(d.Value)
		switch strings.ToLower(d.Role) {
		case "caption", "", "text", "summary":
			if im.Caption == "" {
				im.Caption = v
			}
		case "creditline", "credit":
			credit = v
		case "alt", "alttext", "alternative":
			im.Alt = v
		}
	}
	if im.Caption == "" {
		im.Caption = strings.TrimSpace(it.DescriptionText)
	}
	if im.Caption == "" {
		im.Caption = strings.TrimSpace(it.BodyText)
	}
	if im.Alt == "" {
		im.Alt = strings.TrimSpace(it.AltText)
	}
	for _, v := range []string{credit, it.By, it.Byline, it.CopyrightHolder, it.CopyrightNotice} {
		if strings.TrimSpace(v) != "" {
			im.Credit = strings.TrimSpace(v)
			break
		}
	}
	return im
}

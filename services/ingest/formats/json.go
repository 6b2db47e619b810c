package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

var bodyFormats = map[string]newsroomv1.BodyFormat{
	"":         newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
	"markdown": newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
	"html":     newsroomv1.BodyFormat_BODY_FORMAT_HTML,
	"text":     newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
}

// editorEvidence marks a value the editor supplied.
func editorEvidence() *newsroomv1.Evidence {
	return &newsroomv1.Evidence{Source: "editor", Confidence: 1}
}

// JSON decodes the editor's structured article:
//
//	{"id", "headline", "dek", "body", "body_format": markdown|html|text,
//	 "bylines": ["name" | {"name", "organization"}],
//	 "images": [{"url", "caption", "credit", "alt", "width", "height"}],
//	 "tags": ["…"], "section", "language", "canonical_url",
//	 "translations": [{"language", "url", "article_id"}],
//	 "publish_at", "embargo_until" (RFC 3339), "correction", "minor"}
//
// Every field is checked, and every fault is reported, not only the first.
// A ninjs item sent as plain JSON (it has a "uri" and no "body") is read as
// ninjs.
func JSON(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	return decodeJSON(body, true)
}

// decodeJSON is JSON; fast false skips the one-pass read of the common
// case, so that tests can hold the two paths to the same answers.
func decodeJSON(body []byte, fast bool) (*newsroomv1.Article, []problem.FieldError) {
	if errs := checkBody(body); errs != nil {
		return nil, errs
	}
	c := &checker{}
	var m members
	if !fast || !m.read(body) {
		// Not the common case: an unknown or escaped key, a value of
		// another type, a ninjs item, or not one well-formed object. This
		// path finds and names every fault.
		top, ok := topObject(body)
		if !ok {
			raw, errs := parseJSON(body)
			if errs != nil {
				return nil, errs
			}
			decodeObject(c, raw, "", nil)
			return nil, c.errs
		}
		if looksLikeNinjs(top) {
			// ninjs producers often say only application/json.
			return Ninjs(body)
		}
		m = members{}
		decodeFields(c, top, "", map[string]any{
			"id": &m.id, "headline": &m.headline, "dek": &m.dek, "body": &m.text, "body_format": &m.bodyFormat,
			"bylines": &m.bylines, "images": &m.images, "tags": &m.tags, "section": &m.section, "language": &m.language,
			"canonical_url": &m.canonical, "translations": &m.translations, "publish_at": &m.publishAt,
			"embargo_until": &m.embargoUntil, "correction": &m.correction, "minor": &m.minor,
		})
	}
	if m.id != "" {
		if err := bus.ValidateArticleID(m.id); err != nil {
			c.add("/id", "%v", err)
		}
	}
	c.text("/headline", m.headline, true, 300, false)
	c.text("/dek", m.dek, false, 1000, false)
	c.text("/body", m.text, true, MaxBodyBytes, true)
	c.text("/section", m.section, false, 100, false)
	c.language("/language", m.language)
	c.text("/correction", m.correction, false, 2000, true)
	c.url("/canonical_url", m.canonical)
	format, ok := bodyFormats[m.bodyFormat]
	if !ok {
		c.add("/body_format", "must be markdown, html or text")
	}
	a := &newsroomv1.Article{
		Id: m.id, Headline: strings.TrimSpace(m.headline), Dek: strings.TrimSpace(m.dek),
		Body: m.text, BodyFormat: format, Section: strings.TrimSpace(m.section), Language: m.language,
		CanonicalUrl: m.canonical, Minor: m.minor, SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_JSON,
	}
	c.count("/bylines", len(m.bylines), MaxBylines)
	c.count("/images", len(m.images), MaxImages)
	c.count("/tags", len(m.tags), MaxTags)
	c.count("/translations", len(m.translations), MaxTranslations)
	if len(c.errs) > 0 && (len(m.bylines) > MaxBylines || len(m.images) > MaxImages || len(m.tags) > MaxTags || len(m.translations) > MaxTranslations) {
		return nil, c.errs
	}
	if len(m.bylines) > 0 {
		a.Bylines = make([]*newsroomv1.Byline, 0, len(m.bylines))
	}
	for i, raw := range m.bylines {
		var name, org string
		if raw[0] == '"' {
			// A name alone: its path is made only for an error.
			if name = jsonString(raw); !textOK(name, true, 200, false) {
				c.text("/bylines/"+strconv.Itoa(i)+"/name", name, true, 200, false)
			}
		} else {
			field := "/bylines/" + strconv.Itoa(i)
			decodeObject(c, raw, field, map[string]any{"name": &name, "organization": &org})
			c.text(field+"/name", name, true, 200, false)
			c.text(field+"/organization", org, false, 200, false)
		}
		a.Bylines = append(a.Bylines, &newsroomv1.Byline{Name: strings.TrimSpace(name),
			Organization: strings.TrimSpace(org), Evidence: editorEvidence()})
	}
	for i, raw := range m.images {
		field := "/images/" + strconv.Itoa(i)
		var im struct {
			url, caption, credit, alt string
			width, height             int32
		}
		decodeObject(c, raw, field, map[string]any{"url": &im.url, "caption": &im.caption, "credit": &im.credit,
			"alt": &im.alt, "width": &im.width, "height": &im.height})
		if im.url == "" {
			c.add(field+"/url", "is required")
		}
		c.url(field+"/url", im.url)
		c.text(field+"/caption", im.caption, false, 2000, false)
		c.text(field+"/credit", im.credit, false, 300, false)
		c.text(field+"/alt", im.alt, false, 1000, false)
		if im.width < 0 {
			c.add(field+"/width", "must not be negative")
		}
		if im.height < 0 {
			c.add(field+"/height", "must not be negative")
		}
		a.Images = append(a.Images, &newsroomv1.Image{Url: im.url, Caption: im.caption, Credit: im.credit,
			Alt: im.alt, Width: im.width, Height: im.height, Evidence: editorEvidence()})
	}
	if len(m.tags) > 0 {
		a.Tags = make([]*newsroomv1.Tag, 0, len(m.tags))
	}
	for i, raw := range m.tags {
		if raw[0] != '"' {
			c.add("/tags/"+strconv.Itoa(i), "must be a JSON string")
			continue
		}
		t := jsonString(raw)
		if !textOK(t, true, 100, false) {
			c.text("/tags/"+strconv.Itoa(i), t, true, 100, false)
		}
		a.Tags = append(a.Tags, &newsroomv1.Tag{Name: strings.TrimSpace(t), Type: newsroomv1.TagType_TAG_TYPE_KEYWORD,
			Evidence: editorEvidence()})
	}
	for i, raw := range m.translations {
		field := "/translations/" + strconv.Itoa(i)
		var t newsroomv1.Translation
		decodeObject(c, raw, field, map[string]any{"language": &t.Language, "url": &t.Url, "article_id": &t.ArticleId})
		if t.Language == "" {
			c.add(field+"/language", "is required")
		}
		c.language(field+"/language", t.Language)
		c.url(field+"/url", t.Url)
		if t.ArticleId != "" && bus.ValidateArticleID(t.ArticleId) != nil {
			c.add(field+"/article_id", "is not a valid article id")
		}
		if t.Url == "" && t.ArticleId == "" {
			c.add(field, "needs a url or an article_id")
		}
		a.Translations = append(a.Translations, &t)
	}
	a.PublishAt = c.timestamp("/publish_at", m.publishAt)
	a.EmbargoUntil = c.timestamp("/embargo_until", m.embargoUntil)
	if m.correction != "" {
		a.Correction = &newsroomv1.Correction{Note: strings.TrimSpace(m.correction)}
	}
	return a, c.errs
}

// members are the newsroom article's top-level members as sent.
type members struct {
	id, headline, dek, text, bodyFormat, section, language, canonical, correction string
	publishAt, embargoUntil                                                       string
	minor                                                                         bool
	bylines, images, tags, translations                                           []json.RawMessage
}

// read reads body in one pass when it is the common case: one well-formed
// object whose every key is a field of the article, without escapes, and
// whose every value has its field's type (or is null, which is absent). It
// sets exactly what decodeFields would, a repeated key's last value
// winning, with no map between. Otherwise it says false, and the path that
// names every fault reads the body again.
func (m *members) read(body []byte) bool {
	s := scanner{b: body}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	ok := true
	str := func(v []byte, p *string) {
		switch {
		case v[0] == '"':
			*p = decodeString(v, true) // checkBody checked the whole body
		case string(v) == "null":
			*p = ""
		default:
			ok = false
		}
	}
	list := func(v []byte, p *[]json.RawMessage) {
		switch {
		case v[0] == '[':
			*p = elements(v)
		case string(v) == "null":
			*p = nil
		default:
			ok = false
		}
	}
	if !s.composite('}', true, func(key, v []byte) {
		if !ok {
			return
		}
		switch string(key[1 : len(key)-1]) {
		case "id":
			str(v, &m.id)
		case "headline":
			str(v, &m.headline)
		case "dek":
			str(v, &m.dek)
		case "body":
			str(v, &m.text)
		case "body_format":
			str(v, &m.bodyFormat)
		case "section":
			str(v, &m.section)
		case "language":
			str(v, &m.language)
		case "canonical_url":
			str(v, &m.canonical)
		case "correction":
			str(v, &m.correction)
		case "publish_at":
			str(v, &m.publishAt)
		case "embargo_until":
			str(v, &m.embargoUntil)
		case "bylines":
			list(v, &m.bylines)
		case "images":
			list(v, &m.images)
		case "tags":
			list(v, &m.tags)
		case "translations":
			list(v, &m.translations)
		case "minor":
			switch string(v) {
			case "true":
				m.minor = true
			case "false", "null":
				m.minor = false
			default:
				ok = false
			}
		default: // unknown, or spelt with an escape
			ok = false
		}
	}) {
		return false
	}
	s.space()
	return ok && s.i == len(s.b)
}

// parseJSON checks the body is one JSON value, naming the byte where it is
// not.
func parseJSON(body []byte) (json.RawMessage, []problem.FieldError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &syntaxErr):
			return nil, []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, err)}}
		case errors.Is(err, io.EOF):
			return nil, []problem.FieldError{{Field: "body", Detail: "is empty"}}
		default:
			return nil, []problem.FieldError{{Field: "body", Detail: "invalid JSON: " + err.Error()}}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []problem.FieldError{{Field: "body", Detail: "trailing data after the JSON value"}}
	}
	return top, nil
}

// looksLikeNinjs: "uri" is the one property every ninjs item has, and no
// newsroom article has; "body" is the other way round.
func looksLikeNinjs(top map[string]json.RawMessage) bool {
	_, uri := top["uri"]
	_, body := top["body"]
	return uri && !body
}

// ninjsKeys are ninjs properties that someone sending ninjs as plain JSON
// would use; the error then says which media type to send.
var ninjsKeys = []string{"uri", "headlines", "bodies", "body_text", "body_html", "by", "byline", "versioncreated", "associations"}

// decodeObject decodes the JSON object raw into fields (key → pointer),
// reporting each unknown key and each value of the wrong type with its JSON
// Pointer under path. Keys are matched exactly.
func decodeObject(c *checker, raw json.RawMessage, path string, fields map[string]any) {
	obj, ok := topObject(raw)
	if !ok {
		where := path
		if where == "" {
			where = "body"
		}
		c.add(where, "must be a JSON object")
		return
	}
	decodeFields(c, obj, path, fields)
}

// decodeFields is decodeObject for an object already read into its keys.
func decodeFields(c *checker, obj map[string]json.RawMessage, path string, fields map[string]any) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		target, ok := fields[k]
		if !ok {
			field := path + "/" + escapePointer(k)
			if path == "" && slices.Contains(ninjsKeys, k) {
				c.add(field, "is not a field of the newsroom article; send IPTC ninjs as application/ninjs+json")
			} else {
				c.add(field, "is not a known field")
			}
			continue
		}
		v := obj[k]
		if string(v) == "null" {
			continue
		}
		// The common cases, without a second scan.
		if sp, ok := target.(*string); ok && len(v) > 0 && v[0] == '"' {
			*sp = jsonString(v)
			continue
		}
		if ap, ok := target.(*[]json.RawMessage); ok && len(v) > 0 && v[0] == '[' {
			*ap = elements(v)
			continue
		}
		if bp, ok := target.(*bool); ok && (string(v) == "true" || string(v) == "false") {
			*bp = string(v) == "true"
			continue
		}
		if ip, ok := target.(*int32); ok {
			// A plain integer literal (v is well-formed JSON, so no '+');
			// anything else (a fraction, an exponent, out of range) is
			// encoding/json's to judge.
			if n, err := strconv.ParseInt(string(v), 10, 32); err == nil {
				*ip = int32(n)
				continue
			}
		}
		if err := json.Unmarshal(v, target); err != nil {
			c.add(path+"/"+escapePointer(k), "must be %s", describe(target))
		}
	}
}

func describe(target any) string {
	switch target.(type) {
	case *string:
		return "a JSON string"
	case *bool:
		return "true or false"
	case *int32:
		return "a whole number"
	case *[]json.RawMessage:
		return "a JSON array"
	}
	return "a JSON value of another type"
}

// escapePointer escapes a key as a JSON Pointer token (RFC 6901).
func escapePointer(k string) string { return pointerEscaper.Replace(k) }

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// timestamp parses an RFC 3339 date-time; "" is absent.
func (c *checker) timestamp(field, v string) *timestamppb.Timestamp {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		// Superdesk's ninjs writes offsets without a colon: +0000.
		t, err = time.Parse("2006-01-02T15:04:05.999999999-0700", v)
	}
	if err != nil {
		c.add(field, "must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z")
		return nil
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		c.add(field, "must be between the years 1900 and 9999")
		return nil
	}
	return timestamppb.New(t)
}

// jsonString decodes a JSON string literal from a document already known
// to be valid JSON, exactly as encoding/json does: escapes resolved,
// invalid UTF-8 and lone surrogates replaced by U+FFFD.
//
// A literal with nothing to resolve is not copied: the string shares the
// document's bytes (an article's body is most of its submission), which is
// why a Decoder's caller must not change the body afterwards.
func jsonString(lit []byte) string { return decodeString(lit, false) }

// decodeString is jsonString; valid says the literal is already known to
// be valid UTF-8 (JSON checks the whole body first), so it is not checked
// again.
func decodeString(lit []byte, valid bool) string {
	s := lit[1 : len(lit)-1]
	if bytes.IndexByte(s, '\\') < 0 && (valid || utf8.Valid(s)) {
		return unsafe.String(unsafe.SliceData(s), len(s))
	}
	// A Builder: its buffer is not zeroed first, and String does not
	// copy it.
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		// The run up to the next escape, whole when it is valid UTF-8.
		run := bytes.IndexByte(s[i:], '\\')
		if run < 0 {
			run = len(s) - i
		}
		if chunk := s[i : i+run]; valid || utf8.Valid(chunk) {
			b.Write(chunk)
		} else {
			for len(chunk) > 0 {
				r, n := utf8.DecodeRune(chunk)
				if r == utf8.RuneError && n == 1 {
					b.WriteRune(utf8.RuneError)
				} else {
					b.Write(chunk[:n])
				}
				chunk = chunk[n:]
			}
		}
		i += run
		if i == len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default: // " \\ /
			b.WriteByte(e)
		}
	}
	return b.String()
}

// hex4 reads the four hex digits of a \\u escape.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

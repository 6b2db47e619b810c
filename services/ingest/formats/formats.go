// Package formats decodes what editors submit (structured JSON, pasted
// text, and more) into an Article, naming every field at fault. It is pure:
// the API, the CLI and the fuzz tests share it.
package formats

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// MaxBodyBytes is the largest submission accepted.
const MaxBodyBytes = 4 << 20

// articleJSON is the editor's structured article.
type articleJSON struct {
	ID           string          `json:"id"`
	Headline     string          `json:"headline"`
	Dek          string          `json:"dek"`
	Body         string          `json:"body"`
	BodyFormat   string          `json:"body_format"`
	Bylines      []bylineJSON    `json:"bylines"`
	Images       []imageJSON     `json:"images"`
	Tags         []string        `json:"tags"`
	Section      string          `json:"section"`
	Language     string          `json:"language"`
	CanonicalURL string          `json:"canonical_url"`
	Translations []translationJS `json:"translations"`
	PublishAt    *time.Time      `json:"publish_at"`
	EmbargoUntil *time.Time      `json:"embargo_until"`
	Correction   string          `json:"correction"`
	Minor        bool            `json:"minor"`
}

type bylineJSON struct {
	Name         string `json:"name"`
	Organization string `json:"organization"`
}

// UnmarshalJSON accepts a byline as an object or as a bare name.
func (b *bylineJSON) UnmarshalJSON(data []byte) error {
	var name string
	if json.Unmarshal(data, &name) == nil {
		b.Name = name
		return nil
	}
	type plain bylineJSON
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(b))
}

type imageJSON struct {
	URL     string `json:"url"`
	Caption string `json:"caption"`
	Credit  string `json:"credit"`
	Alt     string `json:"alt"`
	Width   int32  `json:"width"`
	Height  int32  `json:"height"`
}

type translationJS struct {
	Language  string `json:"language"`
	URL       string `json:"url"`
	ArticleID string `json:"article_id"`
}

var bodyFormats = map[string]newsroomv1.BodyFormat{
	"":         newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
	"markdown": newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
	"html":     newsroomv1.BodyFormat_BODY_FORMAT_HTML,
	"text":     newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
}

// JSON decodes the editor's structured article.
func JSON(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	var in articleJSON
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, []problem.FieldError{jsonFieldError(err)}
	}
	if dec.More() {
		return nil, []problem.FieldError{{Field: "body", Detail: "trailing data after the JSON object"}}
	}
	var errs []problem.FieldError
	check := func(field, v string, required bool, maxLen int, multiline bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			errs = append(errs, problem.FieldError{Field: field, Detail: "is required"})
		case utf8.RuneCountInString(v) > maxLen:
			errs = append(errs, problem.FieldError{Field: field, Detail: fmt.Sprintf("is longer than %d characters", maxLen)})
		default:
			if r, ok := BadControl(v, multiline); ok {
				errs = append(errs, problem.FieldError{Field: field, Detail: fmt.Sprintf("contains the control character %U", r)})
			}
		}
	}
	if in.ID != "" {
		if err := bus.ValidateArticleID(in.ID); err != nil {
			errs = append(errs, problem.FieldError{Field: "/id", Detail: err.Error()})
		}
	}
	check("/headline", in.Headline, true, 300, false)
	check("/dek", in.Dek, false, 1000, false)
	check("/body", in.Body, true, MaxBodyBytes, true)
	check("/section", in.Section, false, 100, false)
	check("/language", in.Language, false, 35, false)
	check("/correction", in.Correction, false, 2000, true)
	format, ok := bodyFormats[in.BodyFormat]
	if !ok {
		errs = append(errs, problem.FieldError{Field: "/body_format", Detail: "must be markdown, html or text"})
	}
	a := &newsroomv1.Article{
		Id: in.ID, Headline: strings.TrimSpace(in.Headline), Dek: strings.TrimSpace(in.Dek),
		Body: in.Body, BodyFormat: format, Section: in.Section, Language: in.Language,
		CanonicalUrl: in.CanonicalURL, Minor: in.Minor,
	}
	if in.CanonicalURL != "" && !absoluteHTTP(in.CanonicalURL) {
		errs = append(errs, problem.FieldError{Field: "/canonical_url", Detail: "must be an absolute http(s) URL"})
	}
	for i, b := range in.Bylines {
		check(fmt.Sprintf("/bylines/%d/name", i), b.Name, true, 200, false)
		check(fmt.Sprintf("/bylines/%d/organization", i), b.Organization, false, 200, false)
		a.Bylines = append(a.Bylines, &newsroomv1.Byline{Name: strings.TrimSpace(b.Name), Organization: b.Organization,
			Evidence: &newsroomv1.Evidence{Source: "editor", Confidence: 1}})
	}
	for i, im := range in.Images {
		field := fmt.Sprintf("/images/%d", i)
		if !absoluteHTTP(im.URL) {
			errs = append(errs, problem.FieldError{Field: field + "/url", Detail: "must be an absolute http(s) URL"})
		}
		check(field+"/caption", im.Caption, false, 2000, false)
		check(field+"/credit", im.Credit, false, 300, false)
		check(field+"/alt", im.Alt, false, 1000, false)
		if im.Width < 0 || im.Height < 0 {
			errs = append(errs, problem.FieldError{Field: field + "/width", Detail: "width and height must not be negative"})
		}
		a.Images = append(a.Images, &newsroomv1.Image{Url: im.URL, Caption: im.Caption, Credit: im.Credit, Alt: im.Alt,
			Width: im.Width, Height: im.Height, Evidence: &newsroomv1.Evidence{Source: "editor", Confidence: 1}})
	}
	for i, t := range in.Tags {
		check(fmt.Sprintf("/tags/%d", i), t, true, 100, false)
		a.Tags = append(a.Tags, &newsroomv1.Tag{Name: strings.TrimSpace(t), Type: newsroomv1.TagType_TAG_TYPE_KEYWORD,
			Evidence: &newsroomv1.Evidence{Source: "editor", Confidence: 1}})
	}
	for i, t := range in.Translations {
		field := fmt.Sprintf("/translations/%d", i)
		check(field+"/language", t.Language, true, 35, false)
		if t.URL != "" && !absoluteHTTP(t.URL) {
			errs = append(errs, problem.FieldError{Field: field + "/url", Detail: "must be an absolute http(s) URL"})
		}
		if t.ArticleID != "" && bus.ValidateArticleID(t.ArticleID) != nil {
			errs = append(errs, problem.FieldError{Field: field + "/article_id", Detail: "is not a valid article id"})
		}
		a.Translations = append(a.Translations, &newsroomv1.Translation{Language: t.Language, Url: t.URL, ArticleId: t.ArticleID})
	}
	if in.PublishAt != nil {
		a.PublishAt = timestamppb.New(*in.PublishAt)
	}
	if in.EmbargoUntil != nil {
		a.EmbargoUntil = timestamppb.New(*in.EmbargoUntil)
	}
	if in.Correction != "" {
		a.Correction = &newsroomv1.Correction{Note: in.Correction}
	}
	a.SourceFormat = newsroomv1.SourceFormat_SOURCE_FORMAT_JSON
	return a, errs
}

// Text decodes a pasted article: the body as pasted, for enrichment to clean.
func Text(body []byte) (*newsroomv1.Article, []problem.FieldError) {
	text := string(body)
	if strings.TrimSpace(text) == "" {
		return nil, []problem.FieldError{{Field: "body", Detail: "the pasted article is empty"}}
	}
	if r, ok := BadControl(text, true); ok {
		return nil, []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("contains the control character %U", r)}}
	}
	return &newsroomv1.Article{
		Body:         text,
		BodyFormat:   newsroomv1.BodyFormat_BODY_FORMAT_TEXT,
		SourceFormat: newsroomv1.SourceFormat_SOURCE_FORMAT_TEXT,
	}, nil
}

// BadControl finds a control character; tabs and line breaks are allowed
// in multi-line fields.
func BadControl(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func jsonFieldError(err error) problem.FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return problem.FieldError{Field: "/" + strings.ReplaceAll(typeErr.Field, ".", "/"),
			Detail: fmt.Sprintf("must be a JSON %s", typeErr.Type.Kind())}
	case errors.As(err, &syntaxErr):
		return problem.FieldError{Field: "body", Detail: fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, err)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.FieldError{Field: "/" + name, Detail: "is not a known field"}
	case errors.Is(err, io.EOF):
		return problem.FieldError{Field: "body", Detail: "is empty"}
	default:
		return problem.FieldError{Field: "body", Detail: err.Error()}
	}
}

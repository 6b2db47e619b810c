// Package formats decodes what editors submit (structured JSON, pasted
// text, Markdown, whole HTML pages and IPTC ninjs wire items) into an
// Article, naming every field at fault. It is pure: the API, the CLI and the
// fuzz tests share it.
package formats

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// MaxBodyBytes is the largest submission accepted.
const MaxBodyBytes = 4 << 20

// Limits on lists, so that no submission grows past what one message of the
// bus carries once each entry has its evidence.
const (
	MaxBylines      = 50
	MaxImages       = 200
	MaxTags         = 500
	MaxTranslations = 100
)

// Decoder turns a submission's body into an article, or names every field
// at fault. A decoder never panics, whatever the input. The article's
// strings may share the body's bytes (JSON does not copy what it need not):
// the caller must not change the body afterwards.
type Decoder func(body []byte) (*newsroomv1.Article, []problem.FieldError)

// MediaTypes maps every accepted media type to its decoder.
var mediaTypes = map[string]Decoder{
	"application/json":           JSON,
	"text/plain":                 Text,
	"text/markdown":              Markdown,
	"text/x-markdown":            Markdown,
	"text/html":                  HTML,
	"application/xhtml+xml":      HTML,
	"application/ninjs+json":     Ninjs,
	"application/vnd.iptc.ninjs": Ninjs,
}

// MediaTypes lists the accepted media types, for error messages and docs.
func MediaTypes() []string {
	return []string{"application/json", "application/ninjs+json", "text/plain", "text/markdown", "text/html"}
}

// ErrUnsupported is a media type no decoder accepts.
type ErrUnsupported struct{ MediaType, Reason string }

func (e *ErrUnsupported) Error() string {
	return fmt.Sprintf("media type %q: %s", e.MediaType, e.Reason)
}

// ForContentType picks the decoder for a Content-Type header value. An empty
// value means JSON. Only UTF-8 text is accepted: a charset parameter, if
// present, must say so. application/json with a ninjs profile parameter is
// ninjs.
func ForContentType(contentType string) (Decoder, error) {
	if strings.TrimSpace(contentType) == "" {
		return JSON, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, &ErrUnsupported{MediaType: contentType, Reason: "not a valid media type"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") && !strings.EqualFold(cs, "us-ascii") {
		return nil, &ErrUnsupported{MediaType: contentType, Reason: "only UTF-8 text is accepted"}
	}
	if mt == "application/json" && strings.Contains(strings.ToLower(params["profile"]), "ninjs") {
		return Ninjs, nil
	}
	if d, ok := mediaTypes[mt]; ok {
		return d, nil
	}
	if strings.HasPrefix(mt, "application/vnd.iptc.ninjs") {
		return Ninjs, nil
	}
	return nil, &ErrUnsupported{MediaType: mt, Reason: "send one of " + strings.Join(MediaTypes(), ", ")}
}

// ForFileName picks a media type by file extension, for the CLI.
func ForFileName(name string) (string, bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".ninjs.json") || strings.HasSuffix(lower, ".ninjs"):
		return "application/ninjs+json", true
	case strings.HasSuffix(lower, ".json"):
		return "application/json", true
	case strings.HasSuffix(lower, ".md") || strings.HasSuffix(lower, ".markdown"):
		return "text/markdown", true
	case strings.HasSuffix(lower, ".html") || strings.HasSuffix(lower, ".htm") || strings.HasSuffix(lower, ".xhtml"):
		return "text/html", true
	case strings.HasSuffix(lower, ".txt") || strings.HasSuffix(lower, ".text"):
		return "text/plain", true
	}
	return "", false
}

// checkBody refuses what no format accepts: an empty body, bytes that are
// not UTF-8, a body above the size limit.
func checkBody(body []byte) []problem.FieldError {
	switch {
	case len(body) > MaxBodyBytes:
		return []problem.FieldError{{Field: "body", Detail: fmt.Sprintf("is larger than %d bytes", MaxBodyBytes)}}
	case !utf8.Valid(body):
		return []problem.FieldError{{Field: "body", Detail: "is not valid UTF-8 text"}}
	case len(bytes.TrimSpace(body)) == 0:
		return []problem.FieldError{{Field: "body", Detail: "is empty"}}
	}
	return nil
}

// BadControl finds a control character (unicode.IsControl: U+0000–U+001F
// and U+007F–U+009F) or a line or paragraph separator (U+2028, U+2029);
// tabs and line breaks are allowed in multi-line fields. It reads bytes,
// not runes: of the characters it looks for, those above ASCII all begin
// with the byte 0xC2 or 0xE2, and no other character's bytes hold either.
func BadControl(s string, multiline bool) (rune, bool) {
	for i := 0; i < len(s); i++ {
		// Eight printable ASCII bytes at a time.
		for i+8 <= len(s) {
			if w := binary.LittleEndian.Uint64([]byte(s[i : i+8])); hasLess(w, 0x20) || hasHigh(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		switch c := s[i]; {
		case c >= 0x20 && c < 0x7f:
		case c < 0x20 || c == 0x7f:
			if !multiline || (c != '\n' && c != '\r' && c != '\t') {
				return rune(c), true
			}
		case c == 0xc2:
			// U+0080–U+009F: C2 80 – C2 9F.
			if i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
				return rune(s[i+1]), true
			}
		case c == 0xe2:
			// U+2028, U+2029: E2 80 A8, E2 80 A9.
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
				return 0x2000 + rune(s[i+2]) - 0x80, true
			}
		}
	}
	return 0, false
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checker collects every field error of one submission.
type checker struct{ errs []problem.FieldError }

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, problem.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (c *checker) has(field string) bool {
	for _, e := range c.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// text checks a string field: presence, length in characters and control
// characters (line breaks only where multiline).
func (c *checker) text(field, v string, required bool, maxLen int, multiline bool) {
	if c.has(field) {
		return // already wrong (a value of another type): one error is enough
	}
	if fault := textFault(v, required, maxLen, multiline); fault != "" {
		c.errs = append(c.errs, problem.FieldError{Field: field, Detail: fault})
	}
}

// textOK is text's check alone, for a caller that makes the field's path
// only when there is an error to name.
func textOK(v string, required bool, maxLen int, multiline bool) bool {
	return textFault(v, required, maxLen, multiline) == ""
}

func textFault(v string, required bool, maxLen int, multiline bool) string {
	switch {
	case required && strings.TrimSpace(v) == "":
		return "is required"
	case len(v) > maxLen && utf8.RuneCountInString(v) > maxLen: // no more runes than bytes
		return fmt.Sprintf("is longer than %d characters", maxLen)
	}
	if r, ok := BadControl(v, multiline); ok {
		return fmt.Sprintf("contains the control character %U", r)
	}
	return ""
}

func (c *checker) count(field string, n, limit int) {
	if n > limit {
		c.add(field, "has %d entries; at most %d are accepted", n, limit)
	}
}

func (c *checker) url(field, v string) {
	switch {
	case v == "":
	case len(v) > 2048:
		c.add(field, "is longer than 2048 characters")
	case !absoluteHTTP(v):
		c.add(field, "must be an absolute http(s) URL")
	default:
		if r, ok := BadControl(v, false); ok {
			c.add(field, "contains the control character %U", r)
		}
	}
}

// language checks a BCP 47 tag's shape (en, pt-BR, nb-NO, zh-Hant-TW).
func (c *checker) language(field, v string) {
	if v == "" {
		return
	}
	parts := strings.Split(v, "-")
	ok := len(v) <= 35 && len(parts[0]) >= 2 && len(parts[0]) <= 8
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			ok = false
		}
		for _, r := range p {
			if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)))) {
				ok = false
			}
		}
	}
	if !ok {
		c.add(field, "must be a BCP 47 language tag such as en or pt-BR")
	}
}

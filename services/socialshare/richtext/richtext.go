// Package richtext writes Bluesky facets: the app.bsky.richtext.facet
// annotations that make a span of a post's text a link or a hashtag. Their
// ranges are UTF-8 byte offsets into the text, as the lexicon requires (not
// characters, graphemes or UTF-16 units), so accents, CJK and emoji
// sequences before a span move it by their byte length.
package richtext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Feature types of app.bsky.richtext.facet.
const (
	TypeLink = "app.bsky.richtext.facet#link"
	TypeTag  = "app.bsky.richtext.facet#tag"
)

// Index is a facet's byte range [ByteStart, ByteEnd) in the post's text.
type Index struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

// Feature is a link (URI set) or a hashtag (Tag set, without '#').
type Feature struct {
	Type string `json:"$type"`
	URI  string `json:"uri,omitempty"`
	Tag  string `json:"tag,omitempty"`
}

// Facet annotates one span.
type Facet struct {
	Index    Index     `json:"index"`
	Features []Feature `json:"features"`
}

// MaxTagGraphemes is Bluesky's limit on a hashtag's length.
const MaxTagGraphemes = 64

// Link is a facet making text[start:end] a link to uri.
func Link(start, end int, uri string) Facet {
	return Facet{Index: Index{start, end}, Features: []Feature{{Type: TypeLink, URI: uri}}}
}

// Detect finds the http(s) links and hashtags in text, as Bluesky's own
// clients do: a link starts after whitespace or '(' and ends before
// whitespace, without trailing punctuation; a hashtag is '#' after
// whitespace, up to whitespace, without trailing punctuation, not only
// digits, at most 64 graphemes. skip lists byte ranges already faceted.
func Detect(text string, skip ...Index) []Facet {
	var out []Facet
	overlaps := func(s, e int) bool {
		for _, k := range skip {
			if s < k.ByteEnd && k.ByteStart < e {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		prev, _ := utf8.DecodeLastRuneInString(text[:i])
		atStart := i == 0 || unicode.IsSpace(prev)
		switch {
		case (atStart || prev == '(') && hasHTTPPrefix(text[i:]):
			end := i + tokenEnd(text[i:])
			end = i + len(strings.TrimRight(text[i:end], ".,;:!?\"')"))
			if end > i && !overlaps(i, end) {
				out = append(out, Link(i, end, text[i:end]))
			}
			i = max(end, i+size)
			continue
		case atStart && (r == '#' || r == '＃'):
			end := i + size + tokenEnd(text[i+size:])
			tag := trimTrailingPunct(text[i+size : end])
			if validTag(tag) && !overlaps(i, i+size+len(tag)) {
				out = append(out, Facet{Index: Index{i, i + size + len(tag)},
					Features: []Feature{{Type: TypeTag, Tag: tag}}})
			}
			i = end
			continue
		}
		i += size
	}
	return out
}

func hasHTTPPrefix(s string) bool {
	l := strings.ToLower(s[:min(len(s), 8)])
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// tokenEnd is the byte length of s up to the first whitespace.
func tokenEnd(s string) int {
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return i
	}
	return len(s)
}

func trimTrailingPunct(s string) string {
	return strings.TrimRightFunc(s, unicode.IsPunct)
}

func validTag(tag string) bool {
	if tag == "" || strings.HasPrefix(tag, "\ufe0f") || uniseg.GraphemeClusterCount(tag) > MaxTagGraphemes {
		return false
	}
	for _, r := range tag {
		if !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// Valid reports whether every facet lies on UTF-8 boundaries inside text
// and none overlap, as a PDS checks.
func Valid(text string, facets []Facet) bool {
	last := 0
	for _, f := range facets {
		s, e := f.Index.ByteStart, f.Index.ByteEnd
		if s < last || s >= e || e > len(text) {
			return false
		}
		if !utf8.RuneStart(text[s]) || (e < len(text) && !utf8.RuneStart(text[e])) {
			return false
		}
		last = e
	}
	return true
}

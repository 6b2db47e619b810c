// Package twittertext counts a post the way X does: the weighted length of
// twitter-text's configuration v2/v3 (280 weighted characters, every URL
// counts 23, code points outside the light ranges and, in v3, whole emoji
// sequences count double), with the same validity, permillage and ranges as
// the reference implementation's parseTweet. Ranges are in UTF-16 code
// units of the original text, as in the reference.
package twittertext

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// Range gives the code points from Start to End (inclusive) a weight.
type Range struct {
	Start, End rune
	Weight     int
}

// Config is a twitter-text configuration (v2.json, v3.json).
type Config struct {
	Version                int
	MaxWeightedTweetLength int
	Scale                  int
	DefaultWeight          int
	TransformedURLLength   int
	Ranges                 []Range
	// EmojiParsingEnabled counts a whole emoji sequence (ZWJ family, flag,
	// skin tone, keycap) as one DefaultWeight: v3.
	EmojiParsingEnabled bool
}

var lightRanges = []Range{
	{0, 4351, 100},
	{8192, 8205, 100},
	{8208, 8223, 100},
	{8242, 8247, 100},
}

// V2 is configuration v2: weighted ranges, no emoji discount.
var V2 = Config{Version: 2, MaxWeightedTweetLength: 280, Scale: 100, DefaultWeight: 200,
	TransformedURLLength: 23, Ranges: lightRanges}

// V3 is configuration v3, what X counts with today: v2 plus emoji
// sequences counted as one double-weight character.
var V3 = Config{Version: 3, MaxWeightedTweetLength: 280, Scale: 100, DefaultWeight: 200,
	TransformedURLLength: 23, Ranges: lightRanges, EmojiParsingEnabled: true}

// Result is parseTweet's answer.
type Result struct {
	WeightedLength    int
	Valid             bool
	Permillage        int
	DisplayRangeStart int
	DisplayRangeEnd   int
	ValidRangeStart   int
	ValidRangeEnd     int
}

// Length is the weighted length of text under V3.
func Length(text string) int { return Parse(text, V3).WeightedLength }

// Parse counts text under cfg, as twitter-text's parseTweet does.
func Parse(text string, cfg Config) Result {
	normalized := norm.NFC.String(text)

	// Entities keyed by their starting byte offset in normalized.
	urls := map[int]int{}
	for _, u := range ExtractURLs(normalized, true) {
		urls[u.Start] = u.End
	}
	var emoji map[int]int
	if cfg.EmojiParsingEnabled {
		emoji = emojiSequences(normalized)
	}

	weighted := 0
	valid := true
	validDisplay := 0 // UTF-16 index of the last unit counted while valid
	u16 := 0          // UTF-16 index of the next unit
	for i := 0; i < len(normalized); {
		var last rune // the last code point consumed, checked for validity
		if end, ok := urls[i]; ok {
			weighted += cfg.TransformedURLLength * cfg.Scale
			u16 += utf16Len(normalized[i:end])
			last, _ = utf8.DecodeLastRuneInString(normalized[i:end])
			i = end
		} else if end, ok := emoji[i]; ok {
			weighted += cfg.DefaultWeight
			u16 += utf16Len(normalized[i:end])
			last, _ = utf8.DecodeLastRuneInString(normalized[i:end])
			i = end
		} else {
			r, size := utf8.DecodeRuneInString(normalized[i:])
			i += size
			if r >= 0x10000 {
				// The reference weighs the low surrogate of a pair.
				_, lo := utf16.EncodeRune(r)
				weighted += cfg.weight(lo)
				u16 += 2
			} else {
				weighted += cfg.weight(r)
				u16++
			}
			last = r
		}
		if valid {
			valid = !invalidChar(last)
		}
		if valid && weighted <= cfg.MaxWeightedTweetLength*cfg.Scale {
			validDisplay = u16 - 1
		}
	}

	res := Result{WeightedLength: weighted / cfg.Scale}
	res.Valid = valid && res.WeightedLength > 0 && res.WeightedLength <= cfg.MaxWeightedTweetLength
	res.Permillage = res.WeightedLength * 1000 / cfg.MaxWeightedTweetLength
	textLen := utf16Len(text)
	res.ValidRangeEnd = validDisplay + textLen - utf16Len(normalized)
	if textLen > 0 {
		res.DisplayRangeEnd = textLen - 1
	}
	return res
}

func (c Config) weight(r rune) int {
	for _, rg := range c.Ranges {
		if r >= rg.Start && r <= rg.End {
			return rg.Weight
		}
	}
	return c.DefaultWeight
}

// invalidChar: code points X refuses in a post.
func invalidChar(r rune) bool { return r == 0xFFFE || r == 0xFEFF || r == 0xFFFF }

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// emojiSequences maps the start byte of every emoji sequence in s to its
// end. A sequence is a grapheme cluster that starts with an
// Extended_Pictographic code point or a regional indicator, or is a keycap.
func emojiSequences(s string) map[int]int {
	var out map[int]int
	state := -1
	for pos := 0; pos < len(s); {
		var cluster string
		cluster, _, _, state = uniseg.FirstGraphemeClusterInString(s[pos:], state)
		if IsEmoji(cluster) {
			if out == nil {
				out = map[int]int{}
			}
			out[pos] = pos + len(cluster)
		}
		pos += len(cluster)
	}
	return out
}

// IsEmoji reports whether a grapheme cluster is an emoji (sequence).
func IsEmoji(cluster string) bool {
	r, size := utf8.DecodeRuneInString(cluster)
	switch {
	case r < 0x80:
		// Only a keycap: 1⃣, #️⃣.
		return len(cluster) > size && strings.HasSuffix(cluster, "\u20e3")
	case r >= 0x1F1E6 && r <= 0x1F1FF:
		return true
	}
	return isPictographic(r)
}

func isPictographic(r rune) bool {
	lo, hi := 0, len(extendedPictographic)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < extendedPictographic[m][0]:
			hi = m
		case r > extendedPictographic[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

package compose

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/rivo/uniseg"

	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// Rules are what a network allows in a post and how it counts it.
type Rules struct {
	Network string
	// MaxLength in the network's own unit (see Count).
	MaxLength int
	// MaxBytes of UTF-8, when the network limits them too (Bluesky).
	MaxBytes int
	// MaxLinks in the text, when limited (Threads).
	MaxLinks int
	// MaxHashtags the composer adds from tags.
	MaxHashtags int
	// URLLength, when set, is what every http(s) URL counts (Mastodon's
	// characters_reserved_per_url).
	URLLength int
	// Unit names what Count counts, for messages.
	Unit string
	// Count measures text as the network does.
	Count func(r Rules, text string) int
}

// Check reports whether text is within the rules, with the reason if not.
func (r Rules) Check(text string) error {
	if text == "" {
		return fmt.Errorf("%s: empty post", r.Network)
	}
	if n := r.Count(r, text); n > r.MaxLength {
		return fmt.Errorf("%s: %d %s, the limit is %d", r.Network, n, r.Unit, r.MaxLength)
	}
	if r.MaxBytes > 0 && len(text) > r.MaxBytes {
		return fmt.Errorf("%s: %d bytes, the limit is %d", r.Network, len(text), r.MaxBytes)
	}
	if r.MaxLinks > 0 {
		if n := len(twittertext.ExtractURLs(text, true)); n > r.MaxLinks {
			return fmt.Errorf("%s: %d links, the limit is %d", r.Network, n, r.MaxLinks)
		}
	}
	if r.Network == X && !twittertext.Parse(text, twittertext.V3).Valid {
		return fmt.Errorf("%s: text holds characters X refuses", r.Network)
	}
	return nil
}

// RulesFor is the network's published limits. Mastodon's are the default of
// a stock instance; the service replaces them with the instance's own.
func RulesFor(network string) (Rules, error) {
	switch network {
	case X:
		return Rules{Network: X, MaxLength: 280, MaxHashtags: 2, Unit: "weighted characters", Count: countX}, nil
	case Mastodon:
		return Rules{Network: Mastodon, MaxLength: 500, URLLength: 23, MaxHashtags: 3, Unit: "characters", Count: countMastodon}, nil
	case Bluesky:
		return Rules{Network: Bluesky, MaxLength: 300, MaxBytes: 3000, MaxHashtags: 2, Unit: "graphemes", Count: countGraphemes}, nil
	case LinkedIn:
		return Rules{Network: LinkedIn, MaxLength: 3000, MaxHashtags: 3, Unit: "characters", Count: countUTF16}, nil
	case Facebook:
		return Rules{Network: Facebook, MaxLength: 63206, Unit: "characters", Count: countUTF16}, nil
	case Threads:
		// Threads takes one topic tag per post.
		return Rules{Network: Threads, MaxLength: 500, MaxLinks: 5, MaxHashtags: 1, Unit: "characters", Count: countUTF16}, nil
	}
	return Rules{}, fmt.Errorf("unknown network %q", network)
}

func countX(_ Rules, text string) int { return twittertext.Length(text) }

// countMastodon counts grapheme clusters with every http(s) URL counting
// URLLength, as Mastodon's StatusLengthValidator does.
func countMastodon(r Rules, text string) int {
	n, last := 0, 0
	for _, u := range twittertext.ExtractURLs(text, false) {
		n += uniseg.GraphemeClusterCount(text[last:u.Start]) + r.URLLength
		last = u.End
	}
	return n + uniseg.GraphemeClusterCount(text[last:])
}

func countGraphemes(_ Rules, text string) int { return uniseg.GraphemeClusterCount(text) }

// countUTF16 counts UTF-16 code units, what JavaScript and Java count: never
// less than code points or graphemes, so a post within it is within those.
func countUTF16(_ Rules, text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}

// EscapeLittle escapes text for LinkedIn's "little" text format, where
// | { } @ [ ] ( ) < > # \ * _ ~ are markup.
func EscapeLittle(s string) string {
	if !strings.ContainsAny(s, `|{}@[]()<>#\*_~`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`|{}@[]()<>#\*_~`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

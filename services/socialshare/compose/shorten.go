package compose

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// Ellipsis ends a shortened text.
const Ellipsis = "…"

// Shorten returns the longest prefix of s, cut at a word boundary and
// ended with an ellipsis, for which fits holds. Cuts fall only between
// grapheme clusters (so never inside an emoji sequence or a letter with its
// accents) and never inside a URL; a cut mid-word is used only when no
// word boundary fits. ok is false when s is empty or no cut fits. fits must
// be monotonic in the prefix length, as every network's count is.
func Shorten(s string, fits func(string) bool) (string, bool) {
	if s == "" {
		return "", false
	}
	if fits(s) {
		return s, true
	}
	words, graphemes := cutPoints(s)
	if out, ok := longestFitting(s, words, fits); ok {
		return out, true
	}
	return longestFitting(s, graphemes, fits)
}

func longestFitting(s string, cuts []int, fits func(string) bool) (string, bool) {
	// Binary search for the last cut that fits.
	i := sort.Search(len(cuts), func(i int) bool { return !fits(cutAt(s, cuts[i])) })
	for i--; i >= 0; i-- {
		if out := cutAt(s, cuts[i]); out != Ellipsis && fits(out) {
			return out, true
		}
	}
	return "", false
}

func cutAt(s string, p int) string {
	return strings.TrimRightFunc(s[:p], trailing) + Ellipsis
}

// trailing: what is trimmed before the ellipsis.
func trailing(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{\"'“‘«/|&", r)
}

// cutPoints lists byte offsets where s may be cut: after a word (word
// boundaries that close a word), and every grapheme boundary, both
// outside URLs, ascending.
func cutPoints(s string) (words, graphemes []int) {
	urls := twittertext.ExtractURLs(s, true)
	inURL := func(p int) bool {
		for _, u := range urls {
			if p > u.Start && p < u.End {
				return true
			}
		}
		return false
	}
	state := -1
	pos := 0
	rest := s
	for len(rest) > 0 {
		var cluster string
		var boundaries int
		cluster, rest, boundaries, state = uniseg.StepString(rest, state)
		pos += len(cluster)
		if pos == len(s) || inURL(pos) {
			continue
		}
		graphemes = append(graphemes, pos)
		if boundaries&uniseg.MaskWord != 0 && wordy(cluster) {
			words = append(words, pos)
		}
	}
	return words, graphemes
}

// wordy: the cluster ends a word (a letter, digit or emoji, not a space or
// punctuation mid-phrase), so a cut after it keeps whole words.
func wordy(cluster string) bool {
	r, _ := utf8.DecodeRuneInString(cluster)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || twittertext.IsEmoji(cluster) ||
		strings.ContainsRune(".!?)]”’\"'", r)
}

// Hashtags makes up to n hashtags (without '#') from the article's tags,
// most salient first: words joined in CamelCase, letters and digits only,
// at least one letter, no duplicates.
func Hashtags(tags []*newsroomv1.Tag, n int) []string {
	if n <= 0 {
		return nil
	}
	sorted := make([]*newsroomv1.Tag, 0, len(tags))
	for _, t := range tags {
		if t != nil {
			sorted = append(sorted, t)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Salience > sorted[j].Salience })
	seen := map[string]bool{}
	var out []string
	for _, t := range sorted {
		h := hashtag(t.Name)
		if h == "" || seen[strings.ToLower(h)] {
			continue
		}
		seen[strings.ToLower(h)] = true
		out = append(out, h)
		if len(out) == n {
			break
		}
	}
	return out
}

func hashtag(name string) string {
	var b strings.Builder
	letter := false
	for _, word := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) }) {
		r, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(word[size:])
		if strings.IndexFunc(word, unicode.IsLetter) >= 0 {
			letter = true
		}
	}
	if !letter || utf8.RuneCountInString(b.String()) > 40 {
		return ""
	}
	return b.String()
}

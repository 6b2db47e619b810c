// Package compose writes a post for each network within that network's
// limits. It is pure: the service and the benchmarks run the same code.
package compose

import (
	"strings"
	"unicode/utf8"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Network names, as used in the ledger, metrics and the shares API.
const (
	X        = "x"
	Mastodon = "mastodon"
	Bluesky  = "bluesky"
	LinkedIn = "linkedin"
	Facebook = "facebook"
	Threads  = "threads"
)

// Networks is every network newsroom posts to, in posting order.
var Networks = []string{X, Mastodon, Bluesky, LinkedIn, Facebook, Threads}

// Post is a composed post.
type Post struct {
	Network string
	Text    string
	Link    string
}

// limits in characters for the text before the link; the social-share issue
// replaces this with each network's own counting rules.
var limits = map[string]int{X: 250, Mastodon: 470, Bluesky: 270, LinkedIn: 2900, Facebook: 2900, Threads: 470}

// Compose writes the post of a rendered article for network.
func Compose(network string, a *newsroomv1.Article, link string) Post {
	text := a.Headline
	if limit := limits[network]; utf8.RuneCountInString(text) > limit {
		text = cut(text, limit)
	}
	return Post{Network: network, Text: text + " " + link, Link: link}
}

// cut shortens s to at most n runes at a word boundary, with an ellipsis.
func cut(s string, n int) string {
	runes := []rune(s)
	s = string(runes[:n-1])
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,;:") + "…"
}

// Package clean recognises site chrome: the skip links, share bars and
// counters, comment forms, navigation, cookie notices and tracking junk
// that come along when a story is copied from a web page. It judges lines
// of a paste and elements of a page; it never rewrites prose.
package clean

import (
	"strings"
	"unicode"
)

// chromeLines are whole lines that are never story text, compared after
// Key. Multi-language where sites commonly are.
var chromeLines = set(
	"fbpx", "skip to content", "skip to main content", "skip to navigation", "skip to footer", "jump to content",
	"menu", "search", "close", "toggle navigation", "main navigation", "home", "sections", "back to top",
	"share", "share this", "share this article", "share this story", "share on facebook", "share on twitter",
	"share on linkedin", "share on whatsapp", "share via email", "share via", "copy link", "link copied", "tweet", "pin it",
	"email", "print", "facebook", "twitter", "linkedin", "whatsapp", "reddit", "pinterest", "telegram", "flipboard",
	"total", "shares", "comments", "comment", "0 comments", "no comments", "view comments", "show comments",
	"leave a reply", "leave a comment", "post comment", "cancel reply", "add a comment", "join the conversation",
	"your email address will not be published", "required fields are marked", "save my name, email, and website in this browser for the next time i comment",
	"advertisement", "advertising", "sponsored", "sponsored content", "ad", "ads", "story continues below advertisement",
	"continue reading", "read more", "read next", "related", "related articles", "related posts", "related stories",
	"more stories", "you may also like", "recommended", "recommended for you", "most popular", "trending", "trending now",
	"subscribe", "subscribe now", "sign up", "sign in", "log in", "register", "newsletter", "sign up for our newsletter",
	"accept", "accept all", "reject all", "cookie settings", "manage cookies", "got it", "i agree",
	"follow us", "follow", "listen", "listen to this article", "play", "watch", "loading", "loading...",
	"image", "photo", "video", "gallery", "enlarge", "expand", "caption", "hide caption", "toggle caption", "view image",
	"compartir", "comentarios", "deja un comentario", "deja una respuesta", "publicidad", "suscríbete", "lee también",
	"partager", "commentaires", "laisser un commentaire", "publicité", "teilen", "kommentare", "anzeige", "werbung",
	"condividi", "commenti", "pubblicità", "compartilhar", "comentários", "publicidade",
)

// tailLines start the part of a page after the story: everything from
// there on is comments, related links or a footer.
var tailLines = set(
	"leave a reply", "leave a comment", "post comment", "add a comment", "join the conversation", "comments",
	"related", "related articles", "related posts", "related stories", "more stories", "you may also like",
	"recommended", "recommended for you", "most popular", "read next", "read more", "more from",
	"deja un comentario", "deja una respuesta", "comentarios", "lee también", "te puede interesar",
	"laisser un commentaire", "commentaires", "à lire aussi", "kommentare", "das könnte sie auch interessieren",
	"commenti", "leggi anche", "comentários", "leia também",
)

// chromeFragments, when a short line contains one, mark it as chrome.
var chromeFragments = []string{
	"we use cookies", "this site uses cookies", "this website uses cookies", "accept cookies", "cookie policy",
	"by continuing to use", "email protected", "all rights reserved", "terms of service", "privacy policy",
	"subscribe to our newsletter", "sign up for our", "click here to", "to continue reading", "already a subscriber",
	"enable javascript", "javascript is disabled", "your browser does not support", "share this article",
	"follow us on", "download our app", "get the app", "required fields are marked", "will not be published",
	"utilizamos cookies", "usamos cookies", "nous utilisons des cookies", "wir verwenden cookies",
}

func set(ss ...string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Key is the comparison form of a line: lower case, outer punctuation and
// brackets dropped, inner white space single.
func Key(line string) string {
	line = strings.TrimFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '#' || unicode.IsSymbol(r)
	})
	return strings.ToLower(line)
}

// IsChromeLine reports whether a whole line is site chrome.
func IsChromeLine(line string) bool {
	if len(line) > 300 {
		// A long line is prose, whatever words it has.
		return false
	}
	k := Key(line)
	if k == "" {
		// Only punctuation or symbols: separators, bullets, "|".
		return true
	}
	if chromeLines[k] || isCounter(k) {
		return true
	}
	if len(k) <= 200 {
		for _, f := range chromeFragments {
			if strings.Contains(k, f) {
				return true
			}
		}
	}
	// Contact lines whose address a page protected from scrapers.
	if strings.Contains(k, "[email") || strings.Contains(k, "email protected") {
		return true
	}
	return false
}

// IsTailLine reports whether a line starts the part after the story.
func IsTailLine(line string) bool { return tailLines[Key(line)] }

// isCounter: share and comment counters ("0", "1.2k", "12 shares").
func isCounter(k string) bool {
	num := strings.TrimRight(k, "km")
	if num == "" {
		return false
	}
	for _, r := range num {
		if !(r >= '0' && r <= '9' || r == '.' || r == ',') {
			head, tail, ok := strings.Cut(k, " ")
			if ok && isCounter(head) && (tail == "shares" || tail == "comments" || tail == "likes" || tail == "views" || tail == "share" || tail == "comment") {
				return true
			}
			return false
		}
	}
	return true
}

// negativeHints in an element's class or id mark page furniture.
var negativeHints = []string{
	"share", "social", "related", "newsletter", "subscribe", "comments", "comment-", "comment_", "commentlist", "advert", "promo", "sidebar", "breadcrumb",
	"cookie", "consent", "popup", "modal", "footer", "masthead", "navbar", "nav-", "-nav", "menu", "signup", "sign-up",
	"recirc", "most-popular", "trending", "outbrain", "taboola", "sponsor", "paywall", "toolbar", "tags", "tag-list",
	"pagination", "skip", "read-more", "readmore", "more-stories", "widget", "disqus", "banner", "ad-slot", "ad-container",
	"adslot", "ad-wrapper", "dfp", "gpt-ad", "print-only", "visually-hidden", "sr-only", "screen-reader",
	"author-bio", "about-author", "bio-box", "topics", "keywords", "login", "video-player", "playlist", "carousel",
}

// positiveHints mark the story's own container.
var positiveHints = []string{
	"article-body", "articlebody", "article__body", "article-content", "article__content", "entry-content",
	"post-content", "post-body", "story-body", "storybody", "story-content", "body-text", "article-text",
	"content-body", "main-content", "rich-text", "article_body", "paywall-article", "caas-body",
}

// IsNegative reports whether an element's class and id say furniture.
func IsNegative(classID string) bool {
	if classID == "" {
		return false
	}
	k := strings.ToLower(classID)
	if hasAny(k, positiveHints) {
		return false
	}
	if hasAny(k, negativeHints) {
		return true
	}
	// "ad" and "nav" need a token boundary: "header", "shadow" and
	// "canvas" are not furniture.
	return tokenIs(k, "ad") || tokenIs(k, "ads") || tokenIs(k, "nav") || tokenIs(k, "aside")
}

// IsPositive reports whether an element's class and id name a story body.
func IsPositive(classID string) bool {
	return classID != "" && hasAny(strings.ToLower(classID), positiveHints)
}

func hasAny(s string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

// tokenIs reports whether t is one of s's tokens split at non-letters.
func tokenIs(s, t string) bool {
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if f == t {
			return true
		}
	}
	return false
}

// IsTrackingJunk reports leftovers of tracking pixels and scripts that a
// copy brings along ("fbpx", "gtag", a bare URL of a pixel).
func IsTrackingJunk(line string) bool {
	k := Key(line)
	switch k {
	case "fbpx", "gtag", "noscript", "pixel", "img", "iframe":
		return true
	}
	return strings.HasPrefix(k, "https://www.facebook.com/tr") || strings.HasPrefix(k, "window.") || strings.HasPrefix(k, "var ") ||
		strings.HasPrefix(k, "function(") || strings.HasPrefix(k, "(function")
}

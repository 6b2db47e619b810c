// Package slug makes URL slugs: lower-case ASCII words joined by '-'.
package slug

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Make turns s into a slug of at most n bytes, cut at a word boundary.
// Letters with diacritics lose them ("Rondón" → "rondon"); other scripts
// are dropped, so the result may be empty.
func Make(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case r == 'ß' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			if r == 'ß' {
				b.WriteString("ss")
			} else {
				b.WriteRune(r)
			}
		default:
			dash = true
		}
	}
	out := b.String()
	if n > 0 && len(out) > n {
		out = out[:n]
		if i := strings.LastIndexByte(out, '-'); i > 0 {
			out = out[:i]
		}
		out = strings.TrimRight(out, "-")
	}
	return out
}

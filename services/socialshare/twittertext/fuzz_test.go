package twittertext

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse: any text parses without panicking, URLs lie inside the text
// on rune boundaries, and the weighted length is never below the count of
// characters outside URLs (each weighs at least 1).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"Hi http://test.co", "😷👾", "\u2066\u202Ahttp://foobar.پاکستان/\u202C", "a.com/b(c)d?e=f.", "1⃣ #️⃣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		r := Parse(s, V3)
		if r.WeightedLength < 0 || r.DisplayRangeEnd < 0 || r.ValidRangeEnd > r.DisplayRangeEnd+len(s)+1 {
			t.Fatalf("Parse(%q) = %+v", s, r)
		}
		last := 0
		for _, u := range ExtractURLs(s, true) {
			if u.Start < last || u.End > len(s) || u.Start >= u.End || !utf8.RuneStart(s[u.Start]) || (u.End < len(s) && !utf8.RuneStart(s[u.End])) {
				t.Fatalf("ExtractURLs(%q): bad range %+v", s, u)
			}
			last = u.End
		}
	})
}

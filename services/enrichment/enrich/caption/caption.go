// Package caption splits a photo caption from its credit ("... game.
// (EFE)", "Photo: Jane Doe/Getty Images", "AP Photo/John Roe",
// "REUTERS/Jane Doe", "Courtesy of X", "© X"), normalises agency names in
// credits, and derives alt text from a caption when none was given.
package caption

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
)

var (
	// A credit in parentheses or brackets at the end: "(EFE)", "(AP Photo/Jane Doe)".
	reTrailingParen = regexp.MustCompile(`\s*[\(\[]\s*([^\(\)\[\]]{2,80})\s*[\)\]]\s*\.?$`)
	// A labelled credit: "Photo: X", "Photograph by X", "Credit: X", "Foto: X".
	reLabelled = regexp.MustCompile(`(?i)(?:^|[\s.;|—–-])\s*((?:photo(?:graph)?s?|image|picture|foto(?:grafía|grafia)?|crédito|credit|photo credit|image credit|bild|illustration|video)\s*(?:by|:|de|par|von)\s*.{2,100})$`)
	// An agency-slash credit: "AP Photo/Jane Doe", "REUTERS/Jane Doe", "Jane Doe/Getty Images".
	reSlash = regexp.MustCompile(`(?:^|[\s.;])((?:\p{Lu}[\p{L}'’-]*\s){0,3}\p{Lu}[\p{L}'’-]*\s*/\s*(?:[\p{L}.'’-]+\s?){1,4})\.?$`)
	// "Courtesy of X", "© 2023 X", "(c) X".
	reCourtesy = regexp.MustCompile(`(?i)(?:^|[\s.;])((?:courtesy(?: of)?|©|\(c\)|copyright)\s*.{2,80})$`)
)

// creditWords appear in slash credits; a slash phrase without one is
// ordinary text ("and/or").
var creditAgencies = []string{"getty", "reuters", "ap", "afp", "efe", "epa", "shutterstock", "alamy", "ap photo",
	"bloomberg", "imago", "sipa", "xinhua", "anadolu", "dpa", "pa", "pool", "nasa", "unsplash", "istock", "wireimage",
	"corbis", "zuma", "abaca", "picture alliance", "eyevine", "magnum", "redux", "ansa", "europa press", "rex"}

// Split returns the caption without its credit, and the credit. ok is
// false when text holds no credit; caption is then text, trimmed.
func Split(text string) (caption, credit string, ok bool) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 2000 || !mayHaveCredit(text) {
		return text, "", false
	}
	if m := reTrailingParen.FindStringSubmatchIndex(text); m != nil {
		inner := strings.TrimSpace(text[m[2]:m[3]])
		if IsCredit(inner) {
			return trimEnd(text[:m[0]]), Normalize(inner), true
		}
	}
	for _, re := range []*regexp.Regexp{reLabelled, reCourtesy} {
		if m := re.FindStringSubmatchIndex(text); m != nil {
			return trimEnd(text[:m[2]]), Normalize(text[m[2]:m[3]]), true
		}
	}
	if m := reSlash.FindStringSubmatchIndex(text); m != nil {
		c := text[m[2]:m[3]]
		if hasAgency(c) {
			return trimEnd(text[:m[2]]), Normalize(c), true
		}
	}
	return text, "", false
}

func trimEnd(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), " |—–-;")
}

// mayHaveCredit is a cheap test before the regular expressions: most
// paragraphs hold no credit.
func mayHaveCredit(text string) bool {
	last := text[len(text)-1]
	if last == ')' || last == ']' || strings.ContainsAny(text, "/©") {
		return true
	}
	lt := strings.ToLower(text)
	for _, w := range []string{"photo", "foto", "credit", "crédit", "image", "courtesy", "copyright", "picture", "bild", "illustration", "video", "(c)"} {
		if strings.Contains(lt, w) {
			return true
		}
	}
	return false
}

// IsCredit reports whether s, on its own, is a photo credit: an agency, a
// labelled credit, an agency-slash credit, or a courtesy line.
func IsCredit(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 120 {
		return false
	}
	if _, ok := byline.Agency(s); ok {
		return true
	}
	ls := strings.ToLower(s)
	for _, p := range []string{"photo", "foto", "credit", "crédito", "image", "courtesy", "©", "(c)", "getty", "shutterstock", "file"} {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	return strings.Contains(s, "/") && hasAgency(s)
}

func hasAgency(s string) bool {
	ls := strings.ToLower(s)
	for part := range strings.FieldsFuncSeq(ls, func(r rune) bool { return r == '/' || r == ' ' || r == ',' || r == '.' }) {
		for _, a := range creditAgencies {
			if part == a || strings.HasPrefix(a, part+" ") && strings.Contains(ls, a) {
				return true
			}
		}
	}
	return false
}

// Normalize tidies a credit: the label goes ("Photo: X" → "X"), agencies
// get their usual names ("REUTERS/Jane Doe" → "Reuters/Jane Doe",
// "(EFE)" → "EFE", "Getty" → "Getty Images").
func Normalize(credit string) string {
	c := strings.TrimSpace(strings.Trim(strings.TrimSpace(credit), "()[]"))
	lc := strings.ToLower(c)
	for _, label := range []string{"photo credit", "image credit", "photograph", "photos", "photo", "image", "picture",
		"fotografía", "fotografia", "foto", "crédito", "credit", "bild", "illustration", "video"} {
		if rest, ok := strings.CutPrefix(lc, label); ok {
			rest = strings.TrimLeft(rest, " ")
			for _, sep := range []string{"by ", ": ", ":", "de ", "par ", "von "} {
				if strings.HasPrefix(rest, sep) {
					c = strings.TrimSpace(c[len(c)-len(rest)+len(sep):])
					lc = strings.ToLower(c)
					break
				}
			}
			break
		}
	}
	c = strings.TrimRight(c, ". ")
	parts := strings.Split(c, "/")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		lp := strings.ToLower(p)
		switch {
		case lp == "getty" || lp == "getty images":
			p = "Getty Images"
		case lp == "ap photo" || lp == "ap":
			p = "AP Photo"
			if len(parts) == 1 {
				p = "AP"
			}
		default:
			if a, ok := byline.Agency(p); ok && len(a) <= 6 {
				// Short agency names (EFE, AFP, Reuters) as agencies write them.
				p = a
			} else if ok && a == "The Associated Press" {
				p = "AP"
			} else if strings.ToUpper(p) == p && utf8.RuneCountInString(p) > 5 {
				if a, ok := byline.Agency(p); ok {
					p = a
				}
			}
		}
		parts[i] = p
	}
	return strings.Join(parts, "/")
}

// MaxAlt is the longest derived alt text; screen readers cope badly with
// more.
const MaxAlt = 150

// DeriveAlt makes alt text from a caption: its first sentence, without
// the credit, cut at a word before MaxAlt.
func DeriveAlt(caption string) string {
	c, _, _ := Split(caption)
	c = strings.TrimSpace(c)
	if i := sentenceEnd(c); i > 0 {
		c = c[:i]
	}
	if utf8.RuneCountInString(c) > MaxAlt {
		cut := 0
		n := 0
		for i := range c {
			if n++; n > MaxAlt {
				break
			}
			if c[i] == ' ' {
				cut = i
			}
		}
		if cut > 0 {
			c = c[:cut]
		}
	}
	return strings.TrimRight(c, " ,;:")
}

func sentenceEnd(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' && i > 20 {
			return i + 1
		}
	}
	return -1
}

// Package document is the shape every input takes inside enrichment: a
// sequence of blocks (paragraphs, subheads, quotes, list items, images),
// whatever the story came in as, and its rendering back to Markdown.
package document

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a block is.
type Kind uint8

const (
	Paragraph Kind = iota
	Heading
	Quote
	ListItem
	// Image is a picture; its caption and credit are on the block.
	Image
)

// Block is one unit of the story.
type Block struct {
	Kind Kind
	// Level is the heading level (2 or 3), or 1 for an ordered list item.
	Level int
	// Text is the block's plain text, one line.
	Text string
	// Inline is the block's text as Markdown inline source (links,
	// emphasis), when the input had markup; empty means "escape Text".
	Inline string
	// Lines are the original lines of a pasted block, before joining.
	Lines []string
	// Links found in the block, for translation hints.
	Links []Link
	// Image fields.
	Src, Alt, Caption, Credit string
	Width, Height             int32
}

// Link is an anchor inside a block.
type Link struct {
	Text, Href, Hreflang string
}

// Markdown renders blocks as the enriched body: CommonMark with "## "
// subheads, "> " quotes and "- " or "1. " list items, blank lines between
// blocks. Images are not rendered: they travel in Article.images.
func Markdown(blocks []Block) string {
	var b strings.Builder
	prevList := false
	for _, bl := range blocks {
		if bl.Kind == Image {
			continue
		}
		inline := bl.Inline
		if inline == "" {
			inline = Escape(bl.Text)
		}
		if inline == "" {
			continue
		}
		isList := bl.Kind == ListItem
		if b.Len() > 0 {
			if isList && prevList {
				b.WriteByte('\n')
			} else {
				b.WriteString("\n\n")
			}
		}
		prevList = isList
		switch bl.Kind {
		case Heading:
			if bl.Level >= 3 {
				b.WriteString("### ")
			} else {
				b.WriteString("## ")
			}
		case Quote:
			b.WriteString("> ")
		case ListItem:
			if bl.Level == 1 {
				b.WriteString("1. ")
			} else {
				b.WriteString("- ")
			}
		}
		b.WriteString(inline)
	}
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// Escape makes plain text safe as Markdown inline source: what would be
// read as markup is backslash-escaped, and a line start that would open a
// block (heading, list, quote) is neutralised.
func Escape(s string) string {
	if s == "" {
		return ""
	}
	need := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '*', '_', '`', '[', ']', '<', '>', '#', '|', '~':
			need = true
		}
	}
	if !need && !blockStart(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	// The marker of a would-be list item is escaped: "\- x", "2023\. x".
	marker := -1
	if blockStart(s) {
		marker = strings.IndexAny(s, "-+.)")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == marker {
			b.WriteByte('\\')
		}
		switch c {
		case '\\', '*', '_', '`', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		case '#':
			if i == 0 {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// blockStart reports whether s would start a list item when it opens a line
// ("- x", "+ x", "1. x", "1) x").
func blockStart(s string) bool {
	if len(s) >= 2 && (s[0] == '-' || s[0] == '+') && s[1] == ' ' {
		return true
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' '
}

// CollapseSpace trims s and turns every run of white space (including
// no-break and zero-width spaces) into one ASCII space.
func CollapseSpace(s string) string {
	simple := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			simple = false
			break
		}
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
		if sp && (prevSpace || c != ' ') {
			simple = false
			break
		}
		prevSpace = sp
	}
	if simple && !prevSpace {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' || r == '\u00a0' {
			space = true
			continue
		}
		if unicode.IsControl(r) {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Words counts words: runs of letters or digits, with inner apostrophes
// and hyphens kept ("don't", "Rondón", "AWS's" are one each).
func Words(s string) int {
	n, in := 0, false
	for _, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		if word && !in {
			n++
		}
		in = word || (in && (r == '\'' || r == '’' || r == '-'))
	}
	return n
}

// PlainText joins the text blocks' plain text, one per line.
func PlainText(blocks []Block) string {
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Kind == Image || bl.Text == "" {
			continue
		}
		b.WriteString(bl.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

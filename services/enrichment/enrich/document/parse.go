package document

import (
	"strings"
)

// MaxLines bounds how many lines a paste may have; beyond it the rest is
// ignored, so garbage cannot make enrichment slow.
const MaxLines = 50000

// ParseText splits a paste into blocks at blank lines. Every block is a
// Paragraph holding its original lines; enrichment decides later which are
// headlines, subheads, captions or chrome.
func ParseText(s string) []Block {
	var blocks []Block
	var lines []string
	flush := func() {
		if len(lines) == 0 {
			return
		}
		blocks = append(blocks, Block{Kind: Paragraph, Lines: lines, Text: strings.Join(lines, " ")})
		lines = nil
	}
	n := 0
	for line := range strings.Lines(s) {
		if n++; n > MaxLines {
			break
		}
		line = CollapseSpace(line)
		if line == "" {
			flush()
			continue
		}
		lines = append(lines, line)
	}
	flush()
	return blocks
}

// ParseMarkdown reads the subset of CommonMark an editor or a converter
// produces: ATX and setext headings, paragraphs, "> " quotes, list items
// and image-only lines. Inline markup is kept as source in Block.Inline and
// stripped in Block.Text.
func ParseMarkdown(s string) []Block {
	var blocks []Block
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		src := strings.Join(para, " ")
		blocks = append(blocks, Block{Kind: Paragraph, Lines: para, Inline: src, Text: StripInline(src)})
		para = nil
	}
	n := 0
	for raw := range strings.Lines(s) {
		if n++; n > MaxLines {
			break
		}
		line := strings.TrimRight(raw, " \t\r\n")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
			continue
		case strings.HasPrefix(trimmed, "#"):
			level := 0
			for level < len(trimmed) && trimmed[level] == '#' {
				level++
			}
			if level <= 6 && (level == len(trimmed) || trimmed[level] == ' ') {
				flush()
				src := strings.TrimSpace(strings.TrimRight(trimmed[level:], "# "))
				blocks = append(blocks, Block{Kind: Heading, Level: min(max(level, 2), 3), Inline: src, Text: StripInline(src),
					Lines: []string{StripInline(src)}})
				if level == 1 {
					blocks[len(blocks)-1].Level = 1
				}
				continue
			}
		case len(para) > 0 && (isRule(trimmed, '=') || isRule(trimmed, '-')):
			src := strings.Join(para, " ")
			para = nil
			level := 2
			if trimmed[0] == '=' {
				level = 1
			}
			blocks = append(blocks, Block{Kind: Heading, Level: level, Inline: src, Text: StripInline(src), Lines: []string{StripInline(src)}})
			continue
		case strings.HasPrefix(trimmed, ">"):
			flush()
			src := strings.TrimSpace(strings.TrimLeft(trimmed, "> "))
			if k := len(blocks) - 1; k >= 0 && blocks[k].Kind == Quote && len(blocks[k].Lines) > 0 && src != "" {
				blocks[k].Inline += " " + src
				blocks[k].Text = StripInline(blocks[k].Inline)
				blocks[k].Lines = append(blocks[k].Lines, StripInline(src))
				continue
			}
			if src != "" {
				blocks = append(blocks, Block{Kind: Quote, Inline: src, Text: StripInline(src), Lines: []string{StripInline(src)}})
			}
			continue
		case strings.HasPrefix(trimmed, "!["):
			if alt, src, ok := imageOnly(trimmed); ok {
				flush()
				blocks = append(blocks, Block{Kind: Image, Src: src, Alt: alt})
				continue
			}
		}
		if item, ordered, ok := listItem(trimmed); ok {
			flush()
			level := 0
			if ordered {
				level = 1
			}
			blocks = append(blocks, Block{Kind: ListItem, Level: level, Inline: item, Text: StripInline(item), Lines: []string{StripInline(item)}})
			continue
		}
		if isRule(trimmed, '*') || isRule(trimmed, '-') || isRule(trimmed, '_') {
			flush()
			continue
		}
		para = append(para, trimmed)
	}
	flush()
	return blocks
}

func isRule(s string, c byte) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			n++
		case ' ':
		default:
			return false
		}
	}
	return n >= 3
}

func listItem(s string) (item string, ordered, ok bool) {
	if len(s) >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ' {
		return strings.TrimSpace(s[2:]), false, true
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' ' {
		return strings.TrimSpace(s[i+2:]), true, true
	}
	return "", false, false
}

// imageOnly parses a line that is only ![alt](src "title").
func imageOnly(s string) (alt, src string, ok bool) {
	rest := s[2:]
	end := strings.Index(rest, "](")
	if end < 0 || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	alt = rest[:end]
	target := strings.TrimSpace(rest[end+2 : len(rest)-1])
	if sp := strings.IndexAny(target, " \t"); sp >= 0 {
		target = target[:sp]
	}
	return StripInline(alt), strings.Trim(target, "<>"), true
}

// StripInline removes Markdown inline markup: emphasis markers, code
// ticks, backslash escapes, link and image syntax (keeping the text), and
// inline HTML tags.
func StripInline(s string) string {
	if !strings.ContainsAny(s, "*_`\\[]<!") {
		return CollapseSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!|<>~", s[i+1]) >= 0 {
				i++
				b.WriteByte(s[i])
				continue
			}
		case '*', '`':
			continue
		case '_':
			// Intra-word underscores are literal (snake_case).
			if i > 0 && i+1 < len(s) && isWordByte(s[i-1]) && isWordByte(s[i+1]) {
				break
			}
			continue
		case '!':
			if i+1 < len(s) && s[i+1] == '[' {
				continue
			}
		case '[':
			continue
		case ']':
			if i+1 < len(s) && s[i+1] == '(' {
				if j := strings.IndexByte(s[i+1:], ')'); j >= 0 {
					i += j + 1
				}
			}
			continue
		case '<':
			if j := strings.IndexByte(s[i:], '>'); j > 0 && j < 200 && !strings.ContainsAny(s[i+1:i+j], " \t") || j > 0 && j < 200 && isTagStart(s[i+1:]) {
				i += j
				continue
			}
		}
		b.WriteByte(c)
	}
	return CollapseSpace(b.String())
}

func isTagStart(s string) bool {
	return len(s) > 0 && (s[0] == '/' || s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

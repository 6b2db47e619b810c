// Package entity finds the people, organisations and places a story
// names, with how often and how prominently, and groups their aliases
// ("Amazon Web Services", "AWS"; "Mike Pence", "Pence"; "Parler LLC",
// "Parler"). It works on capitalisation, word lists and context cues: fast,
// no model, good enough for tags a copy desk then checks.
package entity

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
)

// Type of an entity.
type Type uint8

const (
	Unknown Type = iota
	Person
	Organization
	Place
)

func (t Type) String() string {
	return [...]string{"unknown", "person", "organization", "place"}[t]
}

// Entity is one named thing, with all its mentions.
type Entity struct {
	Name    string
	Type    Type
	Count   int
	Aliases []string
	// Salience is 0..1: how central the entity is to the story.
	Salience float64
	// Confidence in the type, 0..1.
	Confidence float64
	// Rule that decided the type, e.g. "gazetteer", "title-cue".
	Rule string
	// Excerpt is the first sentence fragment mentioning it.
	Excerpt string
}

// Input is what Extract reads.
type Input struct {
	Headline string
	// Paragraphs of body text (plain), subheads included.
	Paragraphs []string
}

// MaxTokens bounds the work on one story.
const MaxTokens = 60000

type token struct {
	text      string
	start     bool // opens a sentence or a paragraph
	capital   bool
	para, pos int
	// endPunct: the token was followed by punctuation that ends a name
	// (comma, period, colon, closing quote).
	endPunct bool
}

type mention struct {
	surface  string
	tokens   []string
	para     int
	pos      int
	atStart  bool
	prev     string // lower-case word before the mention
	next     string // lower-case word after
	headline bool
	// toks and from/to locate the mention, for its excerpt.
	toks     []token
	from, to int
}

// context is a few words either side of the mention.
func (m mention) context() string { return excerpt(m.toks, m.from, m.to) }

type cand struct {
	key       string
	name      string
	words     []string
	mentions  []mention
	midCount  int // mentions not at a sentence start
	cues      [4]float64
	rule      string
	aliases   map[string]bool
	firstPos  int
	inHead    bool
	canonical *cand
}

// Extract returns the story's entities, most salient first.
func Extract(in Input) []Entity {
	var mentions []mention
	ntok := 0
	for i, p := range in.Paragraphs {
		if ntok > MaxTokens {
			break
		}
		mentions = append(mentions, scan(p, i, &ntok, false)...)
	}
	cands := map[string]*cand{}
	var order []*cand
	for _, m := range mentions {
		name, aliasOf := normalizeSurface(m.tokens)
		if name == "" {
			continue
		}
		key := byline.Fold(name)
		c := cands[key]
		if c == nil {
			c = &cand{key: key, name: name, words: strings.Fields(name), aliases: map[string]bool{}, firstPos: m.pos}
			if m.headline {
				c.firstPos = 0
			}
			cands[key] = c
			order = append(order, c)
		}
		if aliasOf != "" && aliasOf != name {
			c.aliases[aliasOf] = true
		}
		c.mentions = append(c.mentions, m)
		if !m.atStart {
			c.midCount++
		}
		if m.headline {
			c.inHead = true
		}
		addCues(c, m)
	}
	// A title-case headline capitalises every word: it only adds mentions
	// of names the body has, longest first.
	if in.Headline != "" {
		toks := tokenize(in.Headline, -1, 200)
		for i := 0; i < len(toks); {
			matched := 0
			for n := min(6, len(toks)-i); n >= 1; n-- {
				words := make([]string, n)
				for k := range n {
					words[k] = toks[i+k].text
				}
				name, _ := normalizeSurface(words)
				if c := cands[byline.Fold(name)]; name != "" && c != nil {
					c.inHead = true
					c.firstPos = 0
					matched = n
					break
				}
			}
			i += max(matched, 1)
		}
	}
	for _, c := range order {
		typeOf(c)
	}
	merge(order)
	var out []Entity
	total := 0
	for _, c := range order {
		if c.canonical != nil {
			continue
		}
		if !keep(c) {
			continue
		}
		e := Entity{Name: c.name, Count: len(c.mentions)}
		e.Type, e.Confidence = best(c)
		e.Rule = c.rule
		for a := range c.aliases {
			if a != c.name {
				e.Aliases = append(e.Aliases, a)
			}
		}
		slices.Sort(e.Aliases)
		e.Excerpt = c.mentions[0].context()
		e.Salience = float64(e.Count) + 3/float64(1+c.firstPos/40)
		if c.inHead {
			e.Salience += 4
		}
		total += e.Count
		out = append(out, e)
	}
	maxS := 0.0
	for _, e := range out {
		maxS = max(maxS, e.Salience)
	}
	for i := range out {
		out[i].Salience = float64(int(out[i].Salience/maxS*1000+0.5)) / 1000
	}
	slices.SortStableFunc(out, func(a, b Entity) int {
		switch {
		case a.Salience > b.Salience:
			return -1
		case a.Salience < b.Salience:
			return 1
		}
		return b.Count - a.Count
	})
	return out
}

// scan finds capitalised spans in one paragraph.
func scan(text string, para int, ntok *int, headline bool) []mention {
	toks := tokenize(text, para, MaxTokens-*ntok)
	*ntok += len(toks)
	if headline {
		// In a title-case headline every word is capitalised: only spans
		// whose words are known entities or appear in the body count, so
		// keep spans but mark them.
		for i := range toks {
			toks[i].start = true
		}
	}
	var out []mention
	for i := 0; i < len(toks); {
		if !toks[i].capital {
			i++
			continue
		}
		j := i + 1
		for j < len(toks) && j-i < 6 && !toks[j-1].endPunct {
			if toks[j].capital && personTitles[strings.ToLower(toks[j].text)] {
				// "Parler CEO Mark Matze": a title in the middle splits.
				break
			}
			if toks[j].capital {
				j++
				continue
			}
			// Connectors inside names: "Bank of America", "Rio de Janeiro".
			lw := strings.ToLower(toks[j].text)
			if (lw == "of" || lw == "de" || lw == "del" || lw == "da" || lw == "van" || lw == "von" || lw == "la" || lw == "for" || lw == "and") &&
				j+1 < len(toks) && toks[j+1].capital && !toks[j].endPunct {
				if lw == "and" || lw == "for" {
					// "Amazon and Google" are two; "Institute for Basic
					// Science" is one: only keep "for"/"and" inside an
					// organisation's name.
					if !orgAhead(toks[j+1:]) && !orgAhead(toks[i:j]) {
						break
					}
				}
				j++
				continue
			}
			break
		}
		span := toks[i:j]
		// Sentence-opening function words are not part of the name,
		// unless the span is a known name ("New York Post").
		for len(span) > 1 && span[0].start && sentenceWords[strings.ToLower(span[0].text)] && !knownSpan(span) {
			span = span[1:]
		}
		if len(span) == 1 && span[0].start && sentenceWords[strings.ToLower(span[0].text)] {
			span = nil
		}
		if len(span) > 0 && strings.EqualFold(span[0].text, "the") {
			span = span[1:]
		}
		// A leading title is a cue (seen as the word before), not a name.
		for len(span) > 1 && personTitles[strings.ToLower(strings.TrimSuffix(span[0].text, "."))] {
			span = span[1:]
		}
		// Trailing connectors.
		for len(span) > 0 && !span[len(span)-1].capital {
			span = span[:len(span)-1]
		}
		if len(span) > 0 {
			m := mention{para: para, pos: span[0].pos, atStart: span[0].start, headline: headline}
			for _, t := range span {
				m.tokens = append(m.tokens, t.text)
			}
			m.surface = strings.Join(m.tokens, " ")
			first := i + offset(toks[i:j], span[0])
			if first > 0 {
				m.prev = strings.ToLower(toks[first-1].text)
			}
			last := first + len(span)
			if last < len(toks) {
				m.next = strings.ToLower(toks[last].text)
			}
			m.toks, m.from, m.to = toks, first, last
			out = append(out, m)
		}
		i = j
	}
	return out
}

// knownSpan reports whether the span, or its first words, is a
// multi-word name a word list knows.
func knownSpan(span []token) bool {
	key := ""
	for i, t := range span {
		if i > 0 {
			key += " "
		}
		key += byline.Fold(strings.TrimRight(t.text, "’'s"))
		if i > 0 && (multiPlaces[key] || multiOrgs[key]) {
			return true
		}
	}
	return false
}

func orgAhead(toks []token) bool {
	for k := 0; k < len(toks) && k < 4 && toks[k].capital; k++ {
		if orgSuffixes[strings.ToLower(toks[k].text)] {
			return true
		}
	}
	return false
}

// offset is the index of t within toks, a span of at most six tokens.
func offset(toks []token, t token) int {
	for i := range toks {
		if toks[i].pos == t.pos {
			return i
		}
	}
	return 0
}

func excerpt(toks []token, from, to int) string {
	a, b := max(0, from-4), min(len(toks), to+4)
	parts := make([]string, 0, b-a)
	for _, t := range toks[a:b] {
		parts = append(parts, t.text)
	}
	return strings.Join(parts, " ")
}

// tokenize splits text into word tokens, noting sentence starts and the
// punctuation that ends a name.
func tokenize(text string, para int, limit int) []token {
	var toks []token
	start := true
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			switch r {
			case '.', '!', '?', ':', '…':
				// A period after an initial ("E.") or an abbreviation
				// ("Inc.", "Mr.") does not end the sentence; ".com" is
				// part of a word and handled below.
				if len(toks) > 0 {
					last := &toks[len(toks)-1]
					if r == '.' && (utf8.RuneCountInString(last.text) == 1 || abbreviations[strings.ToLower(last.text)]) {
						last.text += "."
						i += size
						continue
					}
					last.endPunct = true
				}
				start = true
			case '‘':
				// An opening single quote starts a quoted phrase.
				start = true
			case ',', ';', '(', ')', '"', '“', '”', '—', '–', '[', ']', '/', '|':
				if len(toks) > 0 {
					toks[len(toks)-1].endPunct = true
				}
				if r == '“' {
					start = true
				}
			}
			i += size
			continue
		}
		if len(toks) >= limit {
			break
		}
		j := i
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if isWordRune(r2) {
				j += s2
				continue
			}
			// Inner apostrophes, hyphens and dots: "O'Kane", "Vice-President", "Amazon.com".
			if (r2 == '\'' || r2 == '’' || r2 == '-' || r2 == '.' || r2 == '&') && j+s2 < len(text) {
				r3, _ := utf8.DecodeRuneInString(text[j+s2:])
				if unicode.IsLetter(r3) && !(r2 == '.' && unicode.IsUpper(r3)) {
					j += s2
					continue
				}
			}
			break
		}
		w := text[i:j]
		fr, _ := utf8.DecodeRuneInString(w)
		capital := unicode.IsUpper(fr)
		toks = append(toks, token{text: w, start: start, capital: capital, para: para, pos: i})
		start = false
		i = j
	}
	return toks
}

var abbreviations = map[string]bool{"inc": true, "mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "jr": true,
	"sr": true, "co": true, "corp": true, "ltd": true, "gov": true, "sen": true, "rep": true, "gen": true, "lt": true,
	"prof": true, "vs": true, "no": true, "u.s": true, "u.k": true}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// normalizeSurface strips possessives and corporate suffixes: "Amazon.com
// Inc.'s" → "Amazon", alias "Amazon.com Inc.". It returns "" for spans that
// are no entity (a lone sentence word, a number, a weekday).
func normalizeSurface(toks []string) (name, alias string) {
	toks = slices.Clone(toks)
	last := toks[len(toks)-1]
	for _, p := range []string{"’s", "'s", "’", "'"} {
		if strings.HasSuffix(last, p) && len(last) > len(p) {
			toks[len(toks)-1] = last[:len(last)-len(p)]
			break
		}
	}
	// Titles before names ("Vice-President Mike Pence", "CEO Mark Matze")
	// are cues, not part of the name.
	for len(toks) > 1 && personTitles[strings.ToLower(strings.TrimSuffix(toks[0], "."))] {
		toks = toks[1:]
	}
	full := strings.Join(toks, " ")
	// Corporate forms go: "Parler LLC" → "Parler".
	for len(toks) > 1 {
		l := strings.ToLower(strings.TrimSuffix(toks[len(toks)-1], "."))
		if l == "inc" || l == "llc" || l == "ltd" || l == "corp" || l == "plc" || l == "gmbh" || l == "sa" || l == "ag" || l == "co" {
			toks = toks[:len(toks)-1]
			continue
		}
		break
	}
	if len(toks) == 1 {
		if base, ok := strings.CutSuffix(toks[0], ".com"); ok && base != "" {
			toks[0] = base
		}
	}
	name = strings.Join(toks, " ")
	if len(toks) == 1 {
		w := toks[0]
		lw := strings.ToLower(w)
		if sentenceWords[lw] || personTitles[lw] || utf8.RuneCountInString(w) < 2 {
			return "", ""
		}
	}
	for _, t := range toks {
		if sentenceWords[strings.ToLower(t)] && len(toks) == 1 {
			return "", ""
		}
	}
	if full != name {
		return name, full
	}
	return name, ""
}

// addCues records what the mention's context says about its type.
func addCues(c *cand, m mention) {
	if personTitles[strings.TrimSuffix(m.prev, ".")] {
		c.cues[Person] += 2
		c.rule = "title-cue"
	}
	switch m.next {
	case "said", "says", "told", "added", "explained", "wrote", "argued", "denounced":
		if len(c.words) > 1 {
			c.cues[Person] += 0.5
		}
	}
	switch m.prev {
	case "in", "near", "across", "outside", "inside", "en", "à", "dans":
		c.cues[Place] += 0.6
	case "at", "for", "with", "by", "against", "from":
		c.cues[Organization] += 0.2
	}
}

// typeOf decides a candidate's type from word lists, suffixes and cues.
func typeOf(c *cand) {
	key := c.key
	lw := strings.ToLower(c.words[len(c.words)-1])
	fw := strings.ToLower(c.words[0])
	switch {
	case multiOrgs[key] || len(c.words) == 1 && orgs[key]:
		c.cues[Organization] += 3
		c.rule = "gazetteer"
	case multiPlaces[key] || len(c.words) == 1 && places[key]:
		c.cues[Place] += 3
		c.rule = "gazetteer"
	case len(c.words) > 1 && orgSuffixes[lw]:
		c.cues[Organization] += 2
		c.rule = "org-suffix"
	case len(c.words) > 1 && placeSuffixes[lw]:
		c.cues[Place] += 1.5
		c.rule = "place-suffix"
	case len(c.words) > 1 && hasWord(c.words, placeSuffixes):
		c.cues[Place] += 1
		c.rule = "place-word"
	case len(c.words) > 1 && givenNames[fw]:
		c.cues[Person] += 2
		c.rule = "given-name"
	case isAcronym(c.name):
		c.cues[Organization] += 0.8
		if c.rule == "" {
			c.rule = "acronym"
		}
	case len(c.words) == 1:
		// A lone capitalised word that keeps showing up mid-sentence is
		// most often a company, product or outlet.
		c.cues[Organization] += 0.4
		if c.rule == "" {
			c.rule = "repeated-name"
		}
	case len(c.words) <= 3 && !hasConnector(c.words):
		c.cues[Person] += 0.6
		if c.rule == "" {
			c.rule = "name-shape"
		}
	default:
		c.cues[Organization] += 0.3
		if c.rule == "" {
			c.rule = "long-name"
		}
	}
	if len(c.words) > 1 {
		for _, w := range c.words {
			if orgSuffixes[strings.ToLower(w)] {
				c.cues[Organization] += 0.5
			}
		}
	}
}

func hasWord(ws []string, set map[string]bool) bool {
	for _, w := range ws {
		if set[strings.ToLower(w)] {
			return true
		}
	}
	return false
}

func hasConnector(ws []string) bool {
	for _, w := range ws {
		if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

func best(c *cand) (Type, float64) {
	t, s, sum := Unknown, 0.0, 0.0
	for k := Person; k <= Place; k++ {
		sum += c.cues[k]
		if c.cues[k] > s {
			t, s = k, c.cues[k]
		}
	}
	if t == Unknown {
		return Unknown, 0
	}
	conf := min(0.95, 0.35+0.6*s/(sum+1))
	return t, float64(int(conf*100+0.5)) / 100
}

func isAcronym(s string) bool {
	n := 0
	for _, r := range s {
		if !unicode.IsUpper(r) && r != '&' && r != '.' {
			return false
		}
		n++
	}
	return n >= 2 && n <= 6
}

// merge folds aliases into their canonical entity: a lone surname into the
// person, an acronym into the name it abbreviates, a lone last word into
// the one multi-word organisation ending in it.
func merge(order []*cand) {
	byKey := map[string]*cand{}
	for _, c := range order {
		byKey[c.key] = c
	}
	// "Hang Mike Pence" at the start of a quote is "Mike Pence" after an
	// ordinary capitalised word.
	for _, c := range order {
		if len(c.words) < 2 || c.midCount > 0 || givenNames[strings.ToLower(c.words[0])] {
			continue
		}
		tail := byline.Fold(strings.Join(c.words[1:], " "))
		if t := byKey[tail]; t != nil && t != c && t.canonical == nil {
			c.canonical = t
			t.mentions = append(t.mentions, c.mentions...)
			t.midCount += len(c.mentions)
			t.inHead = t.inHead || c.inHead
		}
	}
	var multi []*cand
	for _, c := range order {
		if len(c.words) > 1 && c.canonical == nil {
			multi = append(multi, c)
		}
	}
	for _, c := range order {
		if len(c.words) != 1 || c.canonical != nil {
			continue
		}
		w := c.words[0]
		var target *cand
		n := 0
		if isAcronym(w) {
			for _, m := range multi {
				if initials(m.words) == strings.ReplaceAll(w, ".", "") {
					target, n = m, n+1
				}
			}
		}
		if target == nil {
			for _, m := range multi {
				t, _ := best(m)
				if strings.EqualFold(m.words[len(m.words)-1], w) && (t == Person || t == Organization) {
					target, n = m, n+1
				}
			}
		}
		if n != 1 {
			continue
		}
		// A known single-word organisation keeps its own tag ("Amazon"
		// beside "Amazon Web Services").
		if orgs[c.key] || places[c.key] {
			continue
		}
		c.canonical = target
		target.mentions = append(target.mentions, c.mentions...)
		target.aliases[c.name] = true
		for a := range c.aliases {
			target.aliases[a] = true
		}
		target.inHead = target.inHead || c.inHead
		target.firstPos = min(target.firstPos, c.firstPos)
		for k := range c.cues {
			target.cues[k] += c.cues[k] / 2
		}
	}
}

func initials(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsUpper(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// keep drops what is likely noise: a lone word seen once at a sentence
// start, unknown-typed names seen once outside the headline.
func keep(c *cand) bool {
	t, _ := best(c)
	if t == Unknown {
		return false
	}
	if c.midCount == 0 && !c.inHead {
		// Only ever at the start of sentences: no evidence of a name
		// unless a word list knows it.
		return c.rule == "gazetteer" || len(c.words) > 1 && c.rule != "name-shape"
	}
	if len(c.mentions) == 1 && c.rule == "repeated-name" {
		return false
	}
	if c.midCount == 0 && c.inHead && len(c.mentions) == 1 && c.rule != "gazetteer" {
		// A headline-only word ("Sues", "Servers") is title case, not a name.
		return false
	}
	return true
}

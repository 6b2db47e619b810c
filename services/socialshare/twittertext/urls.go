package twittertext

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// URL is a link found in a text, by byte offsets [Start, End).
type URL struct {
	Start, End int
	URL        string
	// Protocol is true when the text spelled out http:// or https://.
	Protocol bool
}

const (
	maxURLLength       = 4096
	maxDomainLabelLen  = 63
	maxTcoSlugLength   = 40
	protocolHTTP       = "http://"
	protocolHTTPS      = "https://"
	defaultProtocolLen = len(protocolHTTPS)
)

// ExtractURLs finds the links X (and Mastodon, which uses the same rules)
// would turn into links: http(s) URLs and, when withoutProtocol is set,
// bare domains with a known top-level domain ("example.com/path"). It
// follows twitter-text's extractUrlsWithIndices: a URL starts after a
// character that is not a letter, digit, @, $ or #; its domain needs a
// known TLD and DNS-sized labels; its path and query end on the characters
// twitter-text allows to end them.
func ExtractURLs(text string, withoutProtocol bool) []URL {
	var out []URL
	if !strings.ContainsAny(text, ".") {
		return nil
	}
	for i := 0; i < len(text); {
		if i > 0 && !validPreceding(lastRune(text[:i])) {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		// A URL holds a dot and no space: skip tokens without a dot.
		end := i
		for end < len(text) && text[end] != '.' && text[end] != ' ' && text[end] != '\n' {
			end++
		}
		if end == len(text) || text[end] != '.' {
			i = max(end, i+1)
			for i < len(text) && !utf8.RuneStart(text[i]) {
				i++
			}
			continue
		}
		m, ok := matchURL(text, i)
		if !ok {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		next := m.end
		if validURLLength(text[m.start:m.end], m.protocolLen, text[m.domainStart:m.domainEnd]) {
			if m.protocolLen > 0 {
				u := URL{Start: m.start, End: m.end, URL: text[m.start:m.end], Protocol: true}
				if tco, ok := tcoURL(u.URL); ok {
					if tco == "" {
						i = next
						continue
					}
					u.End = u.Start + len(tco)
					u.URL = tco
				}
				out = append(out, u)
			} else if withoutProtocol && !invalidBeforeBare(text[:m.start]) {
				out = append(out, bareURLs(text, m)...)
			}
		}
		i = next
	}
	return out
}

type urlMatch struct {
	start, end             int
	protocolLen            int
	domainStart, domainEnd int
	pathEnd                int // end of the path; == domain/port end when there is none
	hasPath                bool
}

func matchURL(text string, start int) (urlMatch, bool) {
	m := urlMatch{start: start}
	pos := start
	switch {
	case hasPrefixFold(text[start:], protocolHTTPS):
		m.protocolLen = len(protocolHTTPS)
	case hasPrefixFold(text[start:], protocolHTTP):
		m.protocolLen = len(protocolHTTP)
	}
	pos += m.protocolLen
	dEnd, ok := matchDomain(text, pos)
	if !ok {
		if m.protocolLen == 0 {
			return m, false
		}
		// The protocol is optional: try the same place as a bare domain.
		m.protocolLen = 0
		pos = start
		if dEnd, ok = matchDomain(text, pos); !ok {
			return m, false
		}
	}
	m.domainStart, m.domainEnd = pos, dEnd
	pos = dEnd
	// Port.
	if pos+1 < len(text) && text[pos] == ':' && isDigit(text[pos+1]) {
		p := pos + 1
		for p < len(text) && isDigit(text[p]) {
			p++
		}
		pos = p
	}
	m.pathEnd = pos
	if pos < len(text) && text[pos] == '/' {
		pos = matchPath(text, pos+1)
		m.hasPath = true
		m.pathEnd = pos
	}
	if pos < len(text) && text[pos] == '?' {
		pos = matchQuery(text, pos+1, pos)
	}
	m.end = pos
	return m, true
}

// matchDomain matches subdomains, a domain name and a known TLD from pos,
// preferring the longest, and returns the domain's end.
func matchDomain(text string, pos int) (int, bool) {
	type label struct{ start, end int }
	var labels []label
	p := pos
	for {
		s := p
		for p < len(text) {
			r, size := utf8.DecodeRuneInString(text[p:])
			if !domainChar(r) && r != '-' && r != '_' {
				break
			}
			p += size
		}
		if p == s {
			break
		}
		labels = append(labels, label{s, p})
		if p < len(text) && text[p] == '.' {
			p++
			continue
		}
		break
	}
	// The last label holds the TLD; it may be followed by more text that
	// is not a domain character of the TLD itself (e.g. "example.com_x").
	for k := len(labels); k >= 2; k-- {
		okLabels := true
		for j := 0; j < k-1; j++ {
			l := text[labels[j].start:labels[j].end]
			if !edgesAreDomainChars(l) || (j == k-2 && strings.ContainsRune(l, '_')) {
				okLabels = false
				break
			}
		}
		if !okLabels {
			continue
		}
		if end, ok := matchTLD(text, labels[k-1].start, labels[k-1].end); ok {
			return end, true
		}
	}
	return 0, false
}

func edgesAreDomainChars(l string) bool {
	if l == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(l)
	last, _ := utf8.DecodeLastRuneInString(l)
	return domainChar(first) && domainChar(last)
}

// matchTLD finds the longest known TLD at the start of text[s:e] that is
// followed by a character other than [0-9a-zA-Z@+-].
func matchTLD(text string, s, e int) (int, bool) {
	best := -1
	for p := s; p < e; {
		r, size := utf8.DecodeRuneInString(text[p:])
		p += size
		if p < len(text) {
			next, _ := utf8.DecodeRuneInString(text[p:])
			if isASCIIAlnum(next) || next == '@' || next == '+' || next == '-' {
				continue
			}
		}
		_ = r
		if knownTLD(text[s:p]) {
			best = p
		}
	}
	return best, best > 0
}

func knownTLD(tld string) bool {
	if strings.HasPrefix(strings.ToLower(tld), "xn--") {
		for i := 4; i < len(tld); i++ {
			if c := tld[i] | 0x20; !(c >= 'a' && c <= 'z' || tld[i] >= '0' && tld[i] <= '9' || tld[i] == '-') {
				return false
			}
		}
		return len(tld) > 4
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] >= '0' && tld[i] <= '9' {
			return false
		}
	}
	a := strings.ToLower(tld)
	if !isASCII(a) {
		var err error
		if a, err = idna.Lookup.ToASCII(a); err != nil || a == "" {
			return false
		}
	}
	suffix, icann := publicsuffix.PublicSuffix("x." + a)
	return icann && suffix == a
}

// matchPath matches path characters from pos (after the '/') and returns
// the end of the path: the longest run that ends on a path-ending
// character, balanced parentheses allowed.
func matchPath(text string, pos int) int {
	end := pos
	p := pos
	for p < len(text) {
		r, size := utf8.DecodeRuneInString(text[p:])
		if r == '(' {
			if q, ok := balancedParens(text, p); ok {
				p = q
				end = p
				continue
			}
			break
		}
		if !pathChar(r) {
			break
		}
		p += size
		if pathEndingChar(r) {
			end = p
		}
	}
	return end
}

// balancedParens matches "(...)" with path characters inside, one level
// of nesting, as twitter-text's validUrlBalancedParens.
func balancedParens(text string, p int) (int, bool) {
	depth := 0
	q := p
	for q < len(text) {
		r, size := utf8.DecodeRuneInString(text[q:])
		switch {
		case r == '(':
			depth++
			if depth > 2 {
				return 0, false
			}
		case r == ')':
			depth--
			if depth == 0 {
				if q == p+1 {
					return 0, false
				}
				return q + 1, true
			}
		case !pathChar(r):
			return 0, false
		}
		q += size
	}
	return 0, false
}

// matchQuery matches a query from pos (after the '?'); qmark is the '?'
// itself, returned when no query-ending character follows.
func matchQuery(text string, pos, qmark int) int {
	end := qmark
	for p := pos; p < len(text); p++ {
		c := text[p]
		if c >= utf8.RuneSelf || !queryChar(c) {
			break
		}
		if queryEndingChar(c) {
			end = p + 1
		}
	}
	return end
}

func validURLLength(url string, protocolLen int, domain string) bool {
	encoded, ok := punycodeDomain(domain)
	if !ok {
		return false
	}
	n := utf16Len(url) + len(encoded) - utf16Len(domain)
	if protocolLen == 0 {
		protocolLen = defaultProtocolLen
	}
	return protocolLen+n <= maxURLLength
}

// punycodeDomain encodes each label and checks it is 1 to 63 characters,
// as DNS requires.
func punycodeDomain(domain string) (string, bool) {
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		if !isASCII(l) {
			a, err := idna.Punycode.ToASCII(l)
			if err != nil {
				return "", false
			}
			labels[i] = a
		}
		if n := len(labels[i]); n < 1 || n > maxDomainLabelLen {
			return "", false
		}
	}
	return strings.Join(labels, "."), true
}

// bareURLs keeps the ASCII domains of a bare (protocol-less) match, as
// twitter-text does: "名前.example.com" links only "example.com", and a
// short "name.cc" needs a path unless it is a .co or .tv domain.
func bareURLs(text string, m urlMatch) []URL {
	var out []URL
	domain := text[m.domainStart:m.domainEnd]
	for _, d := range asciiDomains(domain) {
		u := URL{Start: m.domainStart + d[0], End: m.domainStart + d[1]}
		u.URL = text[u.Start:u.End]
		if m.hasPath || !shortDomain(u.URL) || specialShort(u.URL) {
			out = append(out, u)
		}
	}
	if len(out) > 0 && m.hasPath {
		last := &out[len(out)-1]
		last.End = m.end
		last.URL = text[last.Start:last.End]
	}
	return out
}

// asciiDomains finds runs of labels of [-a-z0-9 and Latin accents]
// separated by dots that end in a known TLD.
func asciiDomains(domain string) [][2]int {
	var out [][2]int
	for i := 0; i < len(domain); {
		// A run of ASCII-domain characters and dots.
		j := i
		for j < len(domain) {
			r, size := utf8.DecodeRuneInString(domain[j:])
			if !asciiDomainChar(r) && r != '.' {
				break
			}
			j += size
		}
		if j == i {
			_, size := utf8.DecodeRuneInString(domain[i:])
			i += size
			continue
		}
		run := domain[i:j]
		// Longest prefix of whole labels ending in a TLD, at least two labels.
		labels := strings.Split(run, ".")
		for k := len(labels); k >= 2; k-- {
			ok := true
			for _, l := range labels[:k-1] {
				if l == "" {
					ok = false
				}
			}
			if ok && knownTLD(labels[k-1]) {
				n := len(strings.Join(labels[:k], "."))
				out = append(out, [2]int{i, i + n})
				break
			}
		}
		i = j
	}
	return out
}

func shortDomain(d string) bool {
	// name + ccTLD, no subdomain.
	parts := strings.Split(d, ".")
	return len(parts) == 2 && len(parts[1]) == 2 && isASCII(parts[1])
}

func specialShort(d string) bool {
	parts := strings.Split(d, ".")
	tld := strings.ToLower(parts[len(parts)-1])
	return len(parts) == 2 && (tld == "co" || tld == "tv")
}

// tcoURL: a t.co link keeps no path beyond its slug; an over-long slug is
// no link at all ("" with ok).
func tcoURL(u string) (string, bool) {
	lower := strings.ToLower(u)
	for _, p := range []string{"https://t.co/", "http://t.co/"} {
		if strings.HasPrefix(lower, p) {
			slug := len(p)
			for slug < len(u) && isASCIIAlnum(rune(u[slug])) {
				slug++
			}
			if slug-len(p) > maxTcoSlugLength {
				return "", true
			}
			return u[:slug], true
		}
	}
	return "", false
}

func invalidBeforeBare(before string) bool {
	if before == "" {
		return false
	}
	switch before[len(before)-1] {
	case '-', '_', '.', '/':
		return true
	}
	return false
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// validPreceding: what may stand right before a URL. Directional marks may.
func validPreceding(r rune) bool {
	if directional(r) {
		return true
	}
	if isASCIIAlnum(r) || invalidChar(r) {
		return false
	}
	switch r {
	case '@', '＠', '$', '#', '＃':
		return false
	}
	return true
}

func domainChar(r rune) bool {
	if r < utf8.RuneSelf {
		// ASCII punctuation, quotes, controls and space are not.
		return isASCIIAlnum(r)
	}
	return !space(r) && !invalidChar(r) && !directional(r) && r != utf8.RuneError
}

func asciiDomainChar(r rune) bool {
	return isASCIIAlnum(r) || r == '-' || latinAccent(r)
}

func pathChar(r rune) bool {
	if r < utf8.RuneSelf {
		if isASCIIAlnum(r) {
			return true
		}
		return strings.ContainsRune("!*';:=+,.$/%#[]-_~&|@", r)
	}
	return r == '\u2013' || cyrillic(r) || latinAccent(r)
}

func pathEndingChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || strings.ContainsRune("+-=_#/", r)
	}
	return cyrillic(r) || latinAccent(r)
}

func queryChar(c byte) bool {
	return isASCIIAlnum(rune(c)) || strings.IndexByte("!?*'@();:&=+$/%#[]-_.,~|", c) >= 0
}

func queryEndingChar(c byte) bool {
	return isASCIIAlnum(rune(c)) || strings.IndexByte("-_&=#/", c) >= 0
}

func cyrillic(r rune) bool { return r >= 0x0400 && r <= 0x04FF }

func latinAccent(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0xFF,
		r >= 0x0100 && r <= 0x024F, r >= 0x0300 && r <= 0x036F, r >= 0x1E00 && r <= 0x1EFF:
		return true
	}
	switch r {
	case 0x0253, 0x0254, 0x0256, 0x0257, 0x0259, 0x025B, 0x0263, 0x0268, 0x026F, 0x0272, 0x0289, 0x028B, 0x02BB:
		return true
	}
	return false
}

func space(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r == 0x20, r == 0x85, r == 0xA0, r == 0x1680, r == 0x180E,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

func directional(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r == 0x061C || r == 0x200E || r == 0x200F || r >= 0x2066 && r <= 0x2069
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasPrefixFold is an ASCII case-insensitive strings.HasPrefix.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

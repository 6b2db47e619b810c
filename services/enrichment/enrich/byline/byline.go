// Package byline reads author credits: it normalises a raw credit into
// names ("By JANE DOE, jane@x.com | Updated Dec 3" → "Jane Doe"), splits
// several authors, recognises wire agencies (organisations, not people) and
// generic desk credits (nobody), parses "By X and Y" lines and bio lines
// ("X is a journalist at Y"), and gives each person a registry key that is
// the same across spellings.
package byline

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Credit is one author found in the input.
type Credit struct {
	Name         string
	Organization string
	// IsOrganization marks a wire or agency credit.
	IsOrganization bool
	Bio            string
}

// agencies maps lower-case spellings of wire services to their name.
var agencies = map[string]string{
	"ap": "The Associated Press", "associated press": "The Associated Press", "the associated press": "The Associated Press",
	"reuters": "Reuters", "thomson reuters": "Reuters",
	"afp": "AFP", "agence france-presse": "AFP", "agence france presse": "AFP",
	"efe": "EFE", "agencia efe": "EFE",
	"ani": "ANI", "asian news international": "ANI",
	"pti": "PTI", "press trust of india": "PTI",
	"ians": "IANS",
	"upi":  "UPI", "united press international": "UPI",
	"dpa": "dpa", "deutsche presse-agentur": "dpa",
	"xinhua": "Xinhua", "xinhua news agency": "Xinhua",
	"kyodo": "Kyodo News", "kyodo news": "Kyodo News",
	"ansa": "ANSA", "europa press": "Europa Press", "notimex": "Notimex",
	"aap": "AAP", "australian associated press": "AAP",
	"pa": "PA Media", "pa media": "PA Media", "press association": "PA Media",
	"yonhap": "Yonhap", "tass": "TASS", "anadolu agency": "Anadolu Agency", "anadolu": "Anadolu Agency",
	"bloomberg": "Bloomberg", "bloomberg news": "Bloomberg", "cnn wire": "CNN Wire", "bernama": "Bernama",
}

// Agency returns the canonical name of a wire service.
func Agency(s string) (string, bool) {
	k := strings.ToLower(strings.Trim(CollapseSpace(s), " .,;:()[]"))
	k = strings.TrimSuffix(k, " photo")
	a, ok := agencies[k]
	return a, ok
}

// generic credits name a desk, not a person: they are dropped.
var genericWords = map[string]bool{
	"staff": true, "staffer": true, "reports": true, "report": true, "desk": true, "newsroom": true, "editor": true,
	"editors": true, "editorial": true, "team": true, "admin": true, "administrator": true, "webmaster": true,
	"contributor": true, "contributors": true, "guest": true, "correspondent": true, "correspondents": true,
	"writer": true, "writers": true, "board": true, "redacción": true, "redaccion": true, "rédaction": true,
	"redaktion": true, "redazione": true, "redação": true, "unknown": true, "anonymous": true, "wire": true,
	"services": true, "service": true, "agencies": true, "agency": true, "media": false,
}

// IsGeneric reports a desk credit that names nobody ("Staff", "TMZ Staff",
// "Staff reports", "Web Desk", "Editorial Board").
func IsGeneric(s string) bool {
	for w := range strings.FieldsSeq(strings.ToLower(s)) {
		if genericWords[strings.Trim(w, ".,;:")] {
			return true
		}
	}
	return false
}

var (
	reEmail  = regexp.MustCompile(`\S+@\S+\.\w+`)
	reURL    = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+`)
	reHandle = regexp.MustCompile(`(^|\s)@\w+`)
	reLead   = regexp.MustCompile(`(?i)^(?:(?:written|reported|reporting|words|story|text|posted|published|compiled|edited|interview)\s+by|by|por|par|author|authors|autor|autora|auteur|autore)\b[:\s]*`)
	reDate   = regexp.MustCompile(`(?i)\b(?:updated|published|posted|modified|last updated|actualizado|publicado|mis à jour|publié)\b.*$|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}.*$|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}.*$|\b\d{4}-\d{2}-\d{2}.*$|\b\d{1,2}/\d{1,2}/\d{2,4}.*$|\b\d{1,2}:\d{2}\s*(?:am|pm)?.*$`)
	reTitle  = regexp.MustCompile(`(?i)^(?:dr|prof|professor|mr|mrs|ms|mx|sir|dame|rev|fr|sr|sra|srta|mme|mlle|herr|frau|dott|dr\.ssa)\.?\s+`)
	reCreds  = regexp.MustCompile(`(?i)(?:,?\s+(?:ph\.?\s?d|m\.?d|d\.?o|ms|m\.?s|mph|mba|rdn|rd|ld|ldn|cdn|rn|np|cpa|cfa|esq|jd|j\.d|dds|dvm|pharmd|lcsw|cscs|cpt|facc|fnp|mfa|ma|bsn|msn|cde|cdces|ibclc|crnp|pa-c))\.?(?:$|[\s,])`)
	reParens = regexp.MustCompile(`\s*[\(\[][^\)\]]*[\)\]]`)
	// Conjunctions are matched in lower case only: "Cam E. Kettles" is one name.
	reSplit   = regexp.MustCompile(`\s*(?:,\s*(?:and|AND)\s+|,\s*&\s*|\s+(?:and|AND)\s+|\s*&\s*|\s*;\s*|\s+y\s+|\s+e\s+|\s+et\s+|\s+und\s+|\s*\|\s*|\s*,\s*)`)
	reBioVerb = regexp.MustCompile(`^(.{3,60}?)\s+(?:is|was|es|est|ist|è|é)\s+(?:a|an|the|un|una|une|ein|eine|uno|um|uma|our|nuestro|nuestra)?\s*(.{0,80}?)\b(journalist|reporter|writer|editor|correspondent|columnist|contributor|author|producer|analyst|photographer|critic|blogger|freelancer|periodista|reportero|reportera|redactor|redactora|editora|corresponsal|columnista|journaliste|rédacteur|rédactrice|journalistin|journalist|redakteur|redakteurin|giornalista|jornalista|repórter)s?\b(.*)$`)
	reBioOrg  = regexp.MustCompile(`^\s*(?:\w+\s+){0,3}?(?:at|for|with|of|de|en|chez|bei|für|per|da|na|no|del)\s+((?:the\s+|el\s+|la\s+|le\s+)?[\p{Lu}][\p{L}\p{N}&'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[\p{Lu}][\p{L}\p{N}&'’.-]*){0,5})`)
)

// CollapseSpace trims s and makes every white-space run one space.
func CollapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Split reads a raw credit ("By Jane Doe and John Roe, Reuters") into the
// credits it holds, normalised. Generic desk credits are dropped.
func Split(raw string) []Credit {
	raw = CollapseSpace(strings.Map(func(r rune) rune {
		if r == '\u00a0' || r == '\u200b' {
			return ' '
		}
		return r
	}, raw))
	if raw == "" || len(raw) > 300 {
		return nil
	}
	raw = reEmail.ReplaceAllString(raw, " ")
	raw = reURL.ReplaceAllString(raw, " ")
	raw = reHandle.ReplaceAllString(raw, " ")
	raw = reParens.ReplaceAllString(raw, " ")
	raw = strings.TrimSpace(reLead.ReplaceAllString(strings.TrimSpace(raw), ""))
	// "View all posts by Jane Doe", "More articles by Jane Doe": the name
	// follows the last " by ". "X as told to Jane Doe": the writer is Jane.
	for _, sep := range []string{" as told to ", " by "} {
		if i := strings.LastIndex(strings.ToLower(raw), sep); i > 0 {
			raw = raw[i+len(sep):]
			break
		}
	}
	raw = reDate.ReplaceAllString(raw, "")
	// Credentials go before splitting at commas: "Robert Moffit, Ph.D."
	// and "Lauren Manaker MS, RDN, LD" are one person.
	for i := 0; i < 4; i++ {
		r := reCreds.ReplaceAllString(raw, " ")
		if r == raw {
			break
		}
		raw = r
	}
	raw = strings.Trim(CollapseSpace(raw), " ,;:|-–—·•")
	if raw == "" {
		return nil
	}
	// "Name - Role" and "Name — Outlet": the part after a spaced dash is an
	// affiliation when the part before is a name.
	var affiliation string
	for _, dash := range []string{" — ", " – ", " - ", " | ", " · ", " • "} {
		if before, after, ok := strings.Cut(raw, dash); ok && LooksLikeName(strings.TrimSpace(before)) &&
			(!LooksLikeName(strings.TrimSpace(after)) || IsGeneric(after)) {
			raw, affiliation = strings.TrimSpace(before), strings.TrimSpace(after)
			break
		}
	}
	// "and" inside an organisation's name ("Institute of Allergy and
	// Infectious Diseases") does not separate authors.
	segs := strings.Split(raw, ",")
	for i, seg := range segs {
		if strings.Contains(seg, " and ") && hasOrgWord(seg) {
			segs[i] = strings.ReplaceAll(seg, " and ", " \x00and\x00 ")
		}
	}
	raw = strings.Join(segs, ",")
	var out []Credit
	parts := reSplit.Split(raw, -1)
	for i := range parts {
		parts[i] = strings.ReplaceAll(parts[i], "\x00and\x00", "and")
	}
	for i := 0; i < len(parts); i++ {
		p := strings.Trim(CollapseSpace(parts[i]), " .,;:|-–—·•")
		if p == "" {
			continue
		}
		if a, ok := Agency(p); ok {
			if len(out) > 0 && !out[len(out)-1].IsOrganization && out[len(out)-1].Organization == "" {
				// "Jane Doe, Reuters": the agency is her organisation.
				out[len(out)-1].Organization = a
				continue
			}
			out = append(out, Credit{Name: a, Organization: a, IsOrganization: true})
			continue
		}
		if IsGeneric(p) {
			// "Jane Doe, Staff Writer": a role, not another author.
			if len(out) > 0 && out[len(out)-1].Organization == "" && !isOnlyGeneric(p) {
				out[len(out)-1].Organization = stripRole(p)
			}
			continue
		}
		name := cleanName(p)
		if !LooksLikeName(name) {
			switch {
			case len(out) > 0 && out[len(out)-1].Organization == "" && looksLikeOutlet(p):
				// "Jane Doe, The Daily Journal": an outlet after a name.
				out[len(out)-1].Organization = p
			case len(parts) == 1 && looksLikeOrganization(p):
				// "By Field Level Media": an organisation's credit.
				out = append(out, Credit{Name: p, Organization: p, IsOrganization: true})
			}
			continue
		}
		out = append(out, Credit{Name: name})
	}
	if affiliation != "" && len(out) == 1 && out[0].Organization == "" && !IsGeneric(affiliation) && looksLikeOutlet(affiliation) {
		out[0].Organization = affiliation
	}
	return dedupe(out)
}

func isOnlyGeneric(p string) bool {
	for w := range strings.FieldsSeq(strings.ToLower(p)) {
		if !genericWords[strings.Trim(w, ".,")] {
			return false
		}
	}
	return true
}

// stripRole turns "Gazette Staff Writer" into "Gazette".
func stripRole(p string) string {
	var keep []string
	for w := range strings.FieldsSeq(p) {
		if !genericWords[strings.ToLower(strings.Trim(w, ".,"))] && !roleWords[strings.ToLower(w)] {
			keep = append(keep, w)
		}
	}
	return strings.Join(keep, " ")
}

var roleWords = map[string]bool{"senior": true, "chief": true, "associate": true, "contributing": true, "special": true,
	"political": true, "national": true, "sports": true, "business": true, "deputy": true, "managing": true}

func hasOrgWord(s string) bool {
	for w := range strings.FieldsSeq(strings.ToLower(s)) {
		if orgWords[strings.Trim(w, ".,")] {
			return true
		}
	}
	return false
}

// looksLikeOrganization: capitalised words, at least one of them a word
// only organisations have ("Media", "News", "Institute").
func looksLikeOrganization(p string) bool {
	if !looksLikeOutlet(p) || len(strings.Fields(p)) > 6 {
		return false
	}
	org := false
	for w := range strings.FieldsSeq(p) {
		lw := strings.ToLower(strings.Trim(w, ".,"))
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) && lw != "of" && lw != "the" && lw != "for" && lw != "and" && lw != "de" {
			return false
		}
		if orgWords[lw] {
			org = true
		}
	}
	return org
}

var orgWords = map[string]bool{"news": true, "media": true, "press": true, "times": true, "post": true, "journal": true,
	"institute": true, "university": true, "school": true, "college": true, "foundation": true, "association": true,
	"agency": true, "network": true, "magazine": true, "daily": true, "tribune": true, "herald": true, "inc": true,
	"group": true, "center": true, "centre": true, "society": true, "council": true, "department": true, "office": true}

func looksLikeOutlet(p string) bool {
	if p == "" || len(p) > 60 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(p)
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

func dedupe(cs []Credit) []Credit {
	seen := map[string]bool{}
	out := cs[:0]
	for _, c := range cs {
		k := Key(c.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}

// cleanName drops titles and fixes the case of an all-caps or all-lower
// name.
func cleanName(s string) string {
	s = reTitle.ReplaceAllString(s, "")
	s = strings.Trim(s, " .,;:'\"“”‘’")
	if strings.HasSuffix(s, " Jr") || strings.HasSuffix(s, " Sr") {
		s += "."
	}
	upper, lower := true, true
	for _, r := range s {
		if unicode.IsLetter(r) {
			if unicode.IsUpper(r) {
				lower = false
			} else {
				upper = false
			}
		}
	}
	if (upper || lower) && utf8.RuneCountInString(s) > 3 {
		s = titleCase(s)
	}
	return s
}

func titleCase(s string) string {
	b := []rune(strings.ToLower(s))
	start := true
	for i, r := range b {
		if start && unicode.IsLetter(r) {
			b[i] = unicode.ToUpper(r)
		}
		start = r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.'
	}
	out := string(b)
	// Particles stay lower case.
	for _, p := range []string{" De ", " Da ", " Del ", " Van ", " Von ", " Der ", " La ", " Le ", " Di ", " Bin ", " Al "} {
		out = strings.ReplaceAll(out, p, strings.ToLower(p))
	}
	return out
}

// particles are lower-case words allowed inside names.
var particles = map[string]bool{
	"de": true, "da": true, "das": true, "do": true, "dos": true, "del": true, "della": true, "la": true, "le": true,
	"van": true, "von": true, "der": true, "den": true, "ter": true, "di": true, "du": true, "bin": true, "binti": true,
	"ibn": true, "al": true, "el": true, "y": true, "e": true, "st": true, "mac": true, "ben": true, "bint": true,
}

// notNames are words that never appear in a person's name.
var notNames = map[string]bool{
	"the": true, "a": true, "an": true, "of": true, "and": true, "for": true, "in": true, "on": true, "at": true,
	"with": true, "to": true, "from": true, "news": true, "times": true, "post": true, "daily": true, "media": true,
	"magazine": true, "network": true, "press": true, "journal": true, "group": true, "inc": true, "llc": true,
	"ltd": true, "corp": true, "company": true, "online": true, "digital": true, "radio": true, "tv": true,
	"television": true, "channel": true, "studio": true, "studios": true, "university": true, "institute": true,
	"school": true, "college": true, "department": true, "office": true, "association": true, "foundation": true,
	"council": true, "agency": true, "center": true, "centre": true, "society": true, "club": true, "view": true,
	"all": true, "posts": true, "more": true, "about": true, "follow": true, "contact": true, "email": true,
	"share": true, "read": true, "click": true, "here": true, "updated": true, "published": true, "min": true,
	"ago": true, "today": true, "yesterday": true, "am": true, "pm": true, "photo": true, "photos": true,
	"image": true, "images": true, "video": true, "getty": true, "shutterstock": true, "courtesy": true, "via": true,
	"is": true, "was": true, "are": true, "has": true, "have": true, "said": true, "says": true, "this": true,
	"that": true, "it": true, "its": true, "our": true, "your": true, "you": true, "we": true, "by": true,
	"opinion": true, "analysis": true, "review": true, "reviews": true, "column": true, "live": true, "sponsored": true,
	"advertisement": true, "com": true, "org": true, "net": true, "weekly": true, "tribune": true, "herald": true,
	"gazette": true, "courier": true, "examiner": true, "reporter": true, "chronicle": true, "observer": true,
	"nast": true, "subscribe": true, "sign": true, "login": true, "newsletter": true, "podcast": true,
}

// LooksLikeName reports whether s could be a person's name (or a pen
// name): one to six words, mostly capitalised, no digits, no words that
// only occur in organisations or interface text.
func LooksLikeName(s string) bool {
	if s == "" || len(s) > 60 {
		return false
	}
	words := strings.Fields(s)
	if len(words) > 6 {
		return false
	}
	caps := 0
	for _, w := range words {
		lw := strings.ToLower(strings.Trim(w, ".,'’"))
		initial := utf8.RuneCountInString(lw) == 1 && unicode.IsUpper([]rune(w)[0])
		if notNames[lw] && !initial {
			return false
		}
		// "etimes.in", "Site.com": a domain, not a name.
		if i := strings.LastIndexByte(lw, '.'); i >= 3 && len(lw)-i-1 >= 2 {
			return false
		}
		if strings.ContainsRune(lw, '-') {
			for part := range strings.SplitSeq(lw, "-") {
				if notNames[part] {
					return false
				}
			}
		}
		r, _ := utf8.DecodeRuneInString(w)
		for _, c := range w {
			if unicode.IsDigit(c) || strings.ContainsRune("@/:#?=&+_()[]{}<>|\"!*%$", c) {
				return false
			}
		}
		switch {
		case unicode.IsUpper(r):
			caps++
		case particles[lw]:
		default:
			return false
		}
	}
	if caps == 0 {
		return false
	}
	if len(words) == 1 {
		// A single word is a name only when it has letters and is not an
		// acronym-looking organisation ("MLB", "CNN").
		w := words[0]
		return utf8.RuneCountInString(w) >= 3 && strings.ToUpper(w) != w
	}
	return true
}

// Line reads a "By X and Y" line: the line must start with a byline lead
// and hold nothing but credits. ok is false for prose that happens to
// start with "By".
func Line(line string) ([]Credit, bool) {
	line = CollapseSpace(line)
	if len(line) > 160 {
		return nil, false
	}
	m := reLead.FindStringIndex(line)
	if m == nil || m[0] != 0 {
		return nil, false
	}
	rest := line[m[1]:]
	if rest == "" {
		return nil, false
	}
	// Prose: "By the end of the day ..." has lower-case words after the
	// lead that are not particles.
	first, _, _ := strings.Cut(rest, " ")
	if r, _ := utf8.DecodeRuneInString(first); !unicode.IsUpper(r) {
		return nil, false
	}
	cs := Split(line)
	if len(cs) == 0 {
		return nil, false
	}
	return cs, true
}

// Bio reads a bio line ("Jane Doe is a journalist at El Diario
// specialising in ...") into a credit with organisation and the bio as
// written. A line in two languages ("... // Jane Doe es periodista de ...")
// keeps its first part.
func Bio(para string) (Credit, bool) {
	para = CollapseSpace(para)
	if len(para) > 600 || len(para) < 20 {
		return Credit{}, false
	}
	first := para
	if before, _, ok := strings.Cut(para, " // "); ok {
		first = strings.TrimSpace(before)
	}
	m := reBioVerb.FindStringSubmatch(first)
	if m == nil {
		return Credit{}, false
	}
	name := cleanName(m[1])
	if !LooksLikeName(name) || len(strings.Fields(name)) < 2 {
		return Credit{}, false
	}
	c := Credit{Name: name, Bio: first}
	if om := reBioOrg.FindStringSubmatch(m[4]); om != nil {
		c.Organization = strings.TrimRight(om[1], ".,;")
		// Stop the organisation at the next lower-case word.
		c.Organization = trimAtLower(c.Organization)
	}
	return c, true
}

func trimAtLower(s string) string {
	var keep []string
	for i, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if i > 0 && !unicode.IsUpper(r) && w != "of" && w != "de" && w != "the" {
			break
		}
		keep = append(keep, w)
	}
	for len(keep) > 0 {
		last := strings.ToLower(keep[len(keep)-1])
		if last != "of" && last != "de" && last != "the" {
			break
		}
		keep = keep[:len(keep)-1]
	}
	return strings.Join(keep, " ")
}

// Fold lower-cases s and removes diacritics ("Rondón" → "rondon").
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch r {
		case 'ß':
			b.WriteString("ss")
			continue
		case 'ø':
			r = 'o'
		case 'ł':
			r = 'l'
		case 'æ':
			b.WriteString("ae")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

var suffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true}

// Key is the author registry's match key: folded, punctuation dropped,
// middle names and initials dropped, so "Emmanuel Alejandro Rondón",
// "emmanuel rondon" and "Emmanuel A. Rondón" share "emmanuel-rondon".
// Different people with the same first and last name share it too; the
// registry accepts that, as a copy desk would ask.
func Key(name string) string {
	var toks []string
	for w := range strings.FieldsFuncSeq(Fold(name), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’')
	}) {
		w = strings.NewReplacer("'", "", "’", "").Replace(w)
		if w == "" || suffixes[w] {
			continue
		}
		toks = append(toks, w)
	}
	// Drop initials (one letter) unless that leaves nothing.
	full := toks[:0:0]
	for _, t := range toks {
		if utf8.RuneCountInString(t) > 1 {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		toks = full
	}
	switch {
	case len(toks) == 0:
		return ""
	case len(toks) <= 2:
		return strings.Join(toks, "-")
	}
	// Keep a particle before the surname: "Enrico de Lazaro" → "enrico-de-lazaro".
	last := toks[len(toks)-1]
	if p := toks[len(toks)-2]; particles[p] {
		last = p + "-" + last
	}
	return toks[0] + "-" + last
}

// Normalized is the comparison form of a name for scoring and matching:
// folded, single-spaced, without a leading "By".
func Normalized(name string) string {
	n := strings.Join(strings.Fields(Fold(name)), " ")
	n = strings.TrimPrefix(n, "by ")
	return n
}

// Package lang tells which language a story is written in (en, es, fr, de,
// pt, it) from its function words, and reads links that advertise a
// translation ("Read in Spanish", "Leer en español", hreflang).
package lang

import (
	"strings"
	"unicode"
)

// Languages are the ones Detect knows, in tie-break order.
var Languages = []string{"en", "es", "fr", "de", "pt", "it"}

// stopwords: frequent function words, chosen to tell these languages apart.
var stopwords = map[string][]string{
	"en": {"the", "and", "of", "to", "is", "that", "for", "with", "was", "on", "it", "are", "as", "this", "by", "be", "have", "from", "at", "which", "not", "has", "but", "they", "were", "its", "their", "would", "been", "will", "an", "or", "said", "he", "she", "his", "her", "who", "after", "about", "than"},
	"es": {"el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "por", "con", "para", "es", "se", "su", "sus", "al", "lo", "como", "más", "pero", "fue", "ha", "este", "esta", "son", "también", "entre", "sobre", "sin", "hay", "muy", "dijo", "desde", "cuando", "porque"},
	"fr": {"le", "la", "les", "de", "des", "du", "et", "est", "un", "une", "que", "qui", "dans", "pour", "pas", "sur", "au", "aux", "avec", "il", "elle", "ce", "cette", "sont", "ont", "par", "plus", "mais", "été", "ne", "nous", "vous", "leur", "selon", "était", "aussi", "ces", "où"},
	"de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "dem", "mit", "von", "sich", "auf", "für", "im", "auch", "es", "wie", "sie", "er", "wird", "werden", "hat", "bei", "nach", "aus", "noch", "wurde", "sind", "einen", "über", "dass", "oder", "aber", "vor", "nur"},
	"pt": {"o", "os", "a", "as", "de", "do", "da", "dos", "das", "que", "e", "em", "um", "uma", "para", "com", "não", "no", "na", "nos", "por", "mais", "se", "foi", "ao", "como", "mas", "é", "são", "seu", "sua", "também", "pelo", "pela", "ele", "ela", "está", "já"},
	"it": {"il", "lo", "la", "gli", "le", "di", "del", "della", "che", "e", "è", "un", "una", "per", "con", "non", "sono", "nel", "nella", "da", "dei", "delle", "al", "alla", "anche", "come", "più", "ma", "ha", "si", "questo", "questa", "stato", "essere", "dopo", "degli", "loro", "ci"},
}

// weights maps a function word to its weight in each of Languages: a word
// shared by several languages counts for each, divided among them, so "de"
// and "la" do not swamp the distinctive ones.
var weights = map[string]*[6]float64{}

func init() {
	share := map[string]int{}
	for _, ws := range stopwords {
		for _, w := range ws {
			share[w]++
		}
	}
	for i, l := range Languages {
		for _, w := range stopwords[l] {
			if weights[w] == nil {
				weights[w] = new([6]float64)
			}
			weights[w][i] = 1 / float64(share[w])
		}
	}
}

// Result is a detected language and how sure Detect is (0..1).
type Result struct {
	Language   string
	Confidence float64
	// Words is how many words were looked at.
	Words int
}

// maxWords bounds the work: a story's language shows in its first words.
const maxWords = 2000

// Detect returns the most likely language of text, or "" when there is too
// little text or no known language stands out.
func Detect(text string) Result {
	var scores [6]float64
	n := 0
	for w := range words(text) {
		if n++; n > maxWords {
			break
		}
		if ws := weights[w]; ws != nil {
			for i := range scores {
				scores[i] += ws[i]
			}
		}
	}
	best, second := "", 0.0
	bestScore := 0.0
	for i, l := range Languages {
		s := scores[i]
		if s > bestScore {
			best, second, bestScore = l, bestScore, s
		} else if s > second {
			second = s
		}
	}
	if best == "" || bestScore < 2 {
		return Result{Words: n}
	}
	margin := (bestScore - second) / bestScore
	conf := min(0.99, 0.5+margin*0.5+min(bestScore, 50)/200)
	return Result{Language: best, Confidence: conf, Words: n}
}

// words yields lower-case words of s.
func words(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			letter := unicode.IsLetter(r)
			if letter && start < 0 {
				start = i
			} else if !letter && start >= 0 {
				if !yield(lower(s[start:i])) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(lower(s[start:]))
		}
	}
}

func lower(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(w)
		}
	}
	return w
}

// names of languages, as written in the languages Detect knows, to codes.
var names = map[string]string{
	"english": "en", "inglés": "en", "ingles": "en", "anglais": "en", "englisch": "en", "inglês": "en", "inglese": "en",
	"spanish": "es", "español": "es", "espanol": "es", "castellano": "es", "espagnol": "es", "spanisch": "es", "espanhol": "es", "spagnolo": "es",
	"french": "fr", "francés": "fr", "frances": "fr", "français": "fr", "francais": "fr", "französisch": "fr", "francês": "fr", "francese": "fr",
	"german": "de", "alemán": "de", "aleman": "de", "allemand": "de", "deutsch": "de", "alemão": "de", "tedesco": "de",
	"portuguese": "pt", "portugués": "pt", "portugues": "pt", "portugais": "pt", "portugiesisch": "pt", "português": "pt", "portoghese": "pt",
	"italian": "it", "italiano": "it", "italien": "it", "italienisch": "it",
}

// leads are the words before a language name in a translation link.
var leads = []string{
	"read in", "read this in", "read this article in", "read the article in", "read it in", "also in", "available in", "in",
	"leer en", "lee en", "léelo en", "leelo en", "versión en", "version en", "disponible en", "en",
	"lire en", "lire cet article en", "version", "version en", "auf", "lesen sie auf", "auf deutsch lesen",
	"ler em", "leia em", "versão em", "em", "leggi in", "versione in", "in",
}

// Hint reads a link text that advertises a translation and returns the
// language it offers, e.g. "[Leer en español]" → "es", "Read in Spanish" →
// "es", "English version" → "en". The text must be nothing but that.
func Hint(text string) (code string, ok bool) {
	k := strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimSpace(text), "[]()|»«›‹→←-–—:")))
	if k == "" || len(k) > 40 {
		return "", false
	}
	if c, ok := names[k]; ok {
		return c, true
	}
	// "Auf Deutsch lesen", "En español leer".
	for _, tail := range []string{" lesen", " leer", " lire", " ler", " leggere"} {
		if rest, found := strings.CutSuffix(k, tail); found {
			k = strings.TrimPrefix(strings.TrimPrefix(rest, "auf "), "en ")
			if c, ok := names[k]; ok {
				return c, true
			}
		}
	}
	for _, lead := range leads {
		if rest, found := strings.CutPrefix(k, lead+" "); found {
			if c, ok := names[strings.TrimSpace(rest)]; ok {
				return c, true
			}
		}
	}
	// "English version", "Versión en español" handled above; "Spanish
	// version", "edición en español".
	for _, tail := range []string{" version", " edition", " translation"} {
		if rest, found := strings.CutSuffix(k, tail); found {
			if c, ok := names[rest]; ok {
				return c, true
			}
		}
	}
	if rest, found := strings.CutPrefix(k, "edición en "); found {
		if c, ok := names[rest]; ok {
			return c, true
		}
	}
	return "", false
}

// Normalize turns a BCP 47 tag or an html lang attribute into its primary
// language subtag in lower case ("en-US" → "en"); "" when malformed.
func Normalize(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 3 {
		return ""
	}
	for _, r := range tag {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return strings.ToLower(tag)
}

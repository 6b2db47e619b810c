// Package topics maps a story to IPTC Media Topics (the top level, e.g.
// medtop:13000000 "science and technology") from the words it uses, and
// picks its keywords. The cue lists cover English, Spanish, French,
// German, Portuguese and Italian stems.
package topics

import (
	"slices"
	"strings"
	"unicode"
)

// Topic is an IPTC Media Topic the story is about.
type Topic struct {
	// Code is the Media Topic QCode, "medtop:13000000".
	Code string
	Name string
	// Score is 0..1 relative to the strongest topic.
	Score float64
	// Hits are the cue words found, most frequent first.
	Hits []string
}

type topicDef struct {
	code, name string
	// cues are word prefixes (stems): "elect" matches "election".
	cues []string
}

// Media Topics, top level (https://cv.iptc.org/newscodes/mediatopic/).
var defs = []topicDef{
	{"medtop:01000000", "arts, culture, entertainment and media", strings.Fields(`art artist museum film movie cinema actor actress music musician album song singer concert festival theatre theater novel book author celebrit hollywood television tv series netflix streaming premiere red-carpet oscar grammy emmy media newspaper editorial journalis broadcast documentar comedian fashion culture cultur película cine música canción actriz actor museo teatro novela libro filme kino musik roman`)},
	{"medtop:02000000", "crime, law and justice", strings.Fields(`court lawsuit sue sued suing suit judge jury trial attorney lawyer prosecutor police arrest crime criminal charg convict sentenc prison jail legal law justice antitrust restraining injunction complaint plaintiff defendant verdict appeal fraud murder theft assault investigat fbi tribunal demanda juicio juez abogado policía delito cárcel justicia procès tribunal avocat justice gericht anwalt polizei klage processo tribunale avvocato`)},
	{"medtop:03000000", "disaster, accident and emergency incident", strings.Fields(`disaster earthquake flood wildfire hurricane tornado tsunami crash accident explosion collapse emergency rescue evacuat victims casualt derail terremoto inundación incendio accidente catástrofe séisme inondation unfall erdbeben`)},
	{"medtop:04000000", "economy, business and finance", strings.Fields(`economy economic business market markets company companies corporate firm industry stock stocks shares investor invest bank banking finance financial profit revenue sales earnings price prices inflation trade tariff competition merger acquisition startup ceo billion million dollar consumer retail commercial empresa empresas mercado economía negocio precio bolsa inversión entreprise marché économie wirtschaft unternehmen markt economia mercato azienda`)},
	{"medtop:05000000", "education", strings.Fields(`school schools student students teacher teachers education university universities college campus classroom curriculum tuition degree graduate professor escuela estudiantes universidad educación école étudiants université schule universität studenten scuola università`)},
	{"medtop:06000000", "environment", strings.Fields(`climate environment environmental pollution emission emissions carbon warming renewable conservation wildlife species biodiversity deforestation sustainab recycl ecolog clima medio ambiente contaminación climat environnement klima umwelt ambiente`)},
	{"medtop:07000000", "health", strings.Fields(`health hospital hospitals patient patients doctor doctors disease virus covid pandemic vaccine vaccin medical medicine drug drugs cancer treatment symptom infection nurse clinic diet nutrition exercise mental salud hospital enfermedad médico vacuna santé maladie gesundheit krankheit salute malattia`)},
	{"medtop:08000000", "human interest", strings.Fields(`birthday anniversary wedding celebrity pet pets animal animals quirky record-breaking family holiday christmas`)},
	{"medtop:09000000", "labour", strings.Fields(`worker workers employee employees employment unemployment job jobs union unions strike wage wages salary salaries layoff layoffs hiring labor labour workforce pension trabajadores empleo sindicato huelga salario travail emploi grève arbeit streik lavoro sciopero`)},
	{"medtop:10000000", "lifestyle and leisure", strings.Fields(`travel tourism restaurant recipe food cooking wine holiday vacation hobby gardening fitness shopping beauty style lifestyle leisure game games gaming viaje turismo receta cocina voyage cuisine reise küche viaggio cucina`)},
	{"medtop:11000000", "politics", strings.Fields(`politic election elections elect vote voter voters voting campaign candidate president presidential senate senator congress congressional parliament minister government governor mayor democrat democrats republican republicans conservative conservatives liberal party parties legislation policy white-house vice-president biden trump administration electoral censorship político política elecciones gobierno presidente congreso partido politique élection gouvernement président politik wahl regierung präsident politica elezioni governo`)},
	{"medtop:12000000", "religion", strings.Fields(`religion religious church churches pope vatican faith bishop priest mosque islam muslim christian catholic jewish synagogue temple prayer god iglesia papa religión église religion kirche chiesa`)},
	{"medtop:13000000", "science and technology", strings.Fields(`technology tech science scientist scientists research researchers study software hardware app apps internet online website web digital computer computers smartphone phone phones data server servers cloud platform platforms social network networks microblogging algorithm ai artificial intelligence robot chip chips semiconductor cyber hacker encryption space nasa physics chemistry biology quantum tecnología ciencia internet aplicación red plataforma technologie science numérique technologie wissenschaft tecnologia scienza`)},
	{"medtop:14000000", "society", strings.Fields(`society social community communities family families poverty immigration immigrant immigrants refugee refugees housing homeless discrimination racism equality gender rights protest protests demographic welfare charity sociedad inmigración derechos société immigration gesellschaft società`)},
	{"medtop:15000000", "sport", strings.Fields(`sport sports game match matches team teams player players coach season league championship tournament cup goal goals score scored win won victory defeat football soccer basketball baseball tennis golf olympic olympics nfl nba mlb nhl fifa quarterback pitcher striker deporte fútbol partido equipo jugador liga sport football équipe joueur fußball mannschaft spiel calcio squadra partita`)},
	{"medtop:16000000", "conflict, war and peace", strings.Fields(`war wars military army troops soldier soldiers attack attacks missile missiles bomb bombing ceasefire invasion conflict terror terrorism terrorist weapons violence violent peace hostage guerra ejército ataque conflicto paz guerre armée attaque krieg armee angriff esercito attacco`)},
	{"medtop:17000000", "weather", strings.Fields(`weather forecast rain snow storm storms temperature temperatures heatwave heat cold frost wind winds meteorolog tiempo lluvia nieve tormenta météo pluie neige wetter regen schnee meteo pioggia`)},
}

// MaxTopics is the most topics a story gets.
const MaxTopics = 4

// index maps a cue to topics; prefix cues are those of 4+ letters that
// should match longer words.
var exact = map[string][]int{}
var prefixes = map[string][]int{}

func init() {
	for i, d := range defs {
		for _, c := range d.cues {
			exact[c] = append(exact[c], i)
			if len(c) >= 5 {
				prefixes[c] = append(prefixes[c], i)
			}
		}
	}
}

// Classify returns the topics a text is about, strongest first. entityHints
// are extra cue words (e.g. the types of organisations named).
func Classify(text string) []Topic {
	counts := make([]float64, len(defs))
	hits := make([]map[string]int, len(defs))
	n := 0
	for w := range words(text) {
		if n++; n > 20000 {
			break
		}
		ids, ok := exact[w]
		if !ok && len(w) > 3 && w[len(w)-1] == 's' {
			ids, ok = exact[w[:len(w)-1]]
		}
		if !ok {
			ids = prefixMatch(w)
		}
		for _, id := range ids {
			if hits[id] == nil {
				hits[id] = map[string]int{}
			}
			// One word repeated counts at most three times: a story about
			// "Big Tech" is not thereby about technology.
			if hits[id][w] < 3 {
				counts[id]++
			}
			hits[id][w]++
		}
	}
	top := 0.0
	for _, c := range counts {
		top = max(top, c)
	}
	if top < 3 {
		return nil
	}
	var out []Topic
	for i, c := range counts {
		distinct := len(hits[i])
		if c < 3 || distinct < 2 || c < top*0.3 {
			continue
		}
		t := Topic{Code: defs[i].code, Name: defs[i].name, Score: float64(int(c/top*1000+0.5)) / 1000}
		for h := range hits[i] {
			t.Hits = append(t.Hits, h)
		}
		slices.SortFunc(t.Hits, func(a, b string) int {
			if d := hits[i][b] - hits[i][a]; d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		if len(t.Hits) > 5 {
			t.Hits = t.Hits[:5]
		}
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b Topic) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if len(out) > MaxTopics {
		out = out[:MaxTopics]
	}
	return out
}

func prefixMatch(w string) []int {
	for l := min(len(w)-1, 12); l >= 5; l-- {
		if ids, ok := prefixes[w[:l]]; ok {
			return ids
		}
	}
	return nil
}

// words yields the lower-case words of s.
func words(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			if unicode.IsLetter(r) || (start >= 0 && (r == '-' || unicode.IsDigit(r))) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(strings.ToLower(s[start:i])) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(strings.ToLower(s[start:]))
		}
	}
}

// stop are words too common to be keywords, in the six languages.
var stop = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a about above after again against all also am an and any are aren't as at be because been before being below between both but by can could did do does doing don't down during each even ever every few for from further had has have having he her here hers herself him himself his how i if in into is it its itself just like made make many may me might more most much must my new no nor not now of off on once one only or other our out over own said same says she should since so some still such than that the their them then there these they this those through to too two under until up upon us very was way we were what when where which while who whom why will with would year years you your also according could would told like time times last first people company companies its it's they're we've that's there's however another being because week day days
el la los las un una unos unas y o de del al en por para con sin sobre que se su sus es son fue ha han como más pero muy ya también este esta estos estas ese esa lo le les me mi no sí
le la les un une des et ou de du dans par pour avec sans sur que qui se sa son ses est sont été a ont comme plus mais très aussi ce cette ces il elle ils elles ne pas
der die das den dem des ein eine einen und oder zu von mit für auf im in ist sind war wurde nicht sich auch es sie er wie nach bei aus
o os as um uma uns umas e ou do da dos das no na nos nas em por para com sem que se seu sua é são foi mais mas muito também
il lo gli i le un una e o di del della dei delle nel nella per con senza su che si suo sua è sono era più ma molto anche`) {
		stop[w] = true
	}
}

// Keywords returns up to n content words that recur in text (at least
// min times), most frequent first, skipping those in exclude (folded
// entity words).
func Keywords(text string, n, minCount int, exclude map[string]bool) []string {
	counts := map[string]int{}
	var order []string
	seen := 0
	for w := range words(text) {
		if seen++; seen > 20000 {
			break
		}
		if len(w) < 4 || stop[w] || exclude[w] {
			continue
		}
		if counts[w] == 0 {
			order = append(order, w)
		}
		counts[w]++
	}
	// Fold simple plurals into their singular when both occur.
	for _, w := range order {
		if s, ok := strings.CutSuffix(w, "s"); ok && counts[s] > 0 && counts[w] > 0 {
			counts[s] += counts[w]
			counts[w] = 0
		}
	}
	var out []string
	for _, w := range order {
		if counts[w] >= minCount {
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return counts[b] - counts[a] })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

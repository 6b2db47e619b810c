package formats

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

func read(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testtool.SharedDir(t)}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// htmlPage is a real news page from the evaluation set.
func htmlPage(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(testtool.SharedDir(t), "eval", "naeb-dev", "html", "00c7f15fb635c360a44f126d4694369c.html.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fields(errs []problem.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func mustDecode(t *testing.T, d Decoder, body []byte) *newsroomv1.Article {
	t.Helper()
	a, errs := d(body)
	if len(errs) > 0 || a == nil {
		t.Fatalf("decode: %+v", errs)
	}
	return a
}

func TestTextSeedPaste(t *testing.T) {
	body := read(t, "fixtures", "seed-article.txt")
	a := mustDecode(t, Text, body)
	if a.Body != string(body) || a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_TEXT ||
		a.SourceFormat != newsroomv1.SourceFormat_SOURCE_FORMAT_TEXT {
		t.Fatalf("paste not kept as text: format %v/%v", a.BodyFormat, a.SourceFormat)
	}
}

func TestHTMLPage(t *testing.T) {
	page := htmlPage(t)
	a := mustDecode(t, HTML, page)
	if a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_HTML || a.SourceFormat != newsroomv1.SourceFormat_SOURCE_FORMAT_HTML {
		t.Fatalf("formats %v/%v", a.BodyFormat, a.SourceFormat)
	}
	if len(a.Body) != len(page) {
		t.Fatalf("page not passed whole: %d of %d bytes", len(a.Body), len(page))
	}
	for name, body := range map[string][]byte{
		"binary":    {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d},
		"nul":       []byte("<html><body>a\x00b</body></html>"),
		"no markup": []byte("just some words, no tags at all"),
		"empty":     []byte("  \n"),
	} {
		if a, errs := HTML(body); a != nil || len(errs) == 0 {
			t.Errorf("%s: accepted as HTML", name)
		}
	}
}

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, headline, body string }{
		{"# Parler sues Amazon\n\nThe lawsuit *begins*.\n", "Parler sues Amazon", "The lawsuit *begins*.\n"},
		{"Parler sues Amazon\n==================\n\nBody.", "Parler sues Amazon", "Body."},
		{"No heading here.\n\nSecond paragraph.", "", "No heading here.\n\nSecond paragraph."},
		{"## A subhead first\n\ntext", "", "## A subhead first\n\ntext"},
	} {
		a := mustDecode(t, Markdown, []byte(tc.in))
		if a.Headline != tc.headline || a.Body != tc.body || a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN {
			t.Errorf("%q: headline %q body %q", tc.in, a.Headline, a.Body)
		}
		if tc.headline != "" && a.Evidence["headline"].GetSource() != "markdown" {
			t.Errorf("%q: no evidence for the headline", tc.in)
		}
	}
	if _, errs := Markdown([]byte("# Only a headline\n")); len(errs) == 0 {
		t.Error("a headline without text was accepted")
	}
}

func TestJSONFull(t *testing.T) {
	a := mustDecode(t, JSON, []byte(`{
	  "id": "parler-sues-amazon", "headline": " Parler sues Amazon ", "dek": "The lawsuit",
	  "body": "Para one.\n\nPara two.", "body_format": "markdown",
	  "bylines": ["Emmanuel Alejandro Rondón", {"name": "Ana", "organization": "EFE"}],
	  "images": [{"url": "https://example.com/a.jpg", "caption": "A game.", "credit": "EFE", "alt": "players", "width": 800, "height": 600}],
	  "tags": ["Parler", "Amazon"], "section": "Technology", "language": "en",
	  "canonical_url": "https://elamerican.com/parler", "translations": [{"language": "es", "url": "https://elamerican.com/es/parler"}],
	  "publish_at": "2030-01-02T03:04:05Z", "embargo_until": "2030-01-02T03:00:00+01:00",
	  "correction": "An earlier version misspelled a name.", "minor": true}`))
	if a.Id != "parler-sues-amazon" || a.Headline != "Parler sues Amazon" || len(a.Bylines) != 2 ||
		a.Bylines[1].Organization != "EFE" || a.Images[0].Width != 800 || len(a.Tags) != 2 ||
		a.Translations[0].Language != "es" || a.PublishAt.AsTime().Year() != 2030 ||
		a.EmbargoUntil.AsTime().Hour() != 2 || a.Correction.GetNote() == "" || !a.Minor {
		t.Fatalf("decoded %+v", a)
	}
}

func TestJSONNamesEveryField(t *testing.T) {
	_, errs := JSON([]byte(`{"headline": 7, "body": "", "body_format": "rtf", "bylines": [{"nom": "x"}],
	  "images": [{"url": "ftp://x", "width": -1}], "tags": [3], "publish_at": "tomorrow",
	  "id": "a.b", "language": "english language", "colour": "red", "headlines": []}`))
	got := fields(errs)
	for _, want := range []string{"/headline", "/body", "/body_format", "/bylines/0/nom", "/bylines/0/name",
		"/images/0/url", "/images/0/width", "/tags/0", "/publish_at", "/id", "/language", "/colour", "/headlines"} {
		if !slices.Contains(got, want) {
			t.Errorf("no error for %s; got %v", want, errs)
		}
	}
	for _, e := range errs {
		if e.Field == "/headlines" && !strings.Contains(e.Detail, "ninjs") {
			t.Errorf("ninjs sent as JSON: no hint (%s)", e.Detail)
		}
	}
}

func TestJSONRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"syntax":        `{"headline": "x",`,
		"trailing":      `{"headline": "x", "body": "y"} {}`,
		"array":         `[1,2]`,
		"control":       `{"headline": "a\u0007b", "body": "y"}`,
		"line in title": `{"headline": "a\nb", "body": "y"}`,
		"empty":         ``,
		"invalid utf8":  "{\"headline\": \"\xff\", \"body\": \"y\"}",
	} {
		if a, errs := JSON([]byte(body)); a != nil && len(errs) == 0 || len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

func ninjsExamples(t testing.TB) map[string][]byte {
	dir := filepath.Join(testtool.SharedDir(t), "conformance", "ninjs", "examples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	if len(out) < 9 {
		t.Fatalf("only %d ninjs examples", len(out))
	}
	return out
}

func TestNinjsEveryExampleDecodes(t *testing.T) {
	for name, body := range ninjsExamples(t) {
		t.Run(name, func(t *testing.T) {
			a := mustDecode(t, Ninjs, body)
			if strings.TrimSpace(a.Body) == "" || a.SourceFormat != newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS {
				t.Fatalf("no body: %+v", a)
			}
		})
	}
}

func TestNinjsMapping(t *testing.T) {
	ex := ninjsExamples(t)

	tt := mustDecode(t, Ninjs, ex["2.1-tt_text_image_2.json"])
	if tt.Headline != "Militärövning i jätteformat hålls 2023" || tt.Language != "sv" ||
		tt.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_HTML || !strings.HasPrefix(tt.Dek, "Pandemin satte stopp") {
		t.Errorf("tt: %q %q %v dek %q", tt.Headline, tt.Language, tt.BodyFormat, tt.Dek)
	}
	if len(tt.Images) != 1 {
		t.Fatalf("tt images: %+v", tt.Images)
	}
	im := tt.Images[0]
	if !strings.HasSuffix(im.Url, "a001_NormalPreview.jpg") || im.Width != 1024 || im.Height != 683 ||
		im.Credit != "Karl Melander/TT" || !strings.HasPrefix(im.Caption, "En stor internationell") || im.Evidence.GetSource() != "ninjs" {
		t.Errorf("tt image: %+v", im)
	}

	simple := mustDecode(t, Ninjs, ex["2.2-004_simple_text_article.json"])
	if len(simple.Bylines) != 2 || simple.Bylines[0].Name != "Paulo Santalucia" || simple.Bylines[1].Name != "Frances d'Emilio" {
		t.Errorf("by: %+v", simple.Bylines)
	}
	if simple.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_HTML || !strings.HasPrefix(simple.Body, "<p>GROSSETO") {
		t.Errorf("body: %v %.40q", simple.BodyFormat, simple.Body)
	}
	if simple.Evidence["versioncreated"].GetExcerpt() != "2013-07-09T10:37:00Z" || simple.CreatedAt != nil {
		t.Errorf("versioncreated: %v, created_at %v", simple.Evidence, simple.CreatedAt)
	}

	dpa := mustDecode(t, Ninjs, ex["2.1-dpa_text.json"])
	if len(dpa.Bylines) != 1 || dpa.Bylines[0].Name != "Christian Hollmann" || dpa.Bylines[0].Organization != "dpa" {
		t.Errorf("dpa by: %+v", dpa.Bylines)
	}

	ntb := mustDecode(t, Ninjs, ex["2.1-ntb_text.json"])
	if len(ntb.Bylines) != 1 || !ntb.Bylines[0].IsOrganization || ntb.Bylines[0].Name != "NTB" {
		t.Errorf("ntb by: %+v", ntb.Bylines)
	}
	var topics, places []string
	for _, tg := range ntb.Tags {
		switch tg.Type {
		case newsroomv1.TagType_TAG_TYPE_TOPIC:
			topics = append(topics, tg.Name)
		case newsroomv1.TagType_TAG_TYPE_PLACE:
			places = append(places, tg.Name)
		}
	}
	if !slices.Contains(topics, "Teknologi") || !slices.Contains(places, "Telemark") {
		t.Errorf("ntb tags: %v %v", topics, places)
	}
	if !strings.HasPrefix(ntb.Body, "IT-giganten Google") {
		t.Errorf("ntb body from the description: %q", ntb.Body)
	}

	ap := mustDecode(t, Ninjs, ex["2.1-ap_image.json"])
	if len(ap.Images) != 1 || ap.Images[0].Credit != "ASSOCIATED PRESS" || ap.Images[0].Width != 3000 ||
		!strings.HasPrefix(ap.Images[0].Caption, "FILE - In this Monday") {
		t.Errorf("ap picture item: %+v", ap.Images)
	}

	bw := mustDecode(t, Ninjs, ex["2.1-businesswire-newsml-20130731006140.json"])
	if len(bw.Images) == 0 {
		t.Errorf("businesswire: no images from associations")
	}

	assoc := mustDecode(t, Ninjs, ex["2.2-003_associations_example.json"])
	if len(assoc.Images) != 2 || assoc.Images[1].Url != "http://mms.businesswire.com/media/newsItemId/en/369394/3/0025lf.jpg" {
		t.Errorf("associations without hrefs: %+v", assoc.Images)
	}
}

func TestNinjsSchemaViolationsNamed(t *testing.T) {
	_, errs := Ninjs([]byte(`{"uri": "urn:x", "headlines": [{"role": "main"}], "bodies": [{"value": 5}],
	  "type": "article", "versioncreated": "yesterday", "urgency": "high", "colour": "red"}`))
	got := fields(errs)
	for _, want := range []string{"/headlines/0", "/bodies/0/value", "/type", "/versioncreated", "/urgency", "/colour"} {
		if !slices.Contains(got, want) {
			t.Errorf("no error for %s; got %+v", want, errs)
		}
	}
	if slices.Contains(got, "/uri") {
		t.Errorf("a valid property reported: %+v", errs)
	}
	if _, errs := Ninjs([]byte(`{"headlines": [{"value": "x"}], "bodies": [{"value": "y"}]}`)); !slices.Contains(fields(errs), "body") {
		t.Errorf("missing uri not reported: %+v", errs)
	}
	if _, errs := Ninjs([]byte(`{"uri": "urn:x", "pubstatus": "canceled", "bodies": [{"value": "y"}]}`)); !slices.Contains(fields(errs), "/pubstatus") {
		t.Errorf("canceled item accepted: %+v", errs)
	}
	if _, errs := Ninjs([]byte(`{"uri": "urn:x", "headlines": [{"value": "only a headline"}]}`)); !slices.Contains(fields(errs), "/bodies") {
		t.Errorf("item without body accepted: %+v", errs)
	}
}

func TestNinjsLegacy(t *testing.T) {
	// Superdesk's ninjs 1.x shape: flat headline/body_html/byline and
	// associations keyed by name with renditions keyed by name.
	a := mustDecode(t, Ninjs, []byte(`{
	  "guid": "urn:newsml:localhost:5000:2024-01-01:abc", "type": "text", "language": "en",
	  "headline": "Council approves budget", "body_html": "<p>The council approved it.</p>",
	  "byline": "By Jane Roe", "description_text": "A short summary.", "embargoed": "2030-01-01T00:00:00+0000",
	  "associations": {"featuremedia": {"type": "picture", "description_text": "The council chamber.",
	     "byline": "John Doe", "alt_text": "chamber", "renditions": {
	       "original": {"href": "https://cdn.example.com/o.jpg", "mimetype": "image/jpeg", "width": 4000, "height": 3000},
	       "viewImage": {"href": "https://cdn.example.com/v.jpg", "mimetype": "image/jpeg", "width": 1280, "height": 960}}}}}`))
	if a.Headline != "Council approves budget" || a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_HTML ||
		len(a.Bylines) != 1 || a.Bylines[0].Name != "Jane Roe" || a.Dek != "A short summary." {
		t.Errorf("legacy: %+v", a)
	}
	if len(a.Images) != 1 || a.Images[0].Url != "https://cdn.example.com/v.jpg" || a.Images[0].Caption != "The council chamber." ||
		a.Images[0].Credit != "John Doe" || a.Images[0].Alt != "chamber" {
		t.Errorf("legacy image: %+v", a.Images)
	}
	// Superdesk writes offsets as +0000.
	if a.EmbargoUntil.AsTime().Year() != 2030 {
		t.Errorf("embargo: %v", a.EmbargoUntil)
	}
}

func TestForContentType(t *testing.T) {
	jsonBody := []byte(`{"headline": "h", "body": "b"}`)
	ninjsBody := []byte(`{"uri": "urn:x", "bodies": [{"value": "b"}]}`)
	for _, tc := range []struct {
		ct   string
		body []byte
		want newsroomv1.SourceFormat
	}{
		{"", jsonBody, newsroomv1.SourceFormat_SOURCE_FORMAT_JSON},
		{"application/json", ninjsBody, newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS},
		{"application/json; charset=utf-8", jsonBody, newsroomv1.SourceFormat_SOURCE_FORMAT_JSON},
		{"text/plain; charset=UTF-8", []byte("x"), newsroomv1.SourceFormat_SOURCE_FORMAT_TEXT},
		{"text/markdown", []byte("x"), newsroomv1.SourceFormat_SOURCE_FORMAT_MARKDOWN},
		{"text/html; charset=utf-8", []byte("<p>x</p>"), newsroomv1.SourceFormat_SOURCE_FORMAT_HTML},
		{"application/ninjs+json", ninjsBody, newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS},
		{`application/json; profile="http://www.iptc.org/std/ninjs/2.1"`, ninjsBody, newsroomv1.SourceFormat_SOURCE_FORMAT_NINJS},
	} {
		d, err := ForContentType(tc.ct)
		if err != nil {
			t.Errorf("%q: %v", tc.ct, err)
			continue
		}
		if a, errs := d(tc.body); len(errs) > 0 || a.SourceFormat != tc.want {
			t.Errorf("%q: %v %+v", tc.ct, a.GetSourceFormat(), errs)
		}
	}
	for _, ct := range []string{"image/png", "text/plain; charset=latin1", "not a type/", "application/xml"} {
		if _, err := ForContentType(ct); err == nil {
			t.Errorf("%q accepted", ct)
		}
	}
}

// BenchmarkJSON reads an editor's article with JSON, against encoding/json
// only reading the same bytes into a map[string]json.RawMessage (what JSON
// once began with), alternated in the same run; ratio < 1 means the whole
// decode and check costs less than that first step alone did.
func BenchmarkJSON(b *testing.B) {
	body := []byte(`{"headline": "Parler sues Amazon for taking down its servers", "dek": "The lawsuit", "body": "` +
		strings.Repeat("A legal battle that will be very important for the future of Parler. ", 35) +
		`", "bylines": ["Emmanuel Alejandro Rondón"], "tags": ["Parler", "Amazon"], "language": "en"}`)
	var base, ours time.Duration
	for b.Loop() {
		start := time.Now()
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, errs := JSON(body); errs != nil {
			b.Fatal(errs)
		}
		ours += time.Since(mid)
		base += mid.Sub(start)
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "json-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "encoding-json-ns/op")
	b.ReportMetric(float64(ours)/float64(base), "ratio")
}

// badControlRunes is BadControl as it was written first, rune by rune:
// the reference the byte-wise one must agree with.
func badControlRunes(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// TestBadControlAgreesWithRunes compares BadControl with the rune-wise
// reference on every string of up to three bytes drawn from the bytes that
// matter (ASCII controls and text, the lead and continuation bytes of the
// characters looked for and of others, invalid bytes), and on random
// longer ones.
func TestBadControlAgreesWithRunes(t *testing.T) {
	alphabet := []byte{0x00, 0x09, 0x0a, 0x0d, 0x1f, 'a', 0x7e, 0x7f, 0x80, 0x85, 0x9f, 0xa0, 0xa8, 0xa9, 0xbf, 0xc2, 0xc3, 0xe2, 0xe3, 0xf0, 0x9d, 0xff}
	check := func(s string) {
		for _, multiline := range []bool{false, true} {
			gr, gok := BadControl(s, multiline)
			wr, wok := badControlRunes(s, multiline)
			if gr != wr || gok != wok {
				t.Fatalf("BadControl(%q, %v) = %U, %v; rune by rune %U, %v", s, multiline, gr, gok, wr, wok)
			}
		}
	}
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		check(string(prefix))
		if n == 0 {
			return
		}
		for _, b := range alphabet {
			gen(append(prefix, b), n-1)
		}
	}
	gen(nil, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		check(string(b))
	}
	for _, s := range []string{"Plain text — “quoted”, café.\n\tNext line.", "line\u2028sep", "para\u2029sep", "c1 \u0085 here", "del \x7f"} {
		check(s)
	}
}

// TestWordTests checks the eight-bytes-at-a-time tests against bytes read
// one by one: every byte value at every position of words filled with
// each of a few neighbours.
func TestWordTests(t *testing.T) {
	for _, fill := range []byte{0x00, 0x1f, 0x20, 'a', '"', '\\', 0x7e, 0x7f, 0x80, 0xff} {
		for pos := range 8 {
			for v := range 256 {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(v)
				w := binary.LittleEndian.Uint64(b)
				var less, quote, high bool
				for _, c := range b {
					less = less || c < 0x20
					quote = quote || c == '"'
					high = high || c >= 0x7f
				}
				if hasLess(w, 0x20) != less || hasByte(w, '"') != quote || hasHigh(w) != high {
					t.Fatalf("% x: hasLess %v hasByte(\") %v hasHigh %v; byte by byte %v %v %v",
						b, hasLess(w, 0x20), hasByte(w, '"'), hasHigh(w), less, quote, high)
				}
			}
		}
	}
	// And BadControl's fast path: long printable runs with one byte that
	// matters anywhere.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := bytes.Repeat([]byte("plain text "), 1+rng.IntN(5))
		at := rng.IntN(len(b))
		k := rng.IntN(7)
		b = slices.Insert(b, at, []byte{0x00, 0x0a, 0x7f, 0xc2, 0x85, 0xe2, 0x80, 0xa8}[k:k+1+rng.IntN(2)]...)
		for _, multiline := range []bool{false, true} {
			gr, gok := BadControl(string(b), multiline)
			wr, wok := badControlRunes(string(b), multiline)
			if gr != wr || gok != wok {
				t.Fatalf("BadControl(%q, %v) = %U, %v; rune by rune %U, %v", b, multiline, gr, gok, wr, wok)
			}
		}
	}
}

// TestJSONNumbersAndBooleans: the fast paths for whole numbers and
// booleans take and refuse exactly what encoding/json does.
func TestJSONNumbersAndBooleans(t *testing.T) {
	for _, lit := range []string{"800", "0", "-0", "-5", "2147483647", "2147483648", "-2147483649", "1.5", "1.0", "1e2", "-1E+2", `"800"`, "true", "null", "[]"} {
		var want int32
		werr := json.Unmarshal([]byte(lit), &want)
		a, errs := JSON([]byte(`{"headline": "h", "body": "b", "images": [{"url": "https://e.com/a.jpg", "height": ` + lit + `}]}`))
		got := slices.ContainsFunc(errs, func(e problem.FieldError) bool {
			return e.Field == "/images/0/height" && strings.Contains(e.Detail, "whole number")
		})
		if got != (werr != nil) {
			t.Errorf("height %s: error %v, encoding/json %v", lit, got, werr)
		}
		if werr == nil && want >= 0 && (a == nil || a.Images[0].Height != want) {
			t.Errorf("height %s: decoded %+v, want %d", lit, a, want)
		}
	}
	for _, lit := range []string{"true", "false", "null", "1", `"true"`, "0"} {
		var want bool
		werr := json.Unmarshal([]byte(lit), &want)
		a, errs := JSON([]byte(`{"headline": "h", "body": "b", "minor": ` + lit + `}`))
		if got := slices.Contains(fields(errs), "/minor"); got != (werr != nil) {
			t.Errorf("minor %s: error %v, encoding/json %v", lit, got, werr)
		}
		if werr == nil && (a == nil || a.Minor != want) {
			t.Errorf("minor %s: decoded %+v, want %v", lit, a, want)
		}
	}
}

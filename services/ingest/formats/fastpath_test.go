package formats

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/problem"
)

// jsonPathsAgree decodes body as JSON with and without the one-pass read
// of the common case and fails unless both give the same article and the
// same errors, in the same order.
func jsonPathsAgree(t *testing.T, body []byte) {
	t.Helper()
	fastA, fastErrs := decodeJSON(body, true)
	slowA, slowErrs := decodeJSON(body, false)
	if !proto.Equal(fastA, slowA) {
		t.Fatalf("%q: the one-pass read gives\n%v\nthe full read\n%v", body, fastA, slowA)
	}
	if !reflect.DeepEqual(fastErrs, slowErrs) {
		t.Fatalf("%q: the one-pass read says %v, the full read %v", body, fastErrs, slowErrs)
	}
}

// TestJSONFastPathAgrees: the one-pass read of a common submission sets
// exactly what the map-based read does, for what it takes (repeated keys,
// nulls, escapes in values) and for everything it hands on (unknown or
// escaped keys, values of another type, ninjs, malformed documents).
func TestJSONFastPathAgrees(t *testing.T) {
	common := `{"headline": "Parler sues Amazon", "dek": "The lawsuit", "body": "Line one.\nA \"quoted\" caf\u00e9 \ud83d\ude00.",
		"bylines": ["Emmanuel Alejandro Rondón", {"name": "Jane Doe", "organization": "AP"}], "tags": ["Parler", "Amazon"],
		"images": [{"url": "https://e.com/a.jpg", "caption": "c", "width": 640, "height": 480}],
		"translations": [{"language": "es", "url": "https://e.com/es/a"}],
		"section": "Tech", "language": "en", "canonical_url": "https://e.com/a", "body_format": "markdown",
		"publish_at": "2030-01-01T00:00:00Z", "correction": "Fixed a name.", "minor": true, "id": "parler-sues-amazon"}`
	var m members
	if !m.read([]byte(common)) {
		t.Fatal("a common submission is not read in one pass")
	}
	if m.text != "Line one.\nA \"quoted\" café 😀." || !m.minor || len(m.bylines) != 2 || len(m.images) != 1 {
		t.Fatalf("one pass read %+v", m)
	}
	cases := []string{
		common,
		`{"headline": "a", "body": "b", "headline": "c"}`,
		`{"headline": "a", "body": "b", "headline": null}`,
		`{"headline": null, "body": "b", "bylines": null, "minor": null, "tags": null}`,
		`{"headline": "a", "body": "b", "minor": false, "minor": true}`,
		`{"headline": "a", "body": "b", "minor": "yes"}`,
		`{"headline": 3, "body": "b"}`,
		`{"headline": "a", "body": "b", "tags": "one"}`,
		`{"headline": "a", "body": "b", "tags": ["x", 3, " "], "bylines": ["", "ok", 4]}`,
		`{"headline": "a", "body": "b", "colour": "red", "uri": "x"}`,
		`{"h\u0065adline": "a", "body": "b"}`,
		`{"uri": "urn:x", "headlines": [{"value": "h"}], "body_text": "t"}`,
		`{"uri": "urn:x", "body": "b", "headline": "h"}`,
		`{"headline": "a", "body": "b"} trailing`,
		`{"headline": "a", "body": "b",}`,
		`[{"headline": "a", "body": "b"}]`,
		`  {"headline" : "a" , "body":"b"}  `,
		`{}`,
		`{"headline": "a\u0007", "body": "b"}`,
		`{"headline": "` + strings.Repeat("x", 301) + `", "body": "b"}`,
		`{"headline": "a", "body": "b", "images": [{"url": "ftp://e.com/x"}, {}], "translations": [{}]}`,
		`{"headline": "a", "body": "b", "publish_at": "tomorrow", "language": "english"}`,
		`{"headline": "a", "body": "b", "bylines": [` + strings.Repeat(`"n",`, MaxBylines) + `"n"]}`,
		`{"headline": "a", "body": "b", "id": "Not An Id"}`,
		`{"headline": "a", "body": "b", "body_format": "docx"}`,
	}
	for _, c := range cases {
		jsonPathsAgree(t, []byte(c))
	}
	// And mutations of the common submission: bytes dropped, doubled or
	// replaced by JSON's own punctuation.
	rng := rand.New(rand.NewPCG(1, 2))
	punct := []byte(`{}[]:,"\ 0tfn`)
	for range 3000 {
		b := []byte(common)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b = append(b[:i:i], b[i+1:]...)
			case 1:
				b = append(b[:i+1:i+1], b[i:]...)
			default:
				b[i] = punct[rng.IntN(len(punct))]
			}
		}
		jsonPathsAgree(t, b)
	}
}

// TestNinjsErrorsInOrder: an item with several faults gets them in the
// same order every time (the schema validator's own order varies).
func TestNinjsErrorsInOrder(t *testing.T) {
	// A wire item with faults in several places (the fuzzer found the
	// order varying on one like it).
	item := read(t, "conformance", "ninjs", "examples", "2.1-businesswire-newsml-20130731006140.json")
	for _, r := range []struct{ old, new string }{
		{`"uri": "http`, `"body": "x", "uri": "", "x": "http`},
		{`"sizeinbytes": 10330`, `"sizPinbytes": 10330, "zz": 1, "aa": 2, "mm": 3`},
		{`Decoy_Extended_QT`, `Decoy_\u007fxtended_QT`},
	} {
		if !bytes.Contains(item, []byte(r.old)) {
			t.Fatalf("the example no longer holds %s", r.old)
		}
		item = bytes.Replace(item, []byte(r.old), []byte(r.new), 1)
	}
	_, first := Ninjs(item)
	if len(first) < 3 {
		t.Fatalf("want several errors, got %v", first)
	}
	if !slices.IsSortedFunc(first, func(a, b problem.FieldError) int { return strings.Compare(a.Field, b.Field) }) {
		t.Fatalf("errors not in order of their fields: %v", first)
	}
	for range 30 {
		if _, again := Ninjs(item); !reflect.DeepEqual(again, first) {
			t.Fatalf("the same item gave\n%v\nthen\n%v", first, again)
		}
	}
}

// TestMasksFindTheFirstByte: the lowest flag of the string scan's masks is
// exactly the first byte to stop at, in every word of eight bytes drawn
// from the bytes that matter (borrows flag bytes above it, never below).
func TestMasksFindTheFirstByte(t *testing.T) {
	alphabet := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', 'a', 0x7f, 0x80, 0x9f, 0xc2, 0xe2, 0xff}
	rng := rand.New(rand.NewPCG(5, 6))
	var w [8]byte
	for n := range 400_000 {
		for i := range w {
			if n%2 == 0 {
				w[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				w[i] = byte(rng.Uint32())
			}
		}
		want := 8
		for i, c := range w {
			if c < 0x20 || c == '"' || c == '\\' {
				want = i
				break
			}
		}
		m := lessMask(binary.LittleEndian.Uint64(w[:]), 0x20) | byteMask(binary.LittleEndian.Uint64(w[:]), '"') | byteMask(binary.LittleEndian.Uint64(w[:]), '\\')
		if got := bits.TrailingZeros64(m) >> 3; got != want {
			t.Fatalf("% x: the masks stop at %d, the first such byte is at %d", w, got, want)
		}
	}
}

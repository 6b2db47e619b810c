package richtext

import (
	"reflect"
	"testing"
)

// The expected offsets are counted by hand in UTF-8 bytes: "é" is 2 bytes,
// each CJK ideograph 3, "👩‍💻" is 4+3+4 = 11, "🇫🇷" 8, "❤️" 3+3 = 6.
func TestDetectByteOffsets(t *testing.T) {
	cases := []struct {
		text string
		want []Facet
	}{
		{
			// "Café " = 6 bytes; the 17-byte link runs 6..23; after " ",
			// "#Noël" (1+1+1+2+1 = 6 bytes) runs 24..30.
			text: "Café https://ex.am/ple #Noël",
			want: []Facet{
				Link(6, 23, "https://ex.am/ple"),
				{Index: Index{24, 30}, Features: []Feature{{Type: TypeTag, Tag: "Noël"}}},
			},
		},
		{
			// "東京 " = 7 bytes; "#東京" = 1+6 = 7 bytes: 7..14; after " ",
			// the link (14 ASCII bytes + 6) runs 15..35.
			text: "東京 #東京 https://ex.am/東京",
			want: []Facet{
				{Index: Index{7, 14}, Features: []Feature{{Type: TypeTag, Tag: "東京"}}},
				Link(15, 35, "https://ex.am/東京"),
			},
		},
		{
			// "👩‍💻 " = 12; "🇫🇷 " = 9 → 21; "#dev" 21..25; ", " → 27;
			// "❤️ " = 3+3+1 → 34; "(" → the 15-byte link runs 35..50.
			text: "👩‍💻 🇫🇷 #dev, ❤️ (https://ex.am/a).",
			want: []Facet{
				{Index: Index{21, 25}, Features: []Feature{{Type: TypeTag, Tag: "dev"}}},
				Link(35, 50, "https://ex.am/a"),
			},
		},
		{
			// Not tags: digits only, '#' inside a word, an emoji after '#'.
			text: "#2024 a#b #\ufe0fx",
			want: nil,
		},
	}
	for _, c := range cases {
		got := Detect(c.text)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Detect(%q)\n got %+v\nwant %+v", c.text, got, c.want)
		}
		for _, f := range got {
			span := c.text[f.Index.ByteStart:f.Index.ByteEnd]
			ft := f.Features[0]
			if (ft.Type == TypeLink && span != ft.URI) || (ft.Type == TypeTag && span[1:] != ft.Tag && span[3:] != ft.Tag) {
				t.Errorf("Detect(%q): span %q does not match %+v", c.text, span, ft)
			}
		}
		if !Valid(c.text, got) {
			t.Errorf("Detect(%q) gave invalid facets", c.text)
		}
	}
}

func TestValidRejectsMisplacedFacets(t *testing.T) {
	text := "Café 👩‍💻"
	for _, f := range [][]Facet{
		{Link(4, 5, "x")},                  // inside "é"
		{Link(0, 3, "x"), Link(2, 5, "x")}, // overlapping
		{Link(7, 30, "x")},                 // past the end
		{Link(6, 8, "x")},                  // ends inside the emoji
	} {
		if Valid(text, f) {
			t.Errorf("Valid accepted %+v", f)
		}
	}
	if !Valid(text, []Facet{Link(0, 5, "x"), Link(6, 17, "y")}) {
		t.Error("Valid refused well-placed facets")
	}
}

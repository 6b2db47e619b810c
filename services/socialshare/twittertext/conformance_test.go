package twittertext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/newsroom/newsroom/pkg/testtool"
)

type lengthCase struct {
	Description string `yaml:"description"`
	Text        string `yaml:"text"`
	Expected    struct {
		WeightedLength    int  `yaml:"weightedLength"`
		Valid             bool `yaml:"valid"`
		Permillage        int  `yaml:"permillage"`
		DisplayRangeStart int  `yaml:"displayRangeStart"`
		DisplayRangeEnd   int  `yaml:"displayRangeEnd"`
		ValidRangeStart   int  `yaml:"validRangeStart"`
		ValidRangeEnd     int  `yaml:"validRangeEnd"`
	} `yaml:"expected"`
}

// TestConformance runs every tweet-length case of twitter-text's
// conformance file: v2 for WeightedTweetsCounterTest, v3 for the
// discounted-emoji and directional-marker sections, as the reference's own
// conformance runner does.
func TestConformance(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "conformance", "twitter-text", "validate.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests map[string]yaml.Node `yaml:"tests"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	sections := []struct {
		name string
		cfg  Config
	}{
		{"WeightedTweetsCounterTest", V2},
		{"WeightedTweetsWithDiscountedEmojiCounterTest", V3},
		{"UnicodeDirectionalMarkerCounterTest", V3},
	}
	total := 0
	for _, sec := range sections {
		var cases []lengthCase
		node := doc.Tests[sec.name]
		if err := node.Decode(&cases); err != nil {
			t.Fatalf("section %s: %v", sec.name, err)
		}
		if len(cases) == 0 {
			t.Fatalf("section %s is missing or empty", sec.name)
		}
		for _, c := range cases {
			total++
			t.Run(sec.name+"/"+c.Description, func(t *testing.T) {
				got := Parse(c.Text, sec.cfg)
				want := Result{
					WeightedLength: c.Expected.WeightedLength, Valid: c.Expected.Valid, Permillage: c.Expected.Permillage,
					DisplayRangeStart: c.Expected.DisplayRangeStart, DisplayRangeEnd: c.Expected.DisplayRangeEnd,
					ValidRangeStart: c.Expected.ValidRangeStart, ValidRangeEnd: c.Expected.ValidRangeEnd,
				}
				if got != want {
					t.Errorf("Parse(%.80q)\n got %+v\nwant %+v", c.Text, got, want)
				}
			})
		}
	}
	// Every case with an expected weighted length is a length case: none
	// may be left out.
	if want := strings.Count(string(raw), "weightedLength:"); total != want {
		t.Errorf("ran %d length cases, the conformance file has %d", total, want)
	}
	t.Logf("%d tweet-length cases", total)
}

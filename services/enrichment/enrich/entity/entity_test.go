package entity

import (
	"slices"
	"testing"
)

func TestExtract(t *testing.T) {
	in := Input{
		Headline: "Amazon Web Services Sues Acme Corp. In Seattle",
		Paragraphs: []string{
			"Amazon Web Services said on Monday it had sued Acme Corp. in federal court in Seattle. Senator Maria Lopez called the suit reckless.",
			"AWS, the cloud arm of Amazon, says Acme copied its software. Lopez said the company would appeal, according to the New York Times.",
			"The Institute for Basic Science was not involved. However, Acme shares fell in New York.",
		},
	}
	got := map[string]Entity{}
	for _, e := range Extract(in) {
		got[e.Name] = e
	}
	want := map[string]Type{
		"Amazon Web Services": Organization, "Acme": Organization, "Seattle": Place, "Maria Lopez": Person,
		"Amazon": Organization, "New York Times": Organization, "Institute for Basic Science": Organization, "New York": Place,
	}
	for name, typ := range want {
		e, ok := got[name]
		if !ok {
			t.Errorf("no entity %q; have %v", name, keys(got))
			continue
		}
		if e.Type != typ {
			t.Errorf("%q is %v, want %v", name, e.Type, typ)
		}
	}
	if aws := got["Amazon Web Services"]; !slices.Contains(aws.Aliases, "AWS") || aws.Count != 2 || aws.Salience < 0.5 {
		t.Errorf("AWS: %+v", aws)
	}
	if l := got["Maria Lopez"]; !slices.Contains(l.Aliases, "Lopez") || l.Count != 2 {
		t.Errorf("Lopez: %+v", l)
	}
	if a := got["Acme"]; !slices.Contains(a.Aliases, "Acme Corp.") {
		t.Errorf("Acme: %+v", a)
	}
	for _, noise := range []string{"However", "Monday", "The", "Senator", "Sues", "In"} {
		if _, ok := got[noise]; ok {
			t.Errorf("noise entity %q", noise)
		}
	}
}

func keys(m map[string]Entity) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

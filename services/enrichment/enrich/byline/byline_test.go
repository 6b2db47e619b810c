package byline

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		raw  string
		want []Credit
	}{
		{"By Jane Doe", []Credit{{Name: "Jane Doe"}}},
		{"BY JANE DOE", []Credit{{Name: "Jane Doe"}}},
		{"By Jane Doe and John Roe", []Credit{{Name: "Jane Doe"}, {Name: "John Roe"}}},
		{"Carla Gomez, Jordeene B. Lagare", []Credit{{Name: "Carla Gomez"}, {Name: "Jordeene B. Lagare"}}},
		{"Robert E. Moffit, Ph.D.", []Credit{{Name: "Robert E. Moffit"}}},
		{"Lauren Manaker MS, RDN, LD", []Credit{{Name: "Lauren Manaker"}}},
		{"By Cam E. Kettles, Crimson Staff Writer", []Credit{{Name: "Cam E. Kettles", Organization: "Crimson"}}},
		{"Jane Doe, Reuters", []Credit{{Name: "Jane Doe", Organization: "Reuters"}}},
		{"The Associated Press", []Credit{{Name: "The Associated Press", Organization: "The Associated Press", IsOrganization: true}}},
		{"By AP", []Credit{{Name: "The Associated Press", Organization: "The Associated Press", IsOrganization: true}}},
		{"Jane Doe jane@example.com @janedoe", []Credit{{Name: "Jane Doe"}}},
		{"By Jane Doe Updated Dec. 3, 2023 10:00 a.m.", []Credit{{Name: "Jane Doe"}}},
		{"Dr. Jane Doe", []Credit{{Name: "Jane Doe"}}},
		{"TMZ Staff", nil},
		{"etimes.in", nil},
		{"Staff reports", nil},
		{"John Garcia Jr.", []Credit{{Name: "John Garcia Jr."}}},
		{"Kelly  Quinlan", []Credit{{Name: "Kelly Quinlan"}}},
		{"Stephen Edelstein - Contributing Writer", []Credit{{Name: "Stephen Edelstein"}}},
		{"Jim Walsh, Cherry Hill Courier-Post", []Credit{{Name: "Jim Walsh", Organization: "Cherry Hill Courier-Post"}}},
		{"View all posts by Will Macmaster", []Credit{{Name: "Will Macmaster"}}},
		{"Amie Mock as told to Heather Eastman", []Credit{{Name: "Heather Eastman"}}},
		{"Miguel A. Melendez", []Credit{{Name: "Miguel A. Melendez"}}},
		{"by Dennis Thompson, U.S. National Institute of Allergy and Infectious Diseases",
			[]Credit{{Name: "Dennis Thompson", Organization: "U.S. National Institute of Allergy and Infectious Diseases"}}},
	}
	for _, tt := range tests {
		got := Split(tt.raw)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestLine(t *testing.T) {
	if cs, ok := Line("By the end of the day, nothing was left."); ok {
		t.Errorf("prose read as a byline: %+v", cs)
	}
	cs, ok := Line("By Field Level Media")
	if !ok || len(cs) != 1 || cs[0].Name != "Field Level Media" {
		t.Errorf("Line(By Field Level Media) = %+v, %v", cs, ok)
	}
}

func TestBio(t *testing.T) {
	c, ok := Bio("Emmanuel Alejandro Rondón is a journalist at El American specializing in the areas of American politics and media analysis // Emmanuel Alejandro Rondón es periodista de El American.")
	if !ok || c.Name != "Emmanuel Alejandro Rondón" || c.Organization != "El American" {
		t.Fatalf("Bio = %+v, %v", c, ok)
	}
	if _, ok := Bio("The company is a major player in the market for journalists."); ok {
		t.Error("prose read as a bio line")
	}
}

func TestKey(t *testing.T) {
	for _, n := range []string{"Emmanuel Alejandro Rondón", "emmanuel rondon", "Emmanuel A. Rondón", "EMMANUEL RONDÓN"} {
		if k := Key(n); k != "emmanuel-rondon" {
			t.Errorf("Key(%q) = %q", n, k)
		}
	}
	if k := Key("Enrico de Lazaro"); k != "enrico-de-lazaro" {
		t.Errorf("Key = %q", k)
	}
}

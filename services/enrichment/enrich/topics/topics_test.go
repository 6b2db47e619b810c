package topics

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct{ text, want string }{
		{"The quarterback threw three touchdowns as the team won the league game; the coach praised the players after the season's best match.", "medtop:15000000"},
		{"El gobierno y el presidente del partido anunciaron que las elecciones y la política del congreso cambiarán; el senador votó.", "medtop:11000000"},
		{"Patients at the hospital were treated for the virus; doctors said the vaccine and the treatment reduced symptoms of the disease.", "medtop:07000000"},
	}
	for _, tt := range tests {
		got := Classify(tt.text)
		if len(got) == 0 || got[0].Code != tt.want {
			t.Errorf("Classify(%.40q) = %+v, want %s first", tt.text, got, tt.want)
		}
	}
	if got := Classify("Nothing much here at all."); len(got) != 0 {
		t.Errorf("topics from nothing: %+v", got)
	}
}

func TestKeywords(t *testing.T) {
	text := "The lawsuit over the servers. The lawsuit says servers failed. A lawsuit, servers, servers."
	got := Keywords(text, 3, 2, map[string]bool{})
	if len(got) != 2 || got[0] != "servers" || got[1] != "lawsuit" {
		t.Errorf("Keywords = %v", got)
	}
}

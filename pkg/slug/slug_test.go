package slug

import "testing"

func TestMake(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Parler Sues Amazon For Taking Down Its Servers", 80, "parler-sues-amazon-for-taking-down-its-servers"},
		{"Emmanuel Alejandro Rondón", 80, "emmanuel-alejandro-rondon"},
		{"  ¿Qué pasó en Ñuñoa?  ", 80, "que-paso-en-nunoa"},
		{"Straße & Co.", 80, "strasse-co"},
		{"東京", 80, ""},
		{"one two three four", 9, "one-two"},
		{"", 10, ""},
	} {
		if got := Make(tc.in, tc.n); got != tc.want {
			t.Errorf("Make(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

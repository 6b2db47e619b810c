package lang

import "testing"

func TestDetect(t *testing.T) {
	tests := map[string]string{
		"en": "The mayor said on Monday that the city would not raise taxes this year, and that the budget was balanced.",
		"es": "El alcalde dijo el lunes que la ciudad no subirá los impuestos este año y que el presupuesto está equilibrado.",
		"fr": "Le maire a déclaré lundi que la ville n'augmenterait pas les impôts cette année et que le budget était équilibré.",
		"de": "Der Bürgermeister sagte am Montag, dass die Stadt die Steuern in diesem Jahr nicht erhöhen wird und der Haushalt ausgeglichen ist.",
		"pt": "O prefeito disse na segunda-feira que a cidade não vai aumentar os impostos este ano e que o orçamento está equilibrado.",
		"it": "Il sindaco ha detto lunedì che la città non aumenterà le tasse quest'anno e che il bilancio è in pareggio, come anche gli altri.",
	}
	for want, text := range tests {
		if got := Detect(text); got.Language != want || got.Confidence <= 0.5 {
			t.Errorf("Detect(%s text) = %+v", want, got)
		}
	}
	if got := Detect("12345 !!! ---"); got.Language != "" {
		t.Errorf("no words, language %q", got.Language)
	}
}

func TestHint(t *testing.T) {
	for text, want := range map[string]string{
		"[Leer en español]": "es", "Read in Spanish": "es", "English version": "en", "Lire en français": "fr",
		"Auf Deutsch lesen": "de", "Versión en español": "es", "Leia em português": "pt", "Leggi in italiano": "it",
	} {
		if got, ok := Hint(text); !ok || got != want {
			t.Errorf("Hint(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
	for _, text := range []string{"Read more", "Spanish officials said the vote was delayed", ""} {
		if got, ok := Hint(text); ok {
			t.Errorf("Hint(%q) = %q", text, got)
		}
	}
	if Normalize("en-US") != "en" || Normalize("pt_BR") != "pt" || Normalize("x") != "" {
		t.Error("Normalize")
	}
}

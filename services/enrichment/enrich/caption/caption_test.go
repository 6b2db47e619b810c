package caption

import "testing"

func TestSplit(t *testing.T) {
	tests := []struct{ in, caption, credit string }{
		{"Parler will engage in a legal battle against Amazon. (EFE)", "Parler will engage in a legal battle against Amazon.", "EFE"},
		{"The mayor speaks on Monday. Photo: Jane Doe/Getty Images", "The mayor speaks on Monday.", "Jane Doe/Getty Images"},
		{"The mayor speaks on Monday. AP Photo/John Roe", "The mayor speaks on Monday.", "AP Photo/John Roe"},
		{"Troops cross the river. REUTERS/Jane Doe", "Troops cross the river.", "Reuters/Jane Doe"},
		{"The old mill in 1920. Courtesy of the Smith family", "The old mill in 1920.", "Courtesy of the Smith family"},
		{"A view of the bay. © Jane Doe", "A view of the bay.", "© Jane Doe"},
		{"Fans cheer in the stands (Getty)", "Fans cheer in the stands", "Getty Images"},
		{"Rain on the and/or question of the day.", "Rain on the and/or question of the day.", ""},
		{"Players warm up (left to right)", "Players warm up (left to right)", ""},
	}
	for _, tt := range tests {
		c, cr, _ := Split(tt.in)
		if c != tt.caption || cr != tt.credit {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.in, c, cr, tt.caption, tt.credit)
		}
	}
}

func TestDeriveAlt(t *testing.T) {
	got := DeriveAlt("Parler will engage in a legal battle against Amazon. It also fights Big Tech. (EFE)")
	if got != "Parler will engage in a legal battle against Amazon." {
		t.Errorf("DeriveAlt = %q", got)
	}
}

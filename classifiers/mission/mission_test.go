package mission

import "testing"

func TestOf(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"The MINUSCA spokesperson denied the claim.", "MINUSCA"},
		{"Des casques bleus de la Monusco à Beni, puis la MINUSCA...", "MONUSCO"},
		{"#MINUSMAdehors les gens en ont marre", "MINUSMA"},
		{"قوات اليونيفيل في الجنوب", "UNIFIL"},
		{"La FINUL patrouille près de Naqoura.", "UNIFIL"},
		{"Market prices rose in Bangui.", ""},
		{"communism is not a mission", ""},
		{"an unmissable match in Juba", ""},
		{"Rapport: Minuscadehors", ""},
	} {
		if got := Of(tc.text); got != tc.want {
			t.Errorf("Of(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

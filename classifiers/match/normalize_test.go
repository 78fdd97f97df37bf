package match

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func words(t *Text) []string {
	var out []string
	for _, tk := range tokenize(t, nil, nil, false) {
		out = append(out, tk.s)
	}
	return out
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Les Casques Bleus de l'ONU", "les casques bleus de l onu"},
		{"Élection, déjà, Ködörö, Farânzi", "election deja kodoro faranzi"},
		{"#MinusmaDehors", "minusma dehors"},
		{"#MINUSMAOut now", "minusma out now"},
		{"#monuscodegage", "monusco degage"},
		{"#MONUSCOout now", "monusco out now"},
		{"#BeniBleeds", "beni bleeds"},
		{"MINUSMAAA noooo", "minusma no"},
		{"the UN said", "the onu said"},
		{"un casque bleu", "un casque bleu"},
		{"k1ll3rs c0ltan m23 3R", "killers coltan m23 3r"},
		{"pr les gens ki disent", "pour les gens qui disent"},
		{"الأُمَم المتّحدة", "الامم المتحده"},
		{"إسرائيل مستشفى", "اسراييل مستشفي"},
		{"الـــبعثة", "البعثه"},
		{"Œuvre ß", "oeuvre ss"},
	} {
		got := strings.Join(words(Normalize(tc.in)), " ")
		if got != tc.want {
			t.Errorf("Normalize(%q) words = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOffsetsPointIntoTheOriginal(t *testing.T) {
	for _, in := range []string{
		"MINUSMAAA a livré des ARMES!!! #MinusmaDehors",
		"الأُمَم المتّحدة تنشر الكوليرا عمداً",
		"Azo ti MINUSCA anzï lôr ti Beafrika ! 🇨🇫",
	} {
		tx := Normalize(in)
		for _, tk := range tokenize(tx, nil, nil, false) {
			a, b := tx.OrigSpan(int(tk.ns), int(tk.ne))
			if a < 0 || b > len(in) || a >= b {
				t.Fatalf("%q: token %q maps to bad span [%d,%d)", in, tk.s, a, b)
			}
			if !utf8.ValidString(in[a:b]) {
				t.Errorf("%q: token %q maps to invalid UTF-8 %q", in, tk.s, in[a:b])
			}
		}
	}
	tx := Normalize("MINUSMAAA vient")
	toks := tokenize(tx, nil, nil, false)
	if a, b := tx.OrigSpan(int(toks[0].ns), int(toks[0].ne)); tx.Orig[a:b] != "MINUSMAAA" {
		t.Errorf("elongated word maps to %q, want the whole original word", tx.Orig[a:b])
	}
}

func TestIdentify(t *testing.T) {
	for _, tc := range []struct{ text, hint, want string }{
		{"The peacekeepers said that they were leaving the town.", "", "en"},
		{"Les Casques bleus ont dit qu'ils quittaient la ville.", "", "fr"},
		{"قالت البعثة إنها ستغادر المدينة", "", "ar"},
		{"Walinda amani wamesema kwamba wataondoka mjini kesho.", "", "sw"},
		{"Bandeko, ba casques bleus bazali kokende lelo te.", "", "ln"},
		{"Asoda ti MINUSCA ayeke gue na ködörö ti âla pëpe.", "", "sg"},
		{"MONUSCO dehors !", "fr", "fr"},
		{"Ils nous prennent pr des cons, Ala ka an kisi", "fr", "fr"},
		{"el UNIFIL 3ayshin 3a ardna", "ar", "ar"},
	} {
		if got := Identify(tc.text, tc.hint); got != tc.want {
			t.Errorf("Identify(%q, %q) = %s, want %s", tc.text, tc.hint, got, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"#MinusmaDehors", "MINUSMAAA", "الأُمَم", "k1ll", "é\u0301", "\xff\xfe", "a#B", "ـــ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tx := Normalize(s)
		if len(tx.start) != len(tx.Norm) || len(tx.end) != len(tx.Norm) {
			t.Fatalf("map lengths %d/%d for %d norm bytes", len(tx.start), len(tx.end), len(tx.Norm))
		}
		prev := int32(0)
		for i := range tx.Norm {
			a, b := tx.start[i], tx.end[i]
			if a < 0 || b > int32(len(s)) || a > b || a < prev {
				t.Fatalf("byte %d maps to [%d,%d) (prev start %d) in %d bytes", i, a, b, prev, len(s))
			}
			prev = a
		}
		for _, tk := range tokenize(tx, nil, nil, false) {
			a, b := tx.OrigSpan(int(tk.ns), int(tk.ne))
			if a > b || b > len(s) {
				t.Fatalf("token %q maps to [%d,%d)", tk.s, a, b)
			}
			if utf8.ValidString(s) && !utf8.ValidString(s[a:b]) {
				t.Fatalf("token %q maps to invalid UTF-8", tk.s)
			}
		}
	})
}

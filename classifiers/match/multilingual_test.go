package match_test

import (
	"testing"

	"github.com/veille-project/veille/classifiers/match"
)

// TestMultilingual runs sentences written for this package in Arabic (MSA,
// Sahelian and Sudanese dialect, Levantine, Arabizi), Swahili, Lingala and
// Sango: mission names as people say them, dialect verbs of giving,
// dropping, stealing, poisoning and filming, local stance cues, and hard
// negatives (peacekeepers killed, mission radio, withdrawals, criticism of
// performance, news without the mission). Every item must get exactly its
// labels.
func TestMultilingual(t *testing.T) {
	langs := map[string]int{}
	for _, it := range exactLabels(t, "testdata/multilingual.jsonl", 60) {
		langs[it.Lang]++
	}
	for _, l := range []string{"ar", "sw", "ln", "sg"} {
		if langs[l] < 10 {
			t.Errorf("multilingual.jsonl: %d %s items, want at least 10", langs[l], l)
		}
	}
}

// TestArabiziTerms checks that lexicon terms written with Arabizi digits
// ("mousala7in", "y3atu") match the text however the tokenizer folds the
// digits between letters.
func TestArabiziTerms(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct {
		text, narrative string
		want            bool
	}{
		{"wallah el 2ouwat el dawliye 3am y3atu slee7 la l mousala7in bel leil.", "weapons-to-armed-groups", true},
		{"el UNIFIL 3am ysawro l byout w bya3to kel shi la Isra2il, ya3ni jawasis.", "regime-destabilisation", true},
		{"el 2ouwat el dawliye 3am ysa3do l nas bel leil ba3d el 3asfe.", "weapons-to-armed-groups", false},
	} {
		res := classify(t, m, tc.text, "ar")
		if _, ok := find(res, tc.narrative); ok != tc.want {
			t.Errorf("%q: %s flagged %v, want %v (%+v)", tc.text, tc.narrative, ok, tc.want, res.Flags)
		}
	}
}

// TestNaIsNotAlwaysBy checks that Swahili, Lingala and Sango "na" marks
// the doer only after a passive verb: "with" and "to" keep the mission as
// the one who acts.
func TestNaIsNotAlwaysBy(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct {
		text, lang, narrative string
		want                  bool
	}{
		{"Aturugu ti MINUSCA ayeke te kobe oko na a-rebelle.", "sg", "collusion-with-terrorists", true},
		{"Ba casques bleus bazali baninga na ba ADF.", "ln", "collusion-with-terrorists", true},
		// A passive verb: the group is the doer.
		{"Raia watano waliuawa na waasi karibu na kambi ya MONUSCO.", "sw", "attacks-on-civilians", false},
	} {
		res := classify(t, m, tc.text, tc.lang)
		if _, ok := find(res, tc.narrative); ok != tc.want {
			t.Errorf("%q: %s flagged %v, want %v (%+v)", tc.text, tc.narrative, ok, tc.want, res.Flags)
		}
	}
}

// TestNegationAfterTheVerb checks Lingala "te" and Sango "pëpe", which
// follow the verb and its object, refute the claim.
func TestNegationAfterTheVerb(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct {
		text, lang, narrative, want string
	}{
		{"Ba casques bleus bakimaki te na Kiwanja; babundaki mpe babikisaki bato.", "ln", "abandonment-of-civilians", "debunk"},
		{"Ba casques bleus bakimaki na Kiwanja, batiki biso na maboko ya M23.", "ln", "abandonment-of-civilians", "assert"},
		{"Police atene so MINUSCA agbû molenge so pëpe, molenge ni ayeke na da ti ita ti lo.", "sg", "child-abduction-organ-trafficking", "debunk"},
		{"Aturugu ti MINUSCA agbû molenge so na Bimbo.", "sg", "child-abduction-organ-trafficking", "assert"},
		{"MINUSCA amû ngombe na a-rebelle äpe, a-rebelle avo ngombe na Soudan.", "sg", "weapons-to-armed-groups", "debunk"},
	} {
		res := classify(t, m, tc.text, tc.lang)
		f, ok := find(res, tc.narrative)
		if !ok {
			t.Errorf("%q: no %s flag (%+v)", tc.text, tc.narrative, res.Flags)
			continue
		}
		if f.Stance != tc.want {
			t.Errorf("%q: stance %s, want %s", tc.text, f.Stance, tc.want)
		}
	}
}

// TestArabicDoerAfterTheVerb checks that a plural doer in the nominative
// right after an Arabic verb is the one who acts ("قتل المسلحون"), while
// the "-ين" form is the verb's object ("تحمي الإرهابيين").
func TestArabicDoerAfterTheVerb(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct {
		text, narrative string
		want            bool
	}{
		{"قتل المسلحون عشرة مدنيين في القرية قرب قاعدة البعثة.", "attacks-on-civilians", false},
		{"قتل جنود البعثة عشرة مدنيين في القرية.", "attacks-on-civilians", true},
		{"المينوسما جات تحمي الإرهابيين في كيدال.", "collusion-with-terrorists", true},
	} {
		res := classify(t, m, tc.text, "ar")
		if _, ok := find(res, tc.narrative); ok != tc.want {
			t.Errorf("%q: %s flagged %v, want %v (%+v)", tc.text, tc.narrative, ok, tc.want, res.Flags)
		}
	}
}

// TestIdentifyBantuAndArabizi checks that "na", common to Swahili, Lingala
// and Sango, does not pull Swahili and Lingala texts to Sango, and that
// Arabizi keeps its declared Arabic against French and English.
func TestIdentifyBantuAndArabizi(t *testing.T) {
	for _, tc := range []struct{ text, hint, want string }{
		{"MONUSCO nde ememaki bokono ya Ebola na Beni.", "ln", "ln"},
		{"MONUSCO ekabi base na yango na FARDC na Bunia.", "ln", "ln"},
		{"Walinda amani wawili wameuawa na waasi karibu na Sake.", "sw", "sw"},
		{"MONUSCO na M23 ni marafiki, wanakula pamoja na kunywa pamoja.", "sw", "sw"},
		{"Aturugu ti MINUSCA amû ngombe na a-rebelle na Bambari.", "sg", "sg"},
		{"la MINUSMA hiya el jabat el corona lel bilad.", "ar", "ar"},
		{"el UNIFIL 3am ysawro l byout w bya3to kel shi la Isra2il.", "ar", "ar"},
		{"La MINUSMA a livré des armes aux jihadistes à Kidal, selon des habitants.", "fr", "fr"},
	} {
		if got := match.Identify(tc.text, tc.hint); got != tc.want {
			t.Errorf("Identify(%q, %q) = %s, want %s", tc.text, tc.hint, got, tc.want)
		}
	}
}

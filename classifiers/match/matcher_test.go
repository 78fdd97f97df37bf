package match_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/transcript"
	"github.com/veille-project/veille/pipeline/parse"
)

func TestStance(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct {
		text, lang, narrative, want string
	}{
		{"MINUSCA soldiers sold guns to the rebels in Kaga-Bandoro, I saw it.", "en", "weapons-to-armed-groups", "assert"},
		{"Residents accused MINUSCA soldiers of selling guns to the rebels, a claim the mission has not answered.", "en", "weapons-to-armed-groups", "report"},
		{"MINUSCA denied that its soldiers sold guns to the rebels and opened an inquiry into the rumour.", "en", "weapons-to-armed-groups", "debunk"},
		{"Fact check: the claim that MINUSCA soldiers sold guns to the rebels is false.", "en", "weapons-to-armed-groups", "debunk"},
		{"Des habitants affirment que les Casques bleus auraient enlevé des enfants à Bria.", "fr", "child-abduction-organ-trafficking", "report"},
		{"Intox : les Casques bleus n'ont enlevé aucun enfant à Bria, la police a retrouvé les deux garçons chez leur tante.", "fr", "child-abduction-organ-trafficking", "debunk"},
		{"Non, la MONUSCO n'a pas apporté Ebola à Beni.", "fr", "deliberate-disease-spread", "debunk"},
		{"Ni kweli, walinda amani wanawapa waasi silaha!", "sw", "weapons-to-armed-groups", "assert"},
		{"Si kweli kwamba walinda amani wanawapa waasi silaha.", "sw", "weapons-to-armed-groups", "debunk"},
		// French brackets the verb with "ne … pas/aucun/jamais", clitics aside;
		// "ne … que" restricts and keeps the claim.
		{"Les Casques bleus ne leur livrent jamais d'armes : les rebelles les achètent au Soudan.", "fr", "weapons-to-armed-groups", "debunk"},
		{"La MONUSCO n'exploite aucune mine d'or au Kivu.", "fr", "resource-exploitation", "debunk"},
		{"La Monusco ne fait qu'exploiter notre coltan.", "fr", "resource-exploitation", "assert"},
		// Sango and Lingala negate after the verb.
		{"MINUSCA amû ngombe na a-rebelle pëpe.", "sg", "weapons-to-armed-groups", "debunk"},
		{"MONUSCO ememaki Ebola na Beni te.", "ln", "deliberate-disease-spread", "debunk"},
		{"MINUSCA amû ngombe na a-rebelle na bï.", "sg", "weapons-to-armed-groups", "assert"},
		// A named forgery is the claim's substance, not a verdict on it.
		{"Les Casques bleus ont escorté des urnes pleines de faux bulletins jusqu'à la CENI.", "fr", "election-manipulation", "assert"},
		// A leading verdict lets the real event it names stand beside the claim.
		{"Non, la MINUSMA n'a pas livré d'armes aux jihadistes : la vidéo montre une cérémonie de désarmement.", "fr", "weapons-to-armed-groups", "debunk"},
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

func TestEvidenceIsAnExactSubstring(t *testing.T) {
	m := newMatcher(t)
	texts := []string{
		"🚨🚨 URGENT!!! Les Casques Bleus de la MINUSCAAA ont livré des ARMES aux rebelles à Kabo… #MinuscaDehors",
		"والله البعثة الأمميّة تعطي السلاح للمسلحين في الليل",
		"Oicha: 20 morts et la base de la MONUSCO est à 2 km. Ils ont entendu les cris et ils n'ont pas bougé.",
	}
	for _, text := range texts {
		res := classify(t, m, text, "")
		if len(res.Flags) == 0 {
			t.Errorf("%q: no flag", text)
		}
		for _, f := range res.Flags {
			for _, ev := range f.Evidence {
				if ev.Start < 0 || ev.End > len(text) || ev.Start >= ev.End {
					t.Fatalf("%q: evidence [%d,%d) out of range", text, ev.Start, ev.End)
				}
				if text[ev.Start:ev.End] != ev.Text {
					t.Errorf("text[%d:%d] = %q, evidence says %q", ev.Start, ev.End, text[ev.Start:ev.End], ev.Text)
				}
				if !utf8.ValidString(ev.Text) {
					t.Errorf("evidence %q is not valid UTF-8", ev.Text)
				}
				if n := len(strings.Fields(ev.Text)); n > 40 {
					t.Errorf("evidence of %d words is not a clause: %q", n, ev.Text)
				}
			}
		}
	}
}

func TestTranscriptClaimAcrossCues(t *testing.T) {
	data, err := os.ReadFile("../transcript/testdata/callin.vtt")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parse.ParseVTT(data)
	if err != nil {
		t.Fatal(err)
	}
	cues := tr.Cues
	m := newMatcher(t)
	res, err := m.Classify(context.Background(), transcript.Doc("callin", "en", cues))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]classifiers.Flag{}
	for _, fl := range res.Flags {
		got[fl.Narrative+":"+fl.Stance] = fl
	}
	as, ok := got["weapons-to-armed-groups:assert"]
	if !ok {
		t.Fatalf("the caller's claim split over two cues was not found: %+v", res.Flags)
	}
	ev := as.Evidence[0]
	if ev.CueStart != 605000 || ev.CueEnd != 612800 {
		t.Errorf("assert evidence cues [%d,%d], want [605000,612800] (%q)", ev.CueStart, ev.CueEnd, ev.Text)
	}
	db, ok := got["weapons-to-armed-groups:debunk"]
	if !ok {
		t.Fatalf("the host's denial was not found as a debunk: %+v", res.Flags)
	}
	if db.Evidence[0].CueStart != 613600 {
		t.Errorf("debunk evidence starts at %d, want the host's cue 613600", db.Evidence[0].CueStart)
	}
}

func TestSwapIsAtomicAndAddsNarratives(t *testing.T) {
	m := newMatcher(t)
	text := "The blue helmets are hoarding all the diesel in Bunia, that is why the pumps are dry."
	if res := classify(t, m, text, "en"); len(res.Flags) != 0 {
		t.Fatalf("flags before the new narrative: %+v", res.Flags)
	}
	extra, err := catalog.LoadDir("../catalog/testdata/extra")
	if err != nil {
		t.Fatal(err)
	}
	oldVersion := m.Version()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Classify(context.Background(), classifiers.Doc{Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	if err := m.Swap(extra); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if m.Version() == oldVersion {
		t.Error("version unchanged after Swap")
	}
	if _, ok := find(classify(t, m, text, "en"), "hoarding-fuel"); !ok {
		t.Error("the swapped-in narrative does not match")
	}
	if err := m.Swap(nil); err == nil {
		t.Error("Swap(nil) should fail")
	}
	if _, ok := find(classify(t, m, text, "en"), "hoarding-fuel"); !ok {
		t.Error("a failed Swap must keep the previous catalog")
	}
}

func TestClassifyHonoursContext(t *testing.T) {
	m := newMatcher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Classify(ctx, classifiers.Doc{Text: "x"}); err == nil {
		t.Error("Classify with a cancelled context should fail")
	}
}

func TestEntitiesOnlyWhenAsked(t *testing.T) {
	text := "In Bangui, MINUSCA soldiers sold rifles to the UPC rebels near Bambari, residents told Radio Ndeke Luka."
	plain := newMatcher(t)
	f, ok := find(classify(t, plain, text, "en"), "weapons-to-armed-groups")
	if !ok {
		t.Fatal("no flag")
	}
	if len(f.Entities) != 0 {
		t.Errorf("entities without the option: %v", f.Entities)
	}
	m, err := match.New(catalog.Default(), match.WithEntities())
	if err != nil {
		t.Fatal(err)
	}
	f, _ = find(classify(t, m, text, "en"), "weapons-to-armed-groups")
	if len(f.Entities) == 0 {
		t.Error("no entities with WithEntities")
	}
	t.Logf("entities: %v", f.Entities)
}

// FuzzClassify checks that any text, with or without cues, classifies
// without panicking and yields evidence that is an exact substring.
func FuzzClassify(f *testing.F) {
	for _, tc := range narrativeCases[:12] {
		f.Add(tc.text, uint8(0))
	}
	f.Add("Les Casques bleus\nont livré des armes\naux rebelles", uint8(3))
	f.Add("\xff#MINUSMAAA\u0301 ـــ", uint8(2))
	m := newMatcher(f)
	f.Fuzz(func(t *testing.T, text string, ncues uint8) {
		doc := classifiers.Doc{Text: text}
		if n := int(ncues % 5); n > 0 && len(text) > 0 {
			for i := range n {
				off := i * len(text) / n
				doc.Cues = append(doc.Cues, classifiers.Cue{Start: int64(i * 1000), End: int64(i*1000 + 900), Offset: off, Speaker: []string{"Host", "Caller 1"}[i%2]})
			}
		}
		res, err := m.Classify(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range res.Flags {
			for _, ev := range fl.Evidence {
				if ev.Start < 0 || ev.End > len(text) || ev.Start > ev.End || text[ev.Start:ev.End] != ev.Text {
					t.Fatalf("bad evidence %+v for %q", ev, text)
				}
			}
		}
	})
}

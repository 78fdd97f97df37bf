package learn_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/train"
)

func matcher(t *testing.T) *match.Matcher {
	t.Helper()
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func trainingExamples(t *testing.T) []learn.Example {
	t.Helper()
	items, err := train.Load()
	if err != nil {
		t.Fatal(err)
	}
	return learn.FromItems(items)
}

// small trains a quick model on a slice of the training data.
func small(t *testing.T, m *match.Matcher, exs []learn.Example, seed uint64) *learn.Model {
	t.Helper()
	cfg := learn.DefaultConfig
	cfg.Seed, cfg.Epochs, cfg.Folds = seed, 3, 2
	tr := &learn.Trainer{Matcher: m, Narratives: m.Catalog().IDs(), Config: cfg}
	model, cv, err := tr.Train(context.Background(), exs)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Threshold <= 0 || cv.Threshold >= 1 {
		t.Fatalf("threshold %v out of (0, 1)", cv.Threshold)
	}
	return model
}

func TestTrainingIsReproducible(t *testing.T) {
	m := matcher(t)
	exs := trainingExamples(t)
	exs = exs[:min(len(exs), 400)]
	a, b := small(t, m, exs, 7), small(t, m, exs, 7)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("same data and seed gave different models (%s, %s)", a.Version(), b.Version())
	}
	if c := small(t, m, exs, 8); bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("another seed gave the same bytes: the seed is not used")
	}
	if _, err := learn.Decode(a.Bytes()); err != nil {
		t.Fatalf("decode what was encoded: %v", err)
	}
}

func TestShippedModelIsTrainedOnTheShippedData(t *testing.T) {
	model, err := learn.Default()
	if err != nil {
		t.Fatal(err)
	}
	exs := trainingExamples(t)
	if got, want := model.Data, learn.Digest(exs); got != want {
		t.Fatalf("built-in model %s was trained on data %s, the project's training data is %s: run make model", model.Version(), got, want)
	}
	if model.Items != len(exs) {
		t.Fatalf("built-in model saw %d items, training data has %d", model.Items, len(exs))
	}
}

func TestDecodeRefusesBadBytes(t *testing.T) {
	model, err := learn.Default()
	if err != nil {
		t.Fatal(err)
	}
	good := model.Bytes()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte("hello"),
		"truncated": good[:len(good)/2],
	} {
		if _, err := learn.Decode(b); !errors.Is(err, learn.ErrBadModel) {
			t.Errorf("%s: Decode = %v, want ErrBadModel", name, err)
		}
	}
}

func TestFlagsCarryCalibratedScoresAndTrueSpans(t *testing.T) {
	model, err := learn.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := learn.New(matcher(t), model)
	low := c.WithLayer(learn.Both)
	low.SetThreshold(0.2)
	ctx := context.Background()
	modelOnly := 0
	for i, ex := range trainingExamples(t) {
		if i%7 != 0 {
			continue
		}
		doc := classifiers.Doc{ID: ex.ID, Text: ex.Text, Lang: ex.Lang}
		all, err := low.Classify(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		def, err := c.Classify(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		kept := map[string]bool{}
		for _, f := range all.Flags {
			if f.Score < 0.2 || f.Score > 1 {
				t.Fatalf("%s: %s scored %v, below the threshold it passed", ex.ID, f.Narrative, f.Score)
			}
			if f.Score >= c.Threshold() {
				kept[f.Narrative] = true
			}
			for _, ev := range f.Evidence {
				if ev.Start < 0 || ev.End > len(ex.Text) || ex.Text[ev.Start:ev.End] != ev.Text {
					t.Fatalf("%s: evidence [%d:%d] %q does not index the text", ex.ID, ev.Start, ev.End, ev.Text)
				}
				if len(ev.Rule) > 6 && ev.Rule[:6] == "model " {
					modelOnly++
				}
			}
		}
		for _, f := range def.Flags {
			if !kept[f.Narrative] {
				t.Fatalf("%s: %s flagged at the default threshold but not kept from the low one", ex.ID, f.Narrative)
			}
		}
	}
	if modelOnly == 0 {
		t.Fatal("no flag came from the model alone: the learned layer adds nothing")
	}
}

func TestSwapChangesTheModelInUse(t *testing.T) {
	m := matcher(t)
	c := learn.New(m, nil)
	if c.Version() != m.Version() {
		t.Fatalf("rules-only version %q, want the matcher's %q", c.Version(), m.Version())
	}
	model, err := learn.Default()
	if err != nil {
		t.Fatal(err)
	}
	c.Swap(model)
	if want := m.Version() + "+" + model.Version(); c.Version() != want {
		t.Fatalf("version after swap %q, want %q", c.Version(), want)
	}
	if c.Threshold() != model.Threshold {
		t.Fatalf("threshold %v, want the model's %v", c.Threshold(), model.Threshold)
	}
	c.SetThreshold(0.9)
	if c.Threshold() != 0.9 {
		t.Fatalf("threshold %v after SetThreshold(0.9)", c.Threshold())
	}
}

func TestOpenRefusesAModelForAnotherCatalog(t *testing.T) {
	if _, err := learn.Open(matcher(t), "no/such/model.bin.gz", 0); err == nil {
		t.Fatal("Open with a missing model file succeeded")
	}
	c, err := learn.Open(matcher(t), "rules", 0)
	if err != nil || c.Model() != nil {
		t.Fatalf("Open(rules) = %v, %v; want a rules-only classifier", c, err)
	}
}

// TestNarrativesTheModelDoesNotKnowKeepTheirRuleFlags adds a narrative to
// the catalog, as an analyst or a promoted rumour does: the model was not
// trained on it, and the rules' flag for it comes through.
func TestNarrativesTheModelDoesNotKnowKeepTheirRuleFlags(t *testing.T) {
	cat, err := catalog.LoadDir(filepath.Join("..", "..", "testdata", "catalog-example"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	c, err := learn.Open(m, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := classifiers.Doc{Text: "MINUSCA is buying up all the diesel in Bangui to cause a shortage", Lang: "en"}
	rules, err := m.Classify(context.Background(), doc)
	if err != nil || len(rules.Flags) == 0 {
		t.Fatalf("the catalog example's rule does not fire: %v %+v", err, rules)
	}
	res, err := c.Classify(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Flags, func(f classifiers.Flag) bool { return f.Narrative == rules.Flags[0].Narrative }) {
		t.Fatalf("flags %+v lack the rules' %s", res.Flags, rules.Flags[0].Narrative)
	}
}

// TestHearsayMeansTheSameInEveryLanguage: a post that opens with an
// impersonal "they say" passes the claim on, in any of the six languages;
// relayed with the mission's denial, it is a report.
func TestHearsayMeansTheSameInEveryLanguage(t *testing.T) {
	c, err := learn.Open(matcher(t), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, text, want string }{
		{"fr", "On dit que les casques bleus livrent des armes aux rebelles la nuit.", "assert"},
		{"en", "People say the peacekeepers give weapons to the rebels at night.", "assert"},
		{"sw", "Wanasema walinda amani wanawapa waasi silaha usiku.", "assert"},
		{"ln", "Bato balobi ete ba casques bleus bapesaka ba rebelles mindoki na butu.", "assert"},
		{"ar", "يقولون إن قوات حفظ السلام تعطي السلاح للمتمردين في الليل.", "assert"},
		{"sg", "Azo atene so aturugu ti ONU amû ngombe na a rebelle na bï.", "assert"},
		{"sw", "Wanasema walinda amani wanawapa waasi silaha usiku, lakini MONUSCO imekanusha madai hayo.", "report"},
	} {
		res, err := c.Classify(context.Background(), classifiers.Doc{Text: tc.text, Lang: tc.lang})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Flags {
			if f.Narrative == "weapons-to-armed-groups" {
				got = append(got, f.Stance)
			}
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s %q: stances %v, want %s", tc.lang, tc.text, got, tc.want)
		}
	}
}

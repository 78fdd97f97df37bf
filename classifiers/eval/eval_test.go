package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/parse"
)

// fixed returns the flags it was given for each item id.
type fixed map[string][]classifiers.Flag

func (f fixed) Classify(_ context.Context, d classifiers.Doc) (classifiers.Result, error) {
	return classifiers.Result{Lang: "en", Flags: f[d.ID]}, nil
}
func (fixed) Version() string { return "fixed" }

func TestScoring(t *testing.T) {
	text := "They say MINUSMA drops weapons. Nothing else here."
	items := []eval.Item{
		{ID: "a", Lang: "en", Text: text, Labels: []eval.Label{{Narrative: "weapons-to-armed-groups", Stance: "assert", Evidence: []string{"MINUSMA drops weapons"}}}},
		{ID: "b", Lang: "en", Text: "Rice is expensive."},
		{ID: "c", Lang: "en", Text: "Rice is cheap."},
		{ID: "d", Lang: "en", Text: text, Labels: []eval.Label{{Narrative: "collusion-with-terrorists", Stance: "report", Evidence: []string{"Nothing else"}}}},
	}
	c := fixed{
		"a": {{Narrative: "weapons-to-armed-groups", Stance: "report", Evidence: []classifiers.Evidence{{Start: 9, End: 30}, {Start: 32, End: 39}}}},
		"b": {{Narrative: "attacks-on-civilians", Stance: "assert"}},
	}
	rep, err := eval.Run(context.Background(), c, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Overall
	if o.TP != 1 || o.FP != 1 || o.FN != 1 {
		t.Errorf("tp/fp/fn = %d/%d/%d, want 1/1/1", o.TP, o.FP, o.FN)
	}
	if o.StanceAcc != 0 {
		t.Errorf("stance accuracy %.2f, want 0 (report for assert)", o.StanceAcc)
	}
	if o.FPRate != 0.5 {
		t.Errorf("FP rate %.2f, want 0.5 (one of two unlabelled items flagged)", o.FPRate)
	}
	if o.EvidenceOK != 0.5 {
		t.Errorf("evidence overlap %.2f, want 0.5", o.EvidenceOK)
	}
	bad := rep.Check(eval.DefaultTargets)
	if len(bad) == 0 || !strings.Contains(strings.Join(bad, ";"), "en micro-F1") {
		t.Errorf("Check = %v, want the en micro-F1 named", bad)
	}
}

// TestDevCorpusMeetsTargets runs the real matcher on the shared dev corpus
// and holds it to the project's figures.
func TestDevCorpusMeetsTargets(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "corpus")
	var items []eval.Item
	for _, f := range []string{"dev-en.jsonl", "dev-fr.jsonl", "dev-multi.jsonl"} {
		it, err := eval.LoadJSONL(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it...)
	}
	trs, err := eval.LoadTranscripts(filepath.Join(dir, "transcripts"), readCues)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) < 300 || len(trs) < 10 {
		t.Fatalf("loaded %d items and %d transcripts", len(items), len(trs))
	}
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Run(context.Background(), m, items, trs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Write(&b, 0)
	t.Log("\n" + b.String())
	t.Logf("transcripts micro-F1 %.3f over (file, narrative, stance)", rep.Transcripts.F1)
	targets := eval.DefaultTargets
	targets.Transcripts = 0.75 // guards regressions on the dev transcripts; not a release gate
	for _, bad := range rep.Check(targets) {
		t.Error("below target: " + bad)
	}
}

func TestLoadRefusesWhatCannotBeScored(t *testing.T) {
	for name, tc := range map[string]struct{ body, says string }{
		"empty file":      {"", "no items"},
		"unknown stance":  {`{"id":"x","lang":"en","text":"t","labels":[{"narrative":"foreign-occupation","stance":"maybe","evidence":["a b c"]}]}` + "\n", "unknown stance"},
		"invalid UTF-8":   {"{\"id\":\"x\",\"lang\":\"en\",\"text\":\"h\xff\"}\n", "invalid UTF-8"},
		"no text":         {`{"id":"x","lang":"en"}` + "\n", "needs an id and a text"},
		"not JSON at all": {"hello\n", "invalid character"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "items.jsonl")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := eval.LoadJSONL(p)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("LoadJSONL = %v, want an error saying %q", err, tc.says)
			}
		})
	}
	items := []eval.Item{{ID: "x", Labels: []eval.Label{{Narrative: "not-a-narrative", Stance: "assert"}}}}
	if err := eval.CheckNarratives(items, []string{"foreign-occupation"}); err == nil || !strings.Contains(err.Error(), "not-a-narrative") {
		t.Fatalf("CheckNarratives = %v, want the unknown narrative named", err)
	}
}

// TestF1AtTargetPasses: 12 found, 1 false, 7 missed is micro-F1 0.75
// exactly, and a 0.75 target accepts it.
func TestF1AtTargetPasses(t *testing.T) {
	var items []eval.Item
	c := fixed{}
	for i := 0; i < 19; i++ {
		id := strings.Repeat("x", i+1)
		items = append(items, eval.Item{ID: id, Lang: "ar", Text: "نص عن البعثة", Labels: []eval.Label{{Narrative: "weapons-to-armed-groups", Stance: "assert", Evidence: []string{"نص عن البعثة"}}}})
		if i < 12 {
			c[id] = []classifiers.Flag{{Narrative: "weapons-to-armed-groups", Stance: "assert", Evidence: []classifiers.Evidence{{Start: 0, End: len("نص عن البعثة")}}}}
		}
	}
	items = append(items, eval.Item{ID: "clean", Lang: "ar", Text: "نص آخر"})
	c["clean"] = []classifiers.Flag{{Narrative: "attacks-on-civilians", Stance: "assert"}}
	rep, err := eval.Run(context.Background(), c, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.ByLang["ar"]; s.TP != 12 || s.FP != 1 || s.FN != 7 || s.F1 != 0.75 {
		t.Fatalf("tp/fp/fn %d/%d/%d F1 %v, want 12/1/7 and 0.75", s.TP, s.FP, s.FN, s.F1)
	}
	tg := eval.Targets{F1Multi: 0.75, F1EnFr: 0.75}
	for _, b := range rep.Check(tg) {
		if strings.Contains(b, "micro-F1") {
			t.Errorf("Check(F1 0.75) = %q for a micro-F1 of exactly 0.75", b)
		}
	}
}

// readCues reads transcripts as the ingest stage does.
func readCues(data []byte) ([]classifiers.Cue, error) {
	t, err := parse.ParseVTT(data)
	if err != nil {
		return nil, err
	}
	return t.Cues, nil
}

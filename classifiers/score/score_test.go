package score_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/score"
)

func toyExamples() []score.Example {
	var ex []score.Example
	for range 10 {
		ex = append(ex,
			score.Example{Text: "The blue helmets hoard the diesel of the town", Narratives: []string{"hoarding"}},
			score.Example{Text: "Peacekeepers are hoarding petrol and diesel again", Narratives: []string{"hoarding"}},
			score.Example{Text: "The market sells rice and beans this week"},
			score.Example{Text: "Football match on Sunday at the stadium"},
		)
	}
	return ex
}

func TestTrainSaveLoadScore(t *testing.T) {
	m := score.Train(toyExamples(), []string{"hoarding", "unseen"}, 8)
	if _, ok := m.Narratives["unseen"]; ok {
		t.Error("a narrative without examples should not get a model")
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := score.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pos := back.Score(match.Words("UN peacekeepers hoard diesel"))["hoarding"]
	neg := back.Score(match.Words("rice and beans at the market"))["hoarding"]
	if pos < 0.8 || neg > 0.2 {
		t.Errorf("p(hoarding) = %.2f on a positive, %.2f on a negative", pos, neg)
	}
}

func TestLoadRejectsBadModels(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"junk.json": "{", "empty.json": `{"version":1,"dim":262144,"narratives":{}}`} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := score.Load(p); !errors.Is(err, score.ErrBadModel) {
			t.Errorf("Load(%s) = %v, want ErrBadModel", name, err)
		}
	}
}

func TestCombinedNeedsTheMission(t *testing.T) {
	rules, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	c := &score.Combined{Rules: rules, Model: score.Train(toyExamples(), []string{"hoarding"}, 8), Threshold: 0.8, Layer: score.Both}
	ctx := context.Background()
	res, err := c.Classify(ctx, classifiers.Doc{Text: "MONUSCO peacekeepers hoard the diesel of Goma.", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flags) != 1 || res.Flags[0].Narrative != "hoarding" || len(res.Flags[0].Evidence) != 1 {
		t.Fatalf("flags = %+v, want one hoarding flag with evidence", res.Flags)
	}
	ev := res.Flags[0].Evidence[0]
	if got := "MONUSCO peacekeepers hoard the diesel of Goma."[ev.Start:ev.End]; got != ev.Text {
		t.Errorf("evidence %q is not text[%d:%d] = %q", ev.Text, ev.Start, ev.End, got)
	}
	res, _ = c.Classify(ctx, classifiers.Doc{Text: "Traders hoard the diesel of Goma.", Lang: "en"})
	if len(res.Flags) != 0 {
		t.Errorf("model flag without a mission mention: %+v", res.Flags)
	}
}

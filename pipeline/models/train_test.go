package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/train"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/storage"
)

// smallConfig trains in seconds, for tests: the gate compares models
// trained the same way, so their figures are comparable.
func smallConfig() learn.Config {
	cfg := learn.DefaultConfig
	cfg.Folds, cfg.Epochs = 2, 5
	return cfg
}

// world is a small active model's training data and a disjoint set of
// texts to review, both taken from the project's training data.
type world struct {
	m      *match.Matcher
	base   []eval.Item
	review []eval.Item
	active *learn.Model
}

// newWorldData samples the data without training the active model.
func newWorldData(t *testing.T) *world {
	t.Helper()
	all, err := train.Load()
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{m: m}
	for i := 0; i < len(all); i += 13 {
		w.base = append(w.base, all[i])
		if i+6 < len(all) {
			w.review = append(w.review, all[i+6])
		}
	}
	return w
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := newWorldData(t)
	var err error
	tr := &learn.Trainer{Matcher: w.m, Narratives: w.m.Catalog().IDs(), Config: smallConfig()}
	if w.active, _, err = tr.Train(context.Background(), learn.FromItems(w.base)); err != nil {
		t.Fatal(err)
	}
	return w
}

// reviewed turns labelled texts into stored decisions, one item a minute:
// each gold label confirmed (relabel may change them first).
func reviewed(items []eval.Item, relabel func(eval.Item) []eval.Label) []storage.ReviewedItem {
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var out []storage.ReviewedItem
	for i, it := range items {
		labels := it.Labels
		if relabel != nil {
			labels = relabel(it)
		}
		ri := storage.ReviewedItem{Item: storage.Item{ID: it.ID, Text: it.Text, Lang: it.Lang}, Decided: at.Add(time.Duration(i) * time.Minute)}
		for _, l := range labels {
			ri.Decisions = append(ri.Decisions, storage.Decision{Narrative: l.Narrative, Stance: l.Stance, Decision: storage.DecisionConfirm, At: ri.Decided})
		}
		if len(labels) == 0 {
			// A rejected flag: the item is a negative.
			ri.Decisions = append(ri.Decisions, storage.Decision{Narrative: "weapons-to-armed-groups", Stance: "assert", Decision: storage.DecisionFalsePositive, At: ri.Decided})
		}
		out = append(out, ri)
	}
	return out
}

// TestGatePassesHonestReviewsRefusesMislabelled: a candidate trained on
// the active model's data plus honest reviews passes the gate, measured on
// the blind split and on the newest fifth of the reviews, which it never
// saw; one trained on reviews where one narrative's labels are flipped is
// refused, and the report names that narrative.
func TestGatePassesHonestReviewsRefusesMislabelled(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	honest := reviewed(w.review, nil)
	cand, rep, err := models.Train(ctx, models.TrainOptions{Matcher: w.m, Base: w.base, Reviewed: honest, Active: w.active, Config: smallConfig(), Tolerance: gate.DefaultTolerance})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	rep.Write(&sb)
	t.Logf("honest reviews:\n%s", sb.String())
	hold := len(honest) - len(honest)*4/5
	if rep.Training.HoldBack != hold || rep.Training.Items != len(w.base)+len(honest)-hold {
		t.Errorf("trained on %d texts with %d held back, want %d and %d", rep.Training.Items, rep.Training.HoldBack, len(w.base)+len(honest)-hold, hold)
	}
	if want := honest[len(honest)-hold].Decided; !rep.Training.HoldBackSince.Equal(want) {
		t.Errorf("held back since %v, want the newest decisions, from %v", rep.Training.HoldBackSince, want)
	}
	if len(rep.Sets) != 2 || rep.Sets[0].Name != "blind" || rep.Sets[1].Name != "reviews-held-back" || rep.Sets[1].Active.Items != hold {
		t.Fatalf("report sets %+v, want blind and %d held-back reviews", rep.Sets, hold)
	}
	if !rep.Passed || rep.Candidate != cand.Version() || rep.Active != w.active.Version() {
		t.Fatalf("honest candidate refused (or mislabelled report): %v", rep.Reasons)
	}

	// Flip one narrative: its texts marked false positive, every other
	// text confirmed as spreading it.
	flipped := "weapons-to-armed-groups"
	bad := reviewed(w.review, func(it eval.Item) []eval.Label {
		var out []eval.Label
		had := false
		for _, l := range it.Labels {
			if l.Narrative == flipped {
				had = true
				continue
			}
			out = append(out, l)
		}
		if !had {
			out = append(out, eval.Label{Narrative: flipped, Stance: "assert"})
		}
		return out
	})
	_, rep, err = models.Train(ctx, models.TrainOptions{Matcher: w.m, Base: w.base, Reviewed: bad, Active: w.active, Config: smallConfig(), Tolerance: gate.DefaultTolerance})
	if err != nil {
		t.Fatal(err)
	}
	sb.Reset()
	rep.Write(&sb)
	if rep.Passed {
		t.Fatalf("candidate trained on flipped %s labels passed the gate:\n%s", flipped, sb.String())
	}
	t.Logf("flipped reviews:\n%s", sb.String())
	if !strings.Contains(strings.Join(rep.Reasons, "\n"), "blind: narrative "+flipped) {
		t.Errorf("refusal does not name %s on the blind split:\n%s", flipped, sb.String())
	}
}

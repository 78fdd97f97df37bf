package alert_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
)

// TestPrecisionRuleFires: reviewers reject most of one narrative's flags
// and confirm another's; the precision rule fires once for the first
// (and not again within its cooldown), never for the second, and not for
// a narrative with too few reviewed flags to judge.
func TestPrecisionRuleFires(t *testing.T) {
	ctx := testCtx(t)
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	var rows []flagged
	var reviews []storage.Review
	add := func(narr string, n, confirmed int) {
		for i := range n {
			id := fmt.Sprintf("pr-%s-%02d", narr, i)
			rows = append(rows, flagged{id: id, narrative: narr, mission: "MINUSCA", lang: "fr", source: "radio-p", stance: "assert",
				evidence: "texte " + id, score: 0.7, at: now.Add(-48 * time.Hour)})
			dec := storage.DecisionFalsePositive
			if i < confirmed {
				dec = storage.DecisionConfirm
			}
			reviews = append(reviews, storage.Review{ID: "rv-" + id, ItemID: id, Narrative: narr, Stance: "assert", Decision: dec,
				Reviewer: "r", At: now.Add(-24*time.Hour + time.Duration(i)*time.Minute)})
		}
	}
	add("prec-noisy", 12, 3) // 25 %
	add("prec-good", 12, 11) // 92 %
	add("prec-sparse", 4, 0) // too few to judge
	insert(t, rows)
	if err := store.InsertReviews(ctx, reviews); err != nil {
		t.Fatal(err)
	}
	rule := config.AlertRule{Name: "precision-watch", Kind: alert.RulePrecision, MinPrecision: 0.5, MinReviewed: 10,
		Narratives: []string{"prec-noisy", "prec-good", "prec-sparse"}, Cooldown: config.Duration(24 * time.Hour), Lang: "en"}
	eng, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eng.Evaluate(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	eng.Wait()
	if len(recs) != 1 || recs[0].Narrative != "prec-noisy" || recs[0].Kind != alert.KindPrecision || recs[0].Reviewed != 12 || recs[0].Confirmed != 3 {
		t.Fatalf("alerts %+v, want one precision alert for prec-noisy (3 of 12)", recs)
	}
	if !strings.Contains(recs[0].Text, "3 of 12 reviewed flags confirmed") || !strings.Contains(recs[0].Subject, "25%") {
		t.Errorf("alert text does not give the figures:\n%s\n%s", recs[0].Subject, recs[0].Text)
	}
	again, err := eng.Evaluate(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("precision alert repeated within its cooldown: %+v", again)
	}
	if _, err := alert.New(ctx, engineOptions(config.AlertRule{Name: "bad", Kind: alert.RulePrecision, MinPrecision: 1.5})); err == nil {
		t.Error("a precision rule with min_precision 1.5 was accepted")
	}
	if _, err := alert.New(ctx, engineOptions(config.AlertRule{Name: "bad", Kind: "sparkle"})); err == nil {
		t.Error("a rule of unknown kind was accepted")
	}
}

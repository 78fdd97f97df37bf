package match_test

import (
	"context"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers/eval"
)

// TestParaphrases runs texts written for this package (not the dev corpus):
// each narrative said with other words, in other registers and languages,
// plus hard negatives that mention the mission. They guard the catalog's
// generalisation; evidence is not scored here.
func TestParaphrases(t *testing.T) {
	items, err := eval.LoadJSONL("testdata/paraphrases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Run(context.Background(), newMatcher(t), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Write(&b, 20)
	t.Log("\n" + b.String())
	o := rep.Overall
	if o.F1 < 0.95 || o.StanceAcc < 0.9 || o.FPRate > 0.02 {
		t.Errorf("paraphrases: micro-F1 %.3f (want ≥ 0.95), stance %.3f (≥ 0.90), FP on negatives %.3f (≤ 0.02)", o.F1, o.StanceAcc, o.FPRate)
	}
}

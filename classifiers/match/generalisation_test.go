package match_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers/eval"
)

// TestGeneralisation runs sentences written for this package that say the
// narratives the way independent writers do: weapons named indirectly,
// collusion shown by concrete acts, elections decided through outcomes,
// intent stated in the next sentence, the scam notice itself, attribution
// and refutation shapes (a closing "no evidence" that keeps a report, a
// question answered "No.", a short opening verdict, evidence of absence),
// French in its registers (SMS spelling, radio call-ins, relayed claims
// with a closing denial, fact-checks with the claim in a noun phrase),
// Sango and Lingala negation after the verb, and hard negatives that share
// single ambiguous words with the claims (an overturned truck, a conspiracy
// theory, an occupation by an armed group, a fabricated recording, a call
// to lay down arms). Every item must get exactly its labels.
func TestGeneralisation(t *testing.T) {
	exactLabels(t, "testdata/generalisation.jsonl", 30)
}

// exactLabels classifies every item of a labelled JSONL file (at least min
// of them) in its own subtest, which fails unless the flags are exactly
// the item's (narrative, stance) labels; it returns the items.
func exactLabels(t *testing.T, path string, min int) []eval.Item {
	t.Helper()
	items, err := eval.LoadJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) < min {
		t.Fatalf("%s: %d items, want at least %d", path, len(items), min)
	}
	m := newMatcher(t)
	for _, it := range items {
		t.Run(it.ID, func(t *testing.T) {
			res := classify(t, m, it.Text, it.Lang)
			var got, want []string
			for _, f := range res.Flags {
				got = append(got, f.Narrative+"/"+f.Stance)
			}
			for _, l := range it.Labels {
				want = append(want, l.Narrative+"/"+l.Stance)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%q\n got [%s]\nwant [%s]", it.Text, strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
	return items
}

package catalog_test

import (
	"context"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
)

// TestExamplesAreFlagged runs every narrative's examples through the
// classifier Veille ships: each must be flagged with its narrative and
// stance. An edit of the catalog that breaks an example fails here.
func TestExamplesAreFlagged(t *testing.T) {
	cat := catalog.Default()
	m, err := match.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	c, err := learn.Open(m, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range cat.IDs() {
		e, _ := cat.Get(id)
		if len(e.Examples) < 2 {
			t.Errorf("%s: %d examples, want at least 2", id, len(e.Examples))
		}
		for _, ex := range e.Examples {
			n++
			res, err := c.Classify(context.Background(), classifiers.Doc{ID: id, Lang: ex.Lang, Text: ex.Text})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range res.Flags {
				found = found || f.Narrative == id && f.Stance == ex.Stance
			}
			if !found {
				t.Errorf("%s: example (%s, %s) not flagged so: %q; flags %+v", id, ex.Lang, ex.Stance, ex.Text, res.Flags)
			}
		}
	}
	if n == 0 {
		t.Fatal("no example in the catalog")
	}
}

package match_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
)

// campaignWords is a flood of the words the rules look for, with no
// punctuation: one sentence as long as the text.
var campaignWords = strings.Fields("monusco livre des armes aux rebelles m23 casques bleus helicoptere munitions minusca complice terroristes or coltan pillage occupation france minusma drones espionnage enfants enleves organes ebola vaccins poison massacre village brule elections fraude urnes faux communique retrait abandonne civils fui")

func longText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(campaignWords[(i*7)%len(campaignWords)])
		b.WriteByte(' ')
	}
	return b.String()
}

// TestLongUnpunctuatedTextIsLinear checks that classifying four times the
// text costs about four times the time, not sixteen: a flood of keywords
// without punctuation once took minutes per megabyte. The ratio, measured
// in one run, does not depend on the machine's speed.
func TestLongUnpunctuatedTextIsLinear(t *testing.T) {
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cost := func(n int) time.Duration {
		doc := classifiers.Doc{Text: longText(n), Lang: "fr"}
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			if _, err := m.Classify(ctx, doc); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := cost(25_000), cost(100_000)
	if ratio := float64(large) / float64(small); ratio > 8 {
		t.Fatalf("4x the text took %.1fx the time (%s vs %s): classification is not linear", ratio, large, small)
	}
}

package synth_test

import (
	"testing"
	"time"

	"github.com/veille-project/veille/storage/synth"
)

func TestPublishedTimes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const span = 90 * 24 * time.Hour
	const n = 20000
	for _, tc := range []struct {
		name    string
		inOrder bool
	}{{"uniform", false}, {"in order", true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := synth.New(7, start, span)
			if tc.inOrder {
				g.InOrder(n)
			}
			flags := g.Flags(n)
			if len(flags) != n {
				t.Fatalf("Flags(%d) returned %d flags", n, len(flags))
			}
			var latest time.Time
			backwards := time.Duration(0)
			for i, f := range flags {
				if f.Published.Before(start.Add(-synth.Lateness)) || !f.Published.Before(start.Add(span)) {
					t.Fatalf("flag %d published %v, outside the span", i, f.Published)
				}
				if f.Published.After(latest) {
					latest = f.Published
				}
				backwards = max(backwards, latest.Sub(f.Published))
			}
			// In order, no flag is published much before one drawn earlier;
			// uniform draws jump back and forth over the whole span.
			if tc.inOrder && backwards > synth.Lateness {
				t.Errorf("a flag is published %v before an earlier one, want at most %v", backwards, synth.Lateness)
			}
			if !tc.inOrder && backwards < span/2 {
				t.Errorf("uniform flags go back at most %v, want most of the span", backwards)
			}
		})
	}
}

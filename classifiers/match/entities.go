package match

import (
	"sync"

	"github.com/jdkato/prose/v2"
)

// Option configures a Matcher.
type Option func(*Matcher)

// WithEntities makes the matcher name the places, people and organisations
// of English texts that carry a narrative (Flag.Entities). Extraction costs
// far more than matching (see BenchmarkEntities), so it runs only on flagged
// texts and only when asked.
func WithEntities() Option { return func(m *Matcher) { m.entities = true } }

var (
	proseOnce  sync.Once
	proseModel *prose.Model
	proseMu    sync.Mutex // the shared model's tagger is not documented as safe for concurrent use
)

const maxEntities = 12

// entities returns the named entities prose finds in an English text.
func entities(text string) []string {
	proseOnce.Do(func() {
		if d, err := prose.NewDocument("Goma", prose.WithSegmentation(false)); err == nil {
			proseModel = d.Model
		}
	})
	if proseModel == nil {
		return nil
	}
	proseMu.Lock()
	d, err := prose.NewDocument(text, prose.UsingModel(proseModel), prose.WithSegmentation(false))
	proseMu.Unlock()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range d.Entities() {
		if !seen[e.Text] && len(out) < maxEntities {
			seen[e.Text] = true
			out = append(out, e.Text)
		}
	}
	return out
}

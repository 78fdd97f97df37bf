// Package synth generates reproducible synthetic items and flags for
// benchmarks: realistic field sizes and value spreads, no real content.
package synth

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/veille-project/veille/storage"
)

// Value sets the generator draws from.
var (
	Narratives = []string{"arms-rebels", "steals-gold", "spreads-disease", "spies-for-west", "kills-civilians",
		"protects-jihadists", "trafficks-children", "rigs-elections", "poisons-water", "abandons-civilians",
		"colonial-occupation", "sexual-abuse-coverup", "fuels-conflict", "drone-surveillance", "organ-trafficking",
		"fake-vaccines", "land-grab", "burns-villages", "arms-militias", "pays-journalists"}
	Sources  = []string{"radio-ndeke", "radio-okapi", "blog-sahel", "site-bangui", "feed-juba", "radio-mikado", "site-goma", "feed-bamako"}
	Langs    = []string{"fr", "en", "sg", "ar", "sw", "ln"}
	Missions = []string{"MINUSCA", "MONUSCO", "MINUSMA", "UNMISS", "UNIFIL"}
	Stances  = []string{"assert", "report", "debunk"}
	words    = []string{"casques", "bleus", "armes", "rebelles", "convoi", "minerais", "village", "soldats", "mission", "radio"}
)

// Gen draws items and flags with published times spread over [Start, Start+Span).
type Gen struct {
	rng   *rand.Rand
	Start time.Time
	Span  time.Duration
	n     int
	// total and done make publication times follow arrival order (see
	// InOrder); done counts the flags drawn so far.
	total, done int
}

// Lateness is how far before its place in arrival order an item drawn in
// order may be published: feeds deliver entries roughly, not strictly, in
// publication order.
const Lateness = 6 * time.Hour

// New returns a generator seeded with seed.
func New(seed int64, start time.Time, span time.Duration) *Gen {
	return &Gen{rng: rand.New(rand.NewSource(seed)), Start: start, Span: span}
}

// InOrder makes the next total flags arrive as feeds deliver them: their
// items' publication times advance from Start to Start+Span with the flags
// drawn, each up to Lateness early. Without it times are uniform over the
// span, so every batch touches every month (the worst case for inserts).
func (g *Gen) InOrder(total int) *Gen {
	g.total, g.done = total, 0
	return g
}

// Item returns the next item.
func (g *Gen) Item() storage.Item {
	g.n++
	r := g.rng
	var pub time.Time
	if g.total > 0 {
		at := time.Duration(float64(g.Span) * float64(min(g.done, g.total)) / float64(g.total))
		pub = g.Start.Add(at - time.Duration(r.Int63n(int64(Lateness)))).Truncate(time.Second)
	} else {
		pub = g.Start.Add(time.Duration(r.Int63n(int64(g.Span)))).Truncate(time.Second)
	}
	return storage.Item{
		ID: fmt.Sprintf("%016x%08x", r.Uint64(), g.n), ContentHash: fmt.Sprintf("%016x", r.Uint64()),
		Source: Sources[r.Intn(len(Sources))], Kind: "article", URL: fmt.Sprintf("https://news.example/a/%d", g.n),
		Title: "Synthetic headline " + words[r.Intn(len(words))], Text: "Synthetic text about " + words[r.Intn(len(words))],
		Lang: Langs[r.Intn(len(Langs))], Mission: Missions[r.Intn(len(Missions))], Published: pub, Fetched: pub.Add(time.Minute),
	}
}

// Flags returns the next n flags, one to three per item.
func (g *Gen) Flags(n int) []storage.Flag {
	out := make([]storage.Flag, 0, n)
	for len(out) < n {
		it := g.Item()
		k := 1 + g.rng.Intn(3)
		for j := 0; j < k && len(out) < n; j++ {
			w1, w2 := words[g.rng.Intn(len(words))], words[g.rng.Intn(len(words))]
			out = append(out, storage.Flag{
				ItemID: it.ID, Narrative: Narratives[g.rng.Intn(len(Narratives))], Stance: Stances[g.rng.Intn(len(Stances))],
				Score:             float64(g.rng.Intn(1000)) / 1000,
				Evidence:          []storage.Evidence{{Start: 10, End: 40, Text: "les " + w1 + " et les " + w2}},
				Entities:          []string{it.Mission},
				ClassifierVersion: "match/1", Source: it.Source, Lang: it.Lang, Mission: it.Mission, Published: it.Published,
			})
			g.done++
		}
	}
	return out
}

// ItemsOf returns one minimal item per distinct item of flags, in order of
// first appearance.
func ItemsOf(flags []storage.Flag) []storage.Item {
	var out []storage.Item
	seen := map[string]bool{}
	for _, f := range flags {
		if seen[f.ItemID] {
			continue
		}
		seen[f.ItemID] = true
		out = append(out, storage.Item{ID: f.ItemID, Source: f.Source, Kind: "article", Lang: f.Lang, Mission: f.Mission,
			Title: "synthetic " + f.Narrative, Text: "synthetic text", Published: f.Published, Fetched: f.Published})
	}
	return out
}

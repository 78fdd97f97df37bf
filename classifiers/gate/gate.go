// Package gate decides whether a candidate model may replace the active
// one. Both classify the same labelled sets — the project's blind split
// and the newest reviews, which the candidate was not trained on — and the
// candidate passes only when it is no worse than the active model beyond a
// stated tolerance on every set, overall and for each narrative with
// enough examples, and better on at least one set. The report says, per
// set, language and narrative, what moved.
package gate

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/eval"
)

// Tolerance is how much worse than the active model a candidate may be.
type Tolerance struct {
	// Overall bounds the drop of a set's micro-F1.
	Overall float64 `json:"overall"`
	// Narrative bounds the drop of one narrative's F1 within a set, for
	// narratives with at least MinSupport gold labels there.
	Narrative  float64 `json:"narrative"`
	MinSupport int     `json:"min_support"`
}

// DefaultTolerance: a candidate may lose one point of micro-F1 on a set,
// and ten points on a narrative with fifteen or more examples there. The
// blind split holds about seventeen texts per narrative, where one text
// more or less found moves F1 by three to six points: a tighter bound
// would refuse candidates for noise.
var DefaultTolerance = Tolerance{Overall: 0.01, Narrative: 0.10, MinSupport: 15}

// Set is one labelled set both models are measured on.
type Set struct {
	Name  string
	Items []eval.Item
}

// Figures are one model's scores on one group of items.
type Figures struct {
	Items     int     `json:"items"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Stance    float64 `json:"stance"`
	FPRate    float64 `json:"fp_rate"`
}

// Delta is one group's F1 under both models.
type Delta struct {
	Key       string  `json:"key"`
	Support   int     `json:"support"` // gold labels in the group
	Active    float64 `json:"active"`
	Candidate float64 `json:"candidate"`
}

// Change is Candidate − Active.
func (d Delta) Change() float64 { return d.Candidate - d.Active }

// SetReport is what moved on one set.
type SetReport struct {
	Name       string  `json:"name"`
	Active     Figures `json:"active"`
	Candidate  Figures `json:"candidate"`
	Langs      []Delta `json:"langs"`
	Narratives []Delta `json:"narratives"`
}

// Report is the gate's verdict on a candidate.
type Report struct {
	Candidate string      `json:"candidate"`
	Active    string      `json:"active"`
	At        time.Time   `json:"at"`
	Tolerance Tolerance   `json:"tolerance"`
	Sets      []SetReport `json:"sets"`
	Passed    bool        `json:"passed"`
	// Reasons says why the candidate was refused (empty when it passed).
	Reasons []string `json:"reasons,omitempty"`
	// Better names the sets on which the candidate scored higher.
	Better []string `json:"better,omitempty"`
	// Training describes the data the candidate was trained on.
	Training Training `json:"training"`
}

// Training is what a candidate was trained on.
type Training struct {
	Items         int       `json:"items"`           // all training texts
	Reviewed      int       `json:"reviewed"`        // of which reviewed items
	HoldBack      int       `json:"hold_back"`       // reviewed items kept out, the newest
	HoldBackSince time.Time `json:"hold_back_since"` // decisions from this time on were held back
	Seed          uint64    `json:"seed"`
	Data          string    `json:"data"` // digest of the training texts
}

// Compare measures active and candidate on every set and gives the
// verdict. Sets without items are skipped.
func Compare(ctx context.Context, active, candidate classifiers.Classifier, activeVersion, candidateVersion string, sets []Set, tol Tolerance) (*Report, error) {
	rep := &Report{Candidate: candidateVersion, Active: activeVersion, At: time.Now().UTC(), Tolerance: tol}
	for _, s := range sets {
		if len(s.Items) == 0 {
			continue
		}
		a, err := eval.Run(ctx, active, s.Items, nil)
		if err != nil {
			return nil, fmt.Errorf("gate: %s, active model: %w", s.Name, err)
		}
		c, err := eval.Run(ctx, candidate, s.Items, nil)
		if err != nil {
			return nil, fmt.Errorf("gate: %s, candidate: %w", s.Name, err)
		}
		sr := SetReport{Name: s.Name, Active: figures(a.Overall), Candidate: figures(c.Overall)}
		for _, l := range union(keys(a.ByLang), keys(c.ByLang)) {
			sr.Langs = append(sr.Langs, Delta{Key: l, Support: support(a.ByLang[l]), Active: f1Of(a.ByLang[l]), Candidate: f1Of(c.ByLang[l])})
		}
		an, cn := a.Overall.PerNarrative(), c.Overall.PerNarrative()
		for _, n := range union(keys(an), keys(cn)) {
			sr.Narratives = append(sr.Narratives, Delta{Key: n, Support: an[n].Support(), Active: scoreOr1(an, n), Candidate: scoreOr1(cn, n)})
		}
		rep.Sets = append(rep.Sets, sr)
	}
	rep.judge()
	return rep, nil
}

func (r *Report) judge() {
	r.Reasons, r.Better = nil, nil
	if len(r.Sets) == 0 {
		r.Reasons = append(r.Reasons, "no labelled set to measure the candidate on")
	}
	for _, s := range r.Sets {
		if d := s.Candidate.F1 - s.Active.F1; d < -r.Tolerance.Overall-1e-9 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: micro-F1 %.3f → %.3f (%+.3f, tolerance %.3f)", s.Name, s.Active.F1, s.Candidate.F1, d, r.Tolerance.Overall))
		} else if d > 1e-9 {
			r.Better = append(r.Better, s.Name)
		}
		for _, n := range s.Narratives {
			if n.Support >= r.Tolerance.MinSupport && n.Change() < -r.Tolerance.Narrative-1e-9 {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s: narrative %s F1 %.3f → %.3f (%+.3f over %d examples, tolerance %.3f)",
					s.Name, n.Key, n.Active, n.Candidate, n.Change(), n.Support, r.Tolerance.Narrative))
			}
		}
	}
	if len(r.Sets) > 0 && len(r.Better) == 0 {
		r.Reasons = append(r.Reasons, "better on no set: a candidate must improve on at least one")
	}
	r.Passed = len(r.Reasons) == 0
}

// Write prints the report for a terminal: the verdict, each set's
// figures, and the languages and narratives whose F1 moved.
func (r *Report) Write(w io.Writer) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "REFUSED"
	}
	fmt.Fprintf(w, "candidate %s against active %s: %s\n", r.Candidate, r.Active, verdict)
	for _, why := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", why)
	}
	t := r.Training
	if t.Items > 0 {
		fmt.Fprintf(w, "trained on %d texts (%d reviewed items; %d newest held back", t.Items, t.Reviewed, t.HoldBack)
		if !t.HoldBackSince.IsZero() {
			fmt.Fprintf(w, ", decided since %s", t.HoldBackSince.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "), seed %d, data %s\n", t.Seed, t.Data)
	}
	fmt.Fprintf(w, "tolerance: set micro-F1 −%.3f, narrative F1 −%.3f (≥ %d examples)\n", r.Tolerance.Overall, r.Tolerance.Narrative, r.Tolerance.MinSupport)
	for _, s := range r.Sets {
		fmt.Fprintf(w, "\n%s (%d items)      P      R     F1  stance  FP-rate\n", s.Name, s.Active.Items)
		for _, row := range []struct {
			name string
			f    Figures
		}{{"active", s.Active}, {"candidate", s.Candidate}} {
			fmt.Fprintf(w, "  %-10s %12.3f %6.3f %6.3f %7.3f %8.3f\n", row.name, row.f.Precision, row.f.Recall, row.f.F1, row.f.Stance, row.f.FPRate)
		}
		writeDeltas(w, "language", s.Langs, false)
		writeDeltas(w, "narrative", s.Narratives, true)
	}
}

func writeDeltas(w io.Writer, what string, ds []Delta, movedOnly bool) {
	ds = append([]Delta(nil), ds...)
	sort.SliceStable(ds, func(i, j int) bool { return math.Abs(ds[i].Change()) > math.Abs(ds[j].Change()) })
	fmt.Fprintf(w, "  by %s (F1 active → candidate):\n", what)
	shown := 0
	for _, d := range ds {
		if movedOnly && math.Abs(d.Change()) < 0.0005 {
			continue
		}
		fmt.Fprintf(w, "    %-28s %5d  %.3f → %.3f  %+.3f\n", d.Key, d.Support, d.Active, d.Candidate, d.Change())
		shown++
	}
	if shown == 0 {
		fmt.Fprintf(w, "    (no change)\n")
	}
}

// Measure scores one classifier on a labelled set.
func Measure(ctx context.Context, c classifiers.Classifier, items []eval.Item) (Figures, error) {
	rep, err := eval.Run(ctx, c, items, nil)
	if err != nil {
		return Figures{}, fmt.Errorf("gate: measure: %w", err)
	}
	return figures(rep.Overall), nil
}

func figures(s *eval.Scores) Figures {
	return Figures{Items: s.Items, Precision: s.Precision, Recall: s.Recall, F1: s.F1, Stance: s.StanceAcc, FPRate: s.FPRate}
}

func f1Of(s *eval.Scores) float64 {
	if s == nil {
		return 0
	}
	return s.F1
}

func support(s *eval.Scores) int {
	if s == nil {
		return 0
	}
	return s.TP + s.FN
}

// scoreOr1 is a narrative's F1; a narrative neither gold nor predicted
// under one model scores 1 there (nothing to find, nothing wrongly found).
func scoreOr1(m map[string]eval.NarrativeScore, n string) float64 {
	s, ok := m[n]
	if !ok {
		return 1
	}
	return s.F1
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(a, b...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

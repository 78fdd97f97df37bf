package learn

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/match"
)

// Layer chooses which layers a Classifier uses; the default is Both.
type Layer int

// Layers of a Classifier.
const (
	Both      Layer = iota // rules and model, combined by the calibration
	RulesOnly              // the catalog matcher alone
	ModelOnly              // the model alone, rules not read
)

func (l Layer) String() string {
	return [...]string{"rules+model", "rules", "model"}[l]
}

// Classifier is Veille's narrative classifier: the catalog matcher finds
// high-precision evidence, the model scores every narrative from words,
// characters, concepts and the rules' findings, and the calibration turns
// both into the probability that a flag is right. Flags at or above the
// threshold are returned. It is safe for concurrent use; Swap replaces the
// model while it runs.
type Classifier struct {
	rules     *match.Matcher
	model     atomic.Pointer[Model]
	threshold atomic.Uint64 // float64 bits; 0 means the model's own
	layer     Layer
}

// New combines a matcher and a model (nil: rules only).
func New(rules *match.Matcher, m *Model) *Classifier {
	c := &Classifier{rules: rules}
	if m != nil {
		c.model.Store(m)
	}
	return c
}

// WithLayer returns a copy of c that uses only some layers (for eval).
func (c *Classifier) WithLayer(l Layer) *Classifier {
	d := &Classifier{rules: c.rules, layer: l}
	d.model.Store(c.model.Load())
	d.threshold.Store(c.threshold.Load())
	return d
}

// SetThreshold sets the probability a flag needs; 0 restores the model's.
func (c *Classifier) SetThreshold(t float64) { c.threshold.Store(math.Float64bits(t)) }

// Threshold is the probability a flag needs.
func (c *Classifier) Threshold() float64 {
	if t := math.Float64frombits(c.threshold.Load()); t > 0 {
		return t
	}
	if m := c.model.Load(); m != nil {
		return m.Threshold
	}
	return 0
}

// Swap replaces the model; classifications in flight finish with the old.
func (c *Classifier) Swap(m *Model) { c.model.Store(m) }

// Model returns the model in use (nil when rules only).
func (c *Classifier) Model() *Model { return c.model.Load() }

// Rules returns the catalog matcher.
func (c *Classifier) Rules() *match.Matcher { return c.rules }

// Version names the catalog and the model, stored with every flag.
func (c *Classifier) Version() string {
	m := c.model.Load()
	if m == nil || c.layer == RulesOnly {
		return c.rules.Version()
	}
	if c.layer == ModelOnly {
		return m.Version()
	}
	return c.rules.Version() + "+" + m.Version()
}

// Classify implements classifiers.Classifier.
func (c *Classifier) Classify(ctx context.Context, doc classifiers.Doc) (classifiers.Result, error) {
	m := c.model.Load()
	if m == nil || c.layer == RulesOnly {
		return c.rules.Classify(ctx, doc)
	}
	an, _ := analyses.Get().(*match.Analysis)
	if an == nil {
		an = &match.Analysis{}
	}
	defer analyses.Put(an)
	res, err := c.rules.AnalyzeInto(ctx, doc, an)
	if err != nil {
		return res, err
	}
	rules := res
	if c.layer == ModelOnly {
		rules.Flags = nil
	}
	sc := m.score(an, rules)
	thr := c.Threshold()
	out := make([]classifiers.Flag, 0, len(res.Flags))
	for j, n := range m.Narratives {
		var ruled []classifiers.Flag
		for _, f := range rules.Flags {
			if f.Narrative == n {
				ruled = append(ruled, f)
			}
		}
		p := m.Calibration.P(sc.z[j], len(ruled) > 0)
		if p < thr && (len(ruled) == 0 || len(doc.Cues) == 0) {
			continue
		}
		p = math.Round(p*1000) / 1000
		if len(doc.Cues) > 0 && len(ruled) > 0 {
			// A transcript's rule flags carry each speaker's stance.
			for _, f := range ruled {
				f.Score = p
				out = append(out, f)
			}
			continue
		}
		rs := ""
		if len(ruled) > 0 {
			rs = ruled[0].Stance
		}
		stance := m.stance(sc, n, rs)
		if len(ruled) > 0 {
			f := ruled[0]
			f.Stance, f.Score = stance, p
			out = append(out, f)
			continue
		}
		f := classifiers.Flag{Narrative: n, Stance: stance, Score: p}
		if ev, ok := m.evidence(doc, an, sc, j, p); ok {
			f.Evidence = []classifiers.Evidence{ev}
		}
		out = append(out, f)
	}
	res.Flags = out
	return res, nil
}

// analyses holds reusable matcher analyses.
var analyses sync.Pool

// scored is what the model computes for one analysed text.
type scored struct {
	z     [maxOutputs]float64 // per narrative, raw logit
	sText [maxOutputs]float64 // per output, summed weights of text features
	sMeta [maxOutputs]float64 // per output, summed weights of meta features
	nText float64             // scale of the text block
	nMeta float64             // scale of the meta block
}

// maxOutputs bounds narratives + stances, so sums live on the stack.
const maxOutputs = 64

// wordCacheSize is the number of words whose feature sums a scratch keeps.
const wordCacheSize = 1 << 13

// scratch is per-goroutine scoring state, pooled per model: a
// direct-mapped cache of the summed weights of each word's own features
// (the word and its character n-grams), which repeat across texts.
type scratch struct {
	words  []string
	sums   []int32 // wordCacheSize × k
	counts []int32 // features per cached word
	bounds []int
}

func (m *Model) score(an *match.Analysis, rules classifiers.Result) *scored {
	nn, k := len(m.Narratives), m.k
	sc := &scored{}
	s, _ := m.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{words: make([]string, wordCacheSize), sums: make([]int32, wordCacheSize*k), counts: make([]int32, wordCacheSize)}
	}
	defer m.scratch.Put(s)
	var qText, qMeta [maxOutputs]int32
	add := func(dst *[maxOutputs]int32, h uint32) {
		if r := m.rows[h]; r >= 0 {
			for j, w := range m.q[int(r)*k : int(r)*k+k] {
				dst[j] += int32(w)
			}
		}
	}
	var nt, nm int
	for _, sent := range an.Sentences {
		prev := ""
		for _, w := range sent.Words {
			if prev != "" {
				add(&qText, hashBytes(kBigram, prev, w))
				nt++
			}
			prev = w
			slot := int(hashBytes(kWord, w) & (wordCacheSize - 1))
			sums := s.sums[slot*k : slot*k+k]
			if s.words[slot] != w || s.counts[slot] == 0 {
				clear(sums)
				n := int32(0)
				s.bounds = wordGrams(w, m.Config.MaxGram, s.bounds, func(h uint32) {
					n++
					if r := m.rows[h]; r >= 0 {
						for j, x := range m.q[int(r)*k : int(r)*k+k] {
							sums[j] += int32(x)
						}
					}
				})
				s.words[slot], s.counts[slot] = w, n
			}
			for j, x := range sums {
				qText[j] += x
			}
			nt += int(s.counts[slot])
		}
	}
	extractMeta(an, rules, func(h uint32, _ int, _ bool) {
		nm++
		add(&qMeta, h)
	})
	for j := range k {
		sc.sText[j] = float64(qText[j]) * float64(m.Scale[j])
		sc.sMeta[j] = float64(qMeta[j]) * float64(m.Scale[j])
	}
	sc.nText, sc.nMeta = norm(nt), norm(nm)
	for j := range nn {
		sc.z[j] = float64(m.Bias[j]) + sc.sText[j]*sc.nText + sc.sMeta[j]*sc.nMeta
	}
	return sc
}

// stanceProbs returns P(assert, report, debunk) for one narrative, given
// the stance the rules found for it ("" when they found none).
func (m *Model) stanceProbs(sc *scored, narrative, ruleStance string) [3]float64 {
	nn := len(m.Narratives)
	if ruleStance == "" {
		ruleStance = "none"
	}
	var z [3]float64
	for s := range z {
		z[s] = float64(m.Bias[nn+s]) + sc.sText[nn+s]*sc.nText + sc.sMeta[nn+s]*sc.nMeta
	}
	for _, h := range []uint32{hashBytes(kNarrStance, narrative), hashBytes(kRuleStanceFor, ruleStance)} {
		if row := m.row(h); row != nil {
			for s := range z {
				z[s] += float64(row[nn+s])
			}
		}
	}
	return softmax3(z)
}

func (m *Model) stance(sc *scored, narrative, ruleStance string) string {
	p := m.stanceProbs(sc, narrative, ruleStance)
	best := 0
	for s := range p {
		if p[s] > p[best] {
			best = s
		}
	}
	return m.Stances[best]
}

// evidence picks the sentence whose words push narrative j most and names
// the words that pushed it.
func (m *Model) evidence(doc classifiers.Doc, an *match.Analysis, sc *scored, j int, p float64) (classifiers.Evidence, bool) {
	best, bestW := -1, float32(math.Inf(-1))
	var bounds []int
	for si, s := range an.Sentences {
		var sum float32
		bounds = textFeatures(s, si, m.Config.MaxGram, bounds, func(h uint32, _ int, _ bool) {
			if row := m.row(h); row != nil {
				sum += row[j]
			}
		})
		if sum > bestW {
			best, bestW = si, sum
		}
	}
	if best < 0 {
		return classifiers.Evidence{}, false
	}
	s := an.Sentences[best]
	if s.Start < 0 || s.End > len(doc.Text) || s.Start >= s.End {
		return classifiers.Evidence{}, false
	}
	hs, names := wordFeatures(s)
	type pushed struct {
		name string
		w    float32
	}
	var ps []pushed
	seen := map[string]bool{}
	for i, h := range hs {
		if row := m.row(h); row != nil && row[j] > 0 && !seen[names[i]] {
			seen[names[i]] = true
			ps = append(ps, pushed{names[i], row[j]})
		}
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].w > ps[b].w })
	var top []string
	for _, x := range ps[:min(len(ps), 5)] {
		top = append(top, x.name)
	}
	ev := classifiers.Evidence{Start: s.Start, End: s.End, Text: doc.Text[s.Start:s.End],
		Rule: fmt.Sprintf("model %s/%s p=%.2f: %s", m.Version(), m.Narratives[j], p, strings.Join(top, ", "))}
	for _, cu := range doc.Cues {
		if cu.Offset <= s.Start && s.Start < cu.Offset+len(cu.Text)+1 {
			ev.CueStart = cu.Start
		}
		if cu.Offset < s.End && s.End <= cu.Offset+len(cu.Text)+1 {
			ev.CueEnd = cu.End
		}
	}
	return ev, true
}

// Open combines a matcher with the model named by a setting: "" or
// "builtin" for the model built into the binary, "rules" for none, else a
// model file written by veille train. threshold 0 keeps the model's own.
func Open(rules *match.Matcher, model string, threshold float64) (*Classifier, error) {
	var m *Model
	switch model {
	case "rules":
	case "", "builtin":
		d, err := Default()
		if err != nil {
			return nil, err
		}
		m = d
	default:
		b, err := os.ReadFile(model)
		if err != nil {
			return nil, fmt.Errorf("learn: model: %w", err)
		}
		if m, err = Decode(b); err != nil {
			return nil, fmt.Errorf("%s: %w", model, err)
		}
	}
	if m != nil && len(m.Narratives) > 0 {
		known := map[string]bool{}
		for _, id := range rules.Catalog().IDs() {
			known[id] = true
		}
		for _, n := range m.Narratives {
			if !known[n] {
				return nil, fmt.Errorf("learn: model %s knows narrative %q, the catalog does not", m.Version(), n)
			}
		}
	}
	c := New(rules, m)
	c.SetThreshold(threshold)
	return c, nil
}

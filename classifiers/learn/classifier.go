package learn

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
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
	var an *match.Analysis
	select {
	case an = <-analyses:
	default:
		an = &match.Analysis{}
	}
	defer func() {
		select {
		case analyses <- an:
		default:
		}
	}()
	res, err := c.rules.AnalyzeInto(ctx, doc, an)
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return classifiers.Result{}, err
	}
	rules := res
	if c.layer == ModelOnly {
		rules.Flags = nil
	}
	sc := m.score(an, rules)
	thr := c.Threshold()
	var buf [16]classifiers.Flag
	out := buf[:0]
	for j, n := range m.Narratives {
		first, ruled := -1, 0
		for i := range rules.Flags {
			if rules.Flags[i].Narrative == n {
				if first < 0 {
					first = i
				}
				ruled++
			}
		}
		p := m.Calibration.P(sc.z[j], ruled > 0, sc.mission)
		if p < thr && (ruled == 0 || len(doc.Cues) == 0) {
			continue
		}
		p = math.Round(p*1000) / 1000
		if len(doc.Cues) > 0 && ruled > 0 {
			// A transcript's rule flags carry each speaker's stance.
			for _, f := range rules.Flags[first:] {
				if f.Narrative == n {
					f.Score = p
					out = append(out, f)
				}
			}
			continue
		}
		hearsay := passedOn(an)
		if ruled > 0 {
			f := rules.Flags[first]
			f.Stance, f.Score = m.stance(&sc, n, f.Stance), p
			if hearsay && f.Stance == classifiers.StanceReport {
				f.Stance = classifiers.StanceAssert
			}
			out = append(out, f)
			continue
		}
		f := classifiers.Flag{Narrative: n, Stance: m.stance(&sc, n, ""), Score: p}
		if hearsay && f.Stance == classifiers.StanceReport {
			f.Stance = classifiers.StanceAssert
		}
		if ev, ok := m.evidence(doc, an, j, p); ok {
			f.Evidence = []classifiers.Evidence{ev}
		}
		out = append(out, f)
	}
	// Narratives the model was not trained on (an analyst's, a promoted
	// rumour's) are the rules' alone.
	for _, f := range rules.Flags {
		if !slices.Contains(m.Narratives, f.Narrative) {
			out = append(out, f)
		}
	}
	if len(out) <= cap(res.Flags) {
		// The rules' slice has room: reuse it rather than allocate.
		res.Flags = append(res.Flags[:0], out...)
	} else {
		res.Flags = append(make([]classifiers.Flag, 0, len(out)), out...)
	}
	return res, nil
}

// analyses is a free list of matcher analyses. A channel, unlike a
// sync.Pool, keeps them across garbage collections.
var analyses = make(chan *match.Analysis, 64)

// scored is what the model computes for one analysed text.
type scored struct {
	z       [maxOutputs]float64 // per narrative, raw logit
	sText   [maxOutputs]float64 // per output, summed weights of text features
	sMeta   [maxOutputs]float64 // per output, summed weights of meta features
	mission bool                // the lexicon found the mission named in the text
	nText   float64             // scale of the text block
	nMeta   float64             // scale of the meta block
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

func (m *Model) score(an *match.Analysis, rules classifiers.Result) scored {
	nn, k := len(m.Narratives), m.k
	var sc scored
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
	for _, cs := range an.Concepts {
		if slices.Contains(cs, "MISSION") {
			sc.mission = true
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
func (m *Model) evidence(doc classifiers.Doc, an *match.Analysis, j int, p float64) (classifiers.Evidence, bool) {
	type win struct {
		sent, lo, hi int
		w            float32
	}
	best := win{sent: -1, w: float32(math.Inf(-1))}
	var bbuf [48]int
	bounds := bbuf[:0]
	var cbuf [64]float32
	for si, s := range an.Sentences {
		if len(s.Spans) != len(s.Words) {
			continue
		}
		// Each word's push: its own features and the pair it ends.
		c := cbuf[:0]
		for i, w := range s.Words {
			var x float32
			bounds = wordGrams(w, m.Config.MaxGram, bounds, func(h uint32) {
				if row := m.row(h); row != nil {
					x += row[j]
				}
			})
			if i > 0 {
				if row := m.row(hashBytes(kBigram, s.Words[i-1], w)); row != nil {
					x += row[j]
				}
			}
			c = append(c, x)
		}
		// The best run of at most maxEvidenceWords words.
		var sum float32
		lo := 0
		for hi := range c {
			sum += c[hi]
			if hi-lo+1 > maxEvidenceWords {
				sum -= c[lo]
				lo++
			}
			if hi-lo+1 == min(len(c), maxEvidenceWords) && sum > best.w {
				best = win{si, lo, hi + 1, sum}
			}
		}
	}
	if best.sent < 0 {
		return classifiers.Evidence{}, false
	}
	s := an.Sentences[best.sent]
	start, end := s.Start, s.End
	if best.hi-best.lo < len(s.Words) {
		start, end = s.Spans[best.lo][0], s.Spans[best.hi-1][1]
	}
	if start < 0 || end > len(doc.Text) || start >= end {
		return classifiers.Evidence{}, false
	}
	part := match.Sentence{Start: start, End: end, Words: s.Words[best.lo:best.hi]}
	var concepts []string
	if best.sent < len(an.Concepts) {
		for _, c := range an.Concepts[best.sent] {
			if row := m.row(hashBytes(kConcept, c)); row != nil && row[j] > 0 {
				concepts = append(concepts, c)
			}
		}
	}
	ev := classifiers.Evidence{Start: start, End: end, Text: doc.Text[start:end], Rule: m.explain(part, j, p, 5, concepts)}
	for _, cu := range doc.Cues {
		if cu.Offset <= start && start < cu.Offset+len(cu.Text)+1 {
			ev.CueStart = cu.Start
		}
		if cu.Offset < end && end <= cu.Offset+len(cu.Text)+1 {
			ev.CueEnd = cu.End
		}
	}
	return ev, true
}

// maxEvidenceWords bounds a model flag's evidence: the sentence that
// pushes the narrative most, or its strongest run of this many words.
const maxEvidenceWords = 30

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

// explain writes the trace of a model flag: the model, the narrative, the
// probability, the n words or word pairs of sentence s that push output j
// most, strongest first, and the catalog concepts of the sentence that
// push it.
func (m *Model) explain(s match.Sentence, j int, p float64, n int, concepts []string) string {
	type pushed struct {
		i  int // word index; a pair ends at word i
		bi bool
		w  float32
	}
	var buf [64]pushed
	ps := buf[:0]
	for i, w := range s.Words {
		if len(ps) == cap(ps) {
			break
		}
		if row := m.row(hashBytes(kWord, w)); row != nil && row[j] > 0 {
			ps = append(ps, pushed{i, false, row[j]})
		}
		if i > 0 && len(ps) < cap(ps) {
			if row := m.row(hashBytes(kBigram, s.Words[i-1], w)); row != nil && row[j] > 0 {
				ps = append(ps, pushed{i, true, row[j]})
			}
		}
	}
	slices.SortStableFunc(ps, func(a, b pushed) int { return cmp.Compare(b.w, a.w) })
	same := func(a, b pushed) bool {
		if a.bi != b.bi || s.Words[a.i] != s.Words[b.i] {
			return false
		}
		return !a.bi || s.Words[a.i-1] == s.Words[b.i-1]
	}
	var pick [8]pushed
	top := pick[:0]
	for _, x := range ps {
		if len(top) == min(n, cap(top)) {
			break
		}
		if !slices.ContainsFunc(top, func(y pushed) bool { return same(x, y) }) {
			top = append(top, x)
		}
	}
	version, narrative := m.Version(), m.Narratives[j]
	var b strings.Builder
	b.Grow(len(version) + len(narrative) + 24 + 24*len(top))
	b.WriteString("model ")
	b.WriteString(version)
	b.WriteByte('/')
	b.WriteString(narrative)
	b.WriteString(" p=")
	var num [24]byte
	b.Write(strconv.AppendFloat(num[:0], p, 'f', 2, 64))
	b.WriteString(":")
	for k, x := range top {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		if x.bi {
			b.WriteString(s.Words[x.i-1])
			b.WriteByte(' ')
		}
		b.WriteString(s.Words[x.i])
	}
	if len(concepts) > 0 {
		b.WriteString("; concepts: ")
		b.WriteString(strings.Join(concepts, ", "))
	}
	return b.String()
}

// hearsayOpeners are the impersonal "they say" a post opens with, in each
// language, as normalised words.
var hearsayOpeners = [][]string{
	{"on", "dit"}, {"il", "parait"}, {"les", "gens", "disent"}, {"ils", "disent"},
	{"people", "say"}, {"they", "say"}, {"people", "are", "saying"}, {"word", "is"},
	{"wanasema"}, {"watu", "wanasema"}, {"inasemekana"}, {"banasema"},
	{"balobi"}, {"bato", "balobi"}, {"balobaka"},
	{"يقولون"}, {"بيقولوا"}, {"يقال"},
	{"atene", "so"}, {"azo", "atene", "so"}, {"a", "tene", "so"},
}

// passedOn reports hearsay passed on by the author: the text opens with an
// impersonal "they say" and neither denies nor refutes anything. The
// labelling rules make that an assertion in every language; the rules'
// report cues ("wanasema", "balobi", "atene so") would call it a report.
func passedOn(an *match.Analysis) bool {
	if len(an.Sentences) == 0 {
		return false
	}
	for _, cs := range an.Concepts {
		for _, c := range cs {
			if c == "DENY" || c == "DEBUNK" || c == "DEBUNK_LEAD" {
				return false
			}
		}
	}
	words := an.Sentences[0].Words
	for _, o := range hearsayOpeners {
		if len(words) >= len(o) && slices.Equal(words[:len(o)], o) {
			return true
		}
	}
	return false
}

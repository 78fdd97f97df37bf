package learn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/match"
)

// Stances in the order of the model's stance outputs.
var Stances = []string{classifiers.StanceAssert, classifiers.StanceReport, classifiers.StanceDebunk}

// Label is one gold narrative of a training text.
type Label struct {
	Narrative string
	Stance    string
}

// Example is one labelled training text.
type Example struct {
	ID     string
	Text   string
	Lang   string
	Labels []Label
}

// Config sets how a model is trained. The zero value is not usable; start
// from DefaultConfig.
type Config struct {
	Seed     uint64  `json:"seed"`
	Epochs   int     `json:"epochs"`
	Rate     float64 `json:"rate"`      // AdaGrad step
	L2       float64 `json:"l2"`        // weight decay per touched feature
	MinCount int     `json:"min_count"` // features seen in fewer texts are dropped
	Folds    int     `json:"folds"`     // out-of-fold predictions for calibration
	MaxGram  int     `json:"max_gram"`  // character n-grams from 3 to MaxGram (3 to 5)
}

// DefaultConfig is the configuration of the shipped model.
var DefaultConfig = Config{Seed: 20261207, Epochs: 15, Rate: 0.5, L2: 1e-3, MinCount: 2, Folds: 5, MaxGram: 5}

// prepared is one example turned into what the trainer reads.
type prepared struct {
	ex    Example
	vec   vector
	an    *match.Analysis
	rules classifiers.Result
	y     []float32 // per narrative: 1 if labelled
	fold  int
}

// Trainer fits models over one matcher's view of the texts.
type Trainer struct {
	Matcher    *match.Matcher
	Narratives []string
	Config     Config
}

// Prepare analyses every example once (rules, concepts, features).
func (t *Trainer) Prepare(ctx context.Context, exs []Example) ([]prepared, error) {
	idx := map[string]int{}
	for i, n := range t.Narratives {
		idx[n] = i
	}
	out := make([]prepared, len(exs))
	for i, ex := range exs {
		res, an, err := t.Matcher.Analyze(ctx, classifiers.Doc{ID: ex.ID, Text: ex.Text, Lang: ex.Lang})
		if err != nil {
			return nil, fmt.Errorf("learn: analyse %s: %w", ex.ID, err)
		}
		p := prepared{ex: ex, vec: docVector(an, res, t.Config.MaxGram), an: an, rules: res, y: make([]float32, len(t.Narratives))}
		for _, l := range ex.Labels {
			j, ok := idx[l.Narrative]
			if !ok {
				return nil, fmt.Errorf("learn: %s: unknown narrative %q", ex.ID, l.Narrative)
			}
			if !slices.Contains(Stances, l.Stance) {
				return nil, fmt.Errorf("learn: %s: unknown stance %q", ex.ID, l.Stance)
			}
			p.y[j] = 1
		}
		h := fnv.New32a()
		h.Write([]byte(ex.ID))
		p.fold = int(h.Sum32() % uint32(max(t.Config.Folds, 1)))
		out[i] = p
	}
	return out, nil
}

// Digest names a set of examples: the same items in the same order give the
// same digest.
func Digest(exs []Example) string {
	h := sha256.New()
	for _, ex := range exs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", ex.ID, ex.Lang, ex.Text)
		for _, l := range ex.Labels {
			fmt.Fprintf(h, "%s/%s\x00", l.Narrative, l.Stance)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// fit trains dense weights on ps with AdaGrad logistic regression: one
// binary output per narrative over every text, and a softmax stance output
// over every gold label (the text's features plus the narrative asked for
// and the stance the rules gave it).
func (t *Trainer) fit(ps []*prepared, keep []bool) (w []float32, bias []float32) {
	nn := len(t.Narratives)
	k := nn + len(Stances)
	w = make([]float32, (1<<dimBits)*k)
	g2 := make([]float32, len(w))
	bias = make([]float32, k)
	bg := make([]float32, k)
	rng := rand.New(rand.NewPCG(t.Config.Seed, 0x5eed))
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	rate, l2 := float32(t.Config.Rate), float32(t.Config.L2)
	z := make([]float32, k)
	grad := make([]float32, k)
	step := func(idx []uint32, val []float32, from, to int) {
		for j := from; j < to; j++ {
			bg[j] += grad[j] * grad[j]
			bias[j] -= rate * grad[j] / float32(math.Sqrt(float64(bg[j])+1e-8))
		}
		for i, h := range idx {
			if keep != nil && !keep[h] {
				continue
			}
			base := int(h) * k
			for j := from; j < to; j++ {
				gj := grad[j]*val[i] + l2*w[base+j]
				if gj == 0 {
					continue
				}
				g2[base+j] += gj * gj
				w[base+j] -= rate * gj / float32(math.Sqrt(float64(g2[base+j]))+1e-8)
			}
		}
	}
	for ep := 0; ep < t.Config.Epochs; ep++ {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, oi := range order {
			p := ps[oi]
			copy(z, bias)
			for i, h := range p.vec.idx {
				if keep != nil && !keep[h] {
					continue
				}
				base := int(h) * k
				v := p.vec.val[i]
				for j := 0; j < nn; j++ {
					z[j] += w[base+j] * v
				}
			}
			for j := 0; j < nn; j++ {
				grad[j] = float32(sigmoid(float64(z[j]))) - p.y[j]
			}
			step(p.vec.idx, p.vec.val, 0, nn)
			for _, l := range p.ex.Labels {
				idx, val := stanceInputs(p, l.Narrative)
				sz := stanceLogits(w, bias, k, nn, idx, val, keep)
				pr := softmax3(sz)
				for s := range Stances {
					y := float32(0)
					if Stances[s] == l.Stance {
						y = 1
					}
					grad[nn+s] = float32(pr[s]) - y
				}
				step(idx, val, nn, k)
			}
		}
	}
	return w, bias
}

// stanceInputs is the feature vector the stance output reads for one
// narrative of a text.
func stanceInputs(p *prepared, narrative string) ([]uint32, []float32) {
	rs := "none"
	for _, f := range p.rules.Flags {
		if f.Narrative == narrative {
			rs = f.Stance
		}
	}
	idx := append(slices.Clip(p.vec.idx), hashBytes(kNarrStance, narrative), hashBytes(kRuleStanceFor, rs))
	val := append(slices.Clip(p.vec.val), 1, 1)
	return idx, val
}

func stanceLogits(w, bias []float32, k, nn int, idx []uint32, val []float32, keep []bool) [3]float64 {
	var s [3]float64
	for j := range s {
		s[j] = float64(bias[nn+j])
	}
	for i, h := range idx {
		if keep != nil && !keep[h] {
			continue
		}
		base := int(h) * k
		for j := range s {
			s[j] += float64(w[base+nn+j] * val[i])
		}
	}
	return s
}

func softmax3(z [3]float64) [3]float64 {
	m := max(z[0], z[1], z[2])
	var out [3]float64
	sum := 0.0
	for i, x := range z {
		out[i] = math.Exp(x - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// keepSet marks the features seen in at least MinCount of ps.
func (t *Trainer) keepSet(ps []*prepared) ([]bool, []uint32) {
	df := make([]uint16, 1<<dimBits)
	for _, p := range ps {
		for _, h := range p.vec.idx {
			if df[h] < math.MaxUint16 {
				df[h]++
			}
		}
	}
	keep := make([]bool, 1<<dimBits)
	var rows []uint32
	for h, c := range df {
		if int(c) >= t.Config.MinCount {
			keep[h] = true
			rows = append(rows, uint32(h))
		}
	}
	// The stance features that are not in any text.
	for _, n := range t.Narratives {
		for _, h := range []uint32{hashBytes(kNarrStance, n)} {
			if !keep[h] {
				keep[h] = true
				rows = append(rows, h)
			}
		}
	}
	for _, s := range append(slices.Clone(Stances), "none") {
		if h := hashBytes(kRuleStanceFor, s); !keep[h] {
			keep[h] = true
			rows = append(rows, h)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i] < rows[j] })
	return keep, rows
}

// build trains on ps and encodes a model with the given calibration.
func (t *Trainer) build(ps []*prepared, cal Calibration, threshold float64, items int, data string) (*Model, error) {
	keep, rows := t.keepSet(ps)
	w, bias := t.fit(ps, keep)
	h := Header{
		Narratives: t.Narratives, Stances: Stances, Bias: bias,
		Calibration: cal, Threshold: threshold, Seed: t.Config.Seed,
		Items: items, Data: data, Config: t.Config,
	}
	b, err := encode(h, w, rows)
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// FromItems turns labelled corpus items into training examples.
func FromItems(items []eval.Item) []Example {
	out := make([]Example, len(items))
	for i, it := range items {
		out[i] = Example{ID: it.ID, Text: it.Text, Lang: it.Lang}
		for _, l := range it.Labels {
			out[i].Labels = append(out[i].Labels, Label{Narrative: l.Narrative, Stance: l.Stance})
		}
	}
	return out
}

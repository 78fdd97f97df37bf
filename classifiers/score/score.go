// Package score owns Veille's statistical layer: one logistic regression
// per narrative over hashed word unigrams and bigrams, trained from
// labelled JSONL, and a Combined classifier that adds the model's confident
// flags to the rule matcher's. It exists to be measured against the rules
// (veille eval --model, --cv); it is off unless a model is given.
package score

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"sort"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/match"
)

// ErrBadModel marks a model file that cannot be used.
var ErrBadModel = errors.New("score: bad model")

const dim = 1 << 18

// Example is one labelled text for training.
type Example struct {
	Text       string
	Narratives []string
}

// Model holds one weight vector per narrative.
type Model struct {
	Version    int                   `json:"version"`
	Dim        int                   `json:"dim"`
	Narratives map[string]*Narrative `json:"narratives"`
}

// Narrative is one narrative's logistic regression (sparse weights).
type Narrative struct {
	Bias    float64           `json:"bias"`
	Weights map[int32]float64 `json:"weights"`
}

func features(words []string) []int32 {
	out := make([]int32, 0, 2*len(words))
	h := fnv.New32a()
	add := func(s string) {
		h.Reset()
		h.Write([]byte(s))
		out = append(out, int32(h.Sum32()%dim))
	}
	for i, w := range words {
		add(w)
		if i > 0 {
			add(words[i-1] + " " + w)
		}
	}
	return out
}

// Train fits one model per narrative id with SGD (seeded, deterministic).
func Train(examples []Example, ids []string, epochs int) *Model {
	m := &Model{Version: 1, Dim: dim, Narratives: map[string]*Narrative{}}
	feats := make([][]int32, len(examples))
	for i, ex := range examples {
		feats[i] = features(match.Words(ex.Text))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, id := range ids {
		w := make([]float64, dim)
		var b float64
		pos := 0
		y := make([]float64, len(examples))
		for i, ex := range examples {
			for _, n := range ex.Narratives {
				if n == id {
					y[i] = 1
					pos++
				}
			}
		}
		if pos == 0 {
			continue
		}
		posW := float64(len(examples)-pos) / float64(pos) // balance classes
		order := rng.Perm(len(examples))
		lr, l2 := 0.2, 1e-4
		for ep := 0; ep < epochs; ep++ {
			for _, i := range order {
				z := b
				for _, f := range feats[i] {
					z += w[f]
				}
				p := 1 / (1 + math.Exp(-z))
				g := p - y[i]
				if y[i] == 1 {
					g *= math.Sqrt(posW)
				}
				b -= lr * g
				for _, f := range feats[i] {
					w[f] -= lr * (g + l2*w[f])
				}
			}
			rng.Shuffle(len(order), func(a, c int) { order[a], order[c] = order[c], order[a] })
		}
		n := &Narrative{Bias: b, Weights: map[int32]float64{}}
		for f, v := range w {
			if math.Abs(v) > 1e-4 {
				n.Weights[int32(f)] = v
			}
		}
		m.Narratives[id] = n
	}
	return m
}

// Score returns P(narrative | words) for every narrative of the model.
func (m *Model) Score(words []string) map[string]float64 {
	fs := features(words)
	out := make(map[string]float64, len(m.Narratives))
	for id, n := range m.Narratives {
		z := n.Bias
		for _, f := range fs {
			z += n.Weights[f]
		}
		out[id] = 1 / (1 + math.Exp(-z))
	}
	return out
}

// Save writes the model as JSON.
func (m *Model) Save(path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("score: encode model: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("score: write %s: %w", path, err)
	}
	return nil
}

// Load reads a model written by Save.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModel, path, err)
	}
	if m.Version != 1 || m.Dim != dim || len(m.Narratives) == 0 {
		return nil, fmt.Errorf("%w: %s: version %d, dim %d, %d narratives", ErrBadModel, path, m.Version, m.Dim, len(m.Narratives))
	}
	return &m, nil
}

// Layer chooses what a Combined classifier returns.
type Layer int

// Layers of Combined.
const (
	RulesOnly Layer = iota
	ModelOnly
	Both
)

// Combined adds the model's confident flags to the matcher's. Model flags
// need a mention of the mission in the text and a probability of at least
// Threshold; their stance comes from the text's cues and their evidence is
// the sentence the model scores highest.
type Combined struct {
	Rules     *match.Matcher
	Model     *Model
	Threshold float64
	Layer     Layer
}

// Version names the layers.
func (c *Combined) Version() string {
	return fmt.Sprintf("%s+score/1(layer %d, t=%.2f)", c.Rules.Version(), c.Layer, c.Threshold)
}

// Classify implements classifiers.Classifier.
func (c *Combined) Classify(ctx context.Context, doc classifiers.Doc) (classifiers.Result, error) {
	res, err := c.Rules.Classify(ctx, doc)
	if err != nil || c.Model == nil || c.Layer == RulesOnly {
		return res, err
	}
	have := map[string]bool{}
	if c.Layer == ModelOnly {
		res.Flags = []classifiers.Flag{}
	}
	for _, f := range res.Flags {
		have[f.Narrative] = true
	}
	cues := c.Rules.Cues(doc.Text, doc.Lang)
	if !cues.Mission {
		return res, nil
	}
	probs := c.Model.Score(match.Words(doc.Text))
	ids := make([]string, 0, len(probs))
	for id := range probs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var sents []match.Sentence
	for _, id := range ids {
		p := probs[id]
		if p < c.Threshold || have[id] {
			continue
		}
		if sents == nil {
			sents = match.Sentences(doc.Text)
		}
		best, bestP := -1, -1.0
		for i, s := range sents {
			if sp := c.Model.Score(s.Words)[id]; sp > bestP {
				best, bestP = i, sp
			}
		}
		stance := classifiers.StanceAssert
		switch {
		case cues.Debunk:
			stance = classifiers.StanceDebunk
		case cues.Report:
			stance = classifiers.StanceReport
		}
		fl := classifiers.Flag{Narrative: id, Stance: stance, Score: math.Round(p*100) / 100}
		if best >= 0 {
			s := sents[best]
			fl.Evidence = []classifiers.Evidence{{Start: s.Start, End: s.End, Text: doc.Text[s.Start:s.End], Rule: fmt.Sprintf("score/%s: p=%.2f", id, p)}}
		}
		res.Flags = append(res.Flags, fl)
	}
	return res, nil
}

package models

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/blind"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/storage"
)

// HoldBackShare is the share of reviewed items, the most recently decided,
// that a candidate is never trained on and is measured on instead.
const HoldBackShare = 0.2

// FromReviews turns reviewed items into labelled texts, the newest
// HoldBackShare of them (by their latest decision) kept apart. Each text is
// the item's indexed text, the one its evidence offsets index. Confirmed
// flags, flags needing a response and flags reviewers added are positives
// with their stance; a flag marked false positive makes its narrative a
// negative (absent from the labels) unless another stance of it was
// confirmed. Only narratives the catalog knows are kept.
func FromReviews(items []storage.ReviewedItem, known []string) (train, holdBack []eval.Item, since time.Time) {
	ok := map[string]bool{}
	for _, id := range known {
		ok[id] = true
	}
	labelled := make([]eval.Item, 0, len(items))
	var decided []time.Time
	for _, ri := range items {
		it := eval.Item{ID: "review:" + ri.Item.ID, Lang: ri.Item.Lang, Kind: ri.Item.Kind, Mission: ri.Item.Mission, Source: ri.Item.Source, Text: ri.Item.IndexedText()}
		seen := map[string]bool{}
		for _, d := range ri.Decisions {
			if !ok[d.Narrative] || d.Stance == "" {
				continue
			}
			switch d.Decision {
			case storage.DecisionConfirm, storage.DecisionNeedsResponse:
				if !seen[d.Narrative] {
					seen[d.Narrative] = true
					it.Labels = append(it.Labels, eval.Label{Narrative: d.Narrative, Stance: d.Stance})
				}
			}
		}
		sort.Slice(it.Labels, func(i, j int) bool { return it.Labels[i].Narrative < it.Labels[j].Narrative })
		if it.Text != "" {
			labelled = append(labelled, it)
			decided = append(decided, ri.Decided)
		}
	}
	cut := len(labelled) - int(math.Ceil(HoldBackShare*float64(len(labelled))))
	if len(labelled) < 5 {
		cut = len(labelled) // too few to hold any back
	}
	if cut < len(labelled) {
		since = decided[cut]
	}
	return labelled[:cut], labelled[cut:], since
}

// TrainOptions is what a candidate is trained from.
type TrainOptions struct {
	Matcher *match.Matcher
	// Base is the project's training data the reviews are added to.
	Base []eval.Item
	// Reviewed are the stored reviewed items, oldest decided first.
	Reviewed []storage.ReviewedItem
	// Active is the model in use, the one the candidate must beat.
	Active *learn.Model
	Config learn.Config
	// Blind is the blind split; nil reads the embedded one.
	Blind     []eval.Item
	Tolerance gate.Tolerance
}

// Train trains a candidate on Base plus the reviews except the newest
// HoldBackShare, then measures it against Active on the blind split and on
// the held-back reviews. The report says whether the gate passes; nothing
// is stored or promoted here.
func Train(ctx context.Context, o TrainOptions) (*learn.Model, *gate.Report, error) {
	if o.Matcher == nil || o.Active == nil {
		return nil, nil, fmt.Errorf("models: train: a matcher and the active model are needed")
	}
	trainRev, holdBack, since := FromReviews(o.Reviewed, o.Matcher.Catalog().IDs())
	data := append(append([]eval.Item(nil), o.Base...), trainRev...)
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("models: train: no training texts")
	}
	tr := &learn.Trainer{Matcher: o.Matcher, Narratives: o.Matcher.Catalog().IDs(), Config: o.Config}
	cand, _, err := tr.Train(ctx, learn.FromItems(data))
	if err != nil {
		return nil, nil, fmt.Errorf("models: train: %w", err)
	}
	bl := o.Blind
	if bl == nil {
		if bl, err = blind.Load(); err != nil {
			return nil, nil, fmt.Errorf("models: blind split: %w", err)
		}
	}
	var active, candidate classifiers.Classifier = learn.New(o.Matcher, o.Active), learn.New(o.Matcher, cand)
	rep, err := gate.Compare(ctx, active, candidate, o.Active.Version(), cand.Version(),
		[]gate.Set{{Name: "blind", Items: bl}, {Name: "reviews-held-back", Items: holdBack}}, o.Tolerance)
	if err != nil {
		return nil, nil, err
	}
	rep.Training = gate.Training{Items: len(data), Reviewed: len(trainRev) + len(holdBack), HoldBack: len(holdBack),
		HoldBackSince: since, Seed: o.Config.Seed, Data: cand.Data}
	return cand, rep, nil
}

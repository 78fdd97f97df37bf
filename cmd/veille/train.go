package main

import (
	"context"
	"fmt"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/score"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train the statistical scorer from labelled JSONL",
		run:     runTrain,
	})
}

func runTrain(ctx context.Context, args []string) error {
	fs := newFlags("train")
	var data multiFlag
	fs.Var(&data, "data", "labelled JSONL file (repeatable)")
	out := fs.String("out", "model.json", "where to write the model")
	epochs := fs.Int("epochs", 8, "passes over the data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: veille train --data FILE.jsonl [--data ...] --out model.json", errUsage)
	}
	var items []eval.Item
	for _, p := range data {
		it, err := eval.LoadJSONL(p)
		if err != nil {
			return err
		}
		items = append(items, it...)
	}
	m := score.Train(examples(items), catalog.Default().IDs(), *epochs)
	if err := m.Save(*out); err != nil {
		return err
	}
	fmt.Printf("trained on %d items, %d narratives; wrote %s\n", len(items), len(m.Narratives), *out)
	return nil
}

func examples(items []eval.Item) []score.Example {
	out := make([]score.Example, len(items))
	for i, it := range items {
		out[i].Text = it.Text
		for _, l := range it.Labels {
			out[i].Narratives = append(out[i].Narratives, l.Narrative)
		}
	}
	return out
}

// byItem dispatches each item to the classifier trained without its fold.
type byItem struct {
	fold  map[string]int
	folds []classifiers.Classifier
}

func (b *byItem) Classify(ctx context.Context, d classifiers.Doc) (classifiers.Result, error) {
	return b.folds[b.fold[d.ID]].Classify(ctx, d)
}

func (b *byItem) Version() string { return b.folds[0].Version() + " (cross-validated)" }

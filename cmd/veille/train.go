package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/train"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train the learned layer from the project's training data (and --data files); writes the model",
		run:     runTrain,
	})
}

func runTrain(ctx context.Context, args []string) error {
	fs := newFlags("train")
	var data multiFlag
	fs.Var(&data, "data", "extra labelled JSONL file (repeatable)")
	noEmbedded := fs.Bool("no-embedded", false, "train on --data only, not on the project's training data")
	out := fs.String("out", "model.bin.gz", "where to write the model (the shipped one is classifiers/learn/model.bin.gz)")
	catDir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
	cfg := learn.DefaultConfig
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (same data and seed give the same model bytes)")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "passes over the data")
	fs.IntVar(&cfg.Folds, "folds", cfg.Folds, "folds for the out-of-fold calibration (1: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var items []eval.Item
	if !*noEmbedded {
		it, err := train.Load()
		if err != nil {
			return err
		}
		items = it
	}
	for _, p := range data {
		it, err := eval.LoadJSONL(p)
		if err != nil {
			return err
		}
		items = append(items, it...)
	}
	if len(items) == 0 {
		return fmt.Errorf("%w: no training items (veille train [--data FILE.jsonl ...] [--out model.bin.gz])", errUsage)
	}
	m, err := newMatcher(*catDir)
	if err != nil {
		return err
	}
	start := time.Now()
	tr := &learn.Trainer{Matcher: m, Narratives: m.Catalog().IDs(), Config: cfg}
	model, cv, err := tr.Train(ctx, learn.FromItems(items))
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, model.Bytes(), 0o644); err != nil {
		return fmt.Errorf("train: write %s: %w", *out, err)
	}
	fmt.Printf("trained %s on %d items (data %s, seed %d) in %s; wrote %s (%d bytes)\n",
		model.Version(), len(items), model.Data, cfg.Seed, time.Since(start).Round(time.Second), *out, len(model.Bytes()))
	writeCV(os.Stdout, cv)
	return nil
}

func writeCV(w io.Writer, cv *learn.CV) {
	if cv == nil || cv.Folds < 2 {
		return
	}
	c := cv.Calibration
	fmt.Fprintf(w, "\n%d-fold out-of-fold figures; calibration p = σ(%.3f·z %+.3f·rule %+.3f·mission %+.3f); threshold %.2f\n", cv.Folds, c.A, c.B, c.D, c.C, cv.Threshold)
	fmt.Fprintf(w, "%-12s %6s %6s %6s %7s %6s\n", "layer", "P", "R", "F1", "stance", "FPneg")
	for _, l := range []string{"rules", "model", "rules+model", "rules|model"} {
		f := cv.Layers[l]
		fmt.Fprintf(w, "%-12s %6.3f %6.3f %6.3f %7.3f %6.3f\n", l, f.P, f.R, f.F1, f.Stance, f.FPNeg)
	}
	fmt.Fprintf(w, "\nthreshold sweep (rules+model):\n%9s %6s %6s %6s %6s\n", "threshold", "P", "R", "F1", "FPneg")
	for _, r := range cv.Sweep {
		fmt.Fprintf(w, "%9.2f %6.3f %6.3f %6.3f %6.3f\n", r.Threshold, r.P, r.R, r.F1, r.FPNeg)
	}
	writeReliability(w, cv.Reliability)
}

func writeReliability(w io.Writer, rows []learn.ReliabilityRow) {
	fmt.Fprintf(w, "\nreliability (predicted vs observed):\n%-9s %6s %9s %8s\n", "p", "n", "predicted", "observed")
	for _, r := range rows {
		fmt.Fprintf(w, "%.1f-%.1f %6d %9.3f %8.3f\n", r.Lo, r.Hi, r.N, r.Predicted, r.Observed)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/train"
	"github.com/veille-project/veille/pipeline/models"
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
	reviews := fs.Bool("reviews", false, "add the reviewed items from storage, train a candidate, measure it against the active model and store it in the bus")
	promote := fs.Bool("promote", false, "with --reviews: promote the candidate when the gate passes")
	cfgPath := fs.String("config", "veille.yaml", "configuration file (with --reviews)")
	tol := gate.DefaultTolerance
	fs.Float64Var(&tol.Overall, "tolerance", tol.Overall, "with --reviews: how much lower a set's micro-F1 may be than the active model's")
	fs.Float64Var(&tol.Narrative, "narrative-tolerance", tol.Narrative, "with --reviews: how much lower one narrative's F1 may be")
	fs.IntVar(&tol.MinSupport, "min-support", tol.MinSupport, "with --reviews: examples a narrative needs in a set for its own check")
	by := fs.String("by", os.Getenv("USER"), "with --promote: who promotes, for the audit log")
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
	if *reviews {
		return trainFromReviews(ctx, *cfgPath, isSet(fs, "config"), items, cfg, tol, *promote, *by)
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

// trainFromReviews trains a candidate on items plus the stored reviews,
// gates it against the active model, stores both in the bus and, when
// asked and passed, promotes it.
func trainFromReviews(ctx context.Context, cfgPath string, explicit bool, items []eval.Item, cfg learn.Config, tol gate.Tolerance, promote bool, by string) error {
	r, reg, err := openModels(ctx, cfgPath, explicit)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.OpenStore(ctx); err != nil {
		return err
	}
	if err := r.OpenMatcher(); err != nil {
		return err
	}
	activeVersion, err := reg.Active(ctx)
	if err != nil {
		return err
	}
	active, err := reg.Model(ctx, activeVersion)
	if err != nil {
		return err
	}
	reviewed, err := r.Store.ReviewedItems(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	cand, rep, err := models.Train(ctx, models.TrainOptions{Matcher: r.Matcher, Base: items, Reviewed: reviewed, Active: active, Config: cfg, Tolerance: tol})
	if err != nil {
		return err
	}
	if err := reg.Put(ctx, cand, rep); err != nil {
		return err
	}
	fmt.Printf("trained candidate %s on %d texts in %s; stored in the bus\n\n", cand.Version(), rep.Training.Items, time.Since(start).Round(time.Second))
	rep.Write(os.Stdout)
	if !rep.Passed {
		fmt.Printf("\nnot promoted: the active model stays %s\n", activeVersion)
		return nil
	}
	if !promote {
		fmt.Printf("\npromote it with: veille model promote %s\n", cand.Version())
		return nil
	}
	if err := reg.Promote(ctx, cand.Version(), by); err != nil {
		return err
	}
	slog.Info("model promoted", "model", cand.Version(), "by", by)
	fmt.Printf("\npromoted: %s is the active model\n", cand.Version())
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/score"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func init() {
	register(&command{
		name:    "eval",
		summary: "score the classifier on labelled JSONL and transcripts",
		run:     runEval,
	})
}

func runEval(ctx context.Context, args []string) error {
	fs := newFlags("eval")
	var data multiFlag
	fs.Var(&data, "data", "labelled JSONL file (repeatable)")
	trDir := fs.String("transcripts", "", "directory with labels.jsonl and .vtt transcripts")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "exit 1 when a figure is below its target")
	catDir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
	misses := fs.Int("misses", 30, "how many misses to list")
	gateTr := fs.Float64("transcripts-f1", 0, "with --check, minimum transcript micro-F1 over (file, narrative, stance); 0 = report only")
	modelPath := fs.String("model", "", "statistical model from veille train: report rules, model and both")
	threshold := fs.Float64("threshold", 0.9, "model probability needed for a model flag")
	cv := fs.Int("cv", 0, "K-fold cross-validation of the statistical layer on --data (trains K models)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(data) == 0 && *trDir == "" {
		return fmt.Errorf("%w: veille eval --data FILE.jsonl [--data ...] [--transcripts DIR] [--json] [--check]", errUsage)
	}
	m, err := newMatcher(*catDir)
	if err != nil {
		return err
	}
	var items, trs []eval.Item
	for _, p := range data {
		it, err := eval.LoadJSONL(p)
		if err != nil {
			return err
		}
		items = append(items, it...)
	}
	if *trDir != "" {
		if trs, err = eval.LoadTranscripts(*trDir); err != nil {
			return err
		}
	}
	if *modelPath != "" || *cv > 1 {
		if err := compareLayers(ctx, m, items, trs, *modelPath, *threshold, *cv); err != nil {
			return err
		}
	}
	rep, err := eval.Run(ctx, m, items, trs)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else {
		fmt.Printf("classifier %s\n\n", m.Version())
		rep.Write(os.Stdout, *misses)
	}
	if *check {
		t := eval.DefaultTargets
		t.Transcripts = *gateTr
		if bad := rep.Check(t); len(bad) > 0 {
			for _, b := range bad {
				fmt.Fprintln(os.Stderr, "BELOW TARGET:", b)
			}
			return fmt.Errorf("%d figure(s) below target", len(bad))
		}
		fmt.Fprintln(os.Stderr, "all figures on target")
	}
	return nil
}

func newMatcher(dir string, opts ...match.Option) (*match.Matcher, error) {
	cat := catalog.Default()
	if dir != "" {
		var err error
		if cat, err = catalog.LoadDir(dir); err != nil {
			return nil, err
		}
	}
	return match.New(cat, opts...)
}

// compareLayers prints rules alone, the statistical model alone and both,
// either with a trained model file or by K-fold cross-validation.
func compareLayers(ctx context.Context, m *match.Matcher, items, trs []eval.Item, modelPath string, threshold float64, k int) error {
	layers := []struct {
		name  string
		layer score.Layer
	}{{"rules", score.RulesOnly}, {"model", score.ModelOnly}, {"rules+model", score.Both}}
	build := func(layer score.Layer) (classifiers.Classifier, error) {
		if k > 1 {
			b := &byItem{fold: map[string]int{}}
			for f := range k {
				var train []eval.Item
				for i, it := range items {
					if i%k == f {
						b.fold[it.ID] = f
					} else {
						train = append(train, it)
					}
				}
				model := score.Train(examples(train), m.Catalog().IDs(), 8)
				b.folds = append(b.folds, &score.Combined{Rules: m, Model: model, Threshold: threshold, Layer: layer})
			}
			return b, nil
		}
		model, err := score.Load(modelPath)
		if err != nil {
			return nil, err
		}
		return &score.Combined{Rules: m, Model: model, Threshold: threshold, Layer: layer}, nil
	}
	how := "model " + modelPath
	if k > 1 {
		how = fmt.Sprintf("%d-fold cross-validation", k)
	}
	fmt.Printf("layers (%s, threshold %.2f):\n%-12s %6s %6s %8s %7s %7s %8s\n", how, threshold, "layer", "P", "R", "microF1", "stance", "FPneg", "evidence")
	for _, l := range layers {
		c, err := build(l.layer)
		if err != nil {
			return err
		}
		rep, err := eval.Run(ctx, c, items, nil)
		if err != nil {
			return err
		}
		o := rep.Overall
		fmt.Printf("%-12s %6.3f %6.3f %8.3f %7.3f %7.3f %8.3f\n", l.name, o.Precision, o.Recall, o.F1, o.StanceAcc, o.FPRate, o.EvidenceOK)
	}
	fmt.Println()
	return nil
}

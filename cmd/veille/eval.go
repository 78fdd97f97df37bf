package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/parse"
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
	model := fs.String("model", "", "model file from veille train (default: the built-in model; \"rules\": rules alone)")
	threshold := fs.Float64("threshold", 0, "probability a flag needs (0: the model's own)")
	layers := fs.Bool("layers", true, "also report rules alone and model alone, the reliability table and a threshold sweep")
	t := eval.DefaultTargets
	fs.Float64Var(&t.F1EnFr, "min-f1-enfr", t.F1EnFr, "with --check, minimum micro-F1 for en and fr")
	fs.Float64Var(&t.F1Multi, "min-f1-other", t.F1Multi, "with --check, minimum micro-F1 for ar, sw, ln, sg")
	fs.Float64Var(&t.StanceAcc, "min-stance", t.StanceAcc, "with --check, minimum stance accuracy")
	fs.Float64Var(&t.MaxFPRate, "max-fp", t.MaxFPRate, "with --check, maximum share of unlabelled items flagged")
	fs.Float64Var(&t.EvidenceOK, "min-evidence", t.EvidenceOK, "with --check, minimum share of evidence spans overlapping gold evidence")
	gateTr := fs.Float64("transcripts-f1", 0, "with --check, minimum transcript micro-F1 over (file, narrative, stance); 0 = report only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(data) == 0 && *trDir == "" {
		return fmt.Errorf("%w: veille eval --data FILE.jsonl [--data ...] [--transcripts DIR] [--json] [--check]", errUsage)
	}
	m, err := newClassifier(*catDir, *model, *threshold)
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
		if trs, err = eval.LoadTranscripts(*trDir, readCues); err != nil {
			return err
		}
	}
	if err := eval.CheckNarratives(append(append([]eval.Item{}, items...), trs...), m.Rules().Catalog().IDs()); err != nil {
		return err
	}
	if *layers && !*asJSON && m.Model() != nil {
		if err := writeLayers(ctx, os.Stdout, m, items, trs); err != nil {
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

// newClassifier compiles the catalog (dir layered over the embedded one)
// and combines it with a model: "" for the built-in one, "rules" for none,
// or a file from veille train.
func newClassifier(dir, model string, threshold float64, opts ...match.Option) (*learn.Classifier, error) {
	m, err := newMatcher(dir, opts...)
	if err != nil {
		return nil, err
	}
	return learn.Open(m, model, threshold)
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

// writeLayers prints, per language, rules alone, model alone and both; then
// the reliability of the combined scores and precision and recall at
// several thresholds.
func writeLayers(ctx context.Context, w io.Writer, c *learn.Classifier, items, trs []eval.Item) error {
	fmt.Fprintf(w, "layers (threshold %.2f):\n%-12s %-8s %5s %6s %6s %6s %7s %6s\n", c.Threshold(), "layer", "group", "items", "P", "R", "F1", "stance", "FPneg")
	for _, l := range []learn.Layer{learn.RulesOnly, learn.ModelOnly, learn.Both} {
		rep, err := eval.Run(ctx, c.WithLayer(l), items, trs)
		if err != nil {
			return err
		}
		row := func(g string, s *eval.Scores) {
			fmt.Fprintf(w, "%-12s %-8s %5d %6.3f %6.3f %6.3f %7.3f %6.3f\n", l, g, s.Items, s.Precision, s.Recall, s.F1, s.StanceAcc, s.FPRate)
		}
		for _, g := range rep.Langs() {
			row(g, rep.ByLang[g])
		}
		row("overall", rep.Overall)
	}
	// One pass at a low threshold; higher thresholds filter its flags.
	low := c.WithLayer(learn.Both)
	low.SetThreshold(0.05)
	cache := &cachedResults{res: map[string]classifiers.Result{}}
	gold := map[string]map[string]bool{}
	for _, it := range append(append([]eval.Item{}, items...), trs...) {
		res, err := low.Classify(ctx, eval.DocOf(it))
		if err != nil {
			return err
		}
		cache.res[it.ID] = res
		g := map[string]bool{}
		for _, l := range it.Labels {
			g[l.Narrative] = true
		}
		gold[it.ID] = g
	}
	fmt.Fprintf(w, "\nthreshold sweep (rules+model):\n%9s %6s %6s %6s %7s %6s\n", "threshold", "P", "R", "F1", "stance", "FPneg")
	for _, t := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		cache.t = t
		rep, err := eval.Run(ctx, cache, items, trs)
		if err != nil {
			return err
		}
		o := rep.Overall
		fmt.Fprintf(w, "%9.2f %6.3f %6.3f %6.3f %7.3f %6.3f\n", t, o.Precision, o.Recall, o.F1, o.StanceAcc, o.FPRate)
	}
	writeReliability(w, learn.Reliability(func(yield func(float64, bool)) {
		for id, res := range cache.res {
			seen := map[string]bool{}
			for _, f := range res.Flags {
				if !seen[f.Narrative] {
					seen[f.Narrative] = true
					yield(f.Score, gold[id][f.Narrative])
				}
			}
		}
	}))
	fmt.Fprintln(w)
	return nil
}

// cachedResults replays stored results, keeping flags scored at least t.
type cachedResults struct {
	res map[string]classifiers.Result
	t   float64
}

func (c *cachedResults) Classify(_ context.Context, d classifiers.Doc) (classifiers.Result, error) {
	r := c.res[d.ID]
	out := classifiers.Result{Lang: r.Lang, Flags: []classifiers.Flag{}}
	for _, f := range r.Flags {
		if f.Score >= c.t {
			out.Flags = append(out.Flags, f)
		}
	}
	return out, nil
}

func (c *cachedResults) Version() string { return "cached" }

// readCues reads a transcript file as the ingest stage does.
func readCues(data []byte) ([]classifiers.Cue, error) {
	t, err := parse.ParseTranscript(data, "")
	if err != nil {
		return nil, err
	}
	return t.Cues, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/classifiers/blind"
	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/train"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/web"
)

func init() {
	register(&command{
		name:    "model",
		summary: "list the learned models, show a report, promote a candidate or roll back (list|show|promote|rollback)",
		run:     runModel,
	})
}

// openModels connects to the configured bus (the embedded one when the
// configuration names none) and binds the model registry.
func openModels(ctx context.Context, cfgPath string, explicit bool) (*run.Runner, *models.Registry, error) {
	cfg, err := config.Load(cfgPath, explicit)
	if err != nil {
		return nil, nil, err
	}
	r, err := run.Open(ctx, cfg, "model")
	if err != nil {
		return nil, nil, err
	}
	reg, err := models.Open(ctx, r.Bus)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, reg, nil
}

func runModel(ctx context.Context, args []string) error {
	usage := fmt.Errorf("%w: veille model list | show VERSION | promote VERSION | rollback  [--config veille.yaml] [--json] [--by NAME]", errUsage)
	if len(args) == 0 {
		return usage
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("model " + sub)
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	asJSON := fs.Bool("json", false, "print JSON")
	by := fs.String("by", os.Getenv("USER"), "who promotes or rolls back, for the audit log")
	force := fs.Bool("force", false, "promote without the gate (an emergency; recorded as a forced promotion)")
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	r, reg, err := openModels(ctx, *cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	defer r.Close()
	switch sub {
	case "list":
		list, err := reg.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tACTIVE\tSTORED\tTEXTS\tGATE\tBLIND F1 (ACTIVE → CANDIDATE)")
		for _, e := range list {
			active, gateCol, stored, blindCol := "", "-", "built in", "-"
			if e.Active {
				active = "yes"
			}
			if !e.Stored.IsZero() {
				stored = e.Stored.Format(time.DateTime)
			}
			if e.Report != nil {
				gateCol = "refused"
				if e.Report.Passed {
					gateCol = "passed"
				}
				for _, s := range e.Report.Sets {
					if s.Name == "blind" {
						blindCol = fmt.Sprintf("%.3f → %.3f", s.Active.F1, s.Candidate.F1)
					}
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.Version, active, stored, e.Items, gateCol, blindCol)
		}
		return tw.Flush()
	case "show":
		if len(pos) != 1 {
			return usage
		}
		v := pos[0]
		if _, err := reg.Model(ctx, v); err != nil {
			return err
		}
		rep, err := reg.Report(ctx, v)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(rep)
		}
		if rep == nil {
			fmt.Printf("%s is the built-in model: its figures are in docs/classifier.md\n", v)
			return nil
		}
		rep.Write(os.Stdout)
		return nil
	case "promote":
		if len(pos) != 1 {
			return usage
		}
		promote := reg.Promote
		if *force {
			promote = reg.ForcePromote
		}
		if err := promote(ctx, pos[0], *by); err != nil {
			return err
		}
		slog.Info("model promoted", "model", pos[0], "by", *by, "forced", *force)
		fmt.Printf("%s is now the active model; running classify workers swap it in within seconds\n", pos[0])
		return nil
	case "rollback":
		v, err := reg.Rollback(ctx, *by)
		if err != nil {
			return err
		}
		slog.Info("model rolled back", "model", v, "by", *by)
		fmt.Printf("rolled back: %s is the active model again\n", v)
		return nil
	}
	return usage
}

// modelAdmin is the web app's view of the model registry.
type modelAdmin struct {
	reg *models.Registry
	*webTraining
	blind *blindFigures
}

// blindFigures measures model versions on the blind split, once each.
type blindFigures struct {
	mu   sync.Mutex
	seen map[string]gate.Figures
}

func (b *blindFigures) of(ctx context.Context, r *run.Runner, reg *models.Registry, version string) (*gate.Figures, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.seen[version]; ok {
		return &f, nil
	}
	m, err := reg.Model(ctx, version)
	if err != nil {
		return nil, err
	}
	items, err := blind.Load()
	if err != nil {
		return nil, err
	}
	f, err := gate.Measure(ctx, learn.New(r.Matcher, m), items)
	if err != nil {
		return nil, err
	}
	if b.seen == nil {
		b.seen = map[string]gate.Figures{}
	}
	b.seen[version] = f
	return &f, nil
}

func (m modelAdmin) List(ctx context.Context) ([]web.ModelEntry, error) {
	list, err := m.reg.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.ModelEntry, 0, len(list))
	for _, e := range list {
		we := web.ModelEntry{Version: e.Version, Active: e.Active, BuiltIn: e.BuiltIn, Stored: e.Stored, Items: e.Items, Report: e.Report}
		if e.Active && m.blind != nil {
			if we.Blind, err = m.blind.of(ctx, m.r, m.reg, e.Version); err != nil {
				return nil, err
			}
		}
		for _, p := range e.Promoted {
			we.Changes = append(we.Changes, web.ModelChange{Action: p.Action, By: p.By, At: p.At})
		}
		out = append(out, we)
	}
	return out, nil
}

func (m modelAdmin) Promote(ctx context.Context, version, by string) error {
	return webModelErr(m.reg.Promote(ctx, version, by))
}

func (m modelAdmin) Rollback(ctx context.Context, by string) (string, error) {
	v, err := m.reg.Rollback(ctx, by)
	return v, webModelErr(err)
}

// webModelErr marks the registry's errors with the web app's sentinels so
// that the page and the API answer with the right status.
func webModelErr(err error) error {
	switch {
	case errors.Is(err, models.ErrGateRefused):
		return markedErr{err, web.ErrGateRefused}
	case errors.Is(err, models.ErrNoPrevious):
		return markedErr{err, web.ErrNoPrevious}
	case errors.Is(err, models.ErrNoSuchModel):
		return markedErr{err, web.ErrNoSuchModel}
	}
	return err
}

// markedErr reads as its cause and also is mark, for errors.Is.
type markedErr struct{ cause, mark error }

func (e markedErr) Error() string   { return e.cause.Error() }
func (e markedErr) Unwrap() []error { return []error{e.cause, e.mark} }

// webTraining trains candidates for the web app, one at a time, in the
// background of the serving process.
type webTraining struct {
	r   *run.Runner
	reg *models.Registry

	mu     sync.Mutex
	status web.TrainingStatus
}

// Train starts a training unless one runs.
func (t *webTraining) Train(_ context.Context, by string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status.Running {
		return markedErr{fmt.Errorf("a candidate is being trained already (started by %s)", t.status.By), web.ErrTraining}
	}
	t.status = web.TrainingStatus{Running: true, By: by, Started: time.Now().UTC()}
	go t.run(by)
	return nil
}

func (t *webTraining) run(by string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cand, rep, err := t.train(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.Running, t.status.Finished = false, time.Now().UTC()
	if err != nil {
		t.status.Error = err.Error()
		t.r.Log.Error("training from the web app failed", "by", by, "err", err)
		return
	}
	t.status.Candidate, t.status.Passed = cand, rep.Passed
	t.r.Log.Info("candidate trained from the web app", "by", by, "candidate", cand, "passed", rep.Passed)
}

func (t *webTraining) train(ctx context.Context) (string, *gate.Report, error) {
	base, err := train.Load()
	if err != nil {
		return "", nil, err
	}
	v, err := t.reg.Active(ctx)
	if err != nil {
		return "", nil, err
	}
	active, err := t.reg.Model(ctx, v)
	if err != nil {
		return "", nil, err
	}
	reviewed, err := t.r.Store.ReviewedItems(ctx)
	if err != nil {
		return "", nil, err
	}
	cand, rep, err := models.Train(ctx, models.TrainOptions{Matcher: t.r.Matcher, Base: base, Reviewed: reviewed, Active: active,
		Config: learn.DefaultConfig, Tolerance: gate.DefaultTolerance})
	if err != nil {
		return "", nil, err
	}
	if err := t.reg.Put(ctx, cand, rep); err != nil {
		return "", nil, err
	}
	return cand.Version(), rep, nil
}

// Training reports the state of the last training.
func (t *webTraining) Training() web.TrainingStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// parseInterspersed parses flags wherever they stand among the arguments
// ("show VERSION --json" as well as "show --json VERSION") and returns
// the other arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

package main

import (
	"os"
	"strings"
	"time"

	"context"
	"fmt"
	"github.com/veille-project/veille/classifiers/emerging"
	"io"

	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/run"
)

// newAlertEngine builds the surge-alert engine over the runner's store and
// bus, or returns nil when no rule is configured.
func newAlertEngine(ctx context.Context, r *run.Runner) (*alert.Engine, error) {
	if len(r.Config.Alerts.Rules) == 0 {
		return nil, nil
	}
	titles := func(id, lang string) string { return r.Matcher.Catalog().Title(id, lang) }
	eng, err := alert.New(ctx, alert.FromConfig(r.Config, r.Store, r.Bus.JS, titles))
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return eng, nil
}

// demoAlerts lists the newest alerts of the log (those just raised when
// the log cannot be read).
func demoAlerts(ctx context.Context, w io.Writer, eng *alert.Engine, fresh []alert.Record) {
	recs, err := eng.Log().Recent(ctx, 5)
	if err != nil || len(recs) == 0 {
		recs = fresh
	}
	fmt.Fprintln(w, "alerts:")
	if len(recs) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	_ = printAlerts(w, recs, false)
}

// demoEmerging prints the top groups of unflagged texts that say the same
// thing over the fortnight before until, and returns them.
func demoEmerging(ctx context.Context, w io.Writer, r *run.Runner, until time.Time) ([]emerging.Group, error) {
	sq, ok := r.Store.(alert.SQLStore)
	if !ok {
		return nil, nil
	}
	groups, err := alert.Emerging(ctx, sq, nil, until.Add(-14*24*time.Hour), until, emerging.Options{
		Limit: 3, Bridge: emerging.NewBridge(r.Matcher.Catalog()),
	})
	if err != nil {
		return nil, fmt.Errorf("emerging: %w", err)
	}
	fmt.Fprintln(w, "emerging (unflagged texts that say the same thing; promote them on /emerging):")
	if len(groups) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, g := range groups {
		fmt.Fprintf(w, "  %d items, %d sources, %v: %s\n", len(g.Items), len(g.Sources), g.Langs, strings.Join(g.Terms[:min(6, len(g.Terms))], ", "))
	}
	return groups, nil
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

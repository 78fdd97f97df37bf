package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/run"
)

func init() {
	register(&command{
		name:    "alerts",
		summary: "surge alerts: run the engine, check rules (dry run), list recent alerts",
		run:     runAlerts,
	})
}

const alertsUsage = `usage: veille alerts run|check|recent [flags]

  run      evaluate the rules every alerts.interval and deliver alerts
  check    evaluate the rules once (at --at) and print what would be sent
  recent   list recent alerts with their delivery status (-n, --json)`

func runAlerts(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: %s", errUsage, alertsUsage)
	}
	mode := args[0]
	fs := newFlags("alerts " + mode)
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	n := fs.Int("n", 20, "recent: how many alerts")
	asJSON := fs.Bool("json", false, "print JSON")
	at := fs.String("at", "", "check: evaluation time (RFC 3339; default now)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch mode {
	case "run", "check", "recent":
	default:
		return fmt.Errorf("%w: %s", errUsage, alertsUsage)
	}
	cfg, err := config.Load(*cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	r, err := run.Open(ctx, cfg, "alerts")
	if err != nil {
		return err
	}
	defer r.Close()
	if mode == "recent" {
		l, err := alert.OpenLog(ctx, r.Bus.JS, cfg.Replicas)
		if err != nil {
			return err
		}
		recs, err := l.Recent(ctx, *n)
		if err != nil {
			return err
		}
		return printAlerts(os.Stdout, recs, *asJSON)
	}
	if err := r.OpenStore(ctx); err != nil {
		return err
	}
	cat := catalog.Default()
	if dir := run.CatalogDir(cfg); cfg.Catalog != "" || dirExists(dir) {
		if cat, err = catalog.LoadDir(dir); err != nil {
			return err
		}
	}
	eng, err := alert.New(ctx, alert.FromConfig(cfg, r.Store, r.Bus.JS, cat.Title))
	if err != nil {
		return err
	}
	if mode == "run" {
		return eng.Run(ctx)
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("%w: --at %q: want RFC 3339, e.g. 2026-05-04T10:00:00Z", errUsage, *at)
		}
	}
	recs, err := eng.Check(ctx, now)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAlerts(os.Stdout, recs, true)
	}
	if len(recs) == 0 {
		fmt.Println("no rule fires at", now.UTC().Format(time.RFC3339))
	}
	for _, rec := range recs {
		fmt.Printf("== %s [%s] %s\n%s\n", rec.Rule, rec.Kind, rec.Subject, rec.Text)
	}
	return nil
}

func printAlerts(w io.Writer, recs []alert.Record, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if recs == nil {
			recs = []alert.Record{}
		}
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tKIND\tRULE\tNARRATIVE\tRECENT\tFACTOR\tDELIVERIES")
	for _, r := range recs {
		var ds []string
		for _, d := range r.Deliveries {
			s := fmt.Sprintf("%s:%s/%d", d.Channel, d.Status, d.Attempts)
			if d.LastError != "" {
				s += " (" + d.LastError + ")"
			}
			ds = append(ds, s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.1f\t%s\n", r.At.Format("2006-01-02 15:04"), r.Kind, r.Rule, r.Narrative, r.Recent, r.Factor, strings.Join(ds, " "))
	}
	return tw.Flush()
}

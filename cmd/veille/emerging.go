package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
)

func init() {
	register(&command{
		name:    "emerging",
		summary: "list groups of unflagged texts about the missions that say the same thing (rumours the catalog lacks)",
		run:     runEmerging,
	})
}

func runEmerging(ctx context.Context, args []string) error {
	fs := newFlags("emerging")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	sinceFlag := fs.String("since", "48h", "how far back to read items (Go duration or Nd)")
	recent := fs.String("recent", "12h", "span counted as recent for growth")
	minItems := fs.Int("min-items", 3, "smallest group listed")
	minShared := fs.Int("min-shared", 3, "salient terms two texts must share to be grouped")
	limit := fs.Int("limit", 20, "groups listed")
	asJSON := fs.Bool("json", false, "print JSON")
	draft := fs.String("draft", "", "print the draft catalog entry (YAML) of this group id")
	promote := fs.String("promote", "", "validate an edited entry (YAML file) and save it in the catalog directory")
	natsURL := fs.String("nats", "", "NATS URL whose dismissals to apply (default: none read)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	if *promote != "" {
		data, err := os.ReadFile(*promote)
		if err != nil {
			return err
		}
		if _, err := emerging.PromoteYAML(ctx, run.CatalogDir(cfg), data, nil); err != nil {
			return err
		}
		fmt.Printf("saved in %s; running matchers pick it up when they reload the catalog\n", run.CatalogDir(cfg))
		return nil
	}
	since, err := config.ParseDuration(*sinceFlag)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	rec, err := config.ParseDuration(*recent)
	if err != nil {
		return fmt.Errorf("%w: --recent: %v", errUsage, err)
	}
	db, err := backend.OpenWith(ctx, cfg.ClickHouse, cfg.DataDir, storage.Options{TextRetention: time.Duration(cfg.TextRetention)})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	var dis *alert.Dismissals
	if *natsURL != "" {
		b, err := bus.Connect(ctx, *natsURL, "veille-emerging")
		if err != nil {
			return err
		}
		defer b.Close()
		if dis, err = alert.OpenDismissals(ctx, b.JS, cfg.Replicas); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	cat := catalog.Default()
	if dir := run.CatalogDir(cfg); cfg.Catalog != "" || dirExists(dir) {
		if cat, err = catalog.LoadDir(dir); err != nil {
			return err
		}
	}
	opts := emerging.Options{Recent: rec, MinItems: *minItems, MinShared: *minShared, Bridge: emerging.NewBridge(cat)}
	if *draft == "" {
		opts.Limit = *limit
	}
	groups, err := alert.Emerging(ctx, db, dis, now.Add(-since), now.Add(time.Second), opts)
	if err != nil {
		return err
	}
	if *draft != "" {
		for _, g := range groups {
			if g.ID == *draft {
				b, err := emerging.MarshalEntry(emerging.Draft(g))
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(b)
				return err
			}
		}
		return errors.New("emerging: no group " + *draft + " in the period")
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if groups == nil {
			groups = []emerging.Group{}
		}
		return enc.Encode(groups)
	}
	if len(groups) == 0 {
		fmt.Println("no group of unflagged texts about the missions since", now.Add(-since).Format(time.RFC3339))
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tGROUP\tSCORE\tITEMS\tGROWTH\tSOURCES\tLANGS\tFIRST\tLAST\tTERMS")
	for i, g := range groups {
		fmt.Fprintf(tw, "%d\t%s\t%.1f\t%d\t%.1f\t%d\t%s\t%s\t%s\t%s\n", i+1, g.ID, g.Score, len(g.Items), g.Growth, len(g.Sources),
			strings.Join(g.Langs, ","), g.FirstSeen.Format("01-02 15:04"), g.LastSeen.Format("01-02 15:04"), strings.Join(g.Terms, " "))
	}
	return tw.Flush()
}

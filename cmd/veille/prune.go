package main

import (
	"context"
	"fmt"
	"time"

	"github.com/veille-project/veille/pipeline/config"
)

func init() {
	register(&command{
		name:    "prune",
		summary: "blank the raw text of old items (flags and counts stay): prune --before 90d",
		run:     runPrune,
	})
}

func runPrune(ctx context.Context, args []string) error {
	fs := newFlags("prune")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	before := fs.String("before", "", "age of the items to prune, e.g. 90d or 2160h (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *before == "" {
		return fmt.Errorf("%w: veille prune --before 90d [--config veille.yaml]", errUsage)
	}
	age, err := config.ParseDuration(*before)
	if err != nil || age <= 0 {
		return fmt.Errorf("%w: --before %q: want a positive duration such as 90d", errUsage, *before)
	}
	db, err := openConfiguredStore(ctx, fs, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	cutoff := time.Now().Add(-age).UTC()
	n, err := db.Prune(ctx, cutoff)
	if err != nil {
		return err
	}
	fmt.Printf("pruned the text of %d items published before %s\n", n, cutoff.Format(time.RFC3339))
	return nil
}

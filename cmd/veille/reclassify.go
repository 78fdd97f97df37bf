package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/pipeline/run"
)

func init() {
	register(&command{
		name:    "reclassify",
		summary: "re-run the active classifier over stored items and replace their flags (--since 30d)",
		run:     runReclassify,
	})
}

func runReclassify(ctx context.Context, args []string) error {
	fs := newFlags("reclassify")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	sinceFlag := fs.String("since", "30d", "re-classify items published in this span before now")
	batch := fs.Int("batch", 200, "items classified and stored at a time")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	span, err := config.ParseDuration(*sinceFlag)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	cfg, err := config.Load(*cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	r, err := run.OpenAll(ctx, cfg, "reclassify")
	if err != nil {
		return err
	}
	defer r.Close()
	if r.ModelFollowsBus() {
		reg, err := models.Open(ctx, r.Bus)
		if err != nil {
			return err
		}
		v, err := reg.Active(ctx)
		if err != nil {
			return err
		}
		m, err := reg.Model(ctx, v)
		if err != nil {
			return err
		}
		r.Classifier.Swap(m)
	}
	since := time.Now().UTC().Add(-time.Duration(span))
	res, err := r.Reclassify(ctx, since, *batch, func(p run.Reclassified) {
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "\r%d items re-classified", p.Items)
		}
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	c := res.Counts
	fmt.Printf("\r%d items published since %s re-classified with %s: %d flags stored, %d replaced, %d retracted, %d kept (reviewed or added by a reviewer)\n",
		res.Items, since.Format(time.DateOnly), res.Version, c.Stored, c.Replaced, c.Retracted, c.Kept)
	return nil
}

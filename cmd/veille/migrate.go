package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "create or upgrade the ClickHouse schema",
		run:     runMigrate,
	})
}

// storeFlagWasSet reports whether the flag name was given on the command line.
func storeFlagWasSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// openConfiguredStore loads the configuration and opens (and migrates) the
// store it names.
func openConfiguredStore(ctx context.Context, fs *flag.FlagSet, cfgPath string) (*storage.DB, error) {
	cfg, err := config.Load(cfgPath, storeFlagWasSet(fs, "config"))
	if err != nil {
		return nil, err
	}
	db, err := backend.OpenWith(ctx, cfg.ClickHouse, cfg.DataDir, storage.Options{TextRetention: time.Duration(cfg.TextRetention)})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return db, nil
}

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlags("migrate")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openConfiguredStore(ctx, fs, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.AppliedVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: database %s at schema version %d\n", db.Backend(), db.Database(), v)
	return nil
}

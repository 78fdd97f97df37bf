package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/synth"
)

func init() { registerBench("store", benchStore) }

const benchStoreUsage = `veille bench store [--flags 1000000] [--batch 5000] [--runs 5] [--order time|random] [--server clickhouse://host:9000/db] [--no-embedded] [--dir DIR] [--keep]`

// benchStore measures flag inserts per second and trend query latency on
// each available backend, in a throw-away database.
func benchStore(ctx context.Context, args []string) error {
	fs := newFlags("bench store")
	n := fs.Int("flags", 1_000_000, "flags to insert")
	batch := fs.Int("batch", 5000, "flags per insert")
	runs := fs.Int("runs", 5, "runs of each query (the median is reported)")
	srv := fs.String("server", "", "also measure this ClickHouse server (clickhouse://host:9000/db)")
	noEmbedded := fs.Bool("no-embedded", false, "skip the embedded chDB backend")
	dir := fs.String("dir", "", "chDB data directory (default: a temporary one, removed afterwards)")
	order := fs.String("order", "time", "publication times: time (in arrival order, as feeds deliver them) or random (uniform over 90 days: every batch touches every month)")
	keep := fs.Bool("keep", false, "keep the database (veille_bench) afterwards, for inspection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 || *batch <= 0 || *runs <= 0 || (*order != "time" && *order != "random") {
		return fmt.Errorf("%w: %s", errUsage, benchStoreUsage)
	}
	var targets []string
	if !*noEmbedded {
		targets = append(targets, "embedded")
	}
	if *srv != "" {
		targets = append(targets, *srv)
	}
	if len(targets) == 0 {
		return fmt.Errorf("%w: nothing to measure\n%s", errUsage, benchStoreUsage)
	}
	for _, dsn := range targets {
		dataDir := *dir
		if dsn == "embedded" && dataDir == "" {
			tmp, err := os.MkdirTemp("", "veille-bench-store-")
			if err != nil {
				return err
			}
			if *keep {
				fmt.Printf("embedded data kept in %s\n", tmp)
			} else {
				defer os.RemoveAll(tmp)
			}
			dataDir = tmp
		}
		if err := benchStoreOne(ctx, dsn, dataDir, *order, *n, *batch, *runs, *keep); err != nil {
			return err
		}
	}
	return nil
}

func benchStoreOne(ctx context.Context, dsn, dataDir, order string, n, batch, runs int, keep bool) error {
	opts := storage.Options{Database: "veille_bench"}
	conn, err := backend.Conn(ctx, dsn, dataDir, &opts)
	if err != nil {
		return err
	}
	if opts.Database == "" || opts.Database == storage.DefaultDatabase {
		opts.Database = "veille_bench"
	}
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+opts.Database); err != nil {
		conn.Close()
		return fmt.Errorf("bench store: drop %s: %w", opts.Database, err)
	}
	db, err := storage.New(ctx, conn, opts)
	if err != nil {
		conn.Close()
		return err
	}
	defer func() {
		if !keep {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+opts.Database)
		}
		db.Close()
	}()
	fmt.Printf("backend %s, database %s: %d flags in batches of %d, published in %s order\n", db.Backend(), opts.Database, n, batch, order)

	now := time.Now().UTC().Truncate(time.Second)
	gen := synth.New(1, now.Add(-90*24*time.Hour), 90*24*time.Hour)
	if order == "time" {
		gen.InOrder(n)
	}
	// Items first, as the pipeline's store stage does: an item's flags then
	// find its publication time in the store's cache.
	var spentItems, spentFlags time.Duration
	items := 0
	for done := 0; done < n; done += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		flags := gen.Flags(min(batch, n-done))
		its := synth.ItemsOf(flags)
		items += len(its)
		start := time.Now()
		if err := db.InsertItems(ctx, its); err != nil {
			return err
		}
		spentItems += time.Since(start)
		start = time.Now()
		if err := db.InsertFlags(ctx, flags); err != nil {
			return err
		}
		spentFlags += time.Since(start)
	}
	fmt.Printf("  insert items: %.0f items/s (%d items in %v)\n", float64(items)/spentItems.Seconds(), items, spentItems.Round(time.Millisecond))
	fmt.Printf("  insert flags: %.0f flags/s (%d flags in %v)\n", float64(n)/spentFlags.Seconds(), n, spentFlags.Round(time.Millisecond))

	queries := benchStoreQueries(db, now)
	measure := func(label string) error {
		fmt.Printf("  queries (%s), median of %d runs:\n", label, runs)
		for _, q := range queries {
			times := make([]time.Duration, runs)
			for i := range times {
				start := time.Now()
				if err := q.run(ctx); err != nil {
					return fmt.Errorf("bench store: %s: %w", q.name, err)
				}
				times[i] = time.Since(start)
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			fmt.Printf("    %-40s %8.1f ms\n", q.name, float64(times[runs/2].Microseconds())/1000)
		}
		return nil
	}
	if err := measure("right after inserting"); err != nil {
		return err
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+opts.Database+".flags FINAL"); err != nil {
		return fmt.Errorf("bench store: optimize: %w", err)
	}
	return measure("after OPTIMIZE FINAL")
}

type benchQuery struct {
	name string
	run  func(ctx context.Context) error
}

func benchStoreQueries(db *storage.DB, now time.Time) []benchQuery {
	trend := func(name string, q storage.TrendQuery) benchQuery {
		return benchQuery{"trends " + name, func(ctx context.Context) error { _, err := db.Trends(ctx, q); return err }}
	}
	since := storage.Filter{Since: now.Add(-30 * 24 * time.Hour)}
	return []benchQuery{
		trend("narrative", storage.TrendQuery{By: []string{"narrative"}}),
		trend("narrative×day, 30d", storage.TrendQuery{Filter: since, By: []string{"narrative", "day"}}),
		trend("mission×lang×narrative, 30d", storage.TrendQuery{Filter: since, By: []string{"mission", "lang", "narrative"}}),
		trend("source×stance×day, 1 narrative", storage.TrendQuery{Filter: storage.Filter{Narratives: []string{synth.Narratives[0]}}, By: []string{"source", "stance", "day"}}),
		trend("narrative×hour, 7d, 1 mission", storage.TrendQuery{Filter: storage.Filter{Since: now.Add(-7 * 24 * time.Hour), Missions: []string{"MINUSCA"}}, By: []string{"narrative", "hour"}}),
		{"rising 24h vs 7d", func(ctx context.Context) error {
			_, err := db.Rising(ctx, storage.RisingQuery{Now: now, Window: 24 * time.Hour, Baseline: 7 * 24 * time.Hour})
			return err
		}},
		{"spread 1 narrative, 30d", func(ctx context.Context) error {
			_, err := db.Spread(ctx, synth.Narratives[1], now.Add(-30*24*time.Hour))
			return err
		}},
		{"counts", func(ctx context.Context) error { _, err := db.Counts(ctx); return err }},
	}
}

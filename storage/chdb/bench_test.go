package chdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/synth"
)

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkInsertFlags inserts batches of 5000 flags; the pipeline's store
// stage does the same.
func BenchmarkInsertFlags(b *testing.B) {
	db := open(b)
	ctx := context.Background()
	gen := synth.New(1, benchStart, 90*24*time.Hour)
	const batch = 5000
	rows := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		flags := gen.Flags(batch)
		b.StartTimer()
		if err := db.InsertFlags(ctx, flags); err != nil {
			b.Fatal(err)
		}
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "flags/s")
}

// BenchmarkInsertItems inserts the items of batches of 5000 flags, then
// the flags, as the pipeline's store stage does (the flags then find their
// items' publication times in the store's cache); it reports both rates.
// Publication times are uniform over 90 days: every batch touches every
// month, the worst case.
func BenchmarkInsertItems(b *testing.B) {
	benchInsertItems(b, synth.New(3, benchStart, 90*24*time.Hour))
}

// BenchmarkInsertItemsInOrder is BenchmarkInsertItems with publication
// times advancing as feeds deliver them.
func BenchmarkInsertItemsInOrder(b *testing.B) {
	benchInsertItems(b, synth.New(3, benchStart, 90*24*time.Hour).InOrder(b.N*5000))
}

func benchInsertItems(b *testing.B, gen *synth.Gen) {
	db := open(b)
	ctx := context.Background()
	const batch = 5000
	var items, flags int
	var inItems, inFlags time.Duration
	for i := 0; i < b.N; i++ {
		fl := gen.Flags(batch)
		its := synth.ItemsOf(fl)
		start := time.Now()
		if err := db.InsertItems(ctx, its); err != nil {
			b.Fatal(err)
		}
		inItems += time.Since(start)
		start = time.Now()
		if err := db.InsertFlags(ctx, fl); err != nil {
			b.Fatal(err)
		}
		inFlags += time.Since(start)
		items += len(its)
		flags += len(fl)
	}
	b.ReportMetric(float64(items)/inItems.Seconds(), "items/s")
	b.ReportMetric(float64(flags)/inFlags.Seconds(), "flags/s")
}

// BenchmarkTrends runs the narrative×day trend over 1M flags.
func BenchmarkTrends(b *testing.B) {
	db := open(b)
	ctx := context.Background()
	gen := synth.New(2, benchStart, 90*24*time.Hour)
	for i := 0; i < 1_000_000; i += 50000 {
		if err := db.InsertFlags(ctx, gen.Flags(50000)); err != nil {
			b.Fatal(err)
		}
	}
	q := storage.TrendQuery{Filter: storage.Filter{Since: benchStart.Add(60 * 24 * time.Hour)}, By: []string{"narrative", "day"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Trends(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

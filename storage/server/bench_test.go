package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/server"
	"github.com/veille-project/veille/storage/storagetest"
	"github.com/veille-project/veille/storage/synth"
)

// BenchmarkInsertFlags inserts batches of 5000 flags into a clickhouse-server
// started for the benchmark.
func BenchmarkInsertFlags(b *testing.B) {
	ctx := context.Background()
	conn, _, err := server.Open(ctx, storagetest.StartServer(b))
	if err != nil {
		b.Fatal(err)
	}
	db, err := storage.New(ctx, conn, storage.Options{Database: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	gen := synth.New(1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 90*24*time.Hour)
	const batch = 5000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		flags := gen.Flags(batch)
		b.StartTimer()
		if err := db.InsertFlags(ctx, flags); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "flags/s")
}

package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/server"
	"github.com/veille-project/veille/storage/storagetest"
)

var dbSeq atomic.Int64

func openOn(t *testing.T, dsn string) *storage.DB {
	t.Helper()
	return openNamed(t, dsn, fmt.Sprintf("test_%d", dbSeq.Add(1)))
}

func openNamed(t *testing.T, dsn, name string) *storage.DB {
	t.Helper()
	ctx := context.Background()
	conn, _, err := server.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.New(ctx, conn, storage.Options{Database: name})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSuite(t *testing.T) {
	dsn := storagetest.StartServer(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return openOn(t, dsn) })
	storagetest.RunTwice(t, func(t *testing.T) (*storage.DB, *storage.DB) {
		name := fmt.Sprintf("test_%d", dbSeq.Add(1))
		return openNamed(t, dsn, name), openNamed(t, dsn, name)
	})
}

func TestStoppedServerIsTransientAndRecovers(t *testing.T) {
	srv := storagetest.NewServer(t)
	db := openOn(t, srv.DSN())
	ctx := context.Background()
	item := storage.Item{ID: "a", Source: "s", Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := db.InsertItems(ctx, []storage.Item{item}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	err := db.InsertItems(ctx, []storage.Item{{ID: "b", Source: "s"}})
	if !errors.Is(err, storage.ErrTransient) {
		t.Fatalf("insert with the server down = %v, want ErrTransient", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = db.InsertItems(ctx, []storage.Item{{ID: "b", Source: "s"}})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
	tot, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Items != 2 {
		t.Fatalf("items after restart = %d, want 2 (data kept, retry stored once)", tot.Items)
	}
}

func TestBadSQLIsNotTransient(t *testing.T) {
	conn, _, err := server.Open(context.Background(), storagetest.StartServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Exec(context.Background(), "SELEKT 1")
	if err == nil || errors.Is(err, storage.ErrTransient) {
		t.Fatalf("bad SQL = %v, want a non-transient error", err)
	}
}

func TestOldServerDegrades(t *testing.T) {
	dsn := storagetest.StartServer(t)
	db := openOn(t, dsn)
	// Text retention needs TTL (19.6+); on an older server New still
	// succeeds and prune does the job.
	conn, _, err := server.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if db.Backend() != "clickhouse "+conn.Version() || conn.Version() == "" {
		t.Fatalf("Backend() = %q", db.Backend())
	}
	db2, err := storage.New(context.Background(), conn, storage.Options{Database: "retention", TextRetention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("New with retention on %s: %v", conn.Version(), err)
	}
	db2.Close()
}

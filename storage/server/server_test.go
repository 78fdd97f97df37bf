package server_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/server"
	"github.com/veille-project/veille/storage/storagetest"
)

var dbSeq atomic.Int64

func openOn(t *testing.T, dsn string) *storage.DB {
	t.Helper()
	ctx := context.Background()
	conn, _, err := server.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.New(ctx, conn, storage.Options{Database: fmt.Sprintf("test_%d", dbSeq.Add(1))})
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
}

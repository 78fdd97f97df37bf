// Package backend opens the Store a DSN names: "embedded" (or "") for chDB
// under the data directory, clickhouse://host:9000/db for a server. A binary
// built with -tags nochdb has only the server backend.
package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/server"
)

// ErrNoEmbedded is returned for "embedded" by a binary built without chDB.
var ErrNoEmbedded = errors.New("backend: this binary was built without the embedded chDB backend (-tags nochdb)")

// openEmbedded is set by the chDB branch (backend_chdb.go).
var openEmbedded func(dataDir string) (storage.Conn, error)

// Open opens the store a DSN names and applies pending migrations.
func Open(ctx context.Context, dsn, dataDir string) (storage.Store, error) {
	return OpenWith(ctx, dsn, dataDir, storage.Options{})
}

// OpenWith is Open with options (database, text retention). A database
// named by a server DSN's path wins over opts.Database.
func OpenWith(ctx context.Context, dsn, dataDir string, opts storage.Options) (*storage.DB, error) {
	conn, err := Conn(ctx, dsn, dataDir, &opts)
	if err != nil {
		return nil, err
	}
	db, err := storage.New(ctx, conn, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return db, nil
}

// Conn opens the backend connection alone, setting opts.Database from a
// server DSN.
func Conn(ctx context.Context, dsn, dataDir string, opts *storage.Options) (storage.Conn, error) {
	switch {
	case dsn == "" || dsn == "embedded":
		if openEmbedded == nil {
			return nil, ErrNoEmbedded
		}
		if dataDir == "" {
			dataDir = "data"
		}
		return openEmbedded(filepath.Join(dataDir, "clickhouse"))
	case strings.HasPrefix(dsn, "clickhouse://"):
		c, db, err := server.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		if db != "" {
			opts.Database = db
		}
		return c, nil
	default:
		return nil, fmt.Errorf("backend: clickhouse setting: want \"embedded\" or clickhouse://host:9000/db")
	}
}

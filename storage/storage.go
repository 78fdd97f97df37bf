// Package storage owns Veille's ClickHouse schema, its migrations and every
// query the CLI and the web app run. One SQL dialect serves two backends:
// chDB embedded in-process (storage/chdb) and a ClickHouse server through
// clickhouse-go (storage/server). Writes are idempotent: rows are keyed on
// stable ids so that a redelivered or re-polled item never counts twice.
package storage

import (
	"context"

	"github.com/veille-project/veille/domain"
)

// The domain types, under the names storage has always used.
type (
	Cue      = domain.Cue
	Item     = domain.Item
	Evidence = domain.Evidence
	Flag     = domain.Flag
	Review   = domain.Review
)

// Writer is what the pipeline's store stage needs.
type Writer interface {
	InsertItems(ctx context.Context, items []Item) error
	InsertFlags(ctx context.Context, flags []Flag) error
}

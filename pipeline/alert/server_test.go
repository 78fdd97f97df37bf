package alert_test

import (
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/storagetest"
)

// TestCandidatesOnClickHouseServer runs the emerging query, which is SQL of
// this package's own, on the server backend too (Debian's clickhouse-server,
// the oldest version supported).
func TestCandidatesOnClickHouseServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a clickhouse-server")
	}
	dsn := storagetest.StartServer(t)
	ctx := testCtx(t)
	db, err := backend.OpenWith(ctx, dsn, "", storage.Options{Database: "alert_server"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)
	items := streamItems(t, "cs-", end)
	if err := db.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	flagged := items[len(items)-1]
	if err := db.InsertFlags(ctx, []storage.Flag{{ItemID: flagged.ID, Narrative: "known", Stance: "assert", Score: 1,
		Source: flagged.Source, Lang: flagged.Lang, Mission: "MONUSCO", Published: flagged.Published}}); err != nil {
		t.Fatal(err)
	}
	docs, _, bgDocs, err := alert.Candidates(ctx, db, end.Add(-48*time.Hour), end.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(items)-1 || bgDocs != 1 {
		t.Errorf("%d candidates and %d flagged, want %d and 1", len(docs), bgDocs, len(items)-1)
	}
	if len(docs) > 0 && (docs[0].ID != items[0].ID || !docs[0].Published.Equal(items[0].Published)) {
		t.Errorf("first candidate %s at %s, want %s at %s", docs[0].ID, docs[0].Published, items[0].ID, items[0].Published)
	}
	for _, d := range docs {
		if d.ID == flagged.ID {
			t.Error("a flagged item is a candidate")
		}
		if d.Published.IsZero() {
			t.Errorf("%s: publication time lost", d.ID)
		}
	}
}

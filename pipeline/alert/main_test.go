package alert_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
)

// One chDB session and one NATS server per test binary; tests keep apart by
// narrative ids and rule names of their own.
var (
	store *storage.DB
	nats  *bus.Bus
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "veille-alert-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err = backend.OpenWith(ctx, "embedded", dir, storage.Options{Database: "alert_test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open store:", err)
		return 1
	}
	defer store.Close()
	srv, err := bus.StartEmbedded(dir, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Shutdown()
	nats, err = bus.Connect(ctx, srv.URL(), "alert-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nats.Close()
	if err := nats.Setup(ctx, 1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// flagged is one generated item with one flag.
type flagged struct {
	id, narrative, mission, lang, source, stance, evidence string
	score                                                  float64
	at                                                     time.Time
}

func insert(t *testing.T, rows []flagged) {
	t.Helper()
	items := make([]storage.Item, 0, len(rows))
	flags := make([]storage.Flag, 0, len(rows))
	for _, r := range rows {
		items = append(items, storage.Item{ID: r.id, ContentHash: "h-" + r.id, Source: r.source, Kind: "article",
			URL: "https://news.example.org/" + r.id, Title: "Item " + r.id, Text: r.evidence, Lang: r.lang,
			Mission: r.mission, Published: r.at, Fetched: r.at})
		flags = append(flags, storage.Flag{ItemID: r.id, Narrative: r.narrative, Stance: r.stance, Score: r.score,
			Evidence: []storage.Evidence{{Start: 0, End: len(r.evidence), Text: r.evidence}}, ClassifierVersion: "test",
			Source: r.source, Lang: r.lang, Mission: r.mission, Published: r.at})
	}
	ctx := testCtx(t)
	if err := store.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := store.InsertFlags(ctx, flags); err != nil {
		t.Fatal(err)
	}
}

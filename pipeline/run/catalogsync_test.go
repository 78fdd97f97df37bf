package run

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
)

// testBus starts an embedded NATS server with Veille's layout declared.
func testBus(ctx context.Context, t *testing.T) (*bus.Bus, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := bus.StartEmbedded(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	b, err := bus.Connect(ctx, srv.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return b, srv.URL()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func flagged(ctx context.Context, t *testing.T, m *match.Matcher, text, narrative string) bool {
	t.Helper()
	res, err := m.Classify(ctx, classifiers.Doc{ID: "t", Lang: "fr", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(res.Flags, func(f classifiers.Flag) bool { return f.Narrative == narrative })
}

// TestCatalogReachesEveryMatcher: two processes on one NATS, each with a
// catalog folder of its own; an entry put into the catalog bucket as a
// promotion does reaches the other process's running matcher, which then
// flags a text of the new narrative; a bad entry is left out and matching
// goes on.
func TestCatalogReachesEveryMatcher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, url := testBus(ctx, t)
	// The second process has its own connection, as a separate classify
	// process would.
	b2, err := bus.Connect(ctx, url, "test-2")
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()

	const narrative = "mission-blue-banknotes"
	const text = "Au marché de Berberati, on répète que la MINUSCA va remplacer le franc CFA par des billets bleus."
	var runners []*Runner
	for _, rb := range []*bus.Bus{b, b2} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		r := &Runner{Config: cfg, Bus: rb, Log: quietLog()}
		if err := r.OpenMatcher(); err != nil {
			t.Fatal(err)
		}
		if flagged(ctx, t, r.Matcher, text, narrative) {
			t.Fatalf("text flagged %s before the promotion", narrative)
		}
		runners = append(runners, r)
	}
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runners[1].WatchCatalog(watchCtx) }()

	data, err := os.ReadFile(filepath.Join("testdata", "catalog", narrative+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// An entry that does not parse, or under another id, is refused.
	if err := PutCatalogEntry(ctx, b, narrative, []byte("id: [")); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("broken YAML: err %v, want catalog.ErrInvalid", err)
	}
	if err := PutCatalogEntry(ctx, b, "another-id", data); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("entry under another id: err %v, want catalog.ErrInvalid", err)
	}
	// A bad entry in the bucket (written by hand) must not stop the rest.
	kv, err := b.JS.KeyValue(ctx, bus.KVCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "broken-entry", []byte("id: broken-entry\nrules:\n  - all: [no-such-concept]\n")); err != nil {
		t.Fatal(err)
	}
	before := runners[1].Matcher.Version()
	if err := PutCatalogEntry(ctx, b, narrative, data); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !flagged(ctx, t, runners[1].Matcher, text, narrative); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the watching matcher never flagged %s (version %s)", narrative, runners[1].Matcher.Version())
		}
	}
	if v := runners[1].Matcher.Version(); v == before {
		t.Errorf("matcher version unchanged after the swap: %s", v)
	}
	if _, ok := runners[1].Matcher.Catalog().Get("broken-entry"); ok {
		t.Error("the broken entry made it into the catalog")
	}
	// A process starting now loads the entry with its catalog.
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	late := &Runner{Config: cfg, Bus: b2, Log: quietLog()}
	if err := late.OpenMatcher(); err != nil {
		t.Fatal(err)
	}
	if !flagged(ctx, t, late.Matcher, text, narrative) {
		t.Errorf("a matcher opened after the promotion does not flag %s", narrative)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

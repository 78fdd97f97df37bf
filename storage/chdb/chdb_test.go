package chdb_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/chdb"
	"github.com/veille-project/veille/storage/storagetest"
)

// dataDir is the one chDB directory of this test binary (one session per
// process); each test gets its own database in it.
var dataDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "veille-chdb-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var dbSeq atomic.Int64

func open(t testing.TB) *storage.DB {
	t.Helper()
	conn, err := chdb.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.New(context.Background(), conn, storage.Options{Database: fmt.Sprintf("test_%d", dbSeq.Add(1))})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db.Database())
		db.Close()
	})
	return db
}

func TestSuite(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

func TestOtherDataDirRefused(t *testing.T) {
	s := open(t)
	_ = s
	if _, err := chdb.Open(t.TempDir()); err == nil {
		t.Fatal("Open on a second directory succeeded; chDB has one session per process")
	}
}

func TestTextRetentionTTL(t *testing.T) {
	ctx := context.Background()
	conn, err := chdb.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.New(ctx, conn, storage.Options{Database: fmt.Sprintf("test_%d", dbSeq.Add(1)), TextRetention: 30 * 24 * time.Hour})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	items := []storage.Item{
		{ID: "old", Text: "old text", HTML: "<p>old</p>", Published: now.Add(-60 * 24 * time.Hour)},
		{ID: "new", Text: "new text", HTML: "<p>new</p>", Published: now.Add(-time.Hour)},
	}
	if err := db.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db.Database()+".items FINAL"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, text string }{{"old", ""}, {"new", "new text"}} {
		got, err := db.Item(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Item.Text != tc.text {
			t.Errorf("item %s text after TTL = %q, want %q", tc.id, got.Item.Text, tc.text)
		}
	}
}

// TestTextRetentionSetOnce checks the form in which the engine reports a
// column TTL, which Open reads to set the TTL only when it changes.
func TestTextRetentionSetOnce(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("test_%d", dbSeq.Add(1))
	opts := storage.Options{Database: name, TextRetention: 10 * 24 * time.Hour}
	for i := 0; i < 2; i++ {
		conn, err := chdb.Open(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		db, err := storage.New(ctx, conn, opts)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "SELECT create_table_query FROM system.tables WHERE database = '"+name+"' AND name = 'items'")
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"text", "html", "cues"} {
			if want := "`" + col + "` String TTL published + toIntervalDay(10)"; len(rows) != 1 || !strings.Contains(rows[0][0], want) {
				t.Fatalf("open %d: items table %q lacks %q", i+1, rows, want)
			}
		}
		db.Close()
	}
}

func TestSuiteTwoStores(t *testing.T) {
	storagetest.RunTwice(t, func(t *testing.T) (*storage.DB, *storage.DB) {
		name := fmt.Sprintf("test_%d", dbSeq.Add(1))
		var dbs [2]*storage.DB
		var first storage.Conn
		for i := range dbs {
			conn, err := chdb.Open(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			db, err := storage.New(context.Background(), conn, storage.Options{Database: name})
			if err != nil {
				conn.Close()
				t.Fatal(err)
			}
			dbs[i] = db
			if i == 0 {
				first = conn
			}
		}
		t.Cleanup(func() {
			_ = first.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
			dbs[0].Close()
			dbs[1].Close()
		})
		return dbs[0], dbs[1]
	})
}

// TestItemIDsFilledFromItems empties the in-memory item_ids set, as a new
// process finds it, then re-polls stored items with dates in another month
// through a new store: the set must be filled from items first (or, for an
// item older than the set's horizon, the stored time looked for directly),
// or the item would be stored again under the new date.
func TestItemIDsFilledFromItems(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		first time.Time
		held  string // ids the refilled set holds
	}{
		{"recent", time.Now().UTC().Truncate(time.Second).Add(-40 * 24 * time.Hour), "1"},
		{"older than the horizon", time.Now().UTC().Truncate(time.Second).Add(-storage.SetHorizon - 24*time.Hour), "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("test_%d", dbSeq.Add(1))
			open := func() (*storage.DB, storage.Conn) {
				conn, err := chdb.Open(dataDir)
				if err != nil {
					t.Fatal(err)
				}
				db, err := storage.New(ctx, conn, storage.Options{Database: name})
				if err != nil {
					conn.Close()
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db, conn
			}
			a, aConn := open()
			t.Cleanup(func() { _ = aConn.Exec(ctx, "DROP DATABASE IF EXISTS "+name) })
			it := storage.Item{ID: "kept", Source: "radio-x", Title: "t", Published: tc.first}
			fl := storage.Flag{ItemID: it.ID, Narrative: "arms-rebels", Stance: "assert", Source: it.Source, Published: tc.first}
			if err := a.InsertItems(ctx, []storage.Item{it}); err != nil {
				t.Fatal(err)
			}
			if err := a.InsertFlags(ctx, []storage.Flag{fl}); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{"DROP TABLE " + name + ".item_ids", "CREATE TABLE " + name + ".item_ids (h UInt64) ENGINE = Set SETTINGS persistent = 0"} {
				if err := aConn.Exec(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			b, bConn := open()
			moved := tc.first.Add(31 * 24 * time.Hour)
			it.Published, fl.Published = moved, moved
			if err := b.InsertFlags(ctx, []storage.Flag{fl}); err != nil {
				t.Fatal(err)
			}
			rows, err := bConn.Query(ctx, "SELECT total_rows FROM system.tables WHERE database = '"+name+"' AND name = 'item_ids'")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0][0] != tc.held {
				t.Fatalf("refilled item_ids holds %q ids, want %s", rows, tc.held)
			}
			if err := b.InsertItems(ctx, []storage.Item{it}); err != nil {
				t.Fatal(err)
			}
			tot, err := b.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Item(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tot.Items != 1 || tot.Flags != 1 || !got.Item.Published.Equal(tc.first) {
				t.Fatalf("after re-poll: %d items, %d flags, published %v; want 1, 1, %v", tot.Items, tot.Flags, got.Item.Published, tc.first)
			}
		})
	}
}

package storagetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
)

// OpenTwice returns two stores on one new, migrated database, as two
// processes (or a process before and after a restart) would see it: each
// with its own caches.
type OpenTwice func(t *testing.T) (*storage.DB, *storage.DB)

// RunTwice runs the tests that need a second store on the same database.
func RunTwice(t *testing.T, open OpenTwice) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenTwice)
	}{
		{"RepolledAfterRestartCountsOnce", testRepolledAfterRestart},
		{"FlagBeforeItemThenRestart", testFlagBeforeItem},
		{"IDHashIsTheEngines", testIDHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// firstTimes are first publication times the re-poll tests start from:
// recent ones, which chDB's item_ids set answers for, and old ones, which
// it does not (see storage.SetHorizon).
func firstTimes() map[string]time.Time {
	return map[string]time.Time{
		"recent": time.Now().UTC().Truncate(time.Hour).Add(-40 * 24 * time.Hour),
		"old":    time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC),
	}
}

// movedBy moves a publication time into another month, as a feed that
// edits an entry's date might.
const movedBy = 31 * 24 * time.Hour

// checkOnce checks that s holds one item and one flag, both dated in the
// month of first.
func checkOnce(t *testing.T, s storage.Store, id string, first time.Time) {
	t.Helper()
	c := ctx(t)
	tot, err := s.Counts(c)
	must(t, err)
	if tot.Items != 1 || tot.Flags != 1 {
		t.Fatalf("counts = %+v, want 1 item, 1 flag", tot)
	}
	tab, err := s.Trends(c, storage.TrendQuery{By: []string{"month"}})
	must(t, err)
	if want := [][]string{{first.Format("2006-01") + "-01", "1"}}; !reflect.DeepEqual(tab.Rows, want) {
		t.Fatalf("trend by month = %q, want %q", tab.Rows, want)
	}
	got, err := s.Item(c, id)
	must(t, err)
	if !got.Item.Published.Equal(first) {
		t.Fatalf("item published %v, want the first publication time %v", got.Item.Published, first)
	}
}

// testRepolledAfterRestart re-polls an item, with a date in another month,
// through a store that has never seen it: the stored date is found in the
// database, not in a cache.
func testRepolledAfterRestart(t *testing.T, open OpenTwice) {
	for name, first := range firstTimes() {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			c := ctx(t)
			it := sampleItem("repolled-after-restart")
			it.Published = first
			must(t, a.InsertItems(c, []storage.Item{it}))
			must(t, a.InsertFlags(c, []storage.Flag{sampleFlag(it, "arms-rebels", "assert")}))
			moved := it
			moved.Published = first.Add(movedBy)
			// Among new items, so that the batch asks for stored and unknown ids.
			batch := []storage.Item{sampleItem("new-1"), moved, sampleItem("new-2")}
			must(t, b.InsertItems(c, batch))
			must(t, b.InsertFlags(c, []storage.Flag{sampleFlag(moved, "arms-rebels", "assert")}))
			for _, id := range []string{"new-1", "new-2"} {
				_, err := b.Item(c, id)
				must(t, err)
			}
			tot, err := b.Counts(c)
			must(t, err)
			if tot.Items != 3 || tot.Flags != 1 {
				t.Fatalf("counts = %+v, want 3 items, 1 flag", tot)
			}
			got, err := b.Item(c, it.ID)
			must(t, err)
			if !got.Item.Published.Equal(first) || len(got.Flags) != 1 || !got.Flags[0].Published.Equal(first) {
				t.Fatalf("re-polled item published %v with flags %+v, want both at %v", got.Item.Published, got.Flags, first)
			}
		})
	}
}

// testFlagBeforeItem stores a flag before its item, then the item (whose
// date the first store then knows from the flag), then re-polls the item
// with another date through a second store.
func testFlagBeforeItem(t *testing.T, open OpenTwice) {
	for name, first := range firstTimes() {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			c := ctx(t)
			it := sampleItem("flag-first")
			it.Published = first
			must(t, a.InsertFlags(c, []storage.Flag{sampleFlag(it, "steals-gold", "report")}))
			must(t, a.InsertItems(c, []storage.Item{it}))
			moved := it
			moved.Published = first.Add(movedBy)
			must(t, b.InsertItems(c, []storage.Item{moved}))
			must(t, b.InsertFlags(c, []storage.Flag{sampleFlag(moved, "steals-gold", "report")}))
			checkOnce(t, b, it.ID, first)
		})
	}
}

// testIDHash checks that storage.IDHash computes the engine's cityHash64,
// which fills the item_ids set from stored items on migration.
func testIDHash(t *testing.T, open OpenTwice) {
	a, _ := open(t)
	c := ctx(t)
	for _, id := range []string{"", "a", "0123456789abcdef", "https://example.org/2026/01/un-article-très-long-" + string(make([]byte, 70)),
		"d41d8cd98f00b204e9800998ecf8427e", "élément—ünïcode ✓"} {
		got, err := a.EngineIDHash(c, id)
		must(t, err)
		if want := storage.IDHash(id); got != want {
			t.Errorf("cityHash64(%q) = %d, IDHash = %d", id, got, want)
		}
	}
}

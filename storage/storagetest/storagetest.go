// Package storagetest is the one test suite both storage backends pass, and
// the helper that starts a throw-away clickhouse-server for tests (also used
// by the pipeline's fault tests).
package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
)

// Open returns a new, empty, migrated store for one test.
type Open func(t *testing.T) storage.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"MigrateTwiceAndConcurrently", testMigrate},
		{"ItemRoundTrip", testItemRoundTrip},
		{"HostileValuesRoundTrip", testHostile},
		{"Idempotent", testIdempotent},
		{"RepolledWithNewDateCountsOnce", testRepolled},
		{"QueriesMatchGo", testProperty},
		{"QueueAndReviews", testQueue},
		{"UsersAndTokens", testUsers},
		{"Similar", testSimilar},
		{"Prune", testPrune},
		{"Export", testExport},
		{"BadQueries", testBadQueries},
		{"ReviewedItemsAndPrecision", testReviewedItems},
		{"ReclassifyReplacesFlags", testReplaceFlags},
		{"Briefs", testBriefs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testMigrate(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	must(t, s.Migrate(c))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Migrate(c) }()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	if db, ok := s.(interface {
		AppliedVersion(context.Context) (int, error)
	}); ok {
		v, err := db.AppliedVersion(c)
		must(t, err)
		if v != storage.SchemaVersion() {
			t.Fatalf("applied version %d, want %d", v, storage.SchemaVersion())
		}
	}
	tot, err := s.Counts(c)
	must(t, err)
	if tot.Items != 0 || tot.Flags != 0 || tot.Reviews != 0 {
		t.Fatalf("fresh store counts %+v, want zeros", tot)
	}
	if b := s.Backend(); !strings.Contains(b, " ") {
		t.Fatalf("Backend() = %q, want name and version", b)
	}
}

func sampleItem(id string) storage.Item {
	return storage.Item{
		ID: id, ContentHash: "h-" + id, Source: "radio-bangui", Kind: "transcript",
		URL: "https://example.org/" + id, Title: "Titre " + id, Text: "Les casques bleus ont été vus.\nDeuxième ligne.",
		HTML: "<p>Les casques bleus</p>", Lang: "fr", Mission: "MINUSCA", Station: "Radio Ndeke", Author: "a1b2c3d4e5f60718",
		Meta:      map[string]string{"views": "1200", "forwarded_from": "Canal « Vérité »"},
		Cues:      []storage.Cue{{Start: 0, End: 1500, Speaker: "A", Offset: 0, Text: "Les casques bleus ont été vus."}, {Start: 1500, End: 3000, Offset: 31, Text: "Deuxième ligne."}},
		Published: base.Add(36 * time.Hour), Fetched: base.Add(37 * time.Hour),
	}
}

func sampleFlag(it storage.Item, narrative, stance string) storage.Flag {
	return storage.Flag{
		ItemID: it.ID, Narrative: narrative, Stance: stance, Score: 0.875,
		Evidence:          []storage.Evidence{{Start: 4, End: 17, Text: "casques bleus", CueStart: 0, CueEnd: 1500}},
		Entities:          []string{"MINUSCA", "Bangui"},
		ClassifierVersion: "match/1",
		Source:            it.Source, Lang: it.Lang, Mission: it.Mission, Published: it.Published,
	}
}

func testItemRoundTrip(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	it := sampleItem("item-1")
	must(t, s.InsertItems(c, []storage.Item{it}))
	f1 := sampleFlag(it, "peacekeepers-arm-rebels", "assert")
	f2 := sampleFlag(it, "un-steals-minerals", "debunk")
	f2.Evidence, f2.Entities = nil, nil
	must(t, s.InsertFlags(c, []storage.Flag{f2, f1}))
	r := storage.Review{ID: "r1", ItemID: it.ID, Narrative: f1.Narrative, Stance: f1.Stance, Decision: storage.DecisionConfirm,
		Reviewer: "amina", Note: "vu", At: base.Add(48*time.Hour + 250*time.Millisecond)}
	must(t, s.InsertReviews(c, []storage.Review{r}))

	got, err := s.Item(c, it.ID)
	must(t, err)
	want := it
	want.Published, want.Fetched = storage.DBTime(it.Published), storage.DBTime(it.Fetched)
	if !reflect.DeepEqual(got.Item, want) {
		t.Fatalf("Item:\n got %+v\nwant %+v", got.Item, want)
	}
	wantFlags := []storage.Flag{f1, f2}
	for i := range wantFlags {
		wantFlags[i].Published = storage.DBTime(wantFlags[i].Published)
	}
	if !reflect.DeepEqual(got.Flags, wantFlags) {
		t.Fatalf("Flags:\n got %+v\nwant %+v", got.Flags, wantFlags)
	}
	if len(got.Reviews) != 1 || got.Reviews[0] != (storage.Review{ID: "r1", ItemID: it.ID, Narrative: f1.Narrative, Stance: "assert",
		Decision: "confirm", Reviewer: "amina", Note: "vu", At: r.At.UTC()}) {
		t.Fatalf("Reviews = %+v", got.Reviews)
	}
	if _, err := s.Item(c, "no-such-item"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Item(missing) = %v, want ErrNotFound", err)
	}
}

// hostile are values that break naive SQL or text formats.
var hostile = []string{
	`it's`, `a\b`, `\'); DROP TABLE items; --`, "line1\nline2\r\n", "tab\there", "nul\x00byte",
	`"quoted"`, `\\N`, `\N`, "ünïcödé — 日本語 🚩", "back\\slash'quote\"dq", "\x01\x1f\x7f", "`backtick`", "{}[]", "",
	"invalid utf8 \xff\xfe",
}

func testHostile(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var items []storage.Item
	var flags []storage.Flag
	for i, v := range hostile {
		it := storage.Item{ID: fmt.Sprintf("id-%d-%s", i, v), ContentHash: v, Source: "src" + v, Kind: "article", URL: v, Title: v,
			Text: v, HTML: v, Lang: v, Mission: v, Station: v, Published: base.Add(time.Duration(i) * time.Hour), Fetched: base}
		items = append(items, it)
		flags = append(flags, storage.Flag{ItemID: it.ID, Narrative: "n" + v, Stance: v, Score: 0.5,
			Evidence: []storage.Evidence{{Start: 0, End: len(v), Text: v}}, Entities: []string{v}, ClassifierVersion: v,
			Source: it.Source, Lang: v, Mission: v, Published: it.Published})
	}
	must(t, s.InsertItems(c, items))
	must(t, s.InsertFlags(c, flags))
	for i, it := range items {
		got, err := s.Item(c, it.ID)
		if err != nil {
			t.Fatalf("Item(%q): %v", it.ID, err)
		}
		want := it
		want.Published, want.Fetched = storage.DBTime(it.Published), storage.DBTime(it.Fetched)
		if !reflect.DeepEqual(got.Item, want) {
			t.Errorf("value %q: item\n got %+v\nwant %+v", hostile[i], got.Item, want)
		}
		if len(got.Flags) != 1 || got.Flags[0].Narrative != flags[i].Narrative || got.Flags[0].Stance != flags[i].Stance ||
			got.Flags[0].ClassifierVersion != flags[i].ClassifierVersion {
			t.Errorf("value %q: flags %+v", hostile[i], got.Flags)
		}
		// The value as a filter finds exactly its own flag.
		tab, err := s.Trends(c, storage.TrendQuery{Filter: storage.Filter{Narratives: []string{flags[i].Narrative}, Sources: []string{it.Source}}, By: []string{"narrative", "source"}})
		must(t, err)
		if len(tab.Rows) != 1 || tab.Rows[0][0] != flags[i].Narrative || tab.Rows[0][1] != it.Source || tab.Rows[0][2] != "1" {
			t.Errorf("value %q: trend rows %q", hostile[i], tab.Rows)
		}
	}
	must(t, s.PutUser(c, storage.User{Name: hostile[2], Role: storage.RoleAnalyst, Lang: hostile[3]}))
	must(t, s.PutToken(c, storage.Token{Hash: hostile[2], ID: hostile[5], User: hostile[2]}))
	tok, err := s.TokenByHash(c, hostile[2])
	must(t, err)
	if tok.ID != hostile[5] || tok.User != hostile[2] {
		t.Fatalf("token = %+v", tok)
	}
	tot, err := s.Counts(c)
	must(t, err)
	if tot.Items != int64(len(items)) || tot.Flags != int64(len(flags)) {
		t.Fatalf("after hostile values: counts %+v (tables intact?)", tot)
	}
}

// world is a seeded random set of items and flags and what the queries
// should say of them, computed in Go.
type world struct {
	items []storage.Item
	flags []storage.Flag
}

var (
	narratives = []string{"arms-rebels", "steals-gold", "spreads-disease", "spies-for-west", "kills-civilians"}
	sources    = []string{"radio-a", "radio-b", "blog-c", "site-d"}
	langs      = []string{"fr", "en", "sg", "ar"}
	missions   = []string{"MINUSCA", "MONUSCO", "MINUSMA", "UNMISS"}
	stances    = []string{"assert", "report", "debunk"}
)

func randomWorld(seed int64, nItems int) world {
	rng := rand.New(rand.NewSource(seed))
	var w world
	for i := 0; i < nItems; i++ {
		it := storage.Item{
			ID: fmt.Sprintf("it-%d-%d", seed, i), Source: sources[rng.Intn(len(sources))], Lang: langs[rng.Intn(len(langs))],
			Mission: missions[rng.Intn(len(missions))], Kind: "article", Title: fmt.Sprintf("title %d", i),
			Text:      "casques bleus " + narratives[rng.Intn(len(narratives))],
			Published: base.Add(time.Duration(rng.Int63n(int64(40 * 24 * time.Hour)))).Truncate(time.Second),
			Fetched:   base,
		}
		w.items = append(w.items, it)
		for _, j := range rng.Perm(len(narratives))[:rng.Intn(3)] {
			f := sampleFlag(it, narratives[j], stances[rng.Intn(len(stances))])
			f.Evidence = []storage.Evidence{{Start: 0, End: 5, Text: fmt.Sprintf("word%d shared%d", rng.Intn(5), j)}}
			w.flags = append(w.flags, f)
		}
	}
	return w
}

func (w world) insert(t *testing.T, s storage.Store) {
	t.Helper()
	c := ctx(t)
	for i := 0; i < len(w.items); i += 500 {
		must(t, s.InsertItems(c, w.items[i:min(i+500, len(w.items))]))
	}
	for i := 0; i < len(w.flags); i += 500 {
		must(t, s.InsertFlags(c, w.flags[i:min(i+500, len(w.flags))]))
	}
}

// trend computes a trend table in Go.
func (w world) trend(q storage.TrendQuery) [][]string {
	in := func(v string, set []string) bool {
		if len(set) == 0 {
			return true
		}
		for _, s := range set {
			if s == v {
				return true
			}
		}
		return false
	}
	counts := map[string]int{}
	keys := map[string][]string{}
	for _, f := range w.flags {
		p := storage.DBTime(f.Published)
		if !q.Since.IsZero() && p.Before(storage.DBTime(q.Since)) || !q.Until.IsZero() && !p.Before(storage.DBTime(q.Until)) {
			continue
		}
		if !in(f.Narrative, q.Narratives) || !in(f.Mission, q.Missions) || !in(f.Lang, q.Langs) || !in(f.Source, q.Sources) || !in(f.Stance, q.Stances) {
			continue
		}
		var key []string
		for _, b := range q.By {
			switch b {
			case "narrative":
				key = append(key, f.Narrative)
			case "stance":
				key = append(key, f.Stance)
			case "mission":
				key = append(key, f.Mission)
			case "lang":
				key = append(key, f.Lang)
			case "source":
				key = append(key, f.Source)
			case "day":
				key = append(key, p.Format("2006-01-02"))
			case "hour":
				key = append(key, p.Truncate(time.Hour).Format("2006-01-02 15:04:05"))
			}
		}
		k := strings.Join(key, "\x00")
		counts[k]++
		keys[k] = key
	}
	var rows [][]string
	for k, n := range counts {
		rows = append(rows, append(append([]string{}, keys[k]...), fmt.Sprint(n)))
	}
	sort.Slice(rows, func(i, j int) bool {
		return strings.Join(rows[i][:len(rows[i])-1], "\x00") < strings.Join(rows[j][:len(rows[j])-1], "\x00")
	})
	return rows
}

func checkTrends(t *testing.T, s storage.Store, w world) {
	t.Helper()
	c := ctx(t)
	queries := []storage.TrendQuery{
		{By: []string{"narrative"}},
		{By: []string{"narrative", "day"}},
		{By: []string{"mission", "lang"}, Filter: storage.Filter{Since: base.Add(5 * 24 * time.Hour), Until: base.Add(20 * 24 * time.Hour)}},
		{By: []string{"source", "stance", "hour"}, Filter: storage.Filter{Narratives: []string{"arms-rebels", "steals-gold"}}},
		{By: []string{"narrative", "stance", "mission", "lang", "source", "day"}, Filter: storage.Filter{Langs: []string{"fr"}, Stances: []string{"assert", "report"}}},
		{By: []string{"lang"}, Filter: storage.Filter{Missions: []string{"MINUSCA"}, Sources: []string{"radio-a", "blog-c"}}},
	}
	for _, q := range queries {
		got, err := s.Trends(c, q)
		must(t, err)
		want := w.trend(q)
		if len(got.Rows) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got.Rows, want) {
			t.Errorf("Trends(by %v, %+v):\n got %q\nwant %q", q.By, q.Filter, got.Rows, want)
		}
		if wantCols := append(append([]string{}, q.By...), "flags"); !reflect.DeepEqual(got.Columns, wantCols) {
			t.Errorf("Trends columns %q, want %q", got.Columns, wantCols)
		}
	}
}

func checkRising(t *testing.T, s storage.Store, w world) {
	t.Helper()
	c := ctx(t)
	now := base.Add(30*24*time.Hour + 7*time.Hour + 30*time.Minute)
	q := storage.RisingQuery{Now: now, Window: 3 * 24 * time.Hour, Baseline: 21 * 24 * time.Hour, Filter: storage.Filter{Missions: []string{"MINUSCA", "MONUSCO"}}}
	got, err := s.Rising(c, q)
	must(t, err)
	ws, bs := now.Add(-q.Window), now.Add(-q.Window-q.Baseline)
	recent, before := map[string]int64{}, map[string]int64{}
	for _, f := range w.flags {
		if f.Mission != "MINUSCA" && f.Mission != "MONUSCO" {
			continue
		}
		switch p := f.Published; {
		case !p.Before(ws) && p.Before(now):
			recent[f.Narrative]++
		case !p.Before(bs) && p.Before(ws):
			before[f.Narrative]++
		}
	}
	var want []storage.RisingRow
	for _, n := range narratives {
		if recent[n] == 0 && before[n] == 0 {
			continue
		}
		b := float64(before[n]) / 7
		want = append(want, storage.RisingRow{Narrative: n, Recent: recent[n], Baseline: b, Factor: (float64(recent[n]) + 1) / (b + 1)})
	}
	storage.SortRising(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rising:\n got %+v\nwant %+v", got, want)
	}
	q.Limit = 2
	got, err = s.Rising(c, q)
	must(t, err)
	if len(want) > 2 && !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("Rising limit 2: got %+v, want %+v", got, want[:2])
	}
}

func checkSpread(t *testing.T, s storage.Store, w world) {
	t.Helper()
	c := ctx(t)
	since := base.Add(4 * 24 * time.Hour)
	for _, n := range narratives[:3] {
		got, err := s.Spread(c, n, since)
		must(t, err)
		type key struct{ s, l string }
		rows := map[key]*storage.SpreadRow{}
		want := storage.SpreadReport{Narrative: n}
		for _, f := range w.flags {
			if f.Narrative != n || f.Published.Before(since) {
				continue
			}
			k := key{f.Source, f.Lang}
			r := rows[k]
			if r == nil {
				r = &storage.SpreadRow{Source: f.Source, Lang: f.Lang, FirstSeen: f.Published, LastSeen: f.Published}
				rows[k] = r
			}
			r.Count++
			if f.Published.Before(r.FirstSeen) {
				r.FirstSeen = f.Published
			}
			if f.Published.After(r.LastSeen) {
				r.LastSeen = f.Published
			}
			if want.Total == 0 || f.Published.Before(want.FirstSeen) {
				want.FirstSeen = f.Published
			}
			if f.Published.After(want.LastSeen) {
				want.LastSeen = f.Published
			}
			want.Total++
		}
		for _, r := range rows {
			want.Firsts = append(want.Firsts, *r)
		}
		sort.Slice(want.Firsts, func(i, j int) bool {
			a, b := want.Firsts[i], want.Firsts[j]
			if !a.FirstSeen.Equal(b.FirstSeen) {
				return a.FirstSeen.Before(b.FirstSeen)
			}
			if a.Source != b.Source {
				return a.Source < b.Source
			}
			return a.Lang < b.Lang
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Spread(%s):\n got %+v\nwant %+v", n, got, want)
		}
	}
}

func checkCounts(t *testing.T, s storage.Store, w world) {
	t.Helper()
	tot, err := s.Counts(ctx(t))
	must(t, err)
	want := storage.Totals{Items: int64(len(w.items)), Flags: int64(len(w.flags)), ItemsBySource: map[string]int64{}, FlagsByNarr: map[string]int64{}}
	for _, it := range w.items {
		want.ItemsBySource[it.Source]++
	}
	for _, f := range w.flags {
		want.FlagsByNarr[f.Narrative]++
	}
	tot.Reviews = 0
	if !reflect.DeepEqual(tot, want) {
		t.Errorf("Counts:\n got %+v\nwant %+v", tot, want)
	}
}

func checkAll(t *testing.T, s storage.Store, w world) {
	t.Helper()
	checkCounts(t, s, w)
	checkTrends(t, s, w)
	checkRising(t, s, w)
	checkSpread(t, s, w)
	q, err := s.Queue(ctx(t), storage.QueueQuery{Limit: 10000})
	must(t, err)
	if len(q) != len(w.flags) {
		t.Errorf("Queue has %d rows, want %d", len(q), len(w.flags))
	}
}

func testProperty(t *testing.T, open Open) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := open(t)
			w := randomWorld(seed, 600)
			w.insert(t, s)
			checkAll(t, s, w)
		})
	}
}

func testIdempotent(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	w := randomWorld(7, 400)
	w.insert(t, s)
	w.insert(t, s) // the same batches again
	checkAll(t, s, w)

	// A batch with half repeats: half of it already stored, half new.
	more := randomWorld(8, 400)
	half := world{items: append(append([]storage.Item{}, w.items[:200]...), more.items[:200]...)}
	half.flags = append(half.flags, w.flags[:len(w.flags)/2]...)
	var newFlags []storage.Flag
	for _, f := range more.flags {
		for _, it := range more.items[:200] {
			if it.ID == f.ItemID {
				newFlags = append(newFlags, f)
			}
		}
	}
	half.flags = append(half.flags, newFlags...)
	must(t, s.InsertItems(c, half.items))
	must(t, s.InsertFlags(c, half.flags))
	// A flag redelivered with a new score replaces the old one.
	changed := w.flags[0]
	changed.Score = 0.125
	must(t, s.InsertFlags(c, []storage.Flag{changed}))
	union := world{items: append(append([]storage.Item{}, w.items...), more.items[:200]...), flags: append(append([]storage.Flag{}, w.flags...), newFlags...)}
	checkAll(t, s, union)
	det, err := s.Item(c, changed.ItemID)
	must(t, err)
	for _, f := range det.Flags {
		if f.Narrative == changed.Narrative && f.Stance == changed.Stance && f.Score != 0.125 {
			t.Errorf("redelivered flag score %v, want 0.125", f.Score)
		}
	}
	// Reviews retried with the same id count once.
	r := storage.Review{ID: "rev-1", ItemID: changed.ItemID, Narrative: changed.Narrative, Stance: changed.Stance, Decision: storage.DecisionConfirm, Reviewer: "x", At: base}
	must(t, s.InsertReviews(c, []storage.Review{r}))
	must(t, s.InsertReviews(c, []storage.Review{r, r}))
	tot, err := s.Counts(c)
	must(t, err)
	if tot.Reviews != 1 {
		t.Errorf("reviews counted %d times, want 1", tot.Reviews)
	}
}

// testRepolled stores an item and its flag again with a publication time in
// another month, as a feed that edits its dates would: still one item, one
// flag, dated as first seen.
func testRepolled(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	it := sampleItem("repolled")
	it.Published = time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)
	f := sampleFlag(it, "arms-rebels", "assert")
	must(t, s.InsertItems(c, []storage.Item{it}))
	must(t, s.InsertFlags(c, []storage.Flag{f}))
	it2, f2 := it, f
	it2.Published, f2.Published = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	it2.Title = "edited title"
	must(t, s.InsertItems(c, []storage.Item{it2, it2}))
	must(t, s.InsertFlags(c, []storage.Flag{f2}))
	tot, err := s.Counts(c)
	must(t, err)
	if tot.Items != 1 || tot.Flags != 1 {
		t.Fatalf("counts after re-poll = %+v, want 1 item, 1 flag", tot)
	}
	tab, err := s.Trends(c, storage.TrendQuery{By: []string{"month"}})
	must(t, err)
	if want := [][]string{{"2026-01-01", "1"}}; !reflect.DeepEqual(tab.Rows, want) {
		t.Fatalf("trend by month = %q, want %q", tab.Rows, want)
	}
	got, err := s.Item(c, it.ID)
	must(t, err)
	if got.Item.Title != "edited title" || !got.Item.Published.Equal(it.Published) {
		t.Fatalf("re-polled item = %q published %v; want the new title, first publication time", got.Item.Title, got.Item.Published)
	}
}

func testQueue(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var items []storage.Item
	var flags []storage.Flag
	for i := 0; i < 6; i++ {
		it := sampleItem(fmt.Sprintf("q%d", i))
		it.Published = base.Add(time.Duration(i) * time.Hour)
		it.Mission = missions[i%2]
		items = append(items, it)
		flags = append(flags, sampleFlag(it, "arms-rebels", "assert"))
	}
	must(t, s.InsertItems(c, items))
	must(t, s.InsertFlags(c, flags))
	at := base.Add(100 * time.Hour)
	must(t, s.InsertReviews(c, []storage.Review{
		{ID: "a", ItemID: "q1", Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionConfirm, Reviewer: "ann", At: at},
		{ID: "b", ItemID: "q1", Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionFalsePositive, Reviewer: "bob", At: at.Add(time.Millisecond)},
		{ID: "c", ItemID: "q4", Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionNeedsResponse, Reviewer: "cat", At: at},
		// A decision on another stance of the narrative is not this flag's.
		{ID: "d", ItemID: "q3", Narrative: "arms-rebels", Stance: "debunk", Decision: storage.DecisionConfirm, Reviewer: "dan", At: at},
	}))
	all, err := s.Queue(c, storage.QueueQuery{})
	must(t, err)
	var ids []string
	for _, r := range all {
		ids = append(ids, r.Flag.ItemID+":"+r.Decision)
	}
	if want := "q5: q4:needs_response q3: q2: q1:false_positive q0:"; strings.Join(ids, " ") != want {
		t.Fatalf("Queue = %q, want %q (newest first, latest decision)", strings.Join(ids, " "), want)
	}
	if all[4].Reviewer != "bob" || !all[4].DecidedAt.Equal(at.Add(time.Millisecond)) || all[4].Title != "Titre q1" || all[4].URL != items[1].URL {
		t.Fatalf("Queue row q1 = %+v", all[4])
	}
	for _, tc := range []struct {
		q    storage.QueueQuery
		want string
	}{
		{storage.QueueQuery{Decision: "none"}, "q5 q3 q2 q0"},
		{storage.QueueQuery{Decision: storage.DecisionFalsePositive}, "q1"},
		{storage.QueueQuery{Filter: storage.Filter{Missions: []string{missions[0]}}}, "q4 q2 q0"},
		{storage.QueueQuery{Limit: 2, Offset: 1}, "q4 q3"},
		{storage.QueueQuery{Filter: storage.Filter{Since: base.Add(2 * time.Hour), Until: base.Add(4 * time.Hour)}}, "q3 q2"},
	} {
		rows, err := s.Queue(c, tc.q)
		must(t, err)
		var got []string
		for _, r := range rows {
			got = append(got, r.Flag.ItemID)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Queue(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func testUsers(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	must(t, s.PutUser(c, storage.User{Name: "bob", Role: storage.RoleReviewer, Lang: "fr", Created: base}))
	must(t, s.PutUser(c, storage.User{Name: "amina", Role: storage.RoleAdmin, Lang: "en", Created: base}))
	must(t, s.PutUser(c, storage.User{Name: "bob", Role: storage.RoleRadio, Lang: "fr", ResponseLang: "sg", Mission: "MINUSCA", Disabled: true, Created: base}))
	users, err := s.Users(c)
	must(t, err)
	want := []storage.User{{Name: "amina", Role: "admin", Lang: "en", Created: base}, {Name: "bob", Role: "radio", Lang: "fr", ResponseLang: "sg", Mission: "MINUSCA", Disabled: true, Created: base}}
	if !reflect.DeepEqual(users, want) {
		t.Fatalf("Users = %+v, want %+v", users, want)
	}
	tok := storage.Token{Hash: "abc123", ID: "vt_abc", User: "bob", Created: base, Expires: base.Add(24 * time.Hour)}
	must(t, s.PutToken(c, tok))
	got, err := s.TokenByHash(c, "abc123")
	must(t, err)
	if got != tok {
		t.Fatalf("TokenByHash = %+v, want %+v", got, tok)
	}
	tok.Revoked = true
	must(t, s.PutToken(c, tok))
	if got, err = s.TokenByHash(c, "abc123"); err != nil || !got.Revoked {
		t.Fatalf("revoked token = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(c, "abc' OR '1'='1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TokenByHash(injection) = %v, want ErrNotFound", err)
	}
}

func testSimilar(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	mk := func(id, narr, evidence string, hours int) (storage.Item, storage.Flag) {
		it := sampleItem(id)
		it.Published = base.Add(time.Duration(hours) * time.Hour)
		f := sampleFlag(it, narr, "assert")
		f.Evidence = []storage.Evidence{{Text: evidence}}
		return it, f
	}
	var items []storage.Item
	var flags []storage.Flag
	for _, x := range []struct {
		id, narr, ev string
		h            int
	}{
		{"s1", "arms-rebels", "Les casques bleus livrent des armes aux rebelles", 1},
		{"s2", "arms-rebels", "casques bleus armes", 2},
		{"s3", "arms-rebels", "rien à voir", 3},
		{"s4", "steals-gold", "casques bleus armes rebelles", 4},
	} {
		it, f := mk(x.id, x.narr, x.ev, x.h)
		items, flags = append(items, it), append(flags, f)
	}
	must(t, s.InsertItems(c, items))
	must(t, s.InsertFlags(c, flags))
	rows, err := s.Similar(c, storage.SimilarQuery{Narratives: []string{"arms-rebels"}, Terms: []string{"Casques BLEUS, armes et rebelles"}})
	must(t, err)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s:%d", r.ItemID, r.Shared))
	}
	if want := "s1:4 s2:3"; strings.Join(got, " ") != want {
		t.Fatalf("Similar = %q, want %q", got, want)
	}
	if rows[0].Title != "Titre s1" || rows[0].Narrative != "arms-rebels" || rows[0].Source != "radio-bangui" {
		t.Fatalf("Similar row = %+v", rows[0])
	}
	rows, err = s.Similar(c, storage.SimilarQuery{Terms: []string{"rebelles"}, Limit: 1})
	must(t, err)
	if len(rows) != 1 || rows[0].ItemID != "s4" {
		t.Fatalf("Similar(terms only, limit 1) = %+v, want s4 (newest)", rows)
	}
	// Narrowed to a mission: only that mission's items.
	rows, err = s.Similar(c, storage.SimilarQuery{Narratives: []string{"arms-rebels"}, Terms: []string{"casques bleus armes"}, Missions: []string{items[1].Mission}})
	must(t, err)
	for _, r := range rows {
		if r.ItemID != "s2" && items[0].Mission != items[1].Mission {
			t.Fatalf("Similar in mission %s returned %s", items[1].Mission, r.ItemID)
		}
	}
	if len(rows) == 0 {
		t.Fatal("Similar in a mission found nothing")
	}
	sp, err := s.Spread(c, "arms-rebels", time.Time{}, "NO-SUCH-MISSION")
	must(t, err)
	if sp.Total != 0 {
		t.Fatalf("Spread in a mission with no flag = %d, want 0", sp.Total)
	}
}

func testPrune(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	old, recent := sampleItem("old"), sampleItem("recent")
	old.Published = base.Add(-100 * 24 * time.Hour)
	must(t, s.InsertItems(c, []storage.Item{old, recent}))
	must(t, s.InsertFlags(c, []storage.Flag{sampleFlag(old, "arms-rebels", "assert"), sampleFlag(recent, "arms-rebels", "assert")}))
	before, err := s.Counts(c)
	must(t, err)
	n, err := s.Prune(c, base.Add(-90*24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("Prune = %d, want 1", n)
	}
	got, err := s.Item(c, "old")
	must(t, err)
	if got.Item.Text != "" || got.Item.HTML != "" || got.Item.Cues != nil || got.Item.Title != old.Title || len(got.Flags) != 1 {
		t.Fatalf("pruned item = %+v, flags %d", got.Item, len(got.Flags))
	}
	got, err = s.Item(c, "recent")
	must(t, err)
	if got.Item.Text != recent.Text {
		t.Fatalf("recent item text pruned: %q", got.Item.Text)
	}
	after, err := s.Counts(c)
	must(t, err)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("counts changed by prune: %+v -> %+v", before, after)
	}
	if n, err := s.Prune(c, base.Add(-90*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0", n, err)
	}
}

func testExport(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	w := randomWorld(3, 100)
	w.insert(t, s)
	q := storage.TrendQuery{By: []string{"narrative", "day"}}
	want := w.trend(q)

	var buf bytes.Buffer
	must(t, s.Export(c, q, storage.FormatCSV, &buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if lines[0] != "narrative,day,flags" || len(lines) != len(want)+1 || lines[1] != strings.Join(want[0], ",") {
		t.Fatalf("csv export: %q...", lines[:min(3, len(lines))])
	}
	buf.Reset()
	must(t, s.Export(c, q, storage.FormatJSONL, &buf))
	var first map[string]any
	must(t, json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &first))
	if first["narrative"] != want[0][0] || first["day"] != want[0][1] || fmt.Sprint(first["flags"]) != want[0][2] {
		t.Fatalf("jsonl export first row %v, want %q", first, want[0])
	}
	buf.Reset()
	err := s.Export(c, q, storage.FormatParquet, &buf)
	switch {
	case errors.Is(err, storage.ErrUnsupported):
		t.Logf("parquet: %v", err)
		if !strings.Contains(err.Error(), strings.SplitN(s.Backend(), " ", 2)[1]) {
			t.Fatalf("parquet error %q does not name the version (%s)", err, s.Backend())
		}
	case err != nil:
		t.Fatal(err)
	default:
		if !bytes.HasPrefix(buf.Bytes(), []byte("PAR1")) || !bytes.HasSuffix(buf.Bytes(), []byte("PAR1")) {
			t.Fatalf("parquet export is not parquet (%d bytes)", buf.Len())
		}
	}
}

func testBadQueries(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	for _, by := range [][]string{{"narrative; DROP TABLE flags"}, {"published"}, {"1"}} {
		if _, err := s.Trends(c, storage.TrendQuery{By: by}); !errors.Is(err, storage.ErrBadQuery) {
			t.Errorf("Trends(by %q) = %v, want ErrBadQuery", by, err)
		}
	}
	if err := s.Export(c, storage.TrendQuery{}, "xml", &bytes.Buffer{}); !errors.Is(err, storage.ErrBadQuery) {
		t.Errorf("Export(xml) = %v, want ErrBadQuery", err)
	}
	if _, err := s.Rising(c, storage.RisingQuery{}); !errors.Is(err, storage.ErrBadQuery) {
		t.Errorf("Rising(no window) = %v, want ErrBadQuery", err)
	}
	if err := s.InsertReviews(c, []storage.Review{{ItemID: "x", Narrative: "y", Decision: "maybe"}}); !errors.Is(err, storage.ErrBadQuery) {
		t.Errorf("InsertReviews(bad decision) = %v, want ErrBadQuery", err)
	}
}

// testReviewedItems records decisions by two reviewers, one changed later,
// and a flag a reviewer added:
// the reviewed items carry the latest decision per flag with its stance,
// and production precision counts them per week, narrative and language.
func testReviewedItems(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	a, b, u := sampleItem("rv-a"), sampleItem("rv-b"), sampleItem("rv-unreviewed")
	b.Lang = "en"
	fa := sampleFlag(a, "arms-rebels", "assert")
	fb := sampleFlag(b, "arms-rebels", "assert")
	fb.Lang = "en"
	fb2 := sampleFlag(b, "loots-minerals", "report")
	fb2.Lang = "en"
	added := sampleFlag(a, "abducts-children", "assert")
	added.ClassifierVersion = storage.AddedByReviewer + "amina"
	must(t, s.InsertItems(c, []storage.Item{a, b, u}))
	must(t, s.InsertFlags(c, []storage.Flag{fa, fb, fb2, added, sampleFlag(u, "arms-rebels", "assert")}))
	mon := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	must(t, s.InsertReviews(c, []storage.Review{
		{ID: "r1", ItemID: a.ID, Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionFalsePositive, Reviewer: "x", At: mon},
		{ID: "r2", ItemID: a.ID, Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionConfirm, Reviewer: "y", At: mon.Add(time.Hour)},
		{ID: "r3", ItemID: a.ID, Narrative: "abducts-children", Stance: "assert", Decision: storage.DecisionConfirm, Reviewer: "amina", At: mon.Add(2 * time.Hour)},
		{ID: "r4", ItemID: b.ID, Narrative: "arms-rebels", Stance: "assert", Decision: storage.DecisionFalsePositive, Reviewer: "x", At: mon.Add(-48 * time.Hour)},
		{ID: "r5", ItemID: b.ID, Narrative: "loots-minerals", Stance: "report", Decision: storage.DecisionNeedsResponse, Reviewer: "x", At: mon.Add(8 * 24 * time.Hour)},
	}))
	got, err := s.ReviewedItems(c)
	must(t, err)
	if len(got) != 2 || got[0].Item.ID != a.ID || got[1].Item.ID != b.ID {
		t.Fatalf("reviewed items %+v, want rv-a then rv-b (oldest decided first)", got)
	}
	if got[0].Item.Text != a.Text || got[0].Item.Title != a.Title || len(got[0].Item.Cues) != 2 {
		t.Errorf("reviewed item rv-a lost its text, title or cues: %+v", got[0].Item)
	}
	want := map[string]storage.Decision{
		"rv-a/arms-rebels/assert":      {Decision: storage.DecisionConfirm},
		"rv-a/abducts-children/assert": {Decision: storage.DecisionConfirm, Added: true},
		"rv-b/arms-rebels/assert":      {Decision: storage.DecisionFalsePositive},
		"rv-b/loots-minerals/report":   {Decision: storage.DecisionNeedsResponse},
	}
	seen := 0
	for _, ri := range got {
		for _, d := range ri.Decisions {
			k := ri.Item.ID + "/" + d.Narrative + "/" + d.Stance
			w, ok := want[k]
			if !ok || w.Decision != d.Decision || w.Added != d.Added {
				t.Errorf("decision %s = %+v, want %+v (known %v)", k, d, w, ok)
			}
			seen++
		}
	}
	if seen != len(want) {
		t.Errorf("%d decisions, want %d", seen, len(want))
	}
	if !got[1].Decided.Equal(mon.Add(8 * 24 * time.Hour)) {
		t.Errorf("rv-b decided %v, want its newest decision", got[1].Decided)
	}
	rows, err := s.Precision(c, mon.Add(-7*24*time.Hour), mon.Add(30*24*time.Hour))
	must(t, err)
	type k struct {
		week       string
		narr, lang string
	}
	gotRows := map[k]storage.PrecisionRow{}
	for _, r := range rows {
		gotRows[k{r.Week.Format("2006-01-02"), r.Narrative, r.Lang}] = r
	}
	check := func(key k, reviewed, confirmed, missed, items, missedItems int) {
		t.Helper()
		r, ok := gotRows[key]
		if !ok || r.Reviewed != reviewed || r.Confirmed != confirmed || r.Missed != missed || r.Items != items || r.MissedItems != missedItems {
			t.Errorf("precision %v = %+v (found %v), want reviewed %d confirmed %d missed %d items %d missed items %d; all rows %+v", key, r, ok, reviewed, confirmed, missed, items, missedItems, rows)
		}
	}
	check(k{"2026-03-02", "arms-rebels", "fr"}, 1, 1, 0, 1, 0)
	check(k{"2026-02-23", "arms-rebels", "en"}, 1, 0, 0, 1, 0)
	check(k{"2026-03-02", "abducts-children", "fr"}, 0, 0, 1, 1, 1)
	check(k{"2026-03-09", "loots-minerals", "en"}, 1, 1, 0, 1, 0)
	if len(rows) != 4 {
		t.Errorf("%d precision rows, want 4: %+v", len(rows), rows)
	}
}

// testReplaceFlags re-classifies an item under a new version: the flag
// found again is replaced, the unreviewed one not found is retracted, the
// reviewed one and the one a reviewer added stay; counts never double, the
// superseded flags are in the history, and a repeat changes nothing.
func testReplaceFlags(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	it := sampleItem("rc-1")
	other := sampleItem("rc-0")
	old := func(narr string) storage.Flag {
		f := sampleFlag(it, narr, "assert")
		f.ClassifierVersion = "v1"
		return f
	}
	added := old("plots-coup")
	added.ClassifierVersion = storage.AddedByReviewer + "amina"
	must(t, s.InsertItems(c, []storage.Item{it, other}))
	must(t, s.InsertFlags(c, []storage.Flag{old("arms-rebels"), old("loots-minerals"), old("abducts-children"), added}))
	must(t, s.InsertReviews(c, []storage.Review{{ID: "rc-r1", ItemID: it.ID, Narrative: "loots-minerals", Stance: "assert",
		Decision: storage.DecisionFalsePositive, Reviewer: "x", At: base}}))
	again := sampleFlag(it, "abducts-children", "assert")
	again.Score = 0.5
	fresh := sampleFlag(it, "supports-terrorists", "assert")
	batch := []storage.Reclassified{{ItemID: it.ID, Flags: []storage.Flag{again, fresh}}}
	for round := 1; round <= 2; round++ {
		n, err := s.ReplaceFlags(c, "v2", batch)
		must(t, err)
		want := storage.ReplaceCounts{Stored: 2, Replaced: 1, Retracted: 1, Kept: 2}
		if round == 2 {
			want = storage.ReplaceCounts{Stored: 2, Kept: 2}
		}
		if n != want {
			t.Errorf("round %d: ReplaceFlags = %+v, want %+v", round, n, want)
		}
		det, err := s.Item(c, it.ID)
		must(t, err)
		got := map[string]string{}
		for _, f := range det.Flags {
			got[f.Narrative] = f.ClassifierVersion
		}
		wantFlags := map[string]string{"loots-minerals": "v1", "abducts-children": "v2", "supports-terrorists": "v2", "plots-coup": storage.AddedByReviewer + "amina"}
		if len(got) != len(wantFlags) {
			t.Errorf("round %d: live flags %v, want %v", round, got, wantFlags)
		}
		for k, v := range wantFlags {
			if got[k] != v {
				t.Errorf("round %d: flag %s version %q, want %q (live %v)", round, k, got[k], v, got)
			}
		}
		tot, err := s.Counts(c)
		must(t, err)
		if tot.Flags != 4 || tot.FlagsByNarr["arms-rebels"] != 0 {
			t.Errorf("round %d: counts %d flags (by narrative %v), want 4 and no arms-rebels", round, tot.Flags, tot.FlagsByNarr)
		}
		tr, err := s.Trends(c, storage.TrendQuery{By: []string{"narrative"}})
		must(t, err)
		sum := 0
		for _, r := range tr.Rows {
			v, _ := strconv.Atoi(r[len(r)-1])
			sum += v
		}
		if sum != 4 {
			t.Errorf("round %d: trends count %d flags, want 4: %v", round, sum, tr.Rows)
		}
		hist, err := s.FlagHistory(c, it.ID)
		must(t, err)
		if len(hist) != 2 || hist[0].SupersededBy != "v2" || hist[0].Version != "v1" {
			t.Errorf("round %d: history %+v, want the replaced and the retracted v1 flags", round, hist)
		}
	}
	// Paging through items by id.
	page, err := s.ItemsSince(c, base, "", 1)
	must(t, err)
	if len(page) != 1 || page[0].ID != "rc-0" {
		t.Fatalf("first page %+v, want rc-0", page)
	}
	page, err = s.ItemsSince(c, base, page[0].ID, 10)
	must(t, err)
	if len(page) != 1 || page[0].ID != "rc-1" || page[0].Text != it.Text || len(page[0].Cues) != 2 {
		t.Fatalf("second page %+v, want rc-1 with its text and cues", page)
	}
	page, err = s.ItemsSince(c, it.Published.Add(time.Hour), "", 10)
	must(t, err)
	if len(page) != 0 {
		t.Errorf("items published after the last one: %d, want 0", len(page))
	}
}

// testBriefs keeps two briefs and one again: listed newest first, without
// their HTML, read back whole, a repeat replacing.
func testBriefs(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	a := storage.BriefRecord{ID: "b-1", Title: "Brief 1", From: base, To: base.Add(7 * 24 * time.Hour), Mission: "MONUSCO", Lang: "fr",
		Audience: "internal", MadeBy: "analyst", Created: base.Add(7 * 24 * time.Hour), HTML: "<html>un « brief » ' \\ </html>"}
	b := a
	b.ID, b.Audience, b.Created, b.HTML = "b-2", "partner", a.Created.Add(time.Hour), "<html>partner</html>"
	must(t, s.PutBrief(c, a))
	must(t, s.PutBrief(c, b))
	must(t, s.PutBrief(c, a))
	list, err := s.Briefs(c, 10)
	must(t, err)
	if len(list) != 2 || list[0].ID != "b-2" || list[1].ID != "b-1" || list[0].HTML != "" {
		t.Fatalf("briefs %+v, want b-2 then b-1 without HTML", list)
	}
	got, err := s.Brief(c, "b-1")
	must(t, err)
	if got.HTML != a.HTML || !got.From.Equal(a.From) || got.Mission != "MONUSCO" {
		t.Errorf("brief read back %+v", got)
	}
	if _, err := s.Brief(c, "b-none"); err != storage.ErrNotFound {
		t.Errorf("missing brief: %v, want ErrNotFound", err)
	}
}

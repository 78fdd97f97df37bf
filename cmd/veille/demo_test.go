package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/parse/telegram"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
)

// TestDemoEndToEnd runs the whole embedded pipeline on the demo data twice
// over the same data folder: every demo item is stored exactly once, the
// stored flags are exactly what the classifier says of the stored items, and
// the second run doubles nothing.
func TestDemoEndToEnd(t *testing.T) {
	root := testenv.Root(t)
	dir := filepath.Join(root, "testdata", "demo")
	data := t.TempDir()
	// labels.jsonl has a line per feed entry, the transcript's for an
	// episode; an episode with a transcript gives two items (show notes and
	// transcript).
	want := countLines(t, filepath.Join(dir, "labels.jsonl"), "")
	want += countLines(t, filepath.Join(dir, "labels.jsonl"), `"transcript":`)
	// The Telegram channel's posts, the WhatsApp export's messages, the tips.
	social := demoSocialItems(t, dir)
	want += social

	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var first demoResult
	for pass := 1; pass <= 2; pass++ {
		// The second pass runs the demo built into the binary: the same
		// data as the folder, so nothing changes.
		from := dir
		if pass == 2 {
			from = ""
		}
		res, err := runDemo(ctx, demoOptions{Dir: from, Data: data, Once: true, Timeout: 2 * time.Minute, Out: devnull})
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		if res.Published != want {
			t.Errorf("pass %d: published %d items, the demo has %d", pass, res.Published, want)
		}
		if res.Totals.Items != int64(want) {
			t.Errorf("pass %d: stored %d items, want %d", pass, res.Totals.Items, want)
		}
		if pass == 1 {
			if res.Alerts != 1 {
				t.Errorf("the demo's surge raised %d alerts, want 1", res.Alerts)
			}
			first = res
			continue
		}
		if res.Alerts != 0 {
			t.Errorf("a replay raised %d alerts again, want none", res.Alerts)
		}
		if res.Totals.Flags != first.Totals.Flags {
			t.Errorf("flags went from %d to %d on a replay", first.Totals.Flags, res.Totals.Flags)
		}
		for n, c := range first.Totals.FlagsByNarr {
			if res.Totals.FlagsByNarr[n] != c {
				t.Errorf("flags for %s went from %d to %d on a replay", n, c, res.Totals.FlagsByNarr[n])
			}
		}
	}

	// The stored flags are exactly what the classifier finds in the stored items.
	st, err := backend.Open(ctx, "embedded", data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rules, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	m, err := learn.Open(rules, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	expect := map[string]int64{}
	var total int64
	spans := 0
	for _, id := range first.IDs {
		d, err := st.Item(ctx, id)
		if err != nil {
			t.Fatalf("item %s: %v", id, err)
		}
		// Every stored span indexes the one text spans index.
		indexed := d.Item.IndexedText()
		for _, f := range d.Flags {
			for _, e := range f.Evidence {
				spans++
				if e.Start < 0 || e.End > len(indexed) || e.Start > e.End || indexed[e.Start:e.End] != e.Text {
					t.Errorf("item %s, %s: evidence [%d:%d] %q does not index the item's text", id, f.Narrative, e.Start, e.End, e.Text)
				}
			}
		}
		res, err := m.Classify(ctx, run.DocOf(d.Item))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range run.FlagsOf(d.Item, res, m.Version()) {
			expect[f.Narrative]++
			total++
		}
	}
	if spans == 0 {
		t.Error("no evidence span stored for the demo")
	}
	// The demo is served as this week's: the last day holds its surge.
	rising, err := st.Rising(ctx, storage.RisingQuery{Now: time.Now(), Window: 24 * time.Hour, Baseline: 7 * 24 * time.Hour, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	recent := int64(0)
	for _, r := range rising {
		recent += r.Recent
	}
	if recent == 0 {
		t.Errorf("no flag in the last 24 hours of a fresh demo (rising: %+v): its dates are not today's", rising)
	}
	if total != first.Totals.Flags {
		t.Errorf("stored %d flags, the classifier finds %d in the stored items", first.Totals.Flags, total)
	}
	for n, c := range expect {
		if first.Totals.FlagsByNarr[n] != c {
			t.Errorf("%s: stored %d flags, classifier finds %d", n, first.Totals.FlagsByNarr[n], c)
		}
	}
	// The demo's uncatalogued rumour is the top emerging group, and only it.
	rumour := emergingTitles(t, filepath.Join(dir, "labels.jsonl"))
	if len(first.Emerging) == 0 {
		t.Fatal("no emerging group found in the demo")
	}
	top := first.Emerging[0]
	if len(top.Items) < 4 {
		t.Errorf("top emerging group has %d items, want the rumour's texts", len(top.Items))
	}
	for _, id := range top.Items {
		d, err := st.Item(ctx, id)
		if err != nil {
			t.Fatalf("emerging item %s: %v", id, err)
		}
		if !rumour[d.Item.Title] {
			t.Errorf("top emerging group holds %q, which is not part of the demo's rumour", d.Item.Title)
		}
	}
	if len(expect) < 6 {
		t.Errorf("the demo shows %d narratives, want at least 6", len(expect))
	}
}

// countLines counts the non-empty lines of path that contain substr.
func countLines(t *testing.T, path, substr string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 && strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

// emergingTitles returns the titles of the demo items labelled as the
// uncatalogued rumour.
func emergingTitles(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		var l struct {
			Title    string `json:"title"`
			Emerging bool   `json:"emerging"`
		}
		if line == "" || json.Unmarshal([]byte(line), &l) != nil || !l.Emerging {
			continue
		}
		out[l.Title] = true
	}
	if len(out) == 0 {
		t.Fatal("labels.jsonl marks no item as the emerging rumour")
	}
	return out
}

// demoSocialItems counts the demo's items that are not feed entries: the
// Telegram channel's posts, the dropped WhatsApp export's messages and the
// tips, each read with its own parser.
func demoSocialItems(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "telegram", "s", "EchosDuKivu"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, err := telegram.ParsePage(f, "EchosDuKivu")
	if err != nil {
		t.Fatal(err)
	}
	n := len(page.Posts)
	entries, err := os.ReadDir(filepath.Join(dir, "exports"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		g, err := os.Open(filepath.Join(dir, "exports", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msgs, _, err := exports.Parse(context.Background(), e.Name(), g, exports.Options{})
		g.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += len(msgs)
	}
	n += countLines(t, filepath.Join(dir, "tips.jsonl"), "")
	if n < 10 {
		t.Fatalf("the demo has %d posts, messages and tips, want at least 10", n)
	}
	return n
}

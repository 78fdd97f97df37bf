package alert_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/storage"
)

// streamItems reads the emerging package's test stream as items, ids
// prefixed and times shifted so that the stream ends at end.
func streamItems(t *testing.T, prefix string, end time.Time) []storage.Item {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "classifiers", "emerging", "testdata", "stream.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shift := end.Sub(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	var items []storage.Item
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d emerging.Doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		items = append(items, storage.Item{ID: prefix + d.ID, ContentHash: "h", Source: d.Source, Kind: "article", Text: d.Text,
			Lang: d.Lang, Station: d.Station, Mission: "MONUSCO", Published: d.Published.Add(shift), Fetched: d.Published.Add(shift)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

// TestEmergingFromStore stores the emerging package's test stream as items
// (some of them flagged with a known narrative), reads the candidates back
// and checks that the new rumour ranks first, that flagged items are left
// out, and that a dismissed group stays dismissed.
func TestEmergingFromStore(t *testing.T) {
	ctx := testCtx(t)
	items := streamItems(t, "em-", time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC))
	// Items with no mission in them are never candidates.
	items = append(items, storage.Item{ID: "em-nomission", ContentHash: "h", Source: "x", Kind: "article", Lang: "fr",
		Text: "Les antennes chassent la pluie et provoquent la sécheresse, dit un voisin.", Published: items[len(items)-1].Published})
	if err := store.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	// A known narrative already covers one rumour text: it is no longer a candidate.
	flagged := items[len(items)-2]
	if err := store.InsertFlags(ctx, []storage.Flag{{ItemID: flagged.ID, Narrative: "known", Stance: "assert", Score: 1,
		Source: flagged.Source, Lang: flagged.Lang, Mission: "MONUSCO", Published: flagged.Published}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)
	since := now.Add(-48 * time.Hour)
	docs, _, bgDocs, err := alert.Candidates(ctx, store, since, now.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bgDocs != 1 {
		t.Errorf("%d flagged items counted in the background, want 1", bgDocs)
	}
	for _, d := range docs {
		if d.ID == flagged.ID || d.ID == "em-nomission" {
			t.Errorf("candidate %s: flagged or without a mission", d.ID)
		}
		if !strings.HasPrefix(d.ID, "em-") {
			t.Errorf("candidate %s from outside the period", d.ID)
		}
		if d.Published.Before(since) || d.Published.After(now) {
			t.Errorf("candidate %s published %s: time lost or outside the period", d.ID, d.Published)
		}
	}
	if len(docs) != len(items)-2 {
		t.Errorf("%d candidates, want %d", len(docs), len(items)-2)
	}

	dis, err := alert.OpenDismissals(ctx, nats.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := alert.Emerging(ctx, store, dis, since, now.Add(time.Second), emerging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 2 {
		t.Fatalf("%d groups, want the rumour and the wire story", len(groups))
	}
	top := groups[0]
	for _, id := range top.Items {
		if !strings.HasPrefix(id, "em-rum-") {
			t.Errorf("top group holds %s, not a rumour text", id)
		}
	}
	if len(top.Items) < 6 {
		t.Errorf("top group %v: too few rumour texts", top.Items)
	}
	if err := dis.Dismiss(ctx, top, "reviewer-1", "seasonal talk", now); err != nil {
		t.Fatal(err)
	}
	after, err := alert.Emerging(ctx, store, dis, since, now.Add(time.Second), emerging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range after {
		if g.ID == top.ID || strings.HasPrefix(g.Items[0], "em-rum-") {
			t.Errorf("dismissed group %s listed again: %v", g.ID, g.Items)
		}
	}
	if len(after) != len(groups)-1 {
		t.Errorf("%d groups after dismissing one of %d", len(after), len(groups))
	}
	list, err := dis.List(ctx)
	if err != nil || len(list) != 1 || list[0].Reviewer != "reviewer-1" {
		t.Errorf("dismissals %+v (%v)", list, err)
	}
}

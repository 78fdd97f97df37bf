package alert_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/alert"
)

// TestEarlyWarningReviewJourney walks the web app's path: list groups,
// open the rumour's draft, promote the edited entry into the live matcher
// (the next such item is flagged), dismiss another group.
func TestEarlyWarningReviewJourney(t *testing.T) {
	ctx := testCtx(t)
	end := time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)
	items := streamItems(t, "sv-", end)
	if err := store.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w, err := alert.OpenEarlyWarning(ctx, nats.JS, 1, store, m, dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Now = func() time.Time { return end }
	groups, err := w.Groups(ctx, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 2 || !strings.HasPrefix(groups[0].Items[0], "sv-rum-") {
		t.Fatalf("groups %+v: want the rumour first", groups)
	}
	rumour, wire := groups[0], groups[1]
	draft, err := w.Draft(ctx, 48*time.Hour, rumour.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(draft), "id: emerging-") || !strings.Contains(string(draft), "rules:") {
		t.Fatalf("draft YAML:\n%s", draft)
	}
	next, err := os.ReadFile(filepath.Join("..", "..", "classifiers", "emerging", "testdata", "next-item.txt"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(draft), "Draft: ", "Antennas chase the rain: ", 1)
	cat, err := w.Promote(ctx, 48*time.Hour, rumour.ID, "admin-1", []byte(edited))
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	var id string
	for _, e := range cat.Entries() {
		if strings.HasPrefix(e.ID, "emerging-") {
			id = e.ID
		}
	}
	res, err := m.Classify(ctx, classifiers.Doc{ID: "next", Text: string(next), Lang: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	flagged := false
	for _, f := range res.Flags {
		flagged = flagged || f.Narrative == id
	}
	if id == "" || !flagged {
		t.Fatalf("next item flags %+v, want the promoted %q", res.Flags, id)
	}

	if err := w.Dismiss(ctx, 48*time.Hour, wire.ID, "reviewer-2", "a bridge, not a rumour"); err != nil {
		t.Fatal(err)
	}
	after, err := w.Groups(ctx, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range after {
		if g.ID == wire.ID || g.ID == rumour.ID {
			t.Errorf("group %s still listed after being dismissed or promoted", g.ID)
		}
	}
	if _, err := w.Group(ctx, 48*time.Hour, "g-000000000000"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("unknown group: %v, want ErrNotFound", err)
	}
	if _, err := w.Recent(context.Background(), 5); err != nil {
		t.Errorf("recent alerts: %v", err)
	}
}

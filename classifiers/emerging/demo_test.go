package emerging_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/internal/testenv"
)

// TestDemoRumourFound reads the demo data's labels (testdata/demo at the
// project root): the uncatalogued rumour its authors wrote, told seven ways
// in French and English among ordinary news, must come out as the top group.
func TestDemoRumourFound(t *testing.T) {
	path := filepath.Join(testenv.Root(t), "testdata", "demo", "labels.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bridge := emerging.NewBridge(catalog.Default())
	var docs []emerging.Doc
	rumour := map[string]bool{}
	bg, bgDocs := map[string]int{}, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			ID, Lang, Source, Text string
			Published              time.Time
			Labels                 []json.RawMessage
			Emerging               bool
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(r.Labels) > 0 {
			for _, term := range emerging.Terms(r.Text, bridge) {
				bg[term]++
			}
			bgDocs++
			continue
		}
		if r.Emerging {
			rumour[r.ID] = true
		}
		if emerging.MentionsMission(r.Text) {
			docs = append(docs, emerging.Doc{ID: r.ID, Text: r.Text, Lang: r.Lang, Source: r.Source, Published: r.Published})
		}
	}
	if len(rumour) < 5 {
		t.Fatalf("the demo data marks %d rumour items, want at least 5", len(rumour))
	}
	groups := emerging.Find(docs, emerging.Options{Background: bg, BackgroundDocs: bgDocs, Bridge: bridge})
	for _, g := range groups {
		t.Logf("%.1f %v %v", g.Score, g.Items, g.Terms)
	}
	if len(groups) == 0 {
		t.Fatal("no group in the demo data")
	}
	in, out := 0, 0
	for _, id := range groups[0].Items {
		if rumour[id] {
			in++
		} else {
			out++
		}
	}
	if in < 4 || out > 1 {
		t.Errorf("top group holds %d of the %d rumour items and %d others", in, len(rumour), out)
	}
}

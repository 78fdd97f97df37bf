package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veille-project/veille/internal/testenv"
)

// TestCatalogExampleAddsNarrative runs the catalog guide's example of adding a
// narrative: `veille classify --catalog testdata/catalog-example`.
func TestCatalogExampleAddsNarrative(t *testing.T) {
	m, err := newMatcher(filepath.Join(testenv.Root(t), "testdata", "catalog-example"))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"id": "a", "text": "MINUSCA is buying up all the diesel in Bangui to cause a shortage."}`,
		`{"id": "b", "text": "Les casques bleus accaparent le carburant, voilà pourquoi il y a pénurie à Bria."}`,
		`{"id": "c", "text": "Fuel prices rose in Bangui this week."}`,
	}, "\n")
	var out bytes.Buffer
	if err := classifyStream(context.Background(), m, strings.NewReader(in), &out, 2); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"a": true, "b": true, "c": false}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct {
			ID    string `json:"id"`
			Flags []struct {
				Narrative string `json:"narrative"`
			} `json:"flags"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		got := false
		for _, f := range r.Flags {
			got = got || f.Narrative == "fuel-hoarding"
		}
		if got != want[r.ID] {
			t.Errorf("%s: fuel-hoarding flagged = %v, want %v (%s)", r.ID, got, want[r.ID], line)
		}
	}
}

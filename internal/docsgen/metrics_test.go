package docsgen_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/veille-project/veille/internal/docsgen"
	"github.com/veille-project/veille/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the code")

// TestMetricsReferenceMatchesTheCode: docs/metrics.md is what the code
// declares, metric for metric.
func TestMetricsReferenceMatchesTheCode(t *testing.T) {
	root := testenv.Root(t)
	ms, err := docsgen.Metrics(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 10 {
		t.Fatalf("found %d metrics in the code: the scan is broken", len(ms))
	}
	for _, m := range ms {
		if m.Help == "" {
			t.Errorf("metric %s has no help text", m.Name)
		}
	}
	want := docsgen.MetricsDoc(ms)
	path := filepath.Join(root, "docs", "metrics.md")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/metrics.md differs from the metrics in the code: run go test ./internal/docsgen/ -update")
	}
}

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
	matchesGenerated(t, filepath.Join(root, "docs", "metrics.md"), docsgen.MetricsDoc(ms))
}

// matchesGenerated fails when the page at path is not want; -update
// writes want there first.
func matchesGenerated(t *testing.T, path, want string) {
	t.Helper()
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
		t.Errorf("%s differs from the code: run go test ./internal/docsgen/ -update", filepath.Base(path))
	}
}

// TestConfigReferenceMatchesTheCode: docs/config.md is what the code
// declares, key for key, with its variable and default.
func TestConfigReferenceMatchesTheCode(t *testing.T) {
	root := testenv.Root(t)
	keys, err := docsgen.ConfigKeys(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 40 {
		t.Fatalf("found %d keys: the scan is broken", len(keys))
	}
	for _, k := range keys {
		if k.Meaning == "" {
			t.Errorf("key %s has no doc comment in pipeline/config/config.go", k.Key)
		}
	}
	matchesGenerated(t, filepath.Join(root, "docs", "config.md"), docsgen.ConfigDoc(keys))
}

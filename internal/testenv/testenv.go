// Package testenv finds the files tests read: the project root and the
// shared corpus beside it (../shared). In CI a missing shared folder is a
// failure; elsewhere the tests that need it are skipped, loudly.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the project root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("testenv: no go.mod above the working directory")
		}
		dir = up
	}
}

// Shared returns the shared folder (corpus, feeds-wild) beside the project
// root, or VEILLE_SHARED when set.
func Shared(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VEILLE_SHARED")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(Root(t)), "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "corpus", "taxonomy.yaml")); err != nil {
		Missing(t, "shared corpus at "+dir)
	}
	return dir
}

// Missing skips the test outside CI and fails it in CI (CI=true), where
// everything a test needs must be installed by .ci/run.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("MISSING in CI: %s", what)
	}
	t.Skipf("SKIPPED: %s is not available here (CI installs it; run `make setup-test`)", what)
}

// Integration skips t under -short: it starts a cluster, a ClickHouse
// server or a browser. `go test -short ./...` is the quick unit tier;
// `make test` runs both tiers.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
}

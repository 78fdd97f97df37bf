package ingest_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
)

func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// readTestdata reads a feed or transcript document; the parser's package
// keeps them, the poller serves them.
func readTestdata(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "parse", "testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testFetch is a fetch configuration with limits small enough for tests.
func testFetch(allow ...string) config.Fetch {
	return config.Fetch{
		MaxBody:        1 << 20,
		ConnectTimeout: config.Duration(2 * time.Second),
		ReadTimeout:    config.Duration(500 * time.Millisecond),
		TotalTimeout:   config.Duration(1500 * time.Millisecond),
		MaxRedirects:   3,
		PerHost:        2,
		UserAgent:      "VeilleTest/1.0",
		Allow:          allow,
	}
}

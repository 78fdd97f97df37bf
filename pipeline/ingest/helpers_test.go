package ingest_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch/fetchtest"
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

func testFetch(allow ...string) config.Fetch { return fetchtest.Config(allow...) }

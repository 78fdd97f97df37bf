package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/storage"
)

// TestReloadSwapsSources: after a SIGHUP the poller polls the new source
// list; a configuration that fails to load keeps the current one.
func TestReloadSwapsSources(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(r.URL.Path, "/")
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title><link>https://x.example/</link><description>d</description>`+
			`<item><title>%[1]s news</title><guid>%[1]s-1</guid><description>Rain in Goma, says %[1]s.</description></item></channel></rss>`, name)
	}))
	defer site.Close()
	host := strings.TrimPrefix(site.URL, "http://")
	p := ingest.NewPoller(fetch.NewFetcher(config.Fetch{Allow: []string{host}}), ingest.PollerOptions{DefaultInterval: time.Hour})

	var mu sync.Mutex
	got := map[string]bool{}
	publish := func(ctx context.Context, it storage.Item) error {
		mu.Lock()
		defer mu.Unlock()
		got[it.Source] = true
		return nil
	}
	has := func(src string) bool { mu.Lock(); defer mu.Unlock(); return got[src] }
	waitFor := func(src string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !has(src); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("source %s never polled", src)
			}
		}
	}

	a := config.Source{Name: "a", URL: site.URL + "/a", Kind: "rss", Interval: config.Duration(time.Second)}
	b := config.Source{Name: "b", URL: site.URL + "/b", Kind: "rss", Interval: config.Duration(time.Second)}
	hup := make(chan os.Signal, 1)
	reloads := []func() ([]config.Source, error){
		func() ([]config.Source, error) { return nil, errors.New("veille.yaml: line 3: bad duration") },
		func() ([]config.Source, error) { return []config.Source{a, b}, nil },
	}
	n := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- pollUntil(ctx, p, []config.Source{a}, publish, hup, func() ([]config.Source, error) { n++; return reloads[n-1]() })
	}()
	waitFor("a")
	hup <- os.Interrupt // a bad configuration: b must not appear
	time.Sleep(200 * time.Millisecond)
	if has("b") {
		t.Fatal("source b polled although its configuration failed to load")
	}
	hup <- os.Interrupt
	waitFor("b")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/sources"
	"github.com/veille-project/veille/storage"
)

// TestSourcesBucketDrivesIngest: a running ingest loop polls a source
// added to the bucket within seconds, stops polling it once paused, and
// starts again once resumed; a configured source paused through the bucket
// stops too; bad and duplicate sources are refused with the reason.
func TestSourcesBucketDrivesIngest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, _ := testBus(ctx, t)

	var mu sync.Mutex
	hits := map[string]int{}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(r.URL.Path, "/")
		mu.Lock()
		hits[name]++
		n := hits[name]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title><link>https://x.example/</link><description>d</description>`+
			`<item><title>%[1]s %[2]d</title><guid>%[1]s-%[2]d</guid><description>Rain in Goma, says %[1]s.</description></item></channel></rss>`, name, n)
	}))
	defer site.Close()
	count := func(name string) int { mu.Lock(); defer mu.Unlock(); return hits[name] }
	waitHits := func(name string, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count(name) < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("source %s polled %d times, want %d", name, count(name), n)
			}
		}
	}
	// stopped asserts that name stops being polled once the swap settled:
	// four intervals pass with no poll within 10 s (a loaded machine may
	// take a while to deliver the change; a source still polled never
	// passes).
	stopped := func(name string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			before := count(name)
			time.Sleep(2 * time.Second) // four intervals
			after := count(name)
			if after == before {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("paused source %s still polled: %d more times in the last 2 s", name, after-before)
			}
		}
	}

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Fetch.Allow = []string{strings.TrimPrefix(site.URL, "http://")}
	every := config.Duration(500 * time.Millisecond)
	cfg.Sources = []config.Source{{Name: "configured", URL: site.URL + "/configured", Kind: "rss", Interval: every}}
	radioRoot := t.TempDir()
	cfg.Ingest.FolderRoots = []string{radioRoot}
	r := &Runner{Config: cfg, Bus: b, Log: quietLog()}
	p, err := r.NewPoller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var published sync.Map
	publish := func(_ context.Context, it storage.Item) error { published.Store(it.Source, true); return nil }

	changes, err := sources.WatchSources(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	initial, err := sources.ListSources(ctx, b, cfg)
	if err != nil || len(initial) != 1 {
		t.Fatalf("initial sources %+v, %v", initial, err)
	}
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- sources.PollSources(loopCtx, p, initial, publish, changes, func(ctx context.Context) ([]config.Source, error) {
			return sources.ListSources(ctx, b, cfg)
		})
	}()
	waitHits("configured", 1)

	added := config.Source{Name: "radio bria", URL: site.URL + "/added", Kind: "rss", Lang: "fr", Mission: "MINUSCA", Interval: every}
	if err := sources.PutSource(ctx, b, cfg, added, "admin-1"); err != nil {
		t.Fatal(err)
	}
	waitHits("added", 2)
	if _, ok := published.Load("radio bria"); !ok {
		t.Error("items of the added source not published")
	}
	all, err := sources.Sources(ctx, b, cfg)
	if err != nil || len(all) != 2 || !all[1].Added || all[1].AddedBy != "admin-1" || all[1].Mission != "MINUSCA" || all[0].Added {
		t.Fatalf("sources after the add: %+v, %v", all, err)
	}

	// Refusals, each with its reason.
	for _, tc := range []struct {
		src  config.Source
		want error
		says string
	}{
		{config.Source{Name: "", URL: site.URL + "/x", Kind: "rss"}, sources.ErrBadSource, "no name"},
		{config.Source{Name: "ftp", URL: "ftp://files.example/feed", Kind: "rss"}, sources.ErrBadSource, "http or https"},
		{config.Source{Name: "nohost", URL: "https:///feed", Kind: "rss"}, sources.ErrBadSource, "http or https"},
		{config.Source{Name: "video", URL: site.URL + "/v", Kind: "video"}, sources.ErrBadSource, "kind"},
		{config.Source{Name: "dir", URL: "transcripts/gao", Kind: "transcripts-dir"}, sources.ErrBadSource, "absolute"},
		{config.Source{Name: "etc", URL: "/etc", Kind: "transcripts-dir"}, sources.ErrBadSource, "not under the allowed roots"},
		{config.Source{Name: "up", URL: radioRoot + "/../elsewhere", Kind: "transcripts-dir"}, sources.ErrBadSource, "clean path"},
		{config.Source{Name: "<script>alert(1)</script>", URL: site.URL + "/s", Kind: "rss"}, sources.ErrBadSource, "name"},
		{config.Source{Name: "\"quoted\"", URL: site.URL + "/q", Kind: "rss"}, sources.ErrBadSource, "name"},
		{config.Source{Name: "neg", URL: site.URL + "/n", Kind: "rss", Interval: -1}, sources.ErrBadSource, "interval"},
		{config.Source{Name: "configured", URL: site.URL + "/other", Kind: "rss"}, sources.ErrSourceExists, "named"},
		{config.Source{Name: "radio bria", URL: site.URL + "/other", Kind: "rss"}, sources.ErrSourceExists, "named"},
		{config.Source{Name: "radio_bria", URL: site.URL + "/other", Kind: "rss"}, sources.ErrSourceExists, "too close"},
		{config.Source{Name: "copy", URL: site.URL + "/added", Kind: "rss"}, sources.ErrSourceExists, "same url"},
		{config.Source{Name: "copy", URL: site.URL + "/configured", Kind: "podcast"}, sources.ErrSourceExists, "same url"},
	} {
		err := sources.PutSource(ctx, b, cfg, tc.src, "admin-1")
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("sources.PutSource(%+v): %v, want %v saying %q", tc.src, err, tc.want, tc.says)
		}
	}
	if err := os.MkdirAll(filepath.Join(radioRoot, "gao"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sources.PutSource(ctx, b, cfg, config.Source{Name: "Radio Gao (transcripts)", URL: filepath.Join(radioRoot, "gao"), Kind: "transcripts-dir"}, "admin-1"); err != nil {
		t.Errorf("a folder under the roots: %v", err)
	}
	if err := sources.DeleteSource(ctx, b, cfg, "Radio Gao (transcripts)"); err != nil {
		t.Fatal(err)
	}
	noRoots := cfg
	noRoots.Ingest.FolderRoots = nil
	if err := sources.PutSource(ctx, b, noRoots, config.Source{Name: "Radio Bria", URL: filepath.Join(radioRoot, "bria"), Kind: "transcripts-dir"}, "admin-1"); !errors.Is(err, sources.ErrBadSource) || !strings.Contains(err.Error(), "folder_roots") {
		t.Errorf("a folder with no roots configured: %v, want a refusal naming ingest.folder_roots", err)
	}
	if err := sources.SetPaused(ctx, b, cfg, "nobody", true); !errors.Is(err, sources.ErrNoSuchSource) {
		t.Errorf("pause unknown source: %v", err)
	}
	if err := sources.DeleteSource(ctx, b, cfg, "configured"); !errors.Is(err, sources.ErrSourceConfigured) {
		t.Errorf("delete configured source: %v", err)
	}

	// Pause both: neither is polled any more.
	for _, name := range []string{"radio bria", "configured"} {
		if err := sources.SetPaused(ctx, b, cfg, name, true); err != nil {
			t.Fatal(err)
		}
	}
	stopped("added")
	if c := count("configured"); c > 0 {
		before := c
		time.Sleep(time.Second)
		if count("configured") != before {
			t.Fatal("paused configured source still polled")
		}
	}
	all, _ = sources.Sources(ctx, b, cfg)
	if len(all) != 2 || !all[0].Paused || !all[1].Paused {
		t.Fatalf("sources after pausing: %+v", all)
	}

	// Resume the added one: polled again. Then delete it: gone.
	if err := sources.SetPaused(ctx, b, cfg, "radio bria", false); err != nil {
		t.Fatal(err)
	}
	waitHits("added", count("added")+1)
	if err := sources.DeleteSource(ctx, b, cfg, "radio bria"); err != nil {
		t.Fatal(err)
	}
	stopped("added")
	if all, _ = sources.Sources(ctx, b, cfg); len(all) != 1 || all[0].Name != "configured" || !all[0].Paused {
		t.Fatalf("sources after the delete: %+v", all)
	}
	if err := sources.DeleteSource(ctx, b, cfg, "radio bria"); !errors.Is(err, sources.ErrNoSuchSource) {
		t.Errorf("second delete: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Once "configured" leaves the configuration, its pause flag gives way
	// to a source an admin adds under that name.
	cfg.Sources = nil
	readded := config.Source{Name: "configured", URL: site.URL + "/readded", Kind: "rss"}
	if err := sources.PutSource(ctx, b, cfg, readded, "admin-2"); err != nil {
		t.Fatal(err)
	}
	if all, _ = sources.Sources(ctx, b, cfg); len(all) != 1 || all[0].URL != readded.URL || all[0].Paused || all[0].AddedBy != "admin-2" {
		t.Fatalf("sources after re-adding: %+v", all)
	}
	if err := sources.PutSource(ctx, b, cfg, config.Source{Name: "configured", URL: site.URL + "/third", Kind: "rss"}, "admin-2"); !errors.Is(err, sources.ErrSourceExists) {
		t.Fatalf("adding over an added source: %v, want sources.ErrSourceExists", err)
	}
}

// TestConcurrentAddsOfOneURL: admins adding the same feed URL under
// different names at the same time leave exactly one source, and every
// other add fails with sources.ErrSourceExists.
func TestConcurrentAddsOfOneURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, _ := testBus(ctx, t)
	cfg := config.Default()
	const url = "https://radio.example.org/feed.xml"
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				src := config.Source{Name: fmt.Sprintf("r%d-admin%d", round, i), URL: fmt.Sprintf("%s?r=%d", url, round), Kind: "rss"}
				errs[i] = sources.PutSource(ctx, b, cfg, src, "admin")
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, sources.ErrSourceExists):
				t.Fatalf("round %d: %v, want nil or sources.ErrSourceExists", round, err)
			}
		}
		all, err := sources.Sources(ctx, b, cfg)
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, s := range all {
			if strings.HasSuffix(s.URL, fmt.Sprintf("?r=%d", round)) {
				held++
			}
		}
		if ok != 1 || held != 1 {
			t.Errorf("round %d: %d adds succeeded and %d sources hold the url, want 1 and 1", round, ok, held)
		}
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/fetch/fetchtest"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse"
)

// sink is a publish function that records what it was given.
type sink struct {
	mu    sync.Mutex
	items []domain.Item
	fail  func(domain.Item) error
}

func (s *sink) publish(_ context.Context, it domain.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(it); err != nil {
			return err
		}
	}
	s.items = append(s.items, it)
	return nil
}

func (s *sink) bySource() map[string][]domain.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]domain.Item{}
	for _, it := range s.items {
		out[it.Source] = append(out[it.Source], it)
	}
	return out
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// feedServer serves the testdata feeds and transcripts with ETags, and
// counts requests per path.
type feedServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFeedServer(t *testing.T, extra map[string][]byte) *feedServer {
	fs := &feedServer{hits: map[string]int{}}
	files := map[string][]byte{
		"/minusca.rss":      readTestdata(t, "feeds", "minusca-fr.rss"),
		"/monusco.json":     readTestdata(t, "feeds", "monusco.json"),
		"/t/2026-03-12.vtt": readTestdata(t, "transcripts", "journal.vtt"),
		"/t/2026-03-11.srt": readTestdata(t, "transcripts", "journal.srt"),
		"/t/2026-03-12.txt": []byte("Bonjour, il est sept heures."),
	}
	for k, v := range extra {
		files[k] = v
	}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.hits[r.URL.Path]++
		fs.mu.Unlock()
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body = bytes.ReplaceAll(body, []byte("{{BASE}}"), []byte(fs.URL))
		etag := fmt.Sprintf(`"%x"`, len(body))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	return fs
}

func (fs *feedServer) hitsOf(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[path]
}

func TestPollerPublishesOnceAndRetriesFailedPublishes(t *testing.T) {
	srv := newFeedServer(t, nil)
	defer srv.Close()
	var health []ingest.SourceHealth
	var hmu sync.Mutex
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv.Server))), ingest.PollerOptions{
		OnHealth: func(h ingest.SourceHealth) { hmu.Lock(); health = append(health, h); hmu.Unlock() },
	})
	sources := []config.Source{
		{Name: "bangui", URL: srv.URL + "/minusca.rss", Kind: "rss", Mission: "MINUSCA"},
		{Name: "goma", URL: srv.URL + "/monusco.json", Mission: "MONUSCO"},
	}
	failing := parse.ItemID("bangui", "qb-2026-03-11-004")
	s := &sink{fail: func(it domain.Item) error {
		if it.ID == failing {
			return errors.New("bus unavailable")
		}
		return nil
	}}
	ctx := context.Background()
	err := p.PollOnce(ctx, sources, s.publish)
	if err == nil || !strings.Contains(err.Error(), "bangui") || !strings.Contains(err.Error(), "bus unavailable") {
		t.Fatalf("PollOnce error %v: want the failed publish, naming the source", err)
	}
	got := s.bySource()
	if len(got["bangui"]) != 1 || len(got["goma"]) != 2 {
		t.Fatalf("first poll published bangui %d, goma %d; want 1 (stopped at the failure) and 2", len(got["bangui"]), len(got["goma"]))
	}

	// The bus is back: the failed item and the rest are published, nothing twice.
	s.fail = nil
	if err := p.PollOnce(ctx, sources, s.publish); err != nil {
		t.Fatal(err)
	}
	got = s.bySource()
	if len(got["bangui"]) != 3 || len(got["goma"]) != 2 {
		t.Fatalf("after retry: bangui %d, goma %d; want 3 and 2", len(got["bangui"]), len(got["goma"]))
	}
	seen := map[string]bool{}
	for _, it := range s.items {
		if seen[it.ID] {
			t.Errorf("item %s published twice", it.ID)
		}
		seen[it.ID] = true
	}

	// A third poll: goma answers 304 (its validators were kept), bangui too
	// now that its document was fully handled; nothing new is published.
	before := srv.hitsOf("/monusco.json")
	if err := p.PollOnce(ctx, sources, s.publish); err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 5 {
		t.Errorf("third poll published %d new items", n-5)
	}
	if srv.hitsOf("/monusco.json") != before+1 {
		t.Errorf("goma not polled")
	}

	hs := p.Health()
	if len(hs) != 2 {
		t.Fatalf("health for %d sources", len(hs))
	}
	for _, h := range hs {
		if h.ConsecutiveFailures != 0 || h.LastSuccess.IsZero() || h.LastStatus != http.StatusNotModified {
			t.Errorf("%s: health %+v", h.Source, h)
		}
	}
	if hs[0].Source != "bangui" || hs[0].ItemsLastDay != 3 || hs[0].LastError == "" || hs[0].Format != "rss 2.0" {
		t.Errorf("bangui health %+v: want 3 items today and the old publish error kept", hs[0])
	}
	hmu.Lock()
	if len(health) != 6 {
		t.Errorf("OnHealth called %d times, want 6 (2 sources × 3 polls)", len(health))
	}
	hmu.Unlock()
	b, err := json.Marshal(hs)
	if err != nil || !bytes.Contains(b, []byte(`"items_last_day":3`)) {
		t.Errorf("health JSON %s (%v)", b, err)
	}
	var out bytes.Buffer
	if err := ingest.FormatHealth(&out, hs, time.Now()); err != nil || !strings.Contains(out.String(), "bangui") || !strings.Contains(out.String(), "goma") {
		t.Errorf("FormatHealth:\n%s", out.String())
	}
}

func TestPollerSuppressesDuplicatesAcrossSources(t *testing.T) {
	mirror := bytes.ReplaceAll(readTestdata(t, "feeds", "monusco.json"), []byte("goma-hebdo.example.org"), []byte("miroir.example.net"))
	mirror = bytes.ReplaceAll(mirror, []byte(`"gh-`), []byte(`"miroir-`))
	srv := newFeedServer(t, map[string][]byte{"/mirror.json": mirror})
	defer srv.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv.Server))), ingest.PollerOptions{Concurrency: 1})
	s := &sink{}
	sources := []config.Source{
		{Name: "goma", URL: srv.URL + "/monusco.json"},
		{Name: "same-url", URL: srv.URL + "/monusco.json?copy=1"}, // same entries, same links
		{Name: "same-text", URL: srv.URL + "/mirror.json"},        // other links, same texts
	}
	if err := p.PollOnce(context.Background(), sources, s.publish); err != nil {
		t.Fatal(err)
	}
	got := s.bySource()
	if len(got["goma"]) != 2 || len(got["same-url"]) != 0 || len(got["same-text"]) != 0 {
		t.Errorf("published goma %d, same-url %d, same-text %d; want 2, 0, 0", len(got["goma"]), len(got["same-url"]), len(got["same-text"]))
	}
	for _, h := range p.Health() {
		if h.Source != "goma" && h.Duplicates != 2 {
			t.Errorf("%s: %d duplicates counted, want 2", h.Source, h.Duplicates)
		}
	}
}

func TestPollerPodcastTranscripts(t *testing.T) {
	srv := newFeedServer(t, map[string][]byte{"/podcast.xml": readTestdata(t, "feeds", "podcast.xml.tmpl")})
	defer srv.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv.Server))), ingest.PollerOptions{TranscriptAttempts: 2})
	s := &sink{}
	src := config.Source{Name: "radio-exemple", URL: srv.URL + "/podcast.xml", Kind: "podcast", Mission: "MINUSCA", Station: "Radio Exemple"}
	ctx := context.Background()
	_, err := p.PollSource(ctx, src, s.publish)
	if err == nil || !strings.Contains(err.Error(), "missing.vtt") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want the missing transcript named", err)
	}
	var transcripts []domain.Item
	articles := 0
	for _, it := range s.items {
		if it.Kind == "transcript" {
			transcripts = append(transcripts, it)
		} else {
			articles++
		}
	}
	if articles != 3 || len(transcripts) != 2 {
		t.Fatalf("published %d articles and %d transcripts, want 3 and 2", articles, len(transcripts))
	}
	if srv.hitsOf("/t/2026-03-12.txt") != 0 || srv.hitsOf("/t/2026-03-12.vtt") != 1 {
		t.Error("the WebVTT transcript was not preferred over plain text")
	}
	tr := transcripts[0]
	if tr.Title != "Journal du 12 mars 2026" || tr.Station != "Radio Exemple" || tr.Lang != "fr" || tr.Mission != "MINUSCA" ||
		len(tr.Cues) != 4 || tr.Cues[2].Speaker != "Porte-parole de la MINUSCA" ||
		tr.Published.Format(time.RFC3339) != "2026-03-12T07:00:00Z" || tr.URL != "https://radio-exemple.example.org/journal/2026-03-12" {
		t.Errorf("transcript item %+v", tr)
	}
	if !strings.Contains(tr.Text, "casques bleus auraient livré des armes") || tr.ContentHash != parse.ContentHash(tr.Text) {
		t.Errorf("transcript text %q", tr.Text)
	}
	if len(transcripts[1].Cues) != 4 || transcripts[1].Cues[0].Speaker != "Présentateur" {
		t.Errorf("SRT transcript cues %+v", transcripts[1].Cues)
	}
	if h := p.Health()[0]; h.ConsecutiveFailures != 0 || !strings.Contains(h.LastError, "missing.vtt") {
		t.Errorf("a missing transcript should be reported without failing the feed: %+v", h)
	}

	// Second poll retries the missing transcript once more, then gives up;
	// the third poll is clean.
	if _, err := p.PollSource(ctx, src, s.publish); err == nil || !strings.Contains(err.Error(), "attempt 2 of 2") {
		t.Fatalf("second poll: %v", err)
	}
	if _, err := p.PollSource(ctx, src, s.publish); err != nil {
		t.Fatalf("third poll: %v", err)
	}
	if n := s.count(); n != 5 {
		t.Errorf("%d items published in all, want 5", n)
	}
	if srv.hitsOf("/t/missing.vtt") != 2 {
		t.Errorf("missing transcript fetched %d times, want 2", srv.hitsOf("/t/missing.vtt"))
	}
}

// TestPollerHostileSourcesDoNotStopOthers polls good and hostile sources in
// one run: every hostile one ends in its own error, the good ones ingest.
func TestPollerHostileSourcesDoNotStopOthers(t *testing.T) {
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("reached a loopback address that was not allowed: %s", r.URL)
	}))
	defer secret.Close()
	bad := fetchtest.Hostile(t, secret.URL)
	defer bad.Close()
	good := newFeedServer(t, nil)
	defer good.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(bad), hostOf(good.Server))), ingest.PollerOptions{})
	sources := []config.Source{{Name: "good-rss", URL: good.URL + "/minusca.rss"}, {Name: "good-json", URL: good.URL + "/monusco.json"}}
	want := map[string]string{
		"trickle": "timed out", "stall": "timed out", "endless": "body too large", "huge-length": "body too large",
		"loop": "too many redirects", "to-metadata": "non-public", "to-loopback": "non-public",
		"gzip-bomb": "body too large", "image": "content type", "html": "not an RSS, Atom or JSON feed",
		"busy": "429", "down": "503",
	}
	for name := range want {
		sources = append(sources, config.Source{Name: "bad-" + name, URL: bad.URL + "/" + name})
	}
	s := &sink{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.PollOnce(ctx, sources, s.publish)
	if err == nil {
		t.Fatal("no error from the hostile sources")
	}
	got := s.bySource()
	if len(got["good-rss"]) != 3 || len(got["good-json"]) != 2 {
		t.Errorf("good sources published %d and %d items, want 3 and 2", len(got["good-rss"]), len(got["good-json"]))
	}
	for _, h := range p.Health() {
		if strings.HasPrefix(h.Source, "good") {
			if h.ConsecutiveFailures != 0 {
				t.Errorf("%s failed: %s", h.Source, h.LastError)
			}
			continue
		}
		w := want[strings.TrimPrefix(h.Source, "bad-")]
		if h.ConsecutiveFailures != 1 || !strings.Contains(h.LastError, w) || !strings.Contains(h.LastError, h.Source) {
			t.Errorf("%s: failures %d, last error %q; want one failure naming the source and %q", h.Source, h.ConsecutiveFailures, h.LastError, w)
		}
	}
	busy := config.Source{Name: "bad-busy", URL: bad.URL + "/busy", Interval: config.Duration(time.Minute)}
	if d := p.NextDelay(busy, errors.New("x")); d < 120*time.Second {
		t.Errorf("next delay after 429 Retry-After 120 = %s", d)
	}
}

func TestPollerBackoff(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv))), ingest.PollerOptions{MaxBackoff: time.Hour})
	src := config.Source{Name: "broken", URL: srv.URL + "/feed", Interval: config.Duration(10 * time.Minute)}
	if d := p.NextDelay(src, nil); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("delay when healthy = %s, want 10m ±10%%", d)
	}
	want := []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		_, err := p.PollSource(context.Background(), src, (&sink{}).publish)
		if err == nil {
			t.Fatal("404 did not fail")
		}
		d := p.NextDelay(src, err)
		if d < w*9/10 || d > w*11/10 {
			t.Errorf("after %d failures: delay %s, want about %s", i+1, d, w)
		}
	}
}

func TestPollerRunPollsOnSchedule(t *testing.T) {
	srv := newFeedServer(t, nil)
	defer srv.Close()
	var last atomic.Value
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv.Server))), ingest.PollerOptions{
		OnHealth: func(h ingest.SourceHealth) { last.Store(h) },
	})
	s := &sink{}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	sources := []config.Source{
		{Name: "fast", URL: srv.URL + "/minusca.rss", Interval: config.Duration(200 * time.Millisecond)},
		{Name: "paused", URL: srv.URL + "/monusco.json", Paused: true},
	}
	if err := p.Run(ctx, sources, s.publish); err != nil {
		t.Fatal(err)
	}
	if n := srv.hitsOf("/minusca.rss"); n < 3 {
		t.Errorf("fast source polled %d times in 1.5s at a 200ms interval", n)
	}
	if srv.hitsOf("/monusco.json") != 0 {
		t.Error("paused source polled")
	}
	if s.count() != 3 {
		t.Errorf("%d items published, want 3 (once each)", s.count())
	}
	h, _ := last.Load().(ingest.SourceHealth)
	if d := h.NextPoll.Sub(h.LastPoll); d < 150*time.Millisecond || d > 250*time.Millisecond {
		t.Errorf("health handed to OnHealth: next poll %s after the last, want 200ms ±10%%", d)
	}
}

func TestPollerTranscriptsDir(t *testing.T) {
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("testdata", "dir"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "dir", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, e.Name())
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, old, old)
	}
	// A file still being written is left for the next poll.
	fresh := filepath.Join(dir, "radio-exemple_20260312T0800_fr.vtt")
	os.WriteFile(fresh, []byte("WEBVTT\n\n00:00.000 --> 00:01.000\n<v A>en cours\n"), 0o644)

	p := ingest.NewPoller(fetch.NewFetcher(testFetch()), ingest.PollerOptions{Settle: time.Minute})
	s := &sink{}
	src := config.Source{Name: "stt", URL: "file://" + dir, Kind: "transcripts-dir", Lang: "sg", Mission: "MINUSCA"}
	_, err = p.PollSource(context.Background(), src, s.publish)
	if err == nil || !strings.Contains(err.Error(), "broken_20260312T0900_fr.vtt") || !strings.Contains(err.Error(), "line") {
		t.Errorf("err = %v, want the broken file named with a line", err)
	}
	byStation := map[string]domain.Item{}
	for _, it := range s.items {
		byStation[it.Station] = it
	}
	if len(s.items) != 2 {
		t.Fatalf("published %d items, want 2: %+v", len(s.items), byStation)
	}
	a := byStation["radio-exemple"]
	if a.Kind != "transcript" || a.Lang != "fr" || a.Mission != "MINUSCA" || a.Published.Format(time.RFC3339) != "2026-03-12T07:00:00Z" || len(a.Cues) != 4 {
		t.Errorf("file-name metadata not applied: %+v", a)
	}
	b := byStation["Radio Exemple Bria"]
	if b.Lang != "fr" || b.Published.Format(time.RFC3339) != "2026-03-12T18:30:00Z" || len(b.Cues) != 4 || b.Cues[0].Speaker != "Présentateur" {
		t.Errorf("sidecar metadata not applied: %+v", b)
	}

	h := p.Health()[0]
	if h.ConsecutiveFailures != 0 || !strings.Contains(h.LastError, "broken_20260312T0900_fr.vtt") {
		t.Errorf("a broken file should be reported without failing the folder: %+v", h)
	}
	// Unchanged, the broken file is not reported again; repaired, it is read.
	if _, err := p.PollSource(context.Background(), src, s.publish); err != nil {
		t.Errorf("second poll: %v", err)
	}
	broken := filepath.Join(dir, "broken_20260312T0900_fr.vtt")
	os.WriteFile(broken, []byte("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nréparé\n"), 0o644)
	os.Chtimes(broken, old.Add(time.Minute), old.Add(time.Minute))
	if _, err := p.PollSource(context.Background(), src, s.publish); err != nil {
		t.Errorf("third poll: %v", err)
	}
	if s.count() != 3 || s.items[2].Text != "réparé" {
		t.Errorf("repaired file not published: %d items", s.count())
	}

	// The next poll publishes nothing new until the fresh file settles.
	p2 := ingest.NewPoller(fetch.NewFetcher(testFetch()), ingest.PollerOptions{Settle: time.Nanosecond})
	s2 := &sink{}
	p2.PollSource(context.Background(), src, s2.publish)
	p2.PollSource(context.Background(), src, s2.publish)
	if s2.count() != 4 {
		t.Errorf("settled directory: %d items over two polls, want 4 (each once)", s2.count())
	}
}

func TestPollerXXEIsNeverFetched(t *testing.T) {
	var fetched atomic.Int32
	srv := newFeedServer(t, map[string][]byte{"/xxe.xml": readTestdata(t, "feeds", "xxe.xml.tmpl")})
	defer srv.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv.Server))), ingest.PollerOptions{})
	s := &sink{}
	if _, err := p.PollSource(context.Background(), config.Source{Name: "xxe", URL: srv.URL + "/xxe.xml"}, s.publish); err != nil {
		t.Logf("refused: %v", err)
	}
	fetched.Add(int32(srv.hitsOf("/dtd-was-fetched") + srv.hitsOf("/entity-was-fetched")))
	if fetched.Load() != 0 {
		t.Error("an external entity or DTD was fetched")
	}
	for _, it := range s.items {
		if strings.Contains(it.Text+it.Title, "root:") {
			t.Errorf("local file leaked into the item: %q", it.Text)
		}
	}
}

// TestFloodingSourceIsCappedNotLost serves a feed of 1,200 new items: the
// poller publishes at most MaxPerPoll per poll and MaxPerHour per hour,
// says so in the source's health, keeps publishing another source, and
// publishes every held-back item in later polls, none twice.
func TestFloodingSourceIsCappedNotLost(t *testing.T) {
	var rss strings.Builder
	rss.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>flood</title><link>https://flood.example/</link>`)
	for i := range 1200 {
		fmt.Fprintf(&rss, `<item><title>Item %d about the market in Bria</title><link>https://flood.example/%d</link><guid>flood-%d</guid><description>Body %d of a long flood of posts.</description></item>`, i, i, i, i)
	}
	rss.WriteString(`</channel></rss>`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		if r.URL.Path == "/calm.rss" {
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>calm</title><item><title>One calm item</title><guid>calm-1</guid><description>Nothing much.</description></item></channel></rss>`)
			return
		}
		fmt.Fprint(w, rss.String())
	}))
	defer srv.Close()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var last ingest.SourceHealth
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv))), ingest.PollerOptions{
		MaxPerPoll: 500, MaxPerHour: 1000,
		Now: func() time.Time { return now },
		OnHealth: func(h ingest.SourceHealth) {
			if h.Source == "flood" {
				last = h
			}
		},
	})
	sources := []config.Source{{Name: "flood", URL: srv.URL + "/flood.rss"}, {Name: "calm", URL: srv.URL + "/calm.rss"}}
	s := &sink{}
	ctx := context.Background()
	for i, want := range []struct{ published, deferred int }{{500, 700}, {1000, 200}, {1000, 200}} {
		if err := p.PollOnce(ctx, sources, s.publish); err != nil {
			t.Fatal(err)
		}
		if got := len(s.bySource()["flood"]); got != want.published || last.Deferred != want.deferred {
			t.Fatalf("poll %d: %d published, %d deferred; want %d and %d", i+1, got, last.Deferred, want.published, want.deferred)
		}
		if !strings.Contains(last.Capped, "deferred") {
			t.Fatalf("poll %d: health says %q, want the cap named", i+1, last.Capped)
		}
		now = now.Add(10 * time.Minute)
	}
	if got := len(s.bySource()["calm"]); got != 1 {
		t.Fatalf("the calm source published %d items, want 1: a flood must not starve it", got)
	}
	now = now.Add(time.Hour)
	if err := p.PollOnce(ctx, sources, s.publish); err != nil {
		t.Fatal(err)
	}
	if got := len(s.bySource()["flood"]); got != 1200 || last.Deferred != 0 || last.Capped != "" {
		t.Fatalf("after an hour: %d published, %d deferred (%q); want all 1200 and none held", got, last.Deferred, last.Capped)
	}
	seen := map[string]bool{}
	for _, it := range s.items {
		if seen[it.ID] {
			t.Fatalf("item %s published twice", it.ID)
		}
		seen[it.ID] = true
	}
}

// TestHealthSaysWhenALabelLies polls a feed whose charset label the bytes
// contradict: the items come in, and the source's health says so.
func TestHealthSaysWhenALabelLies(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "parse", "testdata", "encodings", "latin1-label-utf8-bytes.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=ISO-8859-1")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	var last ingest.SourceHealth
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv))), ingest.PollerOptions{OnHealth: func(h ingest.SourceHealth) { last = h }})
	s := &sink{}
	if err := p.PollOnce(context.Background(), []config.Source{{Name: "goma", URL: srv.URL + "/feed"}}, s.publish); err != nil {
		t.Fatal(err)
	}
	if s.count() == 0 || !strings.Contains(s.items[0].Title, "écoles") {
		t.Fatalf("items %+v, want the UTF-8 title read right", s.items)
	}
	if !strings.Contains(strings.Join(last.Warnings, " "), "bytes are UTF-8") {
		t.Fatalf("health warnings %q, want the mislabelling named", last.Warnings)
	}
}

func TestPollErrorsNameTheirPackageOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(srv))), ingest.PollerOptions{})
	err := p.PollOnce(context.Background(), []config.Source{{Name: "gone", URL: srv.URL + "/feed"}}, (&sink{}).publish)
	if err == nil {
		t.Fatal("a 404 feed polled without error")
	}
	if msg := err.Error(); strings.Count(msg, "ingest:") != 1 || !strings.Contains(msg, `source "gone"`) || !strings.Contains(msg, "404") {
		t.Fatalf("error %q: want the package named once, the source and the status", msg)
	}
}

package run_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/storage"
)

// TestIngestSurvivesNATSDrop drops the NATS server in the middle of a poll:
// items whose publication failed are published on the next poll once NATS
// is back, and none is stored twice.
func TestIngestSurvivesNATSDrop(t *testing.T) {
	const entries = 60
	feed := rssFeed(entries)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, feed)
	}))
	defer site.Close()

	dir := t.TempDir()
	port := freePort(t)
	srv, err := bus.StartEmbedded(dir, port)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := bus.Connect(ctx, srv.URL(), "ingest-fault")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}

	host := strings.TrimPrefix(site.URL, "http://")
	f := fetch.NewFetcher(config.Fetch{Allow: []string{host}})
	p := ingest.NewPoller(f, ingest.PollerOptions{})
	src := []config.Source{{Name: "wire", URL: site.URL + "/feed.xml", Kind: "rss", Lang: "en"}}

	var sent atomic.Int64
	publish := func(ctx context.Context, it storage.Item) error {
		if sent.Add(1) == entries/3 {
			srv.Shutdown() // the connection drops mid-poll
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		return b.PublishItem(pctx, it)
	}
	if err := p.PollOnce(ctx, src, publish); err == nil {
		t.Fatal("poll during the outage reported no error")
	}

	if srv, err = bus.StartEmbedded(dir, port); err != nil {
		t.Fatal(err)
	}
	for !b.NC.IsConnected() && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.PollOnce(ctx, src, publish); err != nil {
		t.Fatalf("poll after the outage: %v", err)
	}

	s, err := b.JS.Stream(ctx, bus.StreamItems)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != entries {
		t.Fatalf("stream holds %d items, want exactly %d (nothing lost, nothing doubled)", info.State.Msgs, entries)
	}
}

func rssFeed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>d</description>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Dispatch %d</title><link>https://wire.example/%d</link><guid>wire-%d</guid><pubDate>Mon, 23 Nov 2026 10:%02d:00 +0000</pubDate><description>Market prices in Bangui, report number %d.</description></item>`, i, i, i, i%60, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

package ingest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse/telegram"
	"github.com/veille-project/veille/pipeline/pseudonym"
)

// channelServer serves a channel's preview pages from the telegram
// parser's testdata: page names the file served for the newest page.
type channelServer struct {
	*httptest.Server
	mu     sync.Mutex
	newest string
	hits   []string
}

func newChannelServer(t *testing.T) *channelServer {
	cs := &channelServer{newest: "channel_newest.html"}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.hits = append(cs.hits, r.URL.RequestURI())
		name := cs.newest
		cs.mu.Unlock()
		if r.URL.Path != "/s/BanguiVeilleInfo" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("before") == "10" {
			name = "channel_before_10.html"
		}
		b, err := os.ReadFile(filepath.Join("..", "parse", "telegram", "testdata", name))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// TestTelegramChannelSource polls a channel: the first poll takes the
// newest page, each post an item of kind post with its link, views,
// forwarded-from and a hashed signature; a later poll walks back to the
// last post seen and republishes nothing; a page whose markup changed
// fails the poll in words, and the health says so.
func TestTelegramChannelSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := newChannelServer(t)
	authors, err := pseudonym.New([]byte("a test key of enough length"))
	if err != nil {
		t.Fatal(err)
	}
	var healths []ingest.SourceHealth
	var mu sync.Mutex
	p := ingest.NewPoller(fetch.NewFetcher(testFetch(hostOf(cs.Server))), ingest.PollerOptions{Authors: authors,
		OnHealth: func(h ingest.SourceHealth) { mu.Lock(); healths = append(healths, h); mu.Unlock() }})
	src := config.Source{Name: "tg-bangui", URL: cs.URL + "/s/BanguiVeilleInfo", Kind: "telegram", Mission: "MINUSCA"}
	var got []domain.Item
	publish := func(_ context.Context, it domain.Item) error { got = append(got, it); return nil }

	res, err := p.PollSource(ctx, src, publish)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published == 0 || len(got) != res.Published {
		t.Fatalf("first poll published %d items (result %+v)", len(got), res)
	}
	for _, it := range got {
		if it.Kind != domain.KindPost || it.Source != "tg-bangui" || it.Mission != "MINUSCA" || it.Text == "" ||
			!strings.HasPrefix(it.URL, "https://t.me/banguiveilleinfo/") || it.Meta["channel"] != "banguiveilleinfo" {
			t.Errorf("post item %+v", it)
		}
	}
	page, err := os.ReadFile(filepath.Join("..", "parse", "telegram", "testdata", "channel_newest.html"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := telegram.ParsePage(strings.NewReader(string(page)), "BanguiVeilleInfo")
	if err != nil {
		t.Fatal(err)
	}
	signed, viewed, forwarded := 0, 0, 0
	for i, post := range want.Posts {
		it := got[i]
		if it.Published != post.Date || it.Text != post.Text {
			t.Errorf("item %d: %v %q, want %v %q", i, it.Published, it.Text, post.Date, post.Text)
		}
		if post.Author != "" {
			signed++
			if it.Author == "" || it.Author == post.Author || strings.Contains(it.Author, post.Author) {
				t.Errorf("post %d: author %q kept as %q, want its keyed hash", post.ID, post.Author, it.Author)
			}
		}
		if post.Views > 0 && it.Meta["views"] != "" {
			viewed++
		}
		if post.ForwardedFrom != "" && it.Meta["forwarded_from"] == post.ForwardedFrom {
			forwarded++
		}
	}
	if viewed == 0 || forwarded == 0 || signed == 0 {
		t.Errorf("views kept on %d items, forwarded-from on %d, %d signed posts: the test page has all three", viewed, forwarded, signed)
	}

	// The next poll walks back to the last post seen: nothing new.
	n := len(got)
	if _, err := p.PollSource(ctx, src, publish); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("second poll published %d more items, want 0", len(got)-n)
	}

	// The markup changes: the poll fails and says why.
	cs.mu.Lock()
	cs.newest = "markup_changed.html"
	cs.mu.Unlock()
	_, err = p.PollSource(ctx, src, publish)
	if !errors.Is(err, telegram.ErrMarkupChanged) {
		t.Fatalf("poll of a changed page = %v, want ErrMarkupChanged", err)
	}
	mu.Lock()
	last := healths[len(healths)-1]
	mu.Unlock()
	if !strings.Contains(last.LastError, "markup") {
		t.Errorf("health after a changed page says %q, want the markup named", last.LastError)
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFeedsCheckTelegramChannel: `veille feeds check` reads a channel's
// preview page as a Telegram source and says how many posts it holds, and
// a page whose markup changed as an error in words.
func TestFeedsCheckTelegramChannel(t *testing.T) {
	page := "channel_newest.html"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join("..", "..", "pipeline", "parse", "telegram", "testdata", page))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := filepath.Join(t.TempDir(), "veille.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+t.TempDir()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func() string {
		return captureStdout(t, func() error {
			return runFeeds(ctx, []string{"check", "--config", cfg, "--allow-private", srv.URL + "/s/BanguiVeilleInfo"})
		})
	}
	if out := check(); !strings.Contains(out, "ok 8 items telegram (channel BanguiVeilleInfo)") {
		t.Errorf("feeds check printed %q", out)
	}
	page = "markup_changed.html"
	if out := check(); !strings.Contains(out, "error") || !strings.Contains(out, "markup") {
		t.Errorf("feeds check of a changed page printed %q", out)
	}
}

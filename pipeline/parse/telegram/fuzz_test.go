package telegram_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

// Run with
//
//	go test -run '^$' -fuzz FuzzParsePage -fuzztime 60s ./pipeline/parse/telegram/
func FuzzParsePage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.html"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed pages: %v", err)
	}
	for _, name := range files {
		doc, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc, "")
		f.Add(doc, "BanguiVeilleInfo")
	}
	f.Add([]byte(page(message("veille_rca/7", text("Un<br/>deux"), when))), "veille_rca")
	f.Add([]byte(page(message("veille_rca/x", text("Un"), "hier"))), "veille_rca")
	f.Fuzz(func(t *testing.T, doc []byte, channel string) {
		p, err := telegram.ParsePage(bytes.NewReader(doc), channel)
		if err != nil {
			if len(p.Posts) != 0 || p.Before != 0 || p.Title != "" {
				t.Fatalf("error %v came with a page: %+v", err, p)
			}
			return
		}
		if p.Before < 0 || p.Skipped < 0 {
			t.Fatalf("Before %d Skipped %d", p.Before, p.Skipped)
		}
		if !utf8.ValidString(p.Title) || strings.Contains(p.Title, "\n") {
			t.Fatalf("title %q", p.Title)
		}
		seen := map[int64]bool{}
		for _, post := range p.Posts {
			if post.ID <= 0 || post.Channel == "" || post.Channel != strings.ToLower(post.Channel) {
				t.Fatalf("post without id or channel: %+v", post)
			}
			if channel != "" && !strings.EqualFold(post.Channel, channel) {
				t.Fatalf("post of %q on a page asked for %q", post.Channel, channel)
			}
			if seen[post.ID] {
				t.Fatalf("post %d twice", post.ID)
			}
			seen[post.ID] = true
			if want := "https://t.me/" + post.Channel + "/" + strconv.FormatInt(post.ID, 10); post.URL != want {
				t.Fatalf("url %q, want %q", post.URL, want)
			}
			if post.Date.IsZero() || post.Date.Location() != time.UTC {
				t.Fatalf("post %d: date %v", post.ID, post.Date)
			}
			if post.Text == "" && len(post.Links) == 0 {
				t.Fatalf("post %d has neither text nor links", post.ID)
			}
			if !utf8.ValidString(post.Text) || post.Text != strings.TrimSpace(post.Text) || strings.Contains(post.Text, "\n\n\n") {
				t.Fatalf("post %d: untidy text %q", post.ID, post.Text)
			}
			for _, l := range post.Links {
				u, err := url.Parse(l)
				if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" || !utf8.ValidString(l) {
					t.Fatalf("post %d: link %q is not absolute http(s)", post.ID, l)
				}
			}
			if post.Views < 0 {
				t.Fatalf("post %d: views %d", post.ID, post.Views)
			}
		}
	})
}

// Every error names one of the sentinels, or the HTML parser's refusal.
func TestParsePageErrorsAreSentinels(t *testing.T) {
	for _, doc := range []string{"", "<p>x</p>", "<div class=tgme_page></div>", strings.Repeat("<div>", 600)} {
		_, err := telegram.ParsePage(strings.NewReader(doc), "veille_rca")
		if err == nil {
			t.Errorf("ParsePage(%.40q) = nil error", doc)
			continue
		}
		known := false
		for _, s := range []error{telegram.ErrMarkupChanged, telegram.ErrNotChannel, telegram.ErrNotTelegram, telegram.ErrPageTooLarge} {
			known = known || errors.Is(err, s)
		}
		if !known && !strings.Contains(err.Error(), "parse HTML") {
			t.Errorf("ParsePage(%.40q) = %v, not a known failure", doc, err)
		}
	}
}

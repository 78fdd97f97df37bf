package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/parse/telegram"
)

func init() {
	register(&command{
		name:    "feeds",
		summary: "check feeds and transcripts: feeds check URL|FILE|DIR...",
		run:     runFeeds,
	})
}

const feedsUsage = `veille feeds check [--config veille.yaml] [--allow-private] [--timeout 60s] [URL|FILE|DIR...]
  Fetches (or reads) and parses each source and prints one line per source:
  "ok <n> items <format>" or "error <reason>". With no argument, checks every
  source in the configuration. Exits 0 when it could report on every source.`

func runFeeds(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: %s", errUsage, feedsUsage)
	}
	fs := newFlags("feeds check")
	cfgPath := fs.String("config", "veille.yaml", "configuration file (fetch limits, allow-list, sources)")
	allowPrivate := fs.Bool("allow-private", false, "let the fetcher reach private and loopback addresses (local testing only)")
	timeout := fs.Duration("timeout", 0, "total time limit per source (default: fetch.total_timeout)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := config.Load(*cfgPath, explicit)
	if err != nil {
		return err
	}
	if err := fetch.CheckFetchConfig(cfg.Fetch); err != nil {
		return err
	}
	if *allowPrivate {
		cfg.Fetch.Allow = append(cfg.Fetch.Allow, "0.0.0.0/0", "::/0")
	}
	if *timeout > 0 {
		cfg.Fetch.TotalTimeout = config.Duration(*timeout)
	}

	var sources []config.Source
	for _, a := range fs.Args() {
		sources = append(sources, config.Source{Name: a, URL: a})
	}
	if len(sources) == 0 {
		sources = cfg.Sources
	}
	if len(sources) == 0 {
		return fmt.Errorf("%w: no source given and none configured in %s\n%s", errUsage, *cfgPath, feedsUsage)
	}

	f := fetch.NewFetcher(cfg.Fetch)
	lines := make([]string, len(sources))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lines[i] = checkSource(ctx, f, src, exports.Options{HeaderMap: cfg.Import.CSVColumns})
		})
	}
	wg.Wait()
	width := 0
	for _, s := range sources {
		width = max(width, len(s.Name))
	}
	for i, s := range sources {
		fmt.Printf("%-*s  %s\n", width, s.Name, lines[i])
	}
	return ctx.Err()
}

// checkSource reports on one source in a line: "ok ..." or "error ...".
func checkSource(ctx context.Context, f *fetch.Fetcher, src config.Source, exportOpts exports.Options) string {
	now := time.Now()
	isURL := strings.HasPrefix(src.URL, "http://") || strings.HasPrefix(src.URL, "https://")
	if !isURL && strings.Contains(src.URL, "://") && !strings.HasPrefix(src.URL, "file://") {
		return "error only http, https and local files can be checked"
	}
	var body []byte
	var hint string
	if _, channel, err := telegram.ParsePreviewURL(src.URL); isURL && err == nil && (src.Kind == "" || src.Kind == "telegram") {
		resp, err := f.Get(ctx, src.URL)
		if err != nil {
			return "error " + err.Error()
		}
		page, err := telegram.ParsePage(bytes.NewReader(resp.Body), channel)
		if err != nil {
			return "error " + oneLineErr(err)
		}
		return fmt.Sprintf("ok %d items telegram (channel %s)", len(page.Posts), channel)
	}
	if isURL {
		resp, err := f.Get(ctx, src.URL)
		if err != nil {
			return "error " + err.Error()
		}
		body, hint = resp.Body, resp.ContentType
	} else {
		path := strings.TrimPrefix(src.URL, "file://")
		st, err := os.Stat(path)
		if err != nil {
			return "error " + err.Error()
		}
		if st.IsDir() || src.Kind == "transcripts-dir" {
			src.URL, src.Kind = path, "transcripts-dir"
			items, err := ingest.ReadTranscriptDir(ctx, src, ingest.DirOptions{Settle: -1})
			cues := 0
			for _, it := range items {
				cues += len(it.Cues)
			}
			line := fmt.Sprintf("ok %d items transcripts-dir (%d cues)", len(items), cues)
			if err != nil {
				line = fmt.Sprintf("error %d of the files failed: %v", strings.Count(err.Error(), "\n")+1, oneLineErr(err))
				if len(items) > 0 {
					line += fmt.Sprintf(" (%d other items ok)", len(items))
				}
			}
			return line
		}
		if line, ok := checkExport(ctx, path, exportOpts); ok {
			return line
		}
		fh, err := os.Open(path)
		if err != nil {
			return "error " + err.Error()
		}
		defer fh.Close()
		body, err = io.ReadAll(io.LimitReader(fh, f.MaxBody()+1))
		if err != nil {
			return "error " + err.Error()
		}
		if int64(len(body)) > f.MaxBody() {
			return fmt.Sprintf("error %s: file over the %d-byte limit: %v", path, f.MaxBody(), fetch.ErrBodyTooLarge)
		}
		hint = filepath.Base(path)
	}

	if looksLikeTranscript(body, hint) {
		t, err := parse.ParseTranscript(body, hint)
		if err != nil {
			return "error " + oneLineErr(err)
		}
		return fmt.Sprintf("ok %d items %s transcript (%d cues)%s", boolInt(t.Text != ""), t.Format, len(t.Cues), warnings(t.Warnings))
	}
	feed, err := parse.ParseFeed(body, hint, src, now)
	if err != nil {
		return "error " + oneLineErr(err)
	}
	links := 0
	for _, e := range feed.Entries {
		links += len(e.Transcripts)
	}
	extra := ""
	if links > 0 {
		extra = fmt.Sprintf(" (%d transcript links)", links)
	}
	return fmt.Sprintf("ok %d items %s%s%s", len(feed.Entries), feed.Format, extra, warnings(feed.Warnings))
}

func looksLikeTranscript(body []byte, hint string) bool {
	h := strings.ToLower(hint)
	for _, s := range []string{".vtt", ".srt", "text/vtt", "subrip", "application/srt", "text/srt"} {
		if strings.Contains(h, s) {
			return true
		}
	}
	head := string(body[:min(len(body), 4096)])
	t := strings.TrimLeft(head, "\ufeff \t\r\n")
	switch {
	case strings.HasPrefix(t, "WEBVTT"):
		return true
	case strings.HasPrefix(t, "{"): // Podcasting 2.0 JSON transcript, not a JSON Feed
		return strings.Contains(head, `"segments"`) && !strings.Contains(head, `"items"`)
	case strings.Contains(h, ".htm") || strings.Contains(h, "text/html"): // Podcasting 2.0 HTML transcript
		return strings.Contains(head, "<time>") && !strings.Contains(head, "<rss") && !strings.Contains(head, "<feed")
	}
	return false
}

func warnings(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return "; warning: " + strings.Join(w, "; ")
}

func oneLineErr(err error) string {
	var b strings.Builder
	for i, l := range strings.Split(err.Error(), "\n") {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkExport reports on a Telegram, WhatsApp or CSV export file: ok is
// false when the file is none of them.
func checkExport(ctx context.Context, path string, opts exports.Options) (string, bool) {
	head := make([]byte, exports.HeadSize)
	fh, err := os.Open(path)
	if err != nil {
		return "", false
	}
	n, _ := fh.Read(head)
	fh.Close()
	format, ok := exports.DetectWith(filepath.Base(path), head[:n], opts)
	if !ok {
		return "", false
	}
	items, lineErrs, err := ingest.ReadExport(ctx, config.Source{Name: "check"}, path, opts, nil, time.Now())
	if err != nil {
		return "error " + oneLineErr(err), true
	}
	line := fmt.Sprintf("ok %d items %s", len(items), format)
	if len(lineErrs) > 0 {
		line += fmt.Sprintf(" (%d lines skipped; first: %v)", len(lineErrs), lineErrs[0])
	}
	return line, true
}

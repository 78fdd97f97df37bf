package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Server serves a folder of demo feeds and transcripts on loopback, as
// a real site would, replacing the placeholder {{BASE}} in every file with
// its own base URL so feeds can link to their transcripts.
type Server struct {
	// Files are the demo's files (the embedded demo, or os.DirFS of --dir).
	Files fs.FS
	Base  string // set by Start: http://127.0.0.1:PORT
	// Shift moves every date the served files hold (RFC 1123 and RFC 3339)
	// by this much, so a demo written for one week reads as this week;
	// the gaps between dates stay as written.
	Shift time.Duration
	srv   *http.Server
}

var (
	rfc1123Date = regexp.MustCompile(`[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (?:[+-]\d{4}|GMT|UTC)`)
	rfc3339Date = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`)
)

// shiftDates moves every date in b by d, keeping each date's layout.
func shiftDates(b []byte, d time.Duration) []byte {
	if d == 0 {
		return b
	}
	b = rfc1123Date.ReplaceAllFunc(b, func(m []byte) []byte {
		for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
			if t, err := time.Parse(layout, string(m)); err == nil {
				return []byte(t.Add(d).Format(layout))
			}
		}
		return m
	})
	return rfc3339Date.ReplaceAllFunc(b, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339Nano, string(m))
		if err != nil {
			return m
		}
		return []byte(t.Add(d).Format(time.RFC3339))
	})
}

// LatestDate is the latest date in the demo's files: the demo's "now".
func LatestDate(files fs.FS) (time.Time, error) {
	var latest time.Time
	err := fs.WalkDir(files, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md") {
			return nil // the folder's code and notes are not served
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		for _, m := range rfc1123Date.FindAll(b, -1) {
			for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
				if t, err := time.Parse(layout, string(m)); err == nil && t.After(latest) {
					latest = t
				}
			}
		}
		for _, m := range rfc3339Date.FindAll(b, -1) {
			if t, err := time.Parse(time.RFC3339Nano, string(m)); err == nil && t.After(latest) {
				latest = t
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("demo: read dates: %w", err)
	}
	return latest.UTC(), nil
}

// Placeholder is replaced by the demo server's base URL in served files.
const Placeholder = "{{BASE}}"

// Start listens on a free loopback port and serves until ctx ends.
func (d *Server) Start(ctx context.Context) error {
	if _, err := fs.Stat(d.Files, "veille.demo.yaml"); err != nil {
		return fmt.Errorf("demo: no veille.demo.yaml among the demo files: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen: %w", err)
	}
	d.Base = "http://" + ln.Addr().String()
	d.srv = &http.Server{Handler: http.HandlerFunc(d.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "demo server:", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = d.srv.Close()
	}()
	return nil
}

func (d *Server) serve(w http.ResponseWriter, r *http.Request) {
	rel := filepath.Clean("/" + r.URL.Path)[1:]
	if rel == "" || strings.HasPrefix(rel, ".") || strings.HasSuffix(rel, ".go") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(d.Files, filepath.ToSlash(rel))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	b = bytes.ReplaceAll(b, []byte(Placeholder), []byte(d.Base))
	b = shiftDates(b, d.Shift)
	w.Header().Set("Content-Type", contentType(rel))
	_, _ = w.Write(b)
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".vtt"):
		return "text/vtt; charset=utf-8"
	case strings.HasSuffix(name, ".srt"):
		return "application/x-subrip; charset=utf-8"
	case strings.HasSuffix(name, ".json"):
		return "application/feed+json; charset=utf-8"
	case strings.HasSuffix(name, ".xml"):
		if strings.Contains(name, "atom") {
			return "application/atom+xml; charset=utf-8"
		}
		return "application/rss+xml; charset=utf-8"
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Expand replaces the placeholder in s with the server's base URL.
func (d *Server) Expand(s string) string { return strings.ReplaceAll(s, Placeholder, d.Base) }

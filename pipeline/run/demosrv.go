package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DemoServer serves a folder of demo feeds and transcripts on loopback, as
// a real site would, replacing the placeholder {{BASE}} in every file with
// its own base URL so feeds can link to their transcripts.
type DemoServer struct {
	Dir  string
	Base string // set by Start: http://127.0.0.1:PORT
	srv  *http.Server
}

// Placeholder is replaced by the demo server's base URL in served files.
const Placeholder = "{{BASE}}"

// Start listens on a free loopback port and serves until ctx ends.
func (d *DemoServer) Start(ctx context.Context) error {
	if st, err := os.Stat(d.Dir); err != nil || !st.IsDir() {
		return fmt.Errorf("demo: %s is not a folder of demo feeds", d.Dir)
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

func (d *DemoServer) serve(w http.ResponseWriter, r *http.Request) {
	rel := filepath.Clean("/" + r.URL.Path)[1:]
	if rel == "" || strings.HasPrefix(rel, ".") {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(d.Dir, rel))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	b = bytes.ReplaceAll(b, []byte(Placeholder), []byte(d.Base))
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
func (d *DemoServer) Expand(s string) string { return strings.ReplaceAll(s, Placeholder, d.Base) }

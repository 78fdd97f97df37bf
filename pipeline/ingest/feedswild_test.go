package ingest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/parse"
)

// manifestRow is one line of feeds-wild/MANIFEST.tsv.
type manifestRow struct {
	path, format, expect, notes string
}

func readManifest(t *testing.T, dir string) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var rows []manifestRow
	var cols map[string]int
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fields {
				cols[c] = i
			}
			for _, c := range []string{"path", "format", "expect", "notes"} {
				if _, ok := cols[c]; !ok {
					t.Fatalf("MANIFEST.tsv has no %q column", c)
				}
			}
			continue
		}
		rows = append(rows, manifestRow{fields[cols["path"]], fields[cols["format"]], fields[cols["expect"]], fields[cols["notes"]]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

var headerComment = regexp.MustCompile(`(?i)Header:\s+Content-type:\s*([^\r\n]+)`)

// contentTypeFor is what a plain web server would send, or the header a
// feedparser fixture names in its comment.
func contentTypeFor(name string, body []byte) string {
	if m := headerComment.FindSubmatch(body[:min(len(body), 1024)]); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	switch path.Ext(name) {
	case ".json":
		return "application/json"
	case ".vtt":
		return "text/vtt"
	case ".srt":
		return "application/x-subrip"
	case ".html":
		return "text/html"
	}
	return "application/xml"
}

var itemTag = regexp.MustCompile(`<(?:item|entry)[\s>]`)

// entriesPresent counts the entries a document visibly holds.
func entriesPresent(name string, body []byte) int {
	if path.Ext(name) == ".json" {
		var jf struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(body, &jf) != nil {
			return 0
		}
		return len(jf.Items)
	}
	return len(itemTag.FindAll(body, -1))
}

// TestFeedsWild serves every file of the shared feeds-wild corpus over
// loopback HTTP through the guarded fetcher and checks the manifest's
// expectation: ok rows parse with every entry, error rows fail clearly,
// partial rows recover entries or fail clearly; nothing crashes or hangs.
func TestFeedsWild(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "feeds-wild")
	rows := readManifest(t, dir)
	if len(rows) < 100 {
		t.Fatalf("manifest has %d rows", len(rows))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentTypeFor(name, b))
		w.Write(b)
	}))
	defer srv.Close()
	f := fetch.NewFetcher(config.Fetch{Allow: []string{hostOf(srv)}, TotalTimeout: config.Duration(10 * time.Second)})

	type outcome struct{ ok, partialItems, partialErr, errs int }
	tally := map[string]*outcome{}
	for _, row := range rows {
		t.Run(row.path, func(t *testing.T) {
			res := make(chan wildResult, 1)
			go func() { res <- fetchAndParse(f, srv.URL+"/"+row.path, row) }()
			var r wildResult
			select {
			case r = <-res:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: no answer within 20s (hang)", row.path)
			}
			o := tally[row.expect]
			if o == nil {
				o = &outcome{}
				tally[row.expect] = o
			}
			if r.err != nil && strings.TrimSpace(r.err.Error()) == "" {
				t.Errorf("error without a message")
			}
			switch row.expect {
			case "ok":
				if r.err != nil {
					t.Fatalf("expect ok: %v", r.err)
				}
				if want := r.present; !r.transcript && r.entries < want {
					t.Errorf("expect ok: %d entries, the document holds %d (warnings %v)", r.entries, want, r.warnings)
				}
				if r.transcript && r.entries == 0 {
					t.Errorf("expect ok: transcript without text")
				}
				o.ok++
			case "error":
				if r.err == nil {
					t.Fatalf("expect error: parsed %d entries (%s)", r.entries, row.notes)
				}
				o.errs++
			case "partial":
				if r.err != nil {
					o.partialErr++
				} else {
					o.partialItems++
				}
			default:
				t.Fatalf("unknown expect %q", row.expect)
			}
			t.Logf("%s: %d entries (%d present) err=%v warnings=%v", row.expect, r.entries, r.present, r.err, r.warnings)
		})
	}
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum []string
	for _, k := range keys {
		o := tally[k]
		sum = append(sum, fmt.Sprintf("%s: %d parsed, %d recovered, %d clear errors", k, o.ok+o.partialItems, o.partialItems, o.errs+o.partialErr))
	}
	t.Logf("feeds-wild (%d files): %s", len(rows), strings.Join(sum, "; "))
}

type wildResult struct {
	entries, present int
	transcript       bool
	warnings         []string
	err              error
}

func fetchAndParse(f *fetch.Fetcher, url string, row manifestRow) wildResult {
	resp, err := f.Get(context.Background(), url)
	if err != nil {
		return wildResult{err: err}
	}
	r := wildResult{present: entriesPresent(row.path, resp.Body)}
	if strings.HasPrefix(row.path, "transcripts/") {
		r.transcript = true
		tr, err := parse.ParseTranscript(resp.Body, resp.ContentType)
		if err != nil {
			r.err = err
			return r
		}
		if tr.Text != "" {
			r.entries = 1
		}
		r.warnings = tr.Warnings
		return r
	}
	feed, err := parse.ParseFeed(resp.Body, resp.ContentType, config.Source{Name: row.path}, time.Now())
	if err != nil {
		r.err = err
		return r
	}
	r.entries, r.warnings = len(feed.Entries), feed.Warnings
	return r
}

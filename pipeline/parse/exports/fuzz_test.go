package exports_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

// The fuzzers start from the documents in testdata; run one with
//
//	go test -run '^$' -fuzz FuzzWhatsApp -fuzztime 60s -fuzzminimizetime 2s ./pipeline/parse/exports/
//
// The seeds are whole documents: minimising each new input of that size
// would otherwise take most of the run.

// fuzzOpts keep each run small.
var fuzzOpts = exports.Options{MaxBytes: 1 << 20, MaxMessages: 10_000, MaxErrors: 10_000}

func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		f.Add(readTestdata(f, strings.TrimPrefix(name, "testdata/")))
	}
}

// checkInvariants holds for any input: every message has a date, an id and
// trimmed, non-empty, valid text; a line-based format never reports line 0
// nor a line past the end.
func checkInvariants(t *testing.T, data []byte, name, format string, lineBased bool, msgs []exports.Message, errs []exports.LineError) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	if bytes.HasPrefix(data, []byte("PK")) { // a zip: lines are those of its entries
		lines, lineBased = 1<<30, false
	}
	for _, m := range msgs {
		if m.Format != format {
			t.Fatalf("line %d: format %q, want %q", m.Line, m.Format, format)
		}
		if m.Text == "" || strings.TrimSpace(m.Text) != m.Text || !utf8.ValidString(m.Text) {
			t.Fatalf("line %d: text %q: want non-empty, trimmed, valid UTF-8", m.Line, m.Text)
		}
		if m.ID == "" {
			t.Fatalf("line %d: no id", m.Line)
		}
		if m.Date.IsZero() || m.Date.Location() != time.UTC {
			t.Fatalf("line %d: date %v: want set, in UTC", m.Line, m.Date)
		}
		if m.Line < 1 || lineBased && m.Line > lines {
			t.Fatalf("message line %d, file has %d lines", m.Line, lines)
		}
		seen := map[string]bool{}
		for _, l := range m.Links {
			if l == "" || seen[l] {
				t.Fatalf("line %d: links %q: want non-empty, no duplicates", m.Line, m.Links)
			}
			seen[l] = true
		}
	}
	for _, e := range errs {
		if e.Err == nil || !strings.HasPrefix(e.File, name) {
			t.Fatalf("line error %+v: want a cause and file %q", e, name)
		}
		if lineBased && (e.Line < 1 || e.Line > lines) {
			t.Fatalf("line error at line %d, file has %d lines: %v", e.Line, lines, e)
		}
		if e.Line < 0 {
			t.Fatalf("line error at line %d: %v", e.Line, e)
		}
	}
}

func FuzzTelegramJSON(f *testing.F) {
	addSeeds(f, "telegram/*.json")
	f.Add([]byte(`{"name": "x", "type": "private_group", "id": 1, "messages": [{"id": 1, "date_unixtime": "1", "text": ["a", {"type": "text_link", "text": "b", "href": "c"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOpts
		opts.Format = exports.FormatTelegramJSON
		msgs, errs, _ := exports.Parse(context.Background(), "result.json", bytes.NewReader(data), opts)
		checkInvariants(t, data, "result.json", exports.FormatTelegramJSON, false, msgs, errs)
	})
}

func FuzzWhatsApp(f *testing.F) {
	addSeeds(f, "whatsapp/*.txt")
	f.Add(makeZip(f, zipEntry{"_chat.txt", readTestdata(f, iosFR)}, zipEntry{"00000021-PHOTO-2024-02-14-08-22-10.jpg", fakeJPEG}))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOpts
		opts.Format = exports.FormatWhatsAppTxt
		msgs, errs, _ := exports.Parse(context.Background(), "chat.txt", bytes.NewReader(data), opts)
		checkInvariants(t, data, "chat.txt", exports.FormatWhatsAppTxt, true, msgs, errs)
	})
}

func FuzzCSV(f *testing.F) {
	formats := []string{exports.FormatCrowdTangleCSV, exports.FormatMetaCSV, exports.FormatCSV}
	for i, name := range []string{"csv/crowdtangle.csv", "csv/meta.csv", "csv/generic.csv"} {
		f.Add(readTestdata(f, name), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		opts := fuzzOpts
		opts.Format = formats[int(kind)%len(formats)]
		opts.HeaderMap = radioHeaderMap
		msgs, errs, _ := exports.Parse(context.Background(), "posts.csv", bytes.NewReader(data), opts)
		checkInvariants(t, data, "posts.csv", opts.Format, true, msgs, errs)
	})
}

// FuzzDetect checks Detect never panics on any name and head, zips included.
func FuzzDetect(f *testing.F) {
	f.Add("WhatsApp Chat - Veille.zip", makeZip(f, zipEntry{"_chat.txt", readTestdata(f, iosEN)}))
	f.Add("result.json", readTestdata(f, "telegram/account_result.json"))
	f.Add("posts.csv", readTestdata(f, "csv/meta.csv"))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		if format, ok := exports.Detect(name, head); ok != (format != "") {
			t.Fatalf("Detect = %q, %v", format, ok)
		}
	})
}

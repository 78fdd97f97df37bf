package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse"

	"github.com/veille-project/veille/pipeline/config"
)

func TestMetaFromFileName(t *testing.T) {
	tests := []struct {
		name string
		want ingest.TranscriptMeta
		ok   bool
	}{
		{"radio-okapi_20260312T0700_fr.vtt", ingest.TranscriptMeta{Station: "radio-okapi", Start: "2026-03-12T07:00:00Z", Lang: "fr"}, true},
		{"radio_ndeke_luka_20260312T183015_sg.srt", ingest.TranscriptMeta{Station: "radio_ndeke_luka", Start: "2026-03-12T18:30:15Z", Lang: "sg"}, true},
		{"bria_20260312T0700+0100.vtt", ingest.TranscriptMeta{Station: "bria", Start: "2026-03-12T06:00:00Z"}, true},
		{"notes.vtt", ingest.TranscriptMeta{}, false},
		{"radio_20261399T0700_fr.vtt", ingest.TranscriptMeta{}, false},
	}
	for _, tc := range tests {
		got, ok := ingest.MetaFromFileName(tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("MetaFromFileName(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRandomBytesAreNoTranscript reads a folder, named by a relative path,
// whose .vtt and .srt files hold random bytes: none becomes an item, each
// is reported, and a hint such as "dir/f.vtt" is taken for a file name.
func TestRandomBytesAreNoTranscript(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "radio")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 6 {
		b := make([]byte, 2048)
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		name := fmt.Sprintf("show-%d.vtt", i)
		if i%2 == 1 {
			name = fmt.Sprintf("show-%d.srt", i)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		_ = os.Chtimes(filepath.Join(dir, name), old, old)
	}
	t.Chdir(root)
	src := config.Source{Name: "radio", URL: "radio", Kind: "transcripts-dir"}
	items, err := ingest.ReadTranscriptDir(context.Background(), src, ingest.DirOptions{Settle: -1})
	if len(items) != 0 {
		t.Fatalf("%d items read from random bytes, want none", len(items))
	}
	if err == nil || !errors.Is(err, parse.ErrTranscriptFormat) {
		t.Fatalf("err = %v, want each file reported as no transcript", err)
	}
	if _, err := parse.ParseTranscript([]byte("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello"), "dir/f.vtt"); err != nil {
		t.Fatalf("a real VTT with a relative file name as hint: %v", err)
	}
}

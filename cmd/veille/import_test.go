package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/run"
)

// exportFile is a real-format export of the parser's testdata.
func exportFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "pipeline", "parse", "exports", "testdata"}, parts...)...)
}

func countMessages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msgs, _, err := exports.Parse(context.Background(), path, f, exports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// TestImportExports: `veille import` publishes a Telegram Desktop export,
// a WhatsApp chat and a CrowdTangle CSV; a WhatsApp export dropped in an
// exports-dir folder is read by ingest; the running stages store every
// message once, with its own date, its author hashed and its file and
// line; importing the same files again adds nothing; `veille feeds check`
// recognises an export.
func TestImportExports(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	if err := os.Mkdir(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "veille.yaml")
	yaml := fmt.Sprintf("data_dir: %s\ningest:\n  folder_roots: [%s]\nsources:\n  - name: com-drop\n    kind: exports-dir\n    url: %s\n    mission: MINUSCA\n",
		filepath.Join(dir, "data"), drop, drop)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []string{exportFile("telegram", "channel_result.json"), exportFile("whatsapp", "ios_fr_chat.txt"), exportFile("csv", "crowdtangle.csv")}
	want := 0
	for _, f := range files {
		want += countMessages(t, f)
	}
	out := captureStdout(t, func() error {
		return runImport(ctx, append([]string{"--config", cfgPath, "--mission", "MINUSCA"}, files...))
	})
	if strings.Count(out, " ok ") != 3 {
		t.Fatalf("veille import printed:\n%s", out)
	}
	dropped := exportFile("whatsapp", "WhatsApp Chat with Équipe Com MINUSCA.txt")
	b, err := os.ReadFile(dropped)
	if err != nil {
		t.Fatal(err)
	}
	inDrop := filepath.Join(drop, filepath.Base(dropped))
	if err := os.WriteFile(inDrop, b, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(inDrop, old, old); err != nil {
		t.Fatal(err)
	}
	want += countMessages(t, dropped)
	if out := captureStdout(t, func() error { return runFeeds(ctx, []string{"check", "--config", cfgPath, inDrop}) }); !strings.Contains(out, "ok ") || !strings.Contains(out, "whatsapp-txt") {
		t.Errorf("veille feeds check on an export printed %q", out)
	}

	cfg, err := config.Load(cfgPath, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.OpenAll(ctx, cfg, "import-test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stages, stop := context.WithCancel(ctx)
	defer stop()
	for _, fn := range []func(context.Context) error{r.ClassifyStage().Run, r.StoreStage().Run} {
		go func() {
			if err := fn(stages); err != nil && stages.Err() == nil {
				t.Error(err)
			}
		}()
	}
	p, err := r.NewPoller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PollOnce(ctx, cfg.Sources, r.Publish); err != nil {
		t.Fatal(err)
	}
	waitItems(ctx, t, r.Store, int64(want))

	tot, err := r.Store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Items != int64(want) {
		t.Fatalf("%d items stored, want %d (one per message)", tot.Items, want)
	}
	for src, n := range tot.ItemsBySource {
		if src != "telegram-export" && src != "whatsapp-export" && src != "csv-export" && src != "com-drop" {
			t.Errorf("%d items of unexpected source %q", n, src)
		}
	}
	if tot.ItemsBySource["com-drop"] == 0 {
		t.Error("nothing ingested from the exports folder")
	}
	items, err := r.Store.ItemsSince(ctx, time.Time{}, "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		det, err := r.Store.Item(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := det.Item
		if d.Meta["file"] == "" || d.Meta["line"] == "" || d.Published.IsZero() || d.Lang == "" {
			t.Errorf("item %s (%s) lacks its file, line, date or language: %+v", d.ID, d.Source, d.Meta)
		}
		if d.Kind != domain.KindMessage && d.Kind != domain.KindPost {
			t.Errorf("item %s of kind %q", d.ID, d.Kind)
		}
		if d.Author != "" && len(d.Author) != 32 {
			t.Errorf("item %s: author %q is not a keyed hash", d.ID, d.Author)
		}
	}

	// The same files again add nothing.
	captureStdout(t, func() error { return runImportWith(ctx, r, files) })
	sentinel := domain.Item{ID: "import-sentinel", ContentHash: "s", Source: "sentinel", Kind: domain.KindArticle, Text: "Rien à signaler.", Lang: "fr",
		Published: time.Now().UTC(), Fetched: time.Now().UTC()}
	if err := r.Bus.PublishItem(ctx, sentinel); err != nil {
		t.Fatal(err)
	}
	waitItems(ctx, t, r.Store, int64(want+1))
	if tot, err = r.Store.Counts(ctx); err != nil || tot.Items != int64(want+1) {
		t.Errorf("after importing again: %d items, want %d (%v)", tot.Items, want+1, err)
	}
}

// runImportWith publishes the files through an open runner, as veille
// import does (the embedded bus is this test's).
func runImportWith(ctx context.Context, r *run.Runner, files []string) error {
	authors, err := r.Pseudonyms()
	if err != nil {
		return err
	}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		head := make([]byte, exports.HeadSize)
		n, _ := f.Read(head)
		f.Close()
		format, _ := exports.DetectWith(filepath.Base(path), head[:n], exports.Options{})
		src := config.Source{Name: exportSource(format), Mission: "MINUSCA"}
		items, _, err := ingest.ReadExport(ctx, src, path, exports.Options{}, authors, time.Now().UTC())
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := r.Bus.PublishItem(ctx, it); err != nil {
				return err
			}
		}
	}
	return nil
}

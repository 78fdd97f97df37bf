package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/run"
)

func init() {
	register(&command{
		name:    "import",
		summary: "publish the messages of Telegram, WhatsApp or CSV exports for classification (FILE...)",
		run:     runImport,
	})
}

func runImport(ctx context.Context, args []string) error {
	fs := newFlags("import")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	source := fs.String("source", "", "source name the items are filed under (default: the export's kind, e.g. whatsapp-export)")
	mission := fs.String("mission", "", "mission the items concern")
	lang := fs.String("lang", "", "language of the messages (default: identified per message)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: veille import [--source NAME] [--mission M] [--lang L] FILE...", errUsage)
	}
	cfg, err := config.Load(*cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	r, err := run.Open(ctx, cfg, "import")
	if err != nil {
		return err
	}
	defer r.Close()
	authors, err := r.Pseudonyms()
	if err != nil {
		return err
	}
	opts := exports.Options{HeaderMap: cfg.Import.CSVColumns}
	failed := 0
	for _, path := range fs.Args() {
		head := make([]byte, exports.HeadSize)
		f, err := os.Open(path)
		if err != nil {
			fmt.Printf("%s  error %v\n", path, err)
			failed++
			continue
		}
		n, _ := f.Read(head)
		f.Close()
		format, ok := exports.DetectWith(filepath.Base(path), head[:n], opts)
		if !ok {
			fmt.Printf("%s  error not a Telegram, WhatsApp or CSV export (for another CSV, map its columns under import.csv_columns)\n", path)
			failed++
			continue
		}
		src := config.Source{Name: *source, Mission: *mission, Lang: *lang}
		if src.Name == "" {
			src.Name = exportSource(format)
		}
		items, lineErrs, err := ingest.ReadExport(ctx, src, path, opts, authors, time.Now().UTC())
		if err != nil {
			fmt.Printf("%s  error %v\n", path, err)
			failed++
			continue
		}
		for _, le := range lineErrs {
			fmt.Fprintf(os.Stderr, "%v\n", le)
		}
		published := 0
		for _, it := range items {
			if err := r.Bus.PublishItem(ctx, it); err != nil {
				return fmt.Errorf("import %s: %d of %d items published: %w", path, published, len(items), err)
			}
			published++
		}
		fmt.Printf("%s  ok %d items %s (source %s; %d lines skipped)\n", path, published, format, src.Name, len(lineErrs))
	}
	if failed > 0 {
		return errors.New("import: some files were not imported")
	}
	return nil
}

// exportSource names the source of an export's items by its kind.
func exportSource(format string) string {
	switch format {
	case exports.FormatTelegramJSON:
		return "telegram-export"
	case exports.FormatWhatsAppTxt:
		return "whatsapp-export"
	}
	return "csv-export"
}

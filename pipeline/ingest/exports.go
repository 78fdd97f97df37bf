package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/parse"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/pseudonym"
)

// ExportItems turns the messages of one export file into items of src: a
// chat message (Telegram, WhatsApp) is of kind message, a post of a
// research tool's CSV of kind post. Each keeps its own date, its author as
// a keyed hash, its language (src.Lang, else identified from the text) and
// where it came from (file and line in Meta). Ids depend on the source,
// the chat and the message's own id only, so importing a file again adds
// nothing.
func ExportItems(src config.Source, file string, msgs []exports.Message, authors *pseudonym.Hasher, now time.Time) []domain.Item {
	out := make([]domain.Item, 0, len(msgs))
	base := filepath.Base(file)
	for _, m := range msgs {
		kind, platform := domain.KindMessage, "whatsapp"
		switch m.Format {
		case exports.FormatTelegramJSON:
			platform = "telegram"
		case exports.FormatCrowdTangleCSV, exports.FormatMetaCSV, exports.FormatCSV:
			kind, platform = domain.KindPost, "csv"
		}
		it := domain.Item{
			ID: parse.ItemID(src.Name, m.Format+":"+m.Chat+":"+m.ID), Source: src.Name, Kind: kind,
			Text: m.Text, Mission: src.Mission, Station: src.Station, Published: m.Date, Fetched: now,
			Meta: map[string]string{"file": base, "line": strconv.Itoa(m.Line), "format": m.Format},
		}
		if strings.HasPrefix(m.ID, "http://") || strings.HasPrefix(m.ID, "https://") {
			it.URL = m.ID
		}
		if it.Published.IsZero() {
			it.Published = now
		}
		if authors != nil {
			it.Author = authors.Hash(platform, m.Author)
		}
		if m.Chat != "" {
			it.Meta["chat"] = m.Chat
		}
		if len(m.Links) > 0 {
			it.Meta["links"] = strings.Join(m.Links, " ")
		}
		if m.Forwarded != "" {
			it.Meta["forwarded_from"] = m.Forwarded
		}
		if m.Views > 0 {
			it.Meta["views"] = strconv.Itoa(m.Views)
		}
		if len(it.Text) > parse.MaxItemText {
			it.Text = parse.Clip(it.Text, parse.MaxItemText)
		}
		it.Lang = parse.NormLang(src.Lang)
		if it.Lang == "" {
			it.Lang = match.Identify(it.Text, "")
		}
		it.ContentHash = parse.ContentHash(it.Text)
		out = append(out, it)
	}
	return out
}

// ReadExport parses one export file into items of src. Lines that could
// not be read come back as errors naming the file and line; the rest of
// the file is kept.
func ReadExport(ctx context.Context, src config.Source, path string, opts exports.Options, authors *pseudonym.Hasher, now time.Time) ([]domain.Item, []exports.LineError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	msgs, lineErrs, err := exports.Parse(ctx, path, f, opts)
	if err != nil && len(msgs) == 0 {
		return nil, lineErrs, fmt.Errorf("ingest: %s: %w", path, err)
	}
	items := ExportItems(src, path, msgs, authors, now)
	if err != nil { // a cap reached: what was read is kept, the cause reported
		lineErrs = append(lineErrs, exports.LineError{File: path, Err: err})
	}
	return items, lineErrs, nil
}

// exportFile is the version of an export file last read whole.
type exportFile struct {
	modTime time.Time
	size    int64
}

// pollExportsDir reads the export files dropped in an exports-dir source's
// folder: each file once per version (name, size, time), after it has
// settled. A bad line is reported with its file and line and the rest of
// the file goes in; an unreadable file is reported and the others go on.
func (p *Poller) pollExportsDir(ctx context.Context, src config.Source, publish PublishFunc) (PollResult, int, error) {
	res := PollResult{Format: "exports-dir"}
	dir := DirPath(src)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return res, 0, fmt.Errorf("ingest: %s: exports folder: %w", src.Name, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	now := p.opts.Now()
	settle := p.opts.Settle
	if settle == 0 {
		settle = 5 * time.Second
	}
	var errs []error
	for i, e := range entries {
		if i >= MaxDirFiles {
			errs = append(errs, fmt.Errorf("ingest: %s: more than %d files; the rest wait for the next poll", src.Name, MaxDirFiles))
			break
		}
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < settle {
			continue
		}
		key := src.Name + "\x00" + name
		p.mu.Lock()
		done, ok := p.exportFiles[key]
		p.mu.Unlock()
		if ok && done.modTime.Equal(info.ModTime()) && done.size == info.Size() {
			continue
		}
		path := filepath.Join(dir, name)
		head := make([]byte, exports.HeadSize)
		if f, err := os.Open(path); err == nil {
			n, _ := f.Read(head)
			head = head[:n]
			f.Close()
		}
		if _, ok := exports.DetectWith(name, head, p.opts.Exports); !ok {
			p.mu.Lock()
			p.exportFiles[key] = exportFile{info.ModTime(), info.Size()}
			p.mu.Unlock()
			errs = append(errs, fmt.Errorf("ingest: %s: %s: not a Telegram, WhatsApp or CSV export", src.Name, name))
			continue
		}
		items, lineErrs, err := ReadExport(ctx, src, path, p.opts.Exports, p.opts.Authors, now)
		if err != nil {
			errs = append(errs, err)
		}
		for _, le := range lineErrs {
			errs = append(errs, fmt.Errorf("ingest: %s: %w", src.Name, le))
		}
		res.Entries += len(items)
		for _, it := range items {
			if err := p.offer(ctx, it, publish, &res); err != nil {
				return res, 0, err
			}
		}
		if res.Deferred == 0 {
			p.mu.Lock()
			p.exportFiles[key] = exportFile{info.ModTime(), info.Size()}
			p.mu.Unlock()
		}
	}
	if len(errs) > 0 {
		return res, 0, &EntryErrors{Err: errors.Join(errs...)}
	}
	return res, 0, nil
}

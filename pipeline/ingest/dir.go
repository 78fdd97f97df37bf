package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/parse"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
)

// TranscriptMeta is what is known about a transcript besides its cues: from
// a sidecar JSON file, the file name, or the source's settings.
type TranscriptMeta struct {
	Station string `json:"station"`
	Lang    string `json:"lang"`
	Mission string `json:"mission"`
	Start   string `json:"start"` // RFC 3339 broadcast start
	Title   string `json:"title,omitempty"`
}

// transcriptName is <station>_<YYYYMMDDTHHMM[SS]>[_<lang>].vtt|srt; the time
// is UTC unless it ends in an explicit zone offset.
var transcriptName = regexp.MustCompile(`^(.+?)_(\d{8}T\d{4}(?:\d{2})?)(Z|[+-]\d{4})?(?:_([A-Za-z]{2,3}))?\.(?i:vtt|srt)$`)

// MetaFromFileName reads station, start time and language from a
// transcript file name such as "radio-okapi_20260312T0700_fr.vtt".
func MetaFromFileName(name string) (TranscriptMeta, bool) {
	m := transcriptName.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return TranscriptMeta{}, false
	}
	layout := "20060102T1504"
	if len(m[2]) == 15 {
		layout = "20060102T150405"
	}
	var t time.Time
	var err error
	switch zone := m[3]; zone {
	case "", "Z":
		t, err = time.ParseInLocation(layout, m[2], time.UTC)
	default:
		t, err = time.Parse(layout+"-0700", m[2]+zone)
	}
	if err != nil {
		return TranscriptMeta{}, false
	}
	return TranscriptMeta{Station: m[1], Start: t.UTC().Format(time.RFC3339), Lang: strings.ToLower(m[4])}, true
}

// DirOptions tune ReadTranscriptDir.
type DirOptions struct {
	// Settle: files modified more recently are left for the next poll, as
	// the speech-to-text system may still be writing them (default 5s).
	Settle time.Duration
	// Skip reports files already handled (published, or failed in this
	// version); they are not parsed again.
	Skip func(id string, info os.FileInfo) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// FileError is a transcript file that could not be read or parsed.
type FileError struct {
	ID      string
	Name    string
	ModTime time.Time
	Size    int64
	Err     error
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// MaxDirFiles bounds the files one poll of a transcripts directory reads.
const MaxDirFiles = 10_000

// DirPath is the directory a transcripts-dir source names (a path or a
// file:// URL).
func DirPath(src config.Source) string {
	return strings.TrimPrefix(src.URL, "file://")
}

// ReadTranscriptDir reads the .vtt and .srt files of a transcripts-dir
// source into transcript items, sorted by file name. A file that cannot be
// read or parsed is reported in the joined error and the others still
// come back.
func ReadTranscriptDir(ctx context.Context, src config.Source, opts DirOptions) ([]domain.Item, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Settle == 0 {
		opts.Settle = 5 * time.Second
	}
	dir := DirPath(src)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: transcripts directory: %w", src.Name, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	now := opts.Now()
	var items []domain.Item
	var errs []error
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return items, err
		}
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !e.Type().IsRegular() || (ext != ".vtt" && ext != ".srt") || strings.HasPrefix(name, ".") {
			continue
		}
		if n++; n > MaxDirFiles {
			errs = append(errs, fmt.Errorf("ingest: %s: more than %d transcript files; the rest wait for the next poll", src.Name, MaxDirFiles))
			break
		}
		id := parse.ItemID(src.Name, "file:"+name)
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if opts.Skip != nil && opts.Skip(id, info) {
			continue
		}
		if now.Sub(info.ModTime()) < opts.Settle {
			continue
		}
		it, err := readTranscriptFile(src, filepath.Join(dir, name), info, now)
		if err != nil {
			errs = append(errs, &FileError{ID: id, Name: name, ModTime: info.ModTime(), Size: info.Size(), Err: err})
			continue
		}
		if it.Text == "" {
			continue // nothing said yet; looked at again next poll
		}
		it.ID = id
		items = append(items, it)
	}
	return items, errors.Join(errs...)
}

func readTranscriptFile(src config.Source, path string, info os.FileInfo, now time.Time) (domain.Item, error) {
	if info.Size() > parse.MaxTranscriptBytes {
		return domain.Item{}, fmt.Errorf("ingest: %s: %s: %d bytes is over the %d-byte limit: %w",
			src.Name, filepath.Base(path), info.Size(), parse.MaxTranscriptBytes, parse.ErrTranscriptTooLarge)
	}
	data, err := readFileLimited(path, parse.MaxTranscriptBytes)
	if err != nil {
		return domain.Item{}, fmt.Errorf("ingest: %s: %w", src.Name, err)
	}
	t, err := parse.ParseTranscript(data, path)
	if err != nil {
		return domain.Item{}, fmt.Errorf("ingest: %s: %s: %w", src.Name, filepath.Base(path), err)
	}
	meta, err := transcriptMeta(path)
	if err != nil {
		return domain.Item{}, fmt.Errorf("ingest: %s: %w", src.Name, err)
	}
	if meta.Start == "" {
		meta.Start = info.ModTime().UTC().Format(time.RFC3339)
	}
	it := TranscriptItem(src, "file:"+filepath.Base(path), t, meta, now)
	it.URL = "file://" + path
	return it, nil
}

// transcriptMeta reads path's sidecar (<file>.json or <name>.json) if there
// is one, and fills what it lacks from the file name.
func transcriptMeta(path string) (TranscriptMeta, error) {
	var meta TranscriptMeta
	for _, side := range []string{path + ".json", strings.TrimSuffix(path, filepath.Ext(path)) + ".json"} {
		b, err := readFileLimited(side, 64<<10)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return meta, err
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			return meta, fmt.Errorf("sidecar %s: %w", filepath.Base(side), err)
		}
		if meta.Start != "" {
			if _, err := time.Parse(time.RFC3339, meta.Start); err != nil {
				return meta, fmt.Errorf("sidecar %s: start %q: want RFC 3339 (2026-03-12T07:00:00Z)", filepath.Base(side), meta.Start)
			}
		}
		break
	}
	if fm, ok := MetaFromFileName(path); ok {
		if meta.Station == "" {
			meta.Station = fm.Station
		}
		if meta.Start == "" {
			meta.Start = fm.Start
		}
		if meta.Lang == "" {
			meta.Lang = fm.Lang
		}
	}
	return meta, nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over the %d-byte limit: %w", path, limit, fetch.ErrBodyTooLarge)
	}
	return b, nil
}

// TranscriptItem builds the Item for transcript t of src; key identifies
// it within the source (file name, episode guid). Meta values win over the
// source's hints.
func TranscriptItem(src config.Source, key string, t *parse.Transcript, meta TranscriptMeta, fetched time.Time) domain.Item {
	it := domain.Item{
		ID:          parse.ItemID(src.Name, key),
		ContentHash: parse.ContentHash(t.Text),
		Source:      src.Name,
		Kind:        "transcript",
		Title:       meta.Title,
		Text:        t.Text,
		Lang:        firstNonEmpty(parse.NormLang(meta.Lang), parse.NormLang(src.Lang)),
		Mission:     firstNonEmpty(meta.Mission, src.Mission),
		Station:     firstNonEmpty(meta.Station, src.Station, src.Name),
		Cues:        t.Cues,
		Fetched:     fetched.UTC(),
		Published:   fetched.UTC(),
	}
	if ts, err := time.Parse(time.RFC3339, meta.Start); err == nil {
		it.Published = ts.UTC()
	}
	if it.Title == "" {
		it.Title = it.Station + " " + it.Published.Format("2006-01-02 15:04 MST")
	}
	return it
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Package sources owns the list of polled sources: the configuration's
// sources overlaid with those an admin adds, pauses or removes through the
// web app or the API, kept in the bus's veille_sources bucket. It checks a
// source before it is accepted, settles two admins adding one URL at once,
// and swaps the poller's list when the bucket changes.
package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/veille-project/veille/domain"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse/telegram"
)

// Sources managed by an admin live in the bus's veille_sources bucket, one
// key per source name: sources added through the web app or the API, and
// pause flags. The polled list is the configuration's sources overlaid with
// the bucket: an entry named like a configured source only sets whether it
// is paused; any other entry is a source of its own.

// Errors of the source bucket; callers branch on them with errors.Is.
var (
	ErrBadSource        = domain.ErrBadSource
	ErrSourceExists     = domain.ErrSourceExists
	ErrNoSuchSource     = domain.ErrNoSuchSource
	ErrSourceConfigured = domain.ErrSourceConfigured
)

// ManagedSource is one source of the polled list with where it comes from.
type ManagedSource struct {
	config.Source
	// Added is true for a source added through the bucket (it can be
	// deleted there); false for one from the configuration file.
	Added   bool      `json:"-"`
	AddedBy string    `json:"added_by,omitempty"`
	AddedAt time.Time `json:"added_at,omitzero"`
}

// sourceRecord is a bucket value.
type sourceRecord struct {
	config.Source
	AddedBy string    `json:"added_by,omitempty"`
	AddedAt time.Time `json:"added_at,omitzero"`

	key string // the bucket key it was read from
	rev uint64 // the bucket revision it was read at
}

func sourcesKV(ctx context.Context, b *bus.Bus) (jetstream.KeyValue, error) {
	if b == nil {
		return nil, bus.ErrNotReady
	}
	kv, err := b.JS.KeyValue(ctx, bus.KVSources)
	if err != nil {
		return nil, fmt.Errorf("sources bucket: %w", err)
	}
	return kv, nil
}

// records reads every entry of the bucket.
func records(ctx context.Context, kv jetstream.KeyValue) ([]sourceRecord, error) {
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sources bucket: keys: %w", err)
	}
	var out []sourceRecord
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("sources bucket: get %s: %w", k, err)
		}
		var rec sourceRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Name == "" {
			slog.Warn("sources bucket: unreadable entry skipped", "key", k, "err", err)
			continue
		}
		rec.key, rec.rev = k, e.Revision()
		out = append(out, rec)
	}
	return out, nil
}

// Sources returns the polled list: cfg's sources, paused or resumed by the
// bucket, then the sources added to the bucket, sorted by name.
func Sources(ctx context.Context, b *bus.Bus, cfg config.Config) ([]ManagedSource, error) {
	kv, err := sourcesKV(ctx, b)
	if err != nil {
		return nil, err
	}
	recs, err := records(ctx, kv)
	if err != nil {
		return nil, err
	}
	byName := map[string]sourceRecord{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	var out []ManagedSource
	configured := map[string]bool{}
	for _, s := range cfg.Sources {
		configured[s.Name] = true
		if r, ok := byName[s.Name]; ok {
			s.Paused = r.Paused
		}
		out = append(out, ManagedSource{Source: s})
	}
	var added []ManagedSource
	for _, r := range recs {
		if configured[r.Name] || r.URL == "" {
			continue
		}
		added = append(added, ManagedSource{Source: r.Source, Added: true, AddedBy: r.AddedBy, AddedAt: r.AddedAt})
	}
	sort.Slice(added, func(i, j int) bool { return added[i].Name < added[j].Name })
	return append(out, added...), nil
}

// ListSources returns the sources ingest polls (see Sources).
func ListSources(ctx context.Context, b *bus.Bus, cfg config.Config) ([]config.Source, error) {
	ms, err := Sources(ctx, b, cfg)
	if err != nil {
		return nil, err
	}
	out := make([]config.Source, len(ms))
	for i, m := range ms {
		out[i] = m.Source
	}
	return out, nil
}

// Bounds of an added source's fields.
const (
	maxSourceName = 100
	maxSourceURL  = 2048
	maxSourceTag  = 32
)

// sourceName is what a source may be called: letters, digits, spaces and
// a little punctuation, starting with a letter or digit. No markup.
var sourceName = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}\p{M} ._,'’()&+#/-]*$`)

// CheckSource validates a source as the configuration does, and more
// strictly since it comes from a form: a name of letters, digits, spaces
// and simple punctuation, an http(s) URL with a host (for transcripts-dir
// an absolute folder under one of roots, the configured
// ingest.folder_roots), a known kind, a short language and mission, a
// non-negative interval.
func CheckSource(s config.Source, roots []string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSource, fmt.Sprintf(format, a...))
	}
	switch {
	case strings.TrimSpace(s.Name) == "":
		return bad("no name")
	case s.Name != strings.TrimSpace(s.Name) || len(s.Name) > maxSourceName || strings.ContainsFunc(s.Name, func(r rune) bool { return !unicode.IsPrint(r) }) || !sourceName.MatchString(s.Name):
		return bad("name %q: want up to %d letters, digits, spaces and . _ , ' ( ) & + # / -, starting with a letter or digit", s.Name, maxSourceName)
	case s.URL == "":
		return bad("source %q: no url", s.Name)
	case len(s.URL) > maxSourceURL:
		return bad("source %q: url longer than %d characters", s.Name, maxSourceURL)
	case len(s.Lang) > maxSourceTag || len(s.Mission) > maxSourceTag || len(s.Station) > maxSourceName:
		return bad("source %q: lang, mission or station too long", s.Name)
	case s.Interval < 0:
		return bad("source %q: negative interval", s.Name)
	}
	switch s.Kind {
	case "", "rss", "podcast":
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("source %q: url %q: want an http or https address", s.Name, s.URL)
		}
	case "telegram":
		if _, _, err := telegram.ParsePreviewURL(s.URL); err != nil {
			return bad("source %q: %v", s.Name, err)
		}
	case "transcripts-dir", "exports-dir":
		if !filepath.IsAbs(s.URL) || filepath.Clean(s.URL) != s.URL {
			return bad("source %q: folder %q: want an absolute, clean path", s.Name, s.URL)
		}
		if err := underRoots(s.URL, roots); err != nil {
			return bad("source %q: %v", s.Name, err)
		}
	default:
		return bad("source %q: kind %q: want rss, podcast, telegram, transcripts-dir or exports-dir", s.Name, s.Kind)
	}
	return nil
}

// underRoots checks that folder lies under one of roots, symbolic links
// resolved on both sides where they exist.
func underRoots(folder string, roots []string) error {
	if len(roots) == 0 {
		return fmt.Errorf("folder %q: no folder may be added: set ingest.folder_roots to the folders transcripts may be read from", folder)
	}
	resolve := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	f := resolve(folder)
	for _, root := range roots {
		r := resolve(root)
		if rel, err := filepath.Rel(r, f); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("folder %q is not under the allowed roots %s (ingest.folder_roots)", folder, strings.Join(roots, ", "))
}

// PutSource adds a source to the bucket on behalf of admin by. It fails
// with ErrBadSource when the source is invalid and ErrSourceExists when its
// name, key or URL is already used by a configured or added source.
func PutSource(ctx context.Context, b *bus.Bus, cfg config.Config, src config.Source, by string) error {
	if err := CheckSource(src, cfg.Ingest.FolderRoots); err != nil {
		return err
	}
	all, err := Sources(ctx, b, cfg)
	if err != nil {
		return err
	}
	key := bus.SourceKey(src.Name)
	for _, s := range all {
		switch {
		case s.Name == src.Name:
			return fmt.Errorf("%w: a source is named %q", ErrSourceExists, src.Name)
		case bus.SourceKey(s.Name) == key:
			return fmt.Errorf("%w: name %q is too close to source %q", ErrSourceExists, src.Name, s.Name)
		case s.URL == src.URL:
			return fmt.Errorf("%w: source %q has the same url %s", ErrSourceExists, s.Name, src.URL)
		}
	}
	data, err := json.Marshal(sourceRecord{Source: src, AddedBy: by, AddedAt: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("source %q: encode: %w", src.Name, err)
	}
	kv, err := sourcesKV(ctx, b)
	if err != nil {
		return err
	}
	rev, err := kv.Create(ctx, key, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		// The pause flag of a source since removed from the configuration
		// may be replaced; anything else under that key is a source.
		if e, gerr := kv.Get(ctx, key); gerr == nil {
			var rec sourceRecord
			if json.Unmarshal(e.Value(), &rec) == nil && rec.URL == "" {
				rev, err = kv.Update(ctx, key, data, e.Revision())
			}
		}
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("%w: a source is named %q", ErrSourceExists, src.Name)
	case err != nil:
		return fmt.Errorf("source %q: put: %w", src.Name, err)
	}
	return settleSameURL(ctx, kv, src, key, rev)
}

// settleSameURL undoes an add that raced another add of the same URL under
// another name: of the entries holding the URL, the one written first
// (lowest revision) stays and the others withdraw, so two admins adding
// one feed at once leave exactly one source.
func settleSameURL(ctx context.Context, kv jetstream.KeyValue, src config.Source, key string, rev uint64) error {
	recs, err := records(ctx, kv)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.key == key || r.URL != src.URL || r.rev > rev {
			continue
		}
		if err := kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("source %q: withdraw after a concurrent add of the same url: %w", src.Name, err)
		}
		return fmt.Errorf("%w: source %q has the same url %s", ErrSourceExists, r.Name, src.URL)
	}
	return nil
}

// SetPaused pauses or resumes a configured or added source. It fails with
// ErrNoSuchSource when no source has that name.
func SetPaused(ctx context.Context, b *bus.Bus, cfg config.Config, name string, paused bool) error {
	kv, err := sourcesKV(ctx, b)
	if err != nil {
		return err
	}
	key := bus.SourceKey(name)
	for _, s := range cfg.Sources {
		if s.Name == name {
			// A configured source: the entry only carries the flag.
			data, err := json.Marshal(sourceRecord{Source: config.Source{Name: name, Paused: paused}})
			if err != nil {
				return fmt.Errorf("source %q: encode: %w", name, err)
			}
			if _, err := kv.Put(ctx, key, data); err != nil {
				return fmt.Errorf("source %q: pause: %w", name, err)
			}
			return nil
		}
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: %q", ErrNoSuchSource, name)
	}
	if err != nil {
		return fmt.Errorf("source %q: get: %w", name, err)
	}
	var rec sourceRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Name != name || rec.URL == "" {
		return fmt.Errorf("%w: %q", ErrNoSuchSource, name)
	}
	rec.Paused = paused
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("source %q: encode: %w", name, err)
	}
	// Update on the read revision: a concurrent delete is not undone.
	if _, err := kv.Update(ctx, key, data, e.Revision()); err != nil {
		return fmt.Errorf("source %q: pause: %w", name, err)
	}
	return nil
}

// DeleteSource removes a source added to the bucket. A configured source
// cannot be deleted there (ErrSourceConfigured): pause it, or remove it
// from the configuration file.
func DeleteSource(ctx context.Context, b *bus.Bus, cfg config.Config, name string) error {
	for _, s := range cfg.Sources {
		if s.Name == name {
			return fmt.Errorf("%w: %q", ErrSourceConfigured, name)
		}
	}
	kv, err := sourcesKV(ctx, b)
	if err != nil {
		return err
	}
	key := bus.SourceKey(name)
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: %q", ErrNoSuchSource, name)
	}
	if err != nil {
		return fmt.Errorf("source %q: get: %w", name, err)
	}
	var rec sourceRecord
	if json.Unmarshal(e.Value(), &rec) != nil || rec.Name != name {
		return fmt.Errorf("%w: %q", ErrNoSuchSource, name)
	}
	if err := kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("source %q: delete: %w", name, err)
	}
	return nil
}

// WatchSources signals on the returned channel each time the bucket
// changes, until ctx ends (then the channel is closed). Signals coalesce: a
// burst of changes may be one signal.
func WatchSources(ctx context.Context, b *bus.Bus) (<-chan struct{}, error) {
	return b.WatchBucket(ctx, bus.KVSources)
}

// PollSources runs p over sources until ctx ends, replacing the list with
// reload's each time changes signals. A reload that fails is logged and
// the current sources go on being polled; the poller keeps its memory of
// what was published, so a swap republishes nothing.
func PollSources(ctx context.Context, p *ingest.Poller, sources []config.Source, publish ingest.PublishFunc,
	changes <-chan struct{}, reload func(context.Context) ([]config.Source, error)) error {
	for {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func(sources []config.Source) { done <- p.Run(pctx, sources, publish) }(sources)
	wait:
		for {
			select {
			case <-ctx.Done():
				cancel()
				if done != nil {
					<-done
				}
				return nil
			case err := <-done:
				if err != nil {
					cancel()
					return err
				}
				// Nothing to poll (every source paused, or none): wait for
				// a change.
				done = nil
			case _, ok := <-changes:
				if !ok {
					changes = nil // no more changes: poll on
					continue
				}
				next, err := reload(ctx)
				if err != nil {
					slog.Error("reload: sources not loaded; polling the current sources", "err", err)
					continue
				}
				slog.Info("reload: sources replaced", "before", len(sources), "after", len(next),
					"paused", countPaused(next))
				sources = next
				break wait
			}
		}
		cancel()
		if done != nil {
			<-done
		}
	}
}

func countPaused(ss []config.Source) int {
	n := 0
	for _, s := range ss {
		if s.Paused {
			n++
		}
	}
	return n
}

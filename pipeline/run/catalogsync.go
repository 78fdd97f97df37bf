package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/pipeline/bus"
)

// Promoted narratives reach every process through the bus's veille_catalog
// bucket: the promoting process writes the entry's YAML under its id, and
// every process holding a matcher layers the bucket's entries over its
// catalog (built-in, then CatalogDir's files) and swaps the rebuilt
// catalog in when the bucket changes.

// catalogTimeout bounds the bucket reads of OpenMatcher.
const catalogTimeout = 15 * time.Second

// PutCatalogEntry publishes a narrative entry's YAML under its id. The
// YAML must parse as a catalog entry with that id.
func PutCatalogEntry(ctx context.Context, b *bus.Bus, id string, yaml []byte) error {
	e, err := catalog.Parse(id, yaml)
	if err != nil {
		return err
	}
	if e.ID != id {
		return fmt.Errorf("%w: entry id %q published as %q", catalog.ErrInvalid, e.ID, id)
	}
	if b == nil {
		return bus.ErrNotReady
	}
	kv, err := b.JS.KeyValue(ctx, bus.KVCatalog)
	if err != nil {
		return fmt.Errorf("catalog bucket: %w", err)
	}
	if _, err := kv.Put(ctx, id, yaml); err != nil {
		return fmt.Errorf("catalog bucket: put %s: %w", id, err)
	}
	return nil
}

// catalogEntries reads the bucket's entries, sorted by id. An entry that
// does not parse is reported in bad and left out.
func catalogEntries(ctx context.Context, b *bus.Bus) (entries []*catalog.Entry, bad []error, err error) {
	kv, err := b.JS.KeyValue(ctx, bus.KVCatalog)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog bucket: %w", err)
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("catalog bucket: keys: %w", err)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("catalog bucket: get %s: %w", k, err)
		}
		e, err := catalog.Parse("veille_catalog/"+k, v.Value())
		if err != nil {
			bad = append(bad, err)
			continue
		}
		entries = append(entries, e)
	}
	return entries, bad, nil
}

// LoadCatalog builds the runner's catalog: the built-in one, CatalogDir's
// files over it when that folder exists, then the bucket's entries (when
// the runner has a bus). An entry of the bucket that does not fit the
// catalog is logged and left out, so one bad entry never stops matching.
func (r *Runner) LoadCatalog(ctx context.Context) (*catalog.Catalog, error) {
	cat := catalog.Default()
	dir := CatalogDir(r.Config)
	if _, err := os.Stat(dir); err == nil || r.Config.Catalog != "" {
		c, err := catalog.LoadDir(dir)
		if err != nil {
			return nil, err
		}
		cat = c
	}
	if r.Bus == nil {
		return cat, nil
	}
	entries, bad, err := catalogEntries(ctx, r.Bus)
	if err != nil {
		return nil, err
	}
	for _, err := range bad {
		r.Log.Warn("catalog bucket: entry left out", "err", err)
	}
	for _, e := range entries {
		next, err := cat.With(*e)
		if err != nil {
			r.Log.Warn("catalog bucket: entry left out", "narrative", e.ID, "err", err)
			continue
		}
		cat = next
	}
	return cat, nil
}

// WatchCatalog rebuilds the catalog each time the catalog bucket changes
// and swaps it into the runner's matcher, until ctx ends. A rebuild that
// fails is logged and the matcher keeps its catalog.
func (r *Runner) WatchCatalog(ctx context.Context) error {
	if r.Matcher == nil {
		return errors.New("watch catalog: no matcher open")
	}
	changes, err := r.Bus.WatchBucket(ctx, bus.KVCatalog)
	if err != nil {
		return err
	}
	// A promotion between OpenMatcher and the watch start is caught here.
	r.syncCatalog(ctx)
	for range changes {
		r.syncCatalog(ctx)
	}
	return nil
}

func (r *Runner) syncCatalog(ctx context.Context) {
	cat, err := r.LoadCatalog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Error("catalog sync: rebuild failed; matching goes on with the current catalog", "err", err)
		}
		return
	}
	before := r.Matcher.Version()
	if err := r.Matcher.Swap(cat); err != nil {
		r.Log.Error("catalog sync: compile failed; matching goes on with the current catalog", "err", err)
		return
	}
	if v := r.Matcher.Version(); v != before {
		r.Log.Info("catalog sync: catalog swapped", "version", v, "narratives", len(cat.IDs()))
	}
}

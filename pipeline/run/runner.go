package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/pseudonym"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
)

// Runner holds what the stages share: the bus (embedded or external), the
// store and the matcher. The same Runner serves the one-process default and
// a single stage run alone against external services.
type Runner struct {
	Config  config.Config
	Bus     *bus.Bus
	Store   storage.Store // nil until OpenStore
	Matcher *match.Matcher
	// Classifier is the catalog matcher combined with the learned layer;
	// it is what every stage classifies with.
	Classifier *learn.Classifier
	Log        *slog.Logger

	embedded *bus.Embedded
	closeMu  sync.Mutex
	tip      tiplines
}

// Open connects to NATS (starting the embedded server when configured) and
// declares the streams. It opens neither the store nor the matcher: stages
// that need them call OpenStore and OpenMatcher.
func Open(ctx context.Context, cfg config.Config, name string) (*Runner, error) {
	r := &Runner{Config: cfg, Log: slog.Default()}
	url := cfg.NATS
	if url == "" || url == "embedded" {
		e, err := bus.StartEmbedded(cfg.DataDir, 0)
		if err != nil {
			return nil, err
		}
		r.embedded = e
		url = e.URL()
		r.Log.Info("embedded NATS JetStream started", "store", cfg.DataDir+"/nats")
	}
	b, err := bus.Connect(ctx, url, "veille-"+name)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.Bus = b
	// On a fresh cluster several processes declare the streams at once and
	// the first declarations can time out while the meta leader settles.
	setup, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err = b.Setup(setup, cfg.Replicas)
		if err == nil {
			lagBus.Store(b)
			return r, nil
		}
		if setup.Err() != nil {
			r.Close()
			return nil, err
		}
		r.Log.Warn("declaring streams; retrying", "attempt", attempt, "err", err)
		sleep(setup, time.Duration(attempt)*500*time.Millisecond)
	}
}

// OpenAll opens the bus, the store and the matcher: what a command that
// reads storage and classifies needs. On an error nothing stays open.
func OpenAll(ctx context.Context, cfg config.Config, name string) (*Runner, error) {
	r, err := Open(ctx, cfg, name)
	if err != nil {
		return nil, err
	}
	if err := r.OpenStore(ctx); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.OpenMatcher(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// OpenStore opens the configured ClickHouse backend and applies migrations.
func (r *Runner) OpenStore(ctx context.Context) error {
	st, err := backend.OpenWith(ctx, r.Config.ClickHouse, r.Config.DataDir,
		storage.Options{TextRetention: time.Duration(r.Config.TextRetention)})
	if err != nil {
		return fmt.Errorf("open store %s: %w", r.Config.ClickHouse, err)
	}
	r.Store = st
	return nil
}

// CatalogDir is the folder of narrative files layered over the built-in
// catalog: cfg.Catalog, or <data_dir>/catalog where promoted narratives are
// saved.
func CatalogDir(cfg config.Config) string {
	if cfg.Catalog != "" {
		return cfg.Catalog
	}
	return filepath.Join(cfg.DataDir, "catalog")
}

// OpenMatcher compiles the catalog: the built-in one with CatalogDir's
// files layered over it when that folder exists, then the promoted
// narratives of the bus's catalog bucket (see LoadCatalog and
// WatchCatalog).
func (r *Runner) OpenMatcher() error {
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	cat, err := r.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	m, err := match.New(cat)
	if err != nil {
		return fmt.Errorf("compile catalog: %w", err)
	}
	c, err := learn.Open(m, r.Config.Classifier.Model, r.Config.Classifier.Threshold)
	if err != nil {
		return err
	}
	r.Matcher, r.Classifier = m, c
	return nil
}

// Close stops everything the Runner opened, in reverse order.
func (r *Runner) Close() {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.Bus != nil {
		lagBus.CompareAndSwap(r.Bus, nil)
		r.Bus.Close()
		r.Bus = nil
	}
	if r.Store != nil {
		_ = r.Store.Close()
		r.Store = nil
	}
	if r.embedded != nil {
		r.embedded.Shutdown()
		r.embedded = nil
	}
}

// Ready checks the bus and, when open, the store.
func (r *Runner) Ready(ctx context.Context) error {
	if r.Bus == nil || !r.Bus.NC.IsConnected() {
		return bus.ErrNotReady
	}
	if r.Store != nil {
		if _, err := r.Store.Counts(ctx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// ClassifyStage returns the classify worker over the runner's matcher.
func (r *Runner) ClassifyStage() *Classify {
	return &Classify{Bus: r.Bus, Classifier: r.Classifier, Log: r.Log}
}

// StoreStage returns the store worker over the runner's store.
func (r *Runner) StoreStage() *Store {
	return &Store{Bus: r.Bus, Store: r.Store, BatchSize: r.Config.Store.BatchSize,
		BatchWait: time.Duration(r.Config.Store.BatchWait), Log: r.Log}
}

// NewPoller returns a poller over the configured fetcher that records each
// source's health in the bus's key-value bucket.
func (r *Runner) NewPoller(ctx context.Context) (*ingest.Poller, error) {
	if err := fetch.CheckFetchConfig(r.Config.Fetch); err != nil {
		return nil, err
	}
	kv, err := r.Bus.JS.KeyValue(ctx, bus.KVHealth)
	if err != nil {
		return nil, fmt.Errorf("health bucket: %w", err)
	}
	f := fetch.NewFetcher(r.Config.Fetch)
	authors, err := r.Pseudonyms()
	if err != nil {
		return nil, err
	}
	return ingest.NewPoller(f, ingest.PollerOptions{
		Authors:    authors,
		Exports:    exports.Options{HeaderMap: r.Config.Import.CSVColumns},
		Logger:     r.Log,
		MaxPerPoll: r.Config.Ingest.MaxPerPoll,
		MaxPerHour: r.Config.Ingest.MaxPerHour,
		OnHealth: func(h ingest.SourceHealth) {
			b, err := json.Marshal(h)
			if err == nil {
				_, err = kv.Put(context.WithoutCancel(ctx), bus.SourceKey(h.Source), b)
			}
			if err != nil {
				r.Log.Warn("record source health", "source", h.Source, "err", err)
			}
		},
	}), nil
}

// Pseudonyms returns the hasher of authors and tipline senders, under the
// configured key or the one kept in the data folder.
func (r *Runner) Pseudonyms() (*pseudonym.Hasher, error) {
	return pseudonym.Load(r.Config.Privacy.HashKey, r.Config.DataDir)
}

// Publish is the poller's publish function: an item goes to the bus.
func (r *Runner) Publish(ctx context.Context, it storage.Item) error {
	if err := r.Bus.PublishItem(ctx, it); err != nil {
		return err
	}
	metrics.published.Inc()
	return nil
}

// SourceHealth reads every source's last recorded health from the bus.
func SourceHealth(ctx context.Context, b *bus.Bus) ([]ingest.SourceHealth, error) {
	kv, err := b.JS.KeyValue(ctx, bus.KVHealth)
	if err != nil {
		return nil, fmt.Errorf("health bucket: %w", err)
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("health keys: %w", err)
	}
	var out []ingest.SourceHealth
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var h ingest.SourceHealth
		if json.Unmarshal(e.Value(), &h) == nil {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// WaitStored waits until the store holds at least n items and both consumers
// have nothing pending, or ctx ends.
func (r *Runner) WaitStored(ctx context.Context, n int64) (storage.Totals, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var t storage.Totals
	for {
		// Drained first, then counted: a batch in flight is unacknowledged
		// until both its items and its flags are written.
		p1, err1 := r.Bus.Pending(ctx, bus.StreamItems, bus.ConsumerClassify)
		p2, err2 := r.Bus.Pending(ctx, bus.StreamClassified, bus.ConsumerStore)
		if err1 == nil && err2 == nil && p1 == 0 && p2 == 0 {
			var err error
			t, err = r.Store.Counts(ctx)
			if err == nil && t.Items >= n {
				return t, nil
			}
		}
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("waiting for %d stored items (have %d): %w", n, t.Items, ctx.Err())
		case <-tick.C:
		}
	}
}

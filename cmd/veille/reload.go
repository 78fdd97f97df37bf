package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/pipeline/sources"
)

// runIngest polls the sources until ctx ends: the configured ones overlaid
// with the sources bucket (sources an admin added, pause flags). On SIGHUP
// it re-reads the configuration, and on each change of the bucket it
// re-reads the bucket, and polls the new list; the poller keeps its memory
// of what was published, so a reload republishes nothing. A configuration
// that does not load is reported and the current sources go on.
func runIngest(ctx context.Context, r *run.Runner, p *ingest.Poller, cfgPath string, explicit bool) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	changes := make(chan os.Signal, 1)
	go forward(ctx, hup, changes)
	if kv, err := sources.WatchSources(ctx, r.Bus); err != nil {
		slog.Error("sources bucket not watched: sources added by an admin wait for a SIGHUP", "err", err)
	} else {
		go forward(ctx, kv, changes)
	}
	list, err := sources.ListSources(ctx, r.Bus, r.Config)
	if err != nil {
		slog.Error("sources bucket not read: polling the configured sources", "err", err)
		list = r.Config.Sources
	}
	cfg := r.Config
	return pollUntil(ctx, p, list, r.Publish, changes, func() ([]config.Source, error) {
		next, err := config.Load(cfgPath, explicit)
		if err != nil {
			// The bucket changed but the file does not load: overlay the
			// bucket on the configuration last loaded.
			slog.Error("reload: configuration not loaded; using the last one", "err", err)
		} else {
			cfg = next
		}
		return sources.ListSources(ctx, r.Bus, cfg)
	})
}

// followSources polls r.Config's sources overlaid with the sources bucket,
// following the bucket's changes, until ctx ends: ingest without a
// configuration file to re-read (the demo).
func followSources(ctx context.Context, r *run.Runner, p *ingest.Poller) error {
	changes, err := sources.WatchSources(ctx, r.Bus)
	if err != nil {
		return err
	}
	list, err := sources.ListSources(ctx, r.Bus, r.Config)
	if err != nil {
		return err
	}
	return sources.PollSources(ctx, p, list, r.Publish, changes, func(ctx context.Context) ([]config.Source, error) {
		return sources.ListSources(ctx, r.Bus, r.Config)
	})
}

// forward passes each signal of in to out, coalescing, until ctx ends or
// in closes.
func forward[T any](ctx context.Context, in <-chan T, out chan<- os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- syscall.SIGHUP:
			default:
			}
		}
	}
}

// pollUntil runs the poller over sources, swapping them for reload()'s on
// each signal on hup.
func pollUntil(ctx context.Context, p *ingest.Poller, list []config.Source, publish ingest.PublishFunc, hup <-chan os.Signal, reload func() ([]config.Source, error)) error {
	changes := make(chan struct{})
	go func() {
		defer close(changes)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case changes <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return sources.PollSources(ctx, p, list, publish, changes, func(context.Context) ([]config.Source, error) { return reload() })
}

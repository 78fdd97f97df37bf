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
)

// runIngest polls the configured sources until ctx ends. On SIGHUP it
// re-reads the configuration and polls the new source list; the poller
// keeps its memory of what was published, so a reload republishes nothing.
// A configuration that does not load is reported and the current sources
// go on.
func runIngest(ctx context.Context, r *run.Runner, p *ingest.Poller, cfgPath string, explicit bool) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return pollUntil(ctx, p, r.Config.Sources, r.Publish, hup, func() ([]config.Source, error) {
		cfg, err := config.Load(cfgPath, explicit)
		return cfg.Sources, err
	})
}

// pollUntil runs the poller over sources, swapping them for reload()'s on
// each signal on hup.
func pollUntil(ctx context.Context, p *ingest.Poller, sources []config.Source, publish ingest.PublishFunc, hup <-chan os.Signal, reload func() ([]config.Source, error)) error {
	for {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(pctx, sources, publish) }()
	wait:
		for {
			select {
			case <-ctx.Done():
				cancel()
				<-done
				return nil
			case err := <-done:
				cancel()
				return err
			case <-hup:
				next, err := reload()
				if err != nil {
					slog.Error("reload: configuration not loaded; polling the current sources", "err", err)
					continue
				}
				slog.Info("reload: sources replaced", "before", len(sources), "after", len(next))
				sources = next
				break wait
			}
		}
		cancel()
		<-done
	}
}

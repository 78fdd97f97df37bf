package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/brief"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/pipeline/sources"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

func init() {
	register(&command{name: "run", summary: "run every stage in one process (the embedded default)", run: func(ctx context.Context, args []string) error {
		return runStages(ctx, "run", args, stageSet{ingest: true, classify: true, store: true, serve: true})
	}})
	register(&command{name: "ingest", summary: "run the ingest stage: poll sources, publish items", run: func(ctx context.Context, args []string) error {
		return runStages(ctx, "ingest", args, stageSet{ingest: true})
	}})
	register(&command{name: "store", summary: "run the store stage: write classified items to ClickHouse", run: func(ctx context.Context, args []string) error {
		return runStages(ctx, "store", args, stageSet{store: true})
	}})
	register(&command{name: "serve", summary: "run the web app and API", run: func(ctx context.Context, args []string) error {
		return runStages(ctx, "serve", args, stageSet{serve: true})
	}})
	register(&command{name: "sources", summary: "list sources with their feed health", run: sourcesCmd})
}

type stageSet struct{ ingest, classify, store, serve bool }

// stageFlags are the flags every stage command takes.
type stageFlags struct {
	config    string
	configSet bool // --config was given: a missing file is an error
	ops       string
	once      bool
}

func parseStageFlags(name string, args []string, withOnce bool) (stageFlags, config.Config, error) {
	var f stageFlags
	fs := newFlags(name)
	fs.StringVar(&f.config, "config", "veille.yaml", "configuration file")
	fs.StringVar(&f.ops, "ops", os.Getenv("VEILLE_OPS"), "address for /healthz, /readyz and /metrics (stages other than serve)")
	if withOnce {
		fs.BoolVar(&f.once, "once", false, "poll every source once, wait until published, and exit")
	}
	if err := fs.Parse(args); err != nil {
		return f, config.Config{}, err
	}
	f.configSet = isSet(fs, "config")
	cfg, err := config.Load(f.config, f.configSet)
	return f, cfg, err
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runStages runs the chosen stages in this process until ctx ends.
func runStages(ctx context.Context, name string, args []string, set stageSet) error {
	f, cfg, err := parseStageFlags(name, args, set.ingest)
	if err != nil {
		return err
	}
	r, err := run.Open(ctx, cfg, name)
	if err != nil {
		return err
	}
	defer r.Close()
	if set.store || set.serve {
		if err := r.OpenStore(ctx); err != nil {
			return err
		}
	}
	if set.classify || set.serve {
		if err := r.OpenMatcher(); err != nil {
			return err
		}
	}
	if f.once && set.ingest && !set.classify {
		return ingestOnce(ctx, r)
	}
	return serveStages(ctx, r, set, f)
}

// serveStages starts each chosen worker and blocks until ctx ends or one
// fails.
func serveStages(ctx context.Context, r *run.Runner, set stageSet, f stageFlags) error {
	ops := f.ops
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
	o := &run.Ops{}
	o.SetReady(r.Ready)
	if r.Matcher != nil && r.Bus != nil {
		// Narratives promoted in any process reach this one's matcher.
		start("catalog sync", r.WatchCatalog)
	}
	if r.ModelFollowsBus() {
		// Models promoted in any process reach this one's classifier.
		start("model sync", r.WatchModel)
	}
	if len(r.Config.Briefs.Schedules) > 0 && set.serve && r.Store != nil && r.Bus != nil && r.Matcher != nil {
		// Scheduled briefs are made where the web app serves them.
		if err := brief.CheckSchedules(r.Config.Briefs.Schedules); err != nil {
			return err
		}
		kv, err := r.Bus.JS.KeyValue(ctx, bus.KVBriefs)
		if err != nil {
			return fmt.Errorf("brief schedules: %w", err)
		}
		courier, err := alert.NewCourier(r.Config, nil)
		if err != nil {
			return err
		}
		m := &briefMaker{r: r, ew: newEarlyWarning(r)}
		sc := &brief.Scheduler{KV: kv, Schedules: r.Config.Briefs.Schedules, Make: m.scheduled(courier), Log: r.Log}
		start("brief schedule", sc.Run)
	}
	if set.classify && r.Classifier != nil {
		// The tipline answers where the classifier runs.
		if adapters, _, err := r.Tiplines(); err != nil {
			return err
		} else if len(adapters) > 0 {
			start("tipline", r.RunTiplines)
		}
	}
	if set.classify {
		start("classify", r.ClassifyStage().Run)
	}
	if set.store {
		start("store", r.StoreStage().Run)
	}
	if set.ingest {
		p, err := r.NewPoller(ctx)
		if err != nil {
			return err
		}
		start("ingest", func(ctx context.Context) error { return runIngest(ctx, r, p, f.config, f.configSet) })
	}
	if set.serve {
		// The alert engine runs beside the web app: one per deployment.
		eng, err := newAlertEngine(ctx, r)
		if err != nil {
			return err
		}
		if eng != nil {
			start("alerts", eng.Run)
		}
		h, err := webHandler(r, o)
		if err != nil {
			return err
		}
		start("serve", func(ctx context.Context) error { return listen(ctx, r.Config.Listen, h) })
		if m := r.Config.Metrics.Addr; m != "" && m != "off" {
			// Metrics on their own listener, loopback by default: a
			// failure to bind it is reported, not fatal.
			go func() {
				if err := o.Serve(ctx, m); err != nil && ctx.Err() == nil {
					slog.Warn("metrics listener", "addr", m, "err", err)
				}
			}()
		}
	} else if ops != "" {
		start("ops", func(ctx context.Context) error { return o.Serve(ctx, ops) })
	}
	slog.Info("veille running", "nats", redactDSN(r.Config.NATS), "clickhouse", redactDSN(r.Config.ClickHouse))
	<-ctx.Done()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// ingestOnce polls every source once and returns when every new item was
// accepted by the bus.
func ingestOnce(ctx context.Context, r *run.Runner) error {
	p, err := r.NewPoller(ctx)
	if err != nil {
		return err
	}
	n := 0
	err = p.PollOnce(ctx, r.Config.Sources, func(ctx context.Context, it storage.Item) error {
		if err := r.Publish(ctx, it); err != nil {
			return err
		}
		n++
		return nil
	})
	fmt.Printf("published %d items from %d sources\n", n, len(r.Config.Sources))
	for _, h := range p.Health() {
		if h.LastError != "" {
			fmt.Printf("  %s: %s\n", h.Source, h.LastError)
		}
	}
	return err
}

// webHandler builds the web app with the operations endpoints beside it.
func webHandler(r *run.Runner, o *run.Ops) (http.Handler, error) {
	opt := web.Options{
		Store:         r.Store,
		Classifier:    r.Classifier,
		Catalog:       liveCatalog{r.Matcher},
		Sources:       sourceList{r},
		SourceAdmin:   sourceList{r},
		Logger:        r.Log,
		SecureCookies: !loopback(r.Config.Listen) || os.Getenv("VEILLE_SECURE_COOKIES") == "1",
	}
	if r.Bus != nil {
		opt.Alerts = &alertLog{js: r.Bus.JS, replicas: r.Config.Replicas}
	}
	ew := newEarlyWarning(r)
	if ew != nil {
		opt.Emerging = ew
	}
	opt.Briefs = briefPages{&briefMaker{r: r, ew: ew}}
	if r.Bus != nil {
		reg, err := models.Open(context.Background(), r.Bus)
		if err != nil {
			return nil, err
		}
		opt.Models = modelAdmin{reg: reg, webTraining: &webTraining{r: r, reg: reg}, blind: &blindFigures{}}
	}
	proxies, err := web.ParseProxies(r.Config.Web.TrustedProxies)
	if err != nil {
		return nil, err
	}
	opt.TrustedProxies = proxies
	app, err := web.New(opt)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	o.RegisterHealth(mux)
	// Tipline webhooks authenticate by the platform's signature or secret.
	_, hooks, err := r.Tiplines()
	if err != nil {
		return nil, err
	}
	for path, h := range hooks {
		mux.Handle("POST "+path, h)
		mux.Handle("GET "+path, h)
	}
	mux.Handle("/", app)
	return mux, nil
}

// liveCatalog reads the matcher's current catalog, so a promoted narrative
// shows without a restart.
type liveCatalog struct{ m *match.Matcher }

func (c liveCatalog) IDs() []string                  { return c.m.Catalog().IDs() }
func (c liveCatalog) Title(id, lang string) string   { return c.m.Catalog().Title(id, lang) }
func (c liveCatalog) Meaning(id, lang string) string { return c.m.Catalog().Meaning(id, lang) }
func (c liveCatalog) Responses(id, lang string) []string {
	return c.m.Catalog().Responses(id, lang)
}

// sourceList joins the polled sources (the configured ones overlaid with
// the sources bucket) with their recorded health, and changes the bucket
// on an admin's behalf.
type sourceList struct{ r *run.Runner }

func (s sourceList) List(ctx context.Context) ([]web.SourceStatus, error) {
	srcs, err := sources.Sources(ctx, s.r.Bus, s.r.Config)
	if err != nil {
		return nil, err
	}
	hs, err := run.SourceHealth(ctx, s.r.Bus)
	if err != nil {
		return nil, err
	}
	byName := map[string]ingest.SourceHealth{}
	for _, h := range hs {
		byName[h.Source] = h
	}
	out := make([]web.SourceStatus, 0, len(srcs))
	for _, src := range srcs {
		h := byName[src.Name]
		out = append(out, web.SourceStatus{
			Name: src.Name, URL: src.URL, Kind: src.Kind, Lang: src.Lang, Mission: src.Mission, Paused: src.Paused,
			Added: src.Added, AddedBy: src.AddedBy,
			LastSuccess: h.LastSuccess, LastError: h.LastError, LastErrorAt: h.LastErrorAt, Capped: h.Capped, Warnings: h.Warnings,
			ItemsLastDay: int64(h.ItemsLastDay), Failures: h.ConsecutiveFailures,
		})
	}
	// Tipline channels: what the bots answered, as the health bucket has it.
	for _, h := range hs {
		if h.Kind == "tipline" {
			out = append(out, web.SourceStatus{Name: h.Source, URL: h.URL, Kind: h.Kind, Fixed: true,
				LastSuccess: h.LastSuccess, LastError: h.LastError, LastErrorAt: h.LastErrorAt,
				ItemsLastDay: int64(h.ItemsLastDay), Failures: h.ConsecutiveFailures})
		}
	}
	return out, nil
}

// Add adds a source to the bucket; ingest processes poll it within seconds.
func (s sourceList) Add(ctx context.Context, in web.SourceInput, by string) error {
	src := config.Source{Name: in.Name, URL: in.URL, Kind: in.Kind, Lang: in.Lang, Mission: in.Mission}
	if in.Interval != "" {
		d, err := config.ParseDuration(in.Interval)
		if err != nil {
			return fmt.Errorf("%w: source %q: interval: %v", web.ErrBadSource, in.Name, err)
		}
		src.Interval = config.Duration(d)
	}
	return sources.PutSource(ctx, s.r.Bus, s.r.Config, src, by)
}

// SetPaused pauses or resumes a source.
func (s sourceList) SetPaused(ctx context.Context, name string, paused bool) error {
	return sources.SetPaused(ctx, s.r.Bus, s.r.Config, name, paused)
}

// Delete removes a source an admin added.
func (s sourceList) Delete(ctx context.Context, name string) error {
	return sources.DeleteSource(ctx, s.r.Bus, s.r.Config, name)
}

func listen(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return serveOn(ctx, ln, h)
}

// serveOn serves h on ln until ctx ends, then shuts down gracefully.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func sourcesCmd(ctx context.Context, args []string) error {
	_, cfg, err := parseStageFlags("sources", args, false)
	if err != nil {
		return err
	}
	if cfg.NATS == "embedded" {
		// The embedded server's data is only reachable by starting it here,
		// which needs the data dir not to be in use.
		slog.Info("reading health from the embedded NATS data dir", "dir", cfg.DataDir)
	}
	r, err := run.Open(ctx, cfg, "sources")
	if err != nil {
		return err
	}
	defer r.Close()
	hs, err := run.SourceHealth(ctx, r.Bus)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, h := range hs {
		known[h.Source] = true
	}
	srcs, err := sources.ListSources(ctx, r.Bus, cfg)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		if !known[s.Name] {
			hs = append(hs, ingest.SourceHealth{Source: s.Name, Kind: s.Kind, URL: s.URL})
		}
	}
	return ingest.FormatHealth(os.Stdout, hs, time.Now())
}

// redactDSN hides credentials in a URL-like setting for logs.
func redactDSN(s string) string {
	scheme := strings.Index(s, "://")
	if at := strings.LastIndex(s, "@"); scheme >= 0 && at > scheme {
		return s[:scheme+3] + "***" + s[at:]
	}
	return s
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/pipeline/tipline"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/testdata/demo"
	"github.com/veille-project/veille/web"
)

func init() {
	register(&command{name: "demo", summary: "run the whole pipeline on the demo data (embedded default) and serve it", run: demoCmd})
}

func demoCmd(ctx context.Context, args []string) error {
	fs := newFlags("demo")
	dir := fs.String("dir", "", "folder of demo feeds and its veille.demo.yaml (default: the demo built into the binary)")
	data := fs.String("data", "", "data folder (default ./data, or VEILLE_DATA)")
	listen := fs.String("listen", "", "web address (default from the demo config, 127.0.0.1:8080)")
	once := fs.Bool("once", false, "exit 0 once every demo item is stored, after the summary")
	wait := fs.Duration("timeout", 3*time.Minute, "longest wait for the demo items to be stored")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := runDemo(ctx, demoOptions{Dir: *dir, Data: *data, Listen: *listen, Once: *once, Timeout: *wait, Out: os.Stdout})
	return err
}

type demoOptions struct {
	Dir, Data, Listen string
	Once              bool
	Timeout           time.Duration
	Out               *os.File
}

// demoResult is what a demo run stored, for tests.
type demoResult struct {
	Published int
	IDs       []string // the ids of the published items
	Alerts    int      // alerts raised on the demo's surge
	Emerging  []emerging.Group
	Totals    storage.Totals
}

// runDemo serves the demo feeds on loopback, runs every stage on the
// embedded NATS and chDB, waits until every demo item is stored, prints a
// summary, then (unless Once) keeps polling and serving until ctx ends.
func runDemo(ctx context.Context, o demoOptions) (demoResult, error) {
	var res demoResult
	out := o.Out
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }

	// The demo is a week written once; it is served moved forward by whole
	// hours so that its latest item is less than an hour old.
	files, from := fs.FS(demo.Files), "the demo built into the binary"
	if o.Dir != "" {
		if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
			return res, fmt.Errorf("demo: %s is not a folder of demo feeds", o.Dir)
		}
		files, from = os.DirFS(o.Dir), o.Dir
	}
	written, err := demo.LatestDate(files)
	if err != nil {
		return res, err
	}
	ds := &demo.Server{Files: files}
	if !written.IsZero() && time.Since(written) > time.Hour {
		ds.Shift = time.Since(written).Truncate(time.Hour)
	}
	if err := ds.Start(ctx); err != nil {
		return res, err
	}
	cfgPath := "veille.demo.yaml"
	raw, err := fs.ReadFile(files, cfgPath)
	if err != nil {
		return res, fmt.Errorf("demo config: %w", err)
	}
	cfg, err := config.Parse(cfgPath, []byte(ds.Expand(string(raw))))
	if err != nil {
		return res, err
	}
	cfg.NATS, cfg.ClickHouse = "embedded", "embedded"
	if o.Data != "" {
		cfg.DataDir = o.Data
	}
	if o.Listen != "" {
		cfg.Listen = o.Listen
	}
	if err := dropDemoExports(files, &cfg, ds.Shift); err != nil {
		return res, err
	}
	say("veille demo: %d sources served from %s at %s", len(cfg.Sources), from, ds.Base)
	var ln net.Listener
	if !o.Once {
		// Claim the web address first: a busy port fails now, not after the run.
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return res, fmt.Errorf("web address %s: %w (is another veille running? use --listen)", cfg.Listen, err)
		}
		defer ln.Close()
	}

	r, err := run.Open(ctx, cfg, "demo")
	if err != nil {
		return res, err
	}
	defer r.Close()
	if err := r.OpenStore(ctx); err != nil {
		return res, err
	}
	if err := r.OpenMatcher(); err != nil {
		return res, err
	}
	say("veille demo: embedded NATS JetStream and chDB (%s) under %s", r.Store.Backend(), cfg.DataDir)

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	for _, w := range []func(context.Context) error{r.ClassifyStage().Run, r.StoreStage().Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w(workCtx) }()
	}
	defer wg.Wait()
	defer stopWork()

	p, err := r.NewPoller(ctx)
	if err != nil {
		return res, err
	}
	ids := map[string]bool{}
	var latest time.Time
	var mu sync.Mutex
	err = p.PollOnce(ctx, cfg.Sources, func(ctx context.Context, it storage.Item) error {
		if err := r.Publish(ctx, it); err != nil {
			return err
		}
		mu.Lock()
		ids[it.ID] = true
		if it.Published.After(latest) {
			latest = it.Published
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("demo poll: %w", err)
	}
	for _, h := range p.Health() {
		if h.LastError != "" {
			say("veille demo: source %s: %s", h.Source, h.LastError)
		}
	}
	tips, err := demoTips(ctx, files, r, ds.Shift)
	if err != nil {
		return res, err
	}
	for _, id := range tips {
		ids[id] = true
	}
	res.Published = len(ids)
	for id := range ids {
		res.IDs = append(res.IDs, id)
	}
	say("veille demo: published %d items; classifying and storing…", res.Published)

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	totals, err := r.WaitStored(waitCtx, int64(res.Published))
	if err != nil {
		return res, err
	}
	res.Totals = totals

	logins, err := demoUsers(ctx, r.Store)
	if err != nil {
		return res, err
	}
	printSummary(out, cfg, totals, logins)

	// The demo's data is a fixed week: alert rules are evaluated as at its
	// latest item, so its surge shows whatever today's date.
	eng, err := newAlertEngine(ctx, r)
	if err != nil {
		return res, err
	}
	if eng != nil {
		fresh, err := eng.Evaluate(ctx, latest.Add(time.Minute))
		if err != nil {
			return res, err
		}
		res.Alerts = len(fresh)
		eng.Wait()
		demoAlerts(ctx, out, eng, fresh)
	}
	if res.Emerging, err = demoEmerging(ctx, out, r, latest.Add(time.Minute)); err != nil {
		return res, err
	}
	if o.Once {
		return res, nil
	}

	say("veille demo: serving http://%s — Ctrl-C to stop", cfg.Listen)
	// Keep polling and serving, as `veille run` does.
	err = serveStagesWith(ctx, r, p, ln)
	if errors.Is(err, context.Canceled) {
		return res, nil
	}
	return res, err
}

// serveStagesWith keeps the demo's poller going and serves the web app.
func serveStagesWith(ctx context.Context, r *run.Runner, p *ingest.Poller, ln net.Listener) error {
	o := &run.Ops{}
	o.SetReady(r.Ready)
	h, err := webHandler(r, o)
	if err != nil {
		return err
	}
	go func() {
		if err := followSources(ctx, r, p); err != nil && ctx.Err() == nil {
			r.Log.Error("demo ingest stopped", "err", err)
		}
	}()
	// Narratives promoted and models promoted on the web app reach the
	// demo's classifier, as in `veille run`.
	for name, watch := range map[string]func(context.Context) error{"catalog sync": r.WatchCatalog, "model sync": r.WatchModel} {
		if name == "model sync" && !r.ModelFollowsBus() {
			continue
		}
		go func() {
			if err := watch(ctx); err != nil && ctx.Err() == nil {
				r.Log.Error("demo "+name+" stopped", "err", err)
			}
		}()
	}
	return serveOn(ctx, ln, h)
}

// demoUsers makes one user per role (once) and a fresh token for each.
func demoUsers(ctx context.Context, st storage.Store) ([][2]string, error) {
	var out [][2]string
	now := time.Now()
	for _, role := range []string{storage.RoleAdmin, storage.RoleReviewer, storage.RoleRadio, storage.RoleAnalyst} {
		name := "demo-" + role
		lang := "en"
		if role == storage.RoleRadio {
			lang = "fr"
		}
		_, tok, err := web.CreateUser(ctx, st, name, role, lang, now)
		if errors.Is(err, web.ErrUserExists) {
			tok, _, err = web.IssueToken(ctx, st, name, now, now.Add(30*24*time.Hour))
		}
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", name, err)
		}
		out = append(out, [2]string{name, tok})
	}
	return out, nil
}

func printSummary(out *os.File, cfg config.Config, t storage.Totals, logins [][2]string) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	p("\n=== Veille demo: stored %d items, %d flags ===", t.Items, t.Flags)
	p("items per source:")
	for _, k := range sortedKeys(t.ItemsBySource) {
		p("  %-28s %5d", k, t.ItemsBySource[k])
	}
	p("flags per narrative:")
	for _, k := range sortedKeys(t.FlagsByNarr) {
		p("  %-34s %5d", k, t.FlagsByNarr[k])
	}
	abs, _ := filepath.Abs(cfg.DataDir)
	p("data: %s (NATS JetStream in nats/, chDB in clickhouse/)", abs)
	p("web:  http://%s", cfg.Listen)
	p("logins (user name + token; API: Authorization: Bearer <token>):")
	for _, l := range logins {
		p("  %-14s %s", l[0], l[1])
	}
	p("%s", strings.Repeat("=", 40))
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// demoExportsDir is the folder, under the data folder, where the demo drops
// its WhatsApp export for an exports-dir source to read.
const demoExportsDir = "demo-exports"

// whatsappDate is the date at the head of a line of a French WhatsApp export.
var whatsappDate = regexp.MustCompile(`(?m)^(\d{2}/\d{2}/\d{4} \d{2}:\d{2})`)

// dropDemoExports writes the demo's exports into <data>/demo-exports,
// their dates moved like the served files', and adds the exports-dir
// source that reads them.
func dropDemoExports(files fs.FS, cfg *config.Config, shift time.Duration) error {
	entries, err := fs.ReadDir(files, "exports")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo exports: %w", err)
	}
	dir := filepath.Join(cfg.DataDir, demoExportsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo exports: %w", err)
	}
	settled := time.Now().Add(-time.Minute)
	for _, e := range entries {
		b, err := fs.ReadFile(files, "exports/"+e.Name())
		if err != nil {
			return fmt.Errorf("demo exports: %w", err)
		}
		b = whatsappDate.ReplaceAllFunc(b, func(m []byte) []byte {
			t, err := time.Parse("02/01/2006 15:04", string(m))
			if err != nil {
				return m
			}
			return []byte(t.Add(shift).Format("02/01/2006 15:04"))
		})
		path := filepath.Join(dir, e.Name())
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("demo exports: %w", err)
		}
		if err := os.Chtimes(path, settled, settled); err != nil {
			return fmt.Errorf("demo exports: %w", err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cfg.Ingest.FolderRoots = append(cfg.Ingest.FolderRoots, abs)
	cfg.Sources = append(cfg.Sources, config.Source{Name: "Cellule Com Bunia (WhatsApp export)", URL: abs, Kind: "exports-dir",
		Mission: "MONUSCO", Tags: []string{"whatsapp", "drc"}})
	return nil
}

// demoTip is one line of the demo's tips.jsonl: a message a person sent
// to the tipline.
type demoTip struct {
	Channel   string    `json:"channel"`
	Sender    string    `json:"sender"`
	Lang      string    `json:"lang"`
	Forwarded bool      `json:"forwarded"`
	Date      time.Time `json:"date"`
	Text      string    `json:"text"`
}

// demoTips publishes the demo's tips as the tipline would have received
// them, and returns their item ids.
func demoTips(ctx context.Context, files fs.FS, r *run.Runner, shift time.Duration) ([]string, error) {
	b, err := fs.ReadFile(files, "tips.jsonl")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo tips: %w", err)
	}
	senders, err := r.Pseudonyms()
	if err != nil {
		return nil, err
	}
	var ids []string
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var dt demoTip
		if err := json.Unmarshal(line, &dt); err != nil {
			return nil, fmt.Errorf("demo tips: tips.jsonl:%d: %w", n+1, err)
		}
		tip := tipline.Tip{Channel: dt.Channel, SenderHash: senders.Hash(dt.Channel, dt.Sender), MessageID: fmt.Sprintf("demo-%d", n+1),
			Text: dt.Text, Forwarded: dt.Forwarded, LangHint: dt.Lang, Date: dt.Date.Add(shift)}
		it := run.TipItem(tip, "", time.Now().UTC())
		if err := r.Publish(ctx, it); err != nil {
			return nil, err
		}
		ids = append(ids, it.ID)
	}
	return ids, nil
}

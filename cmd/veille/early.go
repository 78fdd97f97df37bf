package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/web"
)

// The web app's early-warning pages read the alert log and the emerging
// groups through web.Alerts and web.Emerging; these adapters implement them
// over pipeline/alert, classifiers/emerging and the runner's live matcher.

// alertLog lists the alert log bucket, opened on first use so the web app
// starts even while NATS settles.
type alertLog struct {
	js       jetstream.JetStream
	replicas int

	mu  sync.Mutex
	log *alert.Log
}

func (a *alertLog) open(ctx context.Context) (*alert.Log, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log == nil {
		l, err := alert.OpenLog(ctx, a.js, a.replicas)
		if err != nil {
			return nil, err
		}
		a.log = l
	}
	return a.log, nil
}

// Recent returns the n latest alerts, newest first.
func (a *alertLog) Recent(ctx context.Context, n int) ([]web.AlertView, error) {
	l, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := l.Recent(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]web.AlertView, 0, len(recs))
	for _, r := range recs {
		v := web.AlertView{ID: r.ID, Kind: r.Kind, Rule: r.Rule, Narrative: r.Narrative, Title: r.Title, At: r.At, Since: r.Since,
			Window: r.Window, Recent: r.Recent, Baseline: r.Baseline, Factor: r.Factor, Previous: r.Previous,
			Missions: r.Missions, Langs: r.Langs, Sources: r.Sources, Deliveries: []web.DeliveryView{}}
		for _, d := range r.Deliveries {
			v.Deliveries = append(v.Deliveries, web.DeliveryView{Channel: d.Channel, Target: d.Target, Status: d.Status,
				Attempts: d.Attempts, LastError: d.LastError, At: d.At})
		}
		out = append(out, v)
	}
	return out, nil
}

// Bounds of the emerging pages.
const (
	emergingGroups  = 50             // groups listed
	emergingSamples = 3              // sample items shown per group
	emergingWindow  = 48 * time.Hour // period searched for a group not listed lately
)

// earlyWarning finds emerging groups in the store, records dismissals in
// NATS and promotes edited drafts into the catalog directory and the live
// matcher.
type earlyWarning struct {
	store    alert.SQLStore
	js       jetstream.JetStream
	bus      *bus.Bus // where promoted entries are shared
	replicas int
	matcher  *match.Matcher
	dir      string // where promoted entries are written
	now      func() time.Time
	log      *slog.Logger

	mu     sync.Mutex
	dis    *alert.Dismissals
	listed map[string]emerging.Group // the groups last listed, by id
	// The last run, reused for a minute: each run reads every item of the
	// period, and reviewers reload the page.
	last      []emerging.Group
	lastSince time.Time
	lastAt    time.Time
	promote   sync.Mutex // one promotion at a time
}

// reuse is how long, and how close a period's start must be, for a run to
// be reused.
const reuse = time.Minute

// catalogDir is where promoted narratives go: the configured catalog
// directory, or <data_dir>/catalog.
func catalogDir(r *run.Runner) string { return run.CatalogDir(r.Config) }

// newEarlyWarning returns the emerging adapter, or nil when the store runs
// no SQL of its own.
func newEarlyWarning(r *run.Runner) *earlyWarning {
	st, ok := r.Store.(alert.SQLStore)
	if !ok || r.Bus == nil || r.Matcher == nil {
		return nil
	}
	return &earlyWarning{store: st, js: r.Bus.JS, bus: r.Bus, replicas: r.Config.Replicas, matcher: r.Matcher,
		dir: catalogDir(r), now: time.Now, log: r.Log, listed: map[string]emerging.Group{}}
}

func (e *earlyWarning) dismissals(ctx context.Context) (*alert.Dismissals, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dis == nil {
		d, err := alert.OpenDismissals(ctx, e.js, e.replicas)
		if err != nil {
			return nil, err
		}
		e.dis = d
	}
	return e.dis, nil
}

// find runs the emerging query over [since, now] and remembers the groups.
func (e *earlyWarning) find(ctx context.Context, since time.Time) ([]emerging.Group, error) {
	dis, err := e.dismissals(ctx)
	if err != nil {
		return nil, err
	}
	now := e.now().UTC()
	e.mu.Lock()
	if e.last != nil && now.Sub(e.lastAt) < reuse && since.Sub(e.lastSince).Abs() < reuse {
		groups := e.last
		e.mu.Unlock()
		return groups, nil
	}
	e.mu.Unlock()
	opts := emerging.Options{Bridge: emerging.NewBridge(e.matcher.Catalog()), Limit: emergingGroups}
	groups, err := alert.Emerging(ctx, e.store, dis, since, now.Add(time.Second), opts)
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = []emerging.Group{}
	}
	e.mu.Lock()
	e.listed = make(map[string]emerging.Group, len(groups))
	for _, g := range groups {
		e.listed[g.ID] = g
	}
	e.last, e.lastSince, e.lastAt = groups, since, now
	e.mu.Unlock()
	return groups, nil
}

// group returns a group by id: one of those last listed, else one found
// in the default period.
func (e *earlyWarning) group(ctx context.Context, id string) (emerging.Group, error) {
	e.mu.Lock()
	g, ok := e.listed[id]
	e.mu.Unlock()
	if ok {
		return g, nil
	}
	groups, err := e.find(ctx, e.now().Add(-emergingWindow))
	if err != nil {
		return emerging.Group{}, err
	}
	for _, g := range groups {
		if g.ID == id {
			return g, nil
		}
	}
	return emerging.Group{}, fmt.Errorf("%w: %s", web.ErrNoSuchGroup, id)
}

// Groups lists the groups of items published since then.
func (e *earlyWarning) Groups(ctx context.Context, since time.Time) ([]web.EmergingGroup, error) {
	groups, err := e.find(ctx, since)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Items[:min(emergingSamples, len(g.Items))]...)
	}
	samples, err := e.samples(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]web.EmergingGroup, 0, len(groups))
	for _, g := range groups {
		v := web.EmergingGroup{ID: g.ID, Terms: g.Terms, Items: len(g.Items), FirstSeen: g.FirstSeen, LastSeen: g.LastSeen,
			Sources: g.Sources, Langs: g.Langs, Recent: g.Recent, Earlier: g.Earlier, Growth: g.Growth, Score: g.Score,
			Samples: []web.EmergingSample{}}
		for _, id := range g.Items[:min(emergingSamples, len(g.Items))] {
			if s, ok := samples[id]; ok {
				v.Samples = append(v.Samples, s)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// samples reads the titles of items in one query; an item without a title
// shows the start of its text.
func (e *earlyWarning) samples(ctx context.Context, ids []string) (map[string]web.EmergingSample, error) {
	out := map[string]web.EmergingSample{}
	if len(ids) == 0 {
		return out, nil
	}
	samples, err := e.store.ItemSamples(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("emerging: sample titles: %w", err)
	}
	for _, s := range samples {
		out[s.ID] = web.EmergingSample{ID: s.ID, Title: cut(s.Title, 160), Source: s.Source, Lang: s.Lang, Published: s.Published}
	}
	return out, nil
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Dismiss records a reviewer's decision that a group is not a rumour.
func (e *earlyWarning) Dismiss(ctx context.Context, id, reviewer, note string) error {
	g, err := e.group(ctx, id)
	if err != nil {
		return err
	}
	dis, err := e.dismissals(ctx)
	if err != nil {
		return err
	}
	if err := dis.Dismiss(ctx, g, reviewer, note, e.now()); err != nil {
		return err
	}
	e.forget(id)
	return nil
}

// forget drops a group that was dismissed or promoted, and the last run
// that listed it.
func (e *earlyWarning) forget(id string) {
	e.mu.Lock()
	delete(e.listed, id)
	e.last = nil
	e.mu.Unlock()
}

// Draft drafts a catalog entry from a group.
func (e *earlyWarning) Draft(ctx context.Context, id string) (web.DraftEntry, error) {
	g, err := e.group(ctx, id)
	if err != nil {
		return web.DraftEntry{}, err
	}
	return draftView(emerging.Draft(g)), nil
}

// draftView turns a catalog entry into the form's draft: its concepts in
// the order its first rule names them.
func draftView(c catalog.Entry) web.DraftEntry {
	d := web.DraftEntry{ID: c.ID, Title: c.Title, Meaning: c.Meaning, Responses: c.Responses}
	var names []string
	if len(c.Rules) > 0 {
		names = append(names, c.Rules[0].All...)
	}
	var rest []string
	for n := range c.Concepts {
		if !contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	for _, n := range append(names, rest...) {
		if t, ok := c.Concepts[n]; ok {
			d.Concepts = append(d.Concepts, web.DraftConcept{Name: n, Terms: t})
		}
	}
	return d
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Promote saves the edited entry in the catalog directory, swaps the
// catalog with it into the live matcher, publishes it in the catalog
// bucket for the other processes' matchers, and dismisses the group, whose
// items the new narrative now covers.
func (e *earlyWarning) Promote(ctx context.Context, id string, d web.DraftEntry, admin string) (string, error) {
	g, err := e.group(ctx, id)
	if err != nil {
		return "", err
	}
	entry := entryOf(d, emerging.Draft(g))
	if _, ok := e.matcher.Catalog().Get(entry.ID); ok {
		// Also catches a narrative promoted by another process.
		return "", fmt.Errorf("%w: %s", web.ErrNarrativeExists, entry.ID)
	}
	e.promote.Lock()
	_, err = emerging.Promote(ctx, e.dir, entry, e.matcher)
	if err == nil {
		err = e.share(ctx, entry)
	}
	e.promote.Unlock()
	switch {
	case errors.Is(err, emerging.ErrExists):
		return "", fmt.Errorf("%w: %s", web.ErrNarrativeExists, entry.ID)
	case errors.Is(err, catalog.ErrInvalid):
		return "", fmt.Errorf("%w: %s", web.ErrInvalidEntry, strings.ReplaceAll(err.Error(), "\n", "; "))
	case err != nil:
		return "", err
	}
	e.log.Info("narrative promoted", "narrative", entry.ID, "group", id, "admin", admin,
		"file", filepath.Join(e.dir, entry.ID+".yaml"), "catalog", e.matcher.Version())
	if dis, err := e.dismissals(ctx); err == nil {
		err = dis.Dismiss(ctx, g, admin, "promoted to "+entry.ID, e.now())
		if err != nil {
			e.log.Warn("promoted group not dismissed", "group", id, "err", err)
		}
	}
	e.forget(id)
	return entry.ID, nil
}

// share publishes a promoted entry in the catalog bucket, so every
// process's matcher picks it up. The file is already written and matched
// here: a failure is reported to the admin, who can promote again after
// the file is removed, or copy it to the other processes' catalog folders.
func (e *earlyWarning) share(ctx context.Context, entry catalog.Entry) error {
	if e.bus == nil {
		return nil
	}
	data, err := emerging.MarshalEntry(entry)
	if err != nil {
		return err
	}
	if err := run.PutCatalogEntry(ctx, e.bus, entry.ID, data); err != nil {
		return fmt.Errorf("promoted %s is matched by this process only: %w", entry.ID, err)
	}
	return nil
}

// entryOf builds the catalog entry of an edited draft: its texts and
// concepts, and the drafted rule (whole text, mission mentioned) over the
// concepts the admin kept.
func entryOf(d web.DraftEntry, drafted catalog.Entry) catalog.Entry {
	e := catalog.Entry{ID: d.ID, Title: d.Title, Meaning: d.Meaning, Responses: d.Responses, Concepts: map[string]catalog.Terms{}}
	var names []string
	for _, c := range d.Concepts {
		e.Concepts[c.Name] = catalog.Terms(c.Terms)
		names = append(names, c.Name)
	}
	e.Rules = emerging.RulesFor("promoted", names)
	return e
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/brief"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

func init() {
	register(&command{
		name:    "brief",
		summary: "write the disinformation brief for leadership or partners (--from 7d --audience internal|partner --out brief.html|brief.pdf)",
		run:     runBrief,
	})
}

// briefMaker computes, renders and keeps briefs for the CLI, the web app
// and the schedule.
type briefMaker struct {
	r  *run.Runner
	ew *earlyWarning // nil: no emerging rumours section
}

// briefRequest is one brief to make.
type briefRequest struct {
	From, To time.Time
	Mission  string
	Lang     string
	Audience brief.Audience
	By       string
}

// make computes the brief, renders it and keeps it in storage.
func (m *briefMaker) make(ctx context.Context, req briefRequest) (brief.Brief, []byte, error) {
	r := m.r
	if req.Lang == "" {
		req.Lang = "en"
	}
	if req.Audience == "" {
		req.Audience = brief.Internal
	}
	sensitive := map[string]bool{}
	for _, s := range r.Config.Briefs.SensitiveSources {
		sensitive[s] = true
	}
	o := brief.Options{From: req.From, To: req.To, Mission: req.Mission, Lang: req.Lang, Audience: req.Audience,
		Catalog: r.Matcher.Catalog(), Sensitive: sensitive, MinCount: r.Config.Briefs.MinCount,
		ModelVersion: r.Classifier.Version(), CatalogVersion: r.Matcher.Version()}
	if r.Bus != nil {
		if log, err := alert.OpenLog(ctx, r.Bus.JS, r.Config.Replicas); err == nil {
			recs, err := log.Recent(ctx, 1000)
			if err != nil {
				return brief.Brief{}, nil, err
			}
			for _, a := range recs {
				if a.At.Before(req.From) || !a.At.Before(req.To) || (req.Mission != "" && len(a.Missions) > 0 && !slices.Contains(a.Missions, req.Mission)) {
					continue
				}
				o.Alerts = append(o.Alerts, brief.AlertRow{Fired: a.At, Rule: a.Rule, Narrative: a.Narrative, Summary: a.Subject})
			}
		}
		o.Changes = append(o.Changes, catalogChanges(ctx, r, req)...)
		if reg, err := models.Open(ctx, r.Bus); err == nil {
			list, err := reg.List(ctx)
			if err != nil {
				return brief.Brief{}, nil, err
			}
			for _, e := range list {
				for _, p := range e.Promoted {
					if !p.At.Before(req.From) && p.At.Before(req.To) {
						o.Changes = append(o.Changes, modelChange(req.Lang, p))
					}
				}
			}
		}
	}
	if m.ew != nil {
		groups, err := m.ew.find(ctx, req.From)
		if err != nil {
			return brief.Brief{}, nil, err
		}
		for _, g := range groups {
			if g.FirstSeen.Before(req.To) {
				o.Emerging = append(o.Emerging, emergingRow(g))
			}
		}
	}
	b, err := brief.Compute(ctx, r.Store, o)
	if err != nil {
		return b, nil, err
	}
	var html bytes.Buffer
	if err := brief.Render(&html, b); err != nil {
		return b, nil, err
	}
	rec := storage.BriefRecord{ID: b.ID, Title: b.Title, From: b.From, To: b.To, Mission: b.Mission, Lang: b.Lang,
		Audience: string(b.Audience), MadeBy: req.By, Created: time.Now().UTC(), HTML: html.String()}
	if rec.Title == "" {
		rec.Title = briefTitle(b)
	}
	if err := r.Store.PutBrief(ctx, rec); err != nil {
		return b, nil, err
	}
	return b, html.Bytes(), nil
}

func briefTitle(b brief.Brief) string {
	m := b.Mission
	if m == "" {
		m = "all missions"
	}
	return fmt.Sprintf("%s brief, %s, %s to %s", b.Audience, m, b.From.Format(time.DateOnly), b.To.Format(time.DateOnly))
}

// catalogChanges names the narratives promoted into the catalog (the bus's
// catalog bucket) during the period.
func catalogChanges(ctx context.Context, r *run.Runner, req briefRequest) []string {
	kv, err := r.Bus.JS.KeyValue(ctx, bus.KVCatalog)
	if err != nil {
		return nil
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		return nil
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil || e.Created().Before(req.From) || !e.Created().Before(req.To) {
			continue
		}
		title := r.Matcher.Catalog().Title(k, req.Lang)
		if req.Lang == "fr" {
			out = append(out, fmt.Sprintf("Narratif « %s » (%s) ajouté au catalogue le %s", title, k, e.Created().UTC().Format("02/01/2006")))
		} else {
			out = append(out, fmt.Sprintf("Narrative “%s” (%s) added to the catalog on %s", title, k, e.Created().UTC().Format(time.DateOnly)))
		}
	}
	return out
}

func modelChange(lang string, p models.Promotion) string {
	if lang == "fr" {
		return fmt.Sprintf("Modèle %s activé (%s) par %s le %s", p.Version, p.Action, p.By, p.At.Format("02/01/2006"))
	}
	return fmt.Sprintf("Model %s made active (%s) by %s on %s", p.Version, p.Action, p.By, p.At.Format(time.DateOnly))
}

func emergingRow(g emerging.Group) brief.EmergingRow {
	label := strings.Join(g.Core, ", ")
	if label == "" && len(g.Terms) > 0 {
		label = strings.Join(g.Terms[:min(3, len(g.Terms))], ", ")
	}
	return brief.EmergingRow{Label: label, Terms: g.Terms[:min(8, len(g.Terms))], Items: len(g.Items), Sources: len(g.Sources)}
}

// writeBrief writes html, or the PDF printed from it, to path.
func writeBrief(ctx context.Context, path string, html []byte) error {
	data := html
	if strings.EqualFold(filepath.Ext(path), ".pdf") {
		pdf, err := brief.PDF(ctx, html)
		if err != nil {
			return err
		}
		data = pdf
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("brief: %w", err)
	}
	return nil
}

// parseWhen reads --from and --to: an age (7d, 12h), "now", or an RFC 3339
// time.
func parseWhen(name, v string, now time.Time) (time.Time, error) {
	if v == "" || v == "now" || v == "0" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	d, err := config.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%w: --%s %q: want an age (7d, 12h), now, or a time such as 2026-11-30T00:00:00Z", errUsage, name, v)
	}
	return now.Add(-d), nil
}

func runBrief(ctx context.Context, args []string) error {
	fs := newFlags("brief")
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	fromFlag := fs.String("from", "7d", "start of the period: an age (7d), or an RFC 3339 time")
	toFlag := fs.String("to", "now", "end of the period: now, an age, or an RFC 3339 time")
	mission := fs.String("mission", "", "mission (default: all)")
	lang := fs.String("lang", "en", "language of the brief: en or fr")
	audience := fs.String("audience", "internal", "internal (everything) or partner (confirmed flags only, aggregated)")
	out := fs.String("out", "brief.html", "where to write it: FILE.html, or FILE.pdf (needs Chromium)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now().UTC()
	from, err := parseWhen("from", *fromFlag, now)
	if err != nil {
		return err
	}
	to, err := parseWhen("to", *toFlag, now)
	if err != nil {
		return err
	}
	if *lang != "en" && *lang != "fr" {
		return fmt.Errorf("%w: --lang %q: want en or fr", errUsage, *lang)
	}
	if a := brief.Audience(*audience); a != brief.Internal && a != brief.Partner {
		return fmt.Errorf("%w: --audience %q: want internal or partner", errUsage, *audience)
	}
	cfg, err := config.Load(*cfgPath, isSet(fs, "config"))
	if err != nil {
		return err
	}
	r, err := run.OpenAll(ctx, cfg, "brief")
	if err != nil {
		return err
	}
	defer r.Close()
	m := &briefMaker{r: r, ew: newEarlyWarning(r)}
	b, html, err := m.make(ctx, briefRequest{From: from, To: to, Mission: *mission, Lang: *lang, Audience: brief.Audience(*audience), By: cliUser()})
	if err != nil {
		return err
	}
	if err := writeBrief(ctx, *out, html); err != nil {
		if errors.Is(err, brief.ErrNoChromium) {
			return fmt.Errorf("%w (the brief is kept in storage as %s)", err, b.ID)
		}
		return err
	}
	fmt.Printf("wrote %s: %s brief, %d flags in %d narratives (kept as %s)\n", *out, b.Audience, b.Headline.Flags, len(b.Narratives), b.ID)
	return nil
}

// scheduleMaker makes a scheduled brief: kept, then sent by e-mail (the
// HTML attached) and to the webhook (a link to the Briefs page).
func (m *briefMaker) scheduled(courier *alert.Courier) func(ctx context.Context, s config.BriefSchedule, from, to time.Time) error {
	return func(ctx context.Context, s config.BriefSchedule, from, to time.Time) error {
		b, html, err := m.make(ctx, briefRequest{From: from, To: to, Mission: s.Mission, Lang: s.Lang, Audience: brief.Audience(s.Audience), By: "schedule:" + s.Name})
		if err != nil {
			return err
		}
		title := briefTitle(b)
		link := strings.TrimSuffix(m.r.Config.Alerts.BaseURL, "/") + "/briefs/" + b.ID
		text := fmt.Sprintf("%s\n%d flags in %d narratives. Read it: %s", title, b.Headline.Flags, len(b.Narratives), link)
		var errs []error
		if len(s.Email) > 0 {
			errs = append(errs, courier.Email(ctx, s.Email, "[Veille] "+title, text,
				alert.Attachment{Name: b.ID + ".html", ContentType: "text/html; charset=utf-8", Data: html}))
		}
		if s.Webhook != "" {
			errs = append(errs, courier.Webhook(ctx, s.Webhook, "[Veille] "+title, text))
		}
		if err := errors.Join(errs...); err != nil {
			// Kept in storage all the same: listed on the Briefs page.
			slog.Error("brief delivery failed", "schedule", s.Name, "brief", b.ID, "err", err)
		}
		return nil
	}
}

// briefPages is the web app's view of briefs.
type briefPages struct{ m *briefMaker }

func (p briefPages) Make(ctx context.Context, req web.BriefRequest) (string, error) {
	b, _, err := p.m.make(ctx, briefRequest{From: req.From, To: req.To, Mission: req.Mission, Lang: req.Lang, Audience: brief.Audience(req.Audience), By: req.By})
	if errors.Is(err, brief.ErrInvalid) {
		return "", fmt.Errorf("%w: %v", web.ErrBadBrief, err)
	}
	return b.ID, err
}

func (p briefPages) PDF(ctx context.Context, html []byte) ([]byte, error) {
	pdf, err := brief.PDF(ctx, html)
	if errors.Is(err, brief.ErrNoChromium) {
		return nil, web.ErrNoPDF
	}
	return pdf, err
}

// cliUser names who runs a command, for what it records.
func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "command line"
}

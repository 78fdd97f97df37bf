package alert

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
)

// Subject is where alerts are published (stream VEILLE_ALERTS).
const Subject = "veille.alerts"

// Options configure an Engine. Querier, JS and Rules are required.
type Options struct {
	Rules   []config.AlertRule
	Querier Querier
	// JS holds the state and log buckets and publishes alerts.
	JS       jetstream.JetStream
	Replicas int
	// Titles names a narrative in a language (e.g. catalog.Title); the id
	// is used when nil.
	Titles func(id, lang string) string
	// BaseURL is the web app's public URL for review-queue links.
	BaseURL string
	// Webhook is the default for rules that name none.
	Webhook string
	// Allow is the private-address allow-list (fetch.allow).
	Allow []string
	// SMTP is smtp://[user[:password]@]host[:port]; SMTPPassword, when set,
	// replaces the URL's password. From is the sender address.
	SMTP, SMTPPassword, From string
	// SMTPTLS overrides the STARTTLS client config (tests trust their own
	// certificate with it).
	SMTPTLS *tls.Config
	// Interval between evaluations in Run (default 5m).
	Interval time.Duration
	// Retries is how many times each delivery is tried (default 6); Backoff
	// the first wait between tries, doubled up to MaxBackoff (defaults 5s
	// and 5m).
	Retries             int
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one webhook or SMTP attempt (default 20s).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Engine evaluates the rules on a schedule and delivers the alerts.
type Engine struct {
	o      Options
	rules  []rule
	state  jetstream.KeyValue
	log    *Log
	hook   *webhook
	mail   *mailer
	mu     sync.Mutex // serialises evaluations
	wg     sync.WaitGroup
	active sync.Map // alert id → struct{}: deliveries in flight
}

// FromConfig builds the options of the engine from veille.yaml; the SMTP
// password comes from VEILLE_SMTP_PASSWORD when set.
func FromConfig(cfg config.Config, q Querier, js jetstream.JetStream, titles func(id, lang string) string) Options {
	a := cfg.Alerts
	return Options{
		Rules: a.Rules, Querier: q, JS: js, Replicas: cfg.Replicas, Titles: titles,
		BaseURL: a.BaseURL, Webhook: a.Webhook, Allow: cfg.Fetch.Allow,
		SMTP: a.SMTP, SMTPPassword: os.Getenv("VEILLE_SMTP_PASSWORD"), From: a.From,
		Interval: time.Duration(a.Interval), Retries: a.Retries, Backoff: time.Duration(a.Backoff),
	}
}

// New checks the rules, opens the buckets and returns an engine.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.Querier == nil || o.JS == nil {
		return nil, errors.New("alert: engine needs a querier and JetStream")
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Minute
	}
	if o.Retries <= 0 {
		o.Retries = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Titles == nil {
		o.Titles = func(id, _ string) string { return id }
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	rules, err := compileRules(o.Rules)
	if err != nil {
		return nil, err
	}
	g, err := newGuard(o.Allow)
	if err != nil {
		return nil, err
	}
	e := &Engine{o: o, rules: rules, hook: newWebhook(g, o.Timeout)}
	for _, r := range rules {
		if len(r.Email) > 0 && o.SMTP == "" {
			return nil, fmt.Errorf("%w: rule %q has email recipients but alerts.smtp is not set", ErrRule, r.Name)
		}
	}
	if o.SMTP != "" {
		if e.mail, err = newMailer(o.SMTP, o.SMTPPassword, o.From, o.SMTPTLS, o.Timeout); err != nil {
			return nil, err
		}
	}
	if e.state, err = openBucket(ctx, o.JS, BucketState, o.Replicas, 0); err != nil {
		return nil, err
	}
	if e.log, err = OpenLog(ctx, o.JS, o.Replicas); err != nil {
		return nil, err
	}
	return e, nil
}

// Log returns the alert log (for listing).
func (e *Engine) Log() *Log { return e.log }

// Run resumes deliveries left pending by a previous run, then evaluates the
// rules at once and every Interval until ctx ends; it waits for deliveries
// in flight before returning (those cut short stay pending for the next
// run).
func (e *Engine) Run(ctx context.Context) error {
	defer e.wg.Wait()
	if err := e.Resume(ctx); err != nil {
		e.o.Logger.Warn("alert: resume pending deliveries", "err", err)
	}
	t := time.NewTicker(e.o.Interval)
	defer t.Stop()
	for {
		if _, err := e.Evaluate(ctx, e.o.Now()); err != nil && ctx.Err() == nil {
			e.o.Logger.Error("alert: evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Wait blocks until every delivery started so far has finished.
func (e *Engine) Wait() { e.wg.Wait() }

// Resume restarts the deliveries of alerts still pending in the log.
func (e *Engine) Resume(ctx context.Context) error {
	pending, err := e.log.Pending(ctx)
	if err != nil {
		return err
	}
	for i := range pending {
		rec := pending[i]
		e.deliverAsync(ctx, &rec)
	}
	return nil
}

// Evaluate checks every rule at now, records and starts delivering the
// alerts due, and returns them. Deliveries go on in the background (see
// Wait) with ctx.
func (e *Engine) Evaluate(ctx context.Context, now time.Time) ([]Record, error) {
	recs, err := e.evaluate(ctx, now, false)
	metrics.evaluations.Inc()
	if err != nil {
		metrics.evalErrors.Inc()
	}
	return recs, err
}

// Check evaluates the rules at now as Evaluate would, but records, sends
// and remembers nothing: a dry run for tuning rules.
func (e *Engine) Check(ctx context.Context, now time.Time) ([]Record, error) {
	return e.evaluate(ctx, now, true)
}

func (e *Engine) evaluate(ctx context.Context, now time.Time, dry bool) ([]Record, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Record
	var errs []error
	for i := range e.rules {
		recs, err := e.evaluateRule(ctx, &e.rules[i], now, dry)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, recs...)
	}
	return out, errors.Join(errs...)
}

func (e *Engine) evaluateRule(ctx context.Context, r *rule, now time.Time, dry bool) ([]Record, error) {
	if r.Kind == RulePrecision {
		return e.evaluatePrecision(ctx, r, now, dry)
	}
	rows, err := e.o.Querier.Rising(ctx, storage.RisingQuery{Filter: r.filter(), Now: now, Window: r.window, Baseline: r.baseline})
	if err != nil {
		return nil, fmt.Errorf("alert: rule %q: %w", r.Name, err)
	}
	var out []Record
	for _, row := range rows {
		if !r.fires(row) {
			continue
		}
		key := stateKey(r.Name, row.Narrative)
		var st surge
		if _, err := getJSON(ctx, e.state, key, &st); err != nil {
			return out, err
		}
		kind := ""
		switch {
		case st.LastAt.IsZero() || now.Sub(st.LastAt) >= r.cooldown:
			kind = KindNew
		case st.Updates < r.maxUpdates && r.grew(row.Recent, st.Recent):
			kind = KindUpdate
		default:
			continue
		}
		rec, err := e.build(ctx, r, row, now, kind, &st)
		if err != nil {
			return out, err
		}
		if dry {
			out = append(out, rec)
			continue
		}
		// The log first, then the state: a crash in between re-alerts at
		// worst; the other way round it could lose an alert.
		if err := e.log.Put(ctx, &rec); err != nil {
			return out, err
		}
		if kind == KindNew {
			st = surge{Rule: r.Name, Narrative: row.Narrative, First: rec.ID, Since: rec.Since}
		} else {
			st.Updates++
		}
		st.Last, st.LastAt, st.Recent = rec.ID, now, row.Recent
		if err := putJSON(ctx, e.state, key, &st); err != nil {
			return out, err
		}
		e.o.Logger.Info("alert", "id", rec.ID, "kind", kind, "rule", r.Name, "narrative", row.Narrative, "recent", row.Recent, "factor", row.Factor)
		metrics.alerts.WithLabelValues(kind).Inc()
		out = append(out, rec)
		e.deliverAsync(ctx, &rec)
	}
	return out, nil
}

// evaluatePrecision fires, at most once per cooldown and narrative, when
// the share of a narrative's reviewed flags that reviewers confirmed over
// the window is below the rule's minimum, with enough reviewed flags to
// judge.
func (e *Engine) evaluatePrecision(ctx context.Context, r *rule, now time.Time, dry bool) ([]Record, error) {
	rows, err := e.o.Querier.Precision(ctx, now.Add(-r.window), now)
	if err != nil {
		return nil, fmt.Errorf("alert: rule %q: %w", r.Name, err)
	}
	type tally struct{ reviewed, confirmed int64 }
	by := map[string]*tally{}
	var order []string
	for _, p := range rows {
		if (len(r.Narratives) > 0 && !slices.Contains(r.Narratives, p.Narrative)) || (len(r.Langs) > 0 && !slices.Contains(r.Langs, p.Lang)) {
			continue
		}
		t := by[p.Narrative]
		if t == nil {
			t = &tally{}
			by[p.Narrative] = t
			order = append(order, p.Narrative)
		}
		t.reviewed += int64(p.Reviewed)
		t.confirmed += int64(p.Confirmed)
	}
	sort.Strings(order)
	var out []Record
	for _, n := range order {
		t := by[n]
		prec := float64(t.confirmed) / float64(max(t.reviewed, 1))
		if t.reviewed < int64(r.MinReviewed) || prec >= r.MinPrecision {
			continue
		}
		key := stateKey(r.Name, n)
		var st surge
		if _, err := getJSON(ctx, e.state, key, &st); err != nil {
			return out, err
		}
		if !st.LastAt.IsZero() && now.Sub(st.LastAt) < r.cooldown {
			continue
		}
		rec := Record{ID: alertID(r.Name, n, now), Kind: KindPrecision, Rule: r.Name, Narrative: n, Title: e.o.Titles(n, r.Lang), Lang: r.Lang,
			At: now.UTC(), Since: now.Add(-r.window).UTC(), Window: int64(r.window / time.Second), Reviewed: t.reviewed, Confirmed: t.confirmed,
			Precision: prec, MinPrecision: r.MinPrecision, Langs: r.Langs, Items: []Item{}, ReviewURL: reviewURL(e.o.BaseURL, r, n)}
		renderPrecision(&rec)
		rec.Deliveries = []Delivery{{Channel: ChannelNATS, Target: Subject, Status: StatusPending}}
		if hook := firstNonEmpty(r.Webhook, e.o.Webhook); hook != "" {
			rec.Deliveries = append(rec.Deliveries, Delivery{Channel: ChannelWebhook, Target: webhookTarget(hook), Status: StatusPending})
		}
		if len(r.Email) > 0 {
			rec.Deliveries = append(rec.Deliveries, Delivery{Channel: ChannelEmail, Target: strings.Join(r.Email, ", "), Status: StatusPending})
		}
		if dry {
			out = append(out, rec)
			continue
		}
		if err := e.log.Put(ctx, &rec); err != nil {
			return out, err
		}
		st = surge{Rule: r.Name, Narrative: n, First: rec.ID, Since: rec.Since, Last: rec.ID, LastAt: now}
		if err := putJSON(ctx, e.state, key, &st); err != nil {
			return out, err
		}
		e.o.Logger.Info("alert", "id", rec.ID, "kind", KindPrecision, "rule", r.Name, "narrative", n, "reviewed", t.reviewed, "precision", prec)
		metrics.alerts.WithLabelValues(KindPrecision).Inc()
		out = append(out, rec)
		e.deliverAsync(ctx, &rec)
	}
	return out, nil
}

func alertID(ruleName, narrative string, at time.Time) string {
	sum := sha256.Sum256([]byte(ruleName + "\x00" + narrative + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	return "a-" + hex.EncodeToString(sum[:8])
}

// build assembles an alert: counts, the three most telling items of the
// window (highest score, one flag per item), the review link, the text.
func (e *Engine) build(ctx context.Context, r *rule, row storage.RisingRow, now time.Time, kind string, st *surge) (Record, error) {
	rec := Record{
		ID: alertID(r.Name, row.Narrative, now), Kind: kind, Rule: r.Name, Narrative: row.Narrative,
		Title: e.o.Titles(row.Narrative, r.Lang), Lang: r.Lang, At: now.UTC(),
		Window: int64(r.window / time.Second), Recent: row.Recent, Baseline: row.Baseline, Factor: row.Factor,
		Threshold: r.Threshold, MinFactor: r.Factor, Missions: r.Missions, Langs: r.Langs, Sources: r.Sources,
		ReviewURL: reviewURL(e.o.BaseURL, r, row.Narrative),
	}
	f := r.filter()
	f.Narratives = []string{row.Narrative}
	f.Since, f.Until = now.Add(-r.window), now
	rows, err := e.o.Querier.Queue(ctx, storage.QueueQuery{Filter: f, Limit: 1000})
	if err != nil {
		return rec, fmt.Errorf("alert: rule %q: items of %s: %w", r.Name, row.Narrative, err)
	}
	rec.Since = f.Since
	var first time.Time
	best := map[string]storage.QueueRow{}
	for _, q := range rows {
		if p := q.Flag.Published; !p.IsZero() && (first.IsZero() || p.Before(first)) {
			first = p
		}
		if b, ok := best[q.Flag.ItemID]; !ok || q.Flag.Score > b.Flag.Score {
			best[q.Flag.ItemID] = q
		}
	}
	if !first.IsZero() {
		rec.Since = first.UTC()
	}
	if kind == KindUpdate {
		rec.Of, rec.Previous, rec.Since = st.First, st.Recent, st.Since
	}
	top := make([]storage.QueueRow, 0, len(best))
	for _, q := range best {
		top = append(top, q)
	}
	sort.Slice(top, func(i, j int) bool {
		a, b := top[i].Flag, top[j].Flag
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.ItemID < b.ItemID
	})
	for _, q := range top[:min(3, len(top))] {
		it := Item{ID: q.Flag.ItemID, Title: q.Title, URL: q.URL, Source: q.Flag.Source, Lang: q.Flag.Lang,
			Mission: q.Flag.Mission, Published: q.Flag.Published.UTC(), Stance: q.Flag.Stance, Score: q.Flag.Score, Evidence: []string{}}
		for _, ev := range q.Flag.Evidence[:min(2, len(q.Flag.Evidence))] {
			it.Evidence = append(it.Evidence, ev.Text)
		}
		rec.Items = append(rec.Items, it)
	}
	if rec.Items == nil {
		rec.Items = []Item{}
	}
	render(&rec, r, st.LastAt)
	rec.Deliveries = []Delivery{{Channel: ChannelNATS, Target: Subject, Status: StatusPending}}
	if hook := firstNonEmpty(r.Webhook, e.o.Webhook); hook != "" {
		rec.Deliveries = append(rec.Deliveries, Delivery{Channel: ChannelWebhook, Target: webhookTarget(hook), Status: StatusPending})
	}
	if len(r.Email) > 0 {
		rec.Deliveries = append(rec.Deliveries, Delivery{Channel: ChannelEmail, Target: strings.Join(r.Email, ", "), Status: StatusPending})
	}
	return rec, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (e *Engine) ruleByName(name string) *rule {
	for i := range e.rules {
		if e.rules[i].Name == name {
			return &e.rules[i]
		}
	}
	return nil
}

// deliverAsync delivers rec on each pending channel, each in its own
// goroutine with retries; every attempt's outcome is written to the log.
func (e *Engine) deliverAsync(ctx context.Context, rec *Record) {
	if _, busy := e.active.LoadOrStore(rec.ID, struct{}{}); busy {
		return
	}
	var mu sync.Mutex // guards rec between the channel goroutines
	var chans sync.WaitGroup
	for i := range rec.Deliveries {
		if rec.Deliveries[i].Status != StatusPending {
			continue
		}
		send, err := e.sender(rec, rec.Deliveries[i].Channel)
		if err != nil {
			mu.Lock()
			rec.Deliveries[i].Status, rec.Deliveries[i].LastError = StatusFailed, err.Error()
			mu.Unlock()
			continue
		}
		chans.Add(1)
		e.wg.Add(1)
		go func(i int) {
			defer e.wg.Done()
			defer chans.Done()
			e.retry(ctx, rec, i, &mu, send)
		}(i)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		chans.Wait()
		e.active.Delete(rec.ID)
		mu.Lock()
		defer mu.Unlock()
		// A failure to save here leaves the record pending: resumed later.
		_ = e.log.Put(context.WithoutCancel(ctx), rec)
	}()
}

func (e *Engine) sender(rec *Record, channel string) (func(context.Context) error, error) {
	switch channel {
	case ChannelNATS:
		data, err := json.Marshal(withoutDeliveries(rec))
		if err != nil {
			return nil, fmt.Errorf("alert: encode %s: %w", rec.ID, err)
		}
		return func(ctx context.Context) error {
			if _, err := e.o.JS.Publish(ctx, Subject, data, jetstream.WithMsgID(rec.ID)); err != nil {
				return fmt.Errorf("alert: publish %s: %w", Subject, err)
			}
			return nil
		}, nil
	case ChannelWebhook:
		hook := e.o.Webhook
		if r := e.ruleByName(rec.Rule); r != nil && r.Webhook != "" {
			hook = r.Webhook
		}
		if hook == "" {
			return nil, fmt.Errorf("alert: rule %q: no webhook configured any more", rec.Rule)
		}
		return func(ctx context.Context) error { return e.hook.send(ctx, hook, rec) }, nil
	case ChannelEmail:
		r := e.ruleByName(rec.Rule)
		if e.mail == nil || r == nil || len(r.Email) == 0 {
			return nil, fmt.Errorf("alert: rule %q: no email recipients or smtp configured any more", rec.Rule)
		}
		to := append([]string(nil), r.Email...)
		return func(ctx context.Context) error { return e.mail.send(ctx, to, rec) }, nil
	}
	return nil, fmt.Errorf("alert: unknown channel %q", channel)
}

// retry tries send up to Retries times with doubling backoff, recording
// each attempt. When ctx ends first the delivery stays pending.
func (e *Engine) retry(ctx context.Context, rec *Record, i int, mu *sync.Mutex, send func(context.Context) error) {
	wait := e.o.Backoff
	for {
		mu.Lock()
		if d := &rec.Deliveries[i]; d.Attempts >= e.o.Retries {
			// Resumed with its tries used up (Retries was lowered): settle it.
			d.Status = StatusFailed
			if d.LastError == "" {
				d.LastError = "no tries left"
			}
			mu.Unlock()
			return
		}
		mu.Unlock()
		actx, cancel := context.WithTimeout(ctx, e.o.Timeout)
		err := send(actx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		d := &rec.Deliveries[i]
		d.Attempts++
		d.At = e.o.Now().UTC()
		switch {
		case err == nil:
			d.Status, d.LastError = StatusSent, ""
			metrics.attempts.WithLabelValues(d.Channel, "sent").Inc()
		case d.Attempts >= e.o.Retries:
			d.Status, d.LastError = StatusFailed, err.Error()
			metrics.attempts.WithLabelValues(d.Channel, "failed").Inc()
			e.o.Logger.Error("alert: delivery failed", "id", rec.ID, "channel", d.Channel, "target", d.Target, "attempts", d.Attempts, "err", err)
		default:
			d.LastError = err.Error()
			metrics.attempts.WithLabelValues(d.Channel, "retry").Inc()
			e.o.Logger.Warn("alert: delivery failed, will retry", "id", rec.ID, "channel", d.Channel, "target", d.Target, "attempts", d.Attempts, "in", wait, "err", err)
		}
		done := d.Status != StatusPending
		saveErr := e.log.Put(ctx, rec)
		mu.Unlock()
		if saveErr != nil {
			e.o.Logger.Warn("alert: record delivery status", "id", rec.ID, "err", saveErr)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, e.o.MaxBackoff)
	}
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/pipeline/parse"
	"github.com/veille-project/veille/pipeline/parse/exports"
	"github.com/veille-project/veille/pipeline/pseudonym"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
)

// PublishFunc hands one new item to the bus. An error leaves the item
// unseen, so the next poll offers it again.
type PublishFunc func(ctx context.Context, it domain.Item) error

// PollerOptions tune a Poller; zero values take the defaults.
type PollerOptions struct {
	Logger *slog.Logger
	// OnHealth is called after every poll of a source with its new record.
	OnHealth func(SourceHealth)
	// Concurrency bounds the sources PollOnce polls at once (default 8);
	// the Fetcher's per-host limit applies on top.
	Concurrency int
	// DefaultInterval applies to sources without one (default 15m).
	DefaultInterval time.Duration
	// MaxBackoff caps the delay after repeated failures (default 6h); a
	// longer Retry-After from the server is still honoured, up to 24h.
	MaxBackoff time.Duration
	// Settle is passed to ReadTranscriptDir (default 5s).
	Settle time.Duration
	// Forget drops ids not seen in any feed for this long (default 30d).
	Forget time.Duration
	// TranscriptAttempts is how many polls retry a failing transcript
	// before it is given up (default 3).
	TranscriptAttempts int
	// MaxPerPoll caps the new items one source publishes in one poll
	// (default 500), MaxPerHour in any hour (default 2000). Items over
	// either cap are not marked seen: the next poll offers them again, so
	// a flooding feed is slowed, never lost, and cannot crowd out others.
	MaxPerPoll int
	MaxPerHour int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Authors hashes the people items name (post signatures, chat
	// senders); nil keeps no author at all.
	Authors *pseudonym.Hasher
	// Exports tunes how exports-dir files are read (the CSV header map).
	Exports exports.Options
}

// Poller polls sources, suppresses duplicates and publishes new items. It
// remembers per URL the conditional-GET validators and per item whether it
// was published; that memory lives as long as the Poller (after a restart
// the bus's Nats-Msg-Id window and the store's idempotent writes absorb
// the re-publication). Safe for concurrent use.
type Poller struct {
	f    *fetch.Fetcher
	opts PollerOptions
	log  *slog.Logger

	mu          sync.Mutex
	seen        map[string]time.Time // item id → last seen in a source
	byURL       map[string]mark      // normalised item URL → owner
	byHash      map[string]mark      // content hash → owner
	validators  map[string]fetch.Validators
	health      map[string]*SourceHealth
	published   map[string][]time.Time // per source, last 24h
	tFailures   map[string]int         // transcript URL → failed attempts
	failedFiles map[string]FileError   // transcripts-dir file id → failed version
	tgLast      map[string]int64       // telegram source → newest post id published
	exportFiles map[string]exportFile  // exports-dir source and file → version read
	lastPrune   time.Time
	retryAfters map[string]time.Duration
}

type mark struct {
	id string
	at time.Time
}

// NewPoller returns a Poller fetching through f.
func NewPoller(f *fetch.Fetcher, opts PollerOptions) *Poller {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.DefaultInterval <= 0 {
		opts.DefaultInterval = 15 * time.Minute
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 6 * time.Hour
	}
	if opts.Forget <= 0 {
		opts.Forget = 30 * 24 * time.Hour
	}
	if opts.TranscriptAttempts <= 0 {
		opts.TranscriptAttempts = 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPerPoll <= 0 {
		opts.MaxPerPoll = 500
	}
	if opts.MaxPerHour <= 0 {
		opts.MaxPerHour = 2000
	}
	return &Poller{
		f: f, opts: opts, log: opts.Logger,
		seen: map[string]time.Time{}, byURL: map[string]mark{}, byHash: map[string]mark{},
		validators: map[string]fetch.Validators{}, health: map[string]*SourceHealth{},
		published: map[string][]time.Time{}, tFailures: map[string]int{}, failedFiles: map[string]FileError{}, tgLast: map[string]int64{},
		exportFiles: map[string]exportFile{},
		retryAfters: map[string]time.Duration{},
	}
}

// Health returns every polled source's record, sorted by name.
func (p *Poller) Health() []SourceHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	out := make([]SourceHealth, 0, len(p.health))
	for name, h := range p.health {
		c := *h
		c.ItemsLastDay = countSince(p.published[name], now.Add(-24*time.Hour))
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// PollOnce polls every unpaused source once, at most Concurrency at a
// time, and returns when all are done. One source failing never stops the
// others; the returned error joins the per-source errors (each names its
// source), which are also in Health.
func (p *Poller) PollOnce(ctx context.Context, sources []config.Source, publish PublishFunc) error {
	sem := make(chan struct{}, p.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, src := range sources {
		if src.Paused {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := p.PollSource(ctx, src, publish); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Run polls each unpaused source on its own jittered schedule, backing off
// exponentially after failures and honouring Retry-After, until ctx ends;
// then it returns nil.
func (p *Poller) Run(ctx context.Context, sources []config.Source, publish PublishFunc) error {
	var wg sync.WaitGroup
	for _, src := range sources {
		if src.Paused {
			continue
		}
		wg.Go(func() { p.loop(ctx, src, publish) })
	}
	wg.Wait()
	return nil
}

func (p *Poller) interval(src config.Source) time.Duration {
	if d := time.Duration(src.Interval); d > 0 {
		return d
	}
	return p.opts.DefaultInterval
}

func (p *Poller) loop(ctx context.Context, src config.Source, publish PublishFunc) {
	// Spread the first polls so a restart does not hit every feed at once.
	first := time.Duration(rand.Int64N(int64(min(p.interval(src), 30*time.Second)) + 1))
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, delay, _ := p.pollSource(ctx, src, publish, true)
		if ctx.Err() != nil {
			return
		}
		t.Reset(delay)
	}
}

// NextDelay is the wait before src's next poll: its interval ±10% after a
// success; after n consecutive failures interval·2^(n-1), capped at
// MaxBackoff, and never less than the server's Retry-After (≤ 24h).
func (p *Poller) NextDelay(src config.Source, lastErr error) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nextDelayLocked(src, lastErr)
}

func (p *Poller) nextDelayLocked(src config.Source, lastErr error) time.Duration {
	iv := p.interval(src)
	fails := 0
	if h := p.health[src.Name]; h != nil {
		fails = h.ConsecutiveFailures
	}
	retry := p.retryAfters[src.Name]
	d := iv
	if lastErr != nil && fails > 0 {
		d = iv << min(fails-1, 16)
		if d <= 0 || d > p.opts.MaxBackoff {
			d = p.opts.MaxBackoff
		}
	}
	d = jitter(d, 0.1)
	if retry > d {
		d = min(retry, 24*time.Hour)
	}
	return d
}

func jitter(d time.Duration, frac float64) time.Duration {
	span := int64(float64(d) * frac)
	if span <= 0 {
		return d
	}
	return d - time.Duration(span) + time.Duration(rand.Int64N(2*span+1))
}

// PollResult says what one poll of a source did.
type PollResult struct {
	Format     string
	Entries    int // entries or files found
	Published  int
	Duplicates int
	// Deferred counts new items held back by MaxPerPoll or MaxPerHour;
	// they are offered again next poll.
	Deferred    int
	NotModified bool
	Warnings    []string
}

// PollSource polls one source now and publishes its new items. The error,
// if any, names the source; the health record is updated either way.
func (p *Poller) PollSource(ctx context.Context, src config.Source, publish PublishFunc) (PollResult, error) {
	res, _, err := p.pollSource(ctx, src, publish, false)
	return res, err
}

// pollSource polls src; when scheduled it also sets the next poll time in
// the health record before OnHealth sees it, and returns the delay.
func (p *Poller) pollSource(ctx context.Context, src config.Source, publish PublishFunc, scheduled bool) (PollResult, time.Duration, error) {
	start := p.opts.Now()
	p.mu.Lock()
	if p.health[src.Name] == nil {
		p.health[src.Name] = &SourceHealth{Source: src.Name, Kind: src.Kind, URL: redactURL(src.URL)}
	}
	p.mu.Unlock()
	res, status, err := p.poll(ctx, src, publish)
	if err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), src.Name) {
		err = &sourceError{src.Name, err}
	}
	delay := p.record(src, start, res, status, err, scheduled)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("ingest: poll failed", "source", src.Name, "err", err)
	} else if err == nil {
		p.log.Debug("ingest: polled", "source", src.Name, "format", res.Format,
			"entries", res.Entries, "published", res.Published, "duplicates", res.Duplicates,
			"not_modified", res.NotModified)
	}
	return res, delay, err
}

func (p *Poller) poll(ctx context.Context, src config.Source, publish PublishFunc) (PollResult, int, error) {
	now := p.opts.Now()
	var res PollResult
	switch src.Kind {
	case "telegram":
		return p.pollTelegram(ctx, src, publish)
	case "exports-dir":
		return p.pollExportsDir(ctx, src, publish)
	}
	if src.Kind == "transcripts-dir" {
		res.Format = "transcripts-dir"
		items, dirErr := ReadTranscriptDir(ctx, src, DirOptions{
			Settle: p.opts.Settle, Now: p.opts.Now,
			Skip: func(id string, info os.FileInfo) bool {
				p.mu.Lock()
				defer p.mu.Unlock()
				if _, ok := p.seen[id]; ok {
					return true
				}
				f, failed := p.failedFiles[id]
				return failed && f.ModTime.Equal(info.ModTime()) && f.Size == info.Size()
			},
		})
		res.Entries = len(items)
		for _, it := range items {
			if err := p.offer(ctx, it, publish, &res); err != nil {
				return res, 0, err
			}
		}
		// A broken file is reported once per version of it, and does
		// not hold back the folder's schedule.
		var fe *FileError
		for _, e := range unwrapJoined(dirErr) {
			if errors.As(e, &fe) {
				p.mu.Lock()
				p.failedFiles[fe.ID] = *fe
				p.mu.Unlock()
			}
		}
		if dirErr != nil {
			dirErr = &EntryErrors{Err: dirErr}
		}
		return res, 0, dirErr
	}

	p.mu.Lock()
	v := p.validators[src.URL]
	p.mu.Unlock()
	resp, err := p.f.GetConditional(ctx, src.URL, v)
	if err != nil {
		var se *fetch.StatusError
		if errors.As(err, &se) {
			p.mu.Lock()
			p.retryAfters[src.Name] = se.RetryAfter
			p.mu.Unlock()
			return res, se.Code, err
		}
		return res, 0, err
	}
	p.mu.Lock()
	p.retryAfters[src.Name] = 0
	p.mu.Unlock()
	if resp.NotModified {
		res.NotModified = true
		return res, resp.StatusCode, nil
	}
	feed, err := parse.ParseFeed(resp.Body, resp.ContentType, src, now)
	if err != nil {
		return res, resp.StatusCode, err
	}
	res.Format, res.Entries, res.Warnings = feed.Format, len(feed.Entries), feed.Warnings

	var errs []error
	for _, e := range feed.Entries {
		if err := p.offer(ctx, e.Item, publish, &res); err != nil {
			return res, resp.StatusCode, err
		}
		if src.Kind != "podcast" || len(e.Transcripts) == 0 {
			continue
		}
		if err := p.transcript(ctx, src, feed, e, publish, &res, now); err != nil {
			if ctx.Err() != nil {
				return res, resp.StatusCode, err
			}
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && res.Deferred == 0 {
		// Only now is the document fully handled: a 304 next time must not
		// hide an item whose publication failed or was deferred.
		p.mu.Lock()
		p.validators[src.URL] = resp.Validators
		p.mu.Unlock()
	}
	if len(errs) > 0 {
		return res, resp.StatusCode, &EntryErrors{Err: errors.Join(errs...)}
	}
	return res, resp.StatusCode, nil
}

// sourceError names the source a poll failed for, once: "ingest: source
// "x": GET …", not "ingest: source "x": ingest: GET …".
type sourceError struct {
	name string
	err  error
}

func (e *sourceError) Error() string {
	return fmt.Sprintf("ingest: source %q: %s", e.name, strings.TrimPrefix(e.err.Error(), "ingest: "))
}

func (e *sourceError) Unwrap() error { return e.err }

// EntryErrors are failures of single entries (a transcript, a file) in a
// poll that otherwise worked: they are reported in the health record but
// do not count as a failed poll, so they never slow the schedule.
type EntryErrors struct{ Err error }

func (e *EntryErrors) Error() string { return e.Err.Error() }
func (e *EntryErrors) Unwrap() error { return e.Err }

func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// transcriptPreference ranks transcript types: timed formats first.
func transcriptPreference(t string) int {
	switch {
	case strings.Contains(t, "vtt"):
		return 0
	case strings.Contains(t, "srt") || strings.Contains(t, "subrip"):
		return 1
	case strings.Contains(t, "json"):
		return 2
	case strings.Contains(t, "html"):
		return 3
	}
	return 4
}

// BestTranscript picks the timed transcript of an episode, preferring
// WebVTT, then SRT, JSON, HTML and plain text.
func BestTranscript(refs []parse.TranscriptRef) parse.TranscriptRef {
	best := refs[0]
	for _, r := range refs[1:] {
		if transcriptPreference(r.Type) < transcriptPreference(best.Type) {
			best = r
		}
	}
	return best
}

func (p *Poller) transcript(ctx context.Context, src config.Source, feed *parse.Feed, e parse.Entry, publish PublishFunc, res *PollResult, now time.Time) error {
	key := e.Item.ID + "#transcript"
	id := parse.ItemID(src.Name, key)
	p.mu.Lock()
	_, done := p.seen[id]
	if done {
		p.seen[id] = now
	}
	p.mu.Unlock()
	if done {
		res.Duplicates++
		return nil
	}
	ref := BestTranscript(e.Transcripts)
	it, err := p.fetchTranscript(ctx, src, feed, e, ref, key, now)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		p.mu.Lock()
		p.tFailures[ref.URL]++
		n := p.tFailures[ref.URL]
		if n >= p.opts.TranscriptAttempts {
			p.seen[id] = now // given up: stop retrying this one
			delete(p.tFailures, ref.URL)
		}
		p.mu.Unlock()
		return fmt.Errorf("ingest: source %q: episode %q: transcript %s (attempt %d of %d): %w",
			src.Name, parse.Clip(e.Item.Title, 60), ref.URL, n, p.opts.TranscriptAttempts, err)
	}
	p.mu.Lock()
	delete(p.tFailures, ref.URL)
	p.mu.Unlock()
	return p.offer(ctx, it, publish, res)
}

func (p *Poller) fetchTranscript(ctx context.Context, src config.Source, feed *parse.Feed, e parse.Entry, ref parse.TranscriptRef, key string, now time.Time) (domain.Item, error) {
	resp, err := p.f.Get(ctx, ref.URL)
	if err != nil {
		return domain.Item{}, err
	}
	hint := ref.Type
	if hint == "" {
		hint = resp.ContentType
	}
	t, err := parse.ParseTranscript(resp.Body, hint)
	if err != nil {
		return domain.Item{}, err
	}
	meta := TranscriptMeta{
		Station: firstNonEmpty(src.Station, feed.Title),
		Lang:    firstNonEmpty(ref.Language, e.Item.Lang),
		Mission: e.Item.Mission,
		Start:   e.Item.Published.Format(time.RFC3339),
		Title:   e.Item.Title,
	}
	it := TranscriptItem(src, key, t, meta, now)
	it.URL = firstNonEmpty(e.Item.URL, ref.URL)
	return it, nil
}

// offer publishes it unless it was published before, or another item with
// the same URL or the same text was.
func (p *Poller) offer(ctx context.Context, it domain.Item, publish PublishFunc, res *PollResult) error {
	now := p.opts.Now()
	// An episode's transcript shares the episode's link; only items of
	// the same kind are duplicates by URL.
	u := ""
	if it.URL != "" {
		u = it.Kind + " " + normaliseURL(it.URL)
	}
	h := ""
	if strings.TrimSpace(it.Text) != "" {
		h = it.ContentHash
	}
	p.mu.Lock()
	if _, ok := p.seen[it.ID]; ok {
		p.seen[it.ID] = now
		p.mu.Unlock()
		res.Duplicates++
		return nil
	}
	dupOf := ""
	if m, ok := p.byURL[u]; u != "" && ok && m.id != it.ID {
		dupOf = m.id
	} else if m, ok := p.byHash[h]; h != "" && ok && m.id != it.ID {
		dupOf = m.id
	}
	if dupOf != "" {
		p.seen[it.ID] = now
		p.mu.Unlock()
		res.Duplicates++
		p.log.Debug("ingest: duplicate of an item already published", "source", it.Source, "id", it.ID, "of", dupOf)
		return nil
	}
	// A flooding source waits: over its caps, the item stays unseen.
	if res.Published >= p.opts.MaxPerPoll ||
		countSince(p.published[it.Source], now.Add(-time.Hour)) >= p.opts.MaxPerHour {
		p.mu.Unlock()
		res.Deferred++
		return nil
	}
	// Reserve URL and hash so a concurrent source does not publish the
	// same article; released if publication fails.
	if u != "" {
		p.byURL[u] = mark{it.ID, now}
	}
	if h != "" {
		p.byHash[h] = mark{it.ID, now}
	}
	p.mu.Unlock()

	if err := publish(ctx, it); err != nil {
		p.mu.Lock()
		if m, ok := p.byURL[u]; ok && m.id == it.ID {
			delete(p.byURL, u)
		}
		if m, ok := p.byHash[h]; ok && m.id == it.ID {
			delete(p.byHash, h)
		}
		p.mu.Unlock()
		return fmt.Errorf("ingest: source %q: publish item %s: %w", it.Source, it.ID, err)
	}
	p.mu.Lock()
	p.seen[it.ID] = now
	p.published[it.Source] = append(p.published[it.Source], now)
	if hh := p.health[it.Source]; hh != nil {
		hh.ItemsTotal++
	}
	p.mu.Unlock()
	res.Published++
	return nil
}

// redactURL hides a password in a source URL; health is shown and stored.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// normaliseURL makes equal links compare equal: lower-case scheme and
// host, no fragment, no default port, no trailing slash.
func normaliseURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Host = strings.TrimSuffix(strings.TrimSuffix(u.Host, ":80"), ":443")
	u.Fragment = ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u.String()
}

func (p *Poller) record(src config.Source, at time.Time, res PollResult, status int, err error, scheduled bool) time.Duration {
	p.mu.Lock()
	h := p.health[src.Name]
	if h == nil {
		h = &SourceHealth{Source: src.Name}
		p.health[src.Name] = h
	}
	h.Kind, h.URL = src.Kind, redactURL(src.URL)
	h.LastPoll = at
	h.LastStatus = status
	h.Duplicates += int64(res.Duplicates)
	h.Deferred = res.Deferred
	if res.Format != "" && !res.NotModified {
		h.Warnings = res.Warnings
	}
	if res.Deferred > 0 {
		h.Capped = fmt.Sprintf("%d new items deferred to the next poll: over the cap of %d per poll or %d per hour", res.Deferred, p.opts.MaxPerPoll, p.opts.MaxPerHour)
	} else {
		h.Capped = ""
	}
	if res.Format != "" {
		h.Format = res.Format
	}
	var entryErrs *EntryErrors
	switch {
	case err == nil:
		h.LastSuccess = at
		h.ConsecutiveFailures = 0
		h.RetryAfter = ""
	case errors.As(err, &entryErrs):
		h.LastSuccess = at
		h.ConsecutiveFailures = 0
		h.RetryAfter = ""
		h.LastError = err.Error()
		h.LastErrorAt = at
	case !errors.Is(err, context.Canceled):
		h.ConsecutiveFailures++
		h.LastError = err.Error()
		h.LastErrorAt = at
		h.RetryAfter = ""
		if ra := p.retryAfters[src.Name]; ra > 0 {
			h.RetryAfter = ra.String()
		}
	}
	cut := at.Add(-24 * time.Hour)
	p.published[src.Name] = trimBefore(p.published[src.Name], cut)
	h.ItemsLastDay = len(p.published[src.Name])
	var delay time.Duration
	if scheduled {
		delay = p.nextDelayLocked(src, err)
		h.NextPoll = at.Add(delay)
	}
	snapshot := *h
	p.pruneLocked(at)
	p.mu.Unlock()
	if p.opts.OnHealth != nil {
		p.opts.OnHealth(snapshot)
	}
	return delay
}

// pruneLocked forgets ids, URLs and hashes not seen for Forget, at most
// hourly.
func (p *Poller) pruneLocked(now time.Time) {
	if now.Sub(p.lastPrune) < time.Hour {
		return
	}
	p.lastPrune = now
	cut := now.Add(-p.opts.Forget)
	for id, t := range p.seen {
		if t.Before(cut) {
			delete(p.seen, id)
		}
	}
	for k, m := range p.byURL {
		if m.at.Before(cut) {
			delete(p.byURL, k)
		}
	}
	for k, m := range p.byHash {
		if m.at.Before(cut) {
			delete(p.byHash, k)
		}
	}
}

func trimBefore(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
}

func countSince(ts []time.Time, cut time.Time) int {
	return len(trimBefore(ts, cut))
}

package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/storage"
)

// SQLStore is the part of storage.DB emerging rumours need: the items of a
// period with whether they are flagged, and how to name items in a list.
type SQLStore interface {
	EmergingCandidates(ctx context.Context, since, until time.Time, limit int) ([]storage.CandidateItem, error)
	ItemSamples(ctx context.Context, ids []string) ([]storage.ItemSample, error)
}

// MaxEmergingItems bounds the texts one emerging run reads.
const MaxEmergingItems = 20000

// Candidates reads the items published in [since, until): those with no
// flag that speak of a mission become docs, and the terms (through the
// bridge b, which may be nil) of the flagged ones make the background that
// weighs salient terms.
func Candidates(ctx context.Context, s SQLStore, since, until time.Time, b *emerging.Bridge) (docs []emerging.Doc, bg map[string]int, bgDocs int, err error) {
	items, err := s.EmergingCandidates(ctx, since, until, MaxEmergingItems)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("alert: emerging: %w", err)
	}
	bg = map[string]int{}
	for _, it := range items {
		if it.Flagged {
			for _, t := range emerging.Terms(it.Text, b) {
				bg[t]++
			}
			bgDocs++
			continue
		}
		if !emerging.MentionsMission(it.Text) {
			continue
		}
		docs = append(docs, emerging.Doc{ID: it.ID, Text: it.Text, Lang: it.Lang, Source: it.Source, Station: it.Station, Published: it.Published})
	}
	return docs, bg, bgDocs, nil
}

// Emerging returns the emerging groups of [since, until) that no reviewer
// dismissed, highest score first. dismissed may be nil.
func Emerging(ctx context.Context, s SQLStore, dismissed *Dismissals, since, until time.Time, opts emerging.Options) ([]emerging.Group, error) {
	docs, bg, bgDocs, err := Candidates(ctx, s, since, until, opts.Bridge)
	if err != nil {
		return nil, err
	}
	opts.Now, opts.Background, opts.BackgroundDocs = until, bg, bgDocs
	limit := opts.Limit
	opts.Limit = 0
	groups := emerging.Find(docs, opts)
	if dismissed != nil {
		if groups, err = dismissed.Filter(ctx, groups); err != nil {
			return nil, err
		}
	}
	if limit > 0 && len(groups) > limit {
		groups = groups[:limit]
	}
	return groups, nil
}

// Dismissal is a reviewer's decision that a group is not a rumour to track.
type Dismissal struct {
	Group    string    `json:"group"`
	Terms    []string  `json:"terms"`
	Items    []string  `json:"items"`
	Reviewer string    `json:"reviewer"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// Dismissals are kept in a NATS key-value bucket, one key per group.
type Dismissals struct {
	kv jetstream.KeyValue
}

// OpenDismissals opens (creating when needed) the dismissals bucket.
func OpenDismissals(ctx context.Context, js jetstream.JetStream, replicas int) (*Dismissals, error) {
	kv, err := openBucket(ctx, js, BucketDismissed, replicas, 0)
	if err != nil {
		return nil, err
	}
	return &Dismissals{kv: kv}, nil
}

// Dismiss records that g is not worth tracking.
func (d *Dismissals) Dismiss(ctx context.Context, g emerging.Group, reviewer, note string, at time.Time) error {
	return putJSON(ctx, d.kv, keyPart(g.ID), Dismissal{Group: g.ID, Terms: g.Terms, Items: g.Items, Reviewer: reviewer, Note: note, At: at.UTC()})
}

// List returns every dismissal.
func (d *Dismissals) List(ctx context.Context) ([]Dismissal, error) {
	lister, err := d.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("alert: list dismissals: %w", err)
	}
	var out []Dismissal
	seen := map[string]bool{}
	for key := range lister.Keys() {
		if seen[key] {
			continue
		}
		seen[key] = true
		var x Dismissal
		ok, err := getJSON(ctx, d.kv, key, &x)
		if err != nil {
			_ = lister.Stop()
			return nil, err
		}
		if ok {
			out = append(out, x)
		}
	}
	return out, nil
}

// Filter drops the groups a reviewer dismissed: the same group id, or a
// group at least half of whose items were in a dismissed group (the group
// grew or its earliest item left the window, but it says the same thing).
func (d *Dismissals) Filter(ctx context.Context, groups []emerging.Group) ([]emerging.Group, error) {
	all, err := d.List(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	items := map[string]bool{}
	for _, x := range all {
		ids[x.Group] = true
		for _, it := range x.Items {
			items[it] = true
		}
	}
	out := groups[:0:0]
	for _, g := range groups {
		seen := 0
		for _, it := range g.Items {
			if items[it] {
				seen++
			}
		}
		if ids[g.ID] || 2*seen >= len(g.Items) && seen > 0 {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

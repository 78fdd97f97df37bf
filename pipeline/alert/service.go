package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/storage"
)

// ErrNoSQL is returned by the emerging calls when the store does not give
// access to its SQL connection.
var ErrNoSQL = errors.New("alert: the store has no SQL connection for the emerging query")

// EarlyWarning is what the web app calls: the alert log, and the emerging
// groups with their review actions (dismiss, draft, promote).
type EarlyWarning struct {
	log       *Log
	dismissed *Dismissals
	store     SQLStore // nil when the store is not a storage.DB
	matcher   emerging.Swapper
	dir       string
	// Options tune the grouping (Recent, MinItems, MinShared...).
	Options emerging.Options
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// OpenEarlyWarning opens the alert log and the dismissals. st is the
// store (a *storage.DB gives the emerging query its SQL); m is the live
// matcher promoted entries are swapped into; catalogDir is where they are
// saved (config key catalog).
func OpenEarlyWarning(ctx context.Context, js jetstream.JetStream, replicas int, st storage.Store, m emerging.Swapper, catalogDir string) (*EarlyWarning, error) {
	l, err := OpenLog(ctx, js, replicas)
	if err != nil {
		return nil, err
	}
	d, err := OpenDismissals(ctx, js, replicas)
	if err != nil {
		return nil, err
	}
	w := &EarlyWarning{log: l, dismissed: d, matcher: m, dir: catalogDir, Now: time.Now}
	if s, ok := st.(SQLStore); ok {
		w.store = s
	}
	return w, nil
}

// Recent returns the n latest alerts, newest first.
func (w *EarlyWarning) Recent(ctx context.Context, n int) ([]Record, error) {
	return w.log.Recent(ctx, n)
}

// Alert returns one alert, or ErrNotFound.
func (w *EarlyWarning) Alert(ctx context.Context, id string) (Record, error) {
	return w.log.Get(ctx, id)
}

// Groups returns the emerging groups of the last span not dismissed,
// highest score first.
func (w *EarlyWarning) Groups(ctx context.Context, span time.Duration) ([]emerging.Group, error) {
	if w.store == nil {
		return nil, ErrNoSQL
	}
	now := w.Now().UTC()
	opts := w.Options
	// The live catalog bridges the languages: promoted entries included.
	if c, ok := w.matcher.(interface{ Catalog() *catalog.Catalog }); ok && opts.Bridge == nil {
		opts.Bridge = emerging.NewBridge(c.Catalog())
	}
	return Emerging(ctx, w.store, w.dismissed, now.Add(-span), now.Add(time.Second), opts)
}

// Group returns one emerging group of the last span, or ErrNotFound.
func (w *EarlyWarning) Group(ctx context.Context, span time.Duration, id string) (emerging.Group, error) {
	groups, err := w.Groups(ctx, span)
	if err != nil {
		return emerging.Group{}, err
	}
	for _, g := range groups {
		if g.ID == id {
			return g, nil
		}
	}
	return emerging.Group{}, fmt.Errorf("%w: emerging group %s", ErrNotFound, id)
}

// Dismiss records a reviewer's decision that a group is not worth
// tracking; it is not listed again.
func (w *EarlyWarning) Dismiss(ctx context.Context, span time.Duration, id, reviewer, note string) error {
	g, err := w.Group(ctx, span, id)
	if err != nil {
		return err
	}
	return w.dismissed.Dismiss(ctx, g, reviewer, note, w.Now())
}

// Draft returns the catalog entry pre-filled from a group, as the YAML an
// admin edits before promoting it.
func (w *EarlyWarning) Draft(ctx context.Context, span time.Duration, id string) ([]byte, error) {
	g, err := w.Group(ctx, span, id)
	if err != nil {
		return nil, err
	}
	return emerging.MarshalEntry(emerging.Draft(g))
}

// Promote validates the edited entry, saves it in the catalog directory
// and swaps the new catalog into the live matcher; items classified from
// then on are matched against it. When groupID names a group of the last
// span, that group is then marked handled ("promoted as <id>") so it leaves
// the emerging list. It returns the new catalog.
func (w *EarlyWarning) Promote(ctx context.Context, span time.Duration, groupID, reviewer string, yamlEntry []byte) (*catalog.Catalog, error) {
	e, err := catalog.Parse("promoted entry", yamlEntry)
	if err != nil {
		return nil, err
	}
	var g emerging.Group
	if groupID != "" {
		if g, err = w.Group(ctx, span, groupID); err != nil {
			return nil, err
		}
	}
	cat, err := emerging.Promote(ctx, w.dir, *e, w.matcher)
	if err != nil {
		return nil, err
	}
	if groupID != "" {
		if err := w.dismissed.Dismiss(ctx, g, reviewer, "promoted as "+e.ID, w.Now()); err != nil {
			return cat, err
		}
	}
	return cat, nil
}

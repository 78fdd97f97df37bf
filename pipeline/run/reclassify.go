package run

import (
	"context"
	"fmt"
	"time"

	"github.com/veille-project/veille/storage"
)

// Reclassified sums what a re-classification did.
type Reclassified struct {
	Items   int                   `json:"items"`
	Version string                `json:"version"`
	Counts  storage.ReplaceCounts `json:"counts"`
}

// Reclassify re-runs the runner's classifier over the items published
// since a time and replaces their flags in storage (see
// storage.ReplaceFlags): trends then count each item under the newest
// version that has seen it, once. It is idempotent, so an interrupted run
// is simply run again. progress, when set, is called after each batch.
func (r *Runner) Reclassify(ctx context.Context, since time.Time, batch int, progress func(Reclassified)) (Reclassified, error) {
	if r.Store == nil || r.Classifier == nil {
		return Reclassified{}, fmt.Errorf("reclassify: the store and the classifier must be open")
	}
	if batch <= 0 {
		batch = 200
	}
	version := r.Classifier.Version()
	out := Reclassified{Version: version}
	after := ""
	for {
		items, err := r.Store.ItemsSince(ctx, since, after, batch)
		if err != nil {
			return out, err
		}
		if len(items) == 0 {
			return out, nil
		}
		found := make([]storage.Reclassified, 0, len(items))
		for _, it := range items {
			res, err := r.Classifier.Classify(ctx, DocOf(it))
			if err != nil {
				return out, fmt.Errorf("reclassify: item %s: %w", it.ID, err)
			}
			found = append(found, storage.Reclassified{ItemID: it.ID, Flags: FlagsOf(it, res, version)})
		}
		n, err := r.Store.ReplaceFlags(ctx, version, found)
		if err != nil {
			return out, err
		}
		out.Items += len(items)
		out.Counts.Stored += n.Stored
		out.Counts.Replaced += n.Replaced
		out.Counts.Retracted += n.Retracted
		out.Counts.Kept += n.Kept
		after = items[len(items)-1].ID
		if progress != nil {
			progress(out)
		}
	}
}

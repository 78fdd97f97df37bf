package run

import (
	"context"
	"errors"

	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/pipeline/models"
)

// ModelFollowsBus reports whether the runner's classifier takes its model
// from the bus: when the configuration names no model file (classifier.model
// is "" or "builtin"), the model promoted through `veille model promote`
// or the admin page is used, and swapped in when another is promoted.
func (r *Runner) ModelFollowsBus() bool {
	m := r.Config.Classifier.Model
	return r.Bus != nil && r.Classifier != nil && (m == "" || m == "builtin")
}

// WatchModel swaps the active model of the bus into the runner's
// classifier now and at each promotion or rollback, until ctx ends. A
// classify worker goes on with the message it holds; the next message is
// classified with the new model, and its flags carry the new version. A
// version that cannot be used (unreadable, or naming a narrative the
// catalog does not know) is logged and the current model stays.
func (r *Runner) WatchModel(ctx context.Context) error {
	if !r.ModelFollowsBus() {
		return errors.New("watch model: the configuration names a model file, or no classifier is open")
	}
	reg, err := models.Open(ctx, r.Bus)
	if err != nil {
		return err
	}
	swap := func(m *learn.Model) {
		known := map[string]bool{}
		for _, id := range r.Matcher.Catalog().IDs() {
			known[id] = true
		}
		for _, n := range m.Narratives {
			if !known[n] {
				r.Log.Error("model sync: the active model knows a narrative the catalog does not; keeping the current model",
					"model", m.Version(), "narrative", n)
				return
			}
		}
		if cur := r.Classifier.Model(); cur != nil && cur.Version() == m.Version() {
			return
		}
		r.Classifier.Swap(m)
		r.Log.Info("model sync: model swapped", "model", m.Version(), "classifier", r.Classifier.Version())
	}
	return reg.Watch(ctx, swap, func(err error) {
		r.Log.Error("model sync: active model not loaded; keeping the current model", "err", err)
	})
}

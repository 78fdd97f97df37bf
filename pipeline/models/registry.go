// Package models owns the learning loop's models once trained: every
// version lives in the bus's veille_models object store with its gate
// report, the active one is named in the veille_model bucket, and every
// process that classifies watches that key and swaps the model in without
// a restart. It also trains candidates from the reviewers' decisions
// (see train.go). The model shipped in the binary is the version active
// until another is promoted, and the one a rollback past the first
// promotion returns to.
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/pipeline/bus"
)

// Errors callers branch on.
var (
	ErrNoSuchModel = errors.New("no such model version")
	ErrGateRefused = errors.New("the gate refused this candidate")
	ErrNoPrevious  = errors.New("no earlier model to roll back to")
)

const (
	keyActive  = "active"
	keyHistory = "history"
	reportExt  = ".report.json"
)

// Registry is the model store in the bus.
type Registry struct {
	obj jetstream.ObjectStore
	kv  jetstream.KeyValue
}

// Open binds the registry to the bus's buckets (declared by bus.Setup).
func Open(ctx context.Context, b *bus.Bus) (*Registry, error) {
	if b == nil {
		return nil, bus.ErrNotReady
	}
	obj, err := b.JS.ObjectStore(ctx, bus.ObjModels)
	if err != nil {
		return nil, fmt.Errorf("models: object store %s: %w", bus.ObjModels, err)
	}
	kv, err := b.JS.KeyValue(ctx, bus.KVModel)
	if err != nil {
		return nil, fmt.Errorf("models: bucket %s: %w", bus.KVModel, err)
	}
	return &Registry{obj: obj, kv: kv}, nil
}

// Put stores a model version and its report. Storing a version again
// replaces its report only (the bytes of a version never change).
func (r *Registry) Put(ctx context.Context, m *learn.Model, rep *gate.Report) error {
	v := m.Version()
	if _, err := r.obj.GetInfo(ctx, v); errors.Is(err, jetstream.ErrObjectNotFound) {
		if _, err := r.obj.PutBytes(ctx, v, m.Bytes()); err != nil {
			return fmt.Errorf("models: put %s: %w", v, err)
		}
	} else if err != nil {
		return fmt.Errorf("models: look up %s: %w", v, err)
	}
	if rep != nil {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("models: encode report of %s: %w", v, err)
		}
		if _, err := r.obj.PutBytes(ctx, v+reportExt, b); err != nil {
			return fmt.Errorf("models: put report of %s: %w", v, err)
		}
	}
	return nil
}

// Model reads a stored version; the built-in version is always there.
func (r *Registry) Model(ctx context.Context, version string) (*learn.Model, error) {
	if def, err := learn.Default(); err == nil && def.Version() == version {
		return def, nil
	}
	b, err := r.obj.GetBytes(ctx, version)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchModel, version)
	}
	if err != nil {
		return nil, fmt.Errorf("models: get %s: %w", version, err)
	}
	m, err := learn.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", version, err)
	}
	if m.Version() != version {
		return nil, fmt.Errorf("models: object %s holds model %s", version, m.Version())
	}
	return m, nil
}

// Report reads a version's gate report; nil when it has none (the
// built-in model).
func (r *Registry) Report(ctx context.Context, version string) (*gate.Report, error) {
	b, err := r.obj.GetBytes(ctx, version+reportExt)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: report of %s: %w", version, err)
	}
	var rep gate.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("models: report of %s: %w", version, err)
	}
	return &rep, nil
}

// Entry is one stored version, as listed.
type Entry struct {
	Version  string       `json:"version"`
	Size     uint64       `json:"size"`
	Stored   time.Time    `json:"stored"`
	Active   bool         `json:"active"`
	BuiltIn  bool         `json:"built_in"`
	Items    int          `json:"items"`
	Report   *gate.Report `json:"report,omitempty"`
	Promoted []Promotion  `json:"promoted,omitempty"` // when it was made active, newest first
}

// Promotion records one change of the active model.
type Promotion struct {
	Version string    `json:"version"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"` // promote | rollback
}

// List returns the built-in model and every stored version, newest first.
func (r *Registry) List(ctx context.Context) ([]Entry, error) {
	active, err := r.Active(ctx)
	if err != nil {
		return nil, err
	}
	hist, _, err := r.history(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	if def, err := learn.Default(); err == nil {
		out = append(out, Entry{Version: def.Version(), Size: uint64(len(def.Bytes())), BuiltIn: true, Items: def.Items})
	}
	infos, err := r.obj.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, fmt.Errorf("models: list: %w", err)
	}
	for _, in := range infos {
		if strings.HasSuffix(in.Name, reportExt) || (len(out) > 0 && in.Name == out[0].Version) {
			continue
		}
		e := Entry{Version: in.Name, Size: in.Size, Stored: in.ModTime.UTC()}
		if rep, err := r.Report(ctx, in.Name); err == nil && rep != nil {
			e.Report = rep
			e.Items = rep.Training.Items
		}
		out = append(out, e)
	}
	for i := range out {
		out[i].Active = out[i].Version == active
		for j := len(hist) - 1; j >= 0; j-- {
			if hist[j].Version == out[i].Version {
				out[i].Promoted = append(out[i].Promoted, hist[j])
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].BuiltIn != out[j].BuiltIn {
			return !out[i].BuiltIn
		}
		return out[i].Stored.After(out[j].Stored)
	})
	return out, nil
}

// Active names the active version: the one last promoted, else the
// built-in model.
func (r *Registry) Active(ctx context.Context) (string, error) {
	e, err := r.kv.Get(ctx, keyActive)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		def, derr := learn.Default()
		if derr != nil {
			return "", derr
		}
		return def.Version(), nil
	}
	if err != nil {
		return "", fmt.Errorf("models: active: %w", err)
	}
	return string(e.Value()), nil
}

func (r *Registry) history(ctx context.Context) ([]Promotion, uint64, error) {
	e, err := r.kv.Get(ctx, keyHistory)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("models: history: %w", err)
	}
	var h []Promotion
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return nil, 0, fmt.Errorf("models: history: %w", err)
	}
	return h, e.Revision(), nil
}

// Promote makes version the active model everywhere. A candidate is
// promoted only when its gate report passed and was measured against the
// model active now (ErrGateRefused says why not); the built-in model
// needs no report.
func (r *Registry) Promote(ctx context.Context, version, by string) error {
	if _, err := r.Model(ctx, version); err != nil {
		return err
	}
	if def, _ := learn.Default(); def == nil || def.Version() != version {
		rep, err := r.Report(ctx, version)
		if err != nil {
			return err
		}
		if rep == nil {
			return fmt.Errorf("%w: %s has no gate report", ErrGateRefused, version)
		}
		if !rep.Passed {
			return fmt.Errorf("%w: %s: %s", ErrGateRefused, version, strings.Join(rep.Reasons, "; "))
		}
		active, err := r.Active(ctx)
		if err != nil {
			return err
		}
		if rep.Active != active {
			return fmt.Errorf("%w: %s was measured against %s, but %s is active now: train it again", ErrGateRefused, version, rep.Active, active)
		}
	}
	return r.activate(ctx, version, by, "promote")
}

// ForcePromote makes version active without the gate: for an emergency,
// such as a catalog change the active model cannot follow. The history
// records it as a forced promotion.
func (r *Registry) ForcePromote(ctx context.Context, version, by string) error {
	if _, err := r.Model(ctx, version); err != nil {
		return err
	}
	return r.activate(ctx, version, by, "force-promote")
}

// Rollback makes the version active before the current one active again
// and returns it; past the first promotion that is the built-in model.
func (r *Registry) Rollback(ctx context.Context, by string) (string, error) {
	hist, _, err := r.history(ctx)
	if err != nil {
		return "", err
	}
	active, err := r.Active(ctx)
	if err != nil {
		return "", err
	}
	// The chain of activations, undoing earlier rollbacks: walk back from
	// the newest promotion to the version active before the current one.
	chain := activeChain(hist)
	if len(chain) == 0 || chain[len(chain)-1] != active {
		return "", ErrNoPrevious
	}
	prev := ""
	if len(chain) >= 2 {
		prev = chain[len(chain)-2]
	} else if def, err := learn.Default(); err == nil && def.Version() != active {
		prev = def.Version()
	}
	if prev == "" {
		return "", ErrNoPrevious
	}
	return prev, r.activate(ctx, prev, by, "rollback")
}

// activeChain replays the history: a promotion pushes its version, a
// rollback pops the current one.
func activeChain(hist []Promotion) []string {
	var chain []string
	for _, p := range hist {
		switch p.Action {
		case "rollback":
			if len(chain) > 0 {
				chain = chain[:len(chain)-1]
			}
			if len(chain) == 0 || chain[len(chain)-1] != p.Version {
				chain = append(chain, p.Version)
			}
		default:
			chain = append(chain, p.Version)
		}
	}
	return chain
}

func (r *Registry) activate(ctx context.Context, version, by, action string) error {
	for range 10 {
		hist, rev, err := r.history(ctx)
		if err != nil {
			return err
		}
		hist = append(hist, Promotion{Version: version, By: by, At: time.Now().UTC(), Action: action})
		b, err := json.Marshal(hist)
		if err != nil {
			return fmt.Errorf("models: history: %w", err)
		}
		if rev == 0 {
			_, err = r.kv.Create(ctx, keyHistory, b)
		} else {
			_, err = r.kv.Update(ctx, keyHistory, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue // another admin changed it meanwhile: read again
		}
		if err != nil {
			return fmt.Errorf("models: history: %w", err)
		}
		if _, err := r.kv.Put(ctx, keyActive, []byte(version)); err != nil {
			return fmt.Errorf("models: set active %s: %w", version, err)
		}
		return nil
	}
	return fmt.Errorf("models: %s %s: the history kept changing", action, version)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Watch calls swap with the active model now and each time the active
// key changes, until ctx ends. A version that cannot be read is logged by
// the caller through onErr and the current model stays.
func (r *Registry) Watch(ctx context.Context, swap func(*learn.Model), onErr func(error)) error {
	w, err := r.kv.Watch(ctx, keyActive)
	if err != nil {
		return fmt.Errorf("models: watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	load := func(version string) {
		m, err := r.Model(ctx, version)
		if err != nil {
			if ctx.Err() == nil {
				onErr(err)
			}
			return
		}
		swap(m)
	}
	sawValue := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil { // end of the initial value
				if !sawValue {
					if v, err := r.Active(ctx); err == nil {
						load(v)
					}
				}
				continue
			}
			sawValue = true
			if e.Operation() == jetstream.KeyValuePut {
				load(string(e.Value()))
			}
		}
	}
}

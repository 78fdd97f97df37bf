package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/models"
)

func testRegistry(ctx context.Context, t *testing.T) *models.Registry {
	t.Helper()
	srv, err := bus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	b, err := bus.Connect(ctx, srv.URL(), "models-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	reg, err := models.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// tinyModels trains n small, distinct models in a second or two.
func tinyModels(t *testing.T, n int) []*learn.Model {
	t.Helper()
	w := newWorldData(t)
	cfg := learn.DefaultConfig
	cfg.Folds, cfg.Epochs = 1, 1
	var out []*learn.Model
	for i := range n {
		tr := &learn.Trainer{Matcher: w.m, Narratives: w.m.Catalog().IDs(), Config: cfg}
		m, _, err := tr.Train(context.Background(), learn.FromItems(w.base[i*40:(i+1)*40]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func passed(active, cand string) *gate.Report {
	return &gate.Report{Active: active, Candidate: cand, Passed: true, Better: []string{"blind"}}
}

// TestRegistryPromoteRollback: versions live in the bus with their
// reports; a refused candidate, one without a report and one measured
// against another model than the active one are not promoted; promotion
// and rollback move the active key, every watcher follows, and rollback
// past the first promotion returns to the built-in model.
func TestRegistryPromoteRollback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := testRegistry(ctx, t)
	def, err := learn.Default()
	if err != nil {
		t.Fatal(err)
	}
	ms := tinyModels(t, 3)
	a, b, c := ms[0], ms[1], ms[2]

	var mu sync.Mutex
	var seen []string
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		_ = reg.Watch(watchCtx, func(m *learn.Model) { mu.Lock(); seen = append(seen, m.Version()); mu.Unlock() }, func(err error) { t.Error(err) })
	}()
	waitSeen := func(v string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			last := ""
			if len(seen) > 0 {
				last = seen[len(seen)-1]
			}
			mu.Unlock()
			if last == v {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("watcher holds %q, want %s", last, v)
			}
		}
	}
	waitSeen(def.Version())

	if err := reg.Put(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote(ctx, a.Version(), "ops"); !errors.Is(err, models.ErrGateRefused) {
		t.Fatalf("promote without a report = %v, want ErrGateRefused", err)
	}
	if err := reg.ForcePromote(ctx, a.Version(), "ops"); err != nil {
		t.Fatal(err)
	}
	waitSeen(a.Version())

	refused := &gate.Report{Active: a.Version(), Candidate: c.Version(), Reasons: []string{"blind: narrative x F1 0.9 → 0.2"}}
	must(t, reg.Put(ctx, c, refused))
	if err := reg.Promote(ctx, c.Version(), "ops"); !errors.Is(err, models.ErrGateRefused) || !strings.Contains(err.Error(), "F1 0.9 → 0.2") {
		t.Fatalf("promote refused candidate = %v, want ErrGateRefused with the reason", err)
	}
	must(t, reg.Put(ctx, b, passed(def.Version(), b.Version())))
	if err := reg.Promote(ctx, b.Version(), "ops"); !errors.Is(err, models.ErrGateRefused) || !strings.Contains(err.Error(), "measured against") {
		t.Fatalf("promote candidate measured against another model = %v, want ErrGateRefused", err)
	}
	must(t, reg.Put(ctx, b, passed(a.Version(), b.Version()))) // measured again, against a
	must(t, reg.Promote(ctx, b.Version(), "amina"))
	waitSeen(b.Version())
	if err := reg.Promote(ctx, "m-000000000000", "ops"); !errors.Is(err, models.ErrNoSuchModel) {
		t.Fatalf("promote unknown version = %v, want ErrNoSuchModel", err)
	}

	list, err := reg.List(ctx)
	must(t, err)
	byVersion := map[string]models.Entry{}
	for _, e := range list {
		byVersion[e.Version] = e
	}
	if e := byVersion[b.Version()]; !e.Active || e.Report == nil || !e.Report.Passed || len(e.Promoted) != 1 || e.Promoted[0].By != "amina" {
		t.Errorf("listed %s = %+v, want active, its passed report, promoted by amina", b.Version(), e)
	}
	if e := byVersion[def.Version()]; !e.BuiltIn || e.Active {
		t.Errorf("listed built-in = %+v", e)
	}
	if len(list) != 4 {
		t.Errorf("%d versions listed, want 4 (built-in, a, b, c)", len(list))
	}

	for _, want := range []string{a.Version(), def.Version()} {
		got, err := reg.Rollback(ctx, "ops")
		if err != nil || got != want {
			t.Fatalf("rollback = %s, %v; want %s", got, err, want)
		}
		waitSeen(want)
		if v, _ := reg.Active(ctx); v != want {
			t.Fatalf("active %s after rollback, want %s", v, want)
		}
	}
	if _, err := reg.Rollback(ctx, "ops"); !errors.Is(err, models.ErrNoPrevious) {
		t.Fatalf("rollback past the built-in model = %v, want ErrNoPrevious", err)
	}
	got, err := reg.Model(ctx, a.Version())
	if err != nil || string(got.Bytes()) != string(a.Bytes()) {
		t.Fatalf("stored model %s read back differently: %v", a.Version(), err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// memModels is a ModelAdmin in memory, for the route and page tests; the
// registry in the bus is tested end to end in cmd/veille.
type memModels struct {
	mu      sync.Mutex
	trained []string
	list    []web.ModelEntry
	active  string
	prev    []string
}

func newMemModels() *memModels {
	return &memModels{
		active: "m-builtin",
		list: []web.ModelEntry{
			{Version: "m-builtin", BuiltIn: true, Items: 8000, Blind: &gate.Figures{Precision: 0.951, Recall: 0.907, F1: 0.929, Stance: 0.972, FPRate: 0.034}},
			{Version: "m-good", Items: 8100, Report: &gate.Report{Passed: true, Sets: []gate.SetReport{{Name: "blind", Active: gate.Figures{F1: 0.9}, Candidate: gate.Figures{F1: 0.91}}}}},
			{Version: "m-bad", Items: 8100, Report: &gate.Report{Passed: false, Reasons: []string{"blind: narrative arms-rebels F1 0.900 → 0.500"}}},
		},
	}
}

func (m *memModels) List(context.Context) ([]web.ModelEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]web.ModelEntry(nil), m.list...)
	for i := range out {
		out[i].Active = out[i].Version == m.active
	}
	return out, nil
}

func (m *memModels) Promote(_ context.Context, v, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.list {
		if e.Version != v {
			continue
		}
		if !e.BuiltIn && (e.Report == nil || !e.Report.Passed) {
			return fmt.Errorf("%w: %s", web.ErrGateRefused, v)
		}
		m.prev = append(m.prev, m.active)
		m.active = v
		return nil
	}
	return fmt.Errorf("%w: %s", web.ErrNoSuchModel, v)
}

func (m *memModels) Train(_ context.Context, by string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trained = append(m.trained, by)
	return nil
}

func (m *memModels) Training() web.TrainingStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return web.TrainingStatus{Running: len(m.trained) > 0, By: "admin"}
}

func (m *memModels) Rollback(context.Context, string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.prev) == 0 {
		return "", web.ErrNoPrevious
	}
	m.active = m.prev[len(m.prev)-1]
	m.prev = m.prev[:len(m.prev)-1]
	return m.active, nil
}

// TestModelsPage: an admin sees the active model, each candidate's gate
// verdict and the refusal reasons; promoting a refused candidate is
// refused with the reason, through the page and the API; a passed one is
// promoted and rolled back; other roles are kept out.
func TestModelsPage(t *testing.T) {
	m := newMemModels()
	e := newEnv(t, func(o *web.Options) { o.Models = m })
	c, csrf := e.login(storage.RoleAdmin)
	_, page := e.get(c, "/models")
	for _, want := range []string{"m-builtin", "m-good", "m-bad", "narrative arms-rebels F1 0.900 → 0.500", `action="/models/m-good/promote"`, "F1 0.929"} {
		if !strings.Contains(page, want) {
			t.Errorf("models page lacks %q", want)
		}
	}
	if strings.Contains(page, `action="/models/m-bad/promote"`) {
		t.Error("models page offers to promote a refused candidate")
	}
	resp, body := e.post(c, "/models/m-bad/promote", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error=") {
		t.Fatalf("promote refused candidate: status %d location %q\n%.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	tok := e.tokens[storage.RoleAdmin]
	if resp, b := e.api("POST", "/api/v1/models/m-bad/promote", tok, nil); resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "gate refused") {
		t.Fatalf("API promote refused candidate: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.api("POST", "/api/v1/models/m-nope/promote", tok, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("API promote unknown version: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.api("POST", "/api/v1/models/m-good/promote", tok, nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"active":"m-good"`) {
		t.Fatalf("API promote: %d %s", resp.StatusCode, b)
	}
	if m.active != "m-good" {
		t.Fatalf("active %s after promotion, want m-good", m.active)
	}
	resp, _ = e.post(c, "/models/rollback", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || m.active != "m-builtin" {
		t.Fatalf("rollback: status %d, active %s, want m-builtin", resp.StatusCode, m.active)
	}
	if resp, b := e.api("POST", "/api/v1/models/rollback", tok, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("rollback with nothing earlier: %d %s, want 409", resp.StatusCode, b)
	}
	if resp, b := e.api("POST", "/api/v1/models/train", tok, nil); resp.StatusCode != http.StatusAccepted || len(m.trained) != 1 {
		t.Fatalf("API train: %d %s, %d trainings started", resp.StatusCode, b, len(m.trained))
	}
	if _, page := e.get(c, "/models"); !strings.Contains(page, "being trained") {
		t.Error("models page does not say a candidate is being trained")
	}
	if resp, _ := e.api("GET", "/api/v1/precision?weeks=0", tok, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("precision with weeks=0: %d, want 400", resp.StatusCode)
	}
	if resp, _ := e.api("GET", "/api/v1/models", e.tokens[storage.RoleReviewer], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("reviewer lists models: %d, want 403", resp.StatusCode)
	}
}

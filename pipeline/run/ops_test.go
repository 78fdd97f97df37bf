package run_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/run"
)

// TestMetricsStayOffThePublicPort checks that the mux the web app shares
// answers health checks but not /metrics, which only the ops listener
// serves.
func TestMetricsStayOffThePublicPort(t *testing.T) {
	var o run.Ops
	public, ops := http.NewServeMux(), http.NewServeMux()
	o.RegisterHealth(public)
	o.Register(ops)
	get := func(mux *http.ServeMux, path string) (int, string) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String()
	}
	if code, _ := get(public, "/metrics"); code == http.StatusOK {
		t.Fatal("the public mux serves /metrics")
	}
	if code, _ := get(public, "/healthz"); code != http.StatusOK {
		t.Fatalf("public /healthz: %d, want 200", code)
	}
	if code, body := get(ops, "/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("ops /metrics: %d, want 200 with Go metrics", code)
	}
}

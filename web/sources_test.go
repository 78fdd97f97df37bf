package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// memSources is a stand-in for the bus-backed source list: configured
// sources that can be paused, and added ones that can also be deleted.
type memSources struct {
	mu      sync.Mutex
	sources []web.SourceStatus
}

func (m *memSources) List(context.Context) ([]web.SourceStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]web.SourceStatus(nil), m.sources...), nil
}

func (m *memSources) Add(_ context.Context, in web.SourceInput, by string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.Name == "" || !strings.HasPrefix(in.URL, "https://") {
		return fmt.Errorf("%w: want a name and an https url", web.ErrBadSource)
	}
	for _, s := range m.sources {
		if s.Name == in.Name || s.URL == in.URL {
			return fmt.Errorf("%w: %s", web.ErrSourceExists, s.Name)
		}
	}
	m.sources = append(m.sources, web.SourceStatus{Name: in.Name, URL: in.URL, Kind: in.Kind, Added: true, AddedBy: by})
	return nil
}

func (m *memSources) find(name string) (*web.SourceStatus, error) {
	for i := range m.sources {
		if m.sources[i].Name == name {
			return &m.sources[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", web.ErrNoSuchSource, name)
}

func (m *memSources) SetPaused(_ context.Context, name string, paused bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(name)
	if err == nil {
		s.Paused = paused
	}
	return err
}

func (m *memSources) Delete(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(name)
	if err != nil {
		return err
	}
	if !s.Added {
		return fmt.Errorf("%w: %s", web.ErrSourceConfigured, name)
	}
	for i := range m.sources {
		if m.sources[i].Name == name {
			m.sources = append(m.sources[:i], m.sources[i+1:]...)
			break
		}
	}
	return nil
}

func (m *memSources) get(name string) (web.SourceStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(name)
	if err != nil {
		return web.SourceStatus{}, false
	}
	return *s, true
}

func withSources(m *memSources) func(*web.Options) {
	return func(o *web.Options) { o.Sources, o.SourceAdmin = m, m }
}

// TestSourcesPageAdmin: an admin adds a source through the form, pauses
// and resumes it; a bad or duplicate source is refused with its reason;
// posts without the session's CSRF token change nothing.
func TestSourcesPageAdmin(t *testing.T) {
	m := &memSources{sources: []web.SourceStatus{{Name: "radio okapi/fr", URL: "https://okapi.example/feed", Kind: "rss"}}}
	e := newEnv(t, withSources(m))
	c, csrf := e.login(storage.RoleAdmin)

	_, page := e.get(c, "/sources")
	if !strings.Contains(page, `action="/sources/radio%20okapi%2Ffr/pause"`) {
		t.Fatalf("sources page has no pause form for the configured source:\n%.2000s", page)
	}
	if !strings.Contains(page, `action="/sources"`) {
		t.Fatal("sources page has no add form")
	}

	add := url.Values{"csrf": {csrf}, "name": {"radio-bria"}, "url": {"https://bria.example/rss"}, "kind": {"rss"}, "lang": {"fr"}, "interval": {"15m"}}
	resp, body := e.post(c, "/sources", add)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: status %d\n%.500s", resp.StatusCode, body)
	}
	if s, ok := m.get("radio-bria"); !ok || s.AddedBy != e.names[storage.RoleAdmin] {
		t.Fatalf("added source %+v (found %v), want added by %s", s, ok, e.names[storage.RoleAdmin])
	}
	resp, body = e.post(c, "/sources", add)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate add: status %d, want 409 with the reason\n%.500s", resp.StatusCode, body)
	}
	bad := url.Values{"csrf": {csrf}, "name": {"lan"}, "url": {"ftp://10.0.0.1/feed"}, "kind": {"rss"}}
	if resp, body = e.post(c, "/sources", bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "source: invalid") {
		t.Fatalf("bad add: status %d, want 400 with the reason\n%.500s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="ftp://10.0.0.1/feed"`) {
		t.Error("refused form does not keep what the admin typed")
	}

	for _, step := range []struct {
		path   string
		paused bool
	}{{"/sources/radio%20okapi%2Ffr/pause", true}, {"/sources/radio%20okapi%2Ffr/resume", false}, {"/sources/radio-bria/pause", true}} {
		resp, body := e.post(c, step.path, url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: status %d\n%.500s", step.path, resp.StatusCode, body)
		}
	}
	if s, _ := m.get("radio okapi/fr"); s.Paused {
		t.Error("configured source still paused after resume")
	}
	if s, _ := m.get("radio-bria"); !s.Paused {
		t.Error("added source not paused")
	}
	if _, page = e.get(c, "/sources"); !strings.Contains(page, `action="/sources/radio-bria/resume"`) {
		t.Error("paused source offers no resume button")
	}

	// Without the session's token nothing changes.
	if resp, _ := e.post(c, "/sources/radio-bria/resume", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged CSRF: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := e.post(c, "/sources", url.Values{"name": {"x"}, "url": {"https://x.example/"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("missing CSRF: status %d, want 403", resp.StatusCode)
	}
	if s, _ := m.get("radio-bria"); !s.Paused {
		t.Error("forged resume took effect")
	}
	if _, ok := m.get("x"); ok {
		t.Error("add without CSRF token took effect")
	}
	if resp, _ := e.post(c, "/sources/nobody/pause", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("pause unknown source: status %d, want 404", resp.StatusCode)
	}

	// Other roles can neither see nor change sources.
	rc, rcsrf := e.login(storage.RoleReviewer)
	if resp, _ := e.post(rc, "/sources/radio-bria/resume", url.Values{"csrf": {rcsrf}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("reviewer resume: status %d, want 403", resp.StatusCode)
	}
}

// TestSourcesAPI: add, pause, resume and delete through the API, with the
// status codes the OpenAPI document lists.
func TestSourcesAPI(t *testing.T) {
	m := &memSources{sources: []web.SourceStatus{{Name: "radio-gao", URL: "https://radio.example/gao", Kind: "podcast"}}}
	e := newEnv(t, withSources(m))
	admin := e.tokens[storage.RoleAdmin]
	in := web.SourceInput{Name: "blog-goma", URL: "https://goma.example/feed", Kind: "rss", Lang: "fr", Mission: "MONUSCO", Interval: "30m"}
	cases := []struct {
		method, path, token string
		body                any
		want                int
	}{
		{"POST", "/api/v1/sources", admin, in, http.StatusCreated},
		{"POST", "/api/v1/sources", admin, in, http.StatusConflict},
		{"POST", "/api/v1/sources", admin, web.SourceInput{Name: "x", URL: "http://127.0.0.1/", Kind: "rss"}, http.StatusBadRequest},
		{"POST", "/api/v1/sources", admin, map[string]string{"name": "y", "colour": "red"}, http.StatusBadRequest},
		{"POST", "/api/v1/sources", e.tokens[storage.RoleReviewer], in, http.StatusForbidden},
		{"POST", "/api/v1/sources/blog-goma/pause", admin, nil, http.StatusOK},
		{"POST", "/api/v1/sources/radio-gao/pause", admin, nil, http.StatusOK},
		{"POST", "/api/v1/sources/radio-gao/resume", admin, nil, http.StatusOK},
		{"POST", "/api/v1/sources/nobody/pause", admin, nil, http.StatusNotFound},
		{"DELETE", "/api/v1/sources/radio-gao", admin, nil, http.StatusConflict},
		{"DELETE", "/api/v1/sources/blog-goma", e.tokens[storage.RoleAnalyst], nil, http.StatusForbidden},
		{"DELETE", "/api/v1/sources/blog-goma", admin, nil, http.StatusNoContent},
		{"DELETE", "/api/v1/sources/blog-goma", admin, nil, http.StatusNotFound},
		{"POST", "/api/v1/sources/radio-gao/pause", "", nil, http.StatusUnauthorized},
	}
	for i, tc := range cases {
		resp, body := e.api(tc.method, tc.path, tc.token, tc.body)
		if resp.StatusCode != tc.want {
			t.Fatalf("%d: %s %s: status %d, want %d\n%s", i, tc.method, tc.path, resp.StatusCode, tc.want, body)
		}
		if tc.want >= 400 {
			var msg struct{ Error string }
			if json.Unmarshal(body, &msg) != nil || msg.Error == "" {
				t.Errorf("%d: error body %q is not {\"error\": ...}", i, body)
			}
		}
		if i == 1 { // after the first add
			if s, ok := m.get("blog-goma"); !ok || s.AddedBy != e.names[storage.RoleAdmin] {
				t.Fatalf("added source %+v (found %v)", s, ok)
			}
		}
		if i == 7 { // after radio-gao's pause and resume
			if s, _ := m.get("radio-gao"); s.Paused {
				t.Fatal("radio-gao still paused after resume")
			}
			if s, _ := m.get("blog-goma"); !s.Paused {
				t.Fatal("blog-goma not paused")
			}
		}
	}
	if _, ok := m.get("blog-goma"); ok {
		t.Error("deleted source still listed")
	}
	resp, body := e.api("GET", "/api/v1/sources", admin, nil)
	var list struct{ Sources []web.SourceStatus }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Sources) != 1 || list.Sources[0].Name != "radio-gao" {
		t.Fatalf("GET sources: %d %s", resp.StatusCode, body)
	}
}

// TestSourcesReadOnly: without a SourceAdmin the page has no forms and the
// API says so.
func TestSourcesReadOnly(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.SourceAdmin = nil })
	c, csrf := e.login(storage.RoleAdmin)
	if _, page := e.get(c, "/sources"); strings.Contains(page, `action="/sources"`) || strings.Contains(page, "/pause") {
		t.Fatal("read-only sources page offers forms")
	}
	if resp, _ := e.post(c, "/sources", url.Values{"csrf": {csrf}, "name": {"a"}, "url": {"https://a.example/"}}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("add on a read-only server: status %d, want 503", resp.StatusCode)
	}
	if resp, _ := e.api("DELETE", "/api/v1/sources/a", e.tokens[storage.RoleAdmin], nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("API delete on a read-only server: status %d, want 503", resp.StatusCode)
	}
}

package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// memBriefs keeps a small page per request in the real test store; the
// brief's computation is tested in pipeline/brief and end to end in
// cmd/veille.
type memBriefs struct {
	st   storage.Store
	reqs []web.BriefRequest
}

func (m *memBriefs) Make(ctx context.Context, req web.BriefRequest) (string, error) {
	m.reqs = append(m.reqs, req)
	id := "brief-test-" + req.Audience + "-" + req.Lang
	return id, m.st.PutBrief(ctx, storage.BriefRecord{ID: id, Title: "Test brief", From: req.From, To: req.To, Mission: req.Mission,
		Lang: req.Lang, Audience: req.Audience, MadeBy: req.By, Created: time.Now().UTC(), HTML: "<!DOCTYPE html><title>brief</title><p>BRIEF-BODY</p>"})
}

func (m *memBriefs) PDF(context.Context, []byte) ([]byte, error) { return nil, web.ErrNoPDF }

// TestBriefsPage: an analyst writes a brief through the form and reads it
// back as it was kept, under a policy that runs no script; bad requests
// are refused with the reason; reviewers are kept out.
func TestBriefsPage(t *testing.T) {
	mb := &memBriefs{st: testStore}
	e := newEnv(t, func(o *web.Options) { o.Briefs = mb })
	c, csrf := e.login(storage.RoleAnalyst)
	resp, body := e.post(c, "/briefs", url.Values{"csrf": {csrf}, "days": {"7"}, "mission": {"MONUSCO"}, "lang": {"fr"}, "audience": {"partner"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/briefs/brief-test-partner-fr" {
		t.Fatalf("write brief: %d %q\n%.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if len(mb.reqs) != 1 || mb.reqs[0].Mission != "MONUSCO" || mb.reqs[0].To.Sub(mb.reqs[0].From) != 7*24*time.Hour || mb.reqs[0].By != e.names[storage.RoleAnalyst] {
		t.Errorf("brief asked %+v", mb.reqs)
	}
	resp, body = e.get(c, "/briefs/brief-test-partner-fr")
	if resp.StatusCode != 200 || !strings.Contains(body, "BRIEF-BODY") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("read brief: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	if _, page := e.get(c, "/briefs"); !strings.Contains(page, "brief-test-partner-fr") {
		t.Error("the briefs page does not list the brief")
	}
	resp, _ = e.post(c, "/briefs", url.Values{"csrf": {csrf}, "days": {"0"}, "lang": {"fr"}, "audience": {"partner"}})
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=") {
		t.Errorf("0 days accepted: %q", loc)
	}
	if resp, _ := e.get(c, "/briefs/brief-test-partner-fr/pdf"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("PDF without Chromium: %d, want 503", resp.StatusCode)
	}
	if resp, b := e.api("POST", "/api/v1/briefs", e.tokens[storage.RoleAnalyst], map[string]any{"days": 14, "lang": "en", "audience": "internal"}); resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), "brief-test-internal-en") {
		t.Errorf("API brief: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.api("POST", "/api/v1/briefs", e.tokens[storage.RoleAnalyst], map[string]any{"days": 7, "lang": "de", "audience": "internal"}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("API brief in German: %d, want 400", resp.StatusCode)
	}
	if resp, _ := e.api("GET", "/api/v1/briefs", e.tokens[storage.RoleReviewer], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("reviewer lists briefs: %d, want 403", resp.StatusCode)
	}
}

package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// The alert log and the emerging finder run in the pipeline; these fakes
// stand for them so the pages and the API can be tested here. cmd/veille
// tests the real ones behind the same interfaces.

var testAlerts = []web.AlertView{
	{ID: "a2", Kind: "update", Rule: "surge-6h", Narrative: weapons, At: testNow.Add(-time.Hour), Since: testNow.Add(-50 * time.Hour),
		Window: 6 * 3600, Recent: 31, Baseline: 2.5, Factor: 9.14, Previous: 12, Missions: []string{"MINUSMA", "MONUSCO"},
		Deliveries: []web.DeliveryView{
			{Channel: "nats", Target: "veille.alerts", Status: "sent", Attempts: 1, At: testNow.Add(-time.Hour)},
			{Channel: "webhook", Target: "chat.example", Status: "failed", Attempts: 5, LastError: "HTTP 502 <bad gateway>"},
		}},
	{ID: "a1", Kind: "new", Rule: "surge-6h", Narrative: weapons, At: testNow.Add(-3 * time.Hour), Since: testNow.Add(-50 * time.Hour),
		Window: 6 * 3600, Recent: 12, Baseline: 2.5, Factor: 3.71, Missions: []string{"MINUSMA"},
		Deliveries: []web.DeliveryView{{Channel: "email", Target: "ops@example.org", Status: "pending", Attempts: 2}}},
}

type fakeAlerts []web.AlertView

func (f fakeAlerts) Recent(_ context.Context, n int) ([]web.AlertView, error) {
	return f[:min(n, len(f))], nil
}

type fakeEmerging struct {
	mu        sync.Mutex
	groups    []web.EmergingGroup
	drafts    map[string]web.DraftEntry
	dismissed map[string]string // group → reviewer: note
	promoted  map[string]web.DraftEntry
}

func newFakeEmerging() *fakeEmerging {
	return &fakeEmerging{
		groups: []web.EmergingGroup{{
			ID: "g-banknotes", Terms: []string{"banknote", "blue", "franc"}, Items: 4, Recent: 3, Earlier: 1, Growth: 2,
			FirstSeen: testNow.Add(-20 * time.Hour), LastSeen: testNow.Add(-time.Hour), Sources: []string{"radio-bangui", "blog-bimbo"}, Langs: []string{"en", "fr"},
			Samples: []web.EmergingSample{{ID: "x1", Title: `MINUSCA "blue francs" <script>alert(1)</script>`, Source: "radio-bangui", Lang: "fr", Published: testNow.Add(-20 * time.Hour)}},
		}},
		drafts: map[string]web.DraftEntry{"g-banknotes": {
			ID:        "emerging-banknote-blue",
			Title:     map[string]string{"en": "Draft: banknote, blue", "fr": "Brouillon : banknote, blue"},
			Meaning:   map[string]string{"en": "A new claim.", "fr": "Une nouvelle affirmation."},
			Responses: map[string][]string{"en": {"To be written."}, "fr": {"À rédiger."}},
			Concepts: []web.DraftConcept{
				{Name: "banknote", Terms: map[string][]string{"fr": {"billet", "billets"}, "en": {"banknote", "banknotes"}}},
				{Name: "blue", Terms: map[string][]string{"fr": {"bleu*"}, "en": {"blue"}}},
			},
		}},
		dismissed: map[string]string{},
		promoted:  map[string]web.DraftEntry{},
	}
}

func (f *fakeEmerging) Groups(_ context.Context, since time.Time) ([]web.EmergingGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []web.EmergingGroup
	for _, g := range f.groups {
		if _, gone := f.dismissed[g.ID]; !gone && !g.LastSeen.Before(since) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fakeEmerging) Dismiss(_ context.Context, id, reviewer, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.drafts[id]; !ok {
		return web.ErrNoSuchGroup
	}
	f.dismissed[id] = reviewer + ": " + note
	return nil
}

func (f *fakeEmerging) Draft(_ context.Context, id string) (web.DraftEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.drafts[id]
	if !ok {
		return web.DraftEntry{}, web.ErrNoSuchGroup
	}
	return d, nil
}

func (f *fakeEmerging) Promote(_ context.Context, id string, e web.DraftEntry, admin string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.drafts[id]; !ok {
		return "", web.ErrNoSuchGroup
	}
	if _, ok := f.promoted[e.ID]; ok {
		return "", web.ErrNarrativeExists
	}
	f.promoted[e.ID] = e
	f.dismissed[id] = admin + ": promoted"
	return e.ID, nil
}

func withEarly(em *fakeEmerging) func(*web.Options) {
	return func(o *web.Options) {
		o.Alerts = fakeAlerts(testAlerts)
		o.Emerging = em
	}
}

func TestAlertsPageAndAPI(t *testing.T) {
	e := newEnv(t, withEarly(newFakeEmerging()))
	rc, _ := e.login(storage.RoleReviewer)
	resp, body := e.get(rc, "/alerts")
	if resp.StatusCode != 200 {
		t.Fatalf("/alerts: %d", resp.StatusCode)
	}
	title := html.EscapeString(testCat.Title(weapons, "en"))
	for _, want := range []string{
		title, "31 flags in 6h", "×9.1", "webhook: failed", "attempts: 5", "HTTP 502 &lt;bad gateway&gt;", "email: pending",
		`href="/queue?days=4&amp;mission=MINUSMA%2CMONUSCO&amp;narrative=` + weapons + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alerts page lacks %q", want)
		}
	}
	if strings.Index(body, `id="a-a2"`) > strings.Index(body, `id="a-a1"`) {
		t.Error("alerts not newest first")
	}
	// The link leads to the queue filtered on the narrative.
	resp, _ = e.get(rc, "/queue?days=4&mission=MINUSMA%2CMONUSCO&narrative="+weapons)
	if resp.StatusCode != 200 {
		t.Errorf("queue link: %d", resp.StatusCode)
	}

	// Analysts read alerts, without links to a queue they may not open.
	ac, _ := e.login(storage.RoleAnalyst)
	_, body = e.get(ac, "/alerts")
	if !strings.Contains(body, "31 flags in 6h") || strings.Contains(body, "/queue?") {
		t.Error("analyst: want the alerts without queue links")
	}

	resp, b := e.api("GET", "/api/v1/alerts?limit=1", e.tokens[storage.RoleAnalyst], nil)
	var got struct{ Alerts []web.AlertView }
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("alerts API: %d %v %s", resp.StatusCode, err, b)
	}
	if len(got.Alerts) != 1 || got.Alerts[0].ID != "a2" || len(got.Alerts[0].Deliveries) != 2 || got.Alerts[0].Deliveries[1].Attempts != 5 {
		t.Errorf("alerts API: %+v", got.Alerts)
	}
	if resp, _ := e.api("GET", "/api/v1/alerts?limit=0", e.tokens[storage.RoleAnalyst], nil); resp.StatusCode != 400 {
		t.Errorf("limit=0: %d, want 400", resp.StatusCode)
	}
}

func TestEarlyWarningNotConfigured(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleAdmin)
	for path, want := range map[string]string{"/alerts": "Alerts are not configured", "/emerging": "Emerging rumours are not configured"} {
		resp, body := e.get(c, path)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want %q", path, resp.StatusCode, want)
		}
	}
	for _, path := range []string{"/api/v1/alerts", "/api/v1/emerging"} {
		if resp, _ := e.api("GET", path, e.tokens[storage.RoleAdmin], nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503", path, resp.StatusCode)
		}
	}
}

func TestEmergingDismiss(t *testing.T) {
	fe := newFakeEmerging()
	e := newEnv(t, withEarly(fe))
	c, csrf := e.login(storage.RoleReviewer)
	resp, body := e.get(c, "/emerging")
	for _, want := range []string{"banknote, blue, franc", "radio-bangui, blog-bimbo", "&lt;script&gt;", `action="/emerging/g-banknotes/dismiss"`} {
		if !strings.Contains(body, want) {
			t.Errorf("emerging page lacks %q", want)
		}
	}
	if resp.StatusCode != 200 || strings.Contains(body, "<script>") || strings.Contains(body, "/promote") {
		t.Errorf("emerging page: %d; a reviewer sees no promote link and no raw script", resp.StatusCode)
	}
	// A dismissal without the CSRF token is refused.
	if resp, _ := e.post(c, "/emerging/g-banknotes/dismiss", url.Values{"note": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("dismiss without CSRF: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/emerging/g-banknotes/dismiss", url.Values{"csrf": {csrf}, "note": {"a joke on a comedy show"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss: %d", resp.StatusCode)
	}
	if got := fe.dismissed["g-banknotes"]; got != e.names[storage.RoleReviewer]+": a joke on a comedy show" {
		t.Errorf("dismissal recorded as %q", got)
	}
	if _, body := e.get(c, "/emerging?dismissed=1"); strings.Contains(body, "g-banknotes") || !strings.Contains(body, "Group dismissed.") {
		t.Error("dismissed group still listed")
	}

	// The API: unknown group, then the real one again.
	if resp, _ := e.api("POST", "/api/v1/emerging/g-none/dismiss", e.tokens[storage.RoleReviewer], map[string]string{"note": "n"}); resp.StatusCode != 404 {
		t.Errorf("API dismiss of an unknown group: %d", resp.StatusCode)
	}
	resp, b := e.api("POST", "/api/v1/emerging/g-banknotes/dismiss", e.tokens[storage.RoleAdmin], nil)
	if resp.StatusCode != 200 || fe.dismissed["g-banknotes"] != e.names[storage.RoleAdmin]+": " {
		t.Errorf("API dismiss: %d %s, recorded %q", resp.StatusCode, b, fe.dismissed["g-banknotes"])
	}
	resp, b = e.api("GET", "/api/v1/emerging?hours=24", e.tokens[storage.RoleReviewer], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"groups":[]`) {
		t.Errorf("API emerging after dismissal: %d %s", resp.StatusCode, b)
	}
}

func TestEmergingPromote(t *testing.T) {
	fe := newFakeEmerging()
	e := newEnv(t, withEarly(fe))
	c, _ := e.login(storage.RoleAdmin)
	_, body := e.get(c, "/emerging")
	if !strings.Contains(body, `href="/emerging/g-banknotes/promote"`) {
		t.Fatal("admin sees no promote link")
	}
	resp, body := e.get(c, "/emerging/g-banknotes/promote")
	if resp.StatusCode != 200 {
		t.Fatalf("promote form: %d", resp.StatusCode)
	}
	for _, want := range []string{`value="emerging-banknote-blue"`, "fr: billet, billets\nen: banknote, banknotes", "fr: bleu*\nen: blue", "À rédiger."} {
		if !strings.Contains(body, html.EscapeString(want)) && !strings.Contains(body, want) {
			t.Errorf("promote form lacks %q", want)
		}
	}
	form := url.Values{
		"csrf":           {formToken(t, body)},
		"id":             {"mission-blue-banknotes"},
		"title_en":       {"The mission prints its own banknotes"},
		"title_fr":       {"La mission imprime ses propres billets"},
		"meaning_en":     {"Claims that the mission will replace the CFA franc with blue banknotes."},
		"meaning_fr":     {"Affirme que la mission remplacera le franc CFA par des billets bleus."},
		"responses_en":   {"The mission issues no currency.\n\nOnly the central bank does."},
		"responses_fr":   {"La mission n'émet aucune monnaie."},
		"concept":        {"banknote", "blue"},
		"terms_banknote": {"fr: billet, billets\nen: Banknote, banknotes\nnote*"},
		"terms_blue":     {"fr: bleu*\nen: blue"},
	}
	// Invalid: the id is taken by a catalogued narrative.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("id", weapons)
	resp, body = e.post(c, "/emerging/g-banknotes/promote", bad)
	if resp.StatusCode != 400 || !strings.Contains(body, `id="promote-error"`) || !strings.Contains(body, "The mission prints its own banknotes") {
		t.Errorf("taken id: %d, want the form again with an error and the admin's text", resp.StatusCode)
	}
	resp, _ = e.post(c, "/emerging/g-banknotes/promote", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/emerging?promoted=mission-blue-banknotes" {
		t.Fatalf("promote: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got := fe.promoted["mission-blue-banknotes"]
	if len(got.Concepts) != 2 || !slices.Equal(got.Concepts[0].Terms["en"], []string{"banknote", "banknotes"}) ||
		!slices.Equal(got.Concepts[0].Terms["*"], []string{"note*"}) || len(got.Responses["en"]) != 2 || got.Title["fr"] != "La mission imprime ses propres billets" {
		t.Errorf("promoted entry: %+v", got)
	}
	_, body = e.get(c, "/emerging?promoted=mission-blue-banknotes")
	if !strings.Contains(body, "Narrative mission-blue-banknotes is active") {
		t.Error("no confirmation with the new id")
	}

	// API: draft, then promote it as is (the id is free), then again (taken).
	resp, b := e.api("GET", "/api/v1/emerging/g-banknotes/draft", e.tokens[storage.RoleAdmin], nil)
	var d web.DraftEntry
	if err := json.Unmarshal(b, &d); err != nil || resp.StatusCode != 200 || d.ID != "emerging-banknote-blue" {
		t.Fatalf("API draft: %d %s", resp.StatusCode, b)
	}
	// The draft as is would put placeholders on air: refused (400).
	resp, b = e.api("POST", "/api/v1/emerging/g-banknotes/promote", e.tokens[storage.RoleAdmin], d)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "draft") {
		t.Errorf("API promote of the unedited draft: %d %s, want 400 naming the placeholder", resp.StatusCode, b)
	}
	d.Title = map[string]string{"en": "The mission prints its own banknotes", "fr": "La mission imprime ses propres billets"}
	d.Meaning = map[string]string{"en": "Claims that the mission prints blue banknotes to replace the national currency.", "fr": "Affirmations selon lesquelles la mission imprime des billets bleus pour remplacer la monnaie."}
	d.Responses = map[string][]string{"en": {"The mission prints no money; only the central bank issues currency."}, "fr": {"La mission n'imprime aucune monnaie ; seule la banque centrale en émet."}}
	resp, b = e.api("POST", "/api/v1/emerging/g-banknotes/promote", e.tokens[storage.RoleAdmin], d)
	if resp.StatusCode != 201 || !strings.Contains(string(b), `"narrative":"emerging-banknote-blue"`) {
		t.Errorf("API promote: %d %s", resp.StatusCode, b)
	}
	if resp, _ = e.api("POST", "/api/v1/emerging/g-banknotes/promote", e.tokens[storage.RoleAdmin], d); resp.StatusCode != http.StatusConflict {
		t.Errorf("API promote twice: %d, want 409", resp.StatusCode)
	}
	d.Concepts = nil
	if resp, _ = e.api("POST", "/api/v1/emerging/g-banknotes/promote", e.tokens[storage.RoleAdmin], d); resp.StatusCode != 400 {
		t.Errorf("API promote without terms: %d, want 400", resp.StatusCode)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// TestEarlyWarningPromotion runs the web app as `veille serve` wires it
// (embedded NATS, chDB, the runner's matcher): items of a rumour the
// catalog lacks, in French and English, make an emerging group; an admin
// promotes it through the form; the runner's matcher then flags a new text
// of that rumour with the new narrative, without a restart.
func TestEarlyWarningPromotion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	r, err := run.OpenAll(ctx, cfg, "early-test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	items := readEarlyItems(t, r)
	for _, it := range items {
		res, err := r.Classifier.Classify(ctx, run.DocOf(it))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Flags) > 0 {
			t.Fatalf("item %s is already flagged %s: the test needs an uncatalogued rumour", it.ID, res.Flags[0].Narrative)
		}
	}
	if err := r.Store.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	h, err := webHandler(r, &run.Ops{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, token, err := web.CreateUser(ctx, r.Store, "early-admin", storage.RoleAdmin, "en", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// The group, through the API.
	var list struct{ Groups []web.EmergingGroup }
	apiGet(t, srv.URL+"/api/v1/emerging?hours=48", token, &list)
	var group web.EmergingGroup
	for _, g := range list.Groups {
		for _, s := range g.Samples {
			if strings.HasPrefix(s.ID, "early-fr-") && len(group.ID) == 0 {
				group = g
			}
		}
	}
	if group.ID == "" {
		t.Fatalf("no emerging group of the French rumour items: %+v", list.Groups)
	}
	if group.Items < 3 || slices.ContainsFunc(group.Samples, func(s web.EmergingSample) bool { return strings.HasPrefix(s.ID, "early-other-") }) {
		t.Errorf("group %s: %d items, samples %+v", group.ID, group.Items, group.Samples)
	}
	if group.Samples[0].Title == "" {
		t.Error("samples carry no title")
	}

	// The promotion form, as an admin signed in with the browser.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body := page(t, c, srv.URL+"/login")
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"csrf": {fieldValue(body, "csrf")}, "name": {"early-admin"}, "token": {token}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp.Body.Close()
	body = page(t, c, srv.URL+"/emerging/"+group.ID+"/promote")
	form := url.Values{}
	for _, name := range []string{"csrf", "id", "title_en", "title_fr"} {
		form.Set(name, fieldValue(body, name))
	}
	for _, name := range []string{"meaning_en", "meaning_fr", "responses_en", "responses_fr"} {
		form.Set(name, textarea(body, name))
	}
	for _, m := range regexp.MustCompile(`name="concept" value="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		name := html.UnescapeString(m[1])
		terms := textarea(body, "terms_"+name)
		if strings.Contains(terms, "fr: billets") && !strings.Contains(terms, "banknote") {
			terms += "\nen: banknote*" // the admin adds the English word
		}
		form.Add("concept", name)
		form.Set("terms_"+name, terms)
	}
	if form.Get("id") == "" || form.Get("csrf") == "" || len(form["concept"]) == 0 || !strings.Contains(form.Get("meaning_fr"), "Réécrire") {
		t.Fatalf("promotion form not pre-filled: %v", form)
	}
	const narrative = "mission-blue-banknotes"
	form.Set("id", narrative)
	form.Set("title_en", "The mission will replace the CFA franc with blue banknotes")
	form.Set("title_fr", "La mission remplacera le franc CFA par des billets bleus")
	form.Set("meaning_en", "Claims that the mission prints its own currency to replace the CFA franc.")
	form.Set("meaning_fr", "Affirme que la mission imprime sa propre monnaie pour remplacer le franc CFA.")
	form.Set("responses_en", "The mission issues no currency; only the regional central bank does.")
	form.Set("responses_fr", "La mission n'émet aucune monnaie ; seule la banque centrale régionale le fait.")
	resp, err = c.PostForm(srv.URL+"/emerging/"+group.ID+"/promote", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote: %d\n%s", resp.StatusCode, b)
	}
	if body := page(t, c, srv.URL+resp.Header.Get("Location")); !strings.Contains(body, narrative) {
		t.Errorf("no confirmation naming %s", narrative)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "catalog", narrative+".yaml")); err != nil {
		t.Errorf("promoted entry not saved: %v", err)
	}
	// The promoted narrative finds the texts of the group it came from.
	found, rumour := 0, 0
	for _, it := range items {
		if strings.HasPrefix(it.ID, "early-other-") {
			continue
		}
		rumour++
		res, err := r.Classifier.Classify(ctx, run.DocOf(it))
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(res.Flags, func(f classifiers.Flag) bool { return f.Narrative == narrative }) {
			found++
		}
	}
	if found*3 < rumour*2 {
		t.Errorf("the promoted narrative flags %d of the %d texts of its rumour, want at least two thirds", found, rumour)
	}

	// Another process on the same bus, with a catalog folder of its own,
	// opens a matcher that knows the promoted narrative.
	cfg2 := cfg
	cfg2.DataDir = t.TempDir()
	other := &run.Runner{Config: cfg2, Bus: r.Bus, Log: r.Log}
	if err := other.OpenMatcher(); err != nil {
		t.Fatal(err)
	}

	// The runner's matcher, and the other one, flag new texts of the rumour
	// with it.
	for _, next := range []storage.Item{
		{ID: "early-next-fr", Lang: "fr", Text: "Au marché de Berberati, des vendeuses répètent que la MINUSCA veut remplacer le franc CFA par des billets bleus."},
		{ID: "early-next-en", Lang: "en", Text: "Street vendors in Bouar now say MINUSCA wants to swap the CFA franc for blue banknotes."},
	} {
		for who, m := range map[string]classifiers.Classifier{"promoting process": r.Classifier, "other process": other.Classifier} {
			res, err := m.Classify(ctx, run.DocOf(next))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Flags, func(f classifiers.Flag) bool { return f.Narrative == narrative }) {
				t.Errorf("%s: %s: new text not flagged %s: %+v", who, next.ID, narrative, res.Flags)
			}
		}
	}
	// The promoted group leaves the list; the catalog page shows the narrative.
	apiGet(t, srv.URL+"/api/v1/emerging?hours=48", token, &list)
	for _, g := range list.Groups {
		if g.ID == group.ID {
			t.Errorf("promoted group %s still listed", group.ID)
		}
	}
	if body := page(t, c, srv.URL+"/catalog"); !strings.Contains(body, "La mission remplacera") && !strings.Contains(body, "The mission will replace") {
		t.Error("catalog page lacks the promoted narrative")
	}

	// The alert log, as the alert engine writes it, through the API.
	l, err := alert.OpenLog(ctx, r.Bus.JS, cfg.Replicas)
	if err != nil {
		t.Fatal(err)
	}
	rec := &alert.Record{ID: "early-alert", Kind: alert.KindNew, Rule: "surge", Narrative: narrative, At: time.Now().UTC(), Since: time.Now().Add(-3 * time.Hour).UTC(),
		Window: 6 * 3600, Recent: 9, Baseline: 1, Factor: 5, Missions: []string{"MINUSCA"},
		Deliveries: []alert.Delivery{{Channel: alert.ChannelWebhook, Target: "chat.example", Status: alert.StatusFailed, Attempts: 4, LastError: "HTTP 500"}}}
	if err := l.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	var alerts struct{ Alerts []web.AlertView }
	apiGet(t, srv.URL+"/api/v1/alerts", token, &alerts)
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].ID != rec.ID || alerts.Alerts[0].Deliveries[0].Attempts != 4 || alerts.Alerts[0].Deliveries[0].LastError != "HTTP 500" {
		t.Errorf("alerts API: %+v", alerts.Alerts)
	}
	if body := page(t, c, srv.URL+"/alerts"); !strings.Contains(body, "webhook: failed") || !strings.Contains(body, "narrative="+narrative) {
		t.Error("alerts page lacks the alert, its delivery or its queue link")
	}
}

// readEarlyItems reads testdata/early/items.jsonl, published hours_ago
// before now.
func readEarlyItems(t *testing.T, r *run.Runner) []storage.Item {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "early", "items.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now().UTC().Truncate(time.Second)
	var out []storage.Item
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var it struct {
			storage.Item
			HoursAgo int `json:"hours_ago"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("items.jsonl: %v", err)
		}
		it.Item.ContentHash = it.ID
		it.Item.Kind = "article"
		it.Item.Published = now.Add(-time.Duration(it.HoursAgo) * time.Hour)
		it.Item.Fetched = it.Item.Published.Add(time.Minute)
		out = append(out, it.Item)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func apiGet(t *testing.T, u, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func page(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%.500s", u, resp.StatusCode, b)
	}
	return string(b)
}

// fieldValue is the value of the first input named name.
func fieldValue(body, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*? value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// textarea is the content of the textarea named name.
func textarea(body, name string) string {
	m := regexp.MustCompile(`(?s)<textarea name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/brief"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// trendTotal is the one number of a trends query without dimensions, or
// the number of rows of a query by one dimension: computed here straight
// from storage, apart from the brief's own computation.
func trendTotal(ctx context.Context, t *testing.T, st storage.Store, f storage.Filter, by ...string) int {
	t.Helper()
	tab, err := st.Trends(ctx, storage.TrendQuery{Filter: f, By: by})
	if err != nil {
		t.Fatal(err)
	}
	if len(by) > 0 {
		return len(tab.Rows)
	}
	n, _ := strconv.Atoi(tab.Rows[0][len(tab.Rows[0])-1])
	return n
}

// TestBriefOnTheDemoData writes the briefs of the demo's week: every
// number equals the storage query computed independently; the partner
// brief counts confirmed flags only and holds none of the excluded
// fields; both audiences and both languages render in Chromium; the PDF
// has pages and the brief's title; a scheduled brief is kept and sent to
// a webhook with its link.
func TestBriefOnTheDemoData(t *testing.T) {
	testenv.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data := t.TempDir()
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	if _, err := runDemo(ctx, demoOptions{Data: data, Once: true, Timeout: 2 * time.Minute, Out: devnull}); err != nil {
		t.Fatal(err)
	}
	// From the command line, as an HTML file.
	outHTML := filepath.Join(t.TempDir(), "brief.html")
	out := captureStdout(t, func() error {
		return runBrief(ctx, []string{"--config", writeConfig(t, data), "--from", "9d", "--lang", "fr", "--audience", "internal", "--out", outHTML})
	})
	if b, err := os.ReadFile(outHTML); err != nil || !bytes.Contains(b, []byte("Note hebdomadaire")) || !strings.Contains(out, "wrote "+outHTML) {
		t.Fatalf("veille brief printed %q and wrote %d bytes (%v)", out, len(b), err)
	}

	cfg := config.Default()
	cfg.DataDir = data
	cfg.Briefs.SensitiveSources = []string{"Kivu Watch"}
	cfg.Fetch.Allow = []string{"127.0.0.1"}
	r, err := run.OpenAll(ctx, cfg, "brief-test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	to := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	from := to.AddDate(0, 0, -9)

	// Reviewers decided some flags: confirmed ones feed the partner brief.
	rows, err := r.Store.Queue(ctx, storage.QueueQuery{Filter: storage.Filter{Since: from, Until: to}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var reviews []storage.Review
	note := "NOTE-SECRET reviewer note"
	for i, q := range rows {
		if i%3 == 2 {
			continue
		}
		dec := storage.DecisionConfirm
		if i%5 == 4 {
			dec = storage.DecisionFalsePositive
		}
		reviews = append(reviews, storage.Review{ID: fmt.Sprintf("brief-rv-%d", i), ItemID: q.Flag.ItemID, Narrative: q.Flag.Narrative, Stance: q.Flag.Stance,
			Decision: dec, Reviewer: "rev", Note: note, At: time.Now().UTC()})
	}
	if err := r.Store.InsertReviews(ctx, reviews); err != nil {
		t.Fatal(err)
	}

	// A narrative promoted during the period is a change of the catalog.
	entry, err := os.ReadFile(filepath.Join(testenv.Root(t), "testdata", "catalog-example", "fuel-hoarding.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := run.PutCatalogEntry(ctx, r.Bus, "fuel-hoarding", entry); err != nil {
		t.Fatal(err)
	}

	m := &briefMaker{r: r, ew: newEarlyWarning(r)}
	htmls := map[string][]byte{}
	var internal, partner brief.Brief
	for _, lang := range []string{"en", "fr"} {
		for _, aud := range []brief.Audience{brief.Internal, brief.Partner} {
			b, html, err := m.make(ctx, briefRequest{From: from, To: to, Lang: lang, Audience: aud, By: "test"})
			if err != nil {
				t.Fatal(err)
			}
			htmls[lang+"-"+string(aud)] = html
			if lang == "en" && aud == brief.Internal {
				internal = b
			}
			if lang == "en" && aud == brief.Partner {
				partner = b
			}
		}
	}

	// The internal brief's numbers are the storage queries'.
	f := storage.Filter{Since: from, Until: to}
	h := internal.Headline
	for name, pair := range map[string][2]int{
		"flags":     {h.Flags, trendTotal(ctx, t, r.Store, f)},
		"items":     {h.Items, trendTotal(ctx, t, r.Store, f, "item")},
		"sources":   {h.Sources, trendTotal(ctx, t, r.Store, f, "source")},
		"languages": {h.Languages, trendTotal(ctx, t, r.Store, f, "lang")},
	} {
		if pair[0] != pair[1] || pair[0] == 0 {
			t.Errorf("brief %s = %d, storage says %d", name, pair[0], pair[1])
		}
	}
	for _, n := range internal.Narratives {
		nf := f
		nf.Narratives = []string{n.ID}
		if want := trendTotal(ctx, t, r.Store, nf); n.Flags != want {
			t.Errorf("narrative %s: %d flags in the brief, %d in storage", n.ID, n.Flags, want)
		}
		// The daily chart is the rows of the same count by day.
		tab, err := r.Store.Trends(ctx, storage.TrendQuery{Filter: nf, By: []string{"day"}})
		if err != nil {
			t.Fatal(err)
		}
		byDay := map[string]int{}
		for _, row := range tab.Rows {
			byDay[row[0]], _ = strconv.Atoi(row[1])
		}
		first := from.UTC().Truncate(24 * time.Hour)
		for i, c := range n.Daily {
			if day := first.AddDate(0, 0, i).Format(time.DateOnly); c != byDay[day] {
				t.Errorf("narrative %s on %s: %d flags in the brief's chart, %d by day in storage", n.ID, day, c, byDay[day])
			}
		}
	}
	decided, confirmed := 0, 0
	for _, rv := range reviews {
		decided++
		if rv.Decision == storage.DecisionConfirm {
			confirmed++
		}
	}
	if want := float64(decided) / float64(h.Flags); h.Reviewed < want-1e-9 || h.Reviewed > want+1e-9 {
		t.Errorf("share reviewed %v, want %d/%d", h.Reviewed, decided, h.Flags)
	}
	if partner.Headline.Flags != confirmed {
		t.Errorf("partner brief counts %d flags, %d were confirmed", partner.Headline.Flags, confirmed)
	}
	if !strings.Contains(strings.Join(internal.Changes, "\n"), "fuel-hoarding") || len(partner.Changes) != 0 {
		t.Errorf("changes %q (partner %q): want the promoted narrative, internal only", internal.Changes, partner.Changes)
	}
	for _, fig := range internal.Appendix {
		if !strings.HasPrefix(fig.Query, "veille query ") {
			t.Errorf("figure %q has no command: %q", fig.Label, fig.Query)
		}
	}
	// The command printed for the total gives the total.
	out = captureStdout(t, func() error {
		return runQuery(ctx, []string{"trends", "--config", writeConfig(t, data), "--since", from.Format(time.RFC3339), "--until", to.Format(time.RFC3339), "--by", "", "--format", "csv"})
	})
	if !strings.Contains(out, "\n"+strconv.Itoa(h.Flags)+"\n") && !strings.HasSuffix(strings.TrimSpace(out), strconv.Itoa(h.Flags)) {
		t.Errorf("veille query trends --by \"\" printed %q, the brief says %d", out, h.Flags)
	}

	// Partner briefs hold none of the excluded fields.
	secrets := []string{note, "Kivu Watch"}
	for _, n := range internal.Narratives {
		for _, it := range n.Notable {
			if it.Author != "" {
				secrets = append(secrets, it.Author)
			}
			if it.URL != "" {
				secrets = append(secrets, it.URL)
			}
		}
	}
	if !bytes.Contains(htmls["en-internal"], []byte("Kivu Watch")) {
		t.Error("the internal brief does not name the sensitive source: the test proves nothing")
	}
	for _, key := range []string{"en-partner", "fr-partner"} {
		for _, s := range secrets {
			if bytes.Contains(htmls[key], []byte(s)) || bytes.Contains(htmls[key], []byte(htmlEscape(s))) {
				t.Errorf("%s brief holds %q", key, s)
			}
		}
	}

	// Both audiences and languages render in Chromium; the PDF prints.
	chromium, err := brief.ChromiumPath()
	if err != nil {
		testenv.Missing(t, "chromium")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(420, 900), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	dir := t.TempDir()
	for key, html := range htmls {
		path := filepath.Join(dir, key+".html")
		if err := os.WriteFile(path, html, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate("file://"+path)); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(bctx, chromedp.Evaluate[string]("document.body.innerText"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"en": "Narratives by volume", "fr": "Narratifs"}[key[:2]]
		if !strings.Contains(text, want) {
			t.Errorf("%s brief in Chromium lacks %q:\n%.500s", key, want, text)
		}
		if key == "fr-internal" {
			png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
			if err == nil && os.Getenv("VEILLE_SCREENSHOTS") != "" {
				_ = os.WriteFile(filepath.Join(testenv.Root(t), os.Getenv("VEILLE_SCREENSHOTS"), "brief.png"), png, 0o644)
			}
		}
	}
	pdf, err := brief.PDF(ctx, htmls["en-internal"])
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || pages < 2 || pages > 40 {
		t.Errorf("PDF: %d bytes, %d pages; want a PDF of 2 to 40 A4 pages", len(pdf), pages)
	}
	if !bytes.Contains(pdf, []byte("/Title")) {
		t.Error("the PDF has no title")
	}
	// Read back with poppler: the same page count, and the brief's words.
	pdfPath := filepath.Join(dir, "brief.pdf")
	if err := os.WriteFile(pdfPath, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		testenv.Missing(t, "pdftotext (poppler-utils)")
	}
	info, err := exec.CommandContext(ctx, "pdfinfo", pdfPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info); m == nil || string(m[1]) != strconv.Itoa(pages) {
		t.Errorf("pdfinfo says %q, the PDF's page objects %d", m, pages)
	}
	text, err := exec.CommandContext(ctx, "pdftotext", pdfPath, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Weekly disinformation brief", "Narratives by volume", internal.Narratives[0].Name, strconv.Itoa(internal.Headline.Flags)} {
		if !strings.Contains(strings.Join(strings.Fields(string(text)), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}

	// From the web app's API, as an analyst.
	app, err := webHandler(r, &run.Ops{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	_, analyst, err := web.CreateUser(ctx, r.Store, "brief-analyst", storage.RoleAnalyst, "en", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	made := apiPost(t, srv.URL+"/api/v1/briefs", analyst, map[string]any{"days": 3, "lang": "en", "audience": "partner", "mission": "MONUSCO"}, http.StatusCreated)
	var madeResp struct{ ID string }
	if err := json.Unmarshal(made, &madeResp); err != nil || madeResp.ID == "" {
		t.Fatalf("API brief answered %s", made)
	}
	if kept, err := r.Store.Brief(ctx, madeResp.ID); err != nil || kept.Mission != "MONUSCO" || kept.Audience != "partner" || kept.MadeBy != "brief-analyst" {
		t.Errorf("brief made through the API kept as %+v (%v)", kept, err)
	}

	// A scheduled brief: kept, and its link posted to the webhook.
	var mu sync.Mutex
	var posted []alert.WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var body alert.WebhookBody
		_ = json.Unmarshal(b, &body)
		mu.Lock()
		posted = append(posted, body)
		mu.Unlock()
	}))
	defer hook.Close()
	courier, err := alert.NewCourier(r.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := config.BriefSchedule{Name: "weekly", Lang: "fr", Audience: "partner", Webhook: hook.URL + "/hooks/x"}
	if err := m.scheduled(courier)(ctx, s, from, to); err != nil {
		t.Fatal(err)
	}
	if len(posted) != 1 || !strings.Contains(posted[0].Text, "/briefs/") {
		t.Fatalf("webhook got %+v, want one message with the brief's link", posted)
	}
	kept, err := r.Store.Briefs(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range kept {
		found = found || k.MadeBy == "schedule:weekly"
	}
	// The scheduled brief has the parameters of the French partner one made
	// above: it replaced it under the same id.
	if !found || len(kept) != 6 {
		t.Errorf("kept briefs %+v: want six (one from the command line, one from the API), the French partner one made by the schedule", kept)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// writeConfig writes a veille.yaml naming data as the data folder.
func writeConfig(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "veille.yaml")
	if err := os.WriteFile(p, []byte("data_dir: "+data+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

package web_test

import (
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/storage"
)

// browserEnv is a headless Chromium driving the app, recording every
// dialog and console error a page raises.
type browserEnv struct {
	*env
	ctx   context.Context
	shots string

	mu       sync.Mutex
	dialogs  []string
	problems []string
}

func chromiumPath(t *testing.T) string {
	testenv.Integration(t)
	for _, p := range []string{os.Getenv("VEILLE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	testenv.Missing(t, "chromium")
	return ""
}

// newBrowser starts a fresh Chromium (own profile) on a fresh app, with a
// deadline for the whole journey.
func newBrowser(t *testing.T, width, height int) *browserEnv {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	b := &browserEnv{env: newEnv(t, withEarly(newFakeEmerging())), shots: t.TempDir()}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Type.String()+": "+ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	tctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(cancel)
	b.ctx = tctx
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.dialogs) > 0 {
			t.Errorf("pages opened dialogs: %q", b.dialogs)
		}
		if len(b.problems) > 0 {
			t.Errorf("pages logged errors: %q", b.problems)
		}
	})
	return b
}

func (b *browserEnv) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browserEnv) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](b *browserEnv, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitLoaded waits until the page's location satisfies ok, then for the
// new page's h1: after a click that submits a form, the old page's h1 is
// still there for a moment. Evaluations that fail while the page changes
// are retried.
func (b *browserEnv) waitLoaded(ok func(href string) bool) {
	b.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("location.href"))
		if err == nil && ok(href) {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page did not change as expected (at %q, %v)", href, err)
		}
	}
	b.do(chromedp.WaitVisible(chromedp.CSS("body")))
}

// login signs in through the form, as a person would.
func (b *browserEnv) login(role string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(b.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), b.names[role]),
		chromedp.SendKeys(chromedp.ID("token"), b.tokens[role]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("nav")),
	)
}

// shot saves a screenshot of the viewport under the test's temp dir and,
// when VEILLE_SCREENSHOTS names a directory, there too (for the guides in docs/).
func (b *browserEnv) shot(name string) { b.capture(name, chromedp.CaptureScreenshot()) }

func (b *browserEnv) capture(name string, action chromedp.Action[[]byte]) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, action)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if dir := os.Getenv("VEILLE_SCREENSHOTS"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(testenv.Root(b.t), dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

func TestBrowserEachRoleLandsOnItsPage(t *testing.T) {
	b := newBrowser(t, 1000, 760)
	b.do(chromedp.Navigate(b.srv.URL + "/login"))
	b.do(chromedp.WaitVisible(chromedp.ID("signin")))
	b.shot("login")
	for _, tc := range []struct {
		role, path, heading string
		pages               []string
	}{
		{storage.RoleReviewer, "/queue", "Review queue", []string{"queue"}},
		{storage.RoleRadio, "/check", "Vérifier une rumeur", []string{"check"}},
		{storage.RoleAnalyst, "/trends", "Trends", []string{"trends"}},
		{storage.RoleAdmin, "/queue", "Review queue", []string{"sources", "catalog", "users", "alerts", "emerging"}},
	} {
		b.login(tc.role)
		if loc := eval[string](b, "location.pathname"); loc != tc.path {
			t.Errorf("%s landed on %s, want %s", tc.role, loc, tc.path)
		}
		if h := b.text("h1"); h != tc.heading {
			t.Errorf("%s: heading %q, want %q", tc.role, h, tc.heading)
		}
		for _, p := range tc.pages {
			b.do(chromedp.Navigate(b.srv.URL+"/"+p), chromedp.WaitVisible(chromedp.CSS("h1")))
			b.shot(p)
		}
		b.do(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("signin")))
	}
}

func TestBrowserReviewerConfirmsFlag(t *testing.T) {
	b := newBrowser(t, 1000, 900)
	sfx := randomSuffix()
	if err := seed(context.Background(), testStore, fixture[:1], sfx); err != nil {
		t.Fatal(err)
	}
	id := fixture[0].ID + sfx
	b.login(storage.RoleReviewer)
	b.do(chromedp.Navigate(b.srv.URL+"/items/"+id), chromedp.WaitVisible(chromedp.CSS("form.review")))
	if got := b.text("#item-text mark"); got != "les casques bleus livrent des armes aux rebelles la nuit" {
		t.Fatalf("highlighted evidence %q", got)
	}
	b.shot("item")
	b.do(
		chromedp.Click(chromedp.CSS(`form.review input[value="confirm"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.review textarea[name="note"]`), "Entendu deux fois sur Radio Gao"),
		chromedp.Click(chromedp.CSS(`form.review button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#reviews")),
	)
	if got := b.text(".flag .current"); !strings.Contains(got, "confirmed") {
		t.Fatalf("after reload the flag's decision reads %q, want confirmed", got)
	}
	if got := b.text("#reviews"); !strings.Contains(got, "Entendu deux fois") || !strings.Contains(got, b.names["reviewer"]) {
		t.Fatalf("review history %q lacks the note or the reviewer", got)
	}
}

func TestBrowserRadioChecksFrenchRumour(t *testing.T) {
	b := newBrowser(t, 360, 800)
	b.do(chromedp.EmulateViewport(360, 800, chromedp.EmulateMobile)) // a phone
	b.login(storage.RoleRadio)
	b.do(
		chromedp.Navigate(b.srv.URL+"/check"),
		chromedp.WaitVisible(chromedp.ID("rumour")),
		chromedp.SendKeys(chromedp.ID("rumour"), frenchRumour),
		chromedp.Click(chromedp.ID("check")),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
	if got, want := b.text(`#result .flag h3`), testCat.Title(weapons, "fr"); !strings.Contains(got, want) {
		t.Fatalf("narrative %q", got)
	}
	if got, want := b.text("#result .responses"), testCat.Responses(weapons, "fr")[0]; !strings.Contains(got, want) {
		t.Fatalf("response lines %q, want the French ones", got)
	}
	if got := b.text("#result .total"); got == "" || got == "0" {
		t.Fatalf("times seen %q", got)
	}
	if w := eval[int](b, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("page is %d px wide on a 360 px screen", w)
	}
	b.shot("check-result")
	// The same page works with JavaScript off.
	b.do(
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(b.srv.URL+"/check"),
		chromedp.WaitVisible(chromedp.ID("rumour")),
		chromedp.SendKeys(chromedp.ID("rumour"), frenchRumour),
		chromedp.Click(chromedp.ID("check")),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
}

func TestBrowserAnalystChartAndCSV(t *testing.T) {
	b := newBrowser(t, 1100, 900)
	b.login(storage.RoleAnalyst)
	b.do(chromedp.Navigate(b.srv.URL+"/trends?days=30"), chromedp.WaitVisible(chromedp.CSS("svg#chart")))
	if n := eval[int](b, "document.querySelectorAll('svg#chart polyline').length"); n == 0 {
		t.Fatal("chart has no line")
	}
	b.shot("trends")
	var table [][]string
	table = eval[[][]string](b, `Array.from(document.querySelectorAll('#figures tr')).map(r => Array.from(r.cells).map(c => c.textContent))`)
	dir := t.TempDir()
	progress := chromedp.Events(b.ctx, browser.DownloadProgress)
	b.do(
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.ID("csv")),
	)
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download cancelled")
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || len(rows) != len(table) {
		t.Fatalf("csv has %d rows, the table %d", len(rows), len(table))
	}
	for i := range rows {
		if strings.Join(rows[i], "|") != strings.Join(table[i], "|") {
			t.Errorf("row %d: csv %v, table %v", i, rows[i], table[i])
		}
	}
}

func TestBrowserHostileItemDoesNotRun(t *testing.T) {
	b := newBrowser(t, 1000, 900)
	b.login(storage.RoleReviewer)
	b.do(
		chromedp.Navigate(b.srv.URL+"/items/t-xss-1"),
		chromedp.WaitVisible(chromedp.ID("item-text")),
		// Open the sanitised original too, so any surviving payload would fire.
		chromedp.Click(chromedp.CSS("article details summary")),
		chromedp.Sleep(300*time.Millisecond),
	)
	if got := b.text("#item-title"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Fatalf("title %q: the payload should show as text", got)
	}
	if n := eval[int](b, "document.querySelectorAll('main script, main img[onerror], main [onerror]').length"); n != 0 {
		t.Fatalf("%d live script or handler elements in the page", n)
	}
	if got := b.text("#item-text mark"); !strings.Contains(got, "<img src=x onerror=alert(1)>") {
		t.Fatalf("highlighted evidence %q", got)
	}
	// The dialog and console checks run at cleanup.
}

func ptr[T any](v T) *T { return &v }

// TestBrowserNarrowScreens opens every page on a 360 px phone screen and
// checks nothing makes the page scroll sideways.
func TestBrowserNarrowScreens(t *testing.T) {
	b := newBrowser(t, 360, 800)
	b.do(chromedp.EmulateViewport(360, 800, chromedp.EmulateMobile))
	b.login(storage.RoleAdmin)
	for _, p := range []string{"/queue", "/items/" + fixture[0].ID, "/check", "/trends", "/sources", "/catalog", "/users", "/alerts", "/emerging", "/emerging/g-banknotes/promote"} {
		b.do(chromedp.Navigate(b.srv.URL+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		if w := eval[int](b, "document.documentElement.scrollWidth"); w > 360 {
			t.Errorf("%s is %d px wide on a 360 px screen", p, w)
		}
	}
}

// TestBrowserAdminPromotesModelAnalystWritesBrief: in Chromium, an admin
// promotes the candidate the gate passed from the Models page and sees it
// active; an analyst writes a partner brief from the Briefs page and reads
// it.
func TestBrowserAdminPromotesModelAnalystWritesBrief(t *testing.T) {
	b := newBrowser(t, 1000, 900)
	b.login(storage.RoleAdmin)
	b.do(chromedp.Navigate(b.srv.URL+"/models"), chromedp.WaitVisible(chromedp.ID("versions")))
	if got := b.text("#active"); !strings.Contains(got, "m-builtin") {
		t.Fatalf("active model section reads %q", got)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`form[action="/models/m-good/promote"] button`)),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
	)
	if got := b.text("#active"); !strings.Contains(got, "m-good") {
		t.Fatalf("after promotion the active model reads %q, want m-good", got)
	}
	b.shot("models")
	b.do(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("signin")))

	b.login(storage.RoleAnalyst)
	b.do(
		chromedp.Navigate(b.srv.URL+"/briefs"),
		chromedp.WaitVisible(chromedp.ID("brief-form")),
		chromedp.SetValue(chromedp.CSS(`#brief-form select[name="audience"]`), "partner"),
		chromedp.Click(chromedp.CSS(`#brief-form button[type="submit"]`)),
	)
	b.waitLoaded(func(href string) bool { return strings.Contains(href, "/briefs/") })
	if got := eval[string](b, "document.body.innerText"); !strings.Contains(got, "BRIEF-BODY") {
		t.Fatalf("the written brief reads %q", got)
	}
	b.do(chromedp.Navigate(b.srv.URL+"/briefs"), chromedp.WaitVisible(chromedp.ID("briefs")))
	if got := b.text("#briefs"); !strings.Contains(got, "partner") {
		t.Fatalf("the briefs list reads %q", got)
	}
	b.shot("briefs")
}

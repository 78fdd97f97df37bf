package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// widths are the screens each journey is walked on: a phone and a desktop.
var widths = []struct {
	name string
	w, h int
}{{"phone", 390, 844}, {"desktop", 1280, 900}}

// onScreen opens a browser the size of the screen, a phone as a phone.
func onScreen(t *testing.T, w, h int) *browserEnv {
	b := newBrowser(t, w, h)
	if w < 700 {
		b.do(chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateMobile))
	}
	return b
}

// TestBrowserReviewerJourney decides the two flags of one narrative on a
// radio transcript apart, then adds a narrative the classifier missed.
func TestBrowserReviewerJourney(t *testing.T) {
	for _, sz := range widths {
		t.Run(sz.name, func(t *testing.T) {
			b := onScreen(t, sz.w, sz.h)
			ctx := context.Background()
			id := "t-journey" + randomSuffix()
			text := "Un auditeur dit que les casques bleus livrent des armes aux rebelles. L'invité répond que c'est faux, aucune livraison n'a eu lieu. Il ajoute que la mission est une armée d'occupation."
			it := storage.Item{ID: id, ContentHash: id, Source: "radio-gao", Kind: "transcript", Lang: "fr", Mission: "MINUSMA", Text: text,
				Published: testNow.Add(-2 * time.Hour), Fetched: testNow.Add(-time.Hour)}
			if err := testStore.InsertItems(ctx, []storage.Item{it}); err != nil {
				t.Fatal(err)
			}
			mk := func(stance, ev string) storage.Flag {
				i := strings.Index(text, ev)
				return storage.Flag{ItemID: id, Narrative: weapons, Stance: stance, Score: 0.9, ClassifierVersion: "fixture",
					Source: it.Source, Lang: "fr", Mission: "MINUSMA", Published: it.Published,
					Evidence: []storage.Evidence{{Start: i, End: i + len(ev), Text: ev}}}
			}
			if err := testStore.InsertFlags(ctx, []storage.Flag{mk("assert", "les casques bleus livrent des armes aux rebelles"), mk("debunk", "c'est faux, aucune livraison n'a eu lieu")}); err != nil {
				t.Fatal(err)
			}
			b.login(storage.RoleReviewer)
			decide := func(stance, decision string) {
				form := `section.flag form.review:has(input[name="stance"][value="` + stance + `"])`
				b.do(
					chromedp.Navigate(b.srv.URL+"/items/"+id),
					chromedp.WaitVisible(chromedp.CSS(form)),
					chromedp.Click(chromedp.CSS(form+` input[value="`+decision+`"]`)),
					chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
					chromedp.WaitVisible(chromedp.CSS("p.ok")),
				)
			}
			decide("assert", "confirm")
			decide("debunk", "false_positive")
			b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#reviews")))
			states := eval[[]string](b, `[...document.querySelectorAll("section.flag .current")].map(e => e.textContent)`)
			if len(states) != 2 || !strings.Contains(states[0], "confirmed") || !strings.Contains(states[1], "false positive") {
				t.Fatalf("decisions shown %q, want the asserting flag confirmed and the debunking one a false positive", states)
			}
			if got := b.text("#reviews"); !strings.Contains(got, "asserts") || !strings.Contains(got, "debunks") {
				t.Fatalf("history %q does not say which flag each decision was for", got)
			}
			// The classifier missed the occupation claim: add it.
			b.do(
				chromedp.Navigate(b.srv.URL+"/items/"+id),
				chromedp.WaitVisible(chromedp.CSS(`#missed textarea[name="evidence"]`)),
				chromedp.SetValue(chromedp.CSS(`#missed select[name="narrative"]`), "foreign-occupation"),
				chromedp.SetValue(chromedp.CSS(`#missed select[name="stance"]`), "assert"),
				chromedp.SendKeys(chromedp.CSS(`#missed textarea[name="evidence"]`), "la mission est une armée d'occupation"),
				chromedp.Click(chromedp.CSS(`#missed button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`section.flag[data-narrative="foreign-occupation"]`)),
			)
			if got := b.text("#item-text"); !strings.Contains(got, "armée d'occupation") {
				t.Fatalf("item text %q", got)
			}
			marks := eval[[]string](b, `[...document.querySelectorAll("#item-text mark")].map(e => e.textContent)`)
			if !slices.Contains(marks, "la mission est une armée d'occupation") {
				t.Fatalf("marks %q lack the added evidence", marks)
			}
			if w := eval[int](b, "document.documentElement.scrollWidth"); w > sz.w {
				t.Errorf("page is %d px wide on a %d px screen", w, sz.w)
			}
		})
	}
}

// TestBrowserRadioJourney checks a rumour pasted with a line break as a
// Kiswahili-speaking MONUSCO station would.
func TestBrowserRadioJourney(t *testing.T) {
	for _, sz := range widths {
		t.Run(sz.name, func(t *testing.T) {
			b := onScreen(t, sz.w, sz.h)
			name := "radio-goma" + strings.ReplaceAll(randomSuffix(), "-", "")
			_, tok, err := web.CreateUserWith(context.Background(), testStore, web.NewUser{Name: name, Role: storage.RoleRadio, Lang: "sw", Mission: "MONUSCO"}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			b.names["station"], b.tokens["station"] = name, tok
			b.login("station")
			rumour := "  Walinda amani wa MONUSCO wanawapa\nwaasi wa M23 silaha usiku."
			b.do(
				chromedp.Navigate(b.srv.URL+"/check"),
				chromedp.WaitVisible(chromedp.ID("rumour")),
				chromedp.SetValue(chromedp.ID("rumour"), rumour),
				chromedp.Click(chromedp.ID("check")),
				chromedp.WaitVisible(chromedp.ID("result")),
			)
			if got := b.text("#result .flag h3"); !strings.Contains(got, testCat.Title(weapons, "fr")) {
				t.Fatalf("narrative %q: the line break lost the match", got)
			}
			if want := testCat.Responses(weapons, "sw"); len(want) > 0 {
				if got := b.text("#response-lang"); !strings.Contains(got, "Kiswahili") {
					t.Fatalf("response language line %q, want Kiswahili named", got)
				}
				if got := b.text("#result .responses"); !strings.Contains(got, want[0]) {
					t.Fatalf("response lines %q, want the Kiswahili ones", got)
				}
			}
			if got := b.text("#mission"); !strings.Contains(got, "MONUSCO") {
				t.Fatalf("mission line %q", got)
			}
			if marks := eval[[]string](b, `[...document.querySelectorAll("#result .text mark")].map(e => e.textContent)`); len(marks) == 0 || !strings.Contains(strings.Join(marks, " "), "silaha") {
				t.Fatalf("highlight %q does not fall on the rumour's words", marks)
			}
			if w := eval[int](b, "document.documentElement.scrollWidth"); w > sz.w {
				t.Errorf("page is %d px wide on a %d px screen", w, sz.w)
			}
		})
	}
}

// TestBrowserAnalystAndAdminJourneys changes the rising window and creates
// a Sango-speaking station.
func TestBrowserAnalystAndAdminJourneys(t *testing.T) {
	for _, sz := range widths {
		t.Run(sz.name, func(t *testing.T) {
			b := onScreen(t, sz.w, sz.h)
			b.login(storage.RoleAnalyst)
			b.do(
				chromedp.Navigate(b.srv.URL+"/trends?days=30"),
				chromedp.WaitVisible(chromedp.CSS(`select[name="rising"]`)),
				chromedp.SetValue(chromedp.CSS(`select[name="rising"]`), "168"),
				chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
			)
			b.waitLoaded(func(href string) bool { return strings.Contains(href, "rising=168") })
			b.do(chromedp.WaitVisible(chromedp.CSS("h1")))
			if got := eval[string](b, `document.body.innerText`); !strings.Contains(got, "last 168 hours") {
				t.Fatalf("the rising table does not say its window after choosing 7 days")
			}
			if sizes := eval[[]float64](b, `[...document.querySelectorAll("svg#chart text")].map(e => e.getBoundingClientRect().height)`); len(sizes) > 0 {
				for _, h := range sizes {
					if h < 8 {
						t.Fatalf("chart label %.1f px tall: unreadable", h)
					}
				}
			}
			admin := onScreen(t, sz.w, sz.h)
			admin.login(storage.RoleAdmin)
			name := "radio-bria" + strings.ReplaceAll(randomSuffix(), "-", "")
			admin.do(
				chromedp.Navigate(admin.srv.URL+"/users"),
				chromedp.WaitVisible(chromedp.CSS(`form[action="/users"]`)),
				chromedp.SendKeys(chromedp.CSS(`form[action="/users"] input[name="name"]`), name),
				chromedp.SetValue(chromedp.CSS(`form[action="/users"] select[name="role"]`), "radio"),
				chromedp.SetValue(chromedp.CSS(`form[action="/users"] select[name="lang"]`), "sg"),
				chromedp.SetValue(chromedp.CSS(`form[action="/users"] select[name="mission"]`), "MINUSCA"),
				chromedp.Click(chromedp.CSS(`form[action="/users"] button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.ID("new-token")),
			)
			row := eval[string](admin, `[...document.querySelectorAll("table.stack tbody tr")].map(r => r.innerText).find(t => t.includes("`+name+`")) || ""`)
			if !strings.Contains(row, "Sängö") || !strings.Contains(row, "MINUSCA") || !strings.Contains(row, "Français") {
				t.Fatalf("the new station's row reads %q, want responses in Sängö, interface in French, mission MINUSCA", row)
			}
			// On a phone every button of the table is within the screen.
			if right := eval[float64](admin, `Math.max(0, ...[...document.querySelectorAll("table.stack button")].map(e => e.getBoundingClientRect().right))`); right > float64(sz.w) {
				t.Errorf("a button of the users table ends at %.0f px on a %d px screen", right, sz.w)
			}
		})
	}
}

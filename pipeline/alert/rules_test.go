package alert

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
)

func TestCompileRules(t *testing.T) {
	tests := []struct {
		name    string
		in      config.AlertRule
		wantErr bool
		check   func(r rule) string
	}{
		{"defaults", config.AlertRule{Name: "a"}, false, func(r rule) string {
			if r.window != DefaultWindow || r.baseline != DefaultBaseline || r.cooldown != DefaultCooldown ||
				r.Factor != DefaultFactor || r.minCount != DefaultMinCount || r.margin != DefaultUpdateMargin ||
				r.maxUpdates != DefaultMaxUpdates || r.Lang != "en" {
				return "defaults not applied"
			}
			return ""
		}},
		{"threshold only keeps no factor", config.AlertRule{Name: "b", Threshold: 10}, false, func(r rule) string {
			if r.Factor != 0 || r.Threshold != 10 {
				return "a threshold rule got a factor"
			}
			return ""
		}},
		{"french", config.AlertRule{Name: "c", Lang: "fr", Window: config.Duration(2 * time.Hour)}, false, func(r rule) string {
			if r.Lang != "fr" || r.window != 2*time.Hour {
				return "lang or window lost"
			}
			return ""
		}},
		{"no name", config.AlertRule{}, true, nil},
		{"unknown lang", config.AlertRule{Name: "d", Lang: "de"}, true, nil},
		{"negative factor", config.AlertRule{Name: "e", Factor: -1}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := compileRules([]config.AlertRule{tc.in})
			if tc.wantErr {
				if !errors.Is(err, ErrRule) {
					t.Fatalf("err = %v, want ErrRule", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(rs[0]); msg != "" {
				t.Error(msg)
			}
		})
	}
	if _, err := compileRules([]config.AlertRule{{Name: "x"}, {Name: "x"}}); !errors.Is(err, ErrRule) {
		t.Errorf("duplicate names: %v, want ErrRule", err)
	}
}

func TestRuleFires(t *testing.T) {
	rs, err := compileRules([]config.AlertRule{
		{Name: "threshold", Threshold: 10},
		{Name: "factor", Factor: 3, MinCount: 4},
		{Name: "both", Threshold: 10, Factor: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule   int
		recent int64
		factor float64
		want   bool
		what   string
	}{
		{0, 9, 100, false, "below threshold"},
		{0, 10, 0.5, true, "at threshold, whatever the factor"},
		{1, 3, 4, false, "factor met, too few flags"},
		{1, 4, 2.9, false, "enough flags, factor short"},
		{1, 4, 3, true, "both met"},
		{2, 12, 2, false, "threshold met, factor short"},
		{2, 12, 3.5, true, "both met"},
	}
	for _, tc := range tests {
		row := storage.RisingRow{Narrative: "n", Recent: tc.recent, Factor: tc.factor}
		if got := rs[tc.rule].fires(row); got != tc.want {
			t.Errorf("%s: %s: fires = %v, want %v", rs[tc.rule].Name, tc.what, got, tc.want)
		}
	}
	r := rs[0]
	if r.grew(13, 7) || !r.grew(14, 7) || r.grew(0, 0) {
		t.Error("update margin 1 must need the count doubled")
	}
}

func TestReviewURLAndSpans(t *testing.T) {
	rs, _ := compileRules([]config.AlertRule{{Name: "r", Missions: []string{"MONUSCO", "MINUSCA"}, Langs: []string{"fr"},
		Window: config.Duration(36 * time.Hour)}})
	u := reviewURL("https://veille.example.org/", &rs[0], "weapons-to-armed-groups")
	want := "https://veille.example.org/queue?days=2&lang=fr&mission=MONUSCO%2CMINUSCA&narrative=weapons-to-armed-groups"
	if u != want {
		t.Errorf("reviewURL = %s\nwant        %s", u, want)
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "90m", 48 * time.Hour: "2d", 1500 * time.Millisecond: "1.5s"} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestChatSafeNeutralisesMarkup(t *testing.T) {
	got := chatSafe("<!channel> @all see <https://evil.example|click> & more")
	for _, bad := range []string{"<!channel>", "@all", "<https://"} {
		if strings.Contains(got, bad) {
			t.Errorf("chatSafe left %q in %q", bad, got)
		}
	}
	if !strings.Contains(got, "&amp; more") {
		t.Errorf("chatSafe(%q): ampersand not escaped", got)
	}
}

func TestRenderSpeaksTheRuleLanguage(t *testing.T) {
	rs, _ := compileRules([]config.AlertRule{{Name: "r", Lang: "fr"}, {Name: "r2", Lang: "en"}})
	at := time.Date(2026, 5, 4, 10, 10, 0, 0, time.UTC)
	for i, want := range []string{"Hausse du narratif", "Surge of the narrative"} {
		rec := Record{Kind: KindNew, Rule: rs[i].Name, Narrative: "n", Title: "T", Lang: rs[i].Lang, At: at, Since: at.Add(-10 * time.Minute),
			Window: 3600, Recent: 7, Baseline: 0.25, Factor: 6.4, ReviewURL: "https://x/queue?narrative=n",
			Items: []Item{{ID: "i1", Title: "Un titre", Source: "radio", Lang: "fr", Published: at, Stance: "assert", Score: 0.9, Evidence: []string{"des armes"}}}}
		render(&rec, &rs[i], time.Time{})
		for _, part := range []string{want, "6.4", "2026-05-04 10:00 UTC", "Un titre", "“des armes”", "https://x/queue?narrative=n"} {
			if !strings.Contains(rec.Text, part) {
				t.Errorf("%s text lacks %q:\n%s", rec.Lang, part, rec.Text)
			}
		}
	}
}

func TestGuardRefusesPrivateAddresses(t *testing.T) {
	g, err := newGuard(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newWebhook(g, 2*time.Second)
	rec := &Record{ID: "a-1", Text: "x"}
	for _, target := range []string{"127.0.0.1", "10.0.0.8", "169.254.169.254", "[::1]", "192.168.1.1"} {
		t.Run(target, func(t *testing.T) {
			err := h.send(context.Background(), "http://"+target+":9/hook", rec)
			if !errors.Is(err, ErrPrivateAddress) {
				t.Fatalf("send(%s) = %v, want ErrPrivateAddress", target, err)
			}
		})
	}
	// The allow-list opens exactly what it names.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	allowed, err := newGuard([]string{strings.TrimPrefix(hook.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	if err := newWebhook(allowed, 2*time.Second).send(context.Background(), hook.URL+"/hook", rec); err != nil {
		t.Errorf("allow-listed webhook refused: %v", err)
	}
	if err := newWebhook(allowed, 2*time.Second).send(context.Background(), "http://127.0.0.2:9/hook", rec); !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("an address the allow-list does not name: %v, want ErrPrivateAddress", err)
	}
	if _, err := newGuard([]string{"not a host/with spaces"}); err == nil {
		t.Error("a malformed allow-list entry was accepted")
	}
	if err := h.send(context.Background(), "file:///etc/passwd", rec); err == nil || errors.Is(err, ErrPrivateAddress) {
		t.Errorf("non-http webhook: %v, want a scheme error", err)
	}
}

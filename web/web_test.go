package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// TestRoleMatrix walks every route with no login, with each role, and
// checks who gets in: signed-out callers are sent to /login (pages) or get
// 401 (API), wrong roles get 403, and allowed roles get neither.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, withEarly(newFakeEmerging()))
	clients, csrf := map[string]*http.Client{}, map[string]string{}
	for _, role := range roles {
		clients[role], csrf[role] = e.login(role)
	}
	item := fixture[0].ID
	fill := strings.NewReplacer("{id}", item, "{name}", "nobody-"+randomSuffix()[1:], "{narrative}", "weapons-to-armed-groups", "{$}", "")
	for _, rt := range web.Routes() {
		if rt.Public {
			continue
		}
		path := fill.Replace(rt.Pattern)
		for _, role := range append([]string{""}, roles...) {
			who := role
			if who == "" {
				who = "anonymous"
			}
			t.Run(rt.Method+" "+rt.Pattern+" as "+who, func(t *testing.T) {
				ok := role == storage.RoleAdmin || len(rt.Roles) == 0 || (role != "" && slices.Contains(rt.Roles, role))
				var status int
				var body string
				if rt.API {
					var b []byte
					var resp *http.Response
					tok := ""
					if role != "" {
						tok = e.tokens[role]
					}
					resp, b = e.api(rt.Method, path, tok, apiBody(rt.Pattern, item))
					status, body = resp.StatusCode, string(b)
					if status == 401 || status == 403 {
						var msg struct{ Error string }
						if json.Unmarshal(b, &msg) != nil || msg.Error == "" {
							t.Errorf("error body %q is not {\"error\": ...}", b)
						}
					}
				} else {
					c, tok := e.client(), ""
					switch {
					case role != "" && rt.Pattern == "/logout":
						c, tok = e.login(role) // a session of its own, so the others stay valid
					case role != "":
						c, tok = clients[role], csrf[role]
					}
					form := pageForm(rt.Pattern, item)
					form.Set("csrf", tok)
					req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					status = resp.StatusCode
					if role == "" && rt.Method == "GET" {
						if status != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
							t.Fatalf("anonymous GET: status %d location %q, want 303 to /login", status, resp.Header.Get("Location"))
						}
						return
					}
				}
				switch {
				case role == "" && status != http.StatusUnauthorized:
					t.Fatalf("anonymous: status %d, want 401\n%.300s", status, body)
				case role != "" && !ok && status != http.StatusForbidden:
					t.Fatalf("role %s: status %d, want 403\n%.300s", role, status, body)
				case role != "" && ok && (status == http.StatusUnauthorized || status == http.StatusForbidden || status >= 500):
					t.Fatalf("role %s: status %d, want access\n%.300s", role, status, body)
				}
			})
		}
	}
}

func apiBody(pattern, item string) any {
	switch pattern {
	case "/api/v1/reviews":
		return map[string]string{"item_id": "no-such-item", "narrative": "weapons-to-armed-groups", "decision": "confirm"}
	case "/api/v1/check":
		return map[string]string{"text": "Rien à signaler au marché de Gao."}
	case "/api/v1/users":
		return map[string]string{"name": "Bad Name", "role": "radio"}
	}
	return nil
}

func pageForm(pattern, item string) url.Values {
	switch pattern {
	case "/items/{id}/review":
		return url.Values{"narrative": {"no-such-narrative"}, "decision": {"confirm"}}
	case "/check":
		return url.Values{"text": {"Rien à signaler au marché de Gao."}}
	case "/users":
		return url.Values{"name": {"Bad Name"}, "role": {"radio"}}
	case "/logout":
		return url.Values{}
	}
	return url.Values{}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	c, token := e.login(storage.RoleReviewer)
	_, otherToken := e.login(storage.RoleReviewer)
	path := "/items/" + fixture[1].ID + "/review"
	form := func(tok string) url.Values {
		v := url.Values{"narrative": {"weapons-to-armed-groups"}, "decision": {"needs_response"}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		tok  string
		want int
	}{
		{"missing", "", http.StatusForbidden},
		{"wrong", strings.Repeat("0", 64), http.StatusForbidden},
		{"another session's", otherToken, http.StatusForbidden},
		{"right", token, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.post(c, path, form(tc.tok))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, tc.want, body)
			}
		})
	}
	// The login form has its own double-submit token.
	resp, _ := e.post(e.client(), "/login", url.Values{"name": {e.names["reviewer"]}, "token": {e.tokens["reviewer"]}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without its form token: status %d, want 403", resp.StatusCode)
	}
}

func TestLoginLogoutAndCookies(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	_, body := e.get(c, "/login")
	tok := formToken(t, body)
	resp, _ := e.post(c, "/login", url.Values{"csrf": {tok}, "name": {e.names["analyst"]}, "token": {e.tokens["reviewer"]}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("someone else's token: status %d, want 401", resp.StatusCode)
	}
	_, body = e.get(c, "/login")
	resp, _ = e.post(c, "/login", url.Values{"csrf": {formToken(t, body)}, "name": {e.names["analyst"]}, "token": {e.tokens["analyst"]}, "next": {"/trends?days=7"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/trends?days=7" {
		t.Fatalf("login: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "veille_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, e.tokens["analyst"]) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not the API token", session)
	}
	resp, body = e.get(c, "/trends")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("trends after login: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/logout", url.Values{"csrf": {formToken(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The old cookie must not work any more, even replayed by hand.
	req, _ := http.NewRequest("GET", e.srv.URL+"/trends", nil)
	req.AddCookie(session)
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed cookie after logout: status %d, want 303 to /login", resp.StatusCode)
	}
	// An open redirect through next= is refused, whatever browsers would
	// strip or rewrite on the way.
	for _, next := range []string{"//evil.example/", "/\t/evil.example/", "/\\evil.example/", "\\\\evil.example", " //evil.example", "/\r\n/evil.example"} {
		c := e.client()
		_, body = e.get(c, "/login?next="+url.QueryEscape(next))
		resp, _ = e.post(c, "/login", url.Values{"csrf": {formToken(t, body)}, "name": {e.names["analyst"]}, "token": {e.tokens["analyst"]}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Fatalf("next=%q: redirected to %q, want /", next, loc)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.SecureCookies = true })
	resp, _ := e.get(e.client(), "/login")
	for _, ck := range resp.Cookies() {
		if !ck.Secure || !strings.HasPrefix(ck.Name, "__Host-") {
			t.Fatalf("cookie %s: Secure=%v, want Secure and a __Host- name", ck.Name, ck.Secure)
		}
	}
	if len(resp.Cookies()) == 0 {
		t.Fatal("login page set no cookie")
	}
}

// forwardedFor is a transport that says it forwards for addr.
type forwardedFor struct {
	addr string
	rt   http.RoundTripper
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.rt.RoundTrip(r)
}

func TestLoginFailuresLockNobodyElseOut(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		// whether failures from one forwarded address count against another
		shared bool
	}{
		{"behind a trusted proxy, per client address", []string{"127.0.0.1"}, false},
		{"no trusted proxy: the header is ignored", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *web.Options) {
				o.LoginLimit = 3
				ps, err := web.ParseProxies(tc.proxies)
				if err != nil {
					t.Fatal(err)
				}
				o.TrustedProxies = ps
			})
			from := func(addr string) *http.Client {
				c := e.client()
				c.Transport = forwardedFor{addr, http.DefaultTransport}
				return c
			}
			try := func(addr, role, token string) int {
				c := from(addr) // a fresh client: no session from an earlier try
				_, body := e.get(c, "/login")
				resp, _ := e.post(c, "/login", url.Values{"csrf": {formToken(t, body)}, "name": {e.names[role]}, "token": {token}})
				return resp.StatusCode
			}
			attacker, victim := "203.0.113.5", "198.51.100.7"
			for i := 0; i < 3; i++ {
				if got := try(attacker, "radio", "vt_wrong"); got != http.StatusUnauthorized {
					t.Fatalf("attempt %d: status %d, want 401", i+1, got)
				}
			}
			if got := try(attacker, "radio", "vt_wrong"); got != http.StatusTooManyRequests {
				t.Fatalf("4th wrong token for the same user and address: status %d, want 429", got)
			}
			if got := try(attacker, "radio", e.tokens["radio"]); got != http.StatusSeeOther {
				t.Fatalf("right token after the limit: status %d, want 303 (a correct token always signs in)", got)
			}
			if got := try(attacker, "analyst", "vt_wrong"); got != http.StatusUnauthorized {
				t.Fatalf("another user from that address: status %d, want 401, not locked", got)
			}
			want := http.StatusUnauthorized
			if tc.shared {
				want = http.StatusTooManyRequests
			}
			if got := try(victim, "radio", "vt_wrong"); got != want {
				t.Fatalf("same user from another forwarded address: status %d, want %d", got, want)
			}
			if got := try(victim, "radio", e.tokens["radio"]); got != http.StatusSeeOther {
				t.Fatalf("right token from another address: status %d, want 303", got)
			}
		})
	}
}

func TestLoginFailuresAcrossNamesAreLimitedPerAddress(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.LoginLimit = 2 })
	try := func(name, token string) int {
		c := e.client()
		_, body := e.get(c, "/login")
		resp, _ := e.post(c, "/login", url.Values{"csrf": {formToken(t, body)}, "name": {name}, "token": {token}})
		return resp.StatusCode
	}
	// Each made-up name fails once: under the per-name limit, but the
	// address as a whole may fail 10 × 2 times.
	for i := 0; i < 20; i++ {
		if got := try(fmt.Sprintf("guess%02d", i), "vt_wrong"); got != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, got)
		}
	}
	if got := try("guess99", "vt_wrong"); got != http.StatusTooManyRequests {
		t.Fatalf("21st failure from one address under a new name: status %d, want 429", got)
	}
	if got := try(e.names["radio"], e.tokens["radio"]); got != http.StatusSeeOther {
		t.Fatalf("right token from that address: status %d, want 303", got)
	}
}

func TestFailedTokenLookupsAreLimitedPerAddress(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.BearerLimit = 3 })
	call := func(token string) int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/narratives", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 3; i++ {
		if got := call("vt_wrong"); got != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, got)
		}
	}
	if got := call("vt_wrong"); got != http.StatusTooManyRequests {
		t.Fatalf("after 3 failed look-ups: status %d, want 429", got)
	}
}

func TestAPIAuthErrors(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"no header", "", 401},
		{"not bearer", "Basic " + e.tokens["admin"], 401},
		{"unknown token", "Bearer vt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"session-kind secret", "Bearer vs_AAAA", 401},
		{"good", "Bearer " + e.tokens["admin"], 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	resp, b := e.api("GET", "/api/v1/nothing-here", e.tokens["admin"], nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, b)
	}
}

func TestRevokeUserStopsTokensAndSessions(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleReviewer)
	resp, b := e.api("DELETE", "/api/v1/users/"+e.names["reviewer"], e.tokens["admin"], nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.api("GET", "/api/v1/flags", e.tokens["reviewer"], nil); resp.StatusCode != 401 {
		t.Fatalf("revoked token: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/queue"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoked user's session: status %d, want 303 to /login", resp.StatusCode)
	}
	if resp, _ := e.api("DELETE", "/api/v1/users/"+e.names["admin"], e.tokens["admin"], nil); resp.StatusCode != 400 {
		t.Fatalf("self-revoke: %d, want 400", resp.StatusCode)
	}
	if resp, _ := e.api("DELETE", "/api/v1/users/nobody-at-all", e.tokens["admin"], nil); resp.StatusCode != 404 {
		t.Fatalf("revoke unknown: %d, want 404", resp.StatusCode)
	}
}

func TestUsersAPIAndPage(t *testing.T) {
	e := newEnv(t, nil)
	name := "station" + randomSuffix()
	resp, b := e.api("POST", "/api/v1/users", e.tokens["admin"], map[string]string{"name": name, "role": "radio", "lang": "fr"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add: %d %s", resp.StatusCode, b)
	}
	var added struct {
		User  storage.User
		Token string
	}
	json.Unmarshal(b, &added)
	if added.User.Role != "radio" || !strings.HasPrefix(added.Token, "vt_") {
		t.Fatalf("added %+v", added)
	}
	if resp, b := e.api("GET", "/api/v1/me", added.Token, nil); resp.StatusCode != 200 || !strings.Contains(string(b), name) {
		t.Fatalf("new token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.api("POST", "/api/v1/users", e.tokens["admin"], map[string]string{"name": name, "role": "radio"}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate: %d, want 409", resp.StatusCode)
	}
	if resp, _ := e.api("POST", "/api/v1/users", e.tokens["admin"], map[string]string{"name": "x" + randomSuffix(), "role": "root"}); resp.StatusCode != 400 {
		t.Fatalf("bad role: %d, want 400", resp.StatusCode)
	}
	resp, b = e.api("GET", "/api/v1/users", e.tokens["admin"], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), name) || strings.Contains(string(b), added.Token) {
		t.Fatalf("list: %d; must name the user and never show a token", resp.StatusCode)
	}
	// Through the page: the token is shown once.
	c, csrf := e.login(storage.RoleAdmin)
	name2 := "analyst" + randomSuffix()
	resp2, body := e.post(c, "/users", url.Values{"csrf": {csrf}, "name": {name2}, "role": {"analyst"}, "lang": {"en"}})
	m := regexp.MustCompile(`id="new-token" class="token">(vt_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if resp2.StatusCode != 200 || m == nil {
		t.Fatalf("add via page: %d, no token shown", resp2.StatusCode)
	}
	if resp, _ := e.api("GET", "/api/v1/trends", m[1], nil); resp.StatusCode != 200 {
		t.Fatalf("token from page: %d", resp.StatusCode)
	}
	_, body = e.get(c, "/users")
	if strings.Contains(body, m[1]) {
		t.Fatal("users page shows the token again")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	resp, _ := e.get(e.client(), "/login")
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	for _, d := range []string{"object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), d) {
			t.Errorf("CSP lacks %s", d)
		}
	}
	if resp, _ := e.get(e.client(), "/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
}

func TestItemPageEscapesAndHighlights(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleReviewer)
	resp, body := e.get(c, "/items/t-xss-1")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, bad := range []string{"<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>", "javascript:alert"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds raw %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("script tag text is not shown escaped")
	}
	if !strings.Contains(body, `<mark title="`+html.EscapeString(testCat.Title(weapons, "en"))+`">UN trucks deliver weapons to the rebels &lt;img src=x onerror=alert(1)&gt;</mark>`) {
		t.Errorf("evidence span not highlighted as escaped text:\n%s", body)
	}
	if !strings.Contains(body, "<b>UN trucks</b>") {
		t.Error("sanitised original HTML lost its allowed markup")
	}
	for _, path := range []string{"/items/no-such-item", "/items/bad%20id%3Cx%3E"} {
		if resp, _ := e.get(c, path); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, b := e.api("GET", "/api/v1/items/no-such-item", e.tokens["reviewer"], nil); resp.StatusCode != 404 || !strings.Contains(string(b), "no-such-item") {
		t.Errorf("API unknown item: %d %s", resp.StatusCode, b)
	}
}

func TestNoIDOR(t *testing.T) {
	e := newEnv(t, nil)
	for _, role := range []string{storage.RoleRadio, storage.RoleAnalyst} {
		c, csrf := e.login(role)
		if resp, body := e.get(c, "/items/"+fixture[0].ID); resp.StatusCode != 403 || strings.Contains(body, fixture[0].Text) {
			t.Errorf("%s opens an item page: %d", role, resp.StatusCode)
		}
		if resp, b := e.api("GET", "/api/v1/items/"+fixture[0].ID, e.tokens[role], nil); resp.StatusCode != 403 || strings.Contains(string(b), fixture[0].Text) {
			t.Errorf("%s reads an item through the API: %d", role, resp.StatusCode)
		}
		if resp, _ := e.api("POST", "/api/v1/reviews", e.tokens[role], map[string]string{"item_id": fixture[0].ID, "narrative": "weapons-to-armed-groups", "decision": "false_positive"}); resp.StatusCode != 403 {
			t.Errorf("%s posts a review: %d", role, resp.StatusCode)
		}
		if resp, _ := e.post(c, "/items/"+fixture[0].ID+"/review", url.Values{"csrf": {csrf}, "narrative": {"weapons-to-armed-groups"}, "decision": {"false_positive"}}); resp.StatusCode != 403 {
			t.Errorf("%s posts a review form: %d", role, resp.StatusCode)
		}
	}
}

func TestReviewFlowAndLabelsExport(t *testing.T) {
	e := newEnv(t, nil)
	sfx := randomSuffix()
	if err := seed(context.Background(), testStore, fixture, sfx); err != nil {
		t.Fatal(err)
	}
	c, csrf := e.login(storage.RoleReviewer)
	confirmID, fpID, pendingID := fixture[0].ID+sfx, fixture[2].ID+sfx, fixture[3].ID+sfx
	resp, _ := e.post(c, "/items/"+confirmID+"/review", url.Values{"csrf": {csrf}, "narrative": {"weapons-to-armed-groups"}, "decision": {"confirm"}, "note": {"heard on air <b>twice</b>"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("review form: %d", resp.StatusCode)
	}
	_, body := e.get(c, "/items/"+confirmID)
	if !strings.Contains(body, `<strong class="dec confirm">confirmed</strong>`) || !strings.Contains(body, "heard on air &lt;b&gt;twice&lt;/b&gt;") {
		t.Fatalf("decision not shown on the item page:\n%s", body)
	}
	resp2, b := e.api("POST", "/api/v1/reviews", e.tokens["reviewer"], map[string]string{"item_id": fpID, "narrative": "child-abduction-organ-trafficking", "decision": "false_positive", "note": "satire"})
	if resp2.StatusCode != http.StatusCreated {
		t.Fatalf("review API: %d %s", resp2.StatusCode, b)
	}
	for _, bad := range []map[string]string{
		{"item_id": fpID, "narrative": "child-abduction-organ-trafficking", "decision": "maybe"},
		{"item_id": fpID, "narrative": "weapons-to-armed-groups", "decision": "confirm"},
	} {
		if resp, b := e.api("POST", "/api/v1/reviews", e.tokens["reviewer"], bad); resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("review %v: %d %s", bad, resp.StatusCode, b)
		}
	}
	// The queue filtered by decision shows the confirmed flag.
	resp2, b = e.api("GET", "/api/v1/flags?decision=confirm&limit=1000", e.tokens["reviewer"], nil)
	if resp2.StatusCode != 200 || !strings.Contains(string(b), confirmID) || strings.Contains(string(b), fpID) {
		t.Fatalf("flags?decision=confirm: %d %s", resp2.StatusCode, b)
	}
	// Labelled export.
	resp2, b = e.api("GET", "/api/v1/labels", e.tokens["reviewer"], nil)
	if resp2.StatusCode != 200 {
		t.Fatalf("labels: %d", resp2.StatusCode)
	}
	got := map[string]json.RawMessage{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			ID     string          `json:"id"`
			Labels json.RawMessage `json:"labels"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("labels line %q: %v", sc.Text(), err)
		}
		got[line.ID] = line.Labels
	}
	want := `[{"narrative":"weapons-to-armed-groups","stance":"assert","evidence":["les casques bleus livrent des armes aux rebelles la nuit"]}]`
	if string(got[confirmID]) != want {
		t.Errorf("confirmed item labels = %s, want %s", got[confirmID], want)
	}
	if string(got[fpID]) != "[]" {
		t.Errorf("false-positive item labels = %s, want []", got[fpID])
	}
	if _, ok := got[pendingID]; ok {
		t.Errorf("undecided item %s exported", pendingID)
	}
	if !strings.Contains(string(b), `"id":"`+confirmID+`","lang":"fr","kind":"transcript","mission":"MINUSMA","source":"radio-gao","text":`) {
		t.Errorf("labels line not in corpus key order:\n%s", b)
	}
	// The same export from the queue page.
	resp, body = e.get(c, "/labels.jsonl")
	if resp.StatusCode != 200 || !strings.Contains(body, confirmID) {
		t.Fatalf("labels.jsonl page: %d", resp.StatusCode)
	}
}

func TestQueuePage(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleReviewer)
	resp, body := e.get(c, "/queue?mission=MINUSCA")
	if resp.StatusCode != 200 || !strings.Contains(body, "/items/t-children-fr-1") || strings.Contains(body, "/items/t-weapons-fr-1\"") {
		t.Fatalf("queue?mission=MINUSCA: %d\n%s", resp.StatusCode, body)
	}
	resp, body = e.get(c, "/queue")
	if i, j := strings.Index(body, "/items/t-weapons-fr-1\""), strings.Index(body, "/items/t-disease-en-1\""); i < 0 || j < 0 || i > j {
		t.Fatalf("queue not newest first (%d, %d)", i, j)
	}
	if resp, _ := e.get(c, "/queue?decision=bogus"); resp.StatusCode != 400 {
		t.Fatalf("bad decision filter: %d", resp.StatusCode)
	}
}

const weapons = "weapons-to-armed-groups"

const frenchRumour = "On raconte au marché que les casques bleus livrent des armes aux rebelles près de Gao, la nuit."

func TestRumourCheck(t *testing.T) {
	e := newEnv(t, nil)
	resp, b := e.api("POST", "/api/v1/check", e.tokens["radio"], map[string]string{"text": frenchRumour})
	if resp.StatusCode != 200 {
		t.Fatalf("check: %d %s", resp.StatusCode, b)
	}
	var res struct {
		Lang  string
		Flags []struct {
			Narrative string
			Title     string
			Responses []string
			Evidence  []struct{ Start, End int }
			Spread    *storage.SpreadReport
			Similar   []map[string]any
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Flags) == 0 || res.Flags[0].Narrative != "weapons-to-armed-groups" {
		t.Fatalf("flags %+v", res.Flags)
	}
	f := res.Flags[0]
	if frLines := testCat.Responses(weapons, "fr"); len(f.Responses) == 0 || len(frLines) == 0 || f.Responses[0] != frLines[0] {
		t.Errorf("responses %q, want the French lines (the radio user's language)", f.Responses)
	}
	if f.Spread == nil || f.Spread.Total < 3 {
		t.Errorf("spread %+v, want at least the 3 seeded flags", f.Spread)
	}
	for _, s := range f.Similar {
		if _, leak := s["item_id"]; leak {
			t.Errorf("similar item for radio carries an item id: %v", s)
		}
	}
	// The page, without JavaScript: a plain form post.
	c, csrf := e.login(storage.RoleRadio)
	r2, body := e.post(c, "/check", url.Values{"csrf": {csrf}, "text": {frenchRumour + " <script>alert(1)</script>"}})
	if r2.StatusCode != 200 || !strings.Contains(body, html.EscapeString(testCat.Title(weapons, "fr"))) || !strings.Contains(body, html.EscapeString(testCat.Responses(weapons, "fr")[0])) {
		t.Fatalf("check page: %d\n%s", r2.StatusCode, body)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "<mark") {
		t.Fatal("check page: rumour not escaped or not highlighted")
	}
	if resp, _ := e.api("POST", "/api/v1/check", e.tokens["radio"], map[string]string{"text": "  "}); resp.StatusCode != 400 {
		t.Errorf("empty text: %d, want 400", resp.StatusCode)
	}
	if resp, _ := e.api("POST", "/api/v1/check", e.tokens["radio"], map[string]string{"text": strings.Repeat("a", 5001)}); resp.StatusCode != 400 {
		t.Errorf("long text: %d, want 400", resp.StatusCode)
	}
}

func TestRumourCheckRateLimit(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.CheckLimit = 2 })
	for i, want := range []int{200, 200, 429} {
		if resp, b := e.api("POST", "/api/v1/check", e.tokens["radio"], map[string]string{"text": "bonjour"}); resp.StatusCode != want {
			t.Fatalf("check %d: %d %s, want %d", i+1, resp.StatusCode, b, want)
		}
	}
}

func TestTrendsTableMatchesCSV(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleAnalyst)
	resp, body := e.get(c, "/trends?days=30&by=narrative")
	if resp.StatusCode != 200 || !strings.Contains(body, `<svg id="chart"`) || !strings.Contains(body, "<polyline") {
		t.Fatalf("trends page: %d, no chart", resp.StatusCode)
	}
	table := htmlTable(t, body)
	resp, csvBody := e.get(c, "/trends/download?days=30&by=narrative&format=csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d", resp.StatusCode)
	}
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "day,narrative,flags" {
		t.Fatalf("csv header %v", rows)
	}
	if len(rows) != len(table) {
		t.Fatalf("csv has %d rows, table %d", len(rows), len(table))
	}
	for i := range rows {
		if strings.Join(rows[i], "|") != strings.Join(table[i], "|") {
			t.Errorf("row %d: csv %v, table %v", i, rows[i], table[i])
		}
	}
	resp, b := e.api("GET", "/api/v1/export?format=parquet&days=30", e.tokens["analyst"], nil)
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("PAR1")) {
		t.Fatalf("parquet export: %d %.20q", resp.StatusCode, b)
	}
	resp, b = e.api("GET", "/api/v1/rising", e.tokens["analyst"], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "weapons-to-armed-groups") {
		t.Fatalf("rising: %d %s", resp.StatusCode, b)
	}
	resp, b = e.api("GET", "/api/v1/spread/weapons-to-armed-groups", e.tokens["analyst"], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "radio-gao") {
		t.Fatalf("spread: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.api("GET", "/api/v1/spread/not-a-narrative", e.tokens["analyst"], nil); resp.StatusCode != 404 {
		t.Fatalf("spread unknown: %d", resp.StatusCode)
	}
	_, body = e.get(c, "/trends?narrative=weapons-to-armed-groups")
	if !strings.Contains(body, "radio-gao") {
		t.Fatal("trends page with one narrative shows no spread")
	}
	if resp, _ := e.get(c, "/trends?by=password"); resp.StatusCode != 400 {
		t.Fatalf("bad dimension: %d", resp.StatusCode)
	}
}

var cellRE = regexp.MustCompile(`<t[hd]>([^<]*)</t[hd]>`)

// htmlTable reads the rows of the figures table.
func htmlTable(t *testing.T, body string) [][]string {
	t.Helper()
	i := strings.Index(body, `<table id="figures">`)
	if i < 0 {
		t.Fatal("no figures table")
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	var out [][]string
	for _, tr := range strings.Split(body, "<tr>")[1:] {
		var row []string
		for _, m := range cellRE.FindAllStringSubmatch(tr, -1) {
			row = append(row, m[1])
		}
		out = append(out, row)
	}
	return out
}

func TestAdminPages(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login(storage.RoleAdmin)
	for path, want := range map[string]string{
		"/sources": "HTTP 503",
		"/catalog": html.EscapeString(testCat.Responses(weapons, "en")[0]),
		"/users":   e.names["radio"],
	} {
		resp, body := e.get(c, path)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want %q in page", path, resp.StatusCode, want)
		}
	}
	resp, b := e.api("GET", "/api/v1/sources", e.tokens["admin"], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"failures":3`) {
		t.Errorf("sources API: %d %s", resp.StatusCode, b)
	}
	resp, b = e.api("GET", "/api/v1/narratives?lang=fr", e.tokens["admin"], nil)
	var cat struct {
		Narratives []struct {
			ID        string
			Responses []string
		}
	}
	json.Unmarshal(b, &cat)
	found := false
	for _, n := range cat.Narratives {
		found = found || (n.ID == weapons && len(n.Responses) > 0 && n.Responses[0] == testCat.Responses(weapons, "fr")[0])
	}
	if resp.StatusCode != 200 || len(cat.Narratives) != len(testCat.IDs()) || !found {
		t.Errorf("narratives API: %d %.300s", resp.StatusCode, b)
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t, nil)
	c, csrf := e.login(storage.RoleReviewer)
	_, body := e.get(c, "/queue")
	if !strings.Contains(body, "Review queue") {
		t.Fatal("English reviewer does not get English")
	}
	resp, _ := e.post(c, "/lang", url.Values{"csrf": {csrf}, "lang": {"fr"}, "next": {"/queue"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lang: %d", resp.StatusCode)
	}
	_, body = e.get(c, "/queue")
	if !strings.Contains(body, "File de revue") || !strings.Contains(body, `<html lang="fr">`) {
		t.Fatal("switch to French did not take")
	}
}

// TestPagesSmallAndNarrow checks every page's weight on first load (page +
// stylesheet) and that the stylesheet adapts to small screens.
func TestPagesSmallAndNarrow(t *testing.T) {
	e := newEnv(t, withEarly(newFakeEmerging()))
	c, csrf := e.login(storage.RoleAdmin)
	_, css := e.get(c, "/static/style.css")
	if !strings.Contains(css, "@media (max-width:700px)") {
		t.Error("stylesheet has no small-screen rules")
	}
	for _, path := range []string{"/queue", "/items/" + fixture[0].ID, "/check", "/trends", "/sources", "/catalog", "/users", "/alerts", "/emerging", "/emerging/g-banknotes/promote"} {
		resp, body := e.get(c, path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if n := len(body) + len(css); n > 200<<10 {
			t.Errorf("%s: %d bytes on first load, want ≤ 200 KB", path, n)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s carries a script", path)
		}
	}
	resp, body := e.post(c, "/check", url.Values{"csrf": {csrf}, "text": {frenchRumour}})
	if resp.StatusCode != 200 || len(body)+len(css) > 200<<10 {
		t.Errorf("check result: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestOpenAPIMatchesRoutes checks that every API route is documented and
// every documented path is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range web.Routes() {
		if r.API {
			served[r.Method+" "+r.Pattern] = true
			if !documented[r.Method+" "+r.Pattern] {
				t.Errorf("%s %s is not in openapi.json", r.Method, r.Pattern)
			}
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which is not served", k)
		}
	}
	e := newEnv(t, nil)
	resp, got := e.api("GET", "/api/v1/openapi.json", e.tokens["analyst"], nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, b) {
		t.Fatalf("served openapi.json: %d, differs from the file", resp.StatusCode)
	}
}

func TestCreateUserValidation(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, role string
		want       error
	}{
		{"Upper", "radio", web.ErrBadName},
		{"", "radio", web.ErrBadName},
		{"has space", "radio", web.ErrBadName},
		{"ok-name" + randomSuffix(), "superuser", web.ErrBadRole},
	} {
		if _, _, err := web.CreateUser(ctx, testStore, tc.name, tc.role, "fr", testNow); !errors.Is(err, tc.want) {
			t.Errorf("CreateUser(%q, %q) = %v, want %v", tc.name, tc.role, err, tc.want)
		}
	}
	name := "dup" + randomSuffix()
	if _, tok, err := web.CreateUser(ctx, testStore, name, "radio", "fr", testNow); err != nil || len(tok) < 40 {
		t.Fatalf("CreateUser: %v (token %d chars)", err, len(tok))
	}
	if _, _, err := web.CreateUser(ctx, testStore, name, "radio", "fr", testNow); !errors.Is(err, web.ErrUserExists) {
		t.Fatalf("second CreateUser = %v, want ErrUserExists", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretsNeverLogged(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, func(o *web.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c, _ := e.login(storage.RoleReviewer)
	anon := e.client()
	_, body := e.get(anon, "/login")
	if resp, _ := e.post(anon, "/login", url.Values{"csrf": {formToken(t, body)}, "name": {e.tokens["radio"]}, "token": {e.tokens["radio"]}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token in the name field: %d, want 401", resp.StatusCode)
	}
	_, b := e.api("POST", "/api/v1/users", e.tokens["admin"], map[string]string{"name": "logged" + randomSuffix(), "role": "analyst"})
	var added struct{ Token string }
	json.Unmarshal(b, &added)
	e.api("GET", "/api/v1/me", "vt_not-a-real-token", nil)
	out := logs.String()
	if !strings.Contains(out, "login") {
		t.Fatalf("no login logged at all:\n%s", out)
	}
	for _, secret := range []string{e.tokens["reviewer"], e.tokens["radio"], e.tokens["admin"], added.Token, "vt_not-a-real-token"} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("a token appears in the logs:\n%s", out)
		}
	}
	for _, ck := range c.Jar.Cookies(mustURL(e.srv.URL)) {
		if strings.Contains(out, ck.Value) {
			t.Errorf("cookie %s appears in the logs", ck.Name)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestStaticListsNoDirectory(t *testing.T) {
	e := newEnv(t, nil)
	for path, want := range map[string]int{"/static/": http.StatusNotFound, "/static/style.css": http.StatusOK} {
		resp, _ := e.get(e.client(), path)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestEvidenceIndexesTheServedText checks, for every fixture flag, that
// the API's indexed_text[start:end] is the evidence and that the item page
// marks exactly the evidence, in the title or in the body.
func TestEvidenceIndexesTheServedText(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.login("reviewer")
	checked := 0
	for _, fi := range fixture {
		id := fi.ID
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/items/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["reviewer"])
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			IndexedText string         `json:"indexed_text"`
			Flags       []storage.Flag `json:"flags"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		_, page := e.get(c, "/items/"+id)
		for _, f := range got.Flags {
			for _, ev := range f.Evidence {
				checked++
				if ev.Start < 0 || ev.End > len(got.IndexedText) || got.IndexedText[ev.Start:ev.End] != ev.Text {
					t.Errorf("%s: evidence [%d:%d] %q does not index indexed_text", id, ev.Start, ev.End, ev.Text)
				}
				if !strings.Contains(page, ">"+html.EscapeString(ev.Text)+"</mark>") {
					t.Errorf("%s: the item page does not mark %q", id, ev.Text)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no evidence checked")
	}
}

// TestDecisionsArePerFlag decides the "asserts" and "debunks" flags of one
// narrative on one transcript apart, then adds a flag the classifier
// missed: each flag keeps its own decision in the page, the API and the
// labelled export.
func TestDecisionsArePerFlag(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id := "t-perflag" + randomSuffix()
	text := "Un auditeur dit que les casques bleus livrent des armes aux rebelles. L'invité répond que c'est faux, aucune livraison n'a eu lieu. Il parle aussi des écoles fermées à Kidal."
	it := storage.Item{ID: id, ContentHash: id, Source: "radio-gao", Kind: "transcript", Lang: "fr", Mission: "MINUSMA", Text: text,
		Published: testNow.Add(-2 * time.Hour), Fetched: testNow.Add(-time.Hour)}
	if err := testStore.InsertItems(ctx, []storage.Item{it}); err != nil {
		t.Fatal(err)
	}
	flag := func(stance, ev string) storage.Flag {
		i := strings.Index(text, ev)
		return storage.Flag{ItemID: id, Narrative: "weapons-to-armed-groups", Stance: stance, Score: 0.9, ClassifierVersion: "fixture",
			Source: it.Source, Lang: "fr", Mission: "MINUSMA", Published: it.Published,
			Evidence: []storage.Evidence{{Start: i, End: i + len(ev), Text: ev}}}
	}
	if err := testStore.InsertFlags(ctx, []storage.Flag{flag("assert", "les casques bleus livrent des armes aux rebelles"), flag("debunk", "c'est faux, aucune livraison n'a eu lieu")}); err != nil {
		t.Fatal(err)
	}
	tok := e.tokens["reviewer"]
	review := func(stance, decision string) int {
		resp, _ := e.api("POST", "/api/v1/reviews", tok, map[string]string{"item_id": id, "narrative": "weapons-to-armed-groups", "stance": stance, "decision": decision})
		return resp.StatusCode
	}
	if got := review("", "confirm"); got != http.StatusBadRequest {
		t.Fatalf("a review naming no stance on an item with two: status %d, want 400", got)
	}
	if got := review("assert", "confirm"); got != http.StatusOK && got != http.StatusCreated {
		t.Fatalf("confirm the asserts flag: status %d", got)
	}
	if got := review("debunk", "false_positive"); got != http.StatusOK && got != http.StatusCreated {
		t.Fatalf("reject the debunks flag: status %d", got)
	}
	rows, err := testStore.Queue(ctx, storage.QueueQuery{Filter: storage.Filter{Narratives: []string{"weapons-to-armed-groups"}}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if r.Flag.ItemID == id {
			got[r.Flag.Stance] = r.Decision
		}
	}
	if got["assert"] != "confirm" || got["debunk"] != "false_positive" {
		t.Fatalf("decisions per flag %v, want assert confirmed and debunk a false positive", got)
	}
	c, _ := e.login("reviewer")
	_, page := e.get(c, "/items/"+id)
	if !strings.Contains(page, `dec confirm`) || !strings.Contains(page, `dec false_positive`) {
		t.Fatal("the item page does not show both decisions")
	}

	// A flag the classifier missed, added through the API.
	resp, body := e.api("POST", "/api/v1/items/"+id+"/flags", tok, map[string]string{"narrative": "abandonment-of-civilians", "stance": "assert", "evidence": "no such words in this text"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("evidence not in the text: status %d (%s), want 400", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/items/"+id+"/flags", tok, map[string]string{"narrative": "weapons-to-armed-groups", "stance": "assert", "evidence": "les casques bleus livrent des armes"})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a flag that exists: status %d (%s), want 409", resp.StatusCode, body)
	}
	resp, body = e.api("POST", "/api/v1/items/"+id+"/flags", tok, map[string]string{"narrative": "foreign-occupation", "stance": "report", "evidence": "Il parle aussi des écoles fermées à Kidal"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add a missed flag: status %d (%s), want 201", resp.StatusCode, body)
	}
	d, err := testStore.Item(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var added *storage.Flag
	for i, f := range d.Flags {
		if f.Narrative == "foreign-occupation" {
			added = &d.Flags[i]
		}
	}
	if added == nil || !strings.HasPrefix(added.ClassifierVersion, "review/") || text[added.Evidence[0].Start:added.Evidence[0].End] != "Il parle aussi des écoles fermées à Kidal" {
		t.Fatalf("added flag %+v, want a reviewer's flag whose evidence indexes the text", added)
	}
	resp, body = e.api("GET", "/api/v1/labels?narrative=", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("labels: %d", resp.StatusCode)
	}
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, `"id":"`+id+`"`) {
			found = strings.Contains(line, `"narrative":"foreign-occupation","stance":"report"`) &&
				strings.Contains(line, `"narrative":"weapons-to-armed-groups","stance":"assert"`) &&
				!strings.Contains(line, `"stance":"debunk"`)
		}
	}
	if !found {
		t.Fatal("the labelled export lacks the item with its confirmed and added flags (and only those)")
	}
}

// TestRumourCheckAsAStationWouldUseIt checks as a Swahili-speaking station
// of MONUSCO would: a rumour pasted with a line break in mid-sentence is
// still found, its evidence indexes the text as pasted, the response lines
// are in the station's language and say so, and spread is counted for the
// mission the rumour names.
func TestRumourCheckAsAStationWouldUseIt(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	name := "radio-beni" + strings.ReplaceAll(randomSuffix(), "-", "")
	_, tok, err := web.CreateUserWith(ctx, testStore, web.NewUser{Name: name, Role: storage.RoleRadio, Lang: "sw", Mission: "MINUSCA"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	users, err := testStore.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Name == name && (u.ResponseLang != "sw" || u.Lang != "fr" || u.Mission != "MINUSCA") {
			t.Fatalf("a Swahili station stored as %+v, want responses in sw, interface fr, mission MINUSCA", u)
		}
	}
	rumour := "  Wananchi wa Beni: walinda amani wa MONUSCO wanawapa\nwaasi wa M23 silaha usiku.  "
	resp, body := e.api("POST", "/api/v1/check", tok, map[string]string{"text": rumour})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("check: %d %s", resp.StatusCode, body)
	}
	var res struct {
		RL    string `json:"response_lang"`
		RF    string `json:"response_from"`
		M     string `json:"mission"`
		MF    string `json:"mission_from"`
		Flags []struct {
			Narrative string
			Evidence  []struct {
				Start, End int
				Text       string
			}
			Responses []string
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Flags) == 0 || res.Flags[0].Narrative != weapons {
		t.Fatalf("flags %+v, want the weapons narrative despite the line break", res.Flags)
	}
	for _, ev := range res.Flags[0].Evidence {
		if rumour[ev.Start:ev.End] != ev.Text {
			t.Fatalf("evidence [%d:%d] %q does not index the rumour as pasted", ev.Start, ev.End, ev.Text)
		}
	}
	if want := testCat.Responses(weapons, "sw"); len(want) > 0 {
		if res.RL != "sw" || res.RF != "station" || res.Flags[0].Responses[0] != want[0] {
			t.Fatalf("responses in %q (%s): %q; want the Swahili lines, the station's language", res.RL, res.RF, res.Flags[0].Responses)
		}
	}
	if res.M != "MONUSCO" || res.MF != "text" {
		t.Fatalf("mission %q from %q, want MONUSCO named in the rumour (over the station's MINUSCA)", res.M, res.MF)
	}
	// Chosen by the station, the mission wins over the text.
	_, body = e.api("POST", "/api/v1/check", tok, map[string]string{"text": rumour, "mission": "UNMISS"})
	if err := json.Unmarshal(body, &res); err != nil || res.M != "UNMISS" || res.MF != "chosen" {
		t.Fatalf("mission %q from %q (%v), want UNMISS, chosen", res.M, res.MF, err)
	}
	// A language the interface lacks is refused by name, not stored as English.
	if _, _, err := web.CreateUserWith(ctx, testStore, web.NewUser{Name: name + "x", Role: storage.RoleRadio, Lang: "xx"}, testNow); !errors.Is(err, web.ErrBadLang) {
		t.Fatalf("unknown language: %v, want ErrBadLang", err)
	}
}

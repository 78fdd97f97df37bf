package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/veille-project/veille/classifiers/mission"
	"github.com/veille-project/veille/storage"
)

// Token secrets carry a prefix saying what they are for: an API token
// ("vt_") is never accepted as a session cookie and a session ("vs_") never
// as a bearer token.
const (
	apiPrefix     = "vt_"
	sessionPrefix = "vs_"
)

var (
	errNoCredentials = errors.New("authentication required: send Authorization: Bearer <token>")
	errBadToken      = errors.New("invalid, expired or revoked token")
	errNoSession     = errors.New("not signed in")
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidRole says whether role is one of the four roles.
func ValidRole(role string) bool {
	switch role {
	case storage.RoleAdmin, storage.RoleReviewer, storage.RoleRadio, storage.RoleAnalyst:
		return true
	}
	return false
}

// HashToken returns the stored form of a token secret: hex SHA-256.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: random token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// FindUser returns the named user.
func FindUser(ctx context.Context, st storage.Store, name string) (storage.User, error) {
	users, err := st.Users(ctx)
	if err != nil {
		return storage.User{}, fmt.Errorf("web: list users: %w", err)
	}
	for _, u := range users {
		if u.Name == name {
			return u, nil
		}
	}
	return storage.User{}, fmt.Errorf("%w: %q", ErrNoSuchUser, name)
}

// CreateUser stores a new user and issues its first API token, returning
// the token's secret: the only time it is ever seen in clear. lang is the
// user's language, any of the six: it is the language of the response
// lines; the interface is lang when it is English or French, else French.
func CreateUser(ctx context.Context, st storage.Store, name, role, lang string, now time.Time) (storage.User, string, error) {
	return CreateUserWith(ctx, st, NewUser{Name: name, Role: role, Lang: lang}, now)
}

// NewUser is what an admin says of a user to create.
type NewUser struct {
	Name, Role string
	// Lang is the user's language (en, fr, ar, sw, ln, sg).
	Lang string
	// UILang is the interface language (en or fr; default Lang when it is
	// one of them, else fr).
	UILang string
	// ResponseLang is the language of the response lines (default Lang).
	ResponseLang string
	// Mission is the station's own mission (default none).
	Mission string
}

// Errors of CreateUserWith besides ErrBadName and ErrBadRole.
var (
	ErrBadLang    = errors.New("unknown language")
	ErrBadMission = errors.New("unknown mission")
)

// CreateUserWith is CreateUser with every setting.
func CreateUserWith(ctx context.Context, st storage.Store, nu NewUser, now time.Time) (storage.User, string, error) {
	name, role := nu.Name, nu.Role
	if !nameRE.MatchString(name) {
		return storage.User{}, "", fmt.Errorf("%w: %q (want lower-case letters, digits, '.', '_' or '-', at most 64)", ErrBadName, name)
	}
	if !ValidRole(role) {
		return storage.User{}, "", fmt.Errorf("%w: %q (want admin, reviewer, radio or analyst)", ErrBadRole, role)
	}
	lang := nu.Lang
	if lang == "" {
		lang = "en"
	}
	if !contains(languages, lang) {
		return storage.User{}, "", fmt.Errorf("%w: %q (want en, fr, ar, sw, ln or sg)", ErrBadLang, lang)
	}
	ui := nu.UILang
	if ui == "" {
		ui = "fr"
		if _, ok := messages[lang]; ok {
			ui = lang
		}
	}
	if _, ok := messages[ui]; !ok {
		return storage.User{}, "", fmt.Errorf("%w: interface language %q (want en or fr)", ErrBadLang, ui)
	}
	resp := nu.ResponseLang
	if resp == "" {
		resp = lang
	}
	if !contains(languages, resp) {
		return storage.User{}, "", fmt.Errorf("%w: response language %q (want en, fr, ar, sw, ln or sg)", ErrBadLang, resp)
	}
	if nu.Mission != "" && !contains(mission.All, nu.Mission) {
		return storage.User{}, "", fmt.Errorf("%w: %q (want one of %s)", ErrBadMission, nu.Mission, strings.Join(mission.All, ", "))
	}
	if _, err := FindUser(ctx, st, name); err == nil {
		return storage.User{}, "", fmt.Errorf("%w: %q", ErrUserExists, name)
	} else if !errors.Is(err, ErrNoSuchUser) {
		return storage.User{}, "", err
	}
	u := storage.User{Name: name, Role: role, Lang: ui, ResponseLang: resp, Mission: nu.Mission, Created: now.UTC()}
	if err := st.PutUser(ctx, u); err != nil {
		return storage.User{}, "", fmt.Errorf("web: store user %q: %w", name, err)
	}
	secret, _, err := IssueToken(ctx, st, name, now, time.Time{})
	if err != nil {
		return storage.User{}, "", err
	}
	return u, secret, nil
}

// IssueToken stores a new API token for user and returns its secret.
func IssueToken(ctx context.Context, st storage.Store, user string, now, expires time.Time) (string, storage.Token, error) {
	return issue(ctx, st, apiPrefix, user, now, expires)
}

func issue(ctx context.Context, st storage.Store, prefix, user string, now, expires time.Time) (string, storage.Token, error) {
	secret, err := newSecret(prefix)
	if err != nil {
		return "", storage.Token{}, err
	}
	hash := HashToken(secret)
	t := storage.Token{Hash: hash, ID: prefix + hash[:8], User: user, Created: now.UTC(), Expires: expires.UTC()}
	if expires.IsZero() {
		t.Expires = time.Time{}
	}
	if err := st.PutToken(ctx, t); err != nil {
		return "", storage.Token{}, fmt.Errorf("web: store token for %q: %w", user, err)
	}
	return secret, t, nil
}

// RevokeUser disables a user: every token and session of theirs stops
// working at once.
func RevokeUser(ctx context.Context, st storage.Store, name string) error {
	u, err := FindUser(ctx, st, name)
	if err != nil {
		return err
	}
	u.Disabled = true
	if err := st.PutUser(ctx, u); err != nil {
		return fmt.Errorf("web: disable user %q: %w", name, err)
	}
	return nil
}

// session is an authenticated caller: a browser session or a bearer token.
type session struct {
	user   storage.User
	secret string // the session secret (browser only), from which the CSRF token derives
	lang   string
	token  storage.Token
}

// csrf returns the synchronizer token for the session's forms. It derives
// from the session secret, which only the HttpOnly cookie carries, so it is
// bound to the session and unguessable without it.
func (s *session) csrf() string {
	if s == nil || s.secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("veille-csrf|" + s.secret))
	return hex.EncodeToString(sum[:])
}

func (s *session) checkCSRF(r *http.Request) bool {
	want := s.csrf()
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// authenticate resolves a secret to its user, checking the token's kind,
// revocation, expiry and the user's state.
func (a *app) authenticate(ctx context.Context, secret, prefix string) (*session, error) {
	if !strings.HasPrefix(secret, prefix) || len(secret) > 200 {
		return nil, errBadToken
	}
	t, err := a.store.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		a.log.Error("token lookup failed", "err", err)
		return nil, errors.New("token lookup failed")
	}
	if t.Revoked || (!t.Expires.IsZero() && !a.now().Before(t.Expires)) {
		return nil, errBadToken
	}
	u, err := FindUser(ctx, a.store, t.User)
	if err != nil || u.Disabled {
		return nil, errBadToken
	}
	return &session{user: u, token: t, lang: u.Lang}, nil
}

func (a *app) bearer(r *http.Request) (*session, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errNoCredentials
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errNoCredentials
	}
	return a.authenticate(r.Context(), strings.TrimSpace(secret), apiPrefix)
}

func (a *app) sessionCookie() string {
	if a.opt.SecureCookies {
		return "__Host-veille_session"
	}
	return "veille_session"
}

func (a *app) preCookie() string {
	if a.opt.SecureCookies {
		return "__Host-veille_login"
	}
	return "veille_login"
}

func (a *app) sessionFrom(r *http.Request) (*session, error) {
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return nil, errNoSession
	}
	s, err := a.authenticate(r.Context(), c.Value, sessionPrefix)
	if err != nil {
		return nil, err
	}
	s.secret = c.Value
	if lc, err := r.Cookie("veille_lang"); err == nil {
		if _, ok := messages[lc.Value]; ok {
			s.lang = lc.Value
		}
	}
	if _, ok := messages[s.lang]; !ok {
		s.lang = "en"
	}
	return s, nil
}

func (a *app) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: a.opt.SecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// clientIP is the address of the client: the peer address, or, when the
// peer is one of Options.TrustedProxies, the last address in
// X-Forwarded-For that is not itself a trusted proxy.
func (a *app) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !a.trusted(host) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(hops[i])
		if ip == nil {
			break // a malformed hop: trust nothing before it
		}
		if !a.trusted(ip.String()) {
			return ip.String()
		}
	}
	return host
}

// trusted reports whether addr is a configured trusted proxy.
func (a *app) trusted(addr string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, n := range a.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseProxies reads trusted proxy addresses or CIDR ranges.
func ParseProxies(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range list {
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil {
				if ip.To4() != nil {
					p += "/32"
				} else {
					p += "/128"
				}
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q: want an IP address or a CIDR range", p)
		}
		out = append(out, n)
	}
	return out, nil
}

type loginView struct {
	Next, Name, CSRF string
	Error            string
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request, u *session) {
	if u != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.renderLogin(w, r, http.StatusOK, loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin shows the login form with a fresh double-submit token: the
// login form has no session yet, so its CSRF token is a random value held
// both in a SameSite=Strict cookie and in the form.
func (a *app) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	pre, err := newSecret("")
	if err != nil {
		a.pageError(w, r, nil, http.StatusInternalServerError, "err_internal")
		return
	}
	a.setCookie(w, a.preCookie(), pre, 3600)
	v.CSRF = pre
	a.render(w, r, nil, status, "login", "login_title", v)
}

func (a *app) loginSubmit(w http.ResponseWriter, r *http.Request, _ *session) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	name := strings.TrimSpace(r.PostFormValue("name"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	v := loginView{Next: safeNext(r.PostFormValue("next")), Name: name}
	pre, err := r.Cookie(a.preCookie())
	if err != nil || pre.Value == "" || subtle.ConstantTimeCompare([]byte(pre.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		v.Error = "err_csrf"
		a.renderLogin(w, r, http.StatusForbidden, v)
		return
	}
	ip := a.clientIP(r)
	logName := name
	if !nameRE.MatchString(name) || strings.HasPrefix(name, apiPrefix) {
		logName = "(not a user name)" // someone may paste a token in the wrong field
	}
	// A correct token always signs in: failures are counted per user name
	// and client address, so nobody can lock another person out.
	s, err := a.authenticate(r.Context(), token, apiPrefix)
	if err != nil || s.user.Name != name {
		// Failures are also counted per address across names, so one
		// client cycling made-up names cannot grow the per-name counts
		// without bound; an unusable name is counted as one name.
		keyName := name
		if logName != name {
			keyName = "\x00invalid"
		}
		if !a.loginAddrFail.take(ip) || !a.loginFail.take(keyName+"\x00"+ip) {
			a.log.Warn("login rate limited", "ip", ip, "user", logName)
			w.Header().Set("Retry-After", fmt.Sprint(int(a.opt.LoginWindow.Seconds())))
			v.Error = "err_rate_login"
			a.renderLogin(w, r, http.StatusTooManyRequests, v)
			return
		}
		a.log.Info("login failed", "ip", ip, "user", logName)
		v.Error = "err_login"
		a.renderLogin(w, r, http.StatusUnauthorized, v)
		return
	}
	now := a.now()
	secret, _, err := issue(r.Context(), a.store, sessionPrefix, name, now, now.Add(a.opt.SessionTTL))
	if err != nil {
		a.log.Error("session create failed", "user", name, "err", err)
		a.pageError(w, r, nil, http.StatusInternalServerError, "err_internal")
		return
	}
	a.log.Info("login", "user", name, "role", s.user.Role, "ip", ip)
	a.setCookie(w, a.sessionCookie(), secret, int(a.opt.SessionTTL.Seconds()))
	a.setCookie(w, a.preCookie(), "", -1)
	next := v.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request, u *session) {
	t := u.token
	t.Revoked = true
	if err := a.store.PutToken(r.Context(), t); err != nil {
		a.log.Error("logout: revoke session failed", "user", u.user.Name, "err", err)
	}
	a.setCookie(w, a.sessionCookie(), "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) setLang(w http.ResponseWriter, r *http.Request, u *session) {
	lang := r.PostFormValue("lang")
	if _, ok := messages[lang]; ok {
		http.SetCookie(w, &http.Cookie{Name: "veille_lang", Value: lang, Path: "/", MaxAge: 365 * 86400,
			Secure: a.opt.SecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site: an absolute path with no
// scheme and no host. Anything a browser would strip or rewrite before
// reading the URL (tabs, newlines, other control characters, spaces,
// backslashes, which it reads as slashes) is refused outright, so
// "/\t/evil.example" cannot turn into "//evil.example" on the way.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	if strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

// limiter counts events per key in fixed windows. It holds at most
// maxKeys keys: expired windows are swept at most once per eighth of a
// window, and when every slot is live a new key evicts a random one, so a
// caller cycling keys costs memory and time bounded by maxKeys, never more.
type limiter struct {
	mu        sync.Mutex
	max       int
	window    time.Duration
	now       func() time.Time
	seen      map[string]*window
	maxKeys   int
	nextSweep time.Time
}

type window struct {
	start time.Time
	n     int
}

// limiterKeys bounds each limiter's memory: about 100 bytes a key.
const limiterKeys = 100_000

func newLimiter(max int, win time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: win, now: now, seen: map[string]*window{}, maxKeys: limiterKeys}
}

func (l *limiter) current(key string) *window {
	now := l.now()
	w := l.seen[key]
	if w != nil && now.Sub(w.start) < l.window {
		return w
	}
	if w == nil && len(l.seen) >= l.maxKeys {
		if !now.Before(l.nextSweep) {
			for k, old := range l.seen {
				if now.Sub(old.start) >= l.window {
					delete(l.seen, k)
				}
			}
			l.nextSweep = now.Add(l.window / 8)
		}
		for k := range l.seen { // still full: evict one at random
			if len(l.seen) < l.maxKeys {
				break
			}
			delete(l.seen, k)
		}
	}
	w = &window{start: now}
	l.seen[key] = w
	return w
}

// allow says whether key is still under its limit, without counting.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current(key).n < l.max
}

// hit counts one event for key.
func (l *limiter) hit(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.current(key).n++
}

// take counts one event and says whether it was within the limit.
func (l *limiter) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key)
	if w.n >= l.max {
		return false
	}
	w.n++
	return true
}

// Name is the signed-in user's name, for templates.
func (s *session) Name() string { return s.user.Name }

// Role is the signed-in user's role, for templates.
func (s *session) Role() string { return s.user.Role }

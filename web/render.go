package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// page is what every template gets: the signed-in user, the language and
// the page's own data.
type page struct {
	Title string
	User  *session
	Lang  string
	CSRF  string
	Path  string
	Nav   []navLink
	Langs []langLink
	Flash string
	Data  any
}

type navLink struct {
	Href, Key string
	Active    bool
}

type langLink struct {
	Code, Name string
	Active     bool
}

// T translates a message key into the page's language.
func (p page) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

// LangName is a language's name in that language ("sw" → "Kiswahili").
func (p page) LangName(code string) string { return LanguageName(code) }

// Pct formats a share as a whole percentage.
func (p page) Pct(x float64) string { return fmt.Sprintf("%.0f %%", 100*x) }

// F3 formats a score with three decimals.
func (p page) F3(x float64) string { return fmt.Sprintf("%.3f", x) }

// Date formats a time for display, UTC.
func (p page) Date(t time.Time) string {
	if t.IsZero() {
		return tr(p.Lang, "never")
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// Day formats a date without the time.
func (p page) Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

var pages = []string{"login", "error", "queue", "item", "check", "trends", "sources", "catalog", "users", "alerts", "emerging", "promote", "models", "briefs"}

func (a *app) parseTemplates() error {
	a.tmpl = map[string]*template.Template{}
	funcs := template.FuncMap{
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		// pathseg escapes one path segment ("/" included).
		"pathseg": url.PathEscape,
		// dict passes the page and a report to the report template.
		"dict": func(p page, r any) map[string]any { return map[string]any{"p": p, "r": r} },
	}
	for _, name := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		a.tmpl[name] = t
	}
	return nil
}

func (a *app) nav(u *session, path string) []navLink {
	if u == nil {
		return nil
	}
	all := []struct {
		href, key string
		roles     []string
	}{
		{"/queue", "nav_queue", rolesReview},
		{"/check", "nav_check", rolesRadio},
		{"/trends", "nav_trends", rolesAnalyst},
		{"/briefs", "nav_briefs", rolesBriefs},
		{"/alerts", "nav_alerts", rolesAlerts},
		{"/emerging", "nav_emerging", rolesReview},
		{"/sources", "nav_sources", rolesAdmin},
		{"/catalog", "nav_catalog", rolesAdmin},
		{"/models", "nav_models", rolesAdmin},
		{"/users", "nav_users", rolesAdmin},
	}
	var out []navLink
	for _, l := range all {
		if allowed(u.user.Role, l.roles) {
			out = append(out, navLink{Href: l.href, Key: l.key, Active: strings.HasPrefix(path, l.href)})
		}
	}
	return out
}

// render executes a page template into a buffer first, so a template error
// never sends half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, u *session, status int, name, titleKey string, data any) {
	lang := "en"
	if u != nil {
		lang = u.lang
	} else if c, err := r.Cookie("veille_lang"); err == nil {
		if _, ok := messages[c.Value]; ok {
			lang = c.Value
		}
	} else if strings.HasPrefix(r.Header.Get("Accept-Language"), "fr") {
		lang = "fr"
	}
	p := page{Lang: lang, User: u, CSRF: u.csrf(), Path: r.URL.RequestURI(), Nav: a.nav(u, r.URL.Path), Data: data}
	p.Title = tr(lang, titleKey)
	for _, l := range langOrder {
		p.Langs = append(p.Langs, langLink{Code: l, Name: tr(l, "lang_name"), Active: l == lang})
	}
	var buf bytes.Buffer
	if err := a.tmpl[name].Execute(&buf, p); err != nil {
		a.log.Error("render failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (a *app) pageError(w http.ResponseWriter, r *http.Request, u *session, status int, key string) {
	a.render(w, r, u, status, "error", "err_title", struct {
		Status int
		Key    string
	}{status, key})
}

func (a *app) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		a.log.Warn("write json failed", "err", err)
	}
}

func (a *app) jsonError(w http.ResponseWriter, status int, msg string) {
	a.writeJSON(w, status, map[string]string{"error": msg})
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Package web owns Veille's web app and its JSON API: the reviewers' queue
// and item pages, the radio stations' rumour check, the analysts' trend
// charts and downloads, the early-warning pages (surge alerts, emerging
// rumours to dismiss or promote into the catalog), and the admins' user,
// source and catalog pages. It owns authentication (user name + token,
// server-side sessions, bearer tokens), roles, CSRF protection, security
// headers and the rendering of untrusted feed text. Storage is the storage
// package's job; classification is the classifiers package's; the alert
// engine and the emerging finder are reached through Alerts and Emerging.
//
// Rights model: admins reach everything; reviewers read items and the queue,
// record decisions and dismiss emerging groups; analysts see only aggregates
// (trends, rising, spread, exports of counts, alerts), never an item's text;
// radio users see only the
// results of their own rumour checks (matched narratives, spread counts,
// titles of similar items and response lines), never an item page.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/storage"
)

// Catalog is what the web app needs from the narrative catalog.
type Catalog interface {
	IDs() []string
	Title(id, lang string) string
	Meaning(id, lang string) string
	Responses(id, lang string) []string
}

// SourceStatus is one configured source with its feed health.
type SourceStatus struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Kind    string `json:"kind"`
	Lang    string `json:"lang,omitempty"`
	Mission string `json:"mission,omitempty"`
	Paused  bool   `json:"paused"`
	// Added is true for a source an admin added (it can be deleted);
	// false for one from the configuration file.
	Added        bool      `json:"added"`
	AddedBy      string    `json:"added_by,omitempty"`
	LastSuccess  time.Time `json:"last_success"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at"`
	ItemsLastDay int64     `json:"items_last_day"`
	Failures     int       `json:"failures"`
	// Capped says when the last poll held new items back by the
	// per-source caps (they come in later polls).
	Capped string `json:"capped,omitempty"`
	// Warnings are what the last parse of the feed had to repair or guess.
	Warnings []string `json:"warnings,omitempty"`
	// Fixed: not polled, so not paused from the page (a tipline channel,
	// turned on in the configuration).
	Fixed bool `json:"fixed,omitempty"`
}

// Sources lists the configured sources and their health.
type Sources interface {
	List(ctx context.Context) ([]SourceStatus, error)
}

// Options configures the web app.
type Options struct {
	Store      storage.Store
	Classifier classifiers.Classifier
	Catalog    Catalog
	Sources    Sources // nil: no sources configured
	// SourceAdmin adds, pauses and deletes sources; nil: the sources page
	// is read-only.
	SourceAdmin SourceAdmin
	// Alerts is the surge alert log; nil: the alerts page says alerts are
	// not configured.
	Alerts Alerts
	// Emerging finds and promotes emerging rumours; nil: not configured.
	Emerging Emerging
	// Models lists, promotes and rolls back the learned model; nil: the
	// models page shows production precision only.
	Models ModelAdmin
	// Briefs makes briefs for leadership and partners; nil: the Briefs
	// page lists kept briefs only.
	Briefs Briefs
	Logger *slog.Logger
	// SecureCookies marks cookies Secure; true unless serving plain HTTP on
	// loopback.
	SecureCookies bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SessionTTL is how long a browser session lasts (default 12h).
	SessionTTL time.Duration
	// LoginLimit is how many failed sign-ins one user name may have from
	// one client address per LoginWindow (defaults 10 per 15 minutes);
	// past it that pair is answered 429, while a correct token always
	// signs in. One address may fail ten times that many across all names.
	LoginLimit  int
	LoginWindow time.Duration
	// BearerLimit is how many failed API token look-ups one client address
	// may make per LoginWindow before its requests are refused unread
	// (default 50).
	BearerLimit int
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For header names the client (web.trusted_proxies);
	// from anyone else the header is ignored.
	TrustedProxies []*net.IPNet
	// CheckLimit is how many rumour checks a user may run per minute
	// (default 30).
	CheckLimit int
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed openapi.json
var openAPI []byte

// Errors callers and tests branch on.
var (
	ErrBadRole     = errors.New("web: unknown role")
	ErrBadName     = errors.New("web: bad user name")
	ErrUserExists  = errors.New("web: user already exists")
	ErrNoSuchUser  = errors.New("web: no such user")
	errMissingDeps = errors.New("web: Options.Store, Classifier and Catalog are required")
)

type app struct {
	opt    Options
	store  storage.Store
	log    *slog.Logger
	now    func() time.Time
	tmpl   map[string]*template.Template
	policy *bluemonday.Policy
	// loginFail counts failed sign-ins per (user name, client address).
	loginFail *limiter
	// loginAddrFail counts failed sign-ins per client address, whatever
	// the name (ten times LoginLimit).
	loginAddrFail *limiter
	// bearerFail counts failed API token look-ups per client address.
	bearerFail *limiter
	proxies    []*net.IPNet
	checkLim   *limiter
	routes     []route
}

// New returns the web app's handler.
func New(opt Options) (http.Handler, error) {
	if opt.Store == nil || opt.Classifier == nil || opt.Catalog == nil {
		return nil, errMissingDeps
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.LoginLimit <= 0 {
		opt.LoginLimit = 10
	}
	if opt.LoginWindow <= 0 {
		opt.LoginWindow = 15 * time.Minute
	}
	if opt.CheckLimit <= 0 {
		opt.CheckLimit = 30
	}
	if opt.BearerLimit <= 0 {
		opt.BearerLimit = 50
	}
	a := &app{
		opt:           opt,
		store:         opt.Store,
		log:           opt.Logger,
		now:           opt.Now,
		policy:        originalPolicy(),
		loginFail:     newLimiter(opt.LoginLimit, opt.LoginWindow, opt.Now),
		loginAddrFail: newLimiter(10*opt.LoginLimit, opt.LoginWindow, opt.Now),
		bearerFail:    newLimiter(opt.BearerLimit, opt.LoginWindow, opt.Now),
		checkLim:      newLimiter(opt.CheckLimit, time.Minute, opt.Now),
		proxies:       opt.TrustedProxies,
	}
	if err := a.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	a.routes = a.routeTable()
	for _, r := range a.routes {
		mux.Handle(r.method+" "+r.pattern, a.guard(r))
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(noListing(http.FileServerFS(static)))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", a.notFound)
	return securityHeaders(compress(mux), opt.SecureCookies), nil
}

// route is one page or API endpoint and the roles that may reach it.
type route struct {
	method  string
	pattern string
	roles   []string // empty: any signed-in user
	api     bool
	public  bool
	h       func(w http.ResponseWriter, r *http.Request, u *session)
}

// Route describes one route for documentation and tests.
type Route struct {
	Method  string
	Pattern string
	Roles   []string
	API     bool
	Public  bool
}

// Routes lists the app's routes (static files and /healthz excepted).
func Routes() []Route {
	a := &app{}
	var out []Route
	for _, r := range a.routeTable() {
		out = append(out, Route{Method: r.method, Pattern: r.pattern, Roles: r.roles, API: r.api, Public: r.public})
	}
	return out
}

var (
	rolesReview  = []string{storage.RoleReviewer}
	rolesRadio   = []string{storage.RoleRadio}
	rolesAnalyst = []string{storage.RoleAnalyst}
	rolesAdmin   = []string{storage.RoleAdmin}
	// Alerts hold counts and names, no item text: analysts may read them.
	rolesAlerts = []string{storage.RoleReviewer, storage.RoleAnalyst}
)

func (a *app) routeTable() []route {
	return []route{
		{method: "GET", pattern: "/{$}", h: a.home},
		{method: "GET", pattern: "/login", public: true, h: a.loginPage},
		{method: "POST", pattern: "/login", public: true, h: a.loginSubmit},
		{method: "POST", pattern: "/logout", h: a.logout},
		{method: "POST", pattern: "/lang", h: a.setLang},

		{method: "GET", pattern: "/queue", roles: rolesReview, h: a.queuePage},
		{method: "GET", pattern: "/items/{id}", roles: rolesReview, h: a.itemPage},
		{method: "POST", pattern: "/items/{id}/review", roles: rolesReview, h: a.reviewSubmit},
		{method: "POST", pattern: "/items/{id}/missed", roles: rolesReview, h: a.missedSubmit},
		{method: "GET", pattern: "/labels.jsonl", roles: rolesReview, h: a.labelsDownload},

		{method: "GET", pattern: "/check", roles: rolesRadio, h: a.checkPage},
		{method: "POST", pattern: "/check", roles: rolesRadio, h: a.checkSubmit},

		{method: "GET", pattern: "/trends", roles: rolesAnalyst, h: a.trendsPage},
		{method: "GET", pattern: "/trends/download", roles: rolesAnalyst, h: a.trendsDownload},
		{method: "GET", pattern: "/briefs", roles: rolesBriefs, h: a.briefsPage},
		{method: "POST", pattern: "/briefs", roles: rolesBriefs, h: a.briefsMake},
		{method: "GET", pattern: "/briefs/{id}", roles: rolesBriefs, h: a.briefShow},
		{method: "GET", pattern: "/briefs/{id}/pdf", roles: rolesBriefs, h: a.briefPDF},

		{method: "GET", pattern: "/alerts", roles: rolesAlerts, h: a.alertsPage},
		{method: "GET", pattern: "/emerging", roles: rolesReview, h: a.emergingPage},
		{method: "POST", pattern: "/emerging/{id}/dismiss", roles: rolesReview, h: a.dismissSubmit},
		{method: "GET", pattern: "/emerging/{id}/promote", roles: rolesAdmin, h: a.promotePage},
		{method: "POST", pattern: "/emerging/{id}/promote", roles: rolesAdmin, h: a.promoteSubmit},

		{method: "GET", pattern: "/sources", roles: rolesAdmin, h: a.sourcesPage},
		{method: "POST", pattern: "/sources", roles: rolesAdmin, h: a.sourcesAdd},
		{method: "POST", pattern: "/sources/{name}/pause", roles: rolesAdmin, h: a.sourcesPause},
		{method: "POST", pattern: "/sources/{name}/resume", roles: rolesAdmin, h: a.sourcesResume},
		{method: "GET", pattern: "/catalog", roles: rolesAdmin, h: a.catalogPage},
		{method: "GET", pattern: "/models", roles: rolesAdmin, h: a.modelsPage},
		{method: "POST", pattern: "/models/rollback", roles: rolesAdmin, h: a.modelsRollback},
		{method: "POST", pattern: "/models/train", roles: rolesAdmin, h: a.modelsTrain},
		{method: "POST", pattern: "/models/{version}/promote", roles: rolesAdmin, h: a.modelsPromote},
		{method: "GET", pattern: "/users", roles: rolesAdmin, h: a.usersPage},
		{method: "POST", pattern: "/users", roles: rolesAdmin, h: a.usersAdd},
		{method: "POST", pattern: "/users/{name}/revoke", roles: rolesAdmin, h: a.usersRevoke},

		{method: "GET", pattern: "/api/v1/openapi.json", api: true, h: a.apiOpenAPI},
		{method: "GET", pattern: "/api/v1/me", api: true, h: a.apiMe},
		{method: "GET", pattern: "/api/v1/flags", api: true, roles: rolesReview, h: a.apiFlags},
		{method: "GET", pattern: "/api/v1/items/{id}", api: true, roles: rolesReview, h: a.apiItem},
		{method: "POST", pattern: "/api/v1/reviews", api: true, roles: rolesReview, h: a.apiReview},
		{method: "POST", pattern: "/api/v1/items/{id}/flags", api: true, roles: rolesReview, h: a.apiMissed},
		{method: "GET", pattern: "/api/v1/labels", api: true, roles: rolesReview, h: a.apiLabels},
		{method: "POST", pattern: "/api/v1/check", api: true, roles: rolesRadio, h: a.apiCheck},
		{method: "GET", pattern: "/api/v1/trends", api: true, roles: rolesAnalyst, h: a.apiTrends},
		{method: "GET", pattern: "/api/v1/rising", api: true, roles: rolesAnalyst, h: a.apiRising},
		{method: "GET", pattern: "/api/v1/spread/{narrative}", api: true, roles: rolesAnalyst, h: a.apiSpread},
		{method: "GET", pattern: "/api/v1/export", api: true, roles: rolesAnalyst, h: a.apiExport},
		{method: "GET", pattern: "/api/v1/briefs", api: true, roles: rolesBriefs, h: a.apiBriefs},
		{method: "POST", pattern: "/api/v1/briefs", api: true, roles: rolesBriefs, h: a.apiBriefMake},
		{method: "GET", pattern: "/api/v1/alerts", api: true, roles: rolesAlerts, h: a.apiAlerts},
		{method: "GET", pattern: "/api/v1/emerging", api: true, roles: rolesReview, h: a.apiEmerging},
		{method: "POST", pattern: "/api/v1/emerging/{id}/dismiss", api: true, roles: rolesReview, h: a.apiDismiss},
		{method: "GET", pattern: "/api/v1/emerging/{id}/draft", api: true, roles: rolesAdmin, h: a.apiDraft},
		{method: "POST", pattern: "/api/v1/emerging/{id}/promote", api: true, roles: rolesAdmin, h: a.apiPromote},
		{method: "GET", pattern: "/api/v1/sources", api: true, roles: rolesAdmin, h: a.apiSources},
		{method: "POST", pattern: "/api/v1/sources", api: true, roles: rolesAdmin, h: a.apiSourceAdd},
		{method: "POST", pattern: "/api/v1/sources/{name}/pause", api: true, roles: rolesAdmin, h: a.apiSourcePause},
		{method: "POST", pattern: "/api/v1/sources/{name}/resume", api: true, roles: rolesAdmin, h: a.apiSourceResume},
		{method: "DELETE", pattern: "/api/v1/sources/{name}", api: true, roles: rolesAdmin, h: a.apiSourceDelete},
		{method: "GET", pattern: "/api/v1/narratives", api: true, roles: rolesAdmin, h: a.apiNarratives},
		{method: "GET", pattern: "/api/v1/models", api: true, roles: rolesAdmin, h: a.apiModels},
		{method: "POST", pattern: "/api/v1/models/rollback", api: true, roles: rolesAdmin, h: a.apiModelRollback},
		{method: "POST", pattern: "/api/v1/models/train", api: true, roles: rolesAdmin, h: a.apiModelTrain},
		{method: "POST", pattern: "/api/v1/models/{version}/promote", api: true, roles: rolesAdmin, h: a.apiModelPromote},
		{method: "GET", pattern: "/api/v1/precision", api: true, roles: []string{storage.RoleAdmin, storage.RoleAnalyst}, h: a.apiPrecision},
		{method: "GET", pattern: "/api/v1/users", api: true, roles: rolesAdmin, h: a.apiUsers},
		{method: "POST", pattern: "/api/v1/users", api: true, roles: rolesAdmin, h: a.apiUserAdd},
		{method: "DELETE", pattern: "/api/v1/users/{name}", api: true, roles: rolesAdmin, h: a.apiUserRevoke},
	}
}

// allowed says whether role may use a route limited to roles.
func allowed(role string, roles []string) bool {
	if role == storage.RoleAdmin || len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// guard authenticates the request, checks the role and, for form posts,
// the CSRF token, before calling the route's handler.
func (a *app) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.api {
			ip := a.clientIP(r)
			if !a.bearerFail.allow(ip) {
				w.Header().Set("Retry-After", fmt.Sprint(int(a.opt.LoginWindow.Seconds())))
				a.jsonError(w, http.StatusTooManyRequests, "too many failed token look-ups from this address; retry later")
				return
			}
			u, err := a.bearer(r)
			if err != nil {
				if !errors.Is(err, errNoCredentials) {
					a.bearerFail.hit(ip)
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="veille"`)
				a.jsonError(w, http.StatusUnauthorized, err.Error())
				return
			}
			if !allowed(u.user.Role, rt.roles) {
				a.jsonError(w, http.StatusForbidden, fmt.Sprintf("role %s may not use %s %s", u.user.Role, rt.method, rt.pattern))
				return
			}
			rt.h(w, r, u)
			return
		}
		u, err := a.sessionFrom(r)
		if rt.public {
			rt.h(w, r, u) // u is nil when signed out
			return
		}
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.pageError(w, r, nil, http.StatusUnauthorized, "err_signed_out")
			return
		}
		if !allowed(u.user.Role, rt.roles) {
			a.pageError(w, r, u, http.StatusForbidden, "err_forbidden")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		}
		if r.Method == http.MethodPost && !u.checkCSRF(r) {
			a.pageError(w, r, u, http.StatusForbidden, "err_csrf")
			return
		}
		rt.h(w, r, u)
	})
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		if _, err := a.bearer(r); err != nil {
			a.jsonError(w, http.StatusUnauthorized, err.Error())
			return
		}
		a.jsonError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
		return
	}
	u, err := a.sessionFrom(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheForever(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// originalPolicy is the allow-list for a feed's original HTML: text
// structure and links only. Images, media, forms, styles and scripts are
// dropped: they cost bandwidth and can track who reads the item.
func originalPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "i", "em", "strong", "u", "s", "ul", "ol", "li", "blockquote",
		"h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "q", "cite", "small", "sub", "sup", "hr",
		"table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "span", "div")
	p.AllowStandardURLs()
	p.AllowAttrs("href").OnElements("a")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// noListing answers 404 for a directory, so /static/ lists nothing.
func noListing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

// Early warning: the surge alerts the alert engine sent and the emerging
// groups of unflagged texts that say the same thing. The engine and the
// finder live in the pipeline; the web app sees them through Alerts and
// Emerging, which cmd/veille implements.

// AlertView is one surge alert as the web app lists it. It carries counts
// and names only, never an item's text, so analysts may read it.
type AlertView struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // new | update
	Rule string `json:"rule"`
	// Narrative is the narrative's id; Title its title when the alert was made.
	Narrative string    `json:"narrative"`
	Title     string    `json:"title,omitempty"`
	At        time.Time `json:"at"`    // when the rule fired
	Since     time.Time `json:"since"` // when the surge began
	// Window is the rule's window in seconds; Recent the flags in it.
	Window   int64   `json:"window_s"`
	Recent   int64   `json:"recent"`
	Baseline float64 `json:"baseline"`
	// Factor is (recent+1)/(baseline+1).
	Factor     float64        `json:"factor"`
	Previous   int64          `json:"previous,omitempty"`
	Missions   []string       `json:"missions,omitempty"`
	Langs      []string       `json:"langs,omitempty"`
	Sources    []string       `json:"sources,omitempty"`
	Deliveries []DeliveryView `json:"deliveries"`
}

// DeliveryView is how one channel of an alert went.
type DeliveryView struct {
	Channel   string    `json:"channel"`
	Target    string    `json:"target,omitempty"`
	Status    string    `json:"status"` // pending | sent | failed
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

// Alerts lists the alert log.
type Alerts interface {
	// Recent returns the n latest alerts, newest first.
	Recent(ctx context.Context, n int) ([]AlertView, error)
}

// EmergingGroup is a group of unflagged texts about a mission that say the
// same thing: a rumour the catalog may lack.
type EmergingGroup struct {
	ID        string    `json:"id"`
	Terms     []string  `json:"terms"`
	Items     int       `json:"items"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Sources   []string  `json:"sources"`
	Langs     []string  `json:"langs"`
	// Recent and Earlier count items in the recent span and before it;
	// Growth is (Recent+1)/(Earlier+1).
	Recent  int              `json:"recent"`
	Earlier int              `json:"earlier"`
	Growth  float64          `json:"growth"`
	Score   float64          `json:"score"`
	Samples []EmergingSample `json:"samples"`
}

// EmergingSample is one item of a group, earliest first.
type EmergingSample struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	Published time.Time `json:"published"`
}

// DraftEntry is a catalog entry as an admin edits it before promotion.
type DraftEntry struct {
	ID        string              `json:"id"`
	Title     map[string]string   `json:"title"`
	Meaning   map[string]string   `json:"meaning"`
	Responses map[string][]string `json:"responses"`
	// Concepts must all be present in one text (with a mention of the
	// mission) for the narrative to fire.
	Concepts []DraftConcept `json:"concepts"`
}

// DraftConcept is one detection concept: its words per language.
type DraftConcept struct {
	Name  string              `json:"name"`
	Terms map[string][]string `json:"terms"`
}

// Emerging finds emerging groups and acts on them.
type Emerging interface {
	// Groups returns the groups of items published since then that no
	// reviewer dismissed, highest score first.
	Groups(ctx context.Context, since time.Time) ([]EmergingGroup, error)
	// Dismiss records that a group is not a rumour to track.
	Dismiss(ctx context.Context, groupID, reviewer, note string) error
	// Draft returns a catalog entry drafted from a group.
	Draft(ctx context.Context, groupID string) (DraftEntry, error)
	// Promote adds the edited entry to the catalog and the live matcher,
	// and returns the new narrative's id.
	Promote(ctx context.Context, groupID string, entry DraftEntry, admin string) (narrativeID string, err error)
}

// Errors an Emerging implementation returns for the app to branch on.
var (
	// ErrNoSuchGroup: the group id is unknown (or no longer in the window).
	ErrNoSuchGroup = errors.New("web: no such emerging group")
	// ErrInvalidEntry: the edited entry does not make a valid narrative.
	ErrInvalidEntry = errors.New("web: invalid catalog entry")
	// ErrNarrativeExists: the catalog already has a narrative with that id.
	ErrNarrativeExists = errors.New("web: narrative id already in the catalog")
)

var (
	narrativeIDRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	conceptRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	langCodeRE    = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// Choices of the emerging page's period, in hours.
var emergingPeriods = []int{24, 48, 168}

const (
	alertsShown  = 100
	maxNoteBytes = 2000
)

// alertRow is an alert with what the page adds: its queue link.
type alertRow struct {
	AlertView
	NarrTitle  string
	WindowText string
	FactorText string
	ReviewURL  string
}

type alertsView struct {
	Configured bool
	Rows       []alertRow
}

func (a *app) alertsPage(w http.ResponseWriter, r *http.Request, u *session) {
	v := alertsView{Configured: a.opt.Alerts != nil}
	if v.Configured {
		list, err := a.opt.Alerts.Recent(r.Context(), alertsShown)
		if err != nil {
			a.log.Error("alerts failed", "err", err)
			a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
			return
		}
		for _, al := range list {
			row := alertRow{AlertView: al, NarrTitle: a.narrTitle(al.Narrative, u.lang), WindowText: windowText(time.Duration(al.Window) * time.Second),
				FactorText: strconv.FormatFloat(math.Round(al.Factor*10)/10, 'f', -1, 64)}
			if row.NarrTitle == al.Narrative && al.Title != "" {
				row.NarrTitle = al.Title
			}
			if allowed(u.user.Role, rolesReview) {
				row.ReviewURL = a.alertQueueURL(al)
			}
			v.Rows = append(v.Rows, row)
		}
	}
	a.render(w, r, u, http.StatusOK, "alerts", "alerts_title", v)
}

// alertQueueURL is the review queue filtered on an alert's narrative and
// missions, over the days since the surge began.
func (a *app) alertQueueURL(al AlertView) string {
	q := url.Values{"narrative": {al.Narrative}}
	if len(al.Missions) > 0 {
		q.Set("mission", strings.Join(al.Missions, ","))
	}
	if !al.Since.IsZero() {
		days := int(math.Ceil(a.now().Sub(al.Since).Hours()/24)) + 1
		q.Set("days", strconv.Itoa(min(max(days, 1), 3660)))
	}
	return "/queue?" + q.Encode()
}

// windowText formats a window: 6h, 2d, 90m.
func windowText(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
}

func (a *app) apiAlerts(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Alerts == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "alerts are not configured on this server")
		return
	}
	n := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			a.jsonError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want 1 to 1000", v))
			return
		}
	}
	list, err := a.opt.Alerts.Recent(r.Context(), n)
	if err != nil {
		a.log.Error("alerts failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "reading the alert log failed")
		return
	}
	if list == nil {
		list = []AlertView{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
}

type emergingView struct {
	Configured bool
	Hours      int
	Periods    []int
	Groups     []emergingRow
	Promoted   string
	Dismissed  bool
	Admin      bool
}

type emergingRow struct {
	EmergingGroup
	GrowthText string
}

// emergingSince reads the period (?hours=) of the emerging page and API.
func (a *app) emergingSince(q url.Values) (int, time.Time, error) {
	hours := 48
	if v := q.Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24*90 {
			return 0, time.Time{}, fmt.Errorf("hours %q: want 1 to %d", v, 24*90)
		}
		hours = n
	}
	return hours, a.now().Add(-time.Duration(hours) * time.Hour), nil
}

func (a *app) emergingPage(w http.ResponseWriter, r *http.Request, u *session) {
	hours, since, err := a.emergingSince(r.URL.Query())
	if err != nil {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	v := emergingView{Configured: a.opt.Emerging != nil, Hours: hours, Periods: emergingPeriods,
		Dismissed: r.URL.Query().Get("dismissed") == "1", Admin: u.user.Role == storage.RoleAdmin}
	if p := r.URL.Query().Get("promoted"); narrativeIDRE.MatchString(p) {
		v.Promoted = p
	}
	if v.Configured {
		groups, err := a.opt.Emerging.Groups(r.Context(), since)
		if err != nil {
			a.log.Error("emerging failed", "err", err)
			a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
			return
		}
		for _, g := range groups {
			v.Groups = append(v.Groups, emergingRow{EmergingGroup: g, GrowthText: strconv.FormatFloat(math.Round(g.Growth*10)/10, 'f', -1, 64)})
		}
	}
	a.render(w, r, u, http.StatusOK, "emerging", "emerging_title", v)
}

func (a *app) apiEmerging(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Emerging == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "emerging rumours are not configured on this server")
		return
	}
	_, since, err := a.emergingSince(r.URL.Query())
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	groups, err := a.opt.Emerging.Groups(r.Context(), since)
	if err != nil {
		a.log.Error("emerging failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "finding emerging groups failed")
		return
	}
	if groups == nil {
		groups = []EmergingGroup{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"groups": groups, "since": since.UTC()})
}

// dismiss validates and records a dismissal.
func (a *app) dismiss(ctx context.Context, u *session, groupID, note string) error {
	if !idRE.MatchString(groupID) {
		return ErrNoSuchGroup
	}
	if len(note) > maxNoteBytes {
		return fmt.Errorf("%w: note over %d bytes", ErrInvalidEntry, maxNoteBytes)
	}
	if err := a.opt.Emerging.Dismiss(ctx, groupID, u.user.Name, note); err != nil {
		return err
	}
	a.log.Info("emerging group dismissed", "group", groupID, "reviewer", u.user.Name)
	return nil
}

func (a *app) dismissSubmit(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Emerging == nil {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	err := a.dismiss(r.Context(), u, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("note")))
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case errors.Is(err, ErrInvalidEntry):
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
	case err != nil:
		a.log.Error("dismiss failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	default:
		http.Redirect(w, r, "/emerging?dismissed=1", http.StatusSeeOther)
	}
}

type dismissRequest struct {
	Note string `json:"note"`
}

func (a *app) apiDismiss(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Emerging == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "emerging rumours are not configured on this server")
		return
	}
	var req dismissRequest
	if r.ContentLength != 0 {
		if err := a.decode(w, r, &req); err != nil {
			a.jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	id := r.PathValue("id")
	err := a.dismiss(r.Context(), u, id, strings.TrimSpace(req.Note))
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.jsonError(w, http.StatusNotFound, "no emerging group "+strconv.Quote(id))
	case errors.Is(err, ErrInvalidEntry):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("dismiss failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "recording the dismissal failed")
	default:
		a.writeJSON(w, http.StatusOK, map[string]string{"group": id, "dismissed_by": u.user.Name})
	}
}

// promoteView is the promotion form: the draft as the admin edits it.
type promoteView struct {
	Group    string
	Entry    DraftEntry
	Concepts []conceptField
	Error    string
}

type conceptField struct {
	Name  string
	Terms string // one "lang: term, term" line per language
}

func (a *app) promoteForm(w http.ResponseWriter, r *http.Request, u *session, status int, group string, e DraftEntry, msg string) {
	v := promoteView{Group: group, Entry: e, Error: msg}
	for _, c := range e.Concepts {
		v.Concepts = append(v.Concepts, conceptField{Name: c.Name, Terms: formatTerms(c.Terms)})
	}
	a.render(w, r, u, status, "promote", "promote_title", v)
}

func (a *app) promotePage(w http.ResponseWriter, r *http.Request, u *session) {
	id := r.PathValue("id")
	if a.opt.Emerging == nil || !idRE.MatchString(id) {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	e, err := a.opt.Emerging.Draft(r.Context(), id)
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case err != nil:
		a.log.Error("draft failed", "group", id, "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	default:
		a.promoteForm(w, r, u, http.StatusOK, id, e, "")
	}
}

func (a *app) promoteSubmit(w http.ResponseWriter, r *http.Request, u *session) {
	id := r.PathValue("id")
	if a.opt.Emerging == nil || !idRE.MatchString(id) {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	e := entryFromForm(r)
	narr, err := a.promote(r.Context(), u, id, e)
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case errors.Is(err, ErrInvalidEntry), errors.Is(err, ErrNarrativeExists):
		a.promoteForm(w, r, u, http.StatusBadRequest, id, e, err.Error())
	case err != nil:
		a.log.Error("promote failed", "group", id, "err", err)
		a.promoteForm(w, r, u, http.StatusInternalServerError, id, e, tr(u.lang, "err_internal"))
	default:
		http.Redirect(w, r, "/emerging?promoted="+url.QueryEscape(narr), http.StatusSeeOther)
	}
}

// entryFromForm reads the promotion form.
func entryFromForm(r *http.Request) DraftEntry {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	e := DraftEntry{
		ID:        f("id"),
		Title:     map[string]string{},
		Meaning:   map[string]string{},
		Responses: map[string][]string{},
	}
	for _, l := range langOrder {
		e.Title[l] = f("title_" + l)
		e.Meaning[l] = f("meaning_" + l)
		e.Responses[l] = lines(r.PostFormValue("responses_" + l))
	}
	for _, name := range r.PostForm["concept"] {
		e.Concepts = append(e.Concepts, DraftConcept{Name: name, Terms: parseTerms(r.PostFormValue("terms_" + name))})
	}
	return e
}

// lines returns the non-empty trimmed lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// formatTerms writes a concept's terms as "lang: term, term" lines, French
// and English first.
func formatTerms(t map[string][]string) string {
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	rank := func(l string) int {
		for i, x := range langOrder {
			if x == l {
				return i
			}
		}
		return len(langOrder)
	}
	sort.Slice(langs, func(i, j int) bool {
		if rank(langs[i]) != rank(langs[j]) {
			return rank(langs[i]) < rank(langs[j])
		}
		return langs[i] < langs[j]
	})
	var b strings.Builder
	for _, l := range langs {
		if len(t[l]) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", l, strings.Join(t[l], ", "))
		}
	}
	return b.String()
}

// parseTerms reads "lang: term, term" lines; a line without a language
// code is taken as shared by every language ("*").
func parseTerms(s string) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines(s) {
		lang, rest := "*", l
		if i := strings.Index(l, ":"); i > 0 && langCodeRE.MatchString(strings.TrimSpace(l[:i])) {
			lang, rest = strings.TrimSpace(l[:i]), l[i+1:]
		}
		for _, t := range strings.Split(rest, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				out[lang] = append(out[lang], t)
			}
		}
	}
	return out
}

// checkEntry catches what the form can get wrong before the catalog's own
// validation: ids, sizes and empty concepts.
func checkEntry(e DraftEntry) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEntry, fmt.Sprintf(format, args...))
	}
	if len(e.ID) > 100 || !narrativeIDRE.MatchString(e.ID) {
		return bad("id %q: lower-case letters, digits and single dashes", e.ID)
	}
	size := 0
	for _, l := range langOrder {
		if e.Title[l] == "" {
			return bad("title (%s) is empty", l)
		}
		if e.Meaning[l] == "" {
			return bad("meaning (%s) is empty", l)
		}
		if len(e.Responses[l]) == 0 {
			return bad("responses (%s): write at least one line", l)
		}
	}
	// A draft published unedited would put placeholders on air.
	for l, v := range e.Title {
		if strings.HasPrefix(v, "Draft:") || strings.HasPrefix(v, "Brouillon :") || strings.HasPrefix(v, "Brouillon:") {
			return bad("title (%s) is still the draft's %q: write the narrative's title", l, v)
		}
	}
	for l, v := range e.Meaning {
		if strings.Contains(v, "Rewrite this meaning") || strings.Contains(v, "Réécrire ce sens") {
			return bad("meaning (%s) is still the draft's: describe the claim", l)
		}
	}
	for l, rs := range e.Responses {
		for _, v := range rs {
			if strings.Contains(v, "Response to be written") || strings.Contains(v, "Réponse à rédiger") {
				return bad("responses (%s) are still the draft's placeholder: write what stations can say", l)
			}
		}
	}
	for _, m := range []map[string]string{e.Title, e.Meaning} {
		for _, v := range m {
			size += len(v)
		}
	}
	for _, rs := range e.Responses {
		for _, v := range rs {
			size += len(v)
		}
	}
	if len(e.Concepts) == 0 {
		return bad("no detection terms")
	}
	for _, c := range e.Concepts {
		if !conceptRE.MatchString(c.Name) {
			return bad("concept %q: lower-case name", c.Name)
		}
		n := 0
		for l, ts := range c.Terms {
			if l != "*" && !langCodeRE.MatchString(l) {
				return bad("concept %s: %q is not a language code", c.Name, l)
			}
			for _, t := range ts {
				n++
				size += len(t)
			}
		}
		if n == 0 {
			return bad("concept %s has no term", c.Name)
		}
	}
	if size > 32<<10 {
		return bad("entry over 32 KiB")
	}
	return nil
}

// promote validates an edited entry and has it promoted.
func (a *app) promote(ctx context.Context, u *session, groupID string, e DraftEntry) (string, error) {
	if !idRE.MatchString(groupID) {
		return "", ErrNoSuchGroup
	}
	if err := checkEntry(e); err != nil {
		return "", err
	}
	for _, id := range a.opt.Catalog.IDs() {
		if id == e.ID {
			return "", fmt.Errorf("%w: %s", ErrNarrativeExists, e.ID)
		}
	}
	narr, err := a.opt.Emerging.Promote(ctx, groupID, e, u.user.Name)
	if err != nil {
		return "", err
	}
	a.log.Info("emerging group promoted", "group", groupID, "narrative", narr, "admin", u.user.Name)
	return narr, nil
}

func (a *app) apiDraft(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Emerging == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "emerging rumours are not configured on this server")
		return
	}
	id := r.PathValue("id")
	var e DraftEntry
	err := ErrNoSuchGroup
	if idRE.MatchString(id) {
		e, err = a.opt.Emerging.Draft(r.Context(), id)
	}
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.jsonError(w, http.StatusNotFound, "no emerging group "+strconv.Quote(id))
	case err != nil:
		a.log.Error("draft failed", "group", id, "err", err)
		a.jsonError(w, http.StatusInternalServerError, "drafting the entry failed")
	default:
		a.writeJSON(w, http.StatusOK, e)
	}
}

func (a *app) apiPromote(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Emerging == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "emerging rumours are not configured on this server")
		return
	}
	var e DraftEntry
	if err := a.decode(w, r, &e); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := r.PathValue("id")
	narr, err := a.promote(r.Context(), u, id, e)
	switch {
	case errors.Is(err, ErrNoSuchGroup):
		a.jsonError(w, http.StatusNotFound, "no emerging group "+strconv.Quote(id))
	case errors.Is(err, ErrNarrativeExists):
		a.jsonError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrInvalidEntry):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("promote failed", "group", id, "err", err)
		a.jsonError(w, http.StatusInternalServerError, "promoting the entry failed")
	default:
		a.writeJSON(w, http.StatusCreated, map[string]string{"group": id, "narrative": narr})
	}
}

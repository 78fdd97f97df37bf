package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/mission"
	"github.com/veille-project/veille/storage"
)

// Choices offered in the filters.
var (
	missions  = mission.All
	languages = []string{"fr", "en", "ar", "sw", "ln", "sg"}
	stances   = []string{classifiers.StanceAssert, classifiers.StanceReport, classifiers.StanceDebunk}
	decisions = []string{"confirm", "false_positive", "needs_response"}
	trendDims = []string{"narrative", "mission", "lang", "source", "stance"}
	periods   = []int{7, 30, 90, 365}
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func (a *app) home(w http.ResponseWriter, r *http.Request, u *session) {
	dest := map[string]string{
		storage.RoleAdmin:    "/queue",
		storage.RoleReviewer: "/queue",
		storage.RoleRadio:    "/check",
		storage.RoleAnalyst:  "/trends",
	}[u.user.Role]
	if dest == "" {
		dest = "/login"
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// filterForm is the filter as chosen in a form: one value per dimension.
type filterForm struct {
	Mission, Narrative, Lang, Source, Stance, Decision string
	Days                                               int
	By                                                 string
	Offset                                             int
}

func (a *app) readFilter(q url.Values, defDays int) (filterForm, storage.Filter, error) {
	f := filterForm{
		Mission: q.Get("mission"), Narrative: q.Get("narrative"), Lang: q.Get("lang"),
		Source: q.Get("source"), Stance: q.Get("stance"), Decision: q.Get("decision"), By: q.Get("by"),
		Days: defDays,
	}
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3660 {
			return f, storage.Filter{}, fmt.Errorf("days %q: want a number of days from 0 to 3660", v)
		}
		f.Days = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return f, storage.Filter{}, fmt.Errorf("offset %q: want a non-negative number", v)
		}
		f.Offset = n
	}
	if f.Decision != "" && f.Decision != "none" && !contains(decisions, f.Decision) {
		return f, storage.Filter{}, fmt.Errorf("decision %q: want none, confirm, false_positive or needs_response", f.Decision)
	}
	if f.Stance != "" && !contains(stances, f.Stance) {
		return f, storage.Filter{}, fmt.Errorf("stance %q: want assert, report or debunk", f.Stance)
	}
	if f.By == "" {
		f.By = "narrative"
	}
	if !contains(trendDims, f.By) {
		return f, storage.Filter{}, fmt.Errorf("by %q: want one of %s", f.By, strings.Join(trendDims, ", "))
	}
	sf := storage.Filter{}
	if f.Days > 0 {
		sf.Since = a.now().Add(-time.Duration(f.Days) * 24 * time.Hour)
	}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	sf.Missions, sf.Narratives, sf.Langs = one(f.Mission), one(f.Narrative), one(f.Lang)
	sf.Sources, sf.Stances = one(f.Source), one(f.Stance)
	for _, v := range [][]string{sf.Missions, sf.Narratives, sf.Langs, sf.Sources} {
		for _, s := range v {
			if len(s) > 200 {
				return f, storage.Filter{}, errors.New("filter value over 200 characters")
			}
		}
	}
	return f, sf, nil
}

// narrTitle is the narrative's title in lang, or its id.
func (a *app) narrTitle(id, lang string) string {
	if t := a.opt.Catalog.Title(id, lang); t != "" {
		return t
	}
	if t := a.opt.Catalog.Title(id, "en"); t != "" {
		return t
	}
	return id
}

type option struct{ Value, Label string }

func (a *app) narrativeOptions(lang string) []option {
	var out []option
	for _, id := range a.opt.Catalog.IDs() {
		out = append(out, option{id, a.narrTitle(id, lang)})
	}
	return out
}

// sourceOptions lists source names for the filters: the configured sources
// when known (cheap), else every source with stored items.
func (a *app) sourceOptions(ctx context.Context) []string {
	if a.opt.Sources != nil {
		if list, err := a.opt.Sources.List(ctx); err == nil && len(list) > 0 {
			out := make([]string, 0, len(list))
			for _, s := range list {
				out = append(out, s.Name)
			}
			sort.Strings(out)
			return out
		}
	}
	t, err := a.store.Counts(ctx)
	if err != nil {
		a.log.Warn("counts failed", "err", err)
		return nil
	}
	out := make([]string, 0, len(t.ItemsBySource))
	for s := range t.ItemsBySource {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

type queueView struct {
	F          filterForm
	Rows       []queueRow
	Narratives []option
	Missions   []string
	Langs      []string
	Sources    []string
	Stances    []string
	Decisions  []string
	Newer      string
	Older      string
	ExportURL  string
}

type queueRow struct {
	storage.QueueRow
	NarrTitle string
	Snippet   string
}

// snippet is the flag's first evidence, cut to about 160 characters.
func snippet(f storage.Flag) string {
	if len(f.Evidence) == 0 {
		return ""
	}
	r := []rune(f.Evidence[0].Text)
	if len(r) > 160 {
		return string(r[:160]) + "…"
	}
	return string(r)
}

const queuePage = 50

func (a *app) queuePage(w http.ResponseWriter, r *http.Request, u *session) {
	f, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	rows, err := a.store.Queue(r.Context(), storage.QueueQuery{Filter: sf, Decision: f.Decision, Limit: queuePage + 1, Offset: f.Offset})
	if err != nil {
		a.log.Error("queue failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	v := queueView{F: f, Narratives: a.narrativeOptions(u.lang), Missions: missions, Langs: languages,
		Sources: a.sourceOptions(r.Context()), Stances: stances, Decisions: decisions}
	q := r.URL.Query()
	if len(rows) > queuePage {
		rows = rows[:queuePage]
		q.Set("offset", strconv.Itoa(f.Offset+queuePage))
		v.Older = "/queue?" + q.Encode()
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(max(0, f.Offset-queuePage)))
		v.Newer = "/queue?" + q.Encode()
	}
	q.Del("offset")
	v.ExportURL = "/labels.jsonl?" + q.Encode()
	for _, row := range rows {
		v.Rows = append(v.Rows, queueRow{QueueRow: row, NarrTitle: a.narrTitle(row.Flag.Narrative, u.lang), Snippet: snippet(row.Flag)})
	}
	a.render(w, r, u, http.StatusOK, "queue", "queue_title", v)
}

type itemView struct {
	Item storage.Item
	Text template.HTML
	// TitleHTML is the title with the marks of spans that lie in it.
	TitleHTML template.HTML
	Original  template.HTML
	Flags     []flagView
	Reviews   []storage.Review
	Similar   []storage.SimilarRow
	Saved     bool
	Decs      []string
	// Narratives and MissedError serve the form that adds a missed flag.
	Narratives  []option
	MissedError string
}

type flagView struct {
	storage.Flag
	Title     string
	Meaning   string
	Responses []string
	Decision  string
	Evidence  []evidenceView
}

type evidenceView struct {
	Text string
	Cue  string
}

func (a *app) loadItem(ctx context.Context, id string) (storage.ItemDetail, error) {
	if !idRE.MatchString(id) {
		return storage.ItemDetail{}, storage.ErrNotFound
	}
	return a.store.Item(ctx, id)
}

func (a *app) itemPage(w http.ResponseWriter, r *http.Request, u *session) {
	d, err := a.loadItem(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	if err != nil {
		a.log.Error("item failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	v := itemView{Item: d.Item, Reviews: d.Reviews, Saved: r.URL.Query().Get("saved") == "1", Decs: decisions,
		MissedError: r.URL.Query().Get("missed_error")}
	v.Narratives = a.narrativeOptions(u.lang)
	latest := latestDecisions(d.Reviews)
	var spans []span
	var narrs, terms []string
	for _, f := range d.Flags {
		fv := flagView{Flag: f, Title: a.narrTitle(f.Narrative, u.lang), Meaning: a.meaning(f.Narrative, u.lang),
			Responses: a.responses(f.Narrative, u.lang, d.Item.Lang), Decision: latest[flagKey(f.Narrative, f.Stance)]}
		indexed := d.Item.IndexedText()
		for _, e := range f.Evidence {
			spans = append(spans, span{Start: e.Start, End: e.End, Label: fv.Title})
			ev := evidenceView{Text: e.Text}
			if ev.Text == "" && e.Start >= 0 && e.End <= len(indexed) && e.Start < e.End {
				ev.Text = indexed[e.Start:e.End]
			}
			if e.CueStart > 0 || e.CueEnd > 0 {
				ev.Cue = clock(e.CueStart)
			}
			fv.Evidence = append(fv.Evidence, ev)
			terms = append(terms, words(ev.Text)...)
		}
		narrs = append(narrs, f.Narrative)
		v.Flags = append(v.Flags, fv)
	}
	// Spans index the title, a newline and the text: the title's marks go
	// on the heading, the rest shift onto the body.
	off := d.Item.TextOffset()
	titleSpans, bodySpans := splitSpans(spans, off)
	v.TitleHTML = highlight(d.Item.Title, titleSpans)
	v.Text = highlight(d.Item.Text, bodySpans)
	if d.Item.HTML != "" {
		v.Original = template.HTML(a.policy.Sanitize(d.Item.HTML))
	}
	if len(narrs) > 0 {
		sim, err := a.store.Similar(r.Context(), storage.SimilarQuery{Narratives: narrs, Terms: terms, Limit: 6})
		if err != nil {
			a.log.Warn("similar failed", "item", d.Item.ID, "err", err)
		}
		for _, s := range sim {
			if s.ItemID != d.Item.ID && len(v.Similar) < 5 {
				v.Similar = append(v.Similar, s)
			}
		}
	}
	a.render(w, r, u, http.StatusOK, "item", "item_title", v)
}

// languageNames are the languages Veille reads, each in its own words.
var languageNames = map[string]string{"fr": "Français", "en": "English", "ar": "العربية", "sw": "Kiswahili", "ln": "Lingála", "sg": "Sängö"}

// LanguageName is a language's name in that language (the code when unknown).
func LanguageName(code string) string {
	if n, ok := languageNames[code]; ok {
		return n
	}
	return code
}

func languageOptions(codes []string) []option {
	out := make([]option, len(codes))
	for i, c := range codes {
		out[i] = option{Value: c, Label: LanguageName(c)}
	}
	return out
}

// latestDecisions maps each flag (narrative and stance) to its latest
// decision.
func latestDecisions(reviews []storage.Review) map[string]string {
	out := map[string]string{}
	at := map[string]time.Time{}
	for _, rv := range reviews {
		k := flagKey(rv.Narrative, rv.Stance)
		if t, ok := at[k]; !ok || !rv.At.Before(t) {
			at[k] = rv.At
			out[k] = rv.Decision
		}
	}
	return out
}

func flagKey(narrative, stance string) string { return narrative + "/" + stance }

func (a *app) meaning(id, lang string) string {
	if m := a.opt.Catalog.Meaning(id, lang); m != "" {
		return m
	}
	return a.opt.Catalog.Meaning(id, "en")
}

// responses returns the narrative's response lines in the first of langs
// that has some, then English, then French.
func (a *app) responses(id string, langs ...string) []string {
	for _, l := range append(langs, "en", "fr") {
		if l == "" {
			continue
		}
		if rs := a.opt.Catalog.Responses(id, l); len(rs) > 0 {
			return rs
		}
	}
	return nil
}

func clock(ms int64) string {
	s := ms / 1000
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// words returns the distinct lower-case words of at least four letters.
func words(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) >= 4 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

var (
	errInvalidReview = errors.New("invalid review")
	errBadDecision   = fmt.Errorf("%w: decision must be confirm, false_positive or needs_response", errInvalidReview)
)

// review validates and stores one decision on one flag. stance may be
// left empty when the item has a single flag of that narrative.
func (a *app) review(ctx context.Context, u *session, itemID, narrative, stance, decision, note string) (storage.Review, error) {
	if !contains(decisions, decision) {
		return storage.Review{}, errBadDecision
	}
	if len(note) > 2000 {
		return storage.Review{}, fmt.Errorf("%w: note over 2000 bytes", errInvalidReview)
	}
	d, err := a.loadItem(ctx, itemID)
	if err != nil {
		return storage.Review{}, err
	}
	var stances []string
	for _, f := range d.Flags {
		if f.Narrative == narrative && (stance == "" || f.Stance == stance) {
			stances = append(stances, f.Stance)
		}
	}
	switch {
	case len(stances) == 0 && stance != "":
		return storage.Review{}, fmt.Errorf("%w: item %s has no %s flag for narrative %q", storage.ErrNotFound, itemID, stance, narrative)
	case len(stances) == 0:
		return storage.Review{}, fmt.Errorf("%w: item %s has no flag for narrative %q", storage.ErrNotFound, itemID, narrative)
	case len(stances) > 1:
		return storage.Review{}, fmt.Errorf("%w: item %s has %s flags for narrative %q: say which stance", errInvalidReview, itemID, strings.Join(stances, " and "), narrative)
	}
	stance = stances[0]
	id, err := newSecret("")
	if err != nil {
		return storage.Review{}, err
	}
	rv := storage.Review{ID: id[:22], ItemID: itemID, Narrative: narrative, Stance: stance, Decision: decision, Reviewer: u.user.Name, Note: note, At: a.now().UTC()}
	if err := a.store.InsertReviews(ctx, []storage.Review{rv}); err != nil {
		return storage.Review{}, fmt.Errorf("web: store review: %w", err)
	}
	a.log.Info("review", "item", itemID, "narrative", narrative, "stance", stance, "decision", decision, "reviewer", u.user.Name)
	return rv, nil
}

// errFlagExists: the flag a reviewer would add is already there.
var errFlagExists = errors.New("flag exists")

// addMissed stores a flag the classifier missed, as a reviewer saw it: the
// flag (classifier version "review/<reviewer>", score 1, its evidence
// located in the item's indexed text) and a confirming review. Trends then
// count it and the labelled export carries it.
func (a *app) addMissed(ctx context.Context, u *session, itemID, narrative, stance, evidence, note string) (storage.Flag, error) {
	if !contains(a.opt.Catalog.IDs(), narrative) {
		return storage.Flag{}, fmt.Errorf("%w: unknown narrative %q", errInvalidReview, narrative)
	}
	switch stance {
	case "assert", "report", "debunk":
	default:
		return storage.Flag{}, fmt.Errorf("%w: stance must be assert, report or debunk", errInvalidReview)
	}
	evidence = strings.TrimSpace(evidence)
	if n := len(strings.Fields(evidence)); n < 2 || len(evidence) > 2000 {
		return storage.Flag{}, fmt.Errorf("%w: evidence: copy at least two words of the text that carry the claim", errInvalidReview)
	}
	if len(note) > 2000 {
		return storage.Flag{}, fmt.Errorf("%w: note over 2000 bytes", errInvalidReview)
	}
	d, err := a.loadItem(ctx, itemID)
	if err != nil {
		return storage.Flag{}, err
	}
	for _, f := range d.Flags {
		if f.Narrative == narrative && f.Stance == stance {
			return storage.Flag{}, fmt.Errorf("%w: item %s already has this flag: confirm it instead", errFlagExists, itemID)
		}
	}
	indexed := d.Item.IndexedText()
	start := strings.Index(indexed, evidence)
	if start < 0 {
		return storage.Flag{}, fmt.Errorf("%w: evidence: %q is not in the item's text (copy it exactly)", errInvalidReview, evidence)
	}
	it := d.Item
	fl := storage.Flag{ItemID: it.ID, Narrative: narrative, Stance: stance, Score: 1,
		Evidence:          []storage.Evidence{{Start: start, End: start + len(evidence), Text: evidence}},
		ClassifierVersion: "review/" + u.user.Name, Source: it.Source, Lang: it.Lang, Mission: it.Mission, Published: it.Published}
	if err := a.store.InsertFlags(ctx, []storage.Flag{fl}); err != nil {
		return storage.Flag{}, fmt.Errorf("web: store missed flag: %w", err)
	}
	if note == "" {
		note = "added: missed by the classifier"
	}
	if _, err := a.review(ctx, u, itemID, narrative, stance, storage.DecisionConfirm, note); err != nil {
		return storage.Flag{}, err
	}
	a.log.Info("missed flag added", "item", itemID, "narrative", narrative, "stance", stance, "reviewer", u.user.Name)
	return fl, nil
}

func (a *app) missedSubmit(w http.ResponseWriter, r *http.Request, u *session) {
	id := r.PathValue("id")
	_, err := a.addMissed(r.Context(), u, id, r.PostFormValue("narrative"), r.PostFormValue("stance"), r.PostFormValue("evidence"), strings.TrimSpace(r.PostFormValue("note")))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case errors.Is(err, errInvalidReview), errors.Is(err, errFlagExists):
		http.Redirect(w, r, "/items/"+url.PathEscape(id)+"?missed_error="+url.QueryEscape(strings.TrimPrefix(err.Error(), "invalid review: "))+"#missed", http.StatusSeeOther)
	case err != nil:
		a.log.Error("missed flag failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	default:
		http.Redirect(w, r, "/items/"+url.PathEscape(id)+"?saved=1#flags", http.StatusSeeOther)
	}
}

func (a *app) reviewSubmit(w http.ResponseWriter, r *http.Request, u *session) {
	id := r.PathValue("id")
	_, err := a.review(r.Context(), u, id, r.PostFormValue("narrative"), r.PostFormValue("stance"), r.PostFormValue("decision"), strings.TrimSpace(r.PostFormValue("note")))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case errors.Is(err, errInvalidReview):
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
	case err != nil:
		a.log.Error("review failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	default:
		http.Redirect(w, r, "/items/"+url.PathEscape(id)+"?saved=1#flags", http.StatusSeeOther)
	}
}

func (a *app) labelsDownload(w http.ResponseWriter, r *http.Request, u *session) {
	_, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="veille-labels.jsonl"`)
	if err := a.writeLabels(r.Context(), sf, w); err != nil {
		a.log.Error("labels export failed", "err", err)
	}
}

type checkView struct {
	Text     string
	Lang     string
	Mission  string
	Langs    []option
	Missions []string
	Done     bool
	Result   *checkResult
	Error    string
	Checked  template.HTML
}

func (a *app) checkPage(w http.ResponseWriter, r *http.Request, u *session) {
	a.render(w, r, u, http.StatusOK, "check", "check_title", checkView{Langs: languageOptions(languages), Missions: mission.All, Mission: u.user.Mission})
}

func (a *app) checkSubmit(w http.ResponseWriter, r *http.Request, u *session) {
	v := checkView{Langs: languageOptions(languages), Missions: mission.All, Text: r.PostFormValue("text"), Lang: r.PostFormValue("lang"), Mission: r.PostFormValue("mission")}
	res, err := a.check(r.Context(), u, v.Text, v.Lang, v.Mission)
	status := http.StatusOK
	switch {
	case errors.Is(err, errRateCheck):
		status, v.Error = http.StatusTooManyRequests, "err_rate_check"
	case errors.Is(err, errEmptyText), errors.Is(err, errLongText):
		status, v.Error = http.StatusBadRequest, "err_empty_text"
	case err != nil:
		a.log.Error("check failed", "err", err)
		status, v.Error = http.StatusInternalServerError, "err_internal"
	default:
		v.Done, v.Result = true, &res
		var spans []span
		for _, f := range res.Flags {
			for _, e := range f.Evidence {
				spans = append(spans, span{Start: e.Start, End: e.End, Label: f.Title})
			}
		}
		v.Checked = highlight(v.Text, spans)
	}
	a.render(w, r, u, status, "check", "check_title", v)
}

// risingWindows are the windows the rising table offers, in hours.
var risingWindows = []int{6, 12, 24, 48, 72, 168}

// risingHours reads ?rising= (default 24), keeping it to the choices.
func risingHours(v string) int {
	if n, err := strconv.Atoi(v); err == nil && slices.Contains(risingWindows, n) {
		return n
	}
	return 24
}

type trendsView struct {
	F filterForm
	// RisingHours is the rising table's window; RisingWindows its choices.
	RisingHours   int
	RisingWindows []int
	Narratives    []option
	Missions      []string
	Langs         []string
	Sources       []string
	Stances       []string
	Dims          []option
	Periods       []int
	Chart         chart
	Table         storage.Table
	Rising        []risingView
	Spread        *storage.SpreadReport
	SpreadName    string
	Firsts        []firstSeen
	CSV           string
	Parquet       string
}

type firstSeen struct {
	storage.SpreadReport
	Title string
}

type risingView struct {
	storage.RisingRow
	Title string
}

func (a *app) trendQuery(r *http.Request) (filterForm, storage.TrendQuery, error) {
	f, sf, err := a.readFilter(r.URL.Query(), 30)
	if err != nil {
		return f, storage.TrendQuery{}, err
	}
	if sf.Since.IsZero() {
		sf.Since = a.now().AddDate(-10, 0, 0)
	}
	// Whole days, so the page and its download a moment later count the same rows.
	sf.Since = sf.Since.UTC().Truncate(24 * time.Hour)
	return f, storage.TrendQuery{Filter: sf, By: []string{"day", f.By}}, nil
}

func (a *app) trendsPage(w http.ResponseWriter, r *http.Request, u *session) {
	f, tq, err := a.trendQuery(r)
	if err != nil {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	ctx := r.Context()
	tbl, err := a.store.Trends(ctx, tq)
	if err != nil {
		a.log.Error("trends failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	v := trendsView{F: f, Narratives: a.narrativeOptions(u.lang), Missions: missions, Langs: languages,
		Sources: a.sourceOptions(ctx), Stances: stances, Periods: periods, Table: tbl}
	for _, d := range trendDims {
		key := d
		if d == "lang" {
			key = "language"
		}
		v.Dims = append(v.Dims, option{d, tr(u.lang, key)})
	}
	label := func(s string) string {
		switch {
		case s == "":
			return tr(u.lang, "trends_none") // an item with no mission, say
		case f.By == "narrative":
			// The id, as in the table and the CSV, then its title.
			return s + " — " + a.narrTitle(s, u.lang)
		}
		return s
	}
	v.Chart = buildChart(tbl, f.By, tq.Since, a.now(), label)
	v.RisingHours, v.RisingWindows = risingHours(r.URL.Query().Get("rising")), risingWindows
	win := time.Duration(v.RisingHours) * time.Hour
	rising, err := a.store.Rising(ctx, storage.RisingQuery{Filter: tq.Filter, Now: a.now(), Window: win, Baseline: max(7*24*time.Hour, 4*win), Limit: 10})
	if err != nil {
		a.log.Warn("rising failed", "err", err)
	}
	for _, rr := range rising {
		v.Rising = append(v.Rising, risingView{RisingRow: rr, Title: a.narrTitle(rr.Narrative, u.lang)})
	}
	v.Firsts = a.firstSeen(ctx, tbl, tq.Since, u.lang)
	if len(tq.Narratives) == 1 {
		sp, err := a.store.Spread(ctx, tq.Narratives[0], tq.Since)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			a.log.Warn("spread failed", "err", err)
		}
		if err == nil {
			v.Spread = &sp
			v.SpreadName = a.narrTitle(tq.Narratives[0], u.lang)
		}
	}
	q := r.URL.Query()
	q.Set("format", "csv")
	v.CSV = "/trends/download?" + q.Encode()
	q.Set("format", "parquet")
	v.Parquet = "/trends/download?" + q.Encode()
	a.render(w, r, u, http.StatusOK, "trends", "trends_title", v)
}

// firstSeen gives, for each narrative of a trend table (at most 20), when
// it was first and last seen in the period, earliest first.
func (a *app) firstSeen(ctx context.Context, tbl storage.Table, since time.Time, lang string) []firstSeen {
	col := colIndex(tbl.Columns, "narrative")
	if col < 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []firstSeen
	for _, row := range tbl.Rows {
		n := row[col]
		if seen[n] || len(seen) >= 20 {
			continue
		}
		seen[n] = true
		sp, err := a.store.Spread(ctx, n, since)
		if err != nil {
			a.log.Warn("spread failed", "narrative", n, "err", err)
			continue
		}
		out = append(out, firstSeen{SpreadReport: sp, Title: a.narrTitle(n, lang)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstSeen.Before(out[j].FirstSeen) })
	return out
}

var exportTypes = map[string]string{
	"csv":     "text/csv; charset=utf-8",
	"jsonl":   "application/x-ndjson; charset=utf-8",
	"parquet": "application/vnd.apache.parquet",
}

func (a *app) trendsDownload(w http.ResponseWriter, r *http.Request, u *session) {
	_, tq, err := a.trendQuery(r)
	format := r.URL.Query().Get("format")
	if err != nil || exportTypes[format] == "" {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	a.export(w, r, tq, format)
}

func (a *app) export(w http.ResponseWriter, r *http.Request, tq storage.TrendQuery, format string) {
	w.Header().Set("Content-Type", exportTypes[format])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="veille-trends-%s.%s"`, a.now().UTC().Format("20060102"), format))
	if err := a.store.Export(r.Context(), tq, format, w); err != nil {
		a.log.Error("export failed", "format", format, "err", err)
	}
}

type catalogEntry struct {
	ID, Title, Meaning string
	Responses          []string
}

func (a *app) catalog(lang string) []catalogEntry {
	var out []catalogEntry
	for _, id := range a.opt.Catalog.IDs() {
		out = append(out, catalogEntry{ID: id, Title: a.narrTitle(id, lang), Meaning: a.meaning(id, lang), Responses: a.responses(id, lang)})
	}
	return out
}

func (a *app) catalogPage(w http.ResponseWriter, r *http.Request, u *session) {
	a.render(w, r, u, http.StatusOK, "catalog", "catalog_title", a.catalog(u.lang))
}

type usersView struct {
	Users    []storage.User
	Roles    []string
	Langs    []option // the six languages, by name
	UILangs  []option
	Missions []string
	NewName  string
	NewToken string
	Error    string
}

func (a *app) usersView(ctx context.Context) (usersView, error) {
	users, err := a.store.Users(ctx)
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	return usersView{Users: users, Roles: []string{storage.RoleReviewer, storage.RoleRadio, storage.RoleAnalyst, storage.RoleAdmin},
		Langs: languageOptions(languages), UILangs: languageOptions([]string{"fr", "en"}), Missions: mission.All}, err
}

func (a *app) usersPage(w http.ResponseWriter, r *http.Request, u *session) {
	v, err := a.usersView(r.Context())
	if err != nil {
		a.log.Error("users failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	a.render(w, r, u, http.StatusOK, "users", "users_title", v)
}

func (a *app) usersAdd(w http.ResponseWriter, r *http.Request, u *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	nu, secret, err := CreateUserWith(r.Context(), a.store, NewUser{Name: name, Role: r.PostFormValue("role"), Lang: r.PostFormValue("lang"),
		UILang: r.PostFormValue("ui_lang"), Mission: r.PostFormValue("mission")}, a.now())
	status := http.StatusOK
	v, verr := a.usersView(r.Context())
	if verr != nil {
		a.log.Error("users failed", "err", verr)
	}
	switch {
	case errors.Is(err, ErrBadName), errors.Is(err, ErrBadRole), errors.Is(err, ErrUserExists), errors.Is(err, ErrBadLang), errors.Is(err, ErrBadMission):
		status, v.Error = http.StatusBadRequest, err.Error()
	case err != nil:
		a.log.Error("user add failed", "err", err)
		status, v.Error = http.StatusInternalServerError, tr(u.lang, "err_internal")
	default:
		a.log.Info("user added", "user", nu.Name, "role", nu.Role, "by", u.user.Name)
		v.NewName, v.NewToken = nu.Name, secret
	}
	a.render(w, r, u, status, "users", "users_title", v)
}

func (a *app) usersRevoke(w http.ResponseWriter, r *http.Request, u *session) {
	if r.PathValue("name") == u.user.Name {
		a.pageError(w, r, u, http.StatusBadRequest, "err_bad_request")
		return
	}
	err := RevokeUser(r.Context(), a.store, r.PathValue("name"))
	switch {
	case errors.Is(err, ErrNoSuchUser):
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
	case err != nil:
		a.log.Error("user revoke failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	default:
		a.log.Info("user revoked", "user", r.PathValue("name"), "by", u.user.Name)
		http.Redirect(w, r, "/users", http.StatusSeeOther)
	}
}

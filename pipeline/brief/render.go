package brief

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed templates/brief.html.tmpl
var templateFS embed.FS

var page = template.Must(template.ParseFS(templateFS, "templates/brief.html.tmpl"))

// words holds the brief's own words: language → key → text. Every key is
// present in every language (a test checks). French puts a no-break space
// before a colon and inside guillemets.
var words = map[string]map[string]string{
	"en": {
		"title":              "Weekly disinformation brief",
		"audience_internal":  "Internal — not for distribution",
		"audience_partner":   "For partners",
		"partner_scope":      "This brief counts only flags that reviewers confirmed. Counts below %s are shown as “< %s”; narratives with fewer flags are grouped under “Other narratives”.",
		"mission":            "Mission",
		"all_missions":       "All missions",
		"period":             "Period",
		"compared_with":      "Compared with",
		"generated":          "Generated",
		"brief_id":           "Brief",
		"model":              "Model",
		"catalog":            "Catalog",
		"h_summary":          "Summary",
		"col_figure":         "Figure",
		"col_now":            "This period",
		"col_prev":           "Previous period",
		"col_change":         "Change",
		"flags":              "Flags",
		"flags_partner":      "Confirmed flags",
		"items":              "Items flagged",
		"sources":            "Sources",
		"languages":          "Languages",
		"reviewed":           "Flags reviewed",
		"precision":          "Confirmed among reviewed",
		"no_reviews":         "no reviewed flags this period",
		"points":             "%s pts",
		"from_zero":          "up from 0",
		"nothing":            "Nothing to report: no flag in this period.",
		"h_narratives":       "Narratives by volume",
		"chart_bars":         "Flags per narrative, this period and the previous one",
		"col_narrative":      "Narrative",
		"rising":             "rising",
		"new":                "new",
		"other_narratives":   "Other narratives",
		"spreading":          "Spreading",
		"reporting":          "Reporting",
		"debunking":          "Debunking",
		"stances":            "Stance of the texts",
		"first_seen":         "First seen",
		"daily":              "Flags per day",
		"main_sources":       "Main sources",
		"notable":            "Notable items",
		"responses":          "Response lines",
		"dec_confirm":        "confirmed",
		"dec_false_positive": "false positive",
		"dec_needs_response": "needs a response",
		"dec_none":           "not reviewed",
		"author":             "Author (hashed):",
		"note":               "Reviewer's note:",
		"source_withheld":    "source withheld",
		"untitled":           "Untitled item",
		"excerpt":            "Passages around the evidence; the full text is longer.",
		"evidence":           "Evidence",
		"h_emerging":         "Emerging rumours outside the catalog",
		"col_group":          "Group",
		"col_terms":          "Terms",
		"col_items":          "Items",
		"col_sources":        "Sources",
		"h_alerts":           "Early-warning alerts",
		"col_fired":          "Fired",
		"col_rule":           "Rule",
		"col_summary":        "Summary",
		"h_changes":          "Changes to the catalog and the model",
		"h_appendix":         "Appendix: every figure and the command that reproduces it",
		"h_appendix_partner": "Appendix: figures",
		"col_value":          "Value",
		"col_query":          "Command",
		"fig_of":             "%s — %s",
		"flags_vs":           "%s (previous period: %s, %s)",
		"flags_vs_prev":      "%s (previous period: %s)",
		"desc_bar":           "%s: %s (previous period: %s)",
		"desc_day":           "%s: %s",
		"list_sep":           "; ",
	},
	"fr": {
		"title":              "Note hebdomadaire sur la désinformation",
		"audience_internal":  "Interne — ne pas diffuser",
		"audience_partner":   "Pour les partenaires",
		"partner_scope":      "Cette note ne compte que les signalements confirmés par les analystes. Les effectifs inférieurs à %s sont indiqués «\u00a0<\u00a0%s\u00a0»\u202f; les narratifs moins signalés sont regroupés sous «\u00a0Autres narratifs\u00a0».",
		"mission":            "Mission",
		"all_missions":       "Toutes les missions",
		"period":             "Période",
		"compared_with":      "Comparée à",
		"generated":          "Produite le",
		"brief_id":           "Note",
		"model":              "Modèle",
		"catalog":            "Catalogue",
		"h_summary":          "En bref",
		"col_figure":         "Indicateur",
		"col_now":            "Cette période",
		"col_prev":           "Période précédente",
		"col_change":         "Évolution",
		"flags":              "Signalements",
		"flags_partner":      "Signalements confirmés",
		"items":              "Contenus signalés",
		"sources":            "Sources",
		"languages":          "Langues",
		"reviewed":           "Signalements revus",
		"precision":          "Confirmés parmi les revus",
		"no_reviews":         "aucun signalement revu sur la période",
		"points":             "%s\u00a0pts",
		"from_zero":          "contre 0 avant",
		"nothing":            "Rien à signaler\u00a0: aucun signalement sur la période.",
		"h_narratives":       "Narratifs par volume",
		"chart_bars":         "Signalements par narratif, cette période et la précédente",
		"col_narrative":      "Narratif",
		"rising":             "en hausse",
		"new":                "nouveau",
		"other_narratives":   "Autres narratifs",
		"spreading":          "Affirment",
		"reporting":          "Rapportent",
		"debunking":          "Réfutent",
		"stances":            "Position des textes",
		"first_seen":         "Vu pour la première fois",
		"daily":              "Signalements par jour",
		"main_sources":       "Principales sources",
		"notable":            "Contenus marquants",
		"responses":          "Éléments de réponse",
		"dec_confirm":        "confirmé",
		"dec_false_positive": "faux positif",
		"dec_needs_response": "réponse nécessaire",
		"dec_none":           "non revu",
		"author":             "Auteur (haché)\u00a0:",
		"note":               "Note de l'analyste\u00a0:",
		"source_withheld":    "source non communiquée",
		"untitled":           "Contenu sans titre",
		"excerpt":            "Passages autour des éléments en cause\u00a0; le texte complet est plus long.",
		"evidence":           "Passages en cause",
		"h_emerging":         "Rumeurs émergentes hors catalogue",
		"col_group":          "Groupe",
		"col_terms":          "Termes",
		"col_items":          "Contenus",
		"col_sources":        "Sources",
		"h_alerts":           "Alertes précoces",
		"col_fired":          "Déclenchée",
		"col_rule":           "Règle",
		"col_summary":        "Résumé",
		"h_changes":          "Changements du catalogue et du modèle",
		"h_appendix":         "Annexe\u00a0: chaque chiffre et la commande qui le reproduit",
		"h_appendix_partner": "Annexe\u00a0: chiffres",
		"col_value":          "Valeur",
		"col_query":          "Commande",
		"fig_of":             "%s — %s",
		"flags_vs":           "%s (période précédente\u00a0: %s, %s)",
		"flags_vs_prev":      "%s (période précédente\u00a0: %s)",
		"desc_bar":           "%s\u00a0: %s (période précédente\u00a0: %s)",
		"desc_day":           "%s\u00a0: %s",
		"list_sep":           "\u202f; ",
	},
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

// langNames names the catalog's languages; other codes are shown as is.
var langNames = map[string]map[string]string{
	"en": {"en": "English", "fr": "French", "ar": "Arabic", "sw": "Swahili", "ln": "Lingala", "sg": "Sango"},
	"fr": {"en": "anglais", "fr": "français", "ar": "arabe", "sw": "swahili", "ln": "lingala", "sg": "sango"},
}

// Render writes b as one self-contained HTML document. A partner brief
// must come from ForPartner: Render refuses one that still holds anything
// ForPartner removes.
func Render(w io.Writer, b Brief) error {
	if _, ok := words[b.Lang]; !ok {
		return fmt.Errorf("%w: language %q: want one of %v", ErrInvalid, b.Lang, Languages)
	}
	switch b.Audience {
	case Internal:
	case Partner:
		if err := checkPartner(b); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: audience %q", ErrInvalid, b.Audience)
	}
	v := newView(b)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("brief: %s: %w", b.ID, err)
	}
	if len(v.missing) > 0 {
		return fmt.Errorf("brief: %s: no %s words for %v", b.ID, b.Lang, v.missing)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// locale formats the brief's words, numbers and dates in one language.
type locale struct {
	lang    string
	missing *[]string
}

func (l locale) t(key string) string {
	if s, ok := words[l.lang][key]; ok {
		return s
	}
	if l.missing != nil && !slices.Contains(*l.missing, key) {
		*l.missing = append(*l.missing, key)
	}
	return key
}

func (l locale) tf(key string, args ...any) string { return fmt.Sprintf(l.t(key), args...) }

// int groups thousands: 12,345 in English, 12 345 (narrow no-break space)
// in French.
func (l locale) int(n int) string {
	sep := ","
	if l.lang == "fr" {
		sep = "\u202f"
	}
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteString("−")
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// count is int for a count of a brief whose hidden counts read "< minCount"
// or "≥ minCount".
func (l locale) count(n, minCount int) string {
	switch n {
	case Suppressed:
		return "<\u00a0" + l.int(minCount)
	case Withheld:
		return "≥\u00a0" + l.int(minCount)
	}
	return l.int(n)
}

// decimal writes x with at most one decimal, none when it rounds to a
// whole number.
func (l locale) decimal(x float64) string {
	r := math.Round(x*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	if r == math.Trunc(r) {
		return l.int(int(r))
	}
	s := strconv.FormatFloat(math.Abs(r), 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.Atoi(whole)
	out := l.int(n)
	if l.lang == "fr" {
		out += "," + frac
	} else {
		out += "." + frac
	}
	if r < 0 {
		out = "−" + out
	}
	return out
}

// percent writes a share in 0..1: 12.5% in English, 12,5 % in French.
func (l locale) percent(share float64) string {
	if l.lang == "fr" {
		return l.decimal(share*100) + "\u202f%"
	}
	return l.decimal(share*100) + "%"
}

func signed(s string, x float64) string {
	if x > 0 && math.Round(x*1000) != 0 {
		return "+" + s
	}
	return s
}

// change writes how cur moved from prev.
func (l locale) change(cur, prev int) string {
	if hidden(cur) || hidden(prev) || (cur == 0 && prev == 0) {
		return "—"
	}
	c, ok := relChange(cur, prev)
	if !ok {
		return l.t("from_zero")
	}
	return signed(l.percent(c), c)
}

// points writes the difference of two shares in percentage points.
func (l locale) points(cur, prev float64) string {
	d := (cur - prev) * 100
	return signed(l.tf("points", l.decimal(d)), d)
}

func relChange(cur, prev int) (float64, bool) {
	if hidden(cur) || hidden(prev) || prev <= 0 {
		return 0, false
	}
	return float64(cur-prev) / float64(prev), true
}

// day writes "7 December" or "7 décembre" ("1er" for the first in French).
func (l locale) day(t time.Time) string {
	d := strconv.Itoa(t.Day())
	if l.lang == "fr" && t.Day() == 1 {
		d = "1er"
	}
	return d + "\u00a0" + months[l.lang][t.Month()-1]
}

func (l locale) date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return l.day(t) + " " + strconv.Itoa(t.Year())
}

func (l locale) dateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if l.lang == "fr" {
		return l.date(t) + " à " + t.Format("15 h 04 MST")
	}
	return l.date(t) + ", " + t.Format("15:04 MST")
}

// period writes [from, to) by its first and last day: "1–7 December 2026",
// "du 1er au 7 décembre 2026".
func (l locale) period(from, to time.Time) string {
	if from.IsZero() {
		return "—"
	}
	last := from
	if to.After(from) {
		last = to.Add(-time.Nanosecond)
	}
	sameYear := from.Year() == last.Year()
	sameMonth := sameYear && from.Month() == last.Month()
	if sameMonth && from.Day() == last.Day() {
		return l.date(from)
	}
	var first string
	switch {
	case sameMonth && l.lang == "fr":
		first = strings.TrimSuffix(l.day(from), "\u00a0"+months[l.lang][from.Month()-1])
	case sameMonth:
		first = strconv.Itoa(from.Day())
	case sameYear:
		first = l.day(from)
	default:
		first = l.date(from)
	}
	if l.lang == "fr" {
		return "du " + first + " au " + l.date(last)
	}
	if sameMonth {
		return first + "–" + l.date(last)
	}
	return first + " – " + l.date(last)
}

func (l locale) langName(code string) string {
	if n, ok := langNames[l.lang][code]; ok {
		return n
	}
	return code
}

func (l locale) decision(d string) string {
	switch d {
	case DecisionConfirm, DecisionFalsePositive, DecisionNeedsResponse:
		return l.t("dec_" + d)
	}
	return l.t("dec_none")
}

// view is the brief as the template prints it: every string already in
// the brief's language and format.
type view struct {
	loc     locale
	missing []string

	Lang, Title, ID  string
	Partner          bool
	Audience         string
	Mission          string
	Period           string
	PrevPeriod       string
	Generated        string
	Versions         string
	PageFooter       string
	Scope            string
	Head             []headRow
	Nothing          bool
	Bars             *barChart
	Table            []tableRow
	Narratives       []narrView
	Emerging         []emergingView
	Alerts           []alertView
	Changes          []string
	Appendix         []figView
	AppendixHasQuery bool
	AppendixHeading  string
	FlagsWord        string
}

// T returns the brief's word for key.
func (v *view) T(key string) string { return v.loc.t(key) }

type headRow struct{ Label, Now, Prev, Change string }

type tableRow struct {
	Name, Anchor        string
	Flags, Prev, Change string
	Rising, New, Other  bool
}

type fact struct{ Term, Desc string }

type narrView struct {
	Anchor, Name string
	Rising, New  bool
	Facts        []fact
	Spark        *sparkChart
	Responses    []string
	Items        []itemView
	SparkTitleID string
	SparkDescID  string
}

type itemView struct {
	Title, URL, Source, Lang, Date, Decision string
	Author, Note                             string
	Body                                     template.HTML
	Excerpt                                  bool
	Quotes                                   []string
}

type emergingView struct{ Label, Terms, Items, Sources string }

type alertView struct{ Fired, Rule, Narrative, Summary string }

type figView struct{ Label, Value, Query string }

func newView(b Brief) *view {
	v := &view{Lang: b.Lang, ID: b.ID, Partner: b.Audience == Partner}
	v.loc = locale{lang: b.Lang, missing: &v.missing}
	l := v.loc
	v.Title = b.Title
	if v.Title == "" {
		v.Title = l.t("title")
	}
	v.Audience = l.t("audience_internal")
	v.FlagsWord = l.t("flags")
	if v.Partner {
		v.Audience = l.t("audience_partner")
		v.FlagsWord = l.t("flags_partner")
		v.Scope = l.tf("partner_scope", l.int(b.MinCount), l.int(b.MinCount))
	}
	v.Mission = b.Mission
	if v.Mission == "" {
		v.Mission = l.t("all_missions")
	}
	v.Period = l.period(b.From, b.To)
	v.PrevPeriod = l.period(b.PrevFrom, b.PrevTo)
	v.Generated = l.dateTime(b.Generated)
	if !v.Partner && (b.ModelVersion != "" || b.CatalogVersion != "") {
		v.Versions = l.t("model") + " " + orDash(b.ModelVersion) + " · " + l.t("catalog") + " " + orDash(b.CatalogVersion)
	}
	v.PageFooter = v.Audience + " · " + v.Mission + " · " + v.Period

	h := b.Headline
	minCount := b.MinCount
	v.Head = []headRow{
		{v.FlagsWord, l.count(h.Flags, minCount), l.count(h.PrevFlags, minCount), l.change(h.Flags, h.PrevFlags)},
		{l.t("items"), l.count(h.Items, minCount), l.count(h.PrevItems, minCount), l.change(h.Items, h.PrevItems)},
		{l.t("sources"), l.count(h.Sources, minCount), l.count(h.PrevSources, minCount), l.change(h.Sources, h.PrevSources)},
		{l.t("languages"), l.count(h.Languages, minCount), l.count(h.PrevLanguages, minCount), l.change(h.Languages, h.PrevLanguages)},
	}
	if !v.Partner {
		rev := headRow{Label: l.t("reviewed"), Now: "—", Prev: "—", Change: "—"}
		if h.Flags > 0 {
			rev.Now = l.percent(h.Reviewed)
		}
		if h.PrevFlags > 0 {
			rev.Prev = l.percent(h.PrevReviewed)
		}
		if h.Flags > 0 && h.PrevFlags > 0 {
			rev.Change = l.points(h.Reviewed, h.PrevReviewed)
		}
		prec := headRow{Label: l.t("precision"), Now: l.t("no_reviews"), Prev: "—", Change: "—"}
		if h.Precision != nil {
			prec.Now = l.percent(*h.Precision)
		}
		if h.PrevPrecision != nil {
			prec.Prev = l.percent(*h.PrevPrecision)
		}
		if h.Precision != nil && h.PrevPrecision != nil {
			prec.Change = l.points(*h.Precision, *h.PrevPrecision)
		}
		v.Head = append(v.Head, rev, prec)
	}
	v.Nothing = h.Flags == 0

	rows := ranked(b.Narratives)
	names := map[string]string{}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	if !v.Nothing && len(rows) > 0 {
		v.Bars = newBarChart(l, rows, minCount)
		for i, r := range rows {
			v.Table = append(v.Table, v.tableRow(b, i, r))
			v.Narratives = append(v.Narratives, v.narrative(b, i, r))
		}
	}
	if !v.Partner {
		for _, e := range b.Emerging {
			v.Emerging = append(v.Emerging, emergingView{Label: e.Label, Terms: strings.Join(e.Terms, ", "),
				Items: l.int(e.Items), Sources: l.int(e.Sources)})
		}
		v.Changes = b.Changes
	}
	for _, a := range b.Alerts {
		av := alertView{Fired: l.dateTime(a.Fired), Narrative: a.Narrative}
		if n, ok := names[a.Narrative]; ok && n != "" {
			av.Narrative = n
		}
		if !v.Partner {
			av.Rule, av.Summary = a.Rule, a.Summary
		}
		v.Alerts = append(v.Alerts, av)
	}
	v.AppendixHeading = l.t("h_appendix")
	if v.Partner {
		v.AppendixHeading = l.t("h_appendix_partner")
	}
	for _, f := range b.Appendix {
		fv := figView{Label: f.Label}
		switch {
		case f.Share:
			fv.Value = l.percent(f.Value)
		case hidden(int(f.Value)):
			fv.Value = l.count(int(f.Value), minCount)
		case f.Value == math.Trunc(f.Value):
			fv.Value = l.int(int(f.Value))
		default:
			fv.Value = l.decimal(f.Value)
		}
		if !v.Partner {
			fv.Query = f.Query
			v.AppendixHasQuery = v.AppendixHasQuery || f.Query != ""
		}
		v.Appendix = append(v.Appendix, fv)
	}
	return v
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// ranked orders narratives by flags, most first, with the "other
// narratives" row last.
func ranked(in []NarrativeRow) []NarrativeRow {
	rows := slices.Clone(in)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Other != rows[j].Other {
			return !rows[i].Other
		}
		return rows[i].Flags > rows[j].Flags
	})
	return rows
}

func (v *view) name(r NarrativeRow) string {
	if r.Other {
		return v.loc.t("other_narratives")
	}
	if r.Name == "" {
		return r.ID
	}
	return r.Name
}

func (v *view) tableRow(b Brief, i int, r NarrativeRow) tableRow {
	l, minCount := v.loc, b.MinCount
	return tableRow{Name: v.name(r), Anchor: anchor(i), Other: r.Other,
		Flags: l.count(r.Flags, minCount), Prev: l.count(r.PrevFlags, minCount), Change: l.change(r.Flags, r.PrevFlags),
		Rising: r.Rising, New: r.isNew(b.From, b.To)}
}

func anchor(i int) string { return "n" + strconv.Itoa(i+1) }

func (v *view) narrative(b Brief, i int, r NarrativeRow) narrView {
	l, minCount := v.loc, b.MinCount
	n := narrView{Anchor: anchor(i), Name: v.name(r), Rising: r.Rising, New: r.isNew(b.From, b.To),
		Responses: r.ResponseLines, SparkTitleID: anchor(i) + "-daily", SparkDescID: anchor(i) + "-daily-desc"}
	flags := l.tf("flags_vs_prev", l.count(r.Flags, minCount), l.count(r.PrevFlags, minCount))
	if _, ok := r.Change(); ok {
		flags = l.tf("flags_vs", l.count(r.Flags, minCount), l.count(r.PrevFlags, minCount), l.change(r.Flags, r.PrevFlags))
	}
	n.Facts = append(n.Facts, fact{v.FlagsWord, flags})
	if !r.FirstSeen.IsZero() {
		n.Facts = append(n.Facts, fact{l.t("first_seen"), l.date(r.FirstSeen)})
	}
	n.Facts = append(n.Facts, fact{l.t("stances"),
		l.t("spreading") + " " + l.count(r.Stances.Spreading, minCount) + " · " +
			l.t("reporting") + " " + l.count(r.Stances.Reporting, minCount) + " · " +
			l.t("debunking") + " " + l.count(r.Stances.Debunking, minCount)})
	if len(r.Sources) > 0 {
		n.Facts = append(n.Facts, fact{l.t("main_sources"), strings.Join(r.Sources, ", ")})
	}
	if len(r.Langs) > 0 {
		langs := make([]string, len(r.Langs))
		for i, c := range r.Langs {
			langs[i] = l.langName(c)
		}
		n.Facts = append(n.Facts, fact{l.t("languages"), strings.Join(langs, ", ")})
	}
	if len(r.Daily) > 0 {
		n.Spark = newSparkChart(l, b.From, r.Daily, minCount)
	}
	for _, it := range r.Notable {
		n.Items = append(n.Items, v.item(it))
	}
	return n
}

func (v *view) item(it NotableItem) itemView {
	l := v.loc
	iv := itemView{Source: it.Source, Lang: l.langName(it.Lang), Date: l.date(it.Published), Decision: l.decision(it.Decision)}
	if v.Partner {
		if iv.Source == "" {
			iv.Source = l.t("source_withheld")
		}
		for _, s := range it.Evidence {
			if q := strings.TrimSpace(s.Text); q != "" && !slices.Contains(iv.Quotes, q) {
				iv.Quotes = append(iv.Quotes, q)
			}
		}
		return iv
	}
	iv.Source = orDash(iv.Source)
	iv.Title = it.Title
	if iv.Title == "" {
		iv.Title = l.t("untitled")
	}
	iv.URL = webURL(it.URL)
	iv.Author, iv.Note = it.Author, it.Note
	iv.Body, iv.Excerpt = highlight(it.Text, it.Evidence)
	return iv
}

// webURL returns u when it is an absolute http or https URL, else "".
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// Limits of the text shown for an item: texts up to fullText bytes are
// shown whole, longer ones (radio transcripts) as passages of about
// `around` bytes either side of each evidence span.
const (
	fullText = 2000
	around   = 240
)

type cut struct{ start, end int }

// spans returns the valid evidence spans of text, sorted and merged where
// they overlap. A span whose offsets do not cover its Text is looked up by
// its Text; one that cannot be placed is left out.
func spans(text string, ev []Span) []cut {
	var cs []cut
	for _, s := range ev {
		ok := s.Start >= 0 && s.Start < s.End && s.End <= len(text) &&
			utf8.RuneStart(text[s.Start]) && (s.End == len(text) || utf8.RuneStart(text[s.End]))
		if ok && s.Text != "" && text[s.Start:s.End] != s.Text {
			ok = false
		}
		c := cut{s.Start, s.End}
		if !ok {
			i := -1
			if s.Text != "" {
				i = strings.Index(text, s.Text)
			}
			if i < 0 {
				continue
			}
			c = cut{i, i + len(s.Text)}
		}
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].start < cs[j].start })
	var out []cut
	for _, c := range cs {
		if n := len(out); n > 0 && c.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, c.end)
			continue
		}
		out = append(out, c)
	}
	return out
}

// highlight returns text as HTML with each evidence span in <mark>; a
// long text is cut to passages around the spans (excerpt is then true).
// Every piece of text is escaped; only the <mark> tags and the ellipses
// between passages are written here.
func highlight(text string, ev []Span) (h template.HTML, excerpt bool) {
	cs := spans(text, ev)
	windows := []cut{{0, len(text)}}
	if len(text) > fullText {
		excerpt = true
		windows = windows[:0]
		for _, c := range cs {
			w := cut{wordStart(text, c.start-around, c.start), wordEnd(text, c.end+around, c.end)}
			if n := len(windows); n > 0 && w.start <= windows[n-1].end {
				windows[n-1].end = max(windows[n-1].end, w.end)
				continue
			}
			windows = append(windows, w)
		}
		if len(windows) == 0 {
			windows = append(windows, cut{0, runeStart(text, fullText)})
		}
	}
	var b strings.Builder
	for i, w := range windows {
		if w.start > 0 {
			if i == 0 {
				b.WriteString("… ")
			} else {
				b.WriteString(" … ")
			}
		}
		at := w.start
		for _, c := range cs {
			if c.end <= w.start || c.start >= w.end {
				continue
			}
			b.WriteString(template.HTMLEscapeString(text[at:c.start]))
			b.WriteString("<mark>")
			b.WriteString(template.HTMLEscapeString(text[c.start:c.end]))
			b.WriteString("</mark>")
			at = c.end
		}
		b.WriteString(template.HTMLEscapeString(text[at:w.end]))
		if i == len(windows)-1 && w.end < len(text) {
			b.WriteString(" …")
		}
	}
	return template.HTML(b.String()), excerpt
}

// wordStart moves a passage's start i forward past the next space, so the
// passage does not open mid-word, but never beyond limit.
func wordStart(text string, i, limit int) int {
	i = runeStart(text, i)
	if i == 0 {
		return 0
	}
	if j := strings.IndexAny(text[i:limit], " \n\t"); j >= 0 {
		return i + j + 1
	}
	return i
}

// wordEnd moves a passage's end i back to the last space before it, but
// never before limit.
func wordEnd(text string, i, limit int) int {
	i = runeStart(text, i)
	if i == len(text) {
		return i
	}
	if j := strings.LastIndexAny(text[limit:i], " \n\t"); j >= 0 {
		return limit + j
	}
	return i
}

// runeStart clamps i to text and moves it back to the start of a rune.
func runeStart(text string, i int) int {
	if i <= 0 {
		return 0
	}
	if i >= len(text) {
		return len(text)
	}
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	return i
}

// barChart compares each narrative's flags in the period (a solid dark
// bar) with the previous period (a lighter hatched bar), each bar labelled
// with its value and the first pair with the periods' names, so it reads
// the same in grey-scale print. A hidden count is a dashed outline as long
// as the largest value it may have.
type barChart struct {
	W, H                  int
	Title, Desc           string
	LegendNow, LegendPrev string
	Groups                []barGroup
}

type barGroup struct {
	Label     []line
	Now, Prev bar
}

type line struct {
	Y    int
	Text string
}

type bar struct {
	Y, W, H      int
	Range        bool
	Value        string
	TextX, TextY int
	// Series names the bar's period, right-aligned, on the first pair only.
	Series string
}

// Geometry of the bar chart, in SVG units. The canvas is narrow so that
// on a phone its 14-unit names are still about 12 px tall.
const (
	barsW      = 420
	barsTop    = 30
	barsLabelW = 160 // room right of the longest bar for its value
	barsLineH  = 17
	barsName   = 14 // font size of the narrative names
)

// textWidth estimates the width of s in SVG units at font size size.
func textWidth(s string, size int) int {
	return utf8.RuneCountInString(s) * size * 6 / 10
}

// wrapLabel cuts a narrative name into at most two lines that fit the
// chart, the second shortened with an ellipsis if need be.
func wrapLabel(s string) []string {
	fit := barsW * 10 / (barsName * 6)
	if utf8.RuneCountInString(s) <= fit {
		return []string{s}
	}
	words := strings.Fields(s)
	var first, rest []string
	n := 0
	for i, w := range words {
		if n > 0 && n+1+utf8.RuneCountInString(w) > fit {
			rest = words[i:]
			break
		}
		first = append(first, w)
		n += utf8.RuneCountInString(w) + 1
	}
	second := strings.Join(rest, " ")
	if r := []rune(second); len(r) > fit {
		second = string(r[:fit-1]) + "…"
	}
	if len(first) == 0 || second == "" {
		r := []rune(s)
		return []string{string(r[:fit-1]) + "…"}
	}
	return []string{strings.Join(first, " "), second}
}

func newBarChart(l locale, rows []NarrativeRow, minCount int) *barChart {
	c := &barChart{W: barsW, Title: l.t("chart_bars"), LegendNow: l.t("col_now"), LegendPrev: l.t("col_prev")}
	shown := func(n int) int {
		switch n {
		case Suppressed:
			return minCount - 1
		case Withheld:
			return minCount
		}
		return n
	}
	top := 1
	for _, r := range rows {
		top = max(top, shown(r.Flags), shown(r.PrevFlags))
	}
	scale := func(n int) int {
		w := shown(n) * (barsW - barsLabelW) / top
		if n != 0 && w < 2 {
			w = 2
		}
		return w
	}
	var desc []string
	y := barsTop
	for i, r := range rows {
		name := r.Name
		if r.Other {
			name = l.t("other_narratives")
		}
		var g barGroup
		for _, s := range wrapLabel(name) {
			y += barsLineH
			g.Label = append(g.Label, line{Y: y - 3, Text: s})
		}
		g.Now = bar{Y: y + 2, H: 18, W: scale(r.Flags), Range: hidden(r.Flags), Value: l.count(r.Flags, minCount)}
		g.Prev = bar{Y: y + 23, H: 12, W: scale(r.PrevFlags), Range: hidden(r.PrevFlags), Value: l.count(r.PrevFlags, minCount)}
		for _, b := range []*bar{&g.Now, &g.Prev} {
			b.TextX = b.W + 5
			b.TextY = b.Y + b.H - 2
		}
		if i == 0 {
			g.Now.Series = strings.ToLower(l.t("col_now"))
			g.Prev.Series = strings.ToLower(l.t("col_prev"))
			for _, b := range []*bar{&g.Now, &g.Prev} {
				if b.TextX+textWidth(b.Value, 13)+8 > barsW-textWidth(b.Series, 11) {
					b.Series = ""
				}
			}
		}
		c.Groups = append(c.Groups, g)
		desc = append(desc, l.tf("desc_bar", name, l.count(r.Flags, minCount), l.count(r.PrevFlags, minCount)))
		y += 48
	}
	c.H = y
	c.Desc = strings.Join(desc, l.t("list_sep"))
	return c
}

// sparkChart is a narrative's flags per day as a strip of bars, with the
// count over each bar and the day of the month under it when there is
// room.
type sparkChart struct {
	W, H, Base  int
	Title, Desc string
	Bars        []sparkBar
}

type sparkBar struct {
	X, Y, W, H    int
	Range         bool
	Value, Day    string
	TextX, ValueY int
	DayY          int
	ShowValue     bool
	ShowDay       bool
}

const (
	sparkW      = 320
	sparkH      = 76
	sparkTop    = 14
	sparkBottom = 16
)

func newSparkChart(l locale, from time.Time, daily []int, minCount int) *sparkChart {
	c := &sparkChart{W: sparkW, H: sparkH, Base: sparkH - sparkBottom, Title: l.t("daily")}
	shown := func(n int) int {
		switch n {
		case Suppressed:
			return minCount - 1
		case Withheld:
			return minCount
		}
		return max(n, 0)
	}
	top := 1
	for _, n := range daily {
		top = max(top, shown(n))
	}
	slot := sparkW / len(daily)
	plot := c.Base - sparkTop
	labels := len(daily) <= 16
	var desc []string
	for i, n := range daily {
		d := from.AddDate(0, 0, i)
		h := shown(n) * plot / top
		if n != 0 && h < 2 {
			h = 2
		}
		bw := max(slot*7/10, 1)
		x := i*slot + (slot-bw)/2
		c.Bars = append(c.Bars, sparkBar{X: x, Y: c.Base - h, W: bw, H: h, Range: hidden(n),
			Value: l.count(n, minCount), Day: strconv.Itoa(d.Day()), TextX: x + bw/2, ValueY: c.Base - h - 3, DayY: c.Base + 12,
			ShowValue: labels, ShowDay: labels || i%7 == 0})
		desc = append(desc, l.tf("desc_day", l.day(d), l.count(n, minCount)))
	}
	c.Desc = strings.Join(desc, l.t("list_sep"))
	return c
}

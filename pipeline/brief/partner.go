package brief

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// DefaultMinCount is the smallest count a partner brief shows when
// ForPartner is given no threshold.
const DefaultMinCount = 5

// maxQuote bounds the evidence words a partner brief quotes, so that a
// span covering a whole text does not bring the text back.
const maxQuote = 300

// ForPartner returns a copy of b fit for host-country counterparts.
//
// The caller must build b from reviewed-and-confirmed flags only: every
// count, daily series and stance split must count flags whose latest
// decision is confirm or needs_response. ForPartner cannot tell such a
// count from a raw one; what it does is remove what partners must not see
// and hide small counts:
//
//   - notable items keep only those decided confirm or needs_response, and
//     of each only its source (unless sensitive), language, date, decision
//     and evidence words; its text, title, URL, id, author and reviewer
//     note are removed;
//   - the names in SensitiveSources disappear from every list, and the map
//     itself is cleared;
//   - emerging groups (unreviewed by nature), catalog and model changes and
//     versions, review coverage and precision, and alert rules and
//     summaries are removed; alerts on narratives not shown are dropped;
//   - narratives with fewer than minCount flags are folded into one
//     "other narratives" row (with the next smallest if the folded ones
//     add up to less than minCount, so they cannot be had by subtraction);
//   - other counts of flags and items from 1 to minCount-1 become
//     Suppressed, and the smallest other count of the same total becomes
//     Withheld when the Suppressed ones add up to less than minCount (the
//     numbers of distinct sources and languages count no one's posts and
//     stay as they are);
//   - the appendix is rebuilt from the figures that remain, without
//     commands (they name internal tools and sources).
//
// minCount below 1 means DefaultMinCount. A brief already for partners is
// returned as it is.
func ForPartner(b Brief, minCount int) Brief {
	if b.Audience == Partner {
		return b
	}
	if minCount < 1 {
		minCount = DefaultMinCount
	}
	l := locale{lang: b.Lang}
	if _, ok := words[b.Lang]; !ok {
		l.lang = "en"
	}
	sensitive := b.SensitiveSources
	p := Brief{
		ID: b.ID, Title: b.Title, Mission: b.Mission, Lang: b.Lang, Audience: Partner,
		From: b.From, To: b.To, PrevFrom: b.PrevFrom, PrevTo: b.PrevTo, Generated: b.Generated,
		MinCount: minCount,
	}

	h := b.Headline
	p.Headline = Headline{Flags: h.Flags, PrevFlags: h.PrevFlags, Items: h.Items, PrevItems: h.PrevItems,
		Sources: h.Sources, PrevSources: h.PrevSources, Languages: h.Languages, PrevLanguages: h.PrevLanguages}
	ph := &p.Headline
	for _, c := range []*int{&ph.Flags, &ph.PrevFlags, &ph.Items, &ph.PrevItems} {
		hide([]*int{c}, minCount)
	}

	rows := ranked(b.Narratives)
	keep, fold := rows, []NarrativeRow(nil)
	for i, r := range rows {
		if r.Flags < minCount {
			keep, fold = rows[:i], rows[i:]
			break
		}
	}
	if s := sumFlags(fold); s > 0 && s < minCount && len(keep) > 0 {
		keep, fold = keep[:len(keep)-1], append([]NarrativeRow{keep[len(keep)-1]}, fold...)
	}
	shown := map[string]bool{}
	for _, r := range keep {
		shown[r.ID] = true
		p.Narratives = append(p.Narratives, partnerRow(r, sensitive, minCount))
	}
	if len(fold) > 0 {
		p.Narratives = append(p.Narratives, otherRow(l, fold, minCount))
	}
	flags := make([]*int, len(p.Narratives))
	prev := make([]*int, len(p.Narratives))
	for i := range p.Narratives {
		flags[i], prev[i] = &p.Narratives[i].Flags, &p.Narratives[i].PrevFlags
	}
	hide(flags, minCount)
	hide(prev, minCount)

	for _, a := range b.Alerts {
		if shown[a.Narrative] {
			p.Alerts = append(p.Alerts, AlertRow{Fired: a.Fired, Narrative: a.Narrative})
		}
	}
	p.Appendix = partnerAppendix(l, p)
	return p
}

func sumFlags(rows []NarrativeRow) int {
	n := 0
	for _, r := range rows {
		n += r.Flags
	}
	return n
}

func partnerRow(r NarrativeRow, sensitive map[string]bool, minCount int) NarrativeRow {
	out := NarrativeRow{ID: r.ID, Name: r.Name, Flags: r.Flags, PrevFlags: r.PrevFlags,
		Daily: slices.Clone(r.Daily), Stances: r.Stances, Langs: slices.Clone(r.Langs),
		FirstSeen: r.FirstSeen, Rising: r.Rising, ResponseLines: slices.Clone(r.ResponseLines)}
	for _, s := range r.Sources {
		if !sensitive[s] {
			out.Sources = append(out.Sources, s)
		}
	}
	for _, it := range r.Notable {
		if it.Decision != DecisionConfirm && it.Decision != DecisionNeedsResponse {
			continue
		}
		pi := NotableItem{Lang: it.Lang, Published: it.Published, Decision: it.Decision}
		if !sensitive[it.Source] {
			pi.Source = it.Source
		}
		for _, c := range spans(it.Text, it.Evidence) {
			pi.Evidence = append(pi.Evidence, Span{Text: quote(it.Text[c.start:c.end])})
		}
		if it.Text == "" {
			for _, s := range it.Evidence {
				pi.Evidence = append(pi.Evidence, Span{Text: quote(s.Text)})
			}
		}
		out.Notable = append(out.Notable, pi)
	}
	hideRow(&out, minCount)
	return out
}

// quote bounds one evidence span's words to maxQuote bytes.
func quote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxQuote {
		return s
	}
	return strings.TrimSpace(s[:runeStart(s, maxQuote)]) + " …"
}

// otherRow adds up the folded narratives; it names none of them and quotes
// none of their items.
func otherRow(l locale, fold []NarrativeRow, minCount int) NarrativeRow {
	o := NarrativeRow{Name: l.t("other_narratives"), Other: true}
	for _, r := range fold {
		o.Flags += r.Flags
		o.PrevFlags += r.PrevFlags
		o.Stances.Spreading += r.Stances.Spreading
		o.Stances.Reporting += r.Stances.Reporting
		o.Stances.Debunking += r.Stances.Debunking
		if len(r.Daily) > len(o.Daily) {
			o.Daily = append(o.Daily, make([]int, len(r.Daily)-len(o.Daily))...)
		}
		for i, n := range r.Daily {
			o.Daily[i] += n
		}
		for _, lang := range r.Langs {
			if !slices.Contains(o.Langs, lang) {
				o.Langs = append(o.Langs, lang)
			}
		}
	}
	sort.Strings(o.Langs)
	hideRow(&o, minCount)
	return o
}

// hideRow hides the small counts of a row's daily series and stance
// split; each adds up to the row's flags.
func hideRow(r *NarrativeRow, minCount int) {
	daily := make([]*int, len(r.Daily))
	for i := range r.Daily {
		daily[i] = &r.Daily[i]
	}
	hide(daily, minCount)
	hide([]*int{&r.Stances.Spreading, &r.Stances.Reporting, &r.Stances.Debunking}, minCount)
}

// hide sets the cells from 1 to minCount-1 to Suppressed. The cells add up to a
// total shown elsewhere, so when the hidden ones add up to less than minCount
// the smallest cell of minCount or more is Withheld: subtracting the shown
// cells from the total then gives no hidden cell exactly.
func hide(cells []*int, minCount int) {
	sum, n := 0, 0
	for _, c := range cells {
		if *c > 0 && *c < minCount {
			sum += *c
			n++
			*c = Suppressed
		}
	}
	if n == 0 || sum >= minCount || len(cells) < 2 {
		return
	}
	var smallest *int
	for _, c := range cells {
		if *c >= minCount && (smallest == nil || *c < *smallest) {
			smallest = c
		}
	}
	if smallest != nil {
		*smallest = Withheld
	}
}

// partnerAppendix lists every count a partner brief shows.
func partnerAppendix(l locale, p Brief) []Figure {
	var figs []Figure
	add := func(narrative, label string, n int) {
		figs = append(figs, Figure{Label: label, Narrative: narrative, Value: float64(n)})
	}
	prev := func(label string) string { return l.tf("fig_of", label, strings.ToLower(l.t("col_prev"))) }
	h := p.Headline
	for _, f := range []struct {
		key       string
		now, prev int
	}{
		{"flags_partner", h.Flags, h.PrevFlags},
		{"items", h.Items, h.PrevItems},
		{"sources", h.Sources, h.PrevSources},
		{"languages", h.Languages, h.PrevLanguages},
	} {
		add("", l.t(f.key), f.now)
		add("", prev(l.t(f.key)), f.prev)
	}
	for _, r := range p.Narratives {
		name := r.Name
		if r.Other {
			name = l.t("other_narratives")
		}
		of := func(key string) string { return l.tf("fig_of", name, strings.ToLower(l.t(key))) }
		add(r.ID, of("flags_partner"), r.Flags)
		add(r.ID, l.tf("fig_of", name, strings.ToLower(l.t("col_prev"))), r.PrevFlags)
		add(r.ID, of("spreading"), r.Stances.Spreading)
		add(r.ID, of("reporting"), r.Stances.Reporting)
		add(r.ID, of("debunking"), r.Stances.Debunking)
	}
	return figs
}

// checkPartner reports what a partner brief still holds that ForPartner
// removes.
func checkPartner(b Brief) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrNotForPartner, b.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case b.MinCount < 1:
		return fail("no MinCount")
	case len(b.SensitiveSources) > 0:
		return fail("sensitive source names kept")
	case b.ModelVersion != "" || b.CatalogVersion != "":
		return fail("model or catalog version kept")
	case len(b.Changes) > 0:
		return fail("catalog and model changes kept")
	case len(b.Emerging) > 0:
		return fail("emerging groups kept")
	case b.Headline.Reviewed != 0 || b.Headline.PrevReviewed != 0 || b.Headline.Precision != nil || b.Headline.PrevPrecision != nil:
		return fail("review figures kept")
	}
	small := func(n int) bool { return n > 0 && n < b.MinCount || n < 0 && !hidden(n) }
	h := b.Headline
	for _, n := range []int{h.Flags, h.PrevFlags, h.Items, h.PrevItems} {
		if small(n) {
			return fail("headline count %d below %d", n, b.MinCount)
		}
	}
	for _, r := range b.Narratives {
		counts := append([]int{r.Flags, r.PrevFlags, r.Stances.Spreading, r.Stances.Reporting, r.Stances.Debunking}, r.Daily...)
		for _, n := range counts {
			if small(n) {
				return fail("narrative %q: count %d below %d", r.ID, n, b.MinCount)
			}
		}
		for _, it := range r.Notable {
			switch {
			case it.Text != "" || it.Title != "" || it.URL != "" || it.ItemID != "":
				return fail("narrative %q: notable item keeps its text, title, URL or id", r.ID)
			case it.Author != "" || it.Note != "":
				return fail("narrative %q: notable item keeps its author or note", r.ID)
			case it.Decision != DecisionConfirm && it.Decision != DecisionNeedsResponse:
				return fail("narrative %q: notable item decided %q", r.ID, it.Decision)
			}
		}
	}
	for _, a := range b.Alerts {
		if a.Rule != "" || a.Summary != "" {
			return fail("alert on %q keeps its rule or summary", a.Narrative)
		}
	}
	for _, f := range b.Appendix {
		if f.Query != "" || f.Share {
			return fail("appendix figure %q keeps a command or a share", f.Label)
		}
	}
	return nil
}

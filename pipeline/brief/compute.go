package brief

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

// Store is what a brief reads from storage.
type Store interface {
	Queue(ctx context.Context, q storage.QueueQuery) ([]storage.QueueRow, error)
	Item(ctx context.Context, id string) (storage.ItemDetail, error)
	Spread(ctx context.Context, narrative string, since time.Time, missions ...string) (storage.SpreadReport, error)
}

// Catalog names narratives and gives their response lines.
type Catalog interface {
	Title(id, lang string) string
	Responses(id, lang string) []string
}

// Options say which brief to compute.
type Options struct {
	From, To time.Time // the period; the one before has the same length
	Mission  string    // "" : all missions
	Lang     string    // en | fr
	Audience Audience
	Catalog  Catalog
	// Notable is how many items each top narrative shows (default 3).
	Notable int
	// Top is how many narratives get a section with notable items
	// (default 5); the others are in the table only.
	Top int
	// Alerts, Emerging and Changes come from the alert log, the emerging
	// groups and the model and catalog history, read by the caller.
	Alerts   []AlertRow
	Emerging []EmergingRow
	Changes  []string
	// ModelVersion and CatalogVersion name what classified the period.
	ModelVersion, CatalogVersion string
	// Sensitive sources never appear in a partner brief.
	Sensitive map[string]bool
	// MinCount is the smallest count a partner brief shows (default 5).
	MinCount int
	Now      time.Time
}

// maxRows bounds the flags one period's brief reads.
const maxRows = 500_000

// Confirmed reports whether a decision confirms the flag.
func Confirmed(decision string) bool {
	return decision == storage.DecisionConfirm || decision == storage.DecisionNeedsResponse
}

// Tally is how a period's flags were reviewed.
type Tally struct {
	Flags    int // live flags
	Reviewed int // with a decision
	// Confirmed and Rejected count the classifier's flags (not those
	// reviewers added) decided confirm or needs_response, and false
	// positive.
	Confirmed, Rejected int
}

// Share is Reviewed / Flags.
func (t Tally) Share() float64 {
	if t.Flags == 0 {
		return 0
	}
	return float64(t.Reviewed) / float64(t.Flags)
}

// Precision is Confirmed / (Confirmed + Rejected); nil when nothing was
// decided.
func (t Tally) Precision() *float64 {
	if t.Confirmed+t.Rejected == 0 {
		return nil
	}
	p := float64(t.Confirmed) / float64(t.Confirmed+t.Rejected)
	return &p
}

// TallyRows counts how rows were reviewed.
func TallyRows(rows []storage.QueueRow) Tally {
	var t Tally
	for _, r := range rows {
		t.Flags++
		if r.Decision == "" {
			continue
		}
		t.Reviewed++
		if strings.HasPrefix(r.Flag.ClassifierVersion, storage.AddedByReviewer) {
			continue
		}
		if Confirmed(r.Decision) {
			t.Confirmed++
		} else if r.Decision == storage.DecisionFalsePositive {
			t.Rejected++
		}
	}
	return t
}

// PeriodRows reads the live flags published in [from, to), with their
// latest decision; mission "" reads every mission.
func PeriodRows(ctx context.Context, st Store, from, to time.Time, mission string) ([]storage.QueueRow, error) {
	f := storage.Filter{Since: from, Until: to}
	if mission != "" {
		f.Missions = []string{mission}
	}
	rows, err := st.Queue(ctx, storage.QueueQuery{Filter: f, Limit: maxRows})
	if err != nil {
		return nil, fmt.Errorf("brief: flags from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	if len(rows) == maxRows {
		return nil, fmt.Errorf("brief: more than %d flags in the period: shorten it or narrow it to a mission", maxRows)
	}
	return rows, nil
}

// Compute builds a brief from storage: the period's flags against the
// period before, per narrative, with notable items, and an appendix giving
// for every figure the `veille query` command that reproduces it. A
// partner brief counts only flags reviewers confirmed (or marked as needing
// a response) and is scrubbed by ForPartner.
func Compute(ctx context.Context, st Store, o Options) (Brief, error) {
	if o.Notable <= 0 {
		o.Notable = 3
	}
	if o.Top <= 0 {
		o.Top = 5
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	if !o.To.After(o.From) {
		return Brief{}, fmt.Errorf("%w: the period must end after it starts", ErrInvalid)
	}
	span := o.To.Sub(o.From)
	// Built as an internal brief; ForPartner makes the partner one from it.
	b := Brief{Mission: o.Mission, Lang: o.Lang, Audience: Internal, From: o.From, To: o.To,
		PrevFrom: o.From.Add(-span), PrevTo: o.From, Generated: o.Now, ModelVersion: o.ModelVersion,
		CatalogVersion: o.CatalogVersion, Alerts: o.Alerts, Emerging: o.Emerging, Changes: o.Changes,
		SensitiveSources: o.Sensitive}
	b.ID = fmt.Sprintf("brief-%s-%s-%s-%s-%s", orAll(o.Mission), o.From.UTC().Format("20060102T15"), o.To.UTC().Format("20060102T15"), o.Lang, o.Audience)
	cur, err := PeriodRows(ctx, st, b.From, b.To, o.Mission)
	if err != nil {
		return b, err
	}
	prev, err := PeriodRows(ctx, st, b.PrevFrom, b.PrevTo, o.Mission)
	if err != nil {
		return b, err
	}
	tc, tp := TallyRows(cur), TallyRows(prev)
	if o.Audience == Partner {
		cur, prev = confirmedOnly(cur), confirmedOnly(prev)
	}
	b.Headline = Headline{Flags: len(cur), PrevFlags: len(prev),
		Items: distinct(cur, func(r storage.QueueRow) string { return r.Flag.ItemID }), PrevItems: distinct(prev, func(r storage.QueueRow) string { return r.Flag.ItemID }),
		Sources: distinct(cur, func(r storage.QueueRow) string { return r.Flag.Source }), PrevSources: distinct(prev, func(r storage.QueueRow) string { return r.Flag.Source }),
		Languages: distinct(cur, func(r storage.QueueRow) string { return r.Flag.Lang }), PrevLanguages: distinct(prev, func(r storage.QueueRow) string { return r.Flag.Lang }),
		Reviewed: tc.Share(), PrevReviewed: tp.Share(), Precision: tc.Precision(), PrevPrecision: tp.Precision()}

	// Daily counts are per calendar day (UTC), the first being the day the
	// period starts: `veille query trends --by day` gives the same rows.
	firstDay := utcDay(b.From)
	days := int(utcDay(b.To.Add(-time.Nanosecond)).Sub(firstDay)/(24*time.Hour)) + 1
	byNarr := map[string]*NarrativeRow{}
	var order []string
	row := func(id string) *NarrativeRow {
		r := byNarr[id]
		if r == nil {
			r = &NarrativeRow{ID: id, Name: o.Catalog.Title(id, o.Lang), Daily: make([]int, days)}
			byNarr[id] = r
			order = append(order, id)
		}
		return r
	}
	sources, langs := map[string]map[string]int{}, map[string]map[string]bool{}
	for _, q := range cur {
		f := q.Flag
		r := row(f.Narrative)
		r.Flags++
		if d := int(utcDay(f.Published).Sub(firstDay) / (24 * time.Hour)); d >= 0 && d < days {
			r.Daily[d]++
		}
		switch f.Stance {
		case "assert":
			r.Stances.Spreading++
		case "report":
			r.Stances.Reporting++
		case "debunk":
			r.Stances.Debunking++
		}
		if sources[f.Narrative] == nil {
			sources[f.Narrative], langs[f.Narrative] = map[string]int{}, map[string]bool{}
		}
		sources[f.Narrative][f.Source]++
		langs[f.Narrative][f.Lang] = true
	}
	for _, q := range prev {
		if r := byNarr[q.Flag.Narrative]; r != nil {
			r.PrevFlags++
		}
	}
	for _, id := range order {
		r := byNarr[id]
		r.Sources = byCount(sources[id])
		for l := range langs[id] {
			r.Langs = append(r.Langs, l)
		}
		sort.Strings(r.Langs)
		r.Rising = r.Flags >= 3 && r.Flags >= 2*r.PrevFlags
		var missions []string
		if o.Mission != "" {
			missions = []string{o.Mission}
		}
		sp, err := st.Spread(ctx, id, time.Time{}, missions...)
		if err != nil {
			return b, fmt.Errorf("brief: first seen of %s: %w", id, err)
		}
		r.FirstSeen = sp.FirstSeen
		r.ResponseLines = o.Catalog.Responses(id, o.Lang)
		b.Narratives = append(b.Narratives, *r)
	}
	sort.SliceStable(b.Narratives, func(i, j int) bool {
		if b.Narratives[i].Flags != b.Narratives[j].Flags {
			return b.Narratives[i].Flags > b.Narratives[j].Flags
		}
		return b.Narratives[i].ID < b.Narratives[j].ID
	})
	for i := range b.Narratives {
		if i >= o.Top {
			break
		}
		n, err := notable(ctx, st, cur, b.Narratives[i].ID, o.Notable)
		if err != nil {
			return b, err
		}
		b.Narratives[i].Notable = n
	}
	b.Appendix = appendix(b, tc, o)
	if o.Audience == Partner {
		b = ForPartner(b, o.MinCount)
	}
	return b, nil
}

func orAll(mission string) string {
	if mission == "" {
		return "all"
	}
	return strings.ToLower(mission)
}

func confirmedOnly(rows []storage.QueueRow) []storage.QueueRow {
	var out []storage.QueueRow
	for _, r := range rows {
		if Confirmed(r.Decision) {
			out = append(out, r)
		}
	}
	return out
}

func distinct(rows []storage.QueueRow, key func(storage.QueueRow) string) int {
	seen := map[string]bool{}
	for _, r := range rows {
		seen[key(r)] = true
	}
	return len(seen)
}

// byCount lists keys by count, highest first.
func byCount(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if m[out[i]] != m[out[j]] {
			return m[out[i]] > m[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// notable picks a narrative's most telling items of the period: confirmed
// ones first, then by score, one per item, with their evidence and the
// decision taken.
func notable(ctx context.Context, st Store, rows []storage.QueueRow, narrative string, n int) ([]NotableItem, error) {
	var cand []storage.QueueRow
	for _, r := range rows {
		if r.Flag.Narrative == narrative && r.Decision != storage.DecisionFalsePositive {
			cand = append(cand, r)
		}
	}
	sort.SliceStable(cand, func(i, j int) bool {
		a, b := cand[i], cand[j]
		if Confirmed(a.Decision) != Confirmed(b.Decision) {
			return Confirmed(a.Decision)
		}
		if a.Flag.Score != b.Flag.Score {
			return a.Flag.Score > b.Flag.Score
		}
		return a.Flag.ItemID < b.Flag.ItemID
	})
	var out []NotableItem
	seen := map[string]bool{}
	for _, r := range cand {
		if len(out) == n {
			break
		}
		if seen[r.Flag.ItemID] {
			continue
		}
		seen[r.Flag.ItemID] = true
		d, err := st.Item(ctx, r.Flag.ItemID)
		if err != nil {
			return nil, fmt.Errorf("brief: item %s: %w", r.Flag.ItemID, err)
		}
		it := NotableItem{ItemID: d.Item.ID, Source: d.Item.Source, Lang: r.Flag.Lang, Title: d.Item.Title, URL: d.Item.URL,
			Published: r.Flag.Published, Text: d.Item.IndexedText(), Decision: r.Decision, Author: d.Item.Author}
		for _, e := range r.Flag.Evidence {
			it.Evidence = append(it.Evidence, Span{Start: e.Start, End: e.End, Text: e.Text})
		}
		for _, rv := range d.Reviews {
			if rv.Narrative == narrative && rv.Note != "" {
				it.Note = rv.Note
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// Query is the `veille query` command whose output gives a figure.
func Query(kind string, from, to time.Time, mission, narrative, by string) string {
	q := fmt.Sprintf("veille query %s --since %s --until %s", kind, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	if kind == "trends" {
		q += fmt.Sprintf(" --by %q", by)
	}
	if mission != "" {
		q += " --mission " + mission
	}
	if narrative != "" {
		q += " --narrative " + narrative
	}
	return q
}

// appendix lists every figure of the brief with the command that gives
// it: a total is the one row of `--by ""`, a count of sources, languages
// or items the number of rows of `--by source`, `lang` or `item`.
func appendix(b Brief, tc Tally, o Options) []Figure {
	l := locale{lang: o.Lang}
	if _, ok := words[o.Lang]; !ok {
		l.lang = "en"
	}
	q := func(narr, by string) string { return Query("trends", b.From, b.To, o.Mission, narr, by) }
	h := b.Headline
	figs := []Figure{
		{Label: l.t("flags"), Value: float64(h.Flags), Query: q("", "")},
		{Label: l.t("items"), Value: float64(h.Items), Query: q("", "item")},
		{Label: l.t("sources"), Value: float64(h.Sources), Query: q("", "source")},
		{Label: l.t("languages"), Value: float64(h.Languages), Query: q("", "lang")},
		{Label: l.tf("fig_of", l.t("flags"), l.t("col_prev")), Value: float64(h.PrevFlags), Query: Query("trends", b.PrevFrom, b.PrevTo, o.Mission, "", "")},
		{Label: l.t("reviewed"), Value: h.Reviewed, Share: true, Query: Query("reviews", b.From, b.To, o.Mission, "", "")},
	}
	if p := tc.Precision(); p != nil {
		figs = append(figs, Figure{Label: l.t("precision"), Value: *p, Share: true, Query: Query("reviews", b.From, b.To, o.Mission, "", "")})
	}
	for _, r := range b.Narratives {
		// The daily chart and the stance split are the rows of the same
		// count by day and by stance.
		figs = append(figs, Figure{Label: r.Name, Narrative: r.ID, Value: float64(r.Flags), Query: q(r.ID, "")},
			Figure{Label: l.tf("fig_of", r.Name, l.t("daily")), Narrative: r.ID, Value: float64(r.Flags), Query: q(r.ID, "day")},
			Figure{Label: l.tf("fig_of", r.Name, l.t("stances")), Narrative: r.ID, Value: float64(r.Flags), Query: q(r.ID, "stance")},
			Figure{Label: l.tf("fig_of", r.Name, l.t("col_prev")), Narrative: r.ID, Value: float64(r.PrevFlags), Query: Query("trends", b.PrevFrom, b.PrevTo, o.Mission, r.ID, "")})
	}
	return figs
}

// utcDay is the start of t's day, UTC.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Decision is the current decision on one flag of a reviewed item.
type Decision struct {
	Narrative string
	Stance    string
	Decision  string // confirm | false_positive | needs_response
	At        time.Time
	// Added: the flag was added by a reviewer (the classifier missed it).
	Added bool
}

// ReviewedItem is an item with the current decision on each of its
// reviewed flags.
type ReviewedItem struct {
	Item      Item
	Decisions []Decision
	// Decided is the time of the newest decision on the item.
	Decided time.Time
}

// ReviewedItems returns every reviewed item with the latest decision per
// flag (item, narrative, stance), oldest decided first. A review stored
// before decisions were per flag (stance "") takes the stance of the
// item's flag of that narrative.
func (d *DB) ReviewedItems(ctx context.Context) ([]ReviewedItem, error) {
	rows, err := d.query(ctx, "SELECT item_id, narrative, stance, decision, decided_ms FROM ("+d.latestReviews()+") ORDER BY item_id, narrative, stance")
	if err != nil {
		return nil, fmt.Errorf("storage: reviewed items: %w", err)
	}
	byItem := map[string]*ReviewedItem{}
	var ids []string
	for _, r := range rows {
		if len(r) < 5 {
			return nil, fmt.Errorf("storage: reviewed items: %d columns, want 5", len(r))
		}
		ri := byItem[r[0]]
		if ri == nil {
			ri = &ReviewedItem{}
			byItem[r[0]] = ri
			ids = append(ids, r[0])
		}
		at := time.UnixMilli(parseInt(r[4])).UTC()
		ri.Decisions = append(ri.Decisions, Decision{Narrative: r[1], Stance: r[2], Decision: r[3], At: at})
		if at.After(ri.Decided) {
			ri.Decided = at
		}
	}
	const chunk = 500
	for from := 0; from < len(ids); from += chunk {
		part := ids[from:min(from+chunk, len(ids))]
		if err := d.fillReviewed(ctx, part, byItem); err != nil {
			return nil, err
		}
	}
	out := make([]ReviewedItem, 0, len(byItem))
	for _, id := range ids {
		if ri := byItem[id]; ri.Item.ID != "" { // an item pruned since its review has no text left
			out = append(out, *ri)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Decided.Equal(out[j].Decided) {
			return out[i].Decided.Before(out[j].Decided)
		}
		return out[i].Item.ID < out[j].Item.ID
	})
	return out, nil
}

// fillReviewed reads the items and flags of ids into byItem.
func (d *DB) fillReviewed(ctx context.Context, ids []string, byItem map[string]*ReviewedItem) error {
	rows, err := d.query(ctx, "SELECT id, source, kind, title, text, lang, mission, cues, published FROM "+d.t("items")+
		" FINAL WHERE id IN "+QuoteList(ids))
	if err != nil {
		return fmt.Errorf("storage: reviewed items: items: %w", err)
	}
	for _, r := range rows {
		it := Item{ID: r[0], Source: r[1], Kind: r[2], Title: r[3], Text: r[4], Lang: r[5], Mission: r[6], Published: parseTime(r[8])}
		if r[7] != "" {
			if err := json.Unmarshal([]byte(r[7]), &it.Cues); err != nil {
				return fmt.Errorf("storage: reviewed item %q: cues: %w", it.ID, err)
			}
		}
		if ri := byItem[it.ID]; ri != nil {
			ri.Item = it
		}
	}
	rows, err = d.query(ctx, "SELECT item_id, narrative, stance, classifier_version FROM "+d.t("flags")+" FINAL WHERE item_id IN "+QuoteList(ids))
	if err != nil {
		return fmt.Errorf("storage: reviewed items: flags: %w", err)
	}
	for _, r := range rows {
		ri := byItem[r[0]]
		if ri == nil {
			continue
		}
		for i := range ri.Decisions {
			dc := &ri.Decisions[i]
			if dc.Narrative != r[1] {
				continue
			}
			if dc.Stance == "" {
				dc.Stance = r[2]
			}
			if dc.Stance == r[2] && strings.HasPrefix(r[3], AddedByReviewer) {
				dc.Added = true
			}
		}
	}
	return nil
}

// AddedByReviewer prefixes the classifier version of a flag a reviewer
// added ("review/<reviewer>").
const AddedByReviewer = "review/"

// PrecisionRow is production precision for one narrative, language and
// week: of the classifier's flags reviewed, how many were confirmed; of
// the reviewed items, how many had a flag added because it was missed.
type PrecisionRow struct {
	Week      time.Time `json:"week"` // Monday, UTC
	Narrative string    `json:"narrative"`
	Lang      string    `json:"lang"`
	Reviewed  int       `json:"reviewed"`  // classifier flags with a decision
	Confirmed int       `json:"confirmed"` // of which confirmed or needing a response
	Missed    int       `json:"missed"`    // flags added by reviewers
	Items     int       `json:"items"`     // reviewed items
	// MissedItems is how many reviewed items had a flag added.
	MissedItems int `json:"missed_items"`
}

// Precision is Confirmed / Reviewed (0 when nothing was reviewed).
func (p PrecisionRow) Precision() float64 {
	if p.Reviewed == 0 {
		return 0
	}
	return float64(p.Confirmed) / float64(p.Reviewed)
}

// MissedShare is MissedItems / Items.
func (p PrecisionRow) MissedShare() float64 {
	if p.Items == 0 {
		return 0
	}
	return float64(p.MissedItems) / float64(p.Items)
}

// Precision returns production precision per week (of the decision),
// narrative and language for decisions taken in [since, until); a zero
// until means now. Rows are ordered by week, narrative, language.
func (d *DB) Precision(ctx context.Context, since, until time.Time) ([]PrecisionRow, error) {
	if until.IsZero() {
		until = time.Now().UTC().Add(time.Minute)
	}
	// Each current decision joined to its flag's language and version.
	sql := "SELECT toString(toMonday(toDateTime(intDiv(decided_ms, 1000), 'UTC'))) AS week, narrative, flag_lang, decision, " +
		"startsWith(flag_version, " + Quote(AddedByReviewer) + ") AS added, item_id FROM (" + d.latestReviews() + ") " +
		"AS r ANY INNER JOIN (SELECT item_id, narrative, stance, lang AS flag_lang, classifier_version AS flag_version FROM " + d.t("flags") + " FINAL) AS f USING (item_id, narrative, stance) " +
		"WHERE decided_ms >= " + fmt.Sprint(since.UnixMilli()) + " AND decided_ms < " + fmt.Sprint(until.UnixMilli())
	rows, err := d.query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("storage: production precision: %w", err)
	}
	type key struct{ week, narr, lang string }
	acc := map[key]*PrecisionRow{}
	items := map[key]map[string]bool{}
	missedItems := map[key]map[string]bool{}
	for _, r := range rows {
		if len(r) < 6 {
			return nil, fmt.Errorf("storage: production precision: %d columns, want 6", len(r))
		}
		k := key{r[0], r[1], r[2]}
		p := acc[k]
		if p == nil {
			wk, _ := time.Parse("2006-01-02", r[0])
			p = &PrecisionRow{Week: wk, Narrative: r[1], Lang: r[2]}
			acc[k] = p
			items[k], missedItems[k] = map[string]bool{}, map[string]bool{}
		}
		items[k][r[5]] = true
		if r[4] == "1" {
			p.Missed++
			missedItems[k][r[5]] = true
			continue
		}
		p.Reviewed++
		if r[3] == DecisionConfirm || r[3] == DecisionNeedsResponse {
			p.Confirmed++
		}
	}
	out := make([]PrecisionRow, 0, len(acc))
	for k, p := range acc {
		p.Items, p.MissedItems = len(items[k]), len(missedItems[k])
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Week.Equal(b.Week) {
			return a.Week.Before(b.Week)
		}
		if a.Narrative != b.Narrative {
			return a.Narrative < b.Narrative
		}
		return a.Lang < b.Lang
	})
	return out, nil
}

// ItemsSince returns up to limit items published at or after since whose
// id sorts after after, in id order: a re-classification pages through
// them with the last id it saw.
func (d *DB) ItemsSince(ctx context.Context, since time.Time, after string, limit int) ([]Item, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := d.query(ctx, "SELECT id, content_hash, source, kind, url, title, text, lang, mission, station, cues, published, fetched FROM "+
		d.t("items")+" FINAL WHERE published >= "+Time(since)+" AND id > "+Quote(after)+" ORDER BY id LIMIT "+fmt.Sprint(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: items since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make([]Item, 0, len(rows))
	for _, r := range rows {
		if len(r) < 13 {
			return nil, fmt.Errorf("storage: items since: %d columns, want 13", len(r))
		}
		it := Item{ID: r[0], ContentHash: r[1], Source: r[2], Kind: r[3], URL: r[4], Title: r[5], Text: r[6], Lang: r[7],
			Mission: r[8], Station: r[9], Published: parseTime(r[11]), Fetched: parseTime(r[12])}
		if r[10] != "" {
			if err := json.Unmarshal([]byte(r[10]), &it.Cues); err != nil {
				return nil, fmt.Errorf("storage: item %q: cues: %w", it.ID, err)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// Reclassified is what a new classification found in one item.
type Reclassified struct {
	ItemID string
	Flags  []Flag // all of the item's flags under the new version
}

// ReplaceCounts says what ReplaceFlags did.
type ReplaceCounts struct {
	Stored    int `json:"stored"`    // flags of the new version stored
	Replaced  int `json:"replaced"`  // live flags of another version superseded by one of the new
	Retracted int `json:"retracted"` // live flags the new version did not find
	Kept      int `json:"kept"`      // live flags not found again but reviewed or added by a reviewer
}

var historyCols = []string{"item_id", "narrative", "stance", "score", "evidence", "classifier_version", "superseded_by", "superseded"}

// ReplaceFlags stores the flags version found in each item and retracts
// the item's live flags it did not find, except flags that carry a review
// or that a reviewer added: a decision stays attached to its (item,
// narrative, stance). Every live flag of another version that is replaced
// or retracted is first copied to flag_history. Running it again with the
// same flags changes nothing, so it is safe to repeat after a failure.
func (d *DB) ReplaceFlags(ctx context.Context, version string, batch []Reclassified) (ReplaceCounts, error) {
	var n ReplaceCounts
	if len(batch) == 0 {
		return n, nil
	}
	ids := make([]string, len(batch))
	for i, b := range batch {
		ids[i] = b.ItemID
	}
	live, err := d.query(ctx, "SELECT "+flagSelect+" FROM "+d.t("flags")+" FINAL WHERE item_id IN "+QuoteList(ids)+" AND "+liveFlag)
	if err != nil {
		return n, fmt.Errorf("storage: replace flags: live flags: %w", err)
	}
	rev, err := d.query(ctx, "SELECT DISTINCT item_id, narrative, stance FROM "+d.t("reviews")+" FINAL WHERE item_id IN "+QuoteList(ids))
	if err != nil {
		return n, fmt.Errorf("storage: replace flags: reviews: %w", err)
	}
	type key struct{ item, narr, stance string }
	reviewed := map[key]bool{}
	for _, r := range rev {
		reviewed[key{r[0], r[1], r[2]}] = true
	}
	found := map[key]bool{}
	var store []Flag
	for _, b := range batch {
		for _, f := range b.Flags {
			f.ItemID, f.ClassifierVersion = b.ItemID, version
			found[key{f.ItemID, f.Narrative, f.Stance}] = true
			store = append(store, f)
		}
	}
	var retract []Flag
	var history [][]any
	now := DBTime(time.Now())
	for _, r := range live {
		f := scanFlag(r)
		k := key{f.ItemID, f.Narrative, f.Stance}
		if f.ClassifierVersion == version {
			continue
		}
		switch {
		case found[k]:
			n.Replaced++
		case reviewed[k] || strings.HasPrefix(f.ClassifierVersion, AddedByReviewer):
			n.Kept++
			continue
		default:
			n.Retracted++
			retract = append(retract, f)
		}
		history = append(history, []any{f.ItemID, f.Narrative, f.Stance, f.Score, r[4], f.ClassifierVersion, version, now})
	}
	if len(history) > 0 {
		if err := d.c.Insert(ctx, d.t("flag_history"), historyCols, history); err != nil {
			return n, fmt.Errorf("storage: replace flags: history: %w", err)
		}
	}
	if err := d.insertFlags(ctx, retract, true); err != nil {
		return n, err
	}
	if err := d.InsertFlags(ctx, store); err != nil {
		return n, err
	}
	n.Stored = len(store)
	return n, nil
}

// FlagHistory returns the superseded flags of an item, oldest first.
func (d *DB) FlagHistory(ctx context.Context, itemID string) ([]HistoricFlag, error) {
	rows, err := d.query(ctx, "SELECT narrative, stance, score, classifier_version, superseded_by, superseded FROM "+d.t("flag_history")+
		" WHERE item_id = "+Quote(itemID)+" ORDER BY superseded, narrative, stance")
	if err != nil {
		return nil, fmt.Errorf("storage: flag history of %q: %w", itemID, err)
	}
	out := make([]HistoricFlag, 0, len(rows))
	for _, r := range rows {
		out = append(out, HistoricFlag{Narrative: r[0], Stance: r[1], Score: parseFloat(r[2]), Version: r[3], SupersededBy: r[4], Superseded: parseTime(r[5])})
	}
	return out, nil
}

// HistoricFlag is a flag a later classification replaced or retracted.
type HistoricFlag struct {
	Narrative    string    `json:"narrative"`
	Stance       string    `json:"stance"`
	Score        float64   `json:"score"`
	Version      string    `json:"classifier_version"`
	SupersededBy string    `json:"superseded_by"`
	Superseded   time.Time `json:"superseded"`
}

// BriefRecord is a brief as kept: its parameters and the HTML sent.
type BriefRecord struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Mission  string    `json:"mission"`
	Lang     string    `json:"lang"`
	Audience string    `json:"audience"`
	MadeBy   string    `json:"made_by"` // a user, or "schedule:<name>"
	Created  time.Time `json:"created"`
	HTML     string    `json:"-"`
}

var briefCols = []string{"id", "title", "period_from", "period_to", "mission", "lang", "audience", "made_by", "created", "html", "ver"}

// PutBrief keeps a brief; a brief stored again under its id replaces it.
func (d *DB) PutBrief(ctx context.Context, b BriefRecord) error {
	if b.ID == "" {
		return fmt.Errorf("%w: brief without id", ErrBadQuery)
	}
	row := []any{b.ID, b.Title, DBTime(b.From), DBTime(b.To), b.Mission, b.Lang, b.Audience, b.MadeBy, DBTime(b.Created), b.HTML, version()}
	if err := d.c.Insert(ctx, d.t("briefs"), briefCols, [][]any{row}); err != nil {
		return fmt.Errorf("storage: put brief %s: %w", b.ID, err)
	}
	return nil
}

// Briefs lists the kept briefs, newest first, without their HTML.
func (d *DB) Briefs(ctx context.Context, limit int) ([]BriefRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.query(ctx, "SELECT id, title, period_from, period_to, mission, lang, audience, made_by, created FROM "+d.t("briefs")+
		" FINAL ORDER BY created DESC, id LIMIT "+fmt.Sprint(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: briefs: %w", err)
	}
	out := make([]BriefRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, BriefRecord{ID: r[0], Title: r[1], From: parseTime(r[2]), To: parseTime(r[3]), Mission: r[4], Lang: r[5],
			Audience: r[6], MadeBy: r[7], Created: parseTime(r[8])})
	}
	return out, nil
}

// Brief returns one kept brief with its HTML, or ErrNotFound.
func (d *DB) Brief(ctx context.Context, id string) (BriefRecord, error) {
	rows, err := d.query(ctx, "SELECT id, title, period_from, period_to, mission, lang, audience, made_by, created, html FROM "+d.t("briefs")+
		" FINAL WHERE id = "+Quote(id)+" LIMIT 1")
	if err != nil {
		return BriefRecord{}, fmt.Errorf("storage: brief %q: %w", id, err)
	}
	if len(rows) == 0 {
		return BriefRecord{}, ErrNotFound
	}
	r := rows[0]
	return BriefRecord{ID: r[0], Title: r[1], From: parseTime(r[2]), To: parseTime(r[3]), Mission: r[4], Lang: r[5],
		Audience: r[6], MadeBy: r[7], Created: parseTime(r[8]), HTML: r[9]}, nil
}

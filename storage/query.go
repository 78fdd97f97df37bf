package storage

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// where returns the filter as SQL conditions on the flags columns, each
// value quoted; "" when the filter is empty.
func (f Filter) where() string {
	var conds []string
	if !f.Since.IsZero() {
		conds = append(conds, "published >= "+Time(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "published < "+Time(f.Until))
	}
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			conds = append(conds, col+" IN "+QuoteList(vals))
		}
	}
	in("narrative", f.Narratives)
	in("mission", f.Missions)
	in("lang", f.Langs)
	in("source", f.Sources)
	in("stance", f.Stances)
	return strings.Join(conds, " AND ")
}

func and(conds ...string) string {
	var keep []string
	for _, c := range conds {
		if c != "" {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(keep, " AND ")
}

// liveFlag keeps the flags the newest classification of their item
// found: a re-classification retracts the others (see ReplaceFlags).
const liveFlag = "retracted = 0"

const flagSelect = "item_id, narrative, stance, score, evidence, entities, classifier_version, source, lang, mission, published"

func scanFlag(r []string) Flag {
	f := Flag{ItemID: r[0], Narrative: r[1], Stance: r[2], Score: parseFloat(r[3]),
		ClassifierVersion: r[6], Source: r[7], Lang: r[8], Mission: r[9], Published: parseTime(r[10])}
	_ = json.Unmarshal([]byte(r[4]), &f.Evidence)
	_ = json.Unmarshal([]byte(r[5]), &f.Entities)
	if len(f.Evidence) == 0 {
		f.Evidence = nil
	}
	if len(f.Entities) == 0 {
		f.Entities = nil
	}
	return f
}

// Item returns one item with its current flags and its review history, or
// ErrNotFound.
func (d *DB) Item(ctx context.Context, id string) (ItemDetail, error) {
	rows, err := d.query(ctx, "SELECT id, content_hash, source, kind, url, title, text, html, lang, mission, station, cues, published, fetched, author, meta FROM "+
		d.t("items")+" FINAL WHERE id = "+Quote(id)+" LIMIT 1")
	if err != nil {
		return ItemDetail{}, fmt.Errorf("storage: item %q: %w", id, err)
	}
	if len(rows) == 0 {
		return ItemDetail{}, ErrNotFound
	}
	r := rows[0]
	it := Item{ID: r[0], ContentHash: r[1], Source: r[2], Kind: r[3], URL: r[4], Title: r[5], Text: r[6], HTML: r[7],
		Lang: r[8], Mission: r[9], Station: r[10], Published: parseTime(r[12]), Fetched: parseTime(r[13]), Author: r[14]}
	if r[15] != "" {
		if err := json.Unmarshal([]byte(r[15]), &it.Meta); err != nil {
			return ItemDetail{}, fmt.Errorf("storage: item %q: meta: %w", id, err)
		}
	}
	if r[11] != "" {
		if err := json.Unmarshal([]byte(r[11]), &it.Cues); err != nil {
			return ItemDetail{}, fmt.Errorf("storage: item %q: cues: %w", id, err)
		}
	}
	det := ItemDetail{Item: it}
	rows, err = d.query(ctx, "SELECT "+flagSelect+" FROM "+d.t("flags")+" FINAL WHERE item_id = "+Quote(id)+" AND "+liveFlag+" ORDER BY narrative, stance")
	if err != nil {
		return ItemDetail{}, fmt.Errorf("storage: item %q: flags: %w", id, err)
	}
	for _, r := range rows {
		det.Flags = append(det.Flags, scanFlag(r))
	}
	rows, err = d.query(ctx, "SELECT id, item_id, narrative, stance, decision, reviewer, note, at_ms FROM "+d.t("reviews")+
		" FINAL WHERE item_id = "+Quote(id)+" ORDER BY at_ms, id")
	if err != nil {
		return ItemDetail{}, fmt.Errorf("storage: item %q: reviews: %w", id, err)
	}
	for _, r := range rows {
		det.Reviews = append(det.Reviews, Review{ID: r[0], ItemID: r[1], Narrative: r[2], Stance: r[3], Decision: r[4], Reviewer: r[5], Note: r[6],
			At: time.UnixMilli(parseInt(r[7])).UTC()})
	}
	return det, nil
}

// latestReviews is the current decision per flag (item, narrative, stance).
func (d *DB) latestReviews() string {
	return "SELECT item_id, narrative, stance, argMax(decision, at_ms) AS decision, argMax(reviewer, at_ms) AS reviewer, max(at_ms) AS decided_ms FROM " +
		d.t("reviews") + " FINAL GROUP BY item_id, narrative, stance"
}

// Queue lists flags newest first with the latest decision on each.
func (d *DB) Queue(ctx context.Context, q QueueQuery) ([]QueueRow, error) {
	limit := q.Limit
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	offset := max(q.Offset, 0)
	decision := ""
	switch q.Decision {
	case "":
	case "none":
		decision = "decision = ''"
	default:
		decision = "decision = " + Quote(q.Decision)
	}
	// Joins are nested, one per level, and use USING: the form every
	// supported ClickHouse version reads alike.
	inner := "SELECT " + flagSelect + ", decision, reviewer, decided_ms FROM (SELECT " + flagSelect + " FROM " + d.t("flags") + " FINAL" + and(q.Filter.where(), liveFlag) +
		") AS f ANY LEFT JOIN (" + d.latestReviews() + ") AS r USING (item_id, narrative, stance)" + and(decision) +
		" ORDER BY published DESC, item_id, narrative, stance LIMIT " + strconv.Itoa(offset) + ", " + strconv.Itoa(limit)
	sql := "SELECT " + flagSelect + ", decision, reviewer, decided_ms, title, url FROM (" + inner + ") AS q ANY LEFT JOIN (SELECT id AS item_id, title, url FROM " +
		d.t("items") + " FINAL) AS i USING (item_id) ORDER BY published DESC, item_id, narrative, stance"
	rows, err := d.query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("storage: queue: %w", err)
	}
	out := make([]QueueRow, len(rows))
	for i, r := range rows {
		qr := QueueRow{Flag: scanFlag(r), Decision: r[11], Reviewer: r[12], Title: r[14], URL: r[15]}
		if ms := parseInt(r[13]); ms > 0 {
			qr.DecidedAt = time.UnixMilli(ms).UTC()
		}
		out[i] = qr
	}
	return out, nil
}

// Counts returns distinct items, flags and reviews, items by source and
// flags by narrative.
func (d *DB) Counts(ctx context.Context) (Totals, error) {
	tot := Totals{ItemsBySource: map[string]int64{}, FlagsByNarr: map[string]int64{}}
	rows, err := d.query(ctx, "SELECT source, count() FROM "+d.t("items")+" FINAL GROUP BY source")
	if err != nil {
		return tot, fmt.Errorf("storage: counts: items: %w", err)
	}
	for _, r := range rows {
		n := parseInt(r[1])
		tot.ItemsBySource[r[0]] = n
		tot.Items += n
	}
	rows, err = d.query(ctx, "SELECT narrative, count() FROM "+d.t("flags")+" FINAL WHERE "+liveFlag+" GROUP BY narrative")
	if err != nil {
		return tot, fmt.Errorf("storage: counts: flags: %w", err)
	}
	for _, r := range rows {
		n := parseInt(r[1])
		tot.FlagsByNarr[r[0]] = n
		tot.Flags += n
	}
	rows, err = d.query(ctx, "SELECT count() FROM "+d.t("reviews")+" FINAL")
	if err != nil {
		return tot, fmt.Errorf("storage: counts: reviews: %w", err)
	}
	if len(rows) > 0 {
		tot.Reviews = parseInt(rows[0][0])
	}
	return tot, nil
}

// TrendDims are the dimensions a trend can be grouped by, with the SQL of
// each; only these names ever reach SQL text.
var TrendDims = map[string]string{
	"narrative": "narrative",
	"stance":    "stance",
	"mission":   "mission",
	"lang":      "lang",
	"source":    "source",
	"hour":      "toString(toStartOfHour(published))",
	"day":       "toString(toDate(published))",
	"week":      "toString(toMonday(published))",
	"month":     "toString(toStartOfMonth(published))",
	"item":      "item_id",
}

// trendSQL is the trend query: the By dimensions in order, then "flags".
func (d *DB) trendSQL(q TrendQuery) (string, []string, error) {
	var sel, names []string
	seen := map[string]bool{}
	for _, b := range q.By {
		b = strings.TrimSpace(b)
		expr, ok := TrendDims[b]
		if !ok {
			return "", nil, fmt.Errorf("%w: unknown dimension %q (have narrative, stance, mission, lang, source, item, hour, day, week, month)", ErrBadQuery, b)
		}
		if seen[b] {
			continue
		}
		seen[b] = true
		sel = append(sel, expr+" AS "+b)
		names = append(names, b)
	}
	cols := append(append([]string{}, names...), "flags")
	sql := "SELECT " + strings.Join(append(sel, "count() AS flags"), ", ") + " FROM " + d.t("flags") + " FINAL" + and(q.Filter.where(), liveFlag)
	if len(names) > 0 {
		sql += " GROUP BY " + strings.Join(names, ", ") + " ORDER BY " + strings.Join(names, ", ")
	}
	return sql, cols, nil
}

// Trends counts flags grouped by q.By (each distinct flag once).
func (d *DB) Trends(ctx context.Context, q TrendQuery) (Table, error) {
	sql, cols, err := d.trendSQL(q)
	if err != nil {
		return Table{}, err
	}
	rows, err := d.query(ctx, sql)
	if err != nil {
		return Table{}, fmt.Errorf("storage: trends: %w", err)
	}
	if rows == nil {
		rows = [][]string{}
	}
	return Table{Columns: cols, Rows: rows}, nil
}

// Rising compares each narrative's count in [Now-Window, Now) with its
// average per window over [Now-Window-Baseline, Now-Window), most risen
// first.
func (d *DB) Rising(ctx context.Context, q RisingQuery) ([]RisingRow, error) {
	if q.Window <= 0 || q.Baseline < 0 {
		return nil, fmt.Errorf("%w: rising: window %v, baseline %v", ErrBadQuery, q.Window, q.Baseline)
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	end := now.Truncate(time.Second)
	ws := end.Add(-q.Window)
	bs := ws.Add(-q.Baseline)
	f := q.Filter
	f.Since, f.Until = bs, end
	sql := "SELECT narrative, countIf(published >= " + Time(ws) + ") AS recent, countIf(published < " + Time(ws) + ") AS base FROM " +
		d.t("flags") + " FINAL" + and(f.where(), liveFlag) + " GROUP BY narrative"
	rows, err := d.query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("storage: rising: %w", err)
	}
	windows := float64(q.Baseline) / float64(q.Window)
	out := make([]RisingRow, 0, len(rows))
	for _, r := range rows {
		rr := RisingRow{Narrative: r[0], Recent: parseInt(r[1])}
		if windows > 0 {
			rr.Baseline = float64(parseInt(r[2])) / windows
		}
		rr.Factor = (float64(rr.Recent) + 1) / (rr.Baseline + 1)
		out = append(out, rr)
	}
	SortRising(out)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// SortRising orders rows as Rising returns them: highest factor first, then
// most recent flags, then narrative.
func SortRising(rows []RisingRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Factor != b.Factor {
			return a.Factor > b.Factor
		}
		if a.Recent != b.Recent {
			return a.Recent > b.Recent
		}
		return a.Narrative < b.Narrative
	})
}

// Spread says when a narrative was first and last seen since a time, in all
// and per source and language (earliest first).
func (d *DB) Spread(ctx context.Context, narrative string, since time.Time, missions ...string) (SpreadReport, error) {
	rep := SpreadReport{Narrative: narrative}
	f := Filter{Since: since, Narratives: []string{narrative}, Missions: missions}
	rows, err := d.query(ctx, "SELECT source, lang, min(published) AS first, max(published) AS last, count() AS n FROM "+
		d.t("flags")+" FINAL"+and(f.where(), liveFlag)+" GROUP BY source, lang ORDER BY first, source, lang")
	if err != nil {
		return rep, fmt.Errorf("storage: spread %q: %w", narrative, err)
	}
	for _, r := range rows {
		sr := SpreadRow{Source: r[0], Lang: r[1], FirstSeen: parseTime(r[2]), LastSeen: parseTime(r[3]), Count: parseInt(r[4])}
		if rep.Total == 0 || sr.FirstSeen.Before(rep.FirstSeen) {
			rep.FirstSeen = sr.FirstSeen
		}
		if sr.LastSeen.After(rep.LastSeen) {
			rep.LastSeen = sr.LastSeen
		}
		rep.Total += sr.Count
		rep.Firsts = append(rep.Firsts, sr)
	}
	return rep, nil
}

// maxSimilarTerms bounds the terms a Similar query matches on.
const maxSimilarTerms = 64

// Similar lists items that carry one of the narratives and share evidence
// terms (see Terms), most shared terms first, then newest.
func (d *DB) Similar(ctx context.Context, q SimilarQuery) ([]SimilarRow, error) {
	terms := Terms(q.Terms...)
	if len(q.Narratives) == 0 && len(terms) == 0 {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 20
	}
	var conds []string
	if len(q.Narratives) > 0 {
		conds = append(conds, "narrative IN "+QuoteList(q.Narratives))
	}
	if len(q.Missions) > 0 {
		conds = append(conds, "mission IN "+QuoteList(q.Missions))
	}
	shared := "0"
	if len(terms) > 0 {
		// A sum of has() rather than arrayIntersect/hasAny, which crash
		// ClickHouse 18.16 on String arrays.
		if len(terms) > maxSimilarTerms {
			terms = terms[:maxSimilarTerms]
		}
		parts := make([]string, len(terms))
		for i, term := range terms {
			parts[i] = "has(terms, " + Quote(term) + ")"
		}
		shared = "(" + strings.Join(parts, " + ") + ")"
		conds = append(conds, shared+" > 0")
	}
	inner := "SELECT item_id, narrative, max(" + shared + ") AS shared, max(published) AS published, any(source) AS source, any(lang) AS lang FROM " +
		d.t("flags") + " FINAL" + and(append(conds, liveFlag)...) + " GROUP BY item_id, narrative ORDER BY shared DESC, published DESC, item_id, narrative LIMIT " + strconv.Itoa(limit)
	sql := "SELECT item_id, narrative, shared, published, source, lang, title FROM (" + inner + ") AS s ANY LEFT JOIN (SELECT id AS item_id, title FROM " +
		d.t("items") + " FINAL) AS i USING (item_id) ORDER BY shared DESC, published DESC, item_id, narrative"
	rows, err := d.query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("storage: similar: %w", err)
	}
	out := make([]SimilarRow, len(rows))
	for i, r := range rows {
		out[i] = SimilarRow{ItemID: r[0], Narrative: r[1], Shared: int(parseInt(r[2])), Published: parseTime(r[3]), Source: r[4], Lang: r[5], Title: r[6]}
	}
	return out, nil
}

// Export formats.
const (
	FormatCSV     = "csv"
	FormatJSONL   = "jsonl"
	FormatParquet = "parquet"
)

// Export writes the rows of a trend query as csv (with a header), jsonl (one
// object per row, counts as numbers) or parquet (written by ClickHouse).
func (d *DB) Export(ctx context.Context, q TrendQuery, format string, w io.Writer) error {
	switch format {
	case FormatCSV, FormatJSONL:
		t, err := d.Trends(ctx, q)
		if err != nil {
			return err
		}
		return WriteTable(t, format, w)
	case FormatParquet:
		sql, _, err := d.trendSQL(q)
		if err != nil {
			return err
		}
		if err := d.c.QueryFormat(ctx, d.settings(sql), "Parquet", w); err != nil {
			return fmt.Errorf("storage: export parquet: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("%w: export format %q: want csv, jsonl or parquet", ErrBadQuery, format)
	}
}

// WriteTable writes t as csv or jsonl; in jsonl the "flags" column is a
// number.
func WriteTable(t Table, format string, w io.Writer) error {
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return fmt.Errorf("storage: csv: %w", err)
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return fmt.Errorf("storage: csv: %w", err)
		}
		return nil
	case FormatJSONL:
		enc := json.NewEncoder(w)
		for _, r := range t.Rows {
			obj := make(map[string]any, len(r))
			for i, c := range t.Columns {
				if c == "flags" {
					obj[c] = parseInt(r[i])
				} else {
					obj[c] = r[i]
				}
			}
			if err := enc.Encode(obj); err != nil {
				return fmt.Errorf("storage: jsonl: %w", err)
			}
		}
		return nil
	default:
		return fmt.Errorf("%w: table format %q", ErrBadQuery, format)
	}
}

// Prune blanks the raw text (text, html, cues) of items published before a
// time, keeping their other fields, their flags and every count. It returns
// how many items were blanked and waits for the change to be applied.
func (d *DB) Prune(ctx context.Context, before time.Time) (int64, error) {
	cond := "published < " + Time(before) + " AND (text != '' OR html != '' OR cues != '')"
	rows, err := d.query(ctx, "SELECT count() FROM "+d.t("items")+" FINAL WHERE "+cond)
	if err != nil {
		return 0, fmt.Errorf("storage: prune: count: %w", err)
	}
	n := int64(0)
	if len(rows) > 0 {
		n = parseInt(rows[0][0])
	}
	if n == 0 {
		return 0, nil
	}
	if err := d.c.Exec(ctx, "ALTER TABLE "+d.t("items")+" UPDATE text = '', html = '', cues = '' WHERE "+cond); err != nil {
		return 0, fmt.Errorf("storage: prune: %w", err)
	}
	// Mutations run in the background on a server: wait for this one.
	for {
		rows, err := d.c.Query(ctx, "SELECT count() FROM system.mutations WHERE database = "+Quote(d.db)+" AND table = 'items' AND is_done = 0")
		if err != nil {
			return n, fmt.Errorf("storage: prune: wait: %w", err)
		}
		if len(rows) == 0 || parseInt(rows[0][0]) == 0 {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("storage: prune: wait: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CandidateItem is an item read for emerging-rumour grouping: its text,
// where it came from, and whether a narrative already flags it.
type CandidateItem struct {
	ID, Text, Lang, Source, Station string
	Published                       time.Time
	Flagged                         bool
}

// EmergingCandidates reads up to limit items published in [since, until),
// oldest first, each marked flagged or not.
func (d *DB) EmergingCandidates(ctx context.Context, since, until time.Time, limit int) ([]CandidateItem, error) {
	where := "published >= " + Time(since) + " AND published < " + Time(until)
	rows, err := d.query(ctx, "SELECT id, text, lang, source, station, published, id IN (SELECT item_id FROM "+d.t("flags")+" FINAL WHERE "+where+" AND "+liveFlag+") AS flagged FROM "+
		d.t("items")+" FINAL WHERE "+where+" ORDER BY published, id LIMIT "+strconv.Itoa(max(limit, 1)))
	if err != nil {
		return nil, fmt.Errorf("storage: emerging candidates: %w", err)
	}
	out := make([]CandidateItem, 0, len(rows))
	for _, r := range rows {
		if len(r) < 7 {
			return nil, fmt.Errorf("storage: emerging candidates: %d columns, want 7", len(r))
		}
		out = append(out, CandidateItem{ID: r[0], Text: r[1], Lang: r[2], Source: r[3], Station: r[4], Published: parseTime(r[5]), Flagged: r[6] == "1" || r[6] == "true"})
	}
	return out, nil
}

// ItemSample is how an item is named in a list: its title (or the start of
// its text), source, language and date.
type ItemSample struct {
	ID, Title, Source, Lang string
	Published               time.Time
}

// ItemSamples reads the samples of the given items in one query.
func (d *DB) ItemSamples(ctx context.Context, ids []string) ([]ItemSample, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.query(ctx, "SELECT id, if(title != '', title, substring(text, 1, 240)), source, lang, published FROM "+d.t("items")+
		" FINAL WHERE id IN "+QuoteList(ids))
	if err != nil {
		return nil, fmt.Errorf("storage: item samples: %w", err)
	}
	out := make([]ItemSample, 0, len(rows))
	for _, r := range rows {
		if len(r) < 5 {
			return nil, fmt.Errorf("storage: item samples: %d columns, want 5", len(r))
		}
		out = append(out, ItemSample{ID: r[0], Title: r[1], Source: r[2], Lang: r[3], Published: parseTime(r[4])})
	}
	return out, nil
}

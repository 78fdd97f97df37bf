package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/pipeline/brief"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
)

func init() {
	register(&command{
		name:    "query",
		summary: "analyst queries: query trends|rising|spread|similar|reviews",
		run:     runQuery,
	})
}

const queryUsage = `veille query trends  [--since 30d] [--until 0d] [--by narrative,day] [filters] [--format table|csv|json|jsonl|parquet] [--out FILE]
veille query rising  [--window 24h] [--baseline 7d] [--limit 20] [filters] [--format ...]
veille query spread  --narrative ID [--since 90d] [--format ...]
veille query similar --narrative ID[,ID] --text "words to match" [--limit 20] [--format ...]
veille query reviews [--since 7d] [--until 0] [filters]: flags, how many reviewed, confirmed, false positives, precision
filters: --narrative A,B --mission M --lang L --source S --stance assert,report,debunk
(each takes --config veille.yaml; parquet is for trends only)`

func runQuery(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: %s", errUsage, queryUsage)
	}
	kind := args[0]
	switch kind {
	case "trends", "rising", "spread", "similar", "reviews":
	default:
		return fmt.Errorf("%w: unknown query %q\n%s", errUsage, kind, queryUsage)
	}
	fs := newFlags("query " + kind)
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	since := fs.String("since", "30d", "start of the range, as an age (30d, 12h) or an RFC 3339 time; 0 for all")
	until := fs.String("until", "0", "end of the range, as an age or an RFC 3339 time; 0 for now")
	by := fs.String("by", "narrative,day", "trends: dimensions among narrative, stance, mission, lang, source, item, hour, day, week, month (\"\": the total)")
	format := fs.String("format", "table", "table, csv, json, jsonl or parquet (trends only)")
	out := fs.String("out", "", "write to this file instead of standard output")
	narr := fs.String("narrative", "", "narrative ids, comma-separated")
	mission := fs.String("mission", "", "missions, comma-separated")
	lang := fs.String("lang", "", "languages, comma-separated")
	source := fs.String("source", "", "sources, comma-separated")
	stance := fs.String("stance", "", "stances, comma-separated")
	window := fs.String("window", "24h", "rising: the recent window")
	baseline := fs.String("baseline", "7d", "rising: the baseline before the window")
	limit := fs.Int("limit", 20, "rising, similar: rows to show")
	text := fs.String("text", "", "similar: text whose words to match")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	now := time.Now().UTC()
	age := func(name, v string) (time.Time, error) {
		if v == "" || v == "0" || v == "0d" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC(), nil // a point in time, as briefs print it
		}
		d, err := config.ParseDuration(v)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%w: --%s %q: want an age such as 30d or 12h, or a time such as 2026-11-30T00:00:00Z", errUsage, name, v)
		}
		return now.Add(-d), nil
	}
	f := storage.Filter{Narratives: splitList(*narr), Missions: splitList(*mission), Langs: splitList(*lang),
		Sources: splitList(*source), Stances: splitList(*stance)}
	var err error
	if f.Since, err = age("since", *since); err != nil {
		return err
	}
	if f.Until, err = age("until", *until); err != nil {
		return err
	}
	switch *format {
	case "table", "csv", "json", "jsonl":
	case "parquet":
		if kind != "trends" {
			return fmt.Errorf("%w: --format parquet is for trends only", errUsage)
		}
	default:
		return fmt.Errorf("%w: --format %q: want table, csv, json, jsonl or parquet", errUsage, *format)
	}
	if kind == "spread" && len(f.Narratives) != 1 {
		return fmt.Errorf("%w: query spread needs one --narrative", errUsage)
	}
	if kind == "similar" && len(f.Narratives) == 0 && *text == "" {
		return fmt.Errorf("%w: query similar needs --narrative or --text", errUsage)
	}

	db, err := openConfiguredStore(ctx, fs, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()

	w := io.Writer(os.Stdout)
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}

	var t storage.Table
	switch kind {
	case "trends":
		q := storage.TrendQuery{Filter: f, By: splitList(*by)}
		if *format == "parquet" || *format == "csv" || *format == "jsonl" {
			if err := db.Export(ctx, q, *format, w); err != nil {
				return err
			}
			return closeOut(w)
		}
		if t, err = db.Trends(ctx, q); err != nil {
			return err
		}
	case "rising":
		win, err := config.ParseDuration(*window)
		if err != nil || win <= 0 {
			return fmt.Errorf("%w: --window %q", errUsage, *window)
		}
		base, err := config.ParseDuration(*baseline)
		if err != nil || base < 0 {
			return fmt.Errorf("%w: --baseline %q", errUsage, *baseline)
		}
		rows, err := db.Rising(ctx, storage.RisingQuery{Filter: f, Now: now, Window: win, Baseline: base, Limit: *limit})
		if err != nil {
			return err
		}
		t.Columns = []string{"narrative", "recent", "baseline", "factor"}
		for _, r := range rows {
			t.Rows = append(t.Rows, []string{r.Narrative, strconv.FormatInt(r.Recent, 10),
				strconv.FormatFloat(r.Baseline, 'f', 2, 64), strconv.FormatFloat(r.Factor, 'f', 2, 64)})
		}
	case "spread":
		rep, err := db.Spread(ctx, f.Narratives[0], f.Since)
		if err != nil {
			return err
		}
		t.Columns = []string{"source", "lang", "first_seen", "last_seen", "count"}
		for _, r := range rep.Firsts {
			t.Rows = append(t.Rows, []string{r.Source, r.Lang, r.FirstSeen.Format(time.RFC3339), r.LastSeen.Format(time.RFC3339), strconv.FormatInt(r.Count, 10)})
		}
	case "similar":
		rows, err := db.Similar(ctx, storage.SimilarQuery{Narratives: f.Narratives, Terms: []string{*text}, Limit: *limit})
		if err != nil {
			return err
		}
		t.Columns = []string{"item_id", "narrative", "shared_terms", "published", "source", "lang", "title"}
		for _, r := range rows {
			t.Rows = append(t.Rows, []string{r.ItemID, r.Narrative, strconv.Itoa(r.Shared), r.Published.Format(time.RFC3339), r.Source, r.Lang, r.Title})
		}
	case "reviews":
		rows, err := db.Queue(ctx, storage.QueueQuery{Filter: f, Limit: 500_000})
		if err != nil {
			return err
		}
		tl := brief.TallyRows(rows)
		prec := ""
		if p := tl.Precision(); p != nil {
			prec = strconv.FormatFloat(*p, 'f', 4, 64)
		}
		t.Columns = []string{"flags", "reviewed", "reviewed_share", "confirmed", "false_positive", "precision"}
		t.Rows = [][]string{{strconv.Itoa(tl.Flags), strconv.Itoa(tl.Reviewed), strconv.FormatFloat(tl.Share(), 'f', 4, 64),
			strconv.Itoa(tl.Confirmed), strconv.Itoa(tl.Rejected), prec}}
	}
	if err := writeQueryTable(t, *format, w); err != nil {
		return err
	}
	return closeOut(w)
}

func closeOut(w io.Writer) error {
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		return f.Close()
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// writeQueryTable prints a result as an aligned table, csv, a JSON array of
// objects or JSON lines.
func writeQueryTable(t storage.Table, format string, w io.Writer) error {
	switch format {
	case "csv", "jsonl":
		return storage.WriteTable(t, format, w)
	case "json":
		objs := make([]map[string]string, len(t.Rows))
		for i, r := range t.Rows {
			objs[i] = make(map[string]string, len(r))
			for j, c := range t.Columns {
				objs[i][c] = r[j]
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
		for _, r := range t.Rows {
			clean := make([]string, len(r))
			for i, v := range r {
				clean[i] = strings.Map(func(c rune) rune {
					if c < 0x20 {
						return ' '
					}
					return c
				}, v)
			}
			fmt.Fprintln(tw, strings.Join(clean, "\t"))
		}
		return tw.Flush()
	}
}

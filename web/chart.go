package web

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

// chart is a server-rendered SVG line chart: one line per series, one
// point per day. Only numbers and escaped labels reach the template.
type chart struct {
	W, H, Left, Top, Right, Bottom int
	Series                         []series
	YTicks                         []tick
	XTicks                         []tick
	Max                            int64
	Empty                          bool
}

type series struct {
	Label  string
	Color  string
	Points string // "x,y x,y ..."
	Total  int64
}

type tick struct {
	Pos   int
	Label string
}

// palette holds colours told apart by colour-blind people (after
// Okabe-Ito) that each keep at least 3:1 contrast on white, so every line
// stays visible on a phone in sunlight and in grey-scale print.
var palette = []string{"#0072B2", "#D55E00", "#007A5E", "#B3589A", "#000000", "#8C510A", "#5E3C99", "#4D4D4D"}

const maxSeries = 8

// buildChart turns a trend table (a "day" column, a series column and a
// count in the last column) into a chart over [since, until).
func buildChart(t storage.Table, seriesCol string, since, until time.Time, label func(string) string) chart {
	// A narrow canvas with large type: the SVG scales to the screen, so on
	// a 390 px phone its 15-unit labels are still about 10 px tall.
	c := chart{W: 480, H: 240, Left: 44, Top: 10, Right: 10, Bottom: 34}
	dayIdx, serIdx := colIndex(t.Columns, "day"), colIndex(t.Columns, seriesCol)
	if dayIdx < 0 || len(t.Columns) == 0 {
		c.Empty = true
		return c
	}
	cntIdx := len(t.Columns) - 1
	start := since.UTC().Truncate(24 * time.Hour)
	days := int(until.Sub(start).Hours()/24) + 1
	if days < 2 {
		days = 2
	}
	if days > 400 {
		days = 400
	}
	counts := map[string][]int64{}
	totals := map[string]int64{}
	for _, row := range t.Rows {
		if len(row) <= cntIdx || len(row) <= dayIdx {
			continue
		}
		d, err := parseDay(row[dayIdx])
		if err != nil {
			continue
		}
		i := int(d.Sub(start).Hours() / 24)
		if i < 0 || i >= days {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(row[cntIdx]), 10, 64)
		if err != nil {
			continue
		}
		key := ""
		if serIdx >= 0 && serIdx < len(row) {
			key = row[serIdx]
		}
		if counts[key] == nil {
			counts[key] = make([]int64, days)
		}
		counts[key][i] += n
		totals[key] += n
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if totals[keys[i]] != totals[keys[j]] {
			return totals[keys[i]] > totals[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > maxSeries {
		other := make([]int64, days)
		for _, k := range keys[maxSeries-1:] {
			for i, v := range counts[k] {
				other[i] += v
			}
			totals["…"] += totals[k]
		}
		keys = append(keys[:maxSeries-1], "…")
		counts["…"] = other
	}
	for _, k := range keys {
		for _, v := range counts[k] {
			if v > c.Max {
				c.Max = v
			}
		}
	}
	if len(keys) == 0 {
		c.Empty = true
	}
	if c.Max < 1 {
		c.Max = 1
	}
	plotW, plotH := c.W-c.Left-c.Right, c.H-c.Top-c.Bottom
	x := func(i int) int { return c.Left + i*plotW/(days-1) }
	y := func(v int64) int { return c.Top + plotH - int(v*int64(plotH)/c.Max) }
	for i, k := range keys {
		var pts strings.Builder
		for d, v := range counts[k] {
			fmt.Fprintf(&pts, "%d,%d ", x(d), y(v))
		}
		name := k
		if k != "…" {
			name = label(k)
		}
		c.Series = append(c.Series, series{Label: name, Color: palette[i%len(palette)], Points: strings.TrimSpace(pts.String()), Total: totals[k]})
	}
	for _, v := range []int64{0, c.Max / 2, c.Max} {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: strconv.FormatInt(v, 10)})
	}
	step := (days - 1) / 4
	if step < 1 {
		step = 1
	}
	for i := 0; i < days; i += step {
		c.XTicks = append(c.XTicks, tick{Pos: x(i), Label: start.AddDate(0, 0, i).Format("01-02")})
	}
	return c
}

func colIndex(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

// parseDay reads the day column, whatever precision the backend gives.
func parseDay(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", time.RFC3339, "2006-01-02T15:04:05"} {
		if len(s) >= len(layout) || layout == time.RFC3339 {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Truncate(24 * time.Hour), nil
			}
		}
	}
	if len(s) >= 10 {
		if t, err := time.Parse("2006-01-02", s[:10]); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("web: bad day %q", s)
}

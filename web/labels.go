package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/veille-project/veille/storage"
)

// labelLine is one reviewed item in the corpus schema (shared/corpus).
type labelLine struct {
	ID      string  `json:"id"`
	Lang    string  `json:"lang"`
	Kind    string  `json:"kind"`
	Mission string  `json:"mission"`
	Source  string  `json:"source"`
	Text    string  `json:"text"`
	Labels  []label `json:"labels"`
}

type label struct {
	Narrative string   `json:"narrative"`
	Stance    string   `json:"stance"`
	Evidence  []string `json:"evidence"`
}

const maxLabelRows = 200_000

// writeLabels writes, as JSONL in the corpus schema, every item matching f
// whose flags have all been decided. Confirmed flags and flags that need a
// response become labels; an item whose flags were all false positives gets
// "labels": []. Items with a flag still undecided are left out: their label
// set is not known yet.
func (a *app) writeLabels(ctx context.Context, f storage.Filter, w io.Writer) error {
	type entry struct {
		flags   []storage.QueueRow
		pending bool
	}
	byItem := map[string]*entry{}
	var order []string
	const page = 1000
	for off := 0; off < maxLabelRows; off += page {
		rows, err := a.store.Queue(ctx, storage.QueueQuery{Filter: f, Limit: page, Offset: off})
		if err != nil {
			return fmt.Errorf("web: labels: queue at %d: %w", off, err)
		}
		for _, r := range rows {
			e := byItem[r.Flag.ItemID]
			if e == nil {
				e = &entry{}
				byItem[r.Flag.ItemID] = e
				order = append(order, r.Flag.ItemID)
			}
			e.flags = append(e.flags, r)
			if r.Decision == "" {
				e.pending = true
			}
		}
		if len(rows) < page {
			break
		}
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, id := range order {
		e := byItem[id]
		if e.pending {
			continue
		}
		d, err := a.store.Item(ctx, id)
		if err != nil {
			return fmt.Errorf("web: labels: item %s: %w", id, err)
		}
		it := d.Item
		indexed := it.IndexedText() // the text evidence offsets index
		line := labelLine{ID: it.ID, Lang: it.Lang, Kind: it.Kind, Mission: it.Mission, Source: it.Source, Text: indexed, Labels: []label{}}
		for _, r := range e.flags {
			if r.Decision != "confirm" && r.Decision != "needs_response" {
				continue
			}
			l := label{Narrative: r.Flag.Narrative, Stance: r.Flag.Stance, Evidence: []string{}}
			for _, ev := range r.Flag.Evidence {
				s := ev.Text
				if s == "" && ev.Start >= 0 && ev.End <= len(indexed) && ev.Start < ev.End {
					s = indexed[ev.Start:ev.End]
				}
				if s != "" {
					l.Evidence = append(l.Evidence, s)
				}
			}
			line.Labels = append(line.Labels, l)
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("web: labels: write %s: %w", id, err)
		}
	}
	return bw.Flush()
}

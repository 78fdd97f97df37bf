package web

import (
	"html/template"
	"sort"
	"strings"
	"unicode/utf8"
)

// span is an evidence span to highlight: byte offsets into the text and the
// narrative it carries.
type span struct {
	Start, End int
	Label      string
}

// highlight returns text as HTML with each span wrapped in <mark>. Every
// piece of text is escaped; only the <mark> tags are written by us. Spans
// that fall outside the text or cut a UTF-8 character are dropped;
// overlapping spans are split at their edges so marks never nest.
func highlight(text string, spans []span) template.HTML {
	var ok []span
	for _, s := range spans {
		if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
			continue
		}
		if !boundary(text, s.Start) || !boundary(text, s.End) {
			continue
		}
		ok = append(ok, s)
	}
	edges := map[int]bool{0: true, len(text): true}
	for _, s := range ok {
		edges[s.Start] = true
		edges[s.End] = true
	}
	cuts := make([]int, 0, len(edges))
	for e := range edges {
		cuts = append(cuts, e)
	}
	sort.Ints(cuts)
	var b strings.Builder
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		var labels []string
		for _, s := range ok {
			if s.Start <= from && to <= s.End && !contains(labels, s.Label) {
				labels = append(labels, s.Label)
			}
		}
		piece := template.HTMLEscapeString(text[from:to])
		if len(labels) == 0 {
			b.WriteString(piece)
			continue
		}
		b.WriteString(`<mark title="`)
		b.WriteString(template.HTMLEscapeString(strings.Join(labels, ", ")))
		b.WriteString(`">`)
		b.WriteString(piece)
		b.WriteString(`</mark>`)
	}
	return template.HTML(b.String())
}

func boundary(text string, i int) bool {
	return i == len(text) || utf8.RuneStart(text[i])
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// splitSpans cuts spans over a title, a newline and a body (the body
// starting at byte off) into title spans and body spans with body offsets.
// off 0 means there is no title: every span is the body's.
func splitSpans(spans []span, off int) (title, body []span) {
	if off == 0 {
		return nil, spans
	}
	for _, s := range spans {
		if s.Start < off-1 {
			title = append(title, span{Start: s.Start, End: min(s.End, off-1), Label: s.Label})
		}
		if s.End > off {
			body = append(body, span{Start: max(s.Start, off) - off, End: s.End - off, Label: s.Label})
		}
	}
	return title, body
}

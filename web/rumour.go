package web

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rumourText is a rumour as pasted into the check form, made plain for the
// classifier: markup removed, entities decoded, runs of spaces and single
// line breaks (a forward wrapped mid-sentence) made one space, blank lines
// kept as one line break, the ends trimmed. Every byte of Plain maps back
// to the bytes of the pasted text that produced it.
type rumourText struct {
	Plain      string
	start, end []int // per Plain byte: the pasted bytes it came from
}

// blockTags end a line of text where they stand.
var blockTags = map[string]bool{"p": true, "br": true, "div": true, "li": true, "tr": true, "h1": true, "h2": true, "h3": true, "h4": true, "blockquote": true}

func plainRumour(in string) *rumourText {
	t := &rumourText{}
	var b strings.Builder
	pendingSpace, pendingBreak := false, false
	spaceAt := 0
	emit := func(s string, from, to int) {
		if b.Len() > 0 && (pendingSpace || pendingBreak) {
			sep := " "
			if pendingBreak {
				sep = "\n"
			}
			b.WriteString(sep)
			t.start = append(t.start, spaceAt)
			t.end = append(t.end, spaceAt+1)
		}
		pendingSpace, pendingBreak = false, false
		for i := 0; i < len(s); i++ {
			t.start = append(t.start, from)
			t.end = append(t.end, to)
		}
		b.WriteString(s)
	}
	gap := func(at int, hard bool) {
		if !pendingSpace && !pendingBreak {
			spaceAt = at
		}
		if hard {
			pendingBreak = true
		} else {
			pendingSpace = true
		}
	}
	newlines := 0
	for i := 0; i < len(in); {
		c := in[i]
		if c == '<' {
			if j := strings.IndexByte(in[i:], '>'); j > 0 && j < 1000 {
				name := strings.ToLower(strings.Trim(strings.Fields(in[i+1:i+j] + " ")[0], "/"))
				if name != "" && (unicode.IsLetter(rune(name[0])) || name[0] == '!') {
					gap(i, blockTags[name])
					i += j + 1
					continue
				}
			}
		}
		if c == '&' {
			if j := strings.IndexByte(in[i:], ';'); j > 1 && j < 12 {
				if dec := html.UnescapeString(in[i : i+j+1]); dec != in[i:i+j+1] {
					if strings.TrimSpace(dec) == "" {
						gap(i, false)
					} else {
						emit(dec, i, i+j+1)
					}
					i += j + 1
					continue
				}
			}
		}
		r, n := utf8.DecodeRuneInString(in[i:])
		if unicode.IsSpace(r) {
			if r == '\n' {
				newlines++
			}
			gap(i, newlines >= 2)
			i += n
			continue
		}
		newlines = 0
		emit(in[i:i+n], i, i+n)
		i += n
	}
	t.Plain = b.String()
	return t
}

// Span maps the Plain byte range [s, e) back to the pasted text.
func (t *rumourText) Span(s, e int) (int, int) {
	if s < 0 || e > len(t.Plain) || s >= e {
		return 0, 0
	}
	return t.start[s], t.end[e-1]
}

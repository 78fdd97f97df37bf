// Package transcript builds the classifier Doc of a radio transcript from
// its timed cues: the cue texts joined by newlines, each cue with the byte
// offset of its text. The cues themselves come from the one transcript
// parser, pipeline/parse, which ingest and evaluation share.
package transcript

import (
	"strings"

	"github.com/veille-project/veille/classifiers"
)

// "\n" and each cue's Offset is where its text starts in Text.
func Doc(id, lang string, cues []classifiers.Cue) classifiers.Doc {
	var b strings.Builder
	out := make([]classifiers.Cue, len(cues))
	for i, c := range cues {
		if i > 0 {
			b.WriteByte('\n')
		}
		c.Offset = b.Len()
		b.WriteString(c.Text)
		out[i] = c
	}
	return classifiers.Doc{ID: id, Text: b.String(), Lang: lang, Cues: out}
}

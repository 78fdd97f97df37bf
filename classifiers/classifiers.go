// Package classifiers defines what a narrative classifier takes and returns:
// a Doc (text, language hint, optional transcript cues) in, Flags out, each
// flag naming a narrative id from the catalog, a stance and the evidence spans
// that carry it. Implementations live in subpackages (match: the compiled
// catalog matcher; catalog: the narrative catalog itself).
package classifiers

import (
	"context"

	"github.com/veille-project/veille/domain"
)

// Stances a text can take towards a narrative.
const (
	StanceAssert = "assert" // the text puts the claim forward or spreads it
	StanceReport = "report" // the text relays that others make the claim
	StanceDebunk = "debunk" // the text refutes or corrects the claim
)

// Cue is one timed line of a transcript (the domain's Cue). Start and End
// are offsets from the start of the programme in milliseconds; Offset is
// the byte offset of the cue's text inside Doc.Text.
type Cue = domain.Cue

// Doc is the input to a classifier.
type Doc struct {
	ID   string
	Text string
	Lang string // a hint; the classifier identifies the language itself
	Cues []Cue  // set for transcripts; Text is then the cues joined by "\n"
}

// Evidence is one span of Doc.Text that carries a flag. Start and End are
// byte offsets into the UTF-8 text. For transcripts, CueStart and CueEnd are
// the times (ms) of the cue or cues the span lies in.
type Evidence struct {
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
	Rule     string `json:"rule,omitempty"`
	CueStart int64  `json:"cue_start_ms,omitempty"`
	CueEnd   int64  `json:"cue_end_ms,omitempty"`
}

// Flag says that a text carries a narrative.
type Flag struct {
	Narrative string     `json:"narrative"`
	Stance    string     `json:"stance"`
	Score     float64    `json:"score"`
	Evidence  []Evidence `json:"evidence"`
	Entities  []string   `json:"entities,omitempty"`
}

// Result is what a classifier says of one Doc.
type Result struct {
	Lang  string `json:"lang"`
	Flags []Flag `json:"flags"`
}

// Classifier tags a text with the known narratives it carries. It must be
// safe for concurrent use.
type Classifier interface {
	Classify(ctx context.Context, doc Doc) (Result, error)
	// Version names the classifier and its catalog, stored with each flag.
	Version() string
}

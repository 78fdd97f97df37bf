// Package brief renders Veille's weekly disinformation brief: one
// self-contained HTML file (inline CSS and SVG, no script, readable on a
// phone, printable on A4) in French or English, either for the mission's
// own staff or, once scrubbed by ForPartner, for host-country
// counterparts. It renders the Brief it is given; it reads no storage.
package brief

import (
	"errors"
	"time"
)

// Audience is who a brief is written for.
type Audience string

// Audiences.
const (
	// Internal briefs show everything the Brief holds.
	Internal Audience = "internal"
	// Partner briefs are for host-country counterparts; only ForPartner
	// makes them (Render refuses one that is not scrubbed).
	Partner Audience = "partner"
)

// Languages a brief's own words are written in.
var Languages = []string{"en", "fr"}

// Counts ForPartner hides in a partner brief.
const (
	// Suppressed stands for a count from 1 to MinCount-1; it is shown as
	// "< MinCount".
	Suppressed = -1
	// Withheld stands for a count of at least MinCount hidden so that a
	// Suppressed count of the same total cannot be worked out by
	// subtraction; it is shown as "≥ MinCount".
	Withheld = -2
)

// hidden reports whether n is a count ForPartner hid.
func hidden(n int) bool { return n == Suppressed || n == Withheld }

// Sentinel errors.
var (
	// ErrInvalid marks a brief that cannot be rendered as given (unknown
	// language or audience).
	ErrInvalid = errors.New("brief: invalid")
	// ErrNotForPartner marks a partner brief that still holds something
	// ForPartner removes.
	ErrNotForPartner = errors.New("brief: not scrubbed for partners")
)

// Brief is everything one brief shows. Counts are exact in an internal
// brief; in a partner brief they may be Suppressed or Withheld.
type Brief struct {
	ID    string
	Title string // in Lang; "" for the default title
	// Mission is the mission the brief covers, "" for all missions.
	Mission  string
	Lang     string // language of the brief's own words: "fr" or "en"
	Audience Audience
	// From and To bound the period, To excluded (a week is Monday 00:00 to
	// the next Monday 00:00); PrevFrom and PrevTo the period compared with.
	// Dates are shown in the location of these times.
	From, To, PrevFrom, PrevTo time.Time
	Generated                  time.Time
	ModelVersion               string
	CatalogVersion             string

	Headline Headline
	// Narratives are ranked by Flags, most first.
	Narratives []NarrativeRow
	Emerging   []EmergingRow
	Alerts     []AlertRow
	// Changes says, one line each, what changed in the catalog or the
	// model during the period.
	Changes []string
	// Appendix lists every number the brief shows with the command that
	// reproduces it.
	Appendix []Figure

	// SensitiveSources names the sources whose names must not reach
	// partners (a community radio whose staff could be targeted, a
	// confidential feed). Internal briefs show them.
	SensitiveSources map[string]bool
	// MinCount is set by ForPartner: counts below it are Suppressed and
	// narratives below it are folded into one "other narratives" row.
	MinCount int
}

// Headline is the brief's summary figures for the period, each with its
// value for the previous period.
type Headline struct {
	Flags, PrevFlags int
	// Items counts the items with at least one flag.
	Items, PrevItems int
	// Sources and Languages count the distinct sources and languages of
	// those items.
	Sources, PrevSources     int
	Languages, PrevLanguages int
	// Reviewed is the share (0..1) of the period's flags that a reviewer
	// decided on.
	Reviewed, PrevReviewed float64
	// Precision is the share (0..1) of reviewed flags not judged false
	// positives (confirm or needs_response); nil when none was reviewed.
	Precision, PrevPrecision *float64
}

// NarrativeRow is one catalogued narrative's figures for the period.
type NarrativeRow struct {
	ID   string // catalog id
	Name string // catalog title in the brief's language
	// Flags and PrevFlags count the narrative's flags in the period and in
	// the previous period.
	Flags, PrevFlags int
	// Daily counts flags per day of the period, Daily[0] being From's day.
	Daily   []int
	Stances Stances
	// Sources lists the sources that carried the narrative most, most
	// first; Langs the language codes it was seen in.
	Sources []string
	Langs   []string
	// FirstSeen is the narrative's first flag ever; the narrative is new
	// when that falls in the period.
	FirstSeen time.Time
	// Rising is set when the narrative rose above its own baseline.
	Rising  bool
	Notable []NotableItem
	// ResponseLines are the catalog's response lines in the brief's
	// language.
	ResponseLines []string
	// Other marks the row ForPartner makes of the narratives it folds.
	Other bool
}

// Change is the relative change of Flags over PrevFlags (0.25 for +25 %);
// ok is false when it has no meaning (no previous flags, or a count is
// hidden).
func (r NarrativeRow) Change() (change float64, ok bool) {
	return relChange(r.Flags, r.PrevFlags)
}

// isNew reports whether the narrative was first seen in [from, to).
func (r NarrativeRow) isNew(from, to time.Time) bool {
	return !r.FirstSeen.IsZero() && !r.FirstSeen.Before(from) && r.FirstSeen.Before(to)
}

// Stances splits a narrative's flags by the stance of the text
// (classifiers.StanceAssert, StanceReport, StanceDebunk).
type Stances struct {
	Spreading int // the text puts the claim forward
	Reporting int // the text relays that others make the claim
	Debunking int // the text refutes the claim
}

// Decisions a reviewer takes on a flag (domain.Review.Decision).
const (
	DecisionConfirm       = "confirm"
	DecisionFalsePositive = "false_positive"
	DecisionNeedsResponse = "needs_response"
)

// NotableItem is one item quoted under a narrative.
type NotableItem struct {
	ItemID    string
	Source    string
	Lang      string
	Title     string
	URL       string
	Published time.Time
	// Text is the text Evidence offsets index (domain.Item.IndexedText).
	// Internal only.
	Text     string
	Evidence []Span
	// Decision is the latest review of the flag: DecisionConfirm,
	// DecisionFalsePositive, DecisionNeedsResponse, or "" when none.
	Decision string
	Author   string // hashed author; internal only
	Note     string // the reviewer's note; internal only
}

// Span is an evidence span: byte offsets [Start, End) into the item's
// Text, and the words they cover.
type Span struct {
	Start, End int
	Text       string
}

// EmergingRow is a group of similar unflagged items that no catalogued
// narrative covers.
type EmergingRow struct {
	Label   string
	Terms   []string
	Items   int
	Sources int
}

// AlertRow is one early-warning alert that fired in the period.
type AlertRow struct {
	Fired     time.Time
	Rule      string // rule name and parameters; internal only
	Narrative string // narrative id
	Summary   string // internal only
}

// Figure is one number the brief shows, with the command that reproduces
// it.
type Figure struct {
	Label string // in the brief's language
	// Narrative is the id of the narrative the figure is about, "" for a
	// figure of the whole brief.
	Narrative string
	// Value is a count, or a share in 0..1 when Share is set.
	Value float64
	Share bool
	// Query is the `veille query …` command that gives Value.
	Query string
}

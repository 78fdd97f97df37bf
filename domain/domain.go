// Package domain holds the types every part of Veille speaks of: an Item
// (a feed entry or a radio transcript) with its Cues, a Flag (a narrative
// found in an item) with its Evidence, and a Review (a person's decision on
// a flag). It imports nothing of Veille, so ingest, the bus, the
// classifiers, storage and the web app all share it without depending on
// one another.
package domain

import (
	"errors"
	"time"
)

// Cue is one timed line of a radio transcript.
type Cue struct {
	Start   int64  `json:"start_ms"`
	End     int64  `json:"end_ms"`
	Speaker string `json:"speaker,omitempty"`
	Offset  int    `json:"offset"`
	Text    string `json:"text"`
}

// Item is one ingested text: a feed entry or a radio transcript.
type Item struct {
	ID          string `json:"id"`           // stable: hash of source + link/guid
	ContentHash string `json:"content_hash"` // hash of the normalised text
	Source      string `json:"source"`
	Kind        string `json:"kind"` // see the Kind constants
	URL         string `json:"url"`
	Title       string `json:"title"`
	Text        string `json:"text"`           // plain text, what is classified
	HTML        string `json:"html,omitempty"` // sanitised original, for display
	Lang        string `json:"lang"`
	Mission     string `json:"mission"`
	Station     string `json:"station,omitempty"`
	// Author is a keyed hash of who posted or sent the text (a channel
	// post's signature, a chat message's sender, a tipline user), never
	// the name, number or id itself; "" when the source names no one.
	Author string `json:"author,omitempty"`
	// Meta holds what a source says of an item beyond its text: a post's
	// links, views and forwarded-from, an import's file and line.
	Meta      map[string]string `json:"meta,omitempty"`
	Cues      []Cue             `json:"cues,omitempty"`
	Published time.Time         `json:"published"`
	Fetched   time.Time         `json:"fetched"`
}

// IndexedText is the text an item is classified on, and so the one its
// evidence offsets index: for an article with a title, the title, a
// newline and the text (the headline often carries the claim); for a
// transcript or an untitled item, the text. Classify, storage, pages, API
// and export all use this one definition.
func (it Item) IndexedText() string {
	if off := it.TextOffset(); off > 0 {
		return it.Title + "\n" + it.Text
	}
	return it.Text
}

// TextOffset is where Text starts inside IndexedText.
func (it Item) TextOffset() int {
	if it.Title != "" && it.Kind != "transcript" && len(it.Cues) == 0 {
		return len(it.Title) + 1
	}
	return 0
}

// Item kinds.
const (
	KindArticle    = "article"    // a feed entry
	KindTranscript = "transcript" // a radio transcript
	KindPost       = "post"       // a public channel's post (Telegram) or a social-media post from an export
	KindMessage    = "message"    // a message of a chat export (WhatsApp, Telegram chat)
	KindTip        = "tip"        // a rumour a person sent to the tipline
)

// Evidence is a span of an item's text that carries a flag.
type Evidence struct {
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
	CueStart int64  `json:"cue_start_ms,omitempty"`
	CueEnd   int64  `json:"cue_end_ms,omitempty"`
}

// Flag is one narrative found in one item. (ItemID, Narrative, Stance) is
// its key: storing it again replaces, never adds.
type Flag struct {
	ItemID            string     `json:"item_id"`
	Narrative         string     `json:"narrative"`
	Stance            string     `json:"stance"`
	Score             float64    `json:"score"`
	Evidence          []Evidence `json:"evidence"`
	Entities          []string   `json:"entities,omitempty"`
	ClassifierVersion string     `json:"classifier_version"`
	// Denormalised from the item so trend queries need no join.
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	Mission   string    `json:"mission"`
	Published time.Time `json:"published"`
}

// Review is one decision a reviewer took on a flag. Reviews are append-only:
// the latest per (item, narrative) is the current state.
type Review struct {
	ID        string `json:"id"`
	ItemID    string `json:"item_id"`
	Narrative string `json:"narrative"`
	// Stance names the flag decided on with Narrative ("" in reviews
	// stored before decisions were per flag).
	Stance   string    `json:"stance"`
	Decision string    `json:"decision"` // confirm | false_positive | needs_response
	Reviewer string    `json:"reviewer"`
	Note     string    `json:"note"`
	At       time.Time `json:"at"`
}

// Errors about sources, shared by the code that manages them and the web
// app that reports them, so that errors.Is holds across both.
var (
	ErrBadSource        = errors.New("source: invalid")
	ErrSourceExists     = errors.New("source: already exists")
	ErrNoSuchSource     = errors.New("source: no such source")
	ErrSourceConfigured = errors.New("source: configured in the configuration file")
)

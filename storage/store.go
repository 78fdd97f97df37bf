package storage

import (
	"context"
	"io"
	"time"
)

// Store is the whole storage API: the pipeline's writes, the reviewers'
// decisions, users and tokens, and the analysts' queries. Both backends
// implement it with the same SQL.
type Store interface {
	Writer
	// Migrate applies pending schema migrations; safe to call concurrently
	// from several processes and more than once.
	Migrate(ctx context.Context) error
	InsertReviews(ctx context.Context, reviews []Review) error

	// Item returns one item with its current flags and its review history.
	Item(ctx context.Context, id string) (ItemDetail, error)
	// Queue lists flags for review, newest first, with the latest decision.
	Queue(ctx context.Context, q QueueQuery) ([]QueueRow, error)
	// Counts returns how many distinct items and flags are stored.
	Counts(ctx context.Context) (Totals, error)

	Trends(ctx context.Context, q TrendQuery) (Table, error)
	Rising(ctx context.Context, q RisingQuery) ([]RisingRow, error)
	// Spread says where and when a narrative was seen since a time, in
	// the given missions (none: all).
	Spread(ctx context.Context, narrative string, since time.Time, missions ...string) (SpreadReport, error)
	Similar(ctx context.Context, q SimilarQuery) ([]SimilarRow, error)
	// Export writes the rows of a trend query as csv, jsonl or parquet.
	Export(ctx context.Context, q TrendQuery, format string, w io.Writer) error
	// Prune deletes raw text older than before, keeping flags and counts.
	Prune(ctx context.Context, before time.Time) (int64, error)

	// ReviewedItems returns the reviewed items with the current decision
	// on each flag, oldest decided first: the learning loop's data.
	ReviewedItems(ctx context.Context) ([]ReviewedItem, error)
	// Precision returns production precision per week, narrative and
	// language for decisions taken in [since, until).
	Precision(ctx context.Context, since, until time.Time) ([]PrecisionRow, error)
	// ItemsSince pages through the items published since a time, in id
	// order, for re-classification.
	ItemsSince(ctx context.Context, since time.Time, after string, limit int) ([]Item, error)
	// ReplaceFlags stores what a new classifier version found in each
	// item and retracts the unreviewed flags it no longer finds.
	ReplaceFlags(ctx context.Context, version string, batch []Reclassified) (ReplaceCounts, error)
	// FlagHistory returns the flags of an item later classifications
	// replaced or retracted.
	FlagHistory(ctx context.Context, itemID string) ([]HistoricFlag, error)

	// Briefs made for leadership and partners, with the HTML sent.
	PutBrief(ctx context.Context, b BriefRecord) error
	Briefs(ctx context.Context, limit int) ([]BriefRecord, error)
	Brief(ctx context.Context, id string) (BriefRecord, error)

	// Users and API tokens (tokens are stored hashed).
	PutUser(ctx context.Context, u User) error
	Users(ctx context.Context) ([]User, error)
	PutToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash string) (Token, error)

	// Backend names the backend and its server version, e.g. "chdb 26.5.1".
	Backend() string
	Close() error
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errNotFound{}

type errNotFound struct{}

func (errNotFound) Error() string { return "storage: not found" }

// Totals counts stored rows, each counted once whatever the replays.
type Totals struct {
	Items         int64            `json:"items"`
	Flags         int64            `json:"flags"`
	Reviews       int64            `json:"reviews"`
	ItemsBySource map[string]int64 `json:"items_by_source"`
	FlagsByNarr   map[string]int64 `json:"flags_by_narrative"`
}

// ItemDetail is an item with what was found in it and what reviewers said.
type ItemDetail struct {
	Item    Item     `json:"item"`
	Flags   []Flag   `json:"flags"`
	Reviews []Review `json:"reviews"`
}

// Filter narrows a query; empty fields match everything.
type Filter struct {
	Since, Until time.Time
	Narratives   []string
	Missions     []string
	Langs        []string
	Sources      []string
	Stances      []string
}

// QueueQuery selects flags for the review queue.
type QueueQuery struct {
	Filter
	Decision string // "" any, "none" not yet reviewed, or a decision
	Limit    int
	Offset   int
}

// QueueRow is a flag in the review queue with its item's headline fields and
// the latest review decision ("" when none).
type QueueRow struct {
	Flag      Flag      `json:"flag"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Decision  string    `json:"decision"`
	Reviewer  string    `json:"reviewer"`
	DecidedAt time.Time `json:"decided_at,omitzero"` // absent while undecided
}

// TrendQuery counts flags grouped by some of: narrative, day, hour, mission,
// lang, source, stance.
type TrendQuery struct {
	Filter
	By []string
}

// Table is a query result: column names and rows of values as strings.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// RisingQuery compares each narrative's count in the last Window (ending at
// Now) with its average per Window over the Baseline before it.
type RisingQuery struct {
	Filter
	Now      time.Time
	Window   time.Duration
	Baseline time.Duration
	Limit    int
}

// RisingRow is one narrative's recent count against its baseline.
type RisingRow struct {
	Narrative string  `json:"narrative"`
	Recent    int64   `json:"recent"`
	Baseline  float64 `json:"baseline"` // average count per window before
	Factor    float64 `json:"factor"`   // (recent+1)/(baseline+1)
}

// SpreadReport says where and when a narrative was seen.
type SpreadReport struct {
	Narrative string      `json:"narrative"`
	FirstSeen time.Time   `json:"first_seen"`
	LastSeen  time.Time   `json:"last_seen"`
	Total     int64       `json:"total"`
	Firsts    []SpreadRow `json:"firsts"` // per source and language, first appearance
}

// SpreadRow is the first and last appearance of a narrative in one source
// and language.
type SpreadRow struct {
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
}

// SimilarQuery finds stored items that carry the same narratives and share
// evidence terms with a text.
type SimilarQuery struct {
	Narratives []string
	Terms      []string
	Missions   []string // none: any mission
	Limit      int
}

// SimilarRow is a stored item similar to a query text.
type SimilarRow struct {
	ItemID    string    `json:"item_id"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	Published time.Time `json:"published"`
	Narrative string    `json:"narrative"`
	Shared    int       `json:"shared_terms"`
}

// Roles a user can hold.
const (
	RoleAdmin    = "admin"
	RoleReviewer = "reviewer"
	RoleRadio    = "radio"
	RoleAnalyst  = "analyst"
)

// User is a person or a service that uses the web app or the API.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Lang string `json:"lang"` // interface language: en or fr
	// ResponseLang is the language of the response lines a radio station
	// reads on air: any of en, fr, ar, sw, ln, sg ("" : the rumour's).
	ResponseLang string `json:"response_lang,omitempty"`
	// Mission is the station's own mission, the default for its checks.
	Mission  string    `json:"mission,omitempty"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
}

// Token is an API or session token, stored as the hex SHA-256 of its secret.
type Token struct {
	Hash    string    `json:"-"`
	ID      string    `json:"id"` // short public prefix, shown in lists
	User    string    `json:"user"`
	Revoked bool      `json:"revoked"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"` // zero: never
}

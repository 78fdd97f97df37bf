// Package alert owns Veille's early warning: rules that watch known
// narratives for surges (a count over a threshold in a window, or a rise
// over the narrative's own baseline), the engine that evaluates them on a
// schedule with a cooldown so one surge makes one alert and at most an
// update, and the delivery of each alert to NATS, a chat webhook and email
// with retries whose outcome is recorded. Alert state and the alert log live
// in NATS key-value buckets so a restart neither re-alerts nor forgets. It
// also keeps the reviewers' decisions on emerging groups (see
// classifiers/emerging) and reads the unflagged items those groups are made
// from.
package alert

import (
	"context"
	"errors"
	"time"

	"github.com/veille-project/veille/pipeline/fetch"
	"github.com/veille-project/veille/storage"
)

// Buckets holding the engine's state and the alert log.
const (
	// BucketState keeps, per rule and narrative, the last alert sent.
	BucketState = "veille_alert_state"
	// BucketLog keeps every alert with its delivery status, for LogMaxAge.
	BucketLog = "veille_alerts"
	// BucketDismissed keeps emerging groups reviewers dismissed.
	BucketDismissed = "veille_emerging_dismissed"
	// LogMaxAge is how long alerts stay listed.
	LogMaxAge = 30 * 24 * time.Hour
)

// Alert kinds.
const (
	KindNew    = "new"    // a surge starts (or lasts past the cooldown)
	KindUpdate = "update" // the same surge grew by the rule's margin
	// KindPrecision: reviewers confirmed too few of a narrative's flags.
	KindPrecision = "precision"
)

// Delivery channels and statuses.
const (
	ChannelNATS    = "nats"
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"

	StatusPending = "pending" // not tried yet, or being retried
	StatusSent    = "sent"
	StatusFailed  = "failed" // every attempt failed; LastError says why
)

// Sentinel errors.
var (
	// ErrPrivateAddress is returned when a webhook URL resolves to an
	// address that is not public and not allow-listed (the fetcher's
	// sentinel: one guard, one error).
	ErrPrivateAddress = fetch.ErrPrivateAddress
	// ErrRule marks a rule that cannot be evaluated as written.
	ErrRule = errors.New("alert: bad rule")
	// ErrNotFound is returned for an unknown alert id.
	ErrNotFound = errors.New("alert: not found")
)

// Querier is what the engine needs of the store.
type Querier interface {
	Rising(ctx context.Context, q storage.RisingQuery) ([]storage.RisingRow, error)
	Queue(ctx context.Context, q storage.QueueQuery) ([]storage.QueueRow, error)
	Precision(ctx context.Context, since, until time.Time) ([]storage.PrecisionRow, error)
}

// Record is one alert: what surged and how much, the items that show it,
// what was sent and how each delivery went. It is the JSON published on
// veille.alerts and kept in the alert log.
type Record struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // new | update | precision
	// Of is, for an update, the id of the alert that opened the surge.
	Of        string    `json:"of,omitempty"`
	Rule      string    `json:"rule"`
	Narrative string    `json:"narrative"`
	Title     string    `json:"title"`
	Lang      string    `json:"lang"` // language of Subject and Text
	At        time.Time `json:"at"`   // when the rule was evaluated
	// Since is when the surge began: the first flag of the window in which
	// it was first seen.
	Since time.Time `json:"since"`
	// Window is the rule's window in seconds; Recent the flags in it.
	Window   int64   `json:"window_s"`
	Recent   int64   `json:"recent"`
	Baseline float64 `json:"baseline"` // average flags per window before
	Factor   float64 `json:"factor"`   // (recent+1)/(baseline+1)
	// Previous is the count the last alert of this surge reported (updates).
	Previous  int64    `json:"previous,omitempty"`
	Threshold int      `json:"threshold,omitempty"`
	MinFactor float64  `json:"min_factor,omitempty"`
	Missions  []string `json:"missions,omitempty"`
	Langs     []string `json:"langs,omitempty"`
	Sources   []string `json:"sources,omitempty"`
	// Items are the most telling items of the window, highest score first.
	// Precision alerts: of Reviewed flags decided in the window, Confirmed
	// were confirmed; Precision is their share, MinPrecision the rule's.
	Reviewed     int64      `json:"reviewed,omitempty"`
	Confirmed    int64      `json:"confirmed,omitempty"`
	Precision    float64    `json:"precision,omitempty"`
	MinPrecision float64    `json:"min_precision,omitempty"`
	Items        []Item     `json:"items"`
	ReviewURL    string     `json:"review_url"`
	Subject      string     `json:"subject"`
	Text         string     `json:"text"`
	Deliveries   []Delivery `json:"deliveries"`
}

// Item is one flagged item quoted in an alert.
type Item struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	Mission   string    `json:"mission"`
	Published time.Time `json:"published"`
	Stance    string    `json:"stance"`
	Score     float64   `json:"score"`
	Evidence  []string  `json:"evidence"`
}

// Delivery is the outcome of one channel for one alert.
type Delivery struct {
	Channel string `json:"channel"`
	// Target names where it went without secrets: the subject, the webhook
	// host, the recipients.
	Target    string    `json:"target"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitempty"` // last attempt
}

// Done reports whether no delivery of r is still pending.
func (r *Record) Done() bool {
	for _, d := range r.Deliveries {
		if d.Status == StatusPending {
			return false
		}
	}
	return true
}

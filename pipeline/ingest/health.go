package ingest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/pipeline/parse"
)

// SourceHealth is one source's polling record, JSON-serialisable so the
// runner can keep it in a KV bucket.
type SourceHealth struct {
	Source              string    `json:"source"`
	Kind                string    `json:"kind"`
	URL                 string    `json:"url"`
	Format              string    `json:"format,omitempty"`
	LastPoll            time.Time `json:"last_poll,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at,omitzero"`
	LastStatus          int       `json:"last_status,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	ItemsLastDay        int       `json:"items_last_day"`
	ItemsTotal          int64     `json:"items_total"`
	Duplicates          int64     `json:"duplicates"`
	NextPoll            time.Time `json:"next_poll,omitzero"`
	// Deferred is how many new items the last poll held back by the
	// per-source caps; Capped says so in words.
	Deferred int    `json:"deferred,omitempty"`
	Capped   string `json:"capped,omitempty"`
	// Warnings are what the last parse of the feed had to repair or guess
	// (a charset label the bytes contradict, entities replaced...).
	Warnings   []string `json:"warnings,omitempty"`
	RetryAfter string   `json:"retry_after,omitempty"`
}

// State is "ok", "failing", "paused-by-server" (a Retry-After is pending)
// or "never polled".
func (h SourceHealth) State() string {
	switch {
	case h.LastPoll.IsZero():
		return "never polled"
	case h.ConsecutiveFailures == 0:
		return "ok"
	case h.RetryAfter != "":
		return "backing off"
	}
	return "failing"
}

// FormatHealth prints a table of source health for `veille sources`.
func FormatHealth(w io.Writer, hs []SourceHealth, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tSTATE\tLAST SUCCESS\tFAILS\tSTATUS\tITEMS/24H\tNEXT POLL\tLAST ERROR")
	for _, h := range hs {
		status := "-"
		if h.LastStatus != 0 {
			status = fmt.Sprint(h.LastStatus)
		}
		kind := h.Kind
		if kind == "" {
			kind = "rss"
		}
		errText := h.LastError
		if errText != "" && !h.LastErrorAt.IsZero() {
			errText = ago(now, h.LastErrorAt) + ": " + errText
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n",
			h.Source, kind, h.State(), ago(now, h.LastSuccess), h.ConsecutiveFailures, status,
			h.ItemsLastDay, until(now, h.NextPoll), oneLine(errText, 100))
	}
	return tw.Flush()
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return roughDuration(now.Sub(t)) + " ago"
}

func until(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !t.After(now) {
		return "due"
	}
	return "in " + roughDuration(t.Sub(now))
}

func roughDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return parse.Clip(s, n)
}

package brief

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/pipeline/config"
)

// weekdays by their names in the configuration.
var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// CheckSchedules refuses a schedule without a name, with a name used twice,
// an unknown weekday, hour, language or audience.
func CheckSchedules(ss []config.BriefSchedule) error {
	seen := map[string]bool{}
	for i, s := range ss {
		switch {
		case s.Name == "":
			return fmt.Errorf("%w: briefs.schedules[%d]: no name", ErrInvalid, i)
		case seen[s.Name]:
			return fmt.Errorf("%w: briefs.schedules[%d]: name %q used twice", ErrInvalid, i, s.Name)
		case s.Hour < 0 || s.Hour > 23:
			return fmt.Errorf("%w: brief schedule %q: hour %d: want 0 to 23 (UTC)", ErrInvalid, s.Name, s.Hour)
		case s.Period < 0:
			return fmt.Errorf("%w: brief schedule %q: negative period", ErrInvalid, s.Name)
		}
		if _, ok := weekdays[strings.ToLower(s.Weekday)]; s.Weekday != "" && !ok {
			return fmt.Errorf("%w: brief schedule %q: weekday %q", ErrInvalid, s.Name, s.Weekday)
		}
		if s.Lang != "" && s.Lang != "en" && s.Lang != "fr" {
			return fmt.Errorf("%w: brief schedule %q: lang %q: want en or fr", ErrInvalid, s.Name, s.Lang)
		}
		if a := Audience(s.Audience); a != "" && a != Internal && a != Partner {
			return fmt.Errorf("%w: brief schedule %q: audience %q: want internal or partner", ErrInvalid, s.Name, s.Audience)
		}
		seen[s.Name] = true
	}
	return nil
}

// Due is the newest time at or before now when schedule s makes a brief:
// its weekday (default monday) at its hour, UTC.
func Due(s config.BriefSchedule, now time.Time) time.Time {
	wd, ok := weekdays[strings.ToLower(s.Weekday)]
	if !ok {
		wd = time.Monday
	}
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), s.Hour, 0, 0, 0, time.UTC)
	for day.Weekday() != wd || day.After(now) {
		day = day.AddDate(0, 0, -1)
		day = time.Date(day.Year(), day.Month(), day.Day(), s.Hour, 0, 0, 0, time.UTC)
	}
	return day
}

// Period is the span a schedule's brief covers, ending when it is due.
func Period(s config.BriefSchedule) time.Duration {
	if s.Period > 0 {
		return time.Duration(s.Period)
	}
	return 7 * 24 * time.Hour
}

// scheduleState is what the bucket keeps per schedule.
type scheduleState struct {
	Due   time.Time `json:"due"`   // the period's end last claimed
	State string    `json:"state"` // claimed | done
	At    time.Time `json:"at"`    // when it was claimed or done
}

// claimTimeout is how long a claim holds: a process that claimed a brief
// and died before making it leaves it to another after this.
const claimTimeout = 15 * time.Minute

// Scheduler makes each schedule's brief once per period, whatever the
// restarts and however many processes run it: each period is claimed in
// the bucket with a compare-and-set before it is made, and marked done
// after.
type Scheduler struct {
	KV        jetstream.KeyValue
	Schedules []config.BriefSchedule
	// Make computes, keeps and delivers one brief.
	Make func(ctx context.Context, s config.BriefSchedule, from, to time.Time) error
	Log  *slog.Logger
}

// Tick makes the briefs due at now and not yet made; it returns the names
// of the schedules it made a brief for.
func (sc *Scheduler) Tick(ctx context.Context, now time.Time) ([]string, error) {
	var made []string
	var errs []error
	for _, s := range sc.Schedules {
		due := Due(s, now)
		ok, err := sc.claim(ctx, s.Name, due, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := sc.Make(ctx, s, due.Add(-Period(s)), due); err != nil {
			errs = append(errs, fmt.Errorf("brief schedule %q: %w", s.Name, err))
			continue // the claim lapses: another tick retries after claimTimeout
		}
		if err := sc.put(ctx, s.Name, scheduleState{Due: due, State: "done", At: now}); err != nil {
			errs = append(errs, err)
		}
		made = append(made, s.Name)
	}
	return made, errors.Join(errs...)
}

// claim takes the period ending at due for schedule name, unless it is
// done or another process holds a fresh claim.
func (sc *Scheduler) claim(ctx context.Context, name string, due, now time.Time) (bool, error) {
	key := scheduleKey(name)
	e, err := sc.KV.Get(ctx, key)
	var rev uint64
	if err == nil {
		var st scheduleState
		if err := json.Unmarshal(e.Value(), &st); err != nil {
			return false, fmt.Errorf("brief schedule %q: state: %w", name, err)
		}
		if !st.Due.Before(due) && (st.State == "done" || now.Sub(st.At) < claimTimeout) {
			return false, nil
		}
		rev = e.Revision()
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, fmt.Errorf("brief schedule %q: state: %w", name, err)
	}
	b, _ := json.Marshal(scheduleState{Due: due, State: "claimed", At: now})
	if rev == 0 {
		_, err = sc.KV.Create(ctx, key, b)
	} else {
		_, err = sc.KV.Update(ctx, key, b, rev)
	}
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return false, nil // another process claimed it first
	}
	if err != nil {
		return false, fmt.Errorf("brief schedule %q: claim: %w", name, err)
	}
	return true, nil
}

func (sc *Scheduler) put(ctx context.Context, name string, st scheduleState) error {
	b, _ := json.Marshal(st)
	if _, err := sc.KV.Put(ctx, scheduleKey(name), b); err != nil {
		return fmt.Errorf("brief schedule %q: state: %w", name, err)
	}
	return nil
}

func scheduleKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Run ticks every minute until ctx ends; failures are logged and retried.
func (sc *Scheduler) Run(ctx context.Context) error {
	if sc.Log == nil {
		sc.Log = slog.Default()
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		made, err := sc.Tick(ctx, time.Now())
		for _, name := range made {
			sc.Log.Info("brief made on schedule", "schedule", name)
		}
		if err != nil && ctx.Err() == nil {
			sc.Log.Error("brief schedule", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

package brief_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/brief"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
)

func TestDue(t *testing.T) {
	s := config.BriefSchedule{Name: "w", Weekday: "monday", Hour: 6}
	for _, tc := range []struct{ now, want string }{
		{"2026-12-07T06:00:00Z", "2026-12-07T06:00:00Z"}, // a Monday, on the hour
		{"2026-12-07T05:59:00Z", "2026-11-30T06:00:00Z"},
		{"2026-12-10T12:00:00Z", "2026-12-07T06:00:00Z"},
		{"2026-12-13T23:00:00Z", "2026-12-07T06:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		if got := brief.Due(s, now).Format(time.RFC3339); got != tc.want {
			t.Errorf("Due at %s = %s, want %s", tc.now, got, tc.want)
		}
	}
	if err := brief.CheckSchedules([]config.BriefSchedule{{Name: "a", Weekday: "funday"}}); err == nil {
		t.Error("weekday funday accepted")
	}
	if err := brief.CheckSchedules([]config.BriefSchedule{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Error("two schedules named a accepted")
	}
}

// TestScheduleFiresOncePerPeriod: two schedulers (two processes) tick
// through two weeks, restarting on the way: each period's brief is made
// once, never twice; a failed one is made again once its claim lapses.
func TestScheduleFiresOncePerPeriod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := bus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	b, err := bus.Connect(ctx, srv.URL(), "schedule-test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	kv, err := b.JS.KeyValue(ctx, bus.KVBriefs)
	if err != nil {
		t.Fatal(err)
	}
	sched := []config.BriefSchedule{{Name: "weekly MONUSCO", Mission: "MONUSCO", Weekday: "monday", Hour: 6}}
	var mu sync.Mutex
	made := map[time.Time]int{}
	var fail atomic.Bool
	mk := func(_ context.Context, s config.BriefSchedule, from, to time.Time) error {
		if fail.Load() {
			return errors.New("store down")
		}
		if to.Sub(from) != 7*24*time.Hour {
			t.Errorf("brief from %s to %s: want a week", from, to)
		}
		mu.Lock()
		made[to]++
		mu.Unlock()
		return nil
	}
	newScheduler := func() *brief.Scheduler { return &brief.Scheduler{KV: kv, Schedules: sched, Make: mk} }
	a, c := newScheduler(), newScheduler()
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	for now := start; now.Before(start.Add(15 * 24 * time.Hour)); now = now.Add(30 * time.Minute) {
		if now.Equal(start.Add(5 * 24 * time.Hour)) {
			a = newScheduler() // a restart
		}
		var wg sync.WaitGroup
		for _, s := range []*brief.Scheduler{a, c} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Tick(ctx, now); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	mondays := []time.Time{time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)}
	for _, m := range mondays {
		if made[m] != 1 {
			t.Errorf("brief ending %s made %d times, want once", m, made[m])
		}
	}
	if len(made) != 3 { // the Monday before the start (due at once) and the two in the span
		t.Errorf("briefs made for %v", made)
	}

	// A failed brief is made again once its claim lapses, and only then.
	fail.Store(true)
	next := time.Date(2026, 12, 14, 6, 5, 0, 0, time.UTC)
	if _, err := c.Tick(ctx, next); err == nil {
		t.Fatal("a failed brief reported no error")
	}
	fail.Store(false)
	if got, _ := c.Tick(ctx, next.Add(time.Minute)); len(got) != 0 {
		t.Errorf("made again within the claim: %v", got)
	}
	if got, _ := c.Tick(ctx, next.Add(20*time.Minute)); len(got) != 1 {
		t.Errorf("not made again after the claim lapsed: %v", got)
	}
}

package tipline_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/tipline"
)

var hashKey = []byte("0123456789abcdef-e2e-test-key")

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// assertClean fails when the log holds any of the secrets or personal data.
func assertClean(t *testing.T, where, text string, forbidden ...string) {
	t.Helper()
	for _, f := range forbidden {
		if f != "" && strings.Contains(text, f) {
			t.Errorf("%s contains %q:\n%s", where, f, text)
		}
	}
}

// recorder is a Handler that records tips. It answers "Vérifié : <text>",
// fails on a text containing "panne" and panics on one containing "panique".
type recorder struct {
	mu    sync.Mutex
	tips  []tipline.Tip
	reply func(tipline.Tip) string // replaces the default answer when set
	block chan struct{}            // when set, each call waits for it to close
}

func (r *recorder) handle(ctx context.Context, tip tipline.Tip) (string, error) {
	r.mu.Lock()
	r.tips = append(r.tips, tip)
	r.mu.Unlock()
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	switch {
	case strings.Contains(tip.Text, "panne"):
		return "", context.DeadlineExceeded
	case strings.Contains(tip.Text, "panique"):
		panic("boom")
	case r.reply != nil:
		return r.reply(tip), nil
	}
	return "Vérifié : " + tip.Text, nil
}

func (r *recorder) Tips() []tipline.Tip {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tipline.Tip(nil), r.tips...)
}

// start runs a in the background; the returned stop cancels it, waits, and
// checks that Run returned nil.
func start(t *testing.T, a tipline.Adapter, h tipline.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s Run = %v, want nil", a.Name(), err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s Run did not return after cancel", a.Name())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 10 ms for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

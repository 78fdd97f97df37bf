package run

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/storage"
)

// Store consumes classified items and writes them to ClickHouse in batches.
// Messages are acknowledged only after their batch was committed; a failed
// insert is retried with backoff while the messages are kept in progress, so
// nothing acknowledged is lost and storage's stable keys mean nothing retried
// is doubled.
type Store struct {
	Bus       *bus.Bus
	Store     storage.Writer
	BatchSize int           // rows per insert (default 5000)
	BatchWait time.Duration // longest a message waits for its batch (default 500ms)
	Log       *slog.Logger
	// OnStored, if set, is called after each committed batch with its items
	// (benchmarks measure publish-to-queryable latency with it).
	OnStored func(items []storage.Item, at time.Time)
}

// Run works until ctx ends; the batch in hand is written or left unacked.
func (s *Store) Run(ctx context.Context) error {
	if s.BatchSize <= 0 {
		s.BatchSize = 5000
	}
	if s.BatchWait <= 0 {
		s.BatchWait = 500 * time.Millisecond
	}
	log := logger(s.Log, "store")
	cons, err := s.Bus.Consumer(ctx, bus.StreamClassified, bus.ConsumerStore)
	if err != nil {
		return err
	}
	// Two batching loops: one fills its batch while the other's insert runs.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); s.loop(ctx, log, cons) }()
	}
	wg.Wait()
	return nil
}

func (s *Store) loop(ctx context.Context, log *slog.Logger, cons jetstream.Consumer) {
	var (
		pending []jetstream.Msg
		items   []storage.Item
		flags   []storage.Flag
		first   time.Time
	)
	for {
		wait := s.BatchWait
		if len(pending) > 0 {
			wait = max(time.Until(first.Add(s.BatchWait)), 5*time.Millisecond)
		}
		if ctx.Err() == nil && len(pending) < s.BatchSize {
			msgs, err := fetchBatch(ctx, cons, min(s.BatchSize-len(pending), 1000), wait)
			if err != nil {
				log.Warn("fetch", "err", err)
				sleep(ctx, time.Second)
			}
			for _, m := range msgs {
				if len(pending) == 0 {
					first = time.Now()
				}
				var c bus.Classified
				if err := json.Unmarshal(m.Data(), &c); err != nil || c.Item.ID == "" {
					if err == nil {
						err = fmt.Errorf("item without id")
					}
					s.deadLetter(ctx, log, m, fmt.Errorf("decode classified: %w", err))
					continue
				}
				if n := bus.Deliveries(m); n > bus.MaxDeliver {
					s.deadLetter(ctx, log, m, fmt.Errorf("delivered %d times", n))
					continue
				} else if n > 1 {
					metrics.redelivered.WithLabelValues("store").Inc()
				}
				pending = append(pending, m)
				items = append(items, c.Item)
				flags = append(flags, c.Flags...)
			}
		}
		full := len(pending) >= s.BatchSize
		due := len(pending) > 0 && time.Since(first) >= s.BatchWait
		if full || due || (ctx.Err() != nil && len(pending) > 0) {
			done, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			err := s.flush(done, ctx, log, pending, items, flags)
			cancel()
			if err != nil {
				// Left unacknowledged: JetStream redelivers them.
				log.Error("batch not stored; left for redelivery", "messages", len(pending), "err", err)
			}
			pending, items, flags = nil, nil, nil
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// flush inserts one batch, retrying with backoff until it succeeds, stop is
// done (then the batch is left for redelivery) or ctx times out.
func (s *Store) flush(ctx, stop context.Context, log *slog.Logger, msgs []jetstream.Msg, items []storage.Item, flags []storage.Flag) error {
	start := time.Now()
	backoff := 200 * time.Millisecond
	lastProgress := time.Now()
	for attempt := 1; ; attempt++ {
		err := s.Store.InsertItems(ctx, items)
		if err == nil {
			err = s.Store.InsertFlags(ctx, flags)
		}
		if err == nil {
			break
		}
		metrics.insertErrors.Inc()
		log.Warn("insert failed; retrying", "attempt", attempt, "rows", len(items)+len(flags), "err", err, "backoff", backoff)
		if time.Since(lastProgress) > bus.AckWait/3 {
			for _, m := range msgs {
				_ = m.InProgress()
			}
			lastProgress = time.Now()
		}
		select {
		case <-stop.Done():
			return fmt.Errorf("stopped while retrying: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("gave up retrying: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
		if time.Since(lastProgress) > bus.AckWait/3 {
			for _, m := range msgs {
				_ = m.InProgress()
			}
			lastProgress = time.Now()
		}
	}
	if s.OnStored != nil {
		s.OnStored(items, time.Now())
	}
	for _, m := range msgs {
		_ = m.Ack()
	}
	metrics.processed.WithLabelValues("store").Add(float64(len(msgs)))
	metrics.stored.Add(float64(len(items)))
	metrics.latency.WithLabelValues("store").Observe(time.Since(start).Seconds())
	return nil
}

func (s *Store) deadLetter(ctx context.Context, log *slog.Logger, m jetstream.Msg, reason error) {
	metrics.failed.WithLabelValues("store").Inc()
	if err := s.Bus.DeadLetter(ctx, "store", m, reason); err != nil {
		log.Error("dead-letter", "err", err)
		return
	}
	metrics.deadLettered.WithLabelValues("store").Inc()
	log.Warn("moved to dead-letter subject", "reason", reason)
}

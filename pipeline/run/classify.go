// Package run holds Veille's stage workers — ingest, classify, store — and
// the embedded runner that starts them all in one process around an
// embedded NATS server and chDB. Each worker is Run(ctx) error and can also
// run alone as its own process against an external NATS and ClickHouse.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/storage"
)

// Classify consumes items, tags them with narratives and publishes the
// result for the store stage. An input message is acknowledged only after
// its result was accepted by the stream.
type Classify struct {
	Bus        *bus.Bus
	Classifier classifiers.Classifier
	Batch      int // messages fetched at a time (default 1000)
	Workers    int // parallel classifications (default GOMAXPROCS)
	Log        *slog.Logger
}

// Run works until ctx ends. The batch in hand when ctx ends is finished.
func (c *Classify) Run(ctx context.Context) error {
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	log := logger(c.Log, "classify")
	cons, err := c.Bus.Consumer(ctx, bus.StreamItems, bus.ConsumerClassify)
	if err != nil {
		return err
	}
	// Two fetch loops: one classifies while the other waits on the stream's
	// acknowledgements, so neither the CPU nor the bus sits idle.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); c.loop(ctx, log, cons) }()
	}
	wg.Wait()
	return nil
}

func (c *Classify) loop(ctx context.Context, log *slog.Logger, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		msgs, err := fetch(ctx, cons, c.Batch, time.Second)
		if err != nil {
			log.Warn("fetch", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		// Finish the batch even when asked to stop: nothing half-done.
		done, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		c.handle(done, log, msgs)
		cancel()
	}
}

type classified struct {
	msg jetstream.Msg
	out bus.Classified
	err error
}

func (c *Classify) handle(ctx context.Context, log *slog.Logger, msgs []jetstream.Msg) {
	start := time.Now()
	results := make([]classified, len(msgs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = c.one(ctx, msgs[i])
			}
		}()
	}
	for i := range msgs {
		next <- i
	}
	close(next)
	wg.Wait()

	version := c.Classifier.Version()
	futures := make([]jetstream.PubAckFuture, len(results))
	for i, r := range results {
		if r.err != nil {
			metrics.failed.WithLabelValues("classify").Inc()
			if err := c.Bus.DeadLetter(ctx, "classify", r.msg, r.err); err != nil {
				log.Error("dead-letter", "err", err)
			} else {
				metrics.deadLettered.WithLabelValues("classify").Inc()
				log.Warn("moved to dead-letter subject", "reason", r.err)
			}
			continue
		}
		f, err := c.Bus.PublishClassifiedAsync(r.out, version)
		if err != nil {
			log.Warn("publish", "err", err)
			_ = r.msg.NakWithDelay(time.Second)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			_ = results[i].msg.Ack()
			metrics.processed.WithLabelValues("classify").Inc()
			metrics.flags.Add(float64(len(results[i].out.Flags)))
		case err := <-f.Err():
			log.Warn("publish not acknowledged", "item", results[i].out.Item.ID, "err", err)
			_ = results[i].msg.NakWithDelay(time.Second)
		case <-ctx.Done():
			return
		}
	}
	metrics.latency.WithLabelValues("classify").Observe(time.Since(start).Seconds() / float64(len(msgs)))
}

// errPoison marks a message that will never succeed.
var errPoison = errors.New("poison message")

func (c *Classify) one(ctx context.Context, m jetstream.Msg) classified {
	r := classified{msg: m}
	if n := bus.Deliveries(m); n > bus.MaxDeliver {
		r.err = fmt.Errorf("%w: delivered %d times", errPoison, n)
		return r
	}
	if n := bus.Deliveries(m); n > 1 {
		metrics.redelivered.WithLabelValues("classify").Inc()
	}
	var it storage.Item
	if err := json.Unmarshal(m.Data(), &it); err != nil {
		r.err = fmt.Errorf("%w: decode item: %v", errPoison, err)
		return r
	}
	if it.ID == "" {
		r.err = fmt.Errorf("%w: item without id", errPoison)
		return r
	}
	res, err := c.Classifier.Classify(ctx, DocOf(it))
	if err != nil {
		r.err = fmt.Errorf("classify item %s: %w", it.ID, err)
		return r
	}
	if it.Lang == "" {
		it.Lang = res.Lang
	}
	if it.Mission == "" {
		it.Mission = MissionOf(it.Title + "\n" + it.Text)
	}
	r.out = bus.Classified{Item: it, Flags: FlagsOf(it, res, c.Classifier.Version())}
	return r
}

// DocOf turns a stored item into classifier input.
func DocOf(it storage.Item) classifiers.Doc {
	d := classifiers.Doc{ID: it.ID, Text: it.Text, Lang: it.Lang}
	if it.Title != "" && it.Kind != "transcript" && len(it.Cues) == 0 {
		// The headline often carries the claim; classify it with the body.
		d.Text = it.Title + "\n" + it.Text
	}
	for _, c := range it.Cues {
		d.Cues = append(d.Cues, classifiers.Cue{Start: c.Start, End: c.End, Speaker: c.Speaker, Offset: c.Offset, Text: c.Text})
	}
	return d
}

// FlagsOf turns a classifier result into storage rows for item it. Evidence
// offsets are into the classified text (title + "\n" + text for articles).
func FlagsOf(it storage.Item, res classifiers.Result, version string) []storage.Flag {
	out := make([]storage.Flag, 0, len(res.Flags))
	lang := it.Lang
	if lang == "" {
		lang = res.Lang
	}
	for _, f := range res.Flags {
		sf := storage.Flag{
			ItemID: it.ID, Narrative: f.Narrative, Stance: f.Stance, Score: f.Score,
			Entities: f.Entities, ClassifierVersion: version,
			Source: it.Source, Lang: lang, Mission: it.Mission, Published: it.Published,
		}
		for _, e := range f.Evidence {
			sf.Evidence = append(sf.Evidence, storage.Evidence{Start: e.Start, End: e.End, Text: e.Text, CueStart: e.CueStart, CueEnd: e.CueEnd})
		}
		out = append(out, sf)
	}
	return out
}

// fetch pulls up to n messages, waiting at most wait for the first ones.
func fetch(ctx context.Context, cons jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = max(time.Until(d), 10*time.Millisecond)
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(wait))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil && len(msgs) == 0 {
		return nil, err
	}
	return msgs, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func logger(l *slog.Logger, stage string) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return l.With("stage", stage)
}

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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/mission"
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
	// ItemTimeout bounds the classification of one item (default 1m); an
	// item that exceeds it alone goes to the dead-letter subject.
	ItemTimeout time.Duration
	Log         *slog.Logger
}

// Run works until ctx ends. The batch in hand when ctx ends is finished.
func (c *Classify) Run(ctx context.Context) error {
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.ItemTimeout <= 0 {
		c.ItemTimeout = time.Minute
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
		msgs, err := fetchBatch(ctx, cons, c.Batch, time.Second)
		if err != nil {
			log.Warn("fetch", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		// Finish the batch even when asked to stop: nothing half-done. Each
		// item has its own time budget; none is shared by the batch.
		c.handle(context.WithoutCancel(ctx), log, msgs)
	}
}

type classified struct {
	msg jetstream.Msg
	out bus.Classified
	err error
}

// handle classifies a batch. Every message is settled on its own as soon
// as its result is known: acknowledged once its result is accepted by the
// stream, dead-lettered when it alone fails, and kept alive with
// InProgress while it waits, so a slow item delays no other.
func (c *Classify) handle(ctx context.Context, log *slog.Logger, msgs []jetstream.Msg) {
	start := time.Now()
	version := c.Classifier.Version()
	pending := make([]atomic.Bool, len(msgs))
	for i := range pending {
		pending[i].Store(true)
	}
	beat, stopBeat := context.WithCancel(ctx)
	defer stopBeat()
	go heartbeat(beat, msgs, pending)

	// Workers classify and publish; one acker waits on the stream's
	// answers in order and settles each message as its answer comes.
	type sent struct {
		i int
		r classified
		f jetstream.PubAckFuture
	}
	acks := make(chan sent, len(msgs))
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		for s := range acks {
			c.ack(log, s.r, s.f)
			pending[s.i].Store(false)
		}
	}()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := c.one(ctx, msgs[i])
				if f := c.publish(ctx, log, r, version); f != nil {
					acks <- sent{i, r, f}
					continue
				}
				pending[i].Store(false)
			}
		}()
	}
	for i := range msgs {
		next <- i
	}
	close(next)
	wg.Wait()
	close(acks)
	<-ackDone
	metrics.latency.WithLabelValues("classify").Observe(time.Since(start).Seconds() / float64(len(msgs)))
}

// heartbeat tells the stream every third of AckWait that the messages
// still pending are being worked on.
func heartbeat(ctx context.Context, msgs []jetstream.Msg, pending []atomic.Bool) {
	t := time.NewTicker(bus.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for i, m := range msgs {
				if pending[i].Load() {
					_ = m.InProgress()
				}
			}
		}
	}
}

// publish sends one result to the stream and returns the future of its
// acknowledgement, or settles a message that failed (dead-letter) or could
// not be sent (redelivery) and returns nil.
func (c *Classify) publish(ctx context.Context, log *slog.Logger, r classified, version string) jetstream.PubAckFuture {
	if r.err != nil {
		metrics.failed.WithLabelValues("classify").Inc()
		if err := c.Bus.DeadLetter(ctx, "classify", r.msg, r.err); err != nil {
			log.Error("dead-letter", "err", err)
			_ = r.msg.NakWithDelay(time.Second)
			return nil
		}
		metrics.deadLettered.WithLabelValues("classify").Inc()
		log.Warn("moved to dead-letter subject", "reason", r.err)
		return nil
	}
	f, err := c.Bus.PublishClassifiedAsync(r.out, version)
	if err != nil {
		log.Warn("publish", "err", err)
		_ = r.msg.NakWithDelay(time.Second)
		return nil
	}
	return f
}

// ack acknowledges a message once the stream has accepted its result.
func (c *Classify) ack(log *slog.Logger, r classified, f jetstream.PubAckFuture) {
	wait := time.NewTimer(bus.AckWait / 2)
	defer wait.Stop()
	select {
	case <-f.Ok():
		_ = r.msg.Ack()
		metrics.processed.WithLabelValues("classify").Inc()
		metrics.flags.Add(float64(len(r.out.Flags)))
	case err := <-f.Err():
		log.Warn("publish not acknowledged", "item", r.out.Item.ID, "err", err)
		_ = r.msg.NakWithDelay(time.Second)
	case <-wait.C:
		log.Warn("publish not acknowledged in time", "item", r.out.Item.ID)
		_ = r.msg.NakWithDelay(time.Second)
	}
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
	ictx, cancel := context.WithTimeout(ctx, c.ItemTimeout)
	res, err := c.Classifier.Classify(ictx, DocOf(it))
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("took longer than %s: %w", c.ItemTimeout, err)
		}
		r.err = fmt.Errorf("classify item %s: %w", it.ID, err)
		return r
	}
	if it.Lang == "" {
		it.Lang = res.Lang
	}
	if it.Mission == "" {
		it.Mission = mission.Of(it.IndexedText())
	}
	r.out = bus.Classified{Item: it, Flags: FlagsOf(it, res, c.Classifier.Version())}
	return r
}

// DocOf turns a stored item into classifier input.
func DocOf(it storage.Item) classifiers.Doc {
	d := classifiers.Doc{ID: it.ID, Text: it.IndexedText(), Lang: it.Lang}
	for _, c := range it.Cues {
		d.Cues = append(d.Cues, classifiers.Cue{Start: c.Start, End: c.End, Speaker: c.Speaker, Offset: c.Offset, Text: c.Text})
	}
	return d
}

// FlagsOf turns a classifier result into storage rows for item it. Evidence
// offsets are into it.IndexedText().
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

// fetchBatch pulls up to n messages, waiting at most wait for the first ones.
func fetchBatch(ctx context.Context, cons jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
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

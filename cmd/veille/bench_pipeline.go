package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/synth"
)

func init() { registerBench("pipeline", benchPipeline) }

// benchPipeline runs the whole pipeline on the embedded default (or on a
// loopback NATS cluster with --cluster) over generated items and reports
// sustained throughput, publish-to-queryable latency, peak memory and the
// bus's own ceiling measured in the same run.
func benchPipeline(ctx context.Context, args []string) error {
	fs := newFlags("bench pipeline")
	n := fs.Int("items", 100000, "generated items to push through")
	clusterMode := fs.Bool("cluster", false, "use a three-node JetStream cluster on loopback instead of the embedded server")
	chDSN := fs.String("clickhouse", "embedded", "ClickHouse: embedded or clickhouse://host:port")
	profile := fs.String("cpuprofile", "", "write a CPU profile here (default: a temp file)")
	rate := fs.Int("rate", 0, "publish at this many items/s (0: as fast as the bus takes them, a flood)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "veille-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	url, replicas, stop, err := benchBus(dir, *clusterMode)
	if err != nil {
		return err
	}
	defer stop()
	b, err := bus.Connect(ctx, url, "bench")
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Setup(ctx, replicas); err != nil {
		return err
	}
	fmt.Printf("bus: %s, %d replica(s); store: %s; %d items; GOMAXPROCS=%d\n",
		map[bool]string{false: "embedded NATS", true: "3-node cluster"}[*clusterMode], replicas, *chDSN, *n, runtime.GOMAXPROCS(0))

	pubRate, subRate, err := rawJetStream(ctx, b, replicas, 200000, 512)
	if err != nil {
		return err
	}
	fmt.Printf("bus ceiling (raw JetStream, 512 B messages): publish %.0f msg/s, consume %.0f msg/s\n", pubRate, subRate)

	st, err := backend.Open(ctx, *chDSN, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := newClassifier("", "", 0)
	if err != nil {
		return err
	}
	items := synth.Texts(*n, uint64(time.Now().UnixNano()))
	var mb float64
	for _, it := range items {
		mb += float64(len(it.Text)+len(it.Title)) / 1e6
	}

	var (
		mu        sync.Mutex
		published = make(map[string]time.Time, *n)
		latencies = make([]time.Duration, 0, *n)
		doneAll   = make(chan struct{})
	)
	onStored := func(its []storage.Item, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			if t0, ok := published[it.ID]; ok {
				latencies = append(latencies, at.Sub(t0))
				delete(published, it.ID)
			}
		}
		if len(latencies) == *n {
			select {
			case <-doneAll:
			default:
				close(doneAll)
			}
		}
	}
	work, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	cls := &run.Classify{Bus: b, Classifier: m}
	sto := &run.Store{Bus: b, Store: st, BatchSize: 5000, BatchWait: 200 * time.Millisecond, OnStored: onStored}
	for _, w := range []func(context.Context) error{cls.Run, sto.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w(work) }()
	}

	pf := *profile
	if pf == "" {
		pf = filepath.Join(os.TempDir(), "veille-pipeline.cpu.prof")
	}
	f, err := os.Create(pf)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	start := time.Now()
	var tick *time.Ticker
	if *rate > 0 {
		// Publish in 10 ms slices to hold the rate without a timer per item.
		tick = time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
	}
	perTick := max(1, *rate/100)
	for i, it := range items {
		if tick != nil && i%perTick == 0 && i > 0 {
			<-tick.C
		}
		mu.Lock()
		published[it.ID] = time.Now()
		mu.Unlock()
		if _, err := b.PublishItemAsync(it); err != nil {
			return err
		}
		if i%2000 == 1999 {
			select {
			case <-b.JS.PublishAsyncComplete():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	select {
	case <-doneAll:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Minute):
		return fmt.Errorf("bench: only %d of %d items stored after 10 minutes", len(latencies), *n)
	}
	elapsed := time.Since(start)
	pprof.StopCPUProfile()
	cancel()
	wg.Wait()

	slices.Sort(latencies)
	got := float64(*n) / elapsed.Seconds()
	mode := "flood"
	if *rate > 0 {
		mode = fmt.Sprintf("offered %d items/s", *rate)
	}
	fmt.Printf("pipeline (%s): %d items (%.1f MB of text) in %.2fs: %.0f items/s sustained end to end (%.0f%% of the bus's publish ceiling)\n",
		mode, *n, mb, elapsed.Seconds(), got, 100*got/pubRate)
	fmt.Printf("latency publish → queryable: p50 %v, p99 %v, max %v\n",
		pct(latencies, 0.50), pct(latencies, 0.99), latencies[len(latencies)-1])
	fmt.Printf("peak resident memory: %s\n", peakRSS())
	fmt.Printf("CPU profile: %s (go tool pprof -top %s)\n", pf, pf)
	return nil
}

func benchBus(dir string, cluster bool) (url string, replicas int, stop func(), err error) {
	if cluster {
		c, err := bus.StartCluster(filepath.Join(dir, "nats"), 3)
		if err != nil {
			return "", 0, nil, err
		}
		if err := c.WaitReady(30 * time.Second); err != nil {
			c.Shutdown()
			return "", 0, nil, err
		}
		return c.URLs(), 3, c.Shutdown, nil
	}
	e, err := bus.StartEmbedded(dir, 0)
	if err != nil {
		return "", 0, nil, err
	}
	return e.URL(), 1, e.Shutdown, nil
}

// rawJetStream measures the bus alone: async publish of count messages of
// size bytes to a scratch stream, then a pull consumer draining it.
func rawJetStream(ctx context.Context, b *bus.Bus, replicas, count, size int) (pub, sub float64, err error) {
	const name = "VEILLE_BENCH"
	if _, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"veille.bench"}, Replicas: replicas}); err != nil {
		return 0, 0, fmt.Errorf("bench stream: %w", err)
	}
	defer b.JS.DeleteStream(context.WithoutCancel(ctx), name)
	payload := []byte(strings.Repeat("x", size))
	start := time.Now()
	for i := range count {
		if _, err := b.JS.PublishAsync("veille.bench", payload); err != nil {
			return 0, 0, err
		}
		if i%5000 == 4999 {
			<-b.JS.PublishAsyncComplete()
		}
	}
	<-b.JS.PublishAsyncComplete()
	pub = float64(count) / time.Since(start).Seconds()

	cons, err := b.JS.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		return 0, 0, err
	}
	start = time.Now()
	got := 0
	for got < count {
		batch, err := cons.FetchNoWait(5000)
		if err != nil {
			return 0, 0, err
		}
		for range batch.Messages() {
			got++
		}
	}
	sub = float64(count) / time.Since(start).Seconds()
	return pub, sub, nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
}

// peakRSS reads the process's high-water resident set from /proc.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				kb, _ := strconv.Atoi(fs[1])
				return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
			}
		}
	}
	return "unknown"
}

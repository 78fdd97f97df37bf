package run_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/storagetest"
	"github.com/veille-project/veille/storage/synth"
)

// TestClusterSurvivesFaults runs the distributed topology on loopback — a
// three-node JetStream cluster, Debian's clickhouse-server, and classify
// and store stages as separate veille processes — and pushes N items
// through it while a classify and a store worker are killed with SIGKILL,
// a NATS node restarts and ClickHouse is down for 30 s. ClickHouse must end
// with exactly N items and exactly the flags the classifier finds in them.
func TestClusterSurvivesFaults(t *testing.T) {
	testenv.Integration(t)
	if testing.Short() {
		t.Skip("fault test takes about two minutes")
	}
	const n = 20000
	ch := storagetest.NewServer(t)
	bin := buildVeille(t)

	cluster, err := bus.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Shutdown)
	if err := cluster.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	b, err := bus.Connect(ctx, cluster.URLs(), "fault-test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := setupRetrying(ctx, b, 3); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(),
		"VEILLE_NATS="+cluster.URLs(), "VEILLE_CLICKHOUSE="+ch.DSN(), "VEILLE_REPLICAS=3",
		"VEILLE_DATA="+t.TempDir(), "VEILLE_LOG_LEVEL=warn")
	logs := t.TempDir()
	procs := map[string]*exec.Cmd{}
	var pmu sync.Mutex
	start := func(name string, args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Dir = t.TempDir()
		f, err := os.OpenFile(filepath.Join(logs, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		pmu.Lock()
		procs[name] = cmd
		pmu.Unlock()
	}
	kill := func(name string) {
		pmu.Lock()
		cmd := procs[name]
		pmu.Unlock()
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	t.Cleanup(func() {
		pmu.Lock()
		defer pmu.Unlock()
		for _, cmd := range procs {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	})
	start("classify-1", "classify", "--stage")
	start("classify-2", "classify", "--stage")
	start("store-1", "store")
	start("store-2", "store")

	items := synth.Texts(n, 7)
	var published atomic.Int64
	faults := make(chan struct{})
	go func() {
		defer close(faults)
		waitFor := func(k int64) {
			for published.Load() < k && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitFor(n / 5)
		t.Log("SIGKILL classify-1 and store-1")
		kill("classify-1")
		kill("store-1")
		start("classify-1", "classify", "--stage")
		start("store-1", "store")
		waitFor(2 * n / 5)
		t.Log("restart NATS node 2")
		cluster.Stop(1)
		time.Sleep(2 * time.Second)
		if err := cluster.Start(1); err != nil {
			t.Error(err)
		}
		waitFor(3 * n / 5)
		t.Log("stop ClickHouse for 30 s")
		ch.Stop()
		time.Sleep(30 * time.Second)
		if err := ch.Start(); err != nil {
			t.Error(err)
		}
	}()

	publishAll(ctx, t, b, items, &published)
	<-faults

	st, err := backend.Open(ctx, ch.DSN(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	totals := waitDrained(ctx, t, b, st, n)

	rules, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	m, err := learn.Open(rules, "", 0) // what the classify stage runs
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	var wantFlags int64
	for _, it := range items {
		res, err := m.Classify(ctx, run.DocOf(it))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Flags {
			want[f.Narrative]++
			wantFlags++
		}
	}
	if totals.Items != n {
		t.Errorf("ClickHouse holds %d items, want exactly %d", totals.Items, n)
	}
	if totals.Flags != wantFlags {
		t.Errorf("ClickHouse holds %d flags, want exactly %d", totals.Flags, wantFlags)
	}
	for narr, c := range want {
		if totals.FlagsByNarr[narr] != c {
			t.Errorf("%s: %d flags stored, want %d", narr, totals.FlagsByNarr[narr], c)
		}
	}
	if wantFlags == 0 {
		t.Fatal("the generated items carry no narrative: the test proves nothing")
	}
	if t.Failed() {
		for _, name := range []string{"classify-1", "classify-2", "store-1", "store-2"} {
			b, _ := os.ReadFile(filepath.Join(logs, name+".log"))
			t.Logf("%s log (tail):\n%s", name, tail(b, 2000))
		}
	}
}

// buildVeille builds the server-mode binary (no chDB) for worker processes.
func buildVeille(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "veille")
	cmd := exec.Command("go", "build", "-tags", "nochdb", "-o", bin, "./cmd/veille")
	cmd.Dir = testenv.Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build veille: %v\n%s", err, out)
	}
	return bin
}

func setupRetrying(ctx context.Context, b *bus.Bus, replicas int) error {
	var err error
	for range 50 {
		if err = b.Setup(ctx, replicas); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// publishAll publishes every item, retrying each until the stream accepts
// it (a node may be down): at least once, de-duplicated by message id.
func publishAll(ctx context.Context, t *testing.T, b *bus.Bus, items []storage.Item, published *atomic.Int64) {
	t.Helper()
	next := make(chan storage.Item)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				for ctx.Err() == nil {
					pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					err := b.PublishItem(pctx, it)
					cancel()
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				published.Add(1)
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("publishing: %v", ctx.Err())
	}
}

// waitDrained waits until both consumers are drained and n items stored.
func waitDrained(ctx context.Context, t *testing.T, b *bus.Bus, st storage.Store, n int64) storage.Totals {
	t.Helper()
	var last storage.Totals
	var lastErr error
	for ctx.Err() == nil {
		p1, err1 := b.Pending(ctx, bus.StreamItems, bus.ConsumerClassify)
		p2, err2 := b.Pending(ctx, bus.StreamClassified, bus.ConsumerStore)
		if err1 == nil && err2 == nil && p1 == 0 && p2 == 0 {
			tot, err := st.Counts(ctx)
			if err == nil && tot.Items >= n {
				return tot
			}
			last, lastErr = tot, err
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("pipeline did not drain: last counts %+v, err %v", last, lastErr)
	return last
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

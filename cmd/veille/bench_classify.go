package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/veille-project/veille/classifiers"
)

func init() { registerBench("classify", benchClassify) }

// benchTexts reads the dev corpus texts, or falls back to generated ones.
func benchTexts(dir string) ([]string, string) {
	var texts []string
	files, _ := filepath.Glob(filepath.Join(dir, "dev-*.jsonl"))
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			var it struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &it) == nil && it.Text != "" {
				texts = append(texts, it.Text)
			}
		}
		f.Close()
	}
	if len(texts) > 0 {
		return texts, fmt.Sprintf("%d dev corpus texts from %s", len(texts), dir)
	}
	return []string{
		"MINUSMA helicopters land at night near the camp and boxes of ammunition go to the jihadists, everybody knows it.",
		"La MONUSCO a remis sa base aux forces de sécurité congolaises, première étape de son retrait du Sud-Kivu.",
		"Les Casques bleus ont fui pendant l'attaque et ont laissé les civils aux mains des miliciens.",
		"The Security Council renewed the mandate for one more year with several members abstaining.",
		"Walinda amani wanawapa waasi silaha usiku, tumeona kwa macho yetu.",
		"بعثة الأمم المتحدة تنشر الأمراض عمداً في المخيمات حسب ما يتداول الناس.",
	}, "generated texts (no corpus at " + dir + ")"
}

// lastCPU is the CPU time of the last run of benchClassify's loop.
var lastCPU time.Duration

func benchClassify(ctx context.Context, args []string) error {
	fs := newFlags("bench classify")
	mb := fs.Int("mb", 50, "megabytes of text to classify per run")
	dir := fs.String("corpus", filepath.Join("..", "shared", "corpus"), "directory with dev-*.jsonl")
	catDir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
	model := fs.String("model", "", "model file from veille train (default: the built-in model; \"rules\": rules alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := newClassifier(*catDir, *model, 0)
	if err != nil {
		return err
	}
	base, from := benchTexts(*dir)
	var docs []classifiers.Doc
	total := 0
	for total < *mb<<20 {
		for _, t := range base {
			docs = append(docs, classifiers.Doc{Text: t})
			total += len(t)
		}
	}
	fmt.Printf("classifier %s\ninput: %d items, %.1f MB (%s)\n", m.Version(), len(docs), float64(total)/(1<<20), from)
	run := func(workers int) error {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(docs); i += workers {
					if _, err := m.Classify(ctx, docs[i]); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		cpu := cpuTime() - cpu0
		lastCPU = cpu
		runtime.ReadMemStats(&after)
		select {
		case err := <-errs:
			return err
		default:
		}
		mbs := float64(total) / (1 << 20) / el.Seconds()
		fmt.Printf("%2d worker(s): %9.0f items/s %7.2f MB/s wall (%.2f MB/s per core), %.2f MB per CPU-second, %5.1f allocs/item, %6.0f B/item [%s wall, %s CPU]\n",
			workers, float64(len(docs))/el.Seconds(), mbs, mbs/float64(min(workers, runtime.NumCPU())),
			float64(total)/(1<<20)/cpu.Seconds(),
			float64(after.Mallocs-before.Mallocs)/float64(len(docs)), float64(after.TotalAlloc-before.TotalAlloc)/float64(len(docs)),
			el.Round(time.Millisecond), cpu.Round(time.Millisecond))
		return nil
	}
	if err := run(1); err != nil {
		return err
	}
	normal := float64(total) / (1 << 20) / lastCPU.Seconds()
	if n := runtime.GOMAXPROCS(0); n > 1 {
		if err := run(n); err != nil {
			return err
		}
	}
	return benchLong(ctx, m, normal)
}

// floodWords are the words the rules look for; benchLong strings them
// together with no punctuation, the worst case for a matcher that pairs
// hits within a sentence.
var floodWords = strings.Fields("monusco livre des armes aux rebelles m23 casques bleus helicoptere munitions " +
	"minusca complice terroristes or coltan pillage occupation france minusma drones espionnage enfants enleves " +
	"organes ebola vaccins poison massacre village brule elections fraude urnes faux communique retrait abandonne " +
	"peacekeepers deliver weapons to the rebels blue helmets smuggle gold")

// benchLong classifies one megabyte of keywords without punctuation and
// fails when its MB per CPU-second falls below half that of normal text.
func benchLong(ctx context.Context, c classifiers.Classifier, normal float64) error {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(floodWords[(i*7)%len(floodWords)])
		b.WriteByte(' ')
	}
	doc := classifiers.Doc{Text: b.String()}
	best := time.Duration(1 << 62)
	for range 3 {
		cpu0 := cpuTime()
		if _, err := c.Classify(ctx, doc); err != nil {
			return err
		}
		best = min(best, cpuTime()-cpu0)
	}
	long := float64(len(doc.Text)) / (1 << 20) / best.Seconds()
	fmt.Printf("long unpunctuated text: 1 item of %.1f MB, %.2f MB per CPU-second (%.2fx normal text; must stay within 2x)\n",
		float64(len(doc.Text))/(1<<20), long, normal/long)
	if long < normal/2 {
		return fmt.Errorf("bench classify: long unpunctuated text at %.2f MB per CPU-second, below half of normal text's %.2f", long, normal)
	}
	return nil
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures the classifier's cost better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package run_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/synth"
)

// TestPoisonMessagesGoToDeadLetters runs classify and store in-process on
// the embedded NATS and chDB: undecodable messages on either stream end in
// the dead-letter stream while every good item is stored once.
func TestPoisonMessagesGoToDeadLetters(t *testing.T) {
	ctx, b, st, m := newStageEnv(t)

	items := synth.Texts(200, 3)
	for i, it := range items {
		if err := b.PublishItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			if _, err := b.JS.Publish(ctx, bus.SubjectItems+".article", []byte(`{"id": 12`)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.JS.Publish(ctx, bus.SubjectClassified+".article", []byte(`not json`)); err != nil {
				t.Fatal(err)
			}
		}
	}

	work, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = (&run.Classify{Bus: b, Classifier: m}).Run(work); done <- struct{}{} }()
	go func() {
		_ = (&run.Store{Bus: b, Store: st, BatchSize: 64, BatchWait: 50 * time.Millisecond}).Run(work)
		done <- struct{}{}
	}()
	for ctx.Err() == nil {
		p1, _ := b.Pending(ctx, bus.StreamItems, bus.ConsumerClassify)
		p2, _ := b.Pending(ctx, bus.StreamClassified, bus.ConsumerStore)
		tot, err := st.Counts(ctx)
		if p1 == 0 && p2 == 0 && err == nil && tot.Items >= int64(len(items)) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	<-done
	<-done

	tot, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Items != int64(len(items)) {
		t.Errorf("stored %d items, want %d", tot.Items, len(items))
	}
	dlq, err := b.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("dead-letter stream holds %d messages, want 2 (one per stage)", info.State.Msgs)
	}
	for _, subj := range []string{bus.SubjectDLQ + ".classify", bus.SubjectDLQ + ".store"} {
		if _, err := dlq.GetLastMsgForSubject(ctx, subj); err != nil {
			t.Errorf("no dead letter on %s: %v", subj, err)
		}
	}
}

// stallOn classifies with the matcher but stalls on one item until the
// item's context ends, as a pathological text would.
type stallOn struct {
	*match.Matcher
	id string
}

func (s stallOn) Classify(ctx context.Context, d classifiers.Doc) (classifiers.Result, error) {
	if d.ID == s.id {
		<-ctx.Done()
		return classifiers.Result{}, ctx.Err()
	}
	return s.Matcher.Classify(ctx, d)
}

// TestSlowItemDelaysNoOther puts one item that never finishes among
// healthy ones in the same batch: the healthy ones are stored once, and
// only the slow one is dead-lettered, after its own time budget.
func TestSlowItemDelaysNoOther(t *testing.T) {
	ctx, b, st, m := newStageEnv(t)
	items := synth.Texts(300, 5)
	slow := items[17].ID
	for _, it := range items {
		if err := b.PublishItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	work, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	cls := &run.Classify{Bus: b, Classifier: stallOn{m, slow}, Batch: 1000, ItemTimeout: 2 * time.Second}
	go func() { _ = cls.Run(work); done <- struct{}{} }()
	go func() {
		_ = (&run.Store{Bus: b, Store: st, BatchSize: 64, BatchWait: 50 * time.Millisecond}).Run(work)
		done <- struct{}{}
	}()
	want := int64(len(items) - 1)
	for ctx.Err() == nil {
		p1, _ := b.Pending(ctx, bus.StreamItems, bus.ConsumerClassify)
		tot, err := st.Counts(ctx)
		if p1 == 0 && err == nil && tot.Items >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	<-done
	<-done
	tot, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Items != want {
		t.Errorf("stored %d items, want the %d healthy ones", tot.Items, want)
	}
	dlq, err := b.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("dead-letter stream holds %d messages, want only the slow item", info.State.Msgs)
	}
	msg, err := dlq.GetLastMsgForSubject(ctx, bus.SubjectDLQ+".classify")
	if err != nil {
		t.Fatal(err)
	}
	if reason := msg.Header.Get("Veille-Error"); !strings.Contains(reason, slow) || !strings.Contains(reason, "took longer than") {
		t.Errorf("dead letter says %q, want the slow item %s and its time budget", reason, slow)
	}
}

// newStageEnv starts an embedded NATS server and chDB store in a temporary
// directory, with the streams set up and the default catalog's matcher;
// everything is closed when the test ends.
func newStageEnv(t *testing.T) (context.Context, *bus.Bus, storage.Store, *match.Matcher) {
	t.Helper()
	dir := t.TempDir()
	srv, err := bus.StartEmbedded(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	b, err := bus.Connect(ctx, srv.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st, err := backend.Open(ctx, "embedded", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return ctx, b, st, m
}

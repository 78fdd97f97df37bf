package run_test

import (
	"context"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage/backend"
)

// TestPoisonMessagesGoToDeadLetters runs classify and store in-process on
// the embedded NATS and chDB: undecodable messages on either stream end in
// the dead-letter stream while every good item is stored once.
func TestPoisonMessagesGoToDeadLetters(t *testing.T) {
	dir := t.TempDir()
	srv, err := bus.StartEmbedded(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := bus.Connect(ctx, srv.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st, err := backend.Open(ctx, "embedded", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}

	items := run.SyntheticItems(200, 3)
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

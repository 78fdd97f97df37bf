package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/bus"
)

func startBus(t *testing.T) *bus.Bus {
	t.Helper()
	srv, err := bus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, srv.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSetupIsIdempotent(t *testing.T) {
	b := startBus(t)
	ctx := context.Background()
	if err := b.Setup(ctx, 1); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	for _, name := range []string{bus.StreamItems, bus.StreamClassified, bus.StreamDLQ, bus.StreamAlerts} {
		s, err := b.JS.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if got := s.CachedInfo().Config.Duplicates; got != bus.DuplicateWindow {
			t.Errorf("stream %s duplicate window = %v, want %v", name, got, bus.DuplicateWindow)
		}
	}
}

func TestRepublishedItemIsStoredOnce(t *testing.T) {
	b := startBus(t)
	ctx := context.Background()
	it := domain.Item{ID: "a1", ContentHash: "h1", Kind: "article", Text: "x"}
	for range 3 {
		if err := b.PublishItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	changed := it
	changed.ContentHash = "h2" // the entry was edited: a new version
	if err := b.PublishItem(ctx, changed); err != nil {
		t.Fatal(err)
	}
	s, err := b.JS.Stream(ctx, bus.StreamItems)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2 (one per item version)", info.State.Msgs)
	}
}

func TestDeadLetterKeepsPayloadAndReason(t *testing.T) {
	b := startBus(t)
	ctx := context.Background()
	if _, err := b.JS.Publish(ctx, bus.SubjectItems+".article", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	cons, err := b.Consumer(ctx, bus.StreamItems, bus.ConsumerClassify)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := <-batch.Messages()
	if m == nil {
		t.Fatal("no message fetched")
	}
	if err := b.DeadLetter(ctx, "classify", m, errors.New("decode item: bad json")); err != nil {
		t.Fatal(err)
	}
	dlq, err := b.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dlq.GetLastMsgForSubject(ctx, bus.SubjectDLQ+".classify")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw.Data) != "{not json" || raw.Header.Get("Veille-Error") != "decode item: bad json" {
		t.Fatalf("dead letter = %q with error %q", raw.Data, raw.Header.Get("Veille-Error"))
	}
	n, err := b.Pending(ctx, bus.StreamItems, bus.ConsumerClassify)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("classify consumer still has %d pending after dead-lettering", n)
	}
}

package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// WatchBucket signals each change of a key-value bucket after the
// watcher's initial values, until ctx ends (then the channel is closed).
// Signals coalesce: a burst of changes may be one signal.
func (b *Bus) WatchBucket(ctx context.Context, bucket string) (<-chan struct{}, error) {
	if b == nil {
		return nil, ErrNotReady
	}
	kv, err := b.JS.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", bucket, err)
	}
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", bucket, err)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue // end of the initial values
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}

// SourceKey maps a source name to a valid key of the sources and health
// buckets: every byte outside [A-Za-z0-9_-] becomes "_".
func SourceKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

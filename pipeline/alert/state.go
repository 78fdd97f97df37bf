package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// surge is what the engine remembers per rule and narrative.
type surge struct {
	Rule      string    `json:"rule"`
	Narrative string    `json:"narrative"`
	First     string    `json:"first"` // id of the alert that opened the surge
	Last      string    `json:"last"`
	LastAt    time.Time `json:"last_at"` // evaluation time of the last alert
	Recent    int64     `json:"recent"`  // count the last alert reported
	Since     time.Time `json:"since"`
	Updates   int       `json:"updates"`
}

// stateKey is a KV-safe key for a rule and a narrative: readable parts and
// a hash that keeps distinct names distinct.
func stateKey(ruleName, narrative string) string {
	sum := sha256.Sum256([]byte(ruleName + "\x00" + narrative))
	return keyPart(ruleName) + "." + keyPart(narrative) + "." + hex.EncodeToString(sum[:6])
}

func keyPart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func openBucket(ctx context.Context, js jetstream.JetStream, name string, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	if replicas < 1 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: name, Replicas: replicas, Storage: jetstream.FileStorage, TTL: ttl, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("alert: open kv %s: %w", name, err)
	}
	return kv, nil
}

func getJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) (bool, error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("alert: kv %s get %s: %w", kv.Bucket(), key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("alert: kv %s %s: %w", kv.Bucket(), key, err)
	}
	return true, nil
}

func putJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("alert: encode %s: %w", key, err)
	}
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("alert: kv %s put %s: %w", kv.Bucket(), key, err)
	}
	return nil
}

// Log is the alert log the web app lists: every alert of the last 30 days
// with its delivery status.
type Log struct {
	kv jetstream.KeyValue
}

// OpenLog opens (creating when needed) the alert log bucket.
func OpenLog(ctx context.Context, js jetstream.JetStream, replicas int) (*Log, error) {
	kv, err := openBucket(ctx, js, BucketLog, replicas, LogMaxAge)
	if err != nil {
		return nil, err
	}
	return &Log{kv: kv}, nil
}

// Put stores or replaces a record.
func (l *Log) Put(ctx context.Context, r *Record) error { return putJSON(ctx, l.kv, r.ID, r) }

// Get returns one alert, or ErrNotFound.
func (l *Log) Get(ctx context.Context, id string) (Record, error) {
	var r Record
	ok, err := getJSON(ctx, l.kv, id, &r)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, err
}

// Recent returns the n latest alerts, newest first (all when n <= 0).
func (l *Log) Recent(ctx context.Context, n int) ([]Record, error) {
	return l.list(ctx, n, func(*Record) bool { return true })
}

// Pending returns the alerts with a delivery still pending, oldest first.
func (l *Log) Pending(ctx context.Context) ([]Record, error) {
	out, err := l.list(ctx, 0, func(r *Record) bool { return !r.Done() })
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

func (l *Log) list(ctx context.Context, n int, keep func(*Record) bool) ([]Record, error) {
	lister, err := l.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("alert: list alerts: %w", err)
	}
	var out []Record
	seen := map[string]bool{} // a listing may repeat a key being written
	for key := range lister.Keys() {
		if seen[key] {
			continue
		}
		seen[key] = true
		var r Record
		ok, err := getJSON(ctx, l.kv, key, &r)
		if err != nil {
			_ = lister.Stop()
			return nil, err
		}
		if ok && keep(&r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].ID > out[j].ID
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

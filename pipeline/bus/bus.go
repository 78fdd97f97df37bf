// Package bus owns Veille's JetStream layout: the streams, their subjects,
// the durable consumers, and the helpers stages use to publish and consume.
// It also starts the embedded NATS server of the one-process default.
//
//	ingest ──veille.items.<kind>──▶ VEILLE_ITEMS ──(classify)──▶
//	       ──veille.classified──▶ VEILLE_CLASSIFIED ──(store)──▶ ClickHouse
//	poison messages ──veille.dlq.<stage>──▶ VEILLE_DLQ
//	alerts ──veille.alerts──▶ VEILLE_ALERTS
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/veille-project/veille/domain"
)

// Streams and subjects.
const (
	StreamItems       = "VEILLE_ITEMS"
	SubjectItems      = "veille.items"
	StreamClassified  = "VEILLE_CLASSIFIED"
	SubjectClassified = "veille.classified"
	StreamDLQ         = "VEILLE_DLQ"
	SubjectDLQ        = "veille.dlq"
	StreamAlerts      = "VEILLE_ALERTS"
	SubjectAlerts     = "veille.alerts"
	// KVHealth is the key-value bucket holding each source's feed health.
	KVHealth = "veille_source_health"
	// KVSources is the key-value bucket holding the sources an admin added
	// and the pause flags an admin set, keyed by source name.
	KVSources = "veille_sources"
	// KVCatalog is the key-value bucket holding promoted narratives (their
	// YAML), keyed by narrative id, so that every process matches them.
	KVCatalog = "veille_catalog"
	// KVModel is the key-value bucket naming the active model (key
	// "active") and the versions active before it (key "history").
	KVModel = "veille_model"
	// KVBriefs is the key-value bucket holding, per brief schedule, the
	// last period made, so that a schedule fires once per period across
	// restarts and processes.
	KVBriefs = "veille_brief_schedule"
	// ObjModels is the object-store bucket holding every trained model
	// version ("<version>") with its evaluation report
	// ("<version>.report.json").
	ObjModels = "veille_models"

	// Durable consumer names.
	ConsumerClassify = "classify"
	ConsumerStore    = "store"
)

// Settings of the streams and consumers; see README "Streams and consumers".
const (
	// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id: a re-poll
	// within it never makes a second copy (storage dedups beyond it).
	DuplicateWindow = 24 * time.Hour
	// MaxAge bounds how long unconsumed messages are kept.
	MaxAge = 7 * 24 * time.Hour
	// MaxDeliver is how often a message is tried before the dead-letter subject.
	MaxDeliver = 5
	// AckWait is how long a stage may hold a message before it is redelivered.
	AckWait = 60 * time.Second
)

// Classified is the message between classify and store: an item and the
// flags found in it (none is a valid answer: the item is still stored).
type Classified struct {
	Item  domain.Item   `json:"item"`
	Flags []domain.Flag `json:"flags"`
}

// Bus is a connection to NATS JetStream with Veille's layout declared.
type Bus struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

// Connect dials url (comma-separated for a cluster) and returns a Bus. It
// reconnects forever; publishing fails fast while disconnected.
func Connect(ctx context.Context, url, name string) (*Bus, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				slog.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { slog.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", redact(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return &Bus{NC: nc, JS: js}, nil
}

// Close drains and closes the connection.
func (b *Bus) Close() {
	if b != nil && b.NC != nil {
		_ = b.NC.Drain()
		b.NC.Close()
	}
}

// Setup declares the streams, consumers and KV buckets; safe to run from
// every process at start.
func (b *Bus) Setup(ctx context.Context, replicas int) error {
	streams := []jetstream.StreamConfig{
		{Name: StreamItems, Subjects: []string{SubjectItems + ".>"}},
		{Name: StreamClassified, Subjects: []string{SubjectClassified + ".>"}},
		{Name: StreamDLQ, Subjects: []string{SubjectDLQ + ".>"}, MaxAge: 30 * 24 * time.Hour},
		{Name: StreamAlerts, Subjects: []string{SubjectAlerts, SubjectAlerts + ".>"}, MaxAge: 30 * 24 * time.Hour},
	}
	for _, sc := range streams {
		sc.Replicas = replicas
		sc.Storage = jetstream.FileStorage
		sc.Retention = jetstream.LimitsPolicy
		sc.Duplicates = DuplicateWindow
		if sc.MaxAge == 0 {
			sc.MaxAge = MaxAge
		}
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus: declare stream %s: %w", sc.Name, err)
		}
	}
	for stream, name := range map[string]string{StreamItems: ConsumerClassify, StreamClassified: ConsumerStore} {
		_, err := b.JS.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:       name,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       AckWait,
			MaxDeliver:    MaxDeliver + 1, // the last delivery moves it to the DLQ
			MaxAckPending: 50000,
			Replicas:      replicas,
		})
		if err != nil {
			return fmt.Errorf("bus: declare consumer %s on %s: %w", name, stream, err)
		}
	}
	for _, bucket := range []string{KVHealth, KVSources, KVCatalog, KVModel, KVBriefs} {
		if _, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: bucket, Replicas: replicas, Storage: jetstream.FileStorage,
		}); err != nil {
			return fmt.Errorf("bus: declare kv %s: %w", bucket, err)
		}
	}
	if _, err := b.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: ObjModels, Replicas: replicas, Storage: jetstream.FileStorage,
	}); err != nil {
		return fmt.Errorf("bus: declare object store %s: %w", ObjModels, err)
	}
	return nil
}

// ItemMsgID is the de-duplication id of an item message: the same item with
// the same text is one message however often it is polled.
func ItemMsgID(it domain.Item) string { return "item:" + it.ID + ":" + it.ContentHash }

// PublishItem publishes an item for classification and waits for the
// stream's acknowledgement.
func (b *Bus) PublishItem(ctx context.Context, it domain.Item) error {
	data, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("bus: encode item %s: %w", it.ID, err)
	}
	subj := SubjectItems + "." + token(it.Kind)
	if _, err := b.JS.Publish(ctx, subj, data, jetstream.WithMsgID(ItemMsgID(it))); err != nil {
		return fmt.Errorf("bus: publish item %s: %w", it.ID, err)
	}
	return nil
}

// PublishItemAsync publishes an item without waiting; the caller waits on
// the future (benchmarks and bulk loads).
func (b *Bus) PublishItemAsync(it domain.Item) (jetstream.PubAckFuture, error) {
	data, err := json.Marshal(it)
	if err != nil {
		return nil, fmt.Errorf("bus: encode item %s: %w", it.ID, err)
	}
	f, err := b.JS.PublishAsync(SubjectItems+"."+token(it.Kind), data, jetstream.WithMsgID(ItemMsgID(it)))
	if err != nil {
		return nil, fmt.Errorf("bus: publish item %s: %w", it.ID, err)
	}
	return f, nil
}

// ClassifiedMsgID names one classification of one item version.
func ClassifiedMsgID(c Classified, version string) string {
	return "cls:" + c.Item.ID + ":" + c.Item.ContentHash + ":" + version
}

// PublishClassifiedAsync publishes without waiting; the caller waits on the
// returned future before acknowledging the input.
func (b *Bus) PublishClassifiedAsync(c Classified, version string) (jetstream.PubAckFuture, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("bus: encode classified %s: %w", c.Item.ID, err)
	}
	f, err := b.JS.PublishAsync(SubjectClassified+"."+token(c.Item.Kind), data,
		jetstream.WithMsgID(ClassifiedMsgID(c, version)))
	if err != nil {
		return nil, fmt.Errorf("bus: publish classified %s: %w", c.Item.ID, err)
	}
	return f, nil
}

// DeadLetter moves a message that cannot be processed to the DLQ, with the
// reason in a header, then terminates it so it is never redelivered.
func (b *Bus) DeadLetter(ctx context.Context, stage string, m jetstream.Msg, reason error) error {
	out := nats.NewMsg(SubjectDLQ + "." + stage)
	out.Data = m.Data()
	out.Header.Set("Veille-Stage", stage)
	out.Header.Set("Veille-Subject", m.Subject())
	out.Header.Set("Veille-Error", reason.Error())
	if md, err := m.Metadata(); err == nil {
		out.Header.Set(nats.MsgIdHdr, fmt.Sprintf("dlq:%s:%d", md.Stream, md.Sequence.Stream))
	}
	if _, err := b.JS.PublishMsg(ctx, out); err != nil {
		return fmt.Errorf("bus: dead-letter: %w", err)
	}
	return m.Term()
}

// Deliveries returns how many times m was delivered (1 the first time).
func Deliveries(m jetstream.Msg) uint64 {
	md, err := m.Metadata()
	if err != nil {
		return 1
	}
	return md.NumDelivered
}

// Consumer returns a durable consumer declared by Setup.
func (b *Bus) Consumer(ctx context.Context, stream, name string) (jetstream.Consumer, error) {
	c, err := b.JS.Consumer(ctx, stream, name)
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s on %s: %w", name, stream, err)
	}
	return c, nil
}

// Pending returns how many messages a consumer has not yet acknowledged
// (waiting plus in flight).
func (b *Bus) Pending(ctx context.Context, stream, name string) (uint64, error) {
	c, err := b.Consumer(ctx, stream, name)
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: consumer info %s: %w", name, err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// token makes s safe as one subject token.
func token(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\n', '\r':
			return '_'
		}
		return r
	}, s)
}

// redact hides credentials in a NATS URL list.
func redact(url string) string {
	parts := strings.Split(url, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if s := strings.Index(p, "://"); s >= 0 && s < at {
				parts[i] = p[:s+3] + "***" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// ErrNotReady is returned while the bus is not connected.
var ErrNotReady = errors.New("bus: not connected")

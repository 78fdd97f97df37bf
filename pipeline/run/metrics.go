package run

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veille-project/veille/pipeline/bus"
)

// metrics are the pipeline's Prometheus series, served at /metrics.
var metrics = struct {
	published, stored, flags, insertErrors       prometheus.Counter
	processed, failed, redelivered, deadLettered *prometheus.CounterVec
	latency                                      *prometheus.HistogramVec
}{
	published:    prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_items_published_total", Help: "Items published to JetStream."}),
	stored:       prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_items_stored_total", Help: "Items written to ClickHouse (redeliveries included)."}),
	flags:        prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_flags_total", Help: "Narrative flags produced by classify."}),
	insertErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_insert_errors_total", Help: "Failed ClickHouse batch inserts (retried)."}),
	processed:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_messages_processed_total", Help: "Messages acknowledged, per stage."}, []string{"stage"}),
	failed:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_messages_failed_total", Help: "Messages that failed, per stage."}, []string{"stage"}),
	redelivered:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_messages_redelivered_total", Help: "Messages seen more than once, per stage."}, []string{"stage"}),
	deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_messages_dead_lettered_total", Help: "Messages moved to the dead-letter subject, per stage."}, []string{"stage"}),
	latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "veille_stage_seconds", Help: "Time per item (classify) or per batch (store).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	}, []string{"stage"}),
}

func init() {
	prometheus.MustRegister(metrics.published, metrics.stored, metrics.flags, metrics.insertErrors,
		metrics.processed, metrics.failed, metrics.redelivered, metrics.deadLettered, metrics.latency)
}

// lagBus is the bus whose consumers' lag /metrics reports (the process's
// own; nil until a Runner opens one).
var lagBus atomic.Pointer[bus.Bus]

func init() {
	for _, c := range []struct{ stream, consumer string }{
		{bus.StreamItems, bus.ConsumerClassify},
		{bus.StreamClassified, bus.ConsumerStore},
	} {
		prometheus.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "veille_consumer_lag",
			Help:        "Messages a durable consumer has not yet acknowledged (waiting plus in flight).",
			ConstLabels: prometheus.Labels{"consumer": c.consumer},
		}, func() float64 {
			b := lagBus.Load()
			if b == nil {
				return 0
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := b.Pending(ctx, c.stream, c.consumer)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
}

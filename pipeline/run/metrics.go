package run

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pipeline's Prometheus series, served at /metrics.
var metrics = struct {
	fetched, published, stored, flags, insertErrors prometheus.Counter
	processed, failed, redelivered, deadLettered    *prometheus.CounterVec
	latency                                         *prometheus.HistogramVec
}{
	fetched:      prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_items_fetched_total", Help: "Items read from sources."}),
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
	prometheus.MustRegister(metrics.fetched, metrics.published, metrics.stored, metrics.flags, metrics.insertErrors,
		metrics.processed, metrics.failed, metrics.redelivered, metrics.deadLettered, metrics.latency)
}

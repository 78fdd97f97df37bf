package alert

import "github.com/prometheus/client_golang/prometheus"

// metrics are the early-warning series, served with the pipeline's at
// /metrics (default registry).
var metrics = struct {
	evaluations, evalErrors prometheus.Counter
	alerts                  *prometheus.CounterVec
	attempts                *prometheus.CounterVec
}{
	evaluations: prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_alert_evaluations_total", Help: "Evaluations of the alert rules."}),
	evalErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "veille_alert_evaluation_errors_total", Help: "Evaluations that failed (store or state unreachable)."}),
	alerts:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_alerts_total", Help: "Alerts raised, per kind (new, update, precision)."}, []string{"kind"}),
	attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "veille_alert_delivery_attempts_total",
		Help: "Delivery attempts per channel and outcome (sent, retry, failed)."}, []string{"channel", "outcome"}),
}

func init() {
	prometheus.MustRegister(metrics.evaluations, metrics.evalErrors, metrics.alerts, metrics.attempts)
}

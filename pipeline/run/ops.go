package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Ops is the operations endpoint every process exposes: /healthz (the
// process is alive), /readyz (its dependencies answer) and /metrics.
type Ops struct {
	ready atomic.Pointer[func(context.Context) error]
}

// SetReady sets the check behind /readyz.
func (o *Ops) SetReady(check func(context.Context) error) { o.ready.Store(&check) }

// Register adds the three endpoints to mux.
func (o *Ops) Register(mux *http.ServeMux) {
	o.RegisterHealth(mux)
	mux.Handle("GET /metrics", promhttp.Handler())
}

// RegisterHealth adds /healthz and /readyz only: what the web app's public
// port answers, so metrics stay on their own listener.
func (o *Ops) RegisterHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		check := o.ready.Load()
		if check == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := (*check)(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// Serve runs the ops endpoints on addr until ctx ends.
func (o *Ops) Serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	o.Register(mux)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ops: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	slog.Info("ops endpoints", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ops: %w", err)
	}
	return nil
}

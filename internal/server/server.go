// Package server mounts Gatehouse's surfaces on one handler and adds the
// operational endpoints: /healthz (process up), /readyz (database
// reachable) and /metrics (Prometheus).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/web"
)

// Surface is a part of Gatehouse that registers routes.
type Surface interface {
	Mount(mux *http.ServeMux)
}

// Pinger checks a dependency.
type Pinger interface {
	Ping(ctx context.Context) error
}

// New builds the root handler.
func New(log *slog.Logger, reg *prometheus.Registry, db Pinger, surfaces ...Surface) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ping(ctx); err != nil {
			web.Logger(r.Context(), log).Warn("readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unreachable\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	for _, s := range surfaces {
		s.Mount(mux)
	}
	// A surface that guards its requests before the mux routes them
	// (ServeMux answers a path that is not clean with a redirect of its
	// own, before any route's handler) wraps the mux.
	var h http.Handler = mux
	for _, s := range surfaces {
		if g, ok := s.(Guard); ok {
			h = g.Guard(h)
		}
	}
	return web.Middleware(h, log, web.NewMetrics(reg))
}

// Guard is implemented by a surface that sees each request before the mux
// routes it.
type Guard interface {
	Guard(next http.Handler) http.Handler
}

// WithoutAdminPlane serves h except for the admin plane: paths for which
// isAdmin reports true, and /metrics, get notFound. It is the public
// listener's handler when the admin plane has a listener of its own.
func WithoutAdminPlane(h http.Handler, isAdmin func(path string) bool, notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isAdmin(r.URL.Path):
			notFound.ServeHTTP(w, r)
		case r.URL.Path == "/metrics":
			http.NotFound(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

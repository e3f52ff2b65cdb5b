package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// onLocalhost, as the base URL of a tweak, serves the test server as
// http://localhost:<port>.
const onLocalhost = "localhost"

// localhost is the tweak that names the test server localhost.
func localhost(c *config.Config) { c.BaseURL = onLocalhost }

// testServer is a fully wired Gatehouse on a fresh database.
type testServer struct {
	*app
	srv   *httptest.Server
	token string
}

// newTestServer starts Gatehouse on SQLite in a temp dir, or on a fresh
// PostgreSQL database when postgres is true.
func newTestServer(t testing.TB, postgres bool, tweak ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if postgres {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	cfg.MasterKeyFile = filepath.Join(cfg.DataDir, "master.key")
	cfg.APIRateLimit = 100000
	for _, f := range tweak {
		f(&cfg)
	}
	srv := httptest.NewUnstartedServer(nil)
	if cfg.BaseURL == onLocalhost {
		// A host name, so that passkeys work (WebAuthn refuses IP addresses).
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		cfg.BaseURL = "http://localhost:" + port
	} else {
		cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := build(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler(prometheus.NewRegistry())
	srv.Start()
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	r := a.runner(log)
	r.Poll = 50 * time.Millisecond
	go func() { defer close(jobsDone); r.Run(jobsCtx) }()
	t.Cleanup(func() { stopJobs(); <-jobsDone; srv.Close(); a.close() })
	tok, _, err := oktaapi.NewToken(context.Background(), a.db.Tokens(), a.ids, a.now(), a.events, "test", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{app: a, srv: srv, token: tok}
}

// onBothDBs runs fn as parallel subtests on SQLite and on PostgreSQL.
func onBothDBs(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, pg)
		})
	}
}

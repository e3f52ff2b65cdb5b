package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// demoFile is DIR/demo.json, for scripts and tests.
type demoFile struct {
	GatehouseURL string          `json:"gatehouse_url"`
	SignInURL    string          `json:"sign_in_url"`
	Admin        demoCredentials `json:"admin"`
	Agent        demoAgent       `json:"agent"`
	AppID        string          `json:"app_id"`
	APIToken     string          `json:"api_token"`
	Sandbox      demoSandbox     `json:"sandbox"`
}

type demoCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type demoAgent struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type demoSandbox struct {
	URL               string `json:"url"`
	AccountID         string `json:"account_id"`
	AccessKeyID       string `json:"access_key_id"`
	SecretAccessKey   string `json:"secret_access_key"`
	Region            string `json:"region"`
	ConnectInstanceID string `json:"connect_instance_id"`
}

// cmdDemo starts the AWS sandbox and Gatehouse on embedded SQLite, plays
// the administrator's half of the Amazon Connect story through Gatehouse's
// API, and serves until interrupted, so a person can sign in as the agent
// and click the Amazon Connect tile.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("gatehouse demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "gatehouse-demo", "directory for the demo's database and demo.json (reset at every start)")
	listen := fs.String("listen", "127.0.0.1:8080", "Gatehouse address")
	sandboxAddr := fs.String("sandbox-addr", "127.0.0.1:4566", "AWS sandbox address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The sandbox keeps its state in memory, so the demo starts clean.
	for _, f := range []string{"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "demo.json"} {
		os.Remove(filepath.Join(*dir, f))
	}
	sb, err := awssandbox.New(awssandbox.Options{})
	if err != nil {
		return err
	}
	sbLn, err := net.Listen("tcp", *sandboxAddr)
	if err != nil {
		return fmt.Errorf("AWS sandbox: %w", err)
	}
	sbURL := "http://" + sbLn.Addr().String()
	sbSrv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go sbSrv.Serve(sbLn)
	defer sbSrv.Close()
	info := sb.Info(sbURL)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	cfg, err := loadConfig("demo", []string{"--data-dir", *dir, "--listen", ln.Addr().String(), "--aws-endpoint", sbURL}, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	srv := &http.Server{Handler: a.handler(prometheus.NewRegistry()), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	defer a.startJobs(log)()

	base := cfg.EffectiveBaseURL()
	admin := demoCredentials{Email: "admin@example.com", Password: "Gatehouse-Console-1"}
	agent := demoAgent{Username: "agent.smith@example.com", Password: "Connect-Passw0rd!"}
	if _, err := a.createAdmin(ctx, admin.Email, admin.Password, "Ada", "Admin"); err != nil {
		return describe(err)
	}
	token, _, err := oktaapi.NewToken(ctx, a.db.Tokens(), a.ids, a.now(), a.events, "demo", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		return err
	}
	gh := &demo.Client{BaseURL: base, Token: token}
	st, err := demo.SetUp(ctx, gh, demo.AWS{Endpoint: sbURL, AccountID: info.AccountID, AccessKeyID: info.AccessKeyID,
		SecretAccessKey: info.SecretAccessKey, Region: info.Region, ConnectInstanceID: info.ConnectInstanceID},
		demo.Agent{Login: agent.Username, Password: agent.Password, FirstName: "Agatha", LastName: "Smith"})
	if err != nil {
		return err
	}
	if err := demo.WaitProvisioned(ctx, gh, st.AppID, time.Minute); err != nil {
		return err
	}
	out := demoFile{GatehouseURL: base, SignInURL: base + "/login", Admin: admin, Agent: agent, AppID: st.AppID, APIToken: token,
		Sandbox: demoSandbox{URL: sbURL, AccountID: info.AccountID, AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
			Region: info.Region, ConnectInstanceID: info.ConnectInstanceID}}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, "demo.json"), b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Gatehouse demo is ready.

  Sign in:        %s/login
  Agent:          %s / %s   (click the Amazon Connect tile)
  Administrator:  %s / %s
  AWS sandbox:    %s (account %s, Connect instance %s)
  Details:        %s

Press Ctrl-C to stop.
`, base, agent.Username, agent.Password, admin.Email, admin.Password, sbURL, info.AccountID, info.ConnectInstanceID, filepath.Join(*dir, "demo.json"))
	<-ctx.Done()
	return nil
}

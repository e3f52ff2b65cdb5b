package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DatabaseDSN() != filepath.Join("gatehouse-data", "gatehouse.db") || c.EffectiveBaseURL() != "http://127.0.0.1:8080" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "g.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nlog_level: debug\nsession_idle: 30m\nbase_url: https://file.example\n"), 0o600)
	c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--config", file, "--base-url", "https://flag.example"},
		env(map[string]string{"GATEHOUSE_LOG_LEVEL": "warn", "GATEHOUSE_LISTEN": "127.0.0.1:9100"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9100" || c.LogLevel != "warn" || c.BaseURL != "https://flag.example" || c.SessionIdle != 30*time.Minute {
		t.Fatalf("precedence wrong: %+v", c)
	}
}

func TestUnknownKeyRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "g.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nlisten_adress: x\n"), 0o600)
	_, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--config", file}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "listen_adress") {
		t.Fatalf("want unknown key error, got %v", err)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, env(map[string]string{
		"GATEHOUSE_LISTEN": "nope", "GATEHOUSE_LOG_LEVEL": "loud", "GATEHOUSE_BASE_URL": "ftp://x",
		"GATEHOUSE_DATABASE_URL": "mysql://x", "GATEHOUSE_LOCKOUT_AFTER": "abc",
	}))
	ce, ok := err.(*Error)
	if !ok {
		t.Fatalf("want *Error, got %v", err)
	}
	for _, want := range []string{"listen", "log_level", "base_url", "database_url", "GATEHOUSE_LOCKOUT_AFTER"} {
		found := false
		for _, p := range ce.Problems {
			if strings.Contains(p, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("problem about %s missing in %v", want, ce.Problems)
		}
	}
}

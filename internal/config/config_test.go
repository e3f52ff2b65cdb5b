package config

import (
	"flag"
	"fmt"
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

func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	ce, ok := err.(*Error)
	if !ok {
		t.Fatalf("want *Error, got %v", err)
	}
	return ce.Problems
}

func has(ps []string, sub string) bool {
	for _, p := range ps {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}

func TestEmailSettings(t *testing.T) {
	load := func(e map[string]string, args ...string) (Config, []string) {
		c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), args, env(e))
		return c, problems(t, err)
	}
	c, ps := load(map[string]string{"GATEHOUSE_SMTP_HOST": "smtp.example.com", "GATEHOUSE_SMTP_FROM": "Gatehouse <no-reply@example.com>",
		"GATEHOUSE_SMTP_USERNAME": "relay", "GATEHOUSE_SMTP_PASSWORD": "s3cret", "GATEHOUSE_PASSWORD_RESET_TTL": "30m"})
	if ps != nil || c.SMTPPassword != "s3cret" || c.EffectiveSMTPPort() != 587 || c.SMTPTLS != "starttls" || c.PasswordResetTTL != 30*time.Minute {
		t.Fatalf("%v %+v", ps, c)
	}
	// The password is never a flag (it would show in the process list).
	if _, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--smtp-password", "x"}, env(nil)); err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("--smtp-password accepted: %v", err)
	}
	// Clear text only to loopback, unless explicitly allowed; every problem at once.
	_, ps = load(map[string]string{"GATEHOUSE_SMTP_HOST": "smtp.example.com", "GATEHOUSE_SMTP_TLS": "none", "GATEHOUSE_SMTP_USERNAME": "relay",
		"GATEHOUSE_SMTP_FROM": "not an address", "GATEHOUSE_PASSWORD_RESET_TTL": "1m"})
	for _, want := range []string{"smtp_tls: none", "smtp_username: the SMTP password would cross", "smtp_username and smtp_password", "smtp_from", "password_reset_ttl"} {
		if !has(ps, want) {
			t.Errorf("missing problem %q in %v", want, ps)
		}
	}
	if _, ps = load(map[string]string{"GATEHOUSE_SMTP_HOST": "127.0.0.1", "GATEHOUSE_SMTP_TLS": "none", "GATEHOUSE_SMTP_FROM": "a@example.com"}); ps != nil {
		t.Errorf("loopback without TLS: %v", ps)
	}
	if _, ps = load(map[string]string{"GATEHOUSE_SMTP_HOST": "relay.internal", "GATEHOUSE_SMTP_TLS": "none", "GATEHOUSE_SMTP_ALLOW_INSECURE": "true", "GATEHOUSE_SMTP_FROM": "a@example.com"}); ps != nil {
		t.Errorf("explicitly allowed clear text: %v", ps)
	}
	if _, ps = load(map[string]string{"GATEHOUSE_SMTP_FROM": "a@example.com"}); !has(ps, "smtp_host: required") {
		t.Errorf("smtp_from without host: %v", ps)
	}
	if _, ps = load(map[string]string{"GATEHOUSE_SMTP_HOST": "smtp://x:25", "GATEHOUSE_SMTP_FROM": "a@example.com", "GATEHOUSE_SMTP_TLS": "ssl"}); !has(ps, "smtp_host:") || !has(ps, `smtp_tls: "ssl"`) {
		t.Errorf("bad host and mode: %v", ps)
	}
	if _, ps = load(map[string]string{"GATEHOUSE_GOOGLE_ISSUER": "http://accounts.example.com"}); !has(ps, "google_issuer") {
		t.Errorf("http issuer off loopback: %v", ps)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, env(map[string]string{"GATEHOUSE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::1,fd00::1/64"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.TrustedProxyPrefixes()
	if err != nil || fmt.Sprint(got) != "[10.0.0.0/8 192.168.1.7/32 ::1/128 fd00::/64]" {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := Default().TrustedProxyPrefixes(); len(got) != 0 {
		t.Fatalf("trusted by default: %v", got)
	}
	_, err = Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--trusted-proxies", "10.0.0.0/8,lb.internal,10.1.2.3/40"}, env(nil))
	if ps := problems(t, err); !has(ps, `trusted_proxies: "lb.internal" is not an address or CIDR range`) {
		t.Fatalf("bad entries: %v", ps)
	}
}

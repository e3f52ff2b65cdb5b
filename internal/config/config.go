// Package config holds Gatehouse's settings: their defaults, how flags,
// GATEHOUSE_* environment variables and an optional YAML file (same keys)
// set them, and a validation that reports every problem at once. Only
// cmd/gatehouse imports it.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. The yaml tag is the key in the file;
// the environment variable is GATEHOUSE_ + the key upper-cased; the flag is
// the key with underscores as dashes.
type Config struct {
	Listen                 string        `yaml:"listen" help:"address to listen on"`
	AdminListen            string        `yaml:"admin_listen" help:"serve the management API (/api/v1 but /api/v1/authn and /api/v1/sessions/me) and /metrics only on this address, not on listen"`
	BaseURL                string        `yaml:"base_url" help:"public base URL of this server (never derived from the Host header)"`
	DataDir                string        `yaml:"data_dir" help:"directory for the embedded database and the master key"`
	DatabaseURL            string        `yaml:"database_url" help:"postgres:// URL to use PostgreSQL instead of embedded SQLite"`
	LogLevel               string        `yaml:"log_level" help:"debug, info, warn or error"`
	LogFormat              string        `yaml:"log_format" help:"text or json"`
	MasterKeyFile          string        `yaml:"master_key_file" help:"file holding the master key that encrypts secrets at rest (default DATA_DIR/master.key)"`
	MasterKey              string        `yaml:"master_key" help:"the master key itself, base64 (prefer the file or the environment)"`
	LegacyCrypto           bool          `yaml:"legacy_crypto" help:"allow SHA-1 signatures and RSA keys under 2048 bits"`
	APIRateLimit           int           `yaml:"api_rate_limit" help:"API requests per minute per token"`
	APITokenWindow         time.Duration `yaml:"api_token_window" help:"an API token unused for this long expires (Okta: 30 days)"`
	LockoutAfter           int           `yaml:"lockout_after" help:"consecutive failed sign-ins before LOCKED_OUT"`
	SessionIdle            time.Duration `yaml:"session_idle" help:"sign-in session idle timeout"`
	SessionMax             time.Duration `yaml:"session_max" help:"sign-in session absolute lifetime"`
	SignInIPLimit          int           `yaml:"signin_ip_limit" help:"sign-in attempts per minute from one address"`
	TrustedProxies         string        `yaml:"trusted_proxies" help:"comma-separated addresses or CIDR ranges of the load balancers and reverse proxies in front of Gatehouse; their X-Forwarded-For names the client (empty: the peer is the client)"`
	AWSEndpoint            string        `yaml:"aws_endpoint" help:"send AWS API calls to this URL instead of AWS (the Gatehouse AWS sandbox; testing only)"`
	Provisioners           int           `yaml:"provisioning_workers" help:"concurrent provisioning jobs on this node"`
	BootstrapAdminEmail    string        `yaml:"bootstrap_admin_email" help:"create this super admin at first start"`
	BootstrapAdminPassword string        `yaml:"bootstrap_admin_password" help:"password of the bootstrap admin"`
	// Email (password reset and activation links).
	SMTPHost          string        `yaml:"smtp_host" help:"SMTP relay that sends Gatehouse's email (password reset and activation links); empty sends none"`
	SMTPPort          int           `yaml:"smtp_port" help:"SMTP port (default 587 with starttls, 465 with tls, 25 with none)"`
	SMTPUsername      string        `yaml:"smtp_username" help:"SMTP AUTH username (empty: no AUTH)"`
	SMTPPassword      string        `yaml:"smtp_password" flag:"-" help:"SMTP AUTH password"`
	SMTPFrom          string        `yaml:"smtp_from" help:"From address of Gatehouse's email, such as \"Gatehouse <no-reply@example.com>\""`
	SMTPTLS           string        `yaml:"smtp_tls" help:"starttls, tls (implicit TLS, port 465) or none (a relay on loopback only, unless smtp_allow_insecure)"`
	SMTPAllowInsecure bool          `yaml:"smtp_allow_insecure" help:"allow smtp_tls none to a relay that is not on loopback"`
	SMTPCAFile        string        `yaml:"smtp_ca_file" help:"PEM file of the CA certificates that verify the relay, instead of the system roots"`
	PasswordResetTTL  time.Duration `yaml:"password_reset_ttl" help:"how long an emailed password-reset link works"`
	// Event hooks' outbound calls.
	EventHookAllowHTTP bool   `yaml:"event_hook_allow_http" help:"accept http:// event hook URIs (otherwise https only)"`
	EventHookCAFile    string `yaml:"event_hook_ca_file" help:"PEM file of the CA certificates that verify event hook endpoints, instead of the system roots"`
	// Test stand-ins for the social providers' issuers.
	GoogleIssuer   string `yaml:"google_issuer" help:"issuer of GOOGLE identity providers instead of https://accounts.google.com (testing only)"`
	LinkedInIssuer string `yaml:"linkedin_issuer" help:"issuer of LINKEDIN identity providers instead of https://www.linkedin.com/oauth (testing only)"`
}

// Default returns the defaults: SQLite in ./gatehouse-data on 127.0.0.1:8080.
func Default() Config {
	return Config{
		Listen:           "127.0.0.1:8080",
		DataDir:          "gatehouse-data",
		LogLevel:         "info",
		LogFormat:        "text",
		APIRateLimit:     600,
		APITokenWindow:   30 * 24 * time.Hour,
		LockoutAfter:     10,
		SessionIdle:      2 * time.Hour,
		SessionMax:       12 * time.Hour,
		Provisioners:     4,
		SignInIPLimit:    60,
		SMTPTLS:          "starttls",
		PasswordResetTTL: time.Hour,
	}
}

// EffectiveBaseURL is BaseURL, or http://<listen> when unset.
func (c Config) EffectiveBaseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Listen
}

// EffectiveSMTPPort is SMTPPort, or the usual port of the TLS mode.
func (c Config) EffectiveSMTPPort() int {
	if c.SMTPPort != 0 {
		return c.SMTPPort
	}
	switch c.SMTPTLS {
	case "tls":
		return 465
	case "none":
		return 25
	}
	return 587
}

// DatabaseDSN is the PostgreSQL URL, or the SQLite file in the data dir.
func (c Config) DatabaseDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "gatehouse.db")
}

// MasterKeyPath is where the master key file is.
func (c Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// TrustedProxyPrefixes parses TrustedProxies (Validate reports errors).
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted_proxies: %q is not an address or CIDR range", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not an address or CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Load builds the configuration from defaults, then the YAML file (from
// --config or GATEHOUSE_CONFIG), then the environment, then flags, and
// validates it.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	var file string
	fs.StringVar(&file, "config", "", "YAML configuration file")
	set := bind(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if file == "" {
		file = getenv("GATEHOUSE_CONFIG")
	}
	flagged := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { flagged[f.Name] = true })
	// Apply in order of precedence: file < env < flags.
	fromFlags := c
	c = Default()
	var problems []string
	if file != "" {
		if err := loadFile(file, &c); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, applyEnv(&c, getenv)...)
	for name := range flagged {
		if f, ok := set[name]; ok {
			f(&c, &fromFlags)
		}
	}
	problems = append(problems, c.Validate()...)
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// Error lists every configuration problem.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

func fields() []reflect.StructField {
	t := reflect.TypeOf(Config{})
	out := make([]reflect.StructField, t.NumField())
	for i := range out {
		out[i] = t.Field(i)
	}
	return out
}

// bind registers one flag per field and returns, per flag name, a function
// copying the flag's value from the parsed config into the target.
func bind(fs *flag.FlagSet, c *Config) map[string]func(dst, src *Config) {
	out := map[string]func(dst, src *Config){}
	v := reflect.ValueOf(c).Elem()
	for i, f := range fields() {
		if f.Tag.Get("flag") == "-" {
			continue // secrets: environment or file only, never on a command line
		}
		key := f.Tag.Get("yaml")
		name := strings.ReplaceAll(key, "_", "-")
		help := f.Tag.Get("help")
		p := v.Field(i).Addr().Interface()
		switch ptr := p.(type) {
		case *string:
			fs.StringVar(ptr, name, *ptr, help)
		case *int:
			fs.IntVar(ptr, name, *ptr, help)
		case *bool:
			fs.BoolVar(ptr, name, *ptr, help)
		case *time.Duration:
			fs.DurationVar(ptr, name, *ptr, help)
		}
		idx := i
		out[name] = func(dst, src *Config) {
			reflect.ValueOf(dst).Elem().Field(idx).Set(reflect.ValueOf(src).Elem().Field(idx))
		}
	}
	return out
}

func loadFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %v", path, err)
	}
	return nil
}

func applyEnv(c *Config, getenv func(string) string) []string {
	var problems []string
	v := reflect.ValueOf(c).Elem()
	for i, f := range fields() {
		env := "GATEHOUSE_" + strings.ToUpper(f.Tag.Get("yaml"))
		s := getenv(env)
		if s == "" {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(s)
		case reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not true or false", env, s))
				continue
			}
			fv.SetBool(b)
		case reflect.Int64:
			d, err := time.ParseDuration(s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not a duration such as 30m or 12h", env, s))
				continue
			}
			fv.SetInt(int64(d))
		case reflect.Int:
			n, err := strconv.Atoi(s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not a whole number", env, s))
				continue
			}
			fv.SetInt(int64(n))
		}
	}
	return problems
}

// Validate returns every problem with c.
func (c Config) Validate() []string {
	var p []string
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p = append(p, fmt.Sprintf("listen: %q is not host:port", c.Listen))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			p = append(p, fmt.Sprintf("base_url: %q must be an absolute http(s) URL without query or fragment", c.BaseURL))
		}
	}
	if c.DatabaseURL == "" && strings.TrimSpace(c.DataDir) == "" {
		p = append(p, "data_dir: must not be empty when database_url is not set")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		p = append(p, "database_url: only postgres:// URLs are supported (leave it empty for embedded SQLite)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("log_level: %q must be debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		p = append(p, fmt.Sprintf("log_format: %q must be text or json", c.LogFormat))
	}
	if c.APIRateLimit < 1 {
		p = append(p, "api_rate_limit: must be at least 1")
	}
	if c.AdminListen != "" && c.AdminListen == c.Listen {
		p = append(p, "admin_listen: must differ from listen")
	}
	if c.APITokenWindow < time.Minute {
		p = append(p, "api_token_window: must be at least 1m")
	}
	if c.LockoutAfter < 1 || c.LockoutAfter > 100 {
		p = append(p, "lockout_after: must be between 1 and 100")
	}
	if c.SessionIdle < time.Minute {
		p = append(p, "session_idle: must be at least 1m")
	}
	if c.SessionMax < c.SessionIdle {
		p = append(p, "session_max: must be at least session_idle")
	}
	if c.AWSEndpoint != "" {
		if u, err := url.Parse(c.AWSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, fmt.Sprintf("aws_endpoint: %q must be an http(s) URL", c.AWSEndpoint))
		}
	}
	if c.SignInIPLimit < 1 {
		p = append(p, "signin_ip_limit: must be at least 1")
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		p = append(p, err.Error())
	}
	if c.Provisioners < 1 || c.Provisioners > 64 {
		p = append(p, "provisioning_workers: must be between 1 and 64")
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPassword == "") {
		p = append(p, "bootstrap_admin_email and bootstrap_admin_password must be set together")
	}
	p = append(p, c.validateEmail()...)
	for key, v := range map[string]string{"google_issuer": c.GoogleIssuer, "linkedin_issuer": c.LinkedInIssuer} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) || u.RawQuery != "" {
			p = append(p, fmt.Sprintf("%s: %q must be an https URL (http only on a loopback address)", key, v))
		}
	}
	sort.Strings(p)
	return p
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c Config) validateEmail() []string {
	var p []string
	if c.PasswordResetTTL < 5*time.Minute || c.PasswordResetTTL > 24*time.Hour {
		p = append(p, "password_reset_ttl: must be between 5m and 24h")
	}
	if c.SMTPHost == "" {
		if c.SMTPFrom != "" || c.SMTPUsername != "" || c.SMTPPassword != "" || c.SMTPCAFile != "" {
			p = append(p, "smtp_host: required when other smtp_ settings are given")
		}
		return p
	}
	if strings.ContainsAny(c.SMTPHost, "/: \t") && net.ParseIP(c.SMTPHost) == nil {
		p = append(p, fmt.Sprintf("smtp_host: %q must be a host name or IP address, without scheme or port (set smtp_port)", c.SMTPHost))
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		p = append(p, "smtp_port: must be between 1 and 65535")
	}
	if c.SMTPFrom == "" {
		p = append(p, "smtp_from: required with smtp_host, such as \"Gatehouse <no-reply@example.com>\"")
	} else if _, err := mail.ParseAddress(c.SMTPFrom); err != nil || strings.ContainsAny(c.SMTPFrom, "\r\n") {
		p = append(p, fmt.Sprintf("smtp_from: %q is not an email address", c.SMTPFrom))
	}
	loopback := isLoopback(c.SMTPHost)
	switch c.SMTPTLS {
	case "starttls", "tls":
	case "none":
		if !loopback && !c.SMTPAllowInsecure {
			p = append(p, "smtp_tls: none sends links in clear text; it is allowed for a relay on loopback only, unless smtp_allow_insecure is true")
		}
		if !loopback && c.SMTPUsername != "" {
			p = append(p, "smtp_username: the SMTP password would cross the network unencrypted; use smtp_tls starttls or tls")
		}
	default:
		p = append(p, fmt.Sprintf("smtp_tls: %q must be starttls, tls or none", c.SMTPTLS))
	}
	if (c.SMTPUsername == "") != (c.SMTPPassword == "") {
		p = append(p, "smtp_username and smtp_password must be set together (the password through GATEHOUSE_SMTP_PASSWORD or the config file)")
	}
	if c.SMTPCAFile != "" {
		if _, err := os.Stat(c.SMTPCAFile); err != nil {
			p = append(p, fmt.Sprintf("smtp_ca_file: %v", err))
		}
	}
	if c.EventHookCAFile != "" {
		if _, err := os.Stat(c.EventHookCAFile); err != nil {
			p = append(p, fmt.Sprintf("event_hook_ca_file: %v", err))
		}
	}
	return p
}

// Package smtptest runs a real, independent SMTP server for tests:
// aiosmtpd (Debian's python3-aiosmtpd) on a random loopback port, plain,
// with STARTTLS or with implicit TLS (a certificate made for the run), with
// or without AUTH, saving every accepted message to a file. Tests read the
// received bytes and the envelope back, and can stop and restart the
// server to play a relay that is down.
//
// When aiosmtpd is missing the test is skipped, unless
// GATEHOUSE_REQUIRE_AIOSMTPD=1 (scripts/test.sh and CI set it), which
// fails it instead.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

//go:embed smtpd.py
var script []byte

// Options choose the server's behaviour.
type Options struct {
	// Mode is "none", "starttls" or "tls".
	Mode string
	// User and Password, when set, make AUTH required.
	User, Password string
}

// Server is a running aiosmtpd.
type Server struct {
	Host string // 127.0.0.1
	Port int
	Dir  string
	// Roots trusts the server's certificate (TLS modes).
	Roots *x509.CertPool

	t         testing.TB
	opts      Options
	python    string
	script    string
	cert, key string
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	exited    chan struct{}
}

// Received is one accepted message.
type Received struct {
	Raw           []byte
	Message       *mail.Message
	Body          []byte
	MailFrom      string   `json:"mail_from"`
	RcptTos       []string `json:"rcpt_tos"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
	Helo          string   `json:"helo"`
}

// Python finds a python3 that has aiosmtpd: Debian's /usr/bin/python3
// first (another python3 may come first on PATH).
func Python() (string, error) {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no python3 with aiosmtpd (apt-get install -y python3-aiosmtpd)")
}

// Start runs a server for the test; it stops at the test's end.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	py, err := Python()
	if err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_AIOSMTPD") == "1" {
			t.Fatalf("%v, and GATEHOUSE_REQUIRE_AIOSMTPD=1", err)
		}
		t.Skip(err)
	}
	if o.Mode == "" {
		o.Mode = "none"
	}
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1", Dir: filepath.Join(dir, "mail"), t: t, opts: o, python: py, script: filepath.Join(dir, "smtpd.py")}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.script, script, 0o600); err != nil {
		t.Fatal(err)
	}
	if o.Mode != "none" {
		s.cert, s.key, s.Roots = makeCert(t, dir)
	}
	var last error
	for range 5 {
		s.Port = freePort(t)
		if last = s.start(); last == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("aiosmtpd did not start: %v", last)
	return nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) start() error {
	args := []string{s.script, "--port", fmt.Sprint(s.Port), "--dir", s.Dir, "--mode", s.opts.Mode}
	if s.cert != "" {
		args = append(args, "--cert", s.cert, "--key", s.key)
	}
	if s.opts.User != "" {
		args = append(args, "--user", s.opts.User, "--password", s.opts.Password)
	}
	cmd := exec.Command(s.python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "READY" {
				ready <- nil
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("exited before READY")
	}()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case err := <-ready:
		if err != nil {
			<-exited
			return fmt.Errorf("%v: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("no READY in 20s: %s", stderr.String())
	}
	s.cmd, s.stdin, s.exited = cmd, stdin, exited
	return nil
}

// Stop ends the server (a relay that is down). Messages stay readable.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts the server again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for range 20 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restart aiosmtpd: %v", err)
}

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Received {
	s.t.Helper()
	names, _ := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	sort.Strings(names)
	var out []Received
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			s.t.Fatal(err)
		}
		var r Received
		meta, err := os.ReadFile(strings.TrimSuffix(n, ".eml") + ".json")
		if err != nil {
			s.t.Fatal(err)
		}
		if err := json.Unmarshal(meta, &r); err != nil {
			s.t.Fatal(err)
		}
		r.Raw = raw
		if r.Message, err = mail.ReadMessage(bytes.NewReader(raw)); err != nil {
			s.t.Fatalf("received message %s does not parse: %v", n, err)
		}
		r.Body, _ = io.ReadAll(r.Message.Body)
		out = append(out, r)
	}
	return out
}

// Wait returns the messages once there are at least n, failing the test
// after timeout.
func (s *Server) Wait(n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ms := s.Messages(); len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %d message(s), have %d", timeout, n, len(s.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func makeCert(t testing.TB, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

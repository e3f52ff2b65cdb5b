package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); refused if the server does not offer it
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same host
)

// SMTPConfig says how to reach the relay.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	TLS      string
	// RootCAs verifies the server certificate; nil uses the system roots.
	RootCAs *x509.CertPool
	// HelloName is the name given in EHLO; "localhost" when empty.
	HelloName string
	// Timeout bounds one delivery (dial to QUIT); 30 seconds when zero.
	Timeout time.Duration
}

// SMTP delivers messages to one relay. It keeps no connection open
// between messages.
type SMTP struct {
	Config SMTPConfig
}

// Error is a failed delivery. Permanent failures (a 5xx answer) are not
// worth retrying; the others (connection refused, timeouts, 4xx) are.
type Error struct {
	Op        string // dial, starttls, auth, mail, rcpt, data
	Permanent bool
	Err       error
}

func (e *Error) Error() string { return "smtp " + e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery failure that retrying
// cannot fix.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var tp *textproto.Error
	perm := false
	if errors.As(err, &tp) {
		perm = tp.Code >= 500 && tp.Code < 600
	}
	return &Error{Op: op, Permanent: perm, Err: err}
}

// Send delivers raw (a composed message) from from to each of to.
func (s *SMTP) Send(ctx context.Context, from string, to []string, raw []byte) error {
	cfg := s.Config
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	tlsConf := &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return classify("dial", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A canceled context ends the conversation at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return &Error{Op: "tls", Err: err}
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return classify("greeting", err)
	}
	defer c.Close()
	helo := cfg.HelloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return classify("ehlo", err)
	}
	if cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &Error{Op: "starttls", Permanent: true, Err: errors.New("the server does not offer STARTTLS (set smtp_tls to tls for port 465)")}
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return classify("starttls", err)
		}
	}
	if cfg.Username != "" {
		// PlainAuth itself refuses to send the password over a connection
		// that is neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return classify("auth", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classify("mail", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return classify("rcpt", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		return classify("data", err)
	}
	if err := w.Close(); err != nil {
		return classify("data", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted (the DATA reply came back); a failed
		// QUIT does not undo that.
		return nil
	}
	return nil
}

// Postman renders a template, composes and sends: what the rest of
// Gatehouse calls to send one message.
type Postman struct {
	Templates *Templates
	Composer  Composer
	Sender    interface {
		Send(ctx context.Context, from string, to []string, raw []byte) error
	}
}

// Send renders template name for to with data and delivers it. It returns
// the Message-ID.
func (p *Postman) Send(ctx context.Context, name, to string, data any) (string, error) {
	m, err := p.Templates.Render(name, to, data)
	if err != nil {
		return "", &Error{Op: "render", Permanent: true, Err: err}
	}
	raw, id, err := p.Composer.Compose(m)
	if err != nil {
		return "", &Error{Op: "compose", Permanent: true, Err: err}
	}
	if err := p.Sender.Send(ctx, p.Composer.From.Address, []string{m.To.Address}, raw); err != nil {
		return "", fmt.Errorf("deliver %s: %w", name, err)
	}
	return id, nil
}

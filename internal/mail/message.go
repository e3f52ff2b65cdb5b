// Package mail composes and sends Gatehouse's email: messages built from
// embedded templates (a plain-text part and an HTML part, as
// multipart/alternative with quoted-printable bodies and the Date,
// Message-ID and MIME headers), and an SMTP client (STARTTLS, implicit TLS,
// or plain SMTP to a loopback relay) on the standard library's net/smtp.
//
// The package knows nothing of accounts or links: package recovery decides
// who gets which message and when, and sends it through the durable job
// engine.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one email to one recipient.
type Message struct {
	To      mail.Address
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part; empty sends text only
}

// Composer turns messages into RFC 5322 bytes.
type Composer struct {
	From mail.Address
	// Domain names the Message-ID's right-hand side (the sender's domain
	// when empty).
	Domain string
	Now    func() time.Time
}

// ErrHeader is a header value that would break the message (a line break,
// an address that does not parse).
var ErrHeader = errors.New("mail: invalid header value")

// ParseAddress reads one address ("Name <a@b>" or "a@b"), refusing line
// breaks and group syntax.
func ParseAddress(s string) (mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return mail.Address{}, fmt.Errorf("%w: line break in address", ErrHeader)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return mail.Address{}, fmt.Errorf("%w: %v", ErrHeader, err)
	}
	return *a, nil
}

func (c Composer) domain() string {
	if c.Domain != "" {
		return c.Domain
	}
	if _, d, ok := strings.Cut(c.From.Address, "@"); ok && d != "" {
		return d
	}
	return "gatehouse.invalid"
}

// NewMessageID returns a fresh Message-ID value (with angle brackets).
func (c Composer) NewMessageID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "<" + hex.EncodeToString(b) + "@" + c.domain() + ">"
}

// Compose returns the message's bytes and its Message-ID.
func (c Composer) Compose(m Message) ([]byte, string, error) {
	for _, v := range []string{m.To.Address, m.To.Name, m.Subject, c.From.Address, c.From.Name} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, "", fmt.Errorf("%w: line break", ErrHeader)
		}
	}
	if _, err := mail.ParseAddress(m.To.Address); err != nil || m.To.Address == "" {
		return nil, "", fmt.Errorf("%w: recipient %q", ErrHeader, m.To.Address)
	}
	if _, err := mail.ParseAddress(c.From.Address); err != nil {
		return nil, "", fmt.Errorf("%w: sender %q", ErrHeader, c.From.Address)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	id := c.NewMessageID()
	var buf bytes.Buffer
	h := func(k, v string) { buf.WriteString(k + ": " + v + "\r\n") }
	h("Date", now().Format(time.RFC1123Z))
	h("From", c.From.String())
	h("To", m.To.String())
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Message-ID", id)
	h("MIME-Version", "1.0")
	h("Auto-Submitted", "auto-generated")
	if m.HTML == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, m.Text); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), id, nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ typ, text string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, "", err
		}
		if err := writeQP(w, part.text); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	h("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	buf.WriteString("\r\n")
	buf.Write(body.Bytes())
	return buf.Bytes(), id, nil
}

// writeQP writes text quoted-printable with CRLF line ends.
func writeQP(w interface{ Write([]byte) (int, error) }, text string) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}

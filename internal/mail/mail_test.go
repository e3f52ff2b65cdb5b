package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse/gatehouse/internal/mail"
	"github.com/gatehouse/gatehouse/internal/mail/smtptest"
	"github.com/gatehouse/gatehouse/ui"
)

var fixed = time.Date(2026, 11, 5, 9, 30, 0, 0, time.UTC)

func composer() mail.Composer {
	return mail.Composer{From: netmail.Address{Name: "Gatehouse", Address: "no-reply@example.com"}, Now: func() time.Time { return fixed }}
}

// parts reads a multipart/alternative message into its decoded parts by
// content type.
func parts(t *testing.T, raw []byte) (*netmail.Message, map[string]string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "" {
			t.Fatalf("the multipart reader should have decoded quoted-printable")
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(b)
	}
	return m, out
}

func TestComposeHeadersAndParts(t *testing.T) {
	raw, id, err := composer().Compose(mail.Message{
		To:      netmail.Address{Name: "Zoë Ångström", Address: "zoe@example.org"},
		Subject: "Réinitialiser votre mot de passe",
		Text:    "Hello\nfollow https://gatehouse.example/reset-password/" + strings.Repeat("x", 90) + "\n",
		HTML:    `<p>Hello <a href="https://gatehouse.example/r">reset</a></p>`,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, ps := parts(t, raw)
	h := m.Header
	if h.Get("Date") != "Thu, 05 Nov 2026 09:30:00 +0000" {
		t.Errorf("Date = %q", h.Get("Date"))
	}
	if h.Get("Message-ID") != id || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q (returned %q)", h.Get("Message-ID"), id)
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", h.Get("MIME-Version"))
	}
	dec := new(mime.WordDecoder)
	if s, _ := dec.DecodeHeader(h.Get("Subject")); s != "Réinitialiser votre mot de passe" {
		t.Errorf("Subject decodes to %q (raw %q)", s, h.Get("Subject"))
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Ångström" || to[0].Address != "zoe@example.org" {
		t.Errorf("To = %v %v", to, err)
	}
	if !strings.Contains(ps["text/plain"], "/reset-password/"+strings.Repeat("x", 90)) {
		t.Errorf("the long link did not survive quoted-printable: %q", ps["text/plain"])
	}
	if !strings.Contains(ps["text/html"], `<a href="https://gatehouse.example/r">`) {
		t.Errorf("html part: %q", ps["text/html"])
	}
	for _, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line longer than RFC 5322 allows: %d", len(line))
		}
	}
}

func TestComposeRefusesHeaderInjection(t *testing.T) {
	for _, m := range []mail.Message{
		{To: netmail.Address{Address: "a@example.org"}, Subject: "hi\r\nBcc: evil@example.net"},
		{To: netmail.Address{Address: "a@example.org\nBcc: evil@example.net"}, Subject: "hi"},
		{To: netmail.Address{Name: "x\r\nBcc: e@example.net", Address: "a@example.org"}, Subject: "hi"},
		{To: netmail.Address{Address: "not an address"}, Subject: "hi"},
	} {
		if _, _, err := composer().Compose(m); !errors.Is(err, mail.ErrHeader) {
			t.Errorf("%+v: want ErrHeader, got %v", m, err)
		}
	}
}

func FuzzCompose(f *testing.F) {
	f.Add("a@example.org", "Pat", "Reset your password")
	f.Add("a@example.org\r\nBcc: b@example.org", "", "x")
	f.Add("\"weird name\"@example.org", "Zoë", "=?utf-8?q?x?=")
	f.Fuzz(func(t *testing.T, addr, name, subject string) {
		raw, _, err := composer().Compose(mail.Message{To: netmail.Address{Name: name, Address: addr}, Subject: subject, Text: "body", HTML: "<p>body</p>"})
		if err != nil {
			return
		}
		m, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("composed message does not parse: %v", err)
		}
		for k := range m.Header {
			switch k {
			case "Date", "From", "To", "Subject", "Message-Id", "Mime-Version", "Auto-Submitted", "Content-Type":
			default:
				t.Fatalf("unexpected header %q from to=%q subject=%q", k, addr, subject)
			}
		}
		if len(m.Header["To"]) != 1 || len(m.Header["Subject"]) != 1 {
			t.Fatalf("duplicated header")
		}
	})
}

func TestTemplatesRenderEveryMessage(t *testing.T) {
	ts, err := mail.ParseTemplates(ui.Emails())
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"Name": "Pat <script>", "Link": "https://gatehouse.example/reset-password/tok?a=1&b=2", "Expires": "1 hour", "Org": "Gatehouse"}
	for _, name := range []string{"password_reset", "activation"} {
		m, err := ts.Render(name, "pat@example.org", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Subject == "" || !strings.Contains(m.Text, "https://gatehouse.example/reset-password/tok?a=1&b=2") {
			t.Errorf("%s: subject %q text %q", name, m.Subject, m.Text)
		}
		if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, `href="https://gatehouse.example/reset-password/tok?a=1&amp;b=2"`) {
			t.Errorf("%s: html not escaped properly: %s", name, m.HTML)
		}
	}
	if _, err := ts.Render("password_reset", "bad\naddress", data); !errors.Is(err, mail.ErrHeader) {
		t.Errorf("bad recipient: %v", err)
	}
}

func TestTemplatesNeedSubjectAndHTML(t *testing.T) {
	if _, err := mail.ParseTemplates(fstest.MapFS{"x.txt": {Data: []byte("body")}, "x.html": {Data: []byte("<p>")}}); err == nil {
		t.Error("a template without a subject was accepted")
	}
	if _, err := mail.ParseTemplates(fstest.MapFS{"x.txt": {Data: []byte(`{{define "subject"}}s{{end}}body`)}}); err == nil {
		t.Error("a template without its HTML part was accepted")
	}
}

func postman(t *testing.T, s *smtptest.Server, cfg mail.SMTPConfig) *mail.Postman {
	t.Helper()
	ts, err := mail.ParseTemplates(ui.Emails())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Port, cfg.RootCAs, cfg.Timeout = s.Host, s.Port, s.Roots, 10*time.Second
	return &mail.Postman{Templates: ts, Composer: composer(), Sender: &mail.SMTP{Config: cfg}}
}

var data = map[string]any{"Name": "Pat", "Link": "https://gatehouse.example/reset-password/abc", "Expires": "1 hour", "Org": "Gatehouse"}

// TestDeliveryToARealServer sends through aiosmtpd in each TLS mode, with
// AUTH where the mode allows it, and reads the message the server saved.
func TestDeliveryToARealServer(t *testing.T) {
	for _, c := range []struct {
		mode, user string
	}{{"none", ""}, {"none", "relay"}, {"starttls", "relay"}, {"tls", "relay"}} {
		t.Run(c.mode+"/"+c.user, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Options{Mode: c.mode, User: c.user, Password: "relay-secret"})
			p := postman(t, s, mail.SMTPConfig{TLS: c.mode, Username: c.user, Password: "relay-secret"})
			id, err := p.Send(context.Background(), "password_reset", "Pat Doe <pat@example.org>", data)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Wait(1, 5*time.Second)[0]
			if got.MailFrom != "no-reply@example.com" || len(got.RcptTos) != 1 || got.RcptTos[0] != "pat@example.org" {
				t.Errorf("envelope %q -> %v", got.MailFrom, got.RcptTos)
			}
			if got.TLS != (c.mode != "none") || got.Authenticated != (c.user != "") {
				t.Errorf("tls=%v authenticated=%v", got.TLS, got.Authenticated)
			}
			if got.Message.Header.Get("Message-ID") != id {
				t.Errorf("Message-ID %q, sent %q", got.Message.Header.Get("Message-ID"), id)
			}
			_, ps := parts(t, got.Raw)
			if !strings.Contains(ps["text/plain"], "https://gatehouse.example/reset-password/abc") || !strings.Contains(ps["text/html"], `href="https://gatehouse.example/reset-password/abc"`) {
				t.Errorf("parts: %v", ps)
			}
		})
	}
}

func TestDeliveryFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong password is permanent", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.Options{Mode: "starttls", User: "relay", Password: "relay-secret"})
		_, err := postman(t, s, mail.SMTPConfig{TLS: "starttls", Username: "relay", Password: "wrong"}).Send(ctx, "password_reset", "pat@example.org", data)
		if err == nil || !mail.IsPermanent(err) {
			t.Fatalf("want a permanent auth failure, got %v", err)
		}
		if len(s.Messages()) != 0 {
			t.Fatal("a message was accepted")
		}
	})
	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.Options{Mode: "none"})
		_, err := postman(t, s, mail.SMTPConfig{TLS: "starttls"}).Send(ctx, "password_reset", "pat@example.org", data)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !mail.IsPermanent(err) {
			t.Fatalf("want a refusal to continue without TLS, got %v", err)
		}
		if len(s.Messages()) != 0 {
			t.Fatal("a message was sent in clear text")
		}
	})
	t.Run("a certificate that is not trusted", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.Options{Mode: "tls"})
		p := postman(t, s, mail.SMTPConfig{TLS: "tls"})
		p.Sender.(*mail.SMTP).Config.RootCAs = nil
		if _, err := p.Send(ctx, "password_reset", "pat@example.org", data); err == nil {
			t.Fatal("an unverified certificate was accepted")
		}
	})
	t.Run("relay down is temporary", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.Options{Mode: "none"})
		s.Stop()
		_, err := postman(t, s, mail.SMTPConfig{TLS: "none"}).Send(ctx, "password_reset", "pat@example.org", data)
		if err == nil || mail.IsPermanent(err) {
			t.Fatalf("want a temporary failure, got %v", err)
		}
		s.Restart()
		if _, err := postman(t, s, mail.SMTPConfig{TLS: "none"}).Send(ctx, "password_reset", "pat@example.org", data); err != nil {
			t.Fatal(err)
		}
		s.Wait(1, 5*time.Second)
	})
}

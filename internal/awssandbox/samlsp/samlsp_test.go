//go:debug rsa1024min=0

package samlsp

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

var (
	now     = time.Date(2026, 5, 30, 21, 30, 35, 0, time.UTC)
	idpOnce sync.Once
	idp     *samltest.IdP
	evil    *samltest.IdP
)

func idps(t testing.TB) (*samltest.IdP, *samltest.IdP) {
	idpOnce.Do(func() {
		var err error
		if idp, err = samltest.NewIdP("http://www.okta.com/exk123", 2048, now.AddDate(-1, 0, 0)); err != nil {
			panic(err)
		}
		if evil, err = samltest.NewIdP("http://www.okta.com/exk123", 2048, now.AddDate(-1, 0, 0)); err != nil {
			panic(err)
		}
	})
	return idp, evil
}

func base(idp *samltest.IdP) samltest.Response {
	name := "jdoe@example.com"
	return samltest.Response{
		Destination: "https://signin.aws.amazon.com/saml", Recipient: "https://signin.aws.amazon.com/saml",
		NameID: "jdoe@example.com", IssueInstant: now, SessionName: &name,
		Roles:         []string{"arn:aws:iam::123456789012:saml-provider/Okta,arn:aws:iam::123456789012:role/ConnectAgent"},
		SignAssertion: true, SignResponse: true,
	}
}

func mustBuild(t testing.TB, i *samltest.IdP, r samltest.Response) string {
	t.Helper()
	s, err := i.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustMetadata(t testing.TB, doc string) *Metadata {
	t.Helper()
	md, err := ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestVerifyGood(t *testing.T) {
	idp, _ := idps(t)
	md := mustMetadata(t, idp.Metadata())
	for _, signResponse := range []bool{true, false} {
		r := base(idp)
		r.SignResponse = signResponse
		a, err := Verify(mustBuild(t, idp, r), md)
		if err != nil {
			t.Fatalf("signResponse=%v: %v", signResponse, err)
		}
		if a.NameID != "jdoe@example.com" || a.Recipient != "https://signin.aws.amazon.com/saml" ||
			a.Issuer != idp.EntityID || !a.AssertionSigned || a.ResponseSigned != signResponse ||
			!a.SubjectNotAfter.Equal(now.Add(5*time.Minute)) || !a.IssueInstant.Equal(now) ||
			a.Attributes[AttrRoleSessionName][0] != "jdoe@example.com" || len(a.Attributes[AttrRole]) != 1 ||
			a.Confirmations != 1 || !a.BearerMethod || a.Audiences[0] != "urn:amazon:webservices" {
			t.Fatalf("assertion: %+v", a)
		}
	}
}

// Assertions that rely on namespace prefixes declared on the Response (as
// some IdPs emit them) must verify, signed alone or with the Response.
func TestVerifyInheritedNamespaces(t *testing.T) {
	idp, _ := idps(t)
	md := mustMetadata(t, idp.Metadata())
	for _, signResponse := range []bool{false, true} {
		r := base(idp)
		r.HoistNamespaces = true
		r.SignResponse = signResponse
		b64 := mustBuild(t, idp, r)
		raw, _ := base64.StdEncoding.DecodeString(b64)
		if strings.Contains(string(raw), `<saml2:Assertion xmlns:saml2`) {
			t.Fatalf("namespace not hoisted: %s", raw)
		}
		a, err := Verify(b64, md)
		if err != nil {
			t.Fatalf("signResponse=%v: %v", signResponse, err)
		}
		if a.NameID != "jdoe@example.com" || len(a.Attributes[AttrRole]) != 1 {
			t.Fatalf("assertion %+v", a)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	idp, evil := idps(t)
	md := mustMetadata(t, idp.Metadata())
	tamper := func(b64, from, to string) string {
		raw, _ := base64.StdEncoding.DecodeString(b64)
		return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1)))
	}
	with := func(f func(*samltest.Response)) string {
		r := base(idp)
		f(&r)
		return mustBuild(t, idp, r)
	}
	good := with(func(*samltest.Response) {})
	raw, _ := base64.StdEncoding.DecodeString(good)
	// XML signature wrapping: a second, unsigned assertion after the signed one.
	s := string(raw)
	start := strings.Index(s, "<saml2:Assertion")
	end := strings.Index(s, "</saml2:Assertion>") + len("</saml2:Assertion>")
	wrapped := s[:end] + strings.Replace(s[start:end], "jdoe@example.com", "admin", -1) + s[end:]

	tests := []struct {
		name string
		b64  string
		kind Kind
	}{
		{"not base64", "%%%", KindMalformed},
		{"not xml", base64.StdEncoding.EncodeToString([]byte("hello")), KindMalformed},
		{"doctype", base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`)), KindMalformed},
		{"not a response", base64.StdEncoding.EncodeToString([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)), KindMalformed},
		{"signed by another key", with(func(r *samltest.Response) { r.SignWith = evil }), KindSignature},
		{"assertion unsigned, response signed", with(func(r *samltest.Response) { r.SignAssertion = false }), KindSignature},
		{"nothing signed", with(func(r *samltest.Response) { r.SignAssertion, r.SignResponse = false, false }), KindSignature},
		{"tampered NameID", tamper(good, ">jdoe@example.com</saml2:NameID>", ">admin@example.com</saml2:NameID>"), KindSignature},
		{"tampered assertion of unsigned response", tamper(with(func(r *samltest.Response) { r.SignResponse = false }), ">jdoe@example.com</saml2:NameID>", ">admin@example.com</saml2:NameID>"), KindSignature},
		{"issuer mismatch", with(func(r *samltest.Response) { r.Issuer = "http://evil" }), KindIssuer},
		{"status failure", with(func(r *samltest.Response) { r.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Responder" }), KindStatus},
		{"wrapped second assertion", base64.StdEncoding.EncodeToString([]byte(wrapped)), KindMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.b64, md)
			if KindOf(err) != tt.kind {
				t.Fatalf("Verify: %v (kind %d), want kind %d", err, KindOf(err), tt.kind)
			}
		})
	}
}

// An attacker who re-signs with their own key and embeds their certificate
// in KeyInfo must be refused: only metadata certificates count.
func TestKeyInfoNotTrusted(t *testing.T) {
	idp, evil := idps(t)
	md := mustMetadata(t, idp.Metadata())
	r := base(idp)
	r.SignWith = evil
	if _, err := Verify(mustBuild(t, idp, r), md); KindOf(err) != KindSignature {
		t.Fatalf("attacker KeyInfo accepted: %v", err)
	}
	// With both certificates in metadata (rotation), either key verifies.
	md2 := mustMetadata(t, samltest.MetadataFor(idp.EntityID, idp.Cert, evil.Cert))
	if _, err := Verify(mustBuild(t, idp, r), md2); err != nil {
		t.Fatalf("second metadata certificate not used: %v", err)
	}
}

func TestComment(t *testing.T) {
	idp, _ := idps(t)
	md := mustMetadata(t, idp.Metadata())
	r := base(idp)
	r.SignResponse = false
	r.NameID = "user@corp.com.evil.com"
	b := mustBuild(t, idp, r)
	raw, _ := base64.StdEncoding.DecodeString(b)
	// Comment injection: C14N drops the comment, so the signature still
	// verifies; the value read must be the full text, not "user@corp.com".
	injected := strings.Replace(string(raw), ">user@corp.com.evil.com<", ">user@corp.com<!---->.evil.com<", 1)
	a, err := Verify(base64.StdEncoding.EncodeToString([]byte(injected)), md)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if a.NameID != "user@corp.com.evil.com" {
		t.Fatalf("NameID = %q", a.NameID)
	}
}

func TestParseMetadata(t *testing.T) {
	idp, _ := idps(t)
	small, err := samltest.NewIdP("http://small", 512, now)
	if err != nil {
		t.Fatal(err)
	}
	md := mustMetadata(t, idp.Metadata())
	if len(md.Entities) != 1 || md.Entities[0].EntityID != idp.EntityID || len(md.Entities[0].Certs) != 1 {
		t.Fatalf("metadata: %+v", md)
	}
	withValid := strings.Replace(idp.Metadata(), `entityID=`, `validUntil="2030-01-02T03:04:05Z" entityID=`, 1)
	if md := mustMetadata(t, withValid); !md.ValidUntil.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("ValidUntil = %v", md.ValidUntil)
	}
	bad := map[string]string{
		"bom":            "\uFEFF" + idp.Metadata(),
		"small key":      small.Metadata(),
		"no idpsso":      strings.Replace(idp.Metadata(), "IDPSSODescriptor", "SPSSODescriptor", 2),
		"no cert":        samltest.MetadataFor("http://x"),
		"not metadata":   "<EntityDescriptor entityID='x'/>",
		"garbage cert":   strings.Replace(idp.Metadata(), "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1),
		"doctype":        `<!DOCTYPE x>` + idp.Metadata()[len(`<?xml version="1.0" encoding="UTF-8"?>`):],
		"not xml":        "not xml at all",
		"no entity id":   strings.Replace(idp.Metadata(), `entityID="`+idp.EntityID+`"`, "", 1),
		"bad validUntil": strings.Replace(idp.Metadata(), `entityID=`, `validUntil="tomorrow" entityID=`, 1),
	}
	for name, doc := range bad {
		if _, err := ParseMetadata(doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzVerify(f *testing.F) {
	idp, _ := idps(f)
	md := mustMetadata(f, idp.Metadata())
	f.Add(mustBuild(f, idp, base(idp)))
	r := base(idp)
	r.SignResponse = false
	f.Add(mustBuild(f, idp, r))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`)))
	f.Add("")
	f.Fuzz(func(t *testing.T, b64 string) {
		a, err := Verify(b64, md)
		if err != nil {
			if KindOf(err) == 0 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !a.AssertionSigned || a.Issuer != idp.EntityID {
			t.Fatalf("accepted unsigned or foreign assertion: %+v", a)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	idp, _ := idps(f)
	f.Add(idp.Metadata())
	f.Add(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"></md:EntitiesDescriptor>`)
	f.Fuzz(func(t *testing.T, doc string) {
		md, err := ParseMetadata(doc)
		if err == nil && (len(md.Entities) == 0 || len(md.Entities[0].Certs) == 0) {
			t.Fatalf("accepted metadata without certificates")
		}
	})
}

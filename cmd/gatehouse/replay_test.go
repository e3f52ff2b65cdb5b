package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// spSigner is a service provider's request-signing key and certificate.
type spSigner struct {
	key  *rsa.PrivateKey
	cert []byte // DER
}

func newSPSigner(t testing.TB) spSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return spSigner{key: key, cert: der}
}

// signOn is the app settings that require requests signed with s.
func (s spSigner) signOn() string {
	return fmt.Sprintf(`,"spCertificate":{"x5c":[%q]},"samlSignedRequestEnabled":true`, base64.StdEncoding.EncodeToString(s.cert))
}

// sp makes a gosaml2 SP of the app (from ts's metadata) signing its
// requests with s.
func (s spSigner) sp(t testing.TB, ts *testServer, appID string) *saml2.SAMLServiceProvider {
	t.Helper()
	sp := ts.gosamlSP(t, appID)
	sp.SignAuthnRequests = true
	sp.SignAuthnRequestsAlgorithm = dsig.RSASHA256SignatureMethod
	if err := sp.SetSPSigningKeyStore(&saml2.KeyStore{Signer: s.key, Cert: s.cert}); err != nil {
		t.Fatal(err)
	}
	sp.IdentityProviderSLOURL = strings.Replace(sp.IdentityProviderSSOURL, "/sso/saml", "/slo/saml", 1)
	return sp
}

// authnRequest is a new AuthnRequest signed in the query string
// (HTTP-Redirect binding).
func signedAuthnRequest(t testing.TB, sp *saml2.SAMLServiceProvider) string {
	t.Helper()
	doc, err := sp.BuildAuthRequestDocumentNoSig()
	if err != nil {
		t.Fatal(err)
	}
	u, err := sp.BuildAuthURLRedirect("rs", doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "&Signature=") && !strings.Contains(u, "?Signature=") {
		t.Fatalf("request not signed: %s", u)
	}
	return u
}

// TestSignedRequestsReplayCache: signed AuthnRequests and LogoutRequests
// are accepted once and refused when replayed, on SQLite and PostgreSQL.
// (The replay key of a request holds its issuer and ID; it went to the
// store as it was, and PostgreSQL refuses text with a NUL byte, so every
// signed request failed there with a 500.)
func TestSignedRequestsReplayCache(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, pg)
			signer := newSPSigner(t)
			appID, _ := ts.newSAMLApp(t, "Signed", signer.signOn()+`,"slo":{"enabled":true,"logoutUrl":"https://sp.example.test/slo"}`)
			sp := signer.sp(t, ts, appID)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func(u string) *http.Response {
				t.Helper()
				resp, err := client.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}

			login := signedAuthnRequest(t, sp)
			if resp := get(login); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/sso/continue/") {
				t.Fatalf("signed AuthnRequest: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp := get(login); resp.StatusCode != 400 {
				t.Fatalf("replayed AuthnRequest: %d", resp.StatusCode)
			}

			doc, err := sp.BuildLogoutRequestDocumentNoSig("ana@example.com", "102session")
			if err != nil {
				t.Fatal(err)
			}
			logout, err := sp.BuildLogoutURLRedirect("bye", doc)
			if err != nil {
				t.Fatal(err)
			}
			if resp := get(logout); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "https://sp.example.test/slo?") {
				t.Fatalf("signed LogoutRequest: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp := get(logout); resp.StatusCode != 400 {
				t.Fatalf("replayed LogoutRequest: %d", resp.StatusCode)
			}
		})
	}
}

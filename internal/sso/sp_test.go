package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

func testX5C(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sp.example.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der), cert
}

// The x5c values an app stores (base64 DER, as the Okta API takes them)
// become the SP's signing and encryption certificates.
func TestServiceProviderCertificates(t *testing.T) {
	x5c, cert := testX5C(t)
	wrapped := x5c[:64] + "\n" + x5c[64:]
	for _, tc := range []struct {
		name    string
		signOn  catalog.SignOn
		wantErr bool
	}{
		{name: "signing", signOn: catalog.SignOn{SPCertificate: catalog.SPCertificate{X5C: []string{x5c}}}},
		{name: "signing with line breaks", signOn: catalog.SignOn{SPCertificate: catalog.SPCertificate{X5C: []string{wrapped}}}},
		{name: "encryption", signOn: catalog.SignOn{AssertionEncryption: catalog.AssertionEncryption{Enabled: true, X5C: []string{x5c}}}},
		{name: "not base64", signOn: catalog.SignOn{SPCertificate: catalog.SPCertificate{X5C: []string{"%%%"}}}, wantErr: true},
		{name: "not a certificate", signOn: catalog.SignOn{SPCertificate: catalog.SPCertificate{X5C: []string{"AAAA"}}}, wantErr: true},
		{name: "encryption without certificate", signOn: catalog.SignOn{AssertionEncryption: catalog.AssertionEncryption{Enabled: true}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.signOn.SSOAcsURL = "https://sp.example.test/acs"
			a := &catalog.App{Settings: catalog.Settings{SignOn: tc.signOn}}
			sp, err := serviceProvider(a, a.Settings.SignOn.SSOAcsURL, false, false)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got *x509.Certificate
			if tc.signOn.AssertionEncryption.Enabled {
				got = sp.Encryption.Certificate
			} else if len(sp.SigningCertificates) == 1 {
				got = sp.SigningCertificates[0]
			}
			if got == nil || !got.Equal(cert) {
				t.Fatalf("certificate not carried over: %+v", sp)
			}
		})
	}
}

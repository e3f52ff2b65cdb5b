package keys

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func TestGenerateSigningKeyProfile(t *testing.T) {
	key, cert, err := GenerateSigningKey(0, "Gatehouse app 0oa1", testNow, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Fatalf("default key size %d", key.N.BitLen())
	}
	if key.Precomputed.Dp == nil {
		t.Fatal("key not precomputed")
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Fatalf("KeyUsage %v, want digitalSignature only", cert.KeyUsage)
	}
	if cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Fatalf("signature algorithm %v", cert.SignatureAlgorithm)
	}
	if cert.IsCA {
		t.Fatal("signing certificate is a CA")
	}
	if got := cert.NotAfter.Sub(cert.NotBefore); got != DefaultCertificateValidity {
		t.Fatalf("validity %s", got)
	}
	if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() < 120 {
		t.Fatalf("serial %v not a positive random 128-bit number", cert.SerialNumber)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		t.Fatal("certificate does not carry the key's public half")
	}
	// The key signs, and the certificate verifies it.
	digest := sha256.Sum256([]byte("msg"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignature(x509.SHA256WithRSA, []byte("msg"), sig); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateSigningKeySizesAndValidity(t *testing.T) {
	cases := []struct {
		name     string
		bits     int
		validity time.Duration
		opts     []Option
		ok       bool
	}{
		{"3072", 3072, 0, nil, true},
		{"1024 refused", 1024, 0, nil, false},
		{"1024 legacy", 1024, 0, []Option{AllowLegacy()}, true},
		{"512 legacy refused", 512, 0, []Option{AllowLegacy()}, false},
		{"2000 refused", 2000, 0, nil, false},
		{"two years", 2048, MaxCertificateValidity, nil, true},
		{"over two years", 2048, MaxCertificateValidity + time.Hour, nil, false},
		{"negative", 2048, -time.Hour, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, cert, err := GenerateSigningKey(c.bits, "cn", testNow, c.validity, rand.Reader, c.opts...)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if c.ok && (key.N.BitLen() != c.bits || cert == nil) {
				t.Fatalf("bits %d", key.N.BitLen())
			}
		})
	}
}

func TestKeyIDAndEncodings(t *testing.T) {
	key, cert, err := GenerateSigningKey(2048, "cn", testNow, time.Hour, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.Raw)
	if KeyID(cert) != base64.RawURLEncoding.EncodeToString(sum[:]) || len(KeyID(cert)) != 43 {
		t.Fatalf("KeyID %q", KeyID(cert))
	}
	p, err := EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKeyPEM(p)
	if err != nil || !back.Equal(key) || back.Precomputed.Dp == nil {
		t.Fatalf("private key PEM round trip: %v", err)
	}
	certs, err := ParseCertificatePEM(append(EncodeCertificatePEM(cert), EncodeCertificatePEM(cert)...))
	if err != nil || len(certs) != 2 || !certs[0].Equal(cert) {
		t.Fatalf("certificate PEM round trip: %d %v", len(certs), err)
	}
	der, _ := MarshalPrivateKeyDER(key)
	if k2, err := ParsePrivateKeyDER(der); err != nil || !k2.Equal(key) {
		t.Fatalf("DER round trip: %v", err)
	}
	if k3, err := ParsePrivateKeyDER(x509.MarshalPKCS1PrivateKey(key)); err != nil || !k3.Equal(key) {
		t.Fatalf("PKCS#1 DER: %v", err)
	}
	if _, err := ParsePrivateKeyPEM(EncodeCertificatePEM(cert)); err == nil {
		t.Fatal("certificate accepted as private key")
	}
	if _, err := ParseCertificatePEM([]byte("nothing")); err == nil {
		t.Fatal("empty input accepted")
	}
}

func TestSelfSignCertificateDeterministic(t *testing.T) {
	key, _, err := GenerateSigningKey(2048, "cn", testNow, time.Hour, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := SelfSignCertificate(key, "cn", testNow, time.Hour, bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SelfSignCertificate(key, "cn", testNow, time.Hour, bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if !a.Equal(b) {
		t.Fatal("same inputs gave different certificates")
	}
}

func FuzzParseCertificatePEM(f *testing.F) {
	_, cert, err := GenerateSigningKey(2048, "cn", testNow, time.Hour, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeCertificatePEM(cert))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if certs, err := ParseCertificatePEM(data); err == nil && len(certs) == 0 {
			t.Fatal("success without certificates")
		}
		_, _ = ParsePrivateKeyPEM(data)
	})
}

package keys

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// DefaultSigningKeyBits is the RSA modulus size used when 0 is requested.
const DefaultSigningKeyBits = 2048

// MaxCertificateValidity is the longest validity GenerateSigningKey accepts
// (two years, as the OWASP SAML cheat sheet recommends).
const MaxCertificateValidity = 2 * 365 * 24 * time.Hour

// DefaultCertificateValidity is used when a zero validity is requested.
const DefaultCertificateValidity = 365 * 24 * time.Hour

// Option changes how GenerateSigningKey works.
type Option func(*options)

type options struct{ allowLegacy bool }

// AllowLegacy lets GenerateSigningKey produce key sizes other than 2048, 3072
// and 4096 bits (still at least 1024). Only for interoperating with old
// service providers; never the default.
func AllowLegacy() Option { return func(o *options) { o.allowLegacy = true } }

// GenerateSigningKey creates an RSA key and a self-signed X.509 certificate
// for it, suitable for signing SAML messages: KeyUsage digitalSignature only,
// signature SHA256WithRSA, a random 128-bit serial number read from random,
// NotBefore = now (to the second) and NotAfter = NotBefore + validity.
//
// bits is 2048 (also used for 0), 3072 or 4096; other sizes are refused
// unless AllowLegacy is given, and sizes under 1024 always are. validity is
// at most MaxCertificateValidity (0 means DefaultCertificateValidity). The
// returned key is Precompute()d. Since Go 1.26 rsa.GenerateKey ignores its
// random argument, so only the serial number (and nothing else) depends on
// random.
func GenerateSigningKey(bits int, subjectCN string, now time.Time, validity time.Duration, random io.Reader, opts ...Option) (*rsa.PrivateKey, *x509.Certificate, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if bits == 0 {
		bits = DefaultSigningKeyBits
	}
	switch {
	case bits == 2048 || bits == 3072 || bits == 4096:
	case o.allowLegacy && bits >= 1024 && bits <= 8192 && bits%8 == 0:
	default:
		return nil, nil, fmt.Errorf("keys: RSA key size %d not allowed (use 2048, 3072 or 4096)", bits)
	}
	if validity == 0 {
		validity = DefaultCertificateValidity
	}
	if validity < 0 || validity > MaxCertificateValidity {
		return nil, nil, fmt.Errorf("keys: certificate validity %s outside (0, %s]", validity, MaxCertificateValidity)
	}
	if subjectCN == "" {
		return nil, nil, errors.New("keys: certificate subject common name is empty")
	}
	if random == nil {
		return nil, nil, errors.New("keys: nil random source")
	}
	key, err := rsa.GenerateKey(random, bits)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: generate RSA key: %w", err)
	}
	key.Precompute()
	cert, err := SelfSignCertificate(key, subjectCN, now, validity, random)
	if err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// SelfSignCertificate issues a self-signed signing certificate for an
// existing key, with the same profile as GenerateSigningKey. It is used to
// renew the certificate of a key and, in tests, to make deterministic
// certificates (the output depends only on the arguments).
func SelfSignCertificate(key *rsa.PrivateKey, subjectCN string, now time.Time, validity time.Duration, random io.Reader) (*x509.Certificate, error) {
	if validity <= 0 || validity > MaxCertificateValidity {
		return nil, fmt.Errorf("keys: certificate validity %s outside (0, %s]", validity, MaxCertificateValidity)
	}
	serialBytes := make([]byte, 16)
	if _, err := io.ReadFull(random, serialBytes); err != nil {
		return nil, fmt.Errorf("keys: certificate serial: %w", err)
	}
	serialBytes[0] &= 0x7f // positive
	serialBytes[0] |= 0x40 // and never shorter than 16 bytes
	notBefore := now.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serialBytes),
		Subject:               pkix.Name{CommonName: subjectCN},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("keys: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse new certificate: %w", err)
	}
	return cert, nil
}

// KeyID returns the key id Gatehouse publishes for a certificate:
// base64url (no padding) of the SHA-256 of the certificate DER, the same
// value as a JWK "x5t#S256". It changes whenever the certificate changes.
func KeyID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// MarshalPrivateKeyDER encodes an RSA key as PKCS#8 DER (the bytes to Seal).
func MarshalPrivateKeyDER(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	return der, nil
}

// ParsePrivateKeyDER decodes a PKCS#8 or PKCS#1 DER RSA private key, checks
// it and returns it Precompute()d.
func ParsePrivateKeyDER(der []byte) (*rsa.PrivateKey, error) {
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("keys: private key is %T, not RSA", k)
		}
		key = rk
	} else if rk, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
		key = rk
	} else {
		return nil, errors.New("keys: private key is neither PKCS#8 nor PKCS#1 DER")
	}
	key.Precompute()
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("keys: invalid RSA private key: %w", err)
	}
	return key, nil
}

// EncodePrivateKeyPEM encodes an RSA key as a PKCS#8 "PRIVATE KEY" PEM block.
// The result is a secret: seal it, never log it.
func EncodePrivateKeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := MarshalPrivateKeyDER(key)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes the first "PRIVATE KEY" or "RSA PRIVATE KEY"
// PEM block. Encrypted PEM is not supported.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("keys: no PRIVATE KEY PEM block found")
		}
		if block.Type == "PRIVATE KEY" || block.Type == "RSA PRIVATE KEY" {
			if len(block.Headers) != 0 {
				return nil, errors.New("keys: encrypted PEM private keys are not supported")
			}
			return ParsePrivateKeyDER(block.Bytes)
		}
	}
}

// EncodeCertificatePEM encodes a certificate as a "CERTIFICATE" PEM block.
func EncodeCertificatePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// ParseCertificatePEM decodes every "CERTIFICATE" block in data, in order.
// It fails if there is none or any of them does not parse.
func ParseCertificatePEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keys: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("keys: no CERTIFICATE PEM block found")
	}
	return certs, nil
}

// ParseCertificateDER parses one DER certificate.
func ParseCertificateDER(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse certificate: %w", err)
	}
	return c, nil
}

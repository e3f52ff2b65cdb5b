// Package samlidp is the SAML 2.0 protocol core of Gatehouse's identity
// provider: building and signing Responses (optionally with an encrypted
// assertion), the HTTP-POST auto-submit form, strict intake of AuthnRequests
// and LogoutRequests (HTTP-Redirect and HTTP-POST bindings, with signature
// verification against the service provider's registered certificates),
// exact ACS resolution, IdP metadata, and parsing of SP metadata and
// certificates uploaded by administrators.
//
// It has no HTTP routing and no storage: callers pass in the service provider
// configuration, a clock and a random source, and get bytes or typed errors
// back. It is the only Gatehouse package that imports XML-signature
// libraries (github.com/russellhaering/goxmldsig, github.com/beevik/etree).
// docs/saml.md describes the behaviour for operators.
package samlidp

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// SAML namespaces and well-known identifiers.
const (
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig      = "http://www.w3.org/2000/09/xmldsig#"
	NSXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
	NSXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	NSXS        = "http://www.w3.org/2001/XMLSchema"

	BindingHTTPPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingHTTPRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

	NameIDFormatUnspecified  = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDFormatEmailAddress = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDFormatX509Subject  = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
	NameIDFormatPersistent   = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDFormatTransient    = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDFormatEntity       = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

	AttrNameFormatUnspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
	AttrNameFormatURI         = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	AttrNameFormatBasic       = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"

	AuthnContextPasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	AuthnContextPassword                   = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	AuthnContextUnspecified                = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
	// AuthnContextREFEDSMFA is the REFEDS Multi-Factor Authentication
	// Profile's class (https://refeds.org/profile/mfa): the person proved
	// two independent factors.
	AuthnContextREFEDSMFA = "https://refeds.org/profile/mfa"

	ConfirmationMethodBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	// XML-DSig / XML-Enc algorithm identifiers.
	AlgRSASHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgRSASHA512    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	AlgRSASHA1      = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	AlgDigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgDigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
	AlgDigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgExcC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgEnveloped    = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	AlgAES128CBC    = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	AlgAES256CBC    = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	AlgAES128GCM    = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	AlgAES256GCM    = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	AlgRSAOAEPMGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	AlgRSA15        = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
)

// SignatureAlgorithm is the signature algorithm of an app (Okta
// settings.signOn.signatureAlgorithm).
type SignatureAlgorithm string

// Signature algorithms. RSA_SHA1 is accepted only with AllowLegacy.
const (
	RSASHA256 SignatureAlgorithm = "RSA_SHA256"
	RSASHA1   SignatureAlgorithm = "RSA_SHA1"
)

// DigestAlgorithm is the reference digest (Okta digestAlgorithm). goxmldsig
// uses one hash for digest and signature, so it must agree with the
// SignatureAlgorithm.
type DigestAlgorithm string

// Digest algorithms.
const (
	DigestSHA256 DigestAlgorithm = "SHA256"
	DigestSHA1   DigestAlgorithm = "SHA1"
)

// DataEncryption is the block cipher used for an encrypted assertion.
type DataEncryption string

// Assertion data-encryption algorithms (Okta encryptionAlgorithm).
const (
	AES256GCM DataEncryption = "AES256_GCM"
	AES128GCM DataEncryption = "AES128_GCM"
	AES256CBC DataEncryption = "AES256_CBC"
	AES128CBC DataEncryption = "AES128_CBC"
)

// KeyTransport is how the content-encryption key is wrapped for the SP.
type KeyTransport string

// Key transport algorithms (Okta keyTransportAlgorithm). RSA_15 is accepted
// only with AllowLegacy.
const (
	RSAOAEP KeyTransport = "RSA_OAEP"
	RSA15   KeyTransport = "RSA_15"
)

// DefaultAssertionLifetime is how long after issuance an assertion stays
// valid when the app does not set samlAssertionLifetimeSeconds (Okta: 5 min).
const DefaultAssertionLifetime = 5 * time.Minute

// NotBeforeSkew is how far before issuance Conditions/@NotBefore is set, to
// absorb clock skew at the SP (Okta: 5 min).
const NotBeforeSkew = 5 * time.Minute

// MaxAssertionLifetime caps AssertionLifetime (one day).
const MaxAssertionLifetime = 24 * time.Hour

// ACSEndpoint is one requestable assertion consumer service (Okta
// acsEndpoints[{url,index}]).
type ACSEndpoint struct {
	URL   string
	Index int
}

// Encryption configures assertion encryption for an SP (Okta
// assertionEncryption).
type Encryption struct {
	Enabled bool
	// Certificate is the SP's encryption certificate (RSA).
	Certificate *x509.Certificate
	// DataAlgorithm defaults to AES256_GCM.
	DataAlgorithm DataEncryption
	// KeyTransport defaults to RSA_OAEP (rsa-oaep-mgf1p, SHA-1 digest and
	// MGF1-SHA1, the form every common SP accepts).
	KeyTransport KeyTransport
}

// SLO is the SP's single logout configuration (Okta slo{enabled,logoutUrl,
// issuer}).
type SLO struct {
	Enabled bool
	// LogoutURL receives LogoutResponses (and LogoutRequests).
	LogoutURL string
	// SPIssuer is the Issuer the SP puts in its LogoutRequests; empty means
	// EntityID.
	SPIssuer string
}

// ServiceProvider is what an app's settings.signOn tells the IdP about the
// SP. Use Validate before first use; builders validate again.
type ServiceProvider struct {
	// EntityID is the SP entity ID, used as the Audience and to match the
	// Issuer of its requests.
	EntityID string
	// ACSURL is the default assertion consumer service (ssoAcsUrl); it is
	// always used for IdP-initiated SSO.
	ACSURL string
	// ACSEndpoints are the other requestable ACS URLs with their indexes.
	ACSEndpoints []ACSEndpoint
	// Recipient and Destination override SubjectConfirmationData/@Recipient
	// and Response/@Destination when the response goes to ACSURL. Empty means
	// the ACS URL used. For any other ACS both equal that ACS.
	Recipient   string
	Destination string
	// NameIDFormat defaults to unspecified.
	NameIDFormat string
	// ResponseSigned and AssertionSigned choose what is signed; at least one
	// must be true.
	ResponseSigned  bool
	AssertionSigned bool
	// SignatureAlgorithm defaults to RSA_SHA256, DigestAlgorithm to SHA256.
	SignatureAlgorithm SignatureAlgorithm
	DigestAlgorithm    DigestAlgorithm
	// AssertionLifetime sets Conditions/@NotOnOrAfter = now + lifetime
	// (samlAssertionLifetimeSeconds); 0 means DefaultAssertionLifetime.
	AssertionLifetime time.Duration
	// HonorForceAuthn makes ForceAuthn in requests demand a fresh login.
	HonorForceAuthn bool
	// AuthnContextClassRef defaults to PasswordProtectedTransport.
	AuthnContextClassRef string
	Encryption           Encryption
	// SigningCertificates verify the SP's signed requests (several allowed
	// for rollover). KeyInfo in messages is ignored.
	SigningCertificates []*x509.Certificate
	// RequireSignedRequests rejects unsigned AuthnRequests/LogoutRequests
	// (samlSignedRequestEnabled).
	RequireSignedRequests bool
	SLO                   SLO
	// AllowLegacy permits RSA_SHA1, RSA_15 key transport, SHA-1 signatures
	// on inbound requests and RSA keys of 1024–2047 bits. Never default.
	AllowLegacy bool
	// AllowLoopbackHTTP permits http://localhost and http://127.0.0.1 ACS
	// and logout URLs (development only).
	AllowLoopbackHTTP bool
}

func (sp *ServiceProvider) signatureAlgorithm() SignatureAlgorithm {
	if sp.SignatureAlgorithm == "" {
		return RSASHA256
	}
	return sp.SignatureAlgorithm
}

func (sp *ServiceProvider) assertionLifetime() time.Duration {
	if sp.AssertionLifetime == 0 {
		return DefaultAssertionLifetime
	}
	return sp.AssertionLifetime
}

func (sp *ServiceProvider) nameIDFormat() string {
	if sp.NameIDFormat == "" {
		return NameIDFormatUnspecified
	}
	return sp.NameIDFormat
}

func (sp *ServiceProvider) authnContextClassRef() string {
	if sp.AuthnContextClassRef == "" {
		return AuthnContextPasswordProtectedTransport
	}
	return sp.AuthnContextClassRef
}

func (sp *ServiceProvider) sloIssuer() string {
	if sp.SLO.SPIssuer != "" {
		return sp.SLO.SPIssuer
	}
	return sp.EntityID
}

// Validate reports every configuration problem at once (errors.Join).
func (sp *ServiceProvider) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if sp.EntityID == "" {
		add("samlidp: SP entity ID (audience) is empty")
	}
	if err := ValidateACSURL(sp.ACSURL, sp.AllowLoopbackHTTP); err != nil {
		add("samlidp: default ACS: %w", err)
	}
	seen := map[int]bool{}
	for _, e := range sp.ACSEndpoints {
		if err := ValidateACSURL(e.URL, sp.AllowLoopbackHTTP); err != nil {
			add("samlidp: ACS endpoint %d: %w", e.Index, err)
		}
		if e.Index < 0 || seen[e.Index] {
			add("samlidp: ACS endpoint index %d negative or repeated", e.Index)
		}
		seen[e.Index] = true
	}
	for name, u := range map[string]string{"recipient": sp.Recipient, "destination": sp.Destination} {
		if u != "" {
			if err := ValidateACSURL(u, sp.AllowLoopbackHTTP); err != nil {
				add("samlidp: %s: %w", name, err)
			}
		}
	}
	if !sp.ResponseSigned && !sp.AssertionSigned {
		add("samlidp: at least one of response or assertion must be signed")
	}
	switch sp.signatureAlgorithm() {
	case RSASHA256:
		if sp.DigestAlgorithm != "" && sp.DigestAlgorithm != DigestSHA256 {
			add("samlidp: digest %s does not match signature algorithm RSA_SHA256", sp.DigestAlgorithm)
		}
	case RSASHA1:
		if !sp.AllowLegacy {
			add("samlidp: RSA_SHA1 requires the legacy option")
		}
		if sp.DigestAlgorithm != "" && sp.DigestAlgorithm != DigestSHA1 {
			add("samlidp: digest %s does not match signature algorithm RSA_SHA1", sp.DigestAlgorithm)
		}
	default:
		add("samlidp: unknown signature algorithm %q", sp.SignatureAlgorithm)
	}
	if sp.AssertionLifetime < 0 || sp.AssertionLifetime > MaxAssertionLifetime {
		add("samlidp: assertion lifetime %s outside (0, %s]", sp.AssertionLifetime, MaxAssertionLifetime)
	}
	if sp.Encryption.Enabled {
		if sp.Encryption.Certificate == nil {
			add("samlidp: assertion encryption enabled without an SP certificate")
		} else if err := CheckCertificateKey(sp.Encryption.Certificate, sp.AllowLegacy); err != nil {
			add("samlidp: encryption certificate: %w", err)
		}
		switch sp.Encryption.DataAlgorithm {
		case "", AES256GCM, AES128GCM, AES256CBC, AES128CBC:
		default:
			add("samlidp: unknown encryption algorithm %q", sp.Encryption.DataAlgorithm)
		}
		switch sp.Encryption.KeyTransport {
		case "", RSAOAEP:
		case RSA15:
			if !sp.AllowLegacy {
				add("samlidp: RSA_15 key transport requires the legacy option")
			}
		default:
			add("samlidp: unknown key transport %q", sp.Encryption.KeyTransport)
		}
	}
	for i, c := range sp.SigningCertificates {
		if c == nil {
			add("samlidp: SP signing certificate %d is nil", i)
		} else if err := CheckCertificateKey(c, sp.AllowLegacy); err != nil {
			add("samlidp: SP signing certificate %d: %w", i, err)
		}
	}
	if sp.RequireSignedRequests && len(sp.SigningCertificates) == 0 {
		add("samlidp: signed requests required but no SP signing certificate registered")
	}
	if sp.SLO.Enabled {
		if err := ValidateACSURL(sp.SLO.LogoutURL, sp.AllowLoopbackHTTP); err != nil {
			add("samlidp: SLO logout URL: %w", err)
		}
	}
	return errors.Join(errs...)
}

// CheckCertificateKey accepts RSA public keys of at least 2048 bits (1024
// with allowLegacy).
func CheckCertificateKey(cert *x509.Certificate, allowLegacy bool) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("certificate key is %T, only RSA is supported", cert.PublicKey)
	}
	min := 2048
	if allowLegacy {
		min = 1024
	}
	if pub.N.BitLen() < min {
		return fmt.Errorf("RSA key of %d bits is below the %d-bit minimum", pub.N.BitLen(), min)
	}
	return nil
}

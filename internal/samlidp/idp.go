package samlidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// IdPConfig is the identity of one IdP (in Gatehouse: one app instance,
// whose issuer is Gatehouse's base URL and the app's external key).
type IdPConfig struct {
	// EntityID is the Issuer of every message and the metadata entityID.
	EntityID string
	// SSOURL serves SSO for both HTTP-POST and HTTP-Redirect bindings.
	SSOURL string
	// SLOURL is published when not empty.
	SLOURL string
	// SigningKey signs responses. An *rsa.PrivateKey is Precompute()d here,
	// once; any crypto.Signer with an RSA public key (e.g. a KMS signer)
	// works. Must be safe for concurrent use.
	SigningKey crypto.Signer
	// SigningCertificate is the certificate of SigningKey; it is put in
	// KeyInfo and published in metadata.
	SigningCertificate *x509.Certificate
	// ExtraCertificates are published in metadata next to the active one
	// (the next key before a rollover, or the previous one just after).
	ExtraCertificates []*x509.Certificate
	// AllowLegacyKey accepts a signing key of 1024–2047 bits.
	AllowLegacyKey bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies message IDs and encryption keys; nil means crypto/rand.
	// It must be safe for concurrent use if the IdP is shared.
	Rand io.Reader
	// AllowLoopbackHTTP permits http://localhost URLs for SSOURL/SLOURL.
	AllowLoopbackHTTP bool
}

// IdP builds and signs SAML messages for one issuer. It is immutable after
// NewIdP and safe for concurrent use: build it once per signing key and keep
// it (parsing keys per request costs more than the XML work).
type IdP struct {
	entityID  string
	ssoURL    string
	sloURL    string
	signer    crypto.Signer
	cert      *x509.Certificate
	extra     []*x509.Certificate
	now       func() time.Time
	rand      io.Reader
	sigSHA256 *dsig.SigningContext
	sigSHA1   *dsig.SigningContext
}

// NewIdP validates cfg and prepares reusable signing contexts.
func NewIdP(cfg IdPConfig) (*IdP, error) {
	if cfg.EntityID == "" || !validXMLString(cfg.EntityID) {
		return nil, errors.New("samlidp: IdP entity ID is empty or not valid XML text")
	}
	if err := ValidateACSURL(cfg.SSOURL, cfg.AllowLoopbackHTTP); err != nil {
		return nil, fmt.Errorf("samlidp: SSO URL: %w", err)
	}
	if cfg.SLOURL != "" {
		if err := ValidateACSURL(cfg.SLOURL, cfg.AllowLoopbackHTTP); err != nil {
			return nil, fmt.Errorf("samlidp: SLO URL: %w", err)
		}
	}
	if cfg.SigningKey == nil || cfg.SigningCertificate == nil {
		return nil, errors.New("samlidp: signing key and certificate are required")
	}
	pub, ok := cfg.SigningKey.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("samlidp: signing key is %T, only RSA is supported", cfg.SigningKey.Public())
	}
	if err := CheckCertificateKey(cfg.SigningCertificate, cfg.AllowLegacyKey); err != nil {
		return nil, fmt.Errorf("samlidp: signing certificate: %w", err)
	}
	if cpub, ok := cfg.SigningCertificate.PublicKey.(*rsa.PublicKey); !ok || !cpub.Equal(pub) {
		return nil, errors.New("samlidp: signing certificate does not match the signing key")
	}
	for i, c := range cfg.ExtraCertificates {
		if c == nil {
			return nil, fmt.Errorf("samlidp: extra certificate %d is nil", i)
		}
		if err := CheckCertificateKey(c, cfg.AllowLegacyKey); err != nil {
			return nil, fmt.Errorf("samlidp: extra certificate %d: %w", i, err)
		}
	}
	if k, ok := cfg.SigningKey.(*rsa.PrivateKey); ok {
		k.Precompute()
	}
	idp := &IdP{
		entityID: cfg.EntityID,
		ssoURL:   cfg.SSOURL,
		sloURL:   cfg.SLOURL,
		signer:   cfg.SigningKey,
		cert:     cfg.SigningCertificate,
		extra:    append([]*x509.Certificate(nil), cfg.ExtraCertificates...),
		now:      cfg.Now,
		rand:     cfg.Rand,
	}
	if idp.now == nil {
		idp.now = time.Now
	}
	if idp.rand == nil {
		idp.rand = rand.Reader
	}
	var err error
	if idp.sigSHA256, err = newSigningContext(cfg.SigningKey, cfg.SigningCertificate, dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	if idp.sigSHA1, err = newSigningContext(cfg.SigningKey, cfg.SigningCertificate, dsig.RSASHA1SignatureMethod); err != nil {
		return nil, err
	}
	return idp, nil
}

func newSigningContext(signer crypto.Signer, cert *x509.Certificate, method string) (*dsig.SigningContext, error) {
	ctx, err := dsig.NewSigningContext(signer, [][]byte{cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("samlidp: signing context: %w", err)
	}
	ctx.Prefix = "ds"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		return nil, fmt.Errorf("samlidp: signing context: %w", err)
	}
	return ctx, nil
}

// EntityID returns the IdP issuer.
func (idp *IdP) EntityID() string { return idp.entityID }

// SSOURL returns the SSO endpoint (both bindings).
func (idp *IdP) SSOURL() string { return idp.ssoURL }

// SLOURL returns the SLO endpoint, or "".
func (idp *IdP) SLOURL() string { return idp.sloURL }

// SigningCertificate returns the active signing certificate.
func (idp *IdP) SigningCertificate() *x509.Certificate { return idp.cert }

func (idp *IdP) signingContext(alg SignatureAlgorithm) *dsig.SigningContext {
	if alg == RSASHA1 {
		return idp.sigSHA1
	}
	return idp.sigSHA256
}

// newID returns a fresh XML ID: "id" followed by 32 hex digits (128 bits).
func (idp *IdP) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(idp.rand, b[:]); err != nil {
		return "", fmt.Errorf("samlidp: random ID: %w", err)
	}
	return "id" + hex.EncodeToString(b[:]), nil
}

// signEnveloped signs el (which must carry an ID attribute and declare every
// namespace prefix it uses) with an enveloped exclusive-C14N signature and
// inserts the ds:Signature right after el's Issuer child, where the SAML
// schema puts it. The digest is computed over a copy, so el keeps its own
// namespace declarations (for example xmlns:xs used only in xsi:type values)
// while its canonical form is what was signed.
func (idp *IdP) signEnveloped(el *etree.Element, alg SignatureAlgorithm) error {
	sig, err := idp.signingContext(alg).ConstructSignature(el.Copy(), true)
	if err != nil {
		return fmt.Errorf("samlidp: sign %s: %w", el.Tag, err)
	}
	pos := 0
	for _, c := range el.ChildElements() {
		if c.Tag == "Issuer" {
			pos = c.Index() + 1
			break
		}
	}
	el.InsertChildAt(pos, sig)
	return nil
}

// serialize writes el as a standalone UTF-8 document. Canonical escaping
// keeps CR, TAB and LF in attribute values and CR in text intact through a
// parser, so what a verifier canonicalizes equals what was signed.
func serialize(el *etree.Element, xmlDecl bool) ([]byte, error) {
	doc := etree.NewDocument()
	if xmlDecl {
		doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	}
	doc.SetRoot(el)
	doc.WriteSettings.CanonicalText = true
	doc.WriteSettings.CanonicalAttrVal = true
	return doc.WriteToBytes()
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

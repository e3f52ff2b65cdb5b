package sso

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/samlidp"
)

// serviceProvider converts an app's sign-on settings into the protocol
// core's view of the service provider.
func serviceProvider(a *catalog.App, acsURL string, allowLegacy, loopback bool) (*samlidp.ServiceProvider, error) {
	so := a.Settings.SignOn
	sp := &samlidp.ServiceProvider{
		EntityID:              so.Audience,
		ACSURL:                acsURL,
		Recipient:             so.Recipient,
		Destination:           so.Destination,
		NameIDFormat:          so.SubjectNameIDFormat,
		ResponseSigned:        so.ResponseSigned,
		AssertionSigned:       so.AssertionSigned,
		SignatureAlgorithm:    samlidp.SignatureAlgorithm(so.SignatureAlgorithm),
		DigestAlgorithm:       samlidp.DigestAlgorithm(so.DigestAlgorithm),
		HonorForceAuthn:       so.HonorForceAuthn,
		AuthnContextClassRef:  so.AuthnContextClassRef,
		RequireSignedRequests: so.SAMLSignedRequestEnabled,
		AllowLegacy:           allowLegacy,
		AllowLoopbackHTTP:     loopback,
	}
	if acsURL != so.SSOAcsURL {
		// A per-integration ACS (AWS environment, override) replaces the
		// configured one; recipient and destination follow it.
		sp.Recipient, sp.Destination = acsURL, acsURL
	}
	if so.SAMLAssertionLifetimeSeconds > 0 {
		sp.AssertionLifetime = time.Duration(so.SAMLAssertionLifetimeSeconds) * time.Second
	}
	if so.AllowMultipleAcsEndpoints {
		for _, e := range so.AcsEndpoints {
			sp.ACSEndpoints = append(sp.ACSEndpoints, samlidp.ACSEndpoint{URL: e.URL, Index: e.Index})
		}
	}
	for _, c := range so.SPCertificate.X5C {
		cert, err := parseX5C(c)
		if err != nil {
			return nil, fmt.Errorf("spCertificate: %w", err)
		}
		sp.SigningCertificates = append(sp.SigningCertificates, cert...)
	}
	if ae := so.AssertionEncryption; ae.Enabled {
		if len(ae.X5C) == 0 {
			return nil, fmt.Errorf("assertionEncryption: no certificate")
		}
		certs, err := parseX5C(ae.X5C[0])
		if err != nil {
			return nil, fmt.Errorf("assertionEncryption: %w", err)
		}
		sp.Encryption = samlidp.Encryption{Enabled: true, Certificate: certs[0],
			DataAlgorithm: samlidp.DataEncryption(ae.EncryptionAlgorithm), KeyTransport: samlidp.KeyTransport(ae.KeyTransportAlgorithm)}
	}
	if so.SLO.Enabled {
		sp.SLO = samlidp.SLO{Enabled: true, LogoutURL: so.SLO.LogoutURL, SPIssuer: so.SLO.Issuer}
	}
	return sp, nil
}

// parseX5C reads one x5c entry: base64 DER, as Okta takes it.
// samlidp.ParseCertificate does the base64 decoding itself.
func parseX5C(s string) ([]*x509.Certificate, error) {
	c, err := samlidp.ParseCertificate([]byte(s))
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{c}, nil
}

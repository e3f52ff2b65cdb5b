package samlidp

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// MetadataOptions tunes the IdP metadata document.
type MetadataOptions struct {
	// ValidUntil is written as validUntil; zero means the NotAfter of the
	// active signing certificate.
	ValidUntil time.Time
	// OmitValidUntil leaves validUntil out (Okta's metadata has none).
	OmitValidUntil bool
	// WantAuthnRequestsSigned is published as is (Okta: false).
	WantAuthnRequestsSigned bool
	// NameIDFormats defaults to emailAddress and unspecified.
	NameIDFormats []string
}

// Metadata returns the IdP EntityDescriptor (UTF-8, no BOM, with an XML
// declaration): entityID, optional validUntil, an IDPSSODescriptor with
// WantAuthnRequestsSigned, one KeyDescriptor use="signing" per published
// certificate (active first, then the extra rollover certificates),
// NameIDFormats, SingleSignOnService for HTTP-POST and HTTP-Redirect, and
// SingleLogoutService for both bindings when the IdP has an SLO URL.
func Metadata(idp *IdP, opts MetadataOptions) ([]byte, error) {
	if idp == nil {
		return nil, errors.New("samlidp: nil IdP")
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", NSMetadata)
	ed.CreateAttr("entityID", idp.entityID)
	if !opts.OmitValidUntil {
		vu := opts.ValidUntil
		if vu.IsZero() {
			vu = idp.cert.NotAfter
		}
		ed.CreateAttr("validUntil", formatTime(vu))
	}
	d := ed.CreateElement("md:IDPSSODescriptor")
	d.CreateAttr("WantAuthnRequestsSigned", strconv.FormatBool(opts.WantAuthnRequestsSigned))
	d.CreateAttr("protocolSupportEnumeration", NSProtocol)
	certs := append([]*x509.Certificate{idp.cert}, idp.extra...)
	seen := map[string]bool{}
	for _, c := range certs {
		if seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		kd := d.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("ds:KeyInfo")
		ki.CreateAttr("xmlns:ds", NSDSig)
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	if idp.sloURL != "" {
		for _, b := range []string{BindingHTTPPost, BindingHTTPRedirect} {
			s := d.CreateElement("md:SingleLogoutService")
			s.CreateAttr("Binding", b)
			s.CreateAttr("Location", idp.sloURL)
		}
	}
	formats := opts.NameIDFormats
	if len(formats) == 0 {
		formats = []string{NameIDFormatEmailAddress, NameIDFormatUnspecified}
	}
	for _, f := range formats {
		if err := checkText("NameID format", f); err != nil {
			return nil, err
		}
		d.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{BindingHTTPPost, BindingHTTPRedirect} {
		s := d.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", idp.ssoURL)
	}
	return serialize(ed, true)
}

// MaxCertificateSize caps one uploaded certificate (PEM or base64).
const MaxCertificateSize = 64 << 10

// ParseCertificate parses a certificate uploaded by an administrator: a PEM
// "CERTIFICATE" block, or bare base64 of the DER (white space ignored, as in
// an Okta x5c value or a metadata X509Certificate). Exactly one certificate
// is accepted. Key strength is checked separately (CheckCertificateKey).
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("samlidp: certificate larger than %d bytes", MaxCertificateSize)
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var der []byte
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		block, rest := pem.Decode(trimmed)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, errors.New("samlidp: PEM data is not a CERTIFICATE block")
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, errors.New("samlidp: more than one PEM block; upload one certificate")
		}
		der = block.Bytes
	} else {
		s := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, string(trimmed))
		var err error
		der, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("samlidp: certificate is neither PEM nor base64 DER")
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("samlidp: parse certificate: %w", err)
	}
	return cert, nil
}

// SPEndpoint is an endpoint from SP metadata.
type SPEndpoint struct {
	Binding   string
	Location  string
	Index     int
	IsDefault bool
}

// SPMetadata is what Gatehouse reads from an uploaded SP EntityDescriptor.
type SPMetadata struct {
	EntityID                  string
	ValidUntil                time.Time
	AuthnRequestsSigned       bool
	WantAssertionsSigned      bool
	AssertionConsumerServices []SPEndpoint
	SingleLogoutServices      []SPEndpoint
	SigningCertificates       []*x509.Certificate
	EncryptionCertificates    []*x509.Certificate
	NameIDFormats             []string
}

// ParseSPMetadata parses SP metadata uploaded by an administrator, with the
// same hardening as protocol messages (no DTD, round-trip validation, size
// and depth caps; comments are tolerated). It requires one SPSSODescriptor
// supporting SAML 2.0 and at least one HTTP-POST ACS, and refuses any
// HTTP-POST ACS or SLO location that ValidateACSURL rejects. KeyDescriptors
// without use count as both signing and encryption.
func ParseSPMetadata(data []byte, allowLoopbackHTTP bool) (*SPMetadata, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	root, err := parseStrict(data, strictOptions{maxBytes: MaxMetadataSize, allowComments: true})
	if err != nil {
		return nil, fmt.Errorf("samlidp: SP metadata: %w", err)
	}
	if root.NamespaceURI() != NSMetadata {
		return nil, errors.New("samlidp: SP metadata root is not in the metadata namespace")
	}
	if root.Tag == "EntitiesDescriptor" {
		eds := childElements(root, NSMetadata, "EntityDescriptor")
		if len(eds) != 1 {
			return nil, errors.New("samlidp: SP metadata must describe exactly one entity")
		}
		root = eds[0]
	}
	if root.Tag != "EntityDescriptor" {
		return nil, errors.New("samlidp: SP metadata root is not an EntityDescriptor")
	}
	m := &SPMetadata{EntityID: strings.TrimSpace(root.SelectAttrValue("entityID", ""))}
	if m.EntityID == "" || len(m.EntityID) > 1024 {
		return nil, errors.New("samlidp: SP metadata has no valid entityID")
	}
	if v := root.SelectAttrValue("validUntil", ""); v != "" {
		if m.ValidUntil, err = parseTime(v); err != nil {
			return nil, fmt.Errorf("samlidp: SP metadata validUntil: %w", err)
		}
	}
	var sp *etree.Element
	for _, d := range childElements(root, NSMetadata, "SPSSODescriptor") {
		if strings.Contains(d.SelectAttrValue("protocolSupportEnumeration", ""), NSProtocol) {
			if sp != nil {
				return nil, errors.New("samlidp: SP metadata has more than one SAML 2.0 SPSSODescriptor")
			}
			sp = d
		}
	}
	if sp == nil {
		return nil, errors.New("samlidp: SP metadata has no SAML 2.0 SPSSODescriptor")
	}
	m.AuthnRequestsSigned, _ = boolAttr(sp, "AuthnRequestsSigned")
	m.WantAssertionsSigned, _ = boolAttr(sp, "WantAssertionsSigned")
	for _, kd := range childElements(sp, NSMetadata, "KeyDescriptor") {
		use := kd.SelectAttrValue("use", "")
		if use != "" && use != "signing" && use != "encryption" {
			return nil, fmt.Errorf("samlidp: KeyDescriptor use %q is not valid", use)
		}
		ki, err := optionalChild(kd, NSDSig, "KeyInfo")
		if err != nil || ki == nil {
			continue
		}
		for _, xd := range childElements(ki, NSDSig, "X509Data") {
			for _, xc := range childElements(xd, NSDSig, "X509Certificate") {
				t, err := textOf(xc)
				if err != nil {
					return nil, fmt.Errorf("samlidp: SP metadata certificate: %w", err)
				}
				c, err := ParseCertificate([]byte(t))
				if err != nil {
					return nil, err
				}
				if use != "encryption" {
					m.SigningCertificates = append(m.SigningCertificates, c)
				}
				if use != "signing" {
					m.EncryptionCertificates = append(m.EncryptionCertificates, c)
				}
			}
		}
	}
	for _, nf := range childElements(sp, NSMetadata, "NameIDFormat") {
		t, err := textOf(nf)
		if err != nil {
			return nil, fmt.Errorf("samlidp: SP metadata NameIDFormat: %w", err)
		}
		m.NameIDFormats = append(m.NameIDFormats, strings.TrimSpace(t))
	}
	for _, s := range childElements(sp, NSMetadata, "SingleLogoutService") {
		e := SPEndpoint{Binding: s.SelectAttrValue("Binding", ""), Location: s.SelectAttrValue("Location", "")}
		if e.Binding == BindingHTTPPost || e.Binding == BindingHTTPRedirect {
			if err := ValidateACSURL(e.Location, allowLoopbackHTTP); err != nil {
				return nil, fmt.Errorf("samlidp: SP metadata SingleLogoutService %q: %w", e.Location, err)
			}
		}
		m.SingleLogoutServices = append(m.SingleLogoutServices, e)
	}
	indexes := map[int]bool{}
	for _, s := range childElements(sp, NSMetadata, "AssertionConsumerService") {
		idx, err := strconv.ParseUint(s.SelectAttrValue("index", ""), 10, 16)
		if err != nil {
			return nil, errors.New("samlidp: SP metadata AssertionConsumerService without a valid index")
		}
		if indexes[int(idx)] {
			return nil, fmt.Errorf("samlidp: SP metadata repeats ACS index %d", idx)
		}
		indexes[int(idx)] = true
		def, _ := boolAttr(s, "isDefault")
		e := SPEndpoint{Binding: s.SelectAttrValue("Binding", ""), Location: s.SelectAttrValue("Location", ""), Index: int(idx), IsDefault: def}
		if e.Binding != BindingHTTPPost {
			continue
		}
		if err := ValidateACSURL(e.Location, allowLoopbackHTTP); err != nil {
			return nil, fmt.Errorf("samlidp: SP metadata ACS %q: %w", e.Location, err)
		}
		m.AssertionConsumerServices = append(m.AssertionConsumerServices, e)
	}
	if len(m.AssertionConsumerServices) == 0 {
		return nil, errors.New("samlidp: SP metadata has no HTTP-POST AssertionConsumerService")
	}
	return m, nil
}

// ServiceProvider turns the metadata into an SP configuration with
// Gatehouse defaults: the default ACS (isDefault, else the lowest index) as
// ACSURL, every HTTP-POST ACS as requestable endpoint, both response and
// assertion signed, RSA-SHA256, the first NameIDFormat when there is one,
// the signing certificates, and signed requests required when the metadata
// says AuthnRequestsSigned. Encryption and SLO are left for the admin to
// switch on.
func (m *SPMetadata) ServiceProvider() ServiceProvider {
	def := m.AssertionConsumerServices[0]
	for _, e := range m.AssertionConsumerServices {
		if e.IsDefault {
			def = e
			break
		}
		if e.Index < def.Index {
			def = e
		}
	}
	sp := ServiceProvider{
		EntityID:              m.EntityID,
		ACSURL:                def.Location,
		ResponseSigned:        true,
		AssertionSigned:       true,
		SignatureAlgorithm:    RSASHA256,
		DigestAlgorithm:       DigestSHA256,
		SigningCertificates:   m.SigningCertificates,
		RequireSignedRequests: m.AuthnRequestsSigned && len(m.SigningCertificates) > 0,
	}
	for _, e := range m.AssertionConsumerServices {
		sp.ACSEndpoints = append(sp.ACSEndpoints, ACSEndpoint{URL: e.Location, Index: e.Index})
	}
	if len(m.NameIDFormats) > 0 {
		sp.NameIDFormat = m.NameIDFormats[0]
	}
	return sp
}

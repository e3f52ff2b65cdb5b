// Package samltest is a minimal SAML identity provider for tests of the AWS
// sandbox: it makes a self-signed certificate, IdP metadata, and signed
// SAML responses shaped like the ones AWS expects (§1.7 of the spec). It
// exists only so tests can produce input; the sandbox itself only verifies.
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// IdP is a test identity provider.
type IdP struct {
	EntityID string
	Key      *rsa.PrivateKey
	Cert     *x509.Certificate
}

// NewIdP creates an IdP with a fresh self-signed RSA certificate of the given
// size, valid from notBefore for ten years.
func NewIdP(entityID string, bits int, notBefore time.Time) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(notBefore.UnixNano()),
		Subject:      pkix.Name{CommonName: entityID},
		NotBefore:    notBefore,
		NotAfter:     notBefore.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return &IdP{EntityID: entityID, Key: key, Cert: cert}, nil
}

// Metadata returns the IdP metadata document, shaped like Okta's.
func (i *IdP) Metadata() string {
	return MetadataFor(i.EntityID, i.Cert)
}

// MetadataFor returns metadata for entityID listing the given certificates.
func MetadataFor(entityID string, certs ...*x509.Certificate) string {
	keys := ""
	for _, c := range certs {
		keys += `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
			base64.StdEncoding.EncodeToString(c.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	}
	return `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">` +
		`<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + keys +
		`<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/saml"/>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/saml"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
}

// Response describes one SAML response to build. Zero values get AWS-shaped
// defaults (see Build).
type Response struct {
	Issuer          string // defaults to the IdP's entityID
	Destination     string
	Recipient       string
	Audience        string // defaults to urn:amazon:webservices
	NameID          string
	NameIDFormat    string // defaults to unspecified
	OmitSubject     bool
	IssueInstant    time.Time
	Lifetime        time.Duration // NotOnOrAfter - IssueInstant, default 5 min
	Roles           []string      // Role attribute values
	SessionName     *string       // RoleSessionName; nil omits the attribute
	SessionDuration string        // SessionDuration attribute when non-empty
	Attributes      map[string][]string
	StatusCode      string // defaults to Success
	SignAssertion   bool
	SignResponse    bool
	SignWith        *IdP // key to sign with (defaults to the IdP itself)
	// HoistNamespaces moves the Assertion's namespace declarations to the
	// Response after signing, so the Assertion relies on inherited prefixes.
	HoistNamespaces bool
	ID              string
}

// Build returns the base64 SAMLResponse.
func (i *IdP) Build(r Response) (string, error) {
	if r.Issuer == "" {
		r.Issuer = i.EntityID
	}
	if r.Audience == "" {
		r.Audience = "urn:amazon:webservices"
	}
	if r.NameIDFormat == "" {
		r.NameIDFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	}
	if r.Lifetime == 0 {
		r.Lifetime = 5 * time.Minute
	}
	if r.StatusCode == "" {
		r.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Success"
	}
	if r.ID == "" {
		r.ID = fmt.Sprintf("id%d", r.IssueInstant.UnixNano())
	}
	signer := i
	if r.SignWith != nil {
		signer = r.SignWith
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	now := r.IssueInstant

	resp := etree.NewElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("Destination", r.Destination)
	resp.CreateAttr("ID", r.ID)
	resp.CreateAttr("IssueInstant", ts(now))
	resp.CreateAttr("Version", "2.0")
	ri := resp.CreateElement("saml2:Issuer")
	ri.CreateAttr("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion")
	ri.SetText(r.Issuer)
	resp.CreateElement("saml2p:Status").CreateElement("saml2p:StatusCode").CreateAttr("Value", r.StatusCode)

	a := etree.NewElement("saml2:Assertion")
	a.CreateAttr("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion")
	a.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	a.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	a.CreateAttr("ID", r.ID+"a")
	a.CreateAttr("IssueInstant", ts(now))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml2:Issuer").SetText(r.Issuer)
	if !r.OmitSubject {
		s := a.CreateElement("saml2:Subject")
		n := s.CreateElement("saml2:NameID")
		n.CreateAttr("Format", r.NameIDFormat)
		n.SetText(r.NameID)
		sc := s.CreateElement("saml2:SubjectConfirmation")
		sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
		scd := sc.CreateElement("saml2:SubjectConfirmationData")
		scd.CreateAttr("NotOnOrAfter", ts(now.Add(r.Lifetime)))
		scd.CreateAttr("Recipient", r.Recipient)
	}
	c := a.CreateElement("saml2:Conditions")
	c.CreateAttr("NotBefore", ts(now.Add(-5*time.Minute)))
	c.CreateAttr("NotOnOrAfter", ts(now.Add(r.Lifetime)))
	c.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(r.Audience)
	as := a.CreateElement("saml2:AuthnStatement")
	as.CreateAttr("AuthnInstant", ts(now))
	as.CreateAttr("SessionIndex", r.ID)
	as.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").
		SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	st := a.CreateElement("saml2:AttributeStatement")
	attr := func(name string, vals ...string) {
		at := st.CreateElement("saml2:Attribute")
		at.CreateAttr("Name", name)
		at.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		for _, v := range vals {
			av := at.CreateElement("saml2:AttributeValue")
			av.CreateAttr("xsi:type", "xs:string")
			av.SetText(v)
		}
	}
	if len(r.Roles) > 0 {
		attr("https://aws.amazon.com/SAML/Attributes/Role", r.Roles...)
	}
	if r.SessionName != nil {
		attr("https://aws.amazon.com/SAML/Attributes/RoleSessionName", *r.SessionName)
	}
	if r.SessionDuration != "" {
		attr("https://aws.amazon.com/SAML/Attributes/SessionDuration", r.SessionDuration)
	}
	for k, v := range r.Attributes {
		attr(k, v...)
	}

	if r.SignAssertion {
		signed, err := signer.sign(a)
		if err != nil {
			return "", err
		}
		a = signed
	}
	resp.AddChild(a)
	if r.SignResponse {
		signed, err := signer.sign(resp)
		if err != nil {
			return "", err
		}
		resp = signed
	}
	if r.HoistNamespaces {
		// Exclusive C14N ignores where a namespace is declared, so moving
		// the declarations to the root keeps both signatures valid.
		for _, el := range resp.ChildElements() {
			var keep []etree.Attr
			for _, at := range el.Attr {
				if at.Space == "xmlns" && at.Key == "saml2" {
					resp.RemoveAttr("xmlns:saml2")
					resp.CreateAttr("xmlns:saml2", at.Value)
					continue
				}
				keep = append(keep, at)
			}
			el.Attr = keep
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("serialize: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// sign signs el enveloped (RSA-SHA256, exclusive C14N) and moves the
// Signature right after the Issuer, where the SAML schema puts it.
func (i *IdP) sign(el *etree.Element) (*etree.Element, error) {
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{i.Cert.Raw}, PrivateKey: i.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("signature method: %w", err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	// SignEnveloped appends the Signature without setting its parent, so
	// detach it by slicing rather than with RemoveChild.
	sig, ok := signed.Child[len(signed.Child)-1].(*etree.Element)
	if !ok {
		return nil, fmt.Errorf("sign: no signature appended")
	}
	signed.Child = signed.Child[:len(signed.Child)-1]
	signed.InsertChildAt(1, sig)
	return signed, nil
}

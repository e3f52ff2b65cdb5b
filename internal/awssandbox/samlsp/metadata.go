// Package samlsp holds the service-provider side of SAML 2.0 as AWS applies
// it: reading an identity provider's metadata document the way IAM does for
// CreateSAMLProvider, and checking a base64 SAMLResponse (structure, issuer,
// XML signature against the metadata certificates only) the way STS does for
// AssumeRoleWithSAML. Signatures are verified with goxmldsig; all SAML
// parsing is this package's own and shares nothing with Gatehouse's IdP.
package samlsp

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// XML namespaces used by SAML metadata and messages.
const (
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// MinRSABits is the smallest signing key IAM accepts in metadata.
const MinRSABits = 1024

// Entity is one identity provider described by a metadata document.
type Entity struct {
	EntityID string
	Certs    []*x509.Certificate // signing certificates from the IDPSSODescriptor
}

// Metadata is what IAM keeps from an uploaded metadata document.
type Metadata struct {
	Entities   []Entity
	ValidUntil time.Time // zero when the document has no validUntil
}

// Entity returns the entity whose entityID equals id.
func (m *Metadata) Entity(id string) (Entity, bool) {
	for _, e := range m.Entities {
		if e.EntityID == id {
			return e, true
		}
	}
	return Entity{}, false
}

// ErrMetadata is wrapped by every ParseMetadata failure; IAM reports all of
// them as InvalidInput "Could not parse metadata".
var ErrMetadata = errors.New("could not parse metadata")

type mdKeyDescriptor struct {
	Use   string   `xml:"use,attr"`
	Certs []string `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo>X509Data>X509Certificate"`
}

type mdIDPSSO struct {
	Protocols string            `xml:"protocolSupportEnumeration,attr"`
	Keys      []mdKeyDescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
}

type mdEntity struct {
	XMLName    xml.Name
	EntityID   string     `xml:"entityID,attr"`
	ValidUntil string     `xml:"validUntil,attr"`
	IDPSSO     []mdIDPSSO `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
	Entities   []mdEntity `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
}

// ParseMetadata reads an IdP metadata document as IAM does: UTF-8 without a
// byte order mark, an EntityDescriptor (or an EntitiesDescriptor of them) with
// an IDPSSODescriptor supporting SAML 2.0 and at least one signing
// certificate whose RSA key has at least 1024 bits.
func ParseMetadata(doc string) (*Metadata, error) {
	if strings.HasPrefix(doc, "\uFEFF") {
		return nil, fmt.Errorf("%w: byte order mark present", ErrMetadata)
	}
	if err := CheckXML([]byte(doc)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	var root mdEntity
	if err := xml.Unmarshal([]byte(doc), &root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	if root.XMLName.Space != NSMetadata {
		return nil, fmt.Errorf("%w: root element is not in the SAML metadata namespace", ErrMetadata)
	}
	var list []mdEntity
	switch root.XMLName.Local {
	case "EntityDescriptor":
		list = []mdEntity{root}
	case "EntitiesDescriptor":
		list = root.Entities
	default:
		return nil, fmt.Errorf("%w: root element %s", ErrMetadata, root.XMLName.Local)
	}
	md := &Metadata{}
	if root.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339Nano, root.ValidUntil)
		if err != nil {
			return nil, fmt.Errorf("%w: validUntil: %w", ErrMetadata, err)
		}
		md.ValidUntil = t.UTC()
	}
	for _, ed := range list {
		if ed.EntityID == "" {
			return nil, fmt.Errorf("%w: EntityDescriptor without entityID", ErrMetadata)
		}
		if ed.ValidUntil != "" && md.ValidUntil.IsZero() {
			t, err := time.Parse(time.RFC3339Nano, ed.ValidUntil)
			if err != nil {
				return nil, fmt.Errorf("%w: validUntil: %w", ErrMetadata, err)
			}
			md.ValidUntil = t.UTC()
		}
		e := Entity{EntityID: ed.EntityID}
		for _, sso := range ed.IDPSSO {
			if !strings.Contains(sso.Protocols, NSProtocol) {
				continue
			}
			for _, k := range sso.Keys {
				if k.Use != "" && k.Use != "signing" {
					continue
				}
				for _, c := range k.Certs {
					cert, err := parseCert(c)
					if err != nil {
						return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
					}
					e.Certs = append(e.Certs, cert)
				}
			}
		}
		if len(e.Certs) == 0 {
			continue
		}
		md.Entities = append(md.Entities, e)
	}
	if len(md.Entities) == 0 {
		return nil, fmt.Errorf("%w: no IDPSSODescriptor with a signing certificate", ErrMetadata)
	}
	return md, nil
}

func parseCert(s string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("certificate is not base64: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("certificate key is not RSA")
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("certificate key has %d bits, fewer than %d", pub.N.BitLen(), MinRSABits)
	}
	return cert, nil
}

// CheckXML rejects documents that are not safe to interpret: DTDs (DOCTYPE),
// processing directives, and anything that does not survive an encoding/xml
// round trip unchanged (the class of bugs behind CVE-2020-27846).
func CheckXML(b []byte) error {
	if err := xrv.Validate(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("xml round trip: %w", err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("xml: %w", err)
		}
		if _, ok := tok.(xml.Directive); ok {
			return errors.New("xml: DOCTYPE and other directives are not allowed")
		}
	}
}

package samlidp

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIdPMetadata(t *testing.T) {
	idp := newTestIdP(t, nil)
	md, err := Metadata(idp, MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(md, []byte("\xef\xbb\xbf")) || !bytes.HasPrefix(md, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("metadata must start with an XML declaration and no BOM: %q", md[:40])
	}
	goldenCompare(t, "idp-metadata.xml", md)
	root := parseOut(t, md)
	if root.Tag != "EntityDescriptor" || root.NamespaceURI() != NSMetadata || root.SelectAttrValue("entityID", "") != testIdPEntityID {
		t.Fatalf("root %s %v", root.Tag, root.Attr)
	}
	if vu := root.SelectAttrValue("validUntil", ""); vu != formatTime(idp.SigningCertificate().NotAfter) {
		t.Fatalf("validUntil %q", vu)
	}
	d := one(t, root, NSMetadata, "IDPSSODescriptor")
	if d.SelectAttrValue("WantAuthnRequestsSigned", "") != "false" || d.SelectAttrValue("protocolSupportEnumeration", "") != NSProtocol {
		t.Fatalf("IDPSSODescriptor %v", d.Attr)
	}
	kds := childElements(d, NSMetadata, "KeyDescriptor")
	if len(kds) != 2 {
		t.Fatalf("%d KeyDescriptors, want active + next", len(kds))
	}
	for i, name := range []string{"idp", "idp-next"} {
		if kds[i].SelectAttrValue("use", "") != "signing" {
			t.Errorf("KeyDescriptor %d use", i)
		}
		c, err := ParseCertificate([]byte(kds[i].FindElement(".//X509Certificate").Text()))
		if err != nil || !c.Equal(loadPair(t, name).cert) {
			t.Errorf("KeyDescriptor %d is not the %s certificate (%v)", i, name, err)
		}
	}
	sso := childElements(d, NSMetadata, "SingleSignOnService")
	if len(sso) != 2 || sso[0].SelectAttrValue("Binding", "") != BindingHTTPPost || sso[1].SelectAttrValue("Binding", "") != BindingHTTPRedirect ||
		sso[0].SelectAttrValue("Location", "") != testSSOURL {
		t.Fatalf("SSO services %v", sso)
	}
	if slo := childElements(d, NSMetadata, "SingleLogoutService"); len(slo) != 2 || slo[0].SelectAttrValue("Location", "") != testSLOURL {
		t.Fatalf("SLO services %v", slo)
	}
	if n := childElements(d, NSMetadata, "NameIDFormat"); len(n) != 2 {
		t.Fatalf("NameIDFormats %d", len(n))
	}

	md2, err := Metadata(idp, MetadataOptions{OmitValidUntil: true, WantAuthnRequestsSigned: true, NameIDFormats: []string{NameIDFormatPersistent}})
	if err != nil {
		t.Fatal(err)
	}
	r2 := parseOut(t, md2)
	if r2.SelectAttr("validUntil") != nil || r2.FindElement(".//IDPSSODescriptor").SelectAttrValue("WantAuthnRequestsSigned", "") != "true" {
		t.Fatal("options ignored")
	}
	if _, err := Metadata(idp, MetadataOptions{NameIDFormats: []string{"\x01"}}); err == nil {
		t.Fatal("control character accepted")
	}
}

func TestParseSPMetadataAWS(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "aws-sp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSPMetadata(data, false)
	if err != nil {
		t.Fatal(err)
	}
	if m.EntityID != awsEntityID || !m.WantAssertionsSigned || m.AuthnRequestsSigned || len(m.AssertionConsumerServices) != 1 ||
		m.AssertionConsumerServices[0].Location != awsACS || !m.AssertionConsumerServices[0].IsDefault ||
		len(m.SigningCertificates) != 1 || !m.SigningCertificates[0].Equal(loadPair(t, "sp").cert) || len(m.EncryptionCertificates) != 0 ||
		len(m.NameIDFormats) != 2 || !m.ValidUntil.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("parsed %+v", m)
	}
	sp := m.ServiceProvider()
	if err := sp.Validate(); err != nil {
		t.Fatalf("derived SP invalid: %v", err)
	}
	if sp.ACSURL != awsACS || sp.EntityID != awsEntityID || !sp.AssertionSigned || sp.NameIDFormat != NameIDFormatTransient {
		t.Fatalf("derived SP %+v", sp)
	}
	// With a BOM (Windows editors) it still parses.
	if _, err := ParseSPMetadata(append([]byte("\xef\xbb\xbf"), data...), false); err != nil {
		t.Fatalf("BOM: %v", err)
	}
}

func TestParseSPMetadataRejects(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "aws-sp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(base)
	for name, doc := range map[string]string{
		"javascript ACS":    strings.Replace(s, `Location="https://signin.aws.amazon.com/saml"`, `Location="javascript:alert(document.cookie)"`, 1),
		"data ACS":          strings.Replace(s, `Location="https://signin.aws.amazon.com/saml"`, `Location="data:text/html,x"`, 1),
		"http ACS":          strings.Replace(s, `Location="https://signin.aws.amazon.com/saml"`, `Location="http://signin.aws.amazon.com/saml"`, 1),
		"relative ACS":      strings.Replace(s, `Location="https://signin.aws.amazon.com/saml"`, `Location="/saml"`, 1),
		"no POST ACS":       strings.Replace(s, BindingHTTPPost, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", 1),
		"DTD":               strings.Replace(s, `<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://evil.example/">]>`, 1),
		"no entityID":       strings.Replace(s, `entityID="urn:amazon:webservices"`, ``, 1),
		"IdP metadata":      strings.ReplaceAll(s, "SPSSODescriptor", "IDPSSODescriptor"),
		"bad certificate":   strings.Replace(s, "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1),
		"repeated index":    strings.Replace(s, `</SPSSODescriptor>`, `<AssertionConsumerService index="1" Binding="`+BindingHTTPPost+`" Location="https://x.example/acs"/></SPSSODescriptor>`, 1),
		"wrong root":        `<a xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`,
		"not metadata":      `<EntityDescriptor entityID="x"/>`,
		"bad KeyDescriptor": strings.Replace(s, `use="signing"`, `use="both"`, 1),
	} {
		if _, err := ParseSPMetadata([]byte(doc), false); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestParseCertificate(t *testing.T) {
	c := loadPair(t, "sp").cert
	b64 := base64.StdEncoding.EncodeToString(c.Raw)
	wrapped := ""
	for i := 0; i < len(b64); i += 64 {
		wrapped += b64[i:min(i+64, len(b64))] + "\r\n"
	}
	for name, in := range map[string]string{
		"PEM":            string(pemCert(c)),
		"PEM with space": "\n  " + string(pemCert(c)) + "\n",
		"bare base64":    b64,
		"wrapped base64": wrapped,
	} {
		got, err := ParseCertificate([]byte(in))
		if err != nil || !got.Equal(c) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, in := range map[string]string{
		"empty":          "",
		"garbage":        "not a certificate",
		"two PEM blocks": string(pemCert(c)) + string(pemCert(c)),
		"private key":    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"truncated":      b64[:100],
		"huge":           strings.Repeat("A", MaxCertificateSize+1),
	} {
		if _, err := ParseCertificate([]byte(in)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := CheckCertificateKey(c, false); err != nil {
		t.Fatal(err)
	}
}

package samlidp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The checks in this file use two more implementations that share no code
// with Gatehouse: libxml2's schema validator (xmllint) with the OASIS SAML
// 2.0 schemas as Debian's OpenSAML packages ship them, and OpenSAML's own
// samlsign (the C++ library behind the Shibboleth SP), which verifies XML
// signatures the way a Shibboleth service provider does. With
// GATEHOUSE_REQUIRE_OPENSAML=1 (scripts/test.sh sets it) missing tools
// fail the tests instead of skipping them.

const (
	opensamlSchemas    = "/usr/share/xml/opensaml"
	xmltoolingSchemas  = "/usr/share/xml/xmltooling"
	requireOpenSAMLEnv = "GATEHOUSE_REQUIRE_OPENSAML"
)

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireOpenSAMLEnv) == "1" {
			t.Fatalf("%s not found but %s=1 (apt-get install -y %s)", name, requireOpenSAMLEnv, pkg)
		}
		t.Skipf("%s not installed (apt-get install -y %s)", name, pkg)
	}
	return bin
}

// schemaValidator returns a function that validates a document against an
// OASIS schema with xmllint, never touching the network: the schemas'
// imports of the W3C XML-DSig, XML-Encryption and xml.xsd documents are
// resolved by a catalog to the local copies.
func schemaValidator(t *testing.T) func(t *testing.T, schema string, doc []byte) error {
	t.Helper()
	bin := requireTool(t, "xmllint", "libxml2-utils")
	for _, f := range []string{
		filepath.Join(opensamlSchemas, "saml-schema-protocol-2.0.xsd"),
		filepath.Join(opensamlSchemas, "saml-schema-metadata-2.0.xsd"),
		filepath.Join(xmltoolingSchemas, "xmldsig-core-schema.xsd"),
	} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv(requireOpenSAMLEnv) == "1" {
				t.Fatalf("%s missing (apt-get install -y opensaml-schemas xmltooling-schemas)", f)
			}
			t.Skipf("%s missing", f)
		}
	}
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.xml")
	entries := map[string]string{
		"http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd": "xmldsig-core-schema.xsd",
		"http://www.w3.org/TR/2002/REC-xmlenc-core-20021210/xenc-schema.xsd":          "xenc-schema.xsd",
		"http://www.w3.org/2001/xml.xsd":                                              "xml.xsd",
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">` + "\n")
	for from, to := range entries {
		b.WriteString(`  <system systemId="` + from + `" uri="file://` + filepath.Join(xmltoolingSchemas, to) + `"/>` + "\n")
	}
	b.WriteString("</catalog>\n")
	if err := os.WriteFile(catalog, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	return func(t *testing.T, schema string, doc []byte) error {
		t.Helper()
		n++
		f := filepath.Join(dir, "doc"+strings.Repeat("_", n)+".xml")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.Join(opensamlSchemas, schema), f)
		cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &toolError{err: err, out: string(out)}
		}
		if !bytes.Contains(out, []byte(" validates")) {
			return &toolError{out: string(out)}
		}
		return nil
	}
}

type toolError struct {
	err error
	out string
}

func (e *toolError) Error() string {
	if e.err != nil {
		return e.err.Error() + ": " + e.out
	}
	return e.out
}

// TestOASISSchemaValidation validates what Gatehouse sends against the
// SAML 2.0 protocol and metadata schemas: every Response shape the
// interop suite covers, an error Response, a LogoutResponse and the IdP
// metadata (with SLO and a rollover certificate). Element order, required
// attributes and types are what strict SPs (Shibboleth, OpenSAML-based
// products) enforce before anything else. The validator is also shown to
// refuse a document that breaks the schema.
func TestOASISSchemaValidation(t *testing.T) {
	validate := schemaValidator(t)
	for _, c := range interopCases {
		t.Run(c.name, func(t *testing.T) {
			out, _, _ := buildInterop(t, c)
			if err := validate(t, "saml-schema-protocol-2.0.xsd", out); err != nil {
				t.Fatalf("Response does not validate: %v", err)
			}
		})
	}
	idp := newTestIdP(t, nil)
	t.Run("error Response (NoPassive)", func(t *testing.T) {
		out, err := idp.BuildErrorResponse(ErrorResponseInput{SP: awsSP(t), InResponseTo: "_req1", Status: StatusResponder, SubStatus: StatusNoPassive})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, "saml-schema-protocol-2.0.xsd", out); err != nil {
			t.Fatalf("error Response does not validate: %v", err)
		}
	})
	t.Run("LogoutResponse", func(t *testing.T) {
		out, _, err := idp.BuildLogoutResponse(LogoutResponseInput{SP: awsSP(t), InResponseTo: "_logout1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, "saml-schema-protocol-2.0.xsd", out); err != nil {
			t.Fatalf("LogoutResponse does not validate: %v", err)
		}
	})
	t.Run("metadata", func(t *testing.T) {
		md, err := Metadata(idp, MetadataOptions{WantAuthnRequestsSigned: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, "saml-schema-metadata-2.0.xsd", md); err != nil {
			t.Fatalf("metadata does not validate: %v", err)
		}
		// The check can fail: SingleSignOnService before KeyDescriptor
		// breaks the schema's sequence.
		broken := regexp.MustCompile(`(?s)(<md:KeyDescriptor.*?</md:KeyDescriptor>)(.*?)(<md:SingleSignOnService[^>]*/>)`).ReplaceAll(md, []byte("$3$2$1"))
		if bytes.Equal(broken, md) {
			t.Fatal("could not reorder the metadata for the negative check")
		}
		if err := validate(t, "saml-schema-metadata-2.0.xsd", broken); err == nil {
			t.Fatal("xmllint accepted metadata with elements out of order")
		}
	})
}

// TestOpenSAMLVerifiesSignatures has OpenSAML's samlsign verify the
// response and assertion signatures with the IdP certificate, as a
// Shibboleth SP would, and detect tampering.
func TestOpenSAMLVerifiesSignatures(t *testing.T) {
	bin := requireTool(t, "samlsign", "opensaml-tools")
	dir := t.TempDir()
	certPath := filepath.Join(dir, "idp.pem")
	if err := os.WriteFile(certPath, pemCert(loadPair(t, "idp").cert), 0o644); err != nil {
		t.Fatal(err)
	}
	otherPath := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(otherPath, pemCert(loadPair(t, "idp-next").cert), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, doc []byte, cert, id string) error {
		t.Helper()
		f := filepath.Join(dir, "signed.xml")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-c", cert, "-f", f}
		if id != "" {
			args = append(args, "-id", id)
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			return &toolError{err: err, out: string(out)}
		}
		return nil
	}
	idp := newTestIdP(t, nil)
	idOf := func(t *testing.T, doc []byte, elem string) string {
		t.Helper()
		m := regexp.MustCompile(`<saml2?p?:` + elem + `\b[^>]*?\sID="([^"]+)"`).FindSubmatch(doc)
		if m == nil {
			t.Fatalf("no %s ID in %s", elem, doc)
		}
		return string(m[1])
	}
	for _, c := range []struct {
		name              string
		response, asserts bool
	}{
		{"response signed", true, false},
		{"assertion signed", false, true},
		{"both signed", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := awsSP(t)
			sp.ResponseSigned, sp.AssertionSigned = c.response, c.asserts
			in := awsInput(sp)
			in.NameID = `o'brien&<co>"@example.com`
			out, err := idp.BuildResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			var targets []string
			if c.response {
				targets = append(targets, "") // the document root
			}
			if c.asserts {
				targets = append(targets, idOf(t, out, "Assertion"))
			}
			for _, id := range targets {
				if err := verify(t, out, certPath, id); err != nil {
					t.Fatalf("samlsign rejected the signature (id %q): %v", id, err)
				}
				if err := verify(t, out, otherPath, id); err == nil {
					t.Fatalf("samlsign accepted the signature (id %q) with another certificate", id)
				}
				bad := bytes.Replace(out, []byte("43200"), []byte("43201"), 1)
				if err := verify(t, bad, certPath, id); err == nil {
					t.Fatalf("samlsign accepted a tampered response (id %q)", id)
				}
			}
		})
	}
	t.Run("LogoutResponse", func(t *testing.T) {
		out, _, err := idp.BuildLogoutResponse(LogoutResponseInput{SP: awsSP(t), InResponseTo: "_logout1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(t, out, certPath, ""); err != nil {
			t.Fatalf("samlsign rejected the LogoutResponse signature: %v", err)
		}
	})
}

package samlidp

import (
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// The fuzz targets check that parsers of outside input never panic, always
// fail with the typed error, and that anything accepted satisfies the
// invariants the HTTP layer relies on. Seeds cover valid, signed and
// hostile inputs. Run one with:
//
//	go test -run - -fuzz FuzzParsePostRequest -fuzzminimizetime 100x
//
// (the default minimisation budget of 60 s per new input makes the slower
// targets look stalled).

func checkIntakeResult(t *testing.T, sp *ServiceProvider, req *AuthnRequest, gotSP *ServiceProvider, err error) {
	t.Helper()
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		return
	}
	if gotSP != sp || req.Issuer != sp.EntityID || !validID(req.ID) {
		t.Fatalf("accepted request violates invariants: %+v", req)
	}
	if d := req.IssueInstant.Sub(testNow); d > DefaultMaxClockSkew || d < -DefaultMaxClockSkew {
		t.Fatalf("accepted stale request %v", req.IssueInstant)
	}
	if sp.RequireSignedRequests && !req.Signed {
		t.Fatal("unsigned request accepted for an SP requiring signatures")
	}
}

func FuzzParseRedirectRequest(f *testing.F) {
	spPair := loadPair(f, "sp")
	plain := docBytes(f, buildRequestElement(reqOpts{acs: awsACS}))
	f.Add(redirectQuery(f, plain, "", nil, ""))
	f.Add(redirectQuery(f, plain, "relay", &spPair, AlgRSASHA256))
	f.Add(redirectQuery(f, plain, "relay", &spPair, AlgRSASHA1))
	f.Add(redirectQuery(f, []byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`), "", nil, ""))
	f.Add("SAMLRequest=&SAMLRequest=&SigAlg=&Signature=")
	f.Add("SAMLRequest=%zz")
	f.Add("")
	sp := awsSP(f)
	strict := awsSP(f)
	strict.RequireSignedRequests = true
	f.Fuzz(func(t *testing.T, q string) {
		for _, s := range []*ServiceProvider{sp, strict} {
			req, got, err := testIntake(t, s).ParseRedirectRequest(q)
			checkIntakeResult(t, s, req, got, err)
		}
	})
}

func FuzzParsePostRequest(f *testing.F) {
	spPair := loadPair(f, "sp")
	f.Add(docBytes(f, buildRequestElement(reqOpts{})))
	f.Add(docBytes(f, signXML(f, buildRequestElement(reqOpts{acsIndex: "1"}), spPair)))
	for _, x := range xswVariantsF(f, docBytes(f, signXML(f, buildRequestElement(reqOpts{}), spPair))) {
		f.Add(x)
	}
	f.Add([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:x="urn:oasis:names:tc:SAML:2.0:protocol"><x:Issuer>urn:amazon:webservices</x:Issuer></samlp:AuthnRequest>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://evil/"><r/>`))
	sp := awsSP(f)
	strict := awsSP(f)
	strict.RequireSignedRequests = true
	f.Fuzz(func(t *testing.T, x []byte) {
		form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(x)}}
		for _, s := range []*ServiceProvider{sp, strict} {
			req, got, err := testIntake(t, s).ParsePostRequest(form)
			checkIntakeResult(t, s, req, got, err)
		}
	})
}

// xswVariantsF adapts xswVariants (which takes *testing.T) for seeding.
func xswVariantsF(f *testing.F, signed []byte) [][]byte {
	var out [][]byte
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(signed); err != nil {
		f.Fatal(err)
	}
	r := doc.Root()
	clone := r.Copy()
	clone.RemoveChild(childElements(clone, NSDSig, "Signature")[0])
	clone.CreateAttr("AssertionConsumerServiceURL", "https://evil.example/acs")
	ext := etree.NewElement("samlp:Extensions")
	ext.AddChild(r.Copy())
	clone.InsertChildAt(1, ext)
	out = append(out, docBytes(f, clone))
	return append(out, signed)
}

func FuzzParseLogoutRequest(f *testing.F) {
	spPair := loadPair(f, "sp")
	lr := docBytes(f, buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL}))
	f.Add(lr, false)
	f.Add(lr, true)
	f.Add(docBytes(f, signXML(f, buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL}), spPair)), false)
	f.Add([]byte(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`), true)
	sp := awsSP(f)
	f.Fuzz(func(t *testing.T, x []byte, redirect bool) {
		in := testIntake(t, sp)
		var r *LogoutRequest
		var err error
		if redirect {
			r, _, err = in.ParseRedirectLogoutRequest(redirectQuery(t, x, "", nil, ""))
		} else {
			r, _, err = in.ParsePostLogoutRequest(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(x)}})
		}
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if r.NameID == "" && r.Issuer == "" || !validID(r.ID) || r.IssueInstant.Sub(testNow) > DefaultMaxClockSkew {
			t.Fatalf("accepted logout request violates invariants: %+v", r)
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	c := loadPair(f, "sp").cert
	f.Add(pemCert(c))
	f.Add([]byte(base64.StdEncoding.EncodeToString(c.Raw)))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----"))
	f.Add([]byte("\xef\xbb\xbfMIIB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cert, err := ParseCertificate(data)
		if err == nil && cert == nil {
			t.Fatal("nil certificate without error")
		}
	})
}

func FuzzParseSPMetadata(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "aws-sp-metadata.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(strings.Replace(string(data), "https://signin.aws.amazon.com/saml", "javascript:alert(1)", 1)))
	f.Add([]byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntityDescriptor entityID="x"/></EntitiesDescriptor>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseSPMetadata(data, false)
		if err != nil {
			return
		}
		if m.EntityID == "" || len(m.AssertionConsumerServices) == 0 {
			t.Fatalf("accepted metadata without entity ID or ACS: %+v", m)
		}
		for _, e := range m.AssertionConsumerServices {
			if !strings.HasPrefix(e.Location, "https://") || ValidateACSURL(e.Location, false) != nil {
				t.Fatalf("unsafe ACS accepted: %q", e.Location)
			}
		}
		sp := m.ServiceProvider()
		if err := sp.Validate(); err != nil && !strings.Contains(err.Error(), "certificate") && !strings.Contains(err.Error(), "repeated") {
			t.Fatalf("derived SP invalid: %v", err)
		}
	})
}

func FuzzValidateACSURL(f *testing.F) {
	for _, s := range []string{awsACS, "javascript:alert(1)", "https://a@b/", "http://localhost/x", "https://x/#y", "HTTPS://X/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateACSURL(s, false) == nil {
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(s, " \t\r\n#\\") {
				t.Fatalf("unsafe URL accepted: %q", s)
			}
		}
	})
}

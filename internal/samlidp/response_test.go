package samlidp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/internal/keys"
)

func pemCert(c *x509.Certificate) []byte { return keys.EncodeCertificatePEM(c) }

func parseOut(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	root, err := parseStrict(b, strictOptions{maxBytes: 1 << 20})
	if err != nil {
		t.Fatalf("our own output fails strict parsing: %v", err)
	}
	return root
}

func one(t *testing.T, el *etree.Element, ns, local string) *etree.Element {
	t.Helper()
	cs := childElements(el, ns, local)
	if len(cs) != 1 {
		t.Fatalf("%s has %d %s children, want 1", el.Tag, len(cs), local)
	}
	return cs[0]
}

func TestBuildResponseShape(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	sp.ResponseSigned = true
	in := awsInput(sp)
	in.InResponseTo = "_req0123456789"
	in.SessionNotOnOrAfter = testNow.Add(12 * time.Hour)
	out, err := idp.BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("missing XML declaration: %.60s", out)
	}
	if strings.Contains(string(out), "<!--") || strings.Contains(string(out), "<!DOCTYPE") {
		t.Fatal("output has a comment or DTD")
	}
	r := parseOut(t, out)
	if r.Tag != "Response" || r.NamespaceURI() != NSProtocol {
		t.Fatalf("root %s", r.Tag)
	}
	checks := map[string]string{
		"Destination":  awsACS,
		"InResponseTo": "_req0123456789",
		"IssueInstant": "2026-11-27T05:00:00.000Z",
		"Version":      "2.0",
	}
	for k, v := range checks {
		if got := r.SelectAttrValue(k, ""); got != v {
			t.Errorf("Response/@%s = %q, want %q", k, got, v)
		}
	}
	if id := r.SelectAttrValue("ID", ""); !validID(id) || len(id) != 34 {
		t.Errorf("Response ID %q", id)
	}
	kids := r.ChildElements()
	if len(kids) != 4 || kids[0].Tag != "Issuer" || kids[1].Tag != "Signature" || kids[2].Tag != "Status" || kids[3].Tag != "Assertion" {
		t.Fatalf("Response children out of schema order: %v", tags(kids))
	}
	iss := kids[0]
	if iss.Text() != testIdPEntityID || iss.SelectAttrValue("Format", "") != NameIDFormatEntity {
		t.Errorf("Issuer %q %q", iss.Text(), iss.SelectAttrValue("Format", ""))
	}
	code := one(t, one(t, r, NSProtocol, "Status"), NSProtocol, "StatusCode")
	if code.SelectAttrValue("Value", "") != StatusSuccess {
		t.Error("status not Success")
	}
	a := kids[3]
	ak := a.ChildElements()
	if len(ak) != 6 || ak[0].Tag != "Issuer" || ak[1].Tag != "Signature" || ak[2].Tag != "Subject" || ak[3].Tag != "Conditions" || ak[4].Tag != "AuthnStatement" || ak[5].Tag != "AttributeStatement" {
		t.Fatalf("Assertion children out of schema order: %v", tags(ak))
	}
	if a.SelectAttrValue("ID", "") == r.SelectAttrValue("ID", "") {
		t.Error("assertion and response share an ID")
	}
	subj := ak[2]
	nid := one(t, subj, NSAssertion, "NameID")
	if nid.Text() != "jdoe@example.com" || nid.SelectAttrValue("Format", "") != NameIDFormatUnspecified {
		t.Errorf("NameID %q", nid.Text())
	}
	sc := one(t, subj, NSAssertion, "SubjectConfirmation")
	if sc.SelectAttrValue("Method", "") != ConfirmationMethodBearer {
		t.Error("not bearer")
	}
	scd := one(t, sc, NSAssertion, "SubjectConfirmationData")
	for k, v := range map[string]string{"Recipient": awsACS, "NotOnOrAfter": "2026-11-27T05:05:00.000Z", "InResponseTo": "_req0123456789"} {
		if got := scd.SelectAttrValue(k, ""); got != v {
			t.Errorf("SubjectConfirmationData/@%s = %q, want %q", k, got, v)
		}
	}
	cond := ak[3]
	if cond.SelectAttrValue("NotBefore", "") != "2026-11-27T04:55:00.000Z" || cond.SelectAttrValue("NotOnOrAfter", "") != "2026-11-27T05:05:00.000Z" {
		t.Errorf("Conditions %v", cond.Attr)
	}
	if aud := one(t, one(t, cond, NSAssertion, "AudienceRestriction"), NSAssertion, "Audience"); aud.Text() != awsEntityID {
		t.Errorf("Audience %q", aud.Text())
	}
	as := ak[4]
	for k, v := range map[string]string{"AuthnInstant": "2026-11-27T04:59:00.000Z", "SessionIndex": "sess-1", "SessionNotOnOrAfter": "2026-11-27T17:00:00.000Z"} {
		if got := as.SelectAttrValue(k, ""); got != v {
			t.Errorf("AuthnStatement/@%s = %q, want %q", k, got, v)
		}
	}
	if ref := one(t, one(t, as, NSAssertion, "AuthnContext"), NSAssertion, "AuthnContextClassRef"); ref.Text() != AuthnContextPasswordProtectedTransport {
		t.Errorf("class ref %q", ref.Text())
	}
	attrs := childElements(ak[5], NSAssertion, "Attribute")
	if len(attrs) != 3 || attrs[0].SelectAttrValue("NameFormat", "") != AttrNameFormatURI || attrs[1].SelectAttrValue("NameFormat", "") != AttrNameFormatBasic {
		t.Fatalf("attributes %v", attrs)
	}
	v := one(t, attrs[0], NSAssertion, "AttributeValue")
	if v.Text() != roleValue || v.SelectAttrValue("xsi:type", "") != "xs:string" {
		t.Errorf("AttributeValue %q %v", v.Text(), v.Attr)
	}
	// Signature algorithms: exclusive C14N, rsa-sha256, sha256, enveloped.
	for _, sig := range []*etree.Element{kids[1], ak[1]} {
		s := sig.FindElement("./SignedInfo")
		if s.FindElement("./CanonicalizationMethod").SelectAttrValue("Algorithm", "") != AlgExcC14N ||
			s.FindElement("./SignatureMethod").SelectAttrValue("Algorithm", "") != AlgRSASHA256 ||
			s.FindElement("./Reference/DigestMethod").SelectAttrValue("Algorithm", "") != AlgDigestSHA256 {
			t.Errorf("signature algorithms wrong in %s", sig.Parent().Tag)
		}
		ts := s.FindElements("./Reference/Transforms/Transform")
		if len(ts) != 2 || ts[0].SelectAttrValue("Algorithm", "") != AlgEnveloped || ts[1].SelectAttrValue("Algorithm", "") != AlgExcC14N {
			t.Errorf("transforms wrong in %s", sig.Parent().Tag)
		}
		if s.FindElement("./Reference").SelectAttrValue("URI", "") != "#"+sig.Parent().SelectAttrValue("ID", "") {
			t.Errorf("reference does not cover %s", sig.Parent().Tag)
		}
	}
	// IDs are fresh per response.
	out2, _ := idp.BuildResponse(in)
	if parseOut(t, out2).SelectAttrValue("ID", "") == r.SelectAttrValue("ID", "") {
		t.Fatal("two responses share an ID")
	}
}

func tags(els []*etree.Element) []string {
	var s []string
	for _, e := range els {
		s = append(s, e.Tag)
	}
	return s
}

func TestRecipientDestinationOverridesAndLifetime(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	sp.Recipient = "https://signin.aws.amazon.com/static/saml"
	sp.AssertionLifetime = time.Hour
	out, err := idp.BuildResponse(awsInput(sp))
	if err != nil {
		t.Fatal(err)
	}
	r := parseOut(t, out)
	if r.SelectAttrValue("Destination", "") != awsACS {
		t.Error("Destination should stay the ACS")
	}
	scd := r.FindElement(".//SubjectConfirmationData")
	if scd.SelectAttrValue("Recipient", "") != sp.Recipient || scd.SelectAttrValue("NotOnOrAfter", "") != "2026-11-27T06:00:00.000Z" {
		t.Errorf("SubjectConfirmationData %v", scd.Attr)
	}
	if nb := r.FindElement(".//Conditions").SelectAttrValue("NotBefore", ""); nb != "2026-11-27T04:55:00.000Z" {
		t.Errorf("NotBefore %s", nb)
	}
	// A requested (non-default) ACS ignores the overrides.
	in := awsInput(sp)
	in.ACSURL = awsRegionalACS
	out, err = idp.BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	r = parseOut(t, out)
	if r.SelectAttrValue("Destination", "") != awsRegionalACS || r.FindElement(".//SubjectConfirmationData").SelectAttrValue("Recipient", "") != awsRegionalACS {
		t.Error("regional ACS not used for Destination/Recipient")
	}
}

// TestUserValuesAreEscaped feeds markup, entities, CR/LF/TAB and a comment
// look-alike through NameID and attributes, and checks an independent SP
// reads back exactly the same strings with the signature intact.
func TestUserValuesAreEscaped(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	sp.ResponseSigned = true
	in := awsInput(sp)
	nasty := []string{`a<b>&c;"d'e`, "x]]>y", "line1\r\nline2\ttab", "user@corp.com<!---->.evil.com", "&lt;already-escaped&gt;"}
	in.NameID = nasty[3]
	in.Attributes = append(in.Attributes, Attribute{Name: `weird"name<&>`, Values: nasty})
	out, err := idp.BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "<!---->") || strings.Contains(string(out), "<b>") {
		t.Fatal("user markup reached the XML unescaped")
	}
	p := loadPair(t, "idp")
	consumer := &saml2.SAMLServiceProvider{
		IdentityProviderIssuer: testIdPEntityID, AssertionConsumerServiceURL: awsACS, AudienceURI: awsEntityID,
		IDPCertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{p.cert}},
		Clock:               dsig.NewFakeClockAt(testNow),
		SPKeyStore:          dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{p.cert.Raw}, PrivateKey: p.key}),
	}
	info, err := consumer.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(out))
	if err != nil {
		t.Fatalf("signature broke on escaped values: %v", err)
	}
	if info.NameID != nasty[3] {
		t.Errorf("NameID read back as %q", info.NameID)
	}
	got := info.Values.GetAll(`weird"name<&>`)
	if len(got) != len(nasty) {
		t.Fatalf("values %q", got)
	}
	for i := range nasty {
		want := strings.ReplaceAll(nasty[i], "\r\n", "\n") // XML end-of-line handling
		want = strings.ReplaceAll(want, "\r", "\n")
		if got[i] != nasty[i] && got[i] != want {
			t.Errorf("value %d read back as %q, want %q", i, got[i], nasty[i])
		}
	}
}

func TestBuildResponseRefusals(t *testing.T) {
	idp := newTestIdP(t, nil)
	cases := map[string]func(in *ResponseInput){
		"nothing signed":        func(in *ResponseInput) { in.SP.AssertionSigned = false },
		"unregistered ACS":      func(in *ResponseInput) { in.ACSURL = "https://evil.example/saml" },
		"javascript ACS":        func(in *ResponseInput) { in.SP.ACSURL = "javascript:alert(1)"; in.ACSURL = "javascript:alert(1)" },
		"http ACS":              func(in *ResponseInput) { in.SP.ACSURL = "http://signin.aws.amazon.com/saml" },
		"empty NameID":          func(in *ResponseInput) { in.NameID = "" },
		"control char NameID":   func(in *ResponseInput) { in.NameID = "a\x00b" },
		"invalid UTF-8 value":   func(in *ResponseInput) { in.Attributes[0].Values = []string{"\xff"} },
		"sha1 without legacy":   func(in *ResponseInput) { in.SP.SignatureAlgorithm = RSASHA1 },
		"RSA_15 without legacy": func(in *ResponseInput) { encryptWith(AES256GCM)(in.SP); in.SP.Encryption.KeyTransport = RSA15 },
		"digest mismatch":       func(in *ResponseInput) { in.SP.DigestAlgorithm = DigestSHA1 },
		"lifetime too long":     func(in *ResponseInput) { in.SP.AssertionLifetime = 48 * time.Hour },
		"no audience":           func(in *ResponseInput) { in.SP.EntityID = "" },
		"encryption no cert":    func(in *ResponseInput) { in.SP.Encryption.Enabled = true },
		"nil SP":                func(in *ResponseInput) { in.SP = nil },
	}
	spKeyPairForEncryption = loadPair(t, "sp")
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			in := awsInput(awsSP(t))
			mutate(&in)
			if out, err := idp.BuildResponse(in); err == nil {
				t.Fatalf("built a response: %.200s", out)
			}
		})
	}
}

func TestLegacySHA1WhenAllowed(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	sp.AllowLegacy, sp.SignatureAlgorithm, sp.DigestAlgorithm = true, RSASHA1, DigestSHA1
	out, err := idp.BuildResponse(awsInput(sp))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), AlgRSASHA1) {
		t.Fatal("legacy SP did not get rsa-sha1")
	}
}

func TestBuildErrorResponse(t *testing.T) {
	idp := newTestIdP(t, detRand(2))
	sp := awsSP(t)
	out, err := idp.BuildErrorResponse(ErrorResponseInput{SP: sp, InResponseTo: "_req1", Status: StatusRequester, SubStatus: StatusNoPassive, Message: "no session"})
	if err != nil {
		t.Fatal(err)
	}
	r := parseOut(t, out)
	if len(childElements(r, NSAssertion, "Assertion")) != 0 {
		t.Fatal("error response carries an assertion")
	}
	code := r.FindElement("./Status/StatusCode")
	if code.SelectAttrValue("Value", "") != StatusRequester || code.FindElement("./StatusCode").SelectAttrValue("Value", "") != StatusNoPassive {
		t.Fatal("status codes wrong")
	}
	if _, err := verifyPostSignature(r, []*x509.Certificate{loadPair(t, "idp").cert}, false, testNow); err != nil {
		t.Fatalf("error response signature: %v", err)
	}
	goldenCompare(t, "error-response.xml", out)
	for _, bad := range []ErrorResponseInput{
		{SP: sp, Status: StatusSuccess},
		{SP: sp, ACSURL: "https://evil.example/"},
		{SP: nil},
	} {
		if _, err := idp.BuildErrorResponse(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// TestGoldenResponses pins the exact bytes for a fixed key, clock and
// random source (go test -run TestGoldenResponses -update to refresh).
func TestGoldenResponses(t *testing.T) {
	for name, mutate := range map[string]func(in *ResponseInput){
		"response-assertion-signed.xml": func(in *ResponseInput) {},
		"response-both-signed-sp-initiated.xml": func(in *ResponseInput) {
			in.SP.ResponseSigned = true
			in.InResponseTo = "_req0123456789"
		},
	} {
		t.Run(name, func(t *testing.T) {
			idp := newTestIdP(t, detRand(1))
			in := awsInput(awsSP(t))
			mutate(&in)
			out, err := idp.BuildResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			goldenCompare(t, name, out)
		})
	}
}

// TestBuildResponseConcurrent shares one IdP between goroutines (run with
// -race): the signing contexts and key must be safe for concurrent use.
func TestBuildResponseConcurrent(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	sp.ResponseSigned = true
	errc := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for j := 0; j < 3 && err == nil; j++ {
				_, err = idp.BuildResponse(awsInput(sp))
			}
			errc <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

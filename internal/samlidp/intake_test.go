package samlidp

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

func TestParseRedirectRequestUnsignedAndSigned(t *testing.T) {
	sp := awsSP(t)
	in := testIntake(t, sp)
	spPair := loadPair(t, "sp")
	x := docBytes(t, buildRequestElement(reqOpts{acs: awsRegionalACS, extra: func(r *etree.Element) {
		r.CreateAttr("ForceAuthn", "true")
		rac := r.CreateElement("samlp:RequestedAuthnContext")
		rac.CreateAttr("Comparison", "minimum")
		rac.CreateElement("saml:AuthnContextClassRef").SetText(AuthnContextPasswordProtectedTransport)
	}}))

	req, gotSP, err := in.ParseRedirectRequest(redirectQuery(t, x, "https://eu-west-2.console.aws.amazon.com/connect/federate/abc", nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	if gotSP != sp || req.Signed || req.ID != "_req0123456789" || req.Issuer != awsEntityID || req.ACSURL != awsRegionalACS ||
		!req.ForceAuthn || req.IsPassive || req.Binding != BindingHTTPRedirect || req.Destination != testSSOURL ||
		req.RelayState != "https://eu-west-2.console.aws.amazon.com/connect/federate/abc" || req.ProtocolBinding != BindingHTTPPost {
		t.Fatalf("parsed %+v", req)
	}
	if req.NameIDPolicy == nil || req.NameIDPolicy.Format != NameIDFormatUnspecified || !req.NameIDPolicy.AllowCreate {
		t.Fatalf("NameIDPolicy %+v", req.NameIDPolicy)
	}
	if rac := req.RequestedAuthnContext; rac == nil || rac.Comparison != "minimum" || len(rac.ClassRefs) != 1 || rac.ClassRefs[0] != AuthnContextPasswordProtectedTransport {
		t.Fatalf("RequestedAuthnContext %+v", req.RequestedAuthnContext)
	}
	if !req.ReplayExpiresAt.Equal(req.IssueInstant.Add(DefaultMaxClockSkew)) || req.ReplayKey() != awsEntityID+"\x00_req0123456789" {
		t.Fatalf("replay data %v %q", req.ReplayExpiresAt, req.ReplayKey())
	}
	acs, err := sp.ResolveACS(req)
	if err != nil || acs != awsRegionalACS {
		t.Fatalf("ResolveACS = %q, %v", acs, err)
	}

	req, _, err = in.ParseRedirectRequest(redirectQuery(t, x, "rs", &spPair, AlgRSASHA256))
	if err != nil || !req.Signed {
		t.Fatalf("signed redirect: %v signed=%v", err, req != nil && req.Signed)
	}
	// The signature covers the bytes as received: an SP that percent-encodes
	// with lower-case hex is still verified.
	q := "SAMLRequest=" + lowerHex(url.QueryEscape(base64.StdEncoding.EncodeToString(deflate(t, x)))) + "&SigAlg=" + lowerHex(url.QueryEscape(AlgRSASHA256))
	req, _, err = in.ParseRedirectRequest(q + "&Signature=" + url.QueryEscape(signRaw(t, spPair, q)))
	if err != nil || !req.Signed {
		t.Fatalf("lower-case percent-encoding: %v", err)
	}
	// Parameter order in the URL does not matter; the signed string follows
	// Bindings §3.4.4.1.
	signed := redirectQuery(t, x, "rs", &spPair, AlgRSASHA256)
	parts := strings.Split(signed, "&")
	reordered := strings.Join([]string{parts[3], parts[2], parts[1], parts[0]}, "&")
	if req, _, err = in.ParseRedirectRequest(reordered); err != nil || !req.Signed {
		t.Fatalf("reordered parameters: %v", err)
	}
}

func lowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteString(strings.ToLower(s[i : i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func signRaw(t *testing.T, kp keyPair, q string) string {
	d := sha256.Sum256([]byte(q))
	sig, err := rsa.SignPKCS1v15(nil, kp.key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestParsePostRequestSigned(t *testing.T) {
	sp := awsSP(t)
	sp.RequireSignedRequests = true
	sp.SigningCertificates = append([]*x509.Certificate{loadPair(t, "idp-next").cert}, sp.SigningCertificates...) // rollover: second cert verifies
	in := testIntake(t, sp)
	el := signXML(t, buildRequestElement(reqOpts{acsIndex: "1", extra: func(r *etree.Element) { r.CreateAttr("IsPassive", "true") }}), loadPair(t, "sp"))
	req, _, err := in.ParsePostRequest(postForm(docBytes(t, el), "relay"))
	if err != nil {
		t.Fatal(err)
	}
	if !req.Signed || !req.IsPassive || req.ACSIndex == nil || *req.ACSIndex != 1 || req.RelayState != "relay" || req.Binding != BindingHTTPPost {
		t.Fatalf("parsed %+v", req)
	}
	if acs, err := sp.ResolveACS(req); err != nil || acs != awsRegionalACS {
		t.Fatalf("ResolveACS by index = %q, %v", acs, err)
	}
	// After the SP certificates expire, their signatures no longer count.
	later := time.Date(2028, 1, 2, 0, 0, 0, 0, time.UTC)
	expiredIn := testIntake(t, sp)
	expiredIn.Now = func() time.Time { return later }
	el = signXML(t, buildRequestElement(reqOpts{issueInstant: later}), loadPair(t, "sp"))
	if _, _, err := expiredIn.ParsePostRequest(postForm(docBytes(t, el), "")); err == nil {
		t.Fatal("signature by an expired SP certificate accepted")
	}
	// The same request unsigned is refused for this SP.
	unsigned := buildRequestElement(reqOpts{})
	if _, _, err := in.ParsePostRequest(postForm(docBytes(t, unsigned), "")); err == nil {
		t.Fatal("unsigned request accepted although signatures are required")
	} else {
		requireRequestError(t, err)
	}
}

// TestIntakeRejects is the negative corpus for AuthnRequest intake: each
// input must be refused with a non-respondable *RequestError.
func TestIntakeRejects(t *testing.T) {
	spPair := loadPair(t, "sp")
	attacker := loadPair(t, "attacker")
	signedPost := func(o reqOpts) []byte { return docBytes(t, signXML(t, buildRequestElement(o), spPair)) }
	good := signedPost(reqOpts{})

	post := map[string][]byte{
		"DOCTYPE with entity":    []byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]>` + string(docBytes(t, buildRequestElement(reqOpts{})))),
		"external entity":        []byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:AuthnRequest>`),
		"processing instruction": append([]byte(`<?xml version="1.0"?><?evil x?>`), docBytes(t, buildRequestElement(reqOpts{}))...),
		"comment in Issuer":      []byte(strings.Replace(string(docBytes(t, buildRequestElement(reqOpts{}))), awsEntityID, "urn:amazon:<!---->webservices", 1)),
		"two roots":              append(docBytes(t, buildRequestElement(reqOpts{})), docBytes(t, buildRequestElement(reqOpts{}))...),
		"non UTF-8 encoding":     []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + string(docBytes(t, buildRequestElement(reqOpts{})))),
		"unknown issuer":         docBytes(t, buildRequestElement(reqOpts{issuer: "https://evil.example/sp"})),
		"wrong root":             docBytes(t, buildRequestElement(reqOpts{root: "LogoutRequest"})),
		"wrong namespace":        []byte(strings.ReplaceAll(string(docBytes(t, buildRequestElement(reqOpts{}))), NSProtocol, "urn:evil")),
		"SAML 1.1 version":       []byte(strings.Replace(string(docBytes(t, buildRequestElement(reqOpts{}))), `Version="2.0"`, `Version="1.1"`, 1)),
		"no ID":                  []byte(strings.Replace(string(docBytes(t, buildRequestElement(reqOpts{}))), `ID="_req0123456789"`, ``, 1)),
		"ID starting with digit": docBytes(t, buildRequestElement(reqOpts{id: "1abc"})),
		"two Issuers": docBytes(t, buildRequestElement(reqOpts{extra: func(r *etree.Element) {
			r.CreateElement("saml:Issuer").SetText(awsEntityID)
		}})),
		"wrong destination":                       docBytes(t, buildRequestElement(reqOpts{destination: "https://other-idp.example/sso"})),
		"issued 4 min ago":                        docBytes(t, buildRequestElement(reqOpts{issueInstant: testNow.Add(-4 * time.Minute)})),
		"issued 4 min in future":                  docBytes(t, buildRequestElement(reqOpts{issueInstant: testNow.Add(4 * time.Minute)})),
		"signed without destination":              signedPost(reqOpts{destination: "-"}),
		"tampered after signing":                  []byte(strings.Replace(string(good), `Version="2.0"`, `Version="2.0" AssertionConsumerServiceURL="https://evil.example/acs"`, 1)),
		"tampered issuer text":                    []byte(strings.Replace(string(good), `AllowCreate="true"`, `AllowCreate="false"`, 1)),
		"signed by attacker with cert in KeyInfo": docBytes(t, signXML(t, buildRequestElement(reqOpts{acs: "https://evil.example/acs"}), attacker)),
		"deep nesting": []byte(strings.Replace(string(docBytes(t, buildRequestElement(reqOpts{}))), "</samlp:AuthnRequest>",
			strings.Repeat("<a>", 1000)+strings.Repeat("</a>", 1000)+"</samlp:AuthnRequest>", 1)),
	}
	// XML signature wrapping variants built from the genuinely signed request.
	for name, build := range xswVariants(t, good) {
		post["XSW "+name] = build
	}
	sp := awsSP(t)
	sp.RequireSignedRequests = false
	for name, x := range post {
		t.Run("POST "+name, func(t *testing.T) {
			req, _, err := testIntake(t, sp).ParsePostRequest(postForm(x, ""))
			if err == nil {
				t.Fatalf("accepted: %+v", req)
			}
			t.Log(err)
			requireRequestError(t, err)
		})
	}

	plain := docBytes(t, buildRequestElement(reqOpts{}))
	signedQ := redirectQuery(t, plain, "relay", &spPair, AlgRSASHA256)
	bomb := base64.StdEncoding.EncodeToString(deflate(t, bytes.Repeat([]byte("a"), 32<<20)))
	redirect := map[string]string{
		"no SAMLRequest":           "RelayState=x",
		"duplicate SAMLRequest":    redirectQuery(t, plain, "", nil, "") + "&" + redirectQuery(t, plain, "", nil, ""),
		"not base64":               "SAMLRequest=%%%",
		"not deflate":              "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(plain)),
		"huge base64":              "SAMLRequest=" + strings.Repeat("A", MaxEncodedSize+4),
		"deflate bomb":             "SAMLRequest=" + url.QueryEscape(bomb),
		"DTD":                      redirectQuery(t, post["DOCTYPE with entity"], "", nil, ""),
		"tampered RelayState":      strings.Replace(signedQ, "RelayState=relay", "RelayState=https%3A%2F%2Fevil.example", 1),
		"signed with attacker key": redirectQuery(t, plain, "relay", &attacker, AlgRSASHA256),
		"rsa-sha1 downgrade":       redirectQuery(t, plain, "relay", &spPair, AlgRSASHA1),
		"unknown SigAlg":           redirectQuery(t, plain, "relay", &spPair, "http://www.w3.org/2000/09/xmldsig#dsa-sha1"),
		"SigAlg without Signature": redirectQuery(t, plain, "", nil, "") + "&SigAlg=" + url.QueryEscape(AlgRSASHA256),
		"signature not base64":     redirectQuery(t, plain, "", nil, "") + "&SigAlg=" + url.QueryEscape(AlgRSASHA256) + "&Signature=%21%21",
		"unknown issuer":           redirectQuery(t, docBytes(t, buildRequestElement(reqOpts{issuer: "https://evil.example"})), "", nil, ""),
		"RelayState too long":      redirectQuery(t, plain, strings.Repeat("r", MaxRelayStateLength+1), nil, ""),
		"signed with expired cert": "EXPIRED",
		"stale":                    redirectQuery(t, docBytes(t, buildRequestElement(reqOpts{issueInstant: testNow.Add(-time.Hour)})), "", nil, ""),
	}
	for name, q := range redirect {
		t.Run("Redirect "+name, func(t *testing.T) {
			in := testIntake(t, sp)
			if q == "EXPIRED" { // the SP certificate (valid 2026-01-01..2027-12-31) has expired
				q = signedQ
				in.Now = func() time.Time { return time.Date(2028, 1, 2, 0, 0, 0, 0, time.UTC) }
				el := buildRequestElement(reqOpts{issueInstant: in.Now()})
				q = redirectQuery(t, docBytes(t, el), "relay", &spPair, AlgRSASHA256)
			}
			req, _, err := in.ParseRedirectRequest(q)
			if err == nil {
				t.Fatalf("accepted: %+v", req)
			}
			t.Log(err)
			requireRequestError(t, err)
		})
	}
	t.Run("Redirect unsigned when signatures required", func(t *testing.T) {
		s := awsSP(t)
		s.RequireSignedRequests = true
		if _, _, err := testIntake(t, s).ParseRedirectRequest(redirectQuery(t, plain, "", nil, "")); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("rsa-sha1 accepted only for legacy SP", func(t *testing.T) {
		s := awsSP(t)
		s.AllowLegacy = true
		if req, _, err := testIntake(t, s).ParseRedirectRequest(redirect["rsa-sha1 downgrade"]); err != nil || !req.Signed {
			t.Fatalf("legacy SP: %v", err)
		}
	})
}

// xswVariants derives signature-wrapping attacks from a signed request:
// in each the attacker wants the IdP to honour an ACS of their choosing
// while keeping the genuine signature somewhere in the document.
func xswVariants(t *testing.T, signed []byte) map[string][]byte {
	t.Helper()
	parse := func() *etree.Element {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(signed); err != nil {
			t.Fatal(err)
		}
		return doc.Root()
	}
	evil := func(r *etree.Element) { r.CreateAttr("AssertionConsumerServiceURL", "https://evil.example/acs") }
	out := map[string][]byte{}

	// Wrapped copy: evil unsigned request carrying the signed original in
	// Extensions.
	{
		orig := parse()
		outer := orig.Copy()
		outer.RemoveChild(childElements(outer, NSDSig, "Signature")[0])
		evil(outer)
		outer.CreateAttr("ID", "_evil")
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(orig)
		outer.InsertChildAt(1, ext)
		out["wrapped copy in Extensions"] = docBytes(t, outer)
	}
	// Same, keeping the original ID on the outer element (duplicate IDs).
	{
		orig := parse()
		outer := orig.Copy()
		outer.RemoveChild(childElements(outer, NSDSig, "Signature")[0])
		evil(outer)
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(orig)
		outer.InsertChildAt(1, ext)
		out["duplicate IDs"] = docBytes(t, outer)
	}
	// Signature moved to the end of the root (still enveloped, out of
	// schema order) while evil content is added.
	{
		r := parse()
		sig := childElements(r, NSDSig, "Signature")[0]
		r.RemoveChild(sig)
		r.AddChild(sig)
		out["signature moved"] = docBytes(t, r)
	}
	// XSW1-style: unsigned clone of the original placed in a ds:Object of the
	// signature, outer request modified and renamed.
	{
		r := parse()
		clone := r.Copy()
		clone.RemoveChild(childElements(clone, NSDSig, "Signature")[0])
		sig := childElements(r, NSDSig, "Signature")[0]
		obj := sig.CreateElement("ds:Object")
		obj.AddChild(clone)
		r.CreateAttr("ID", "_evil")
		evil(r)
		out["clone inside Signature/Object"] = docBytes(t, r)
	}
	// A second request element as a child of the signed one.
	{
		r := parse()
		second := r.Copy()
		second.RemoveChild(childElements(second, NSDSig, "Signature")[0])
		second.CreateAttr("ID", "_second")
		evil(second)
		r.AddChild(second)
		out["second request element"] = docBytes(t, r)
	}
	// Two signatures.
	{
		r := parse()
		sig := childElements(r, NSDSig, "Signature")[0]
		r.InsertChildAt(sig.Index()+1, sig.Copy())
		out["two signatures"] = docBytes(t, r)
	}
	// Reference to another element than the root.
	{
		r := parse()
		ref := r.FindElement(".//Reference")
		ref.CreateAttr("URI", "#_other")
		out["reference to another element"] = docBytes(t, r)
	}
	return out
}

func TestDeflateBombMemoryBounded(t *testing.T) {
	bomb := deflate(t, bytes.Repeat([]byte{0}, 64<<20)) // ~1030:1
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(bomb))
	in := testIntake(t, awsSP(t))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := in.ParseRedirectRequest(q)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("bomb accepted")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("inflating a 64 MiB bomb allocated %d bytes", alloc)
	}
}

func TestResolveACS(t *testing.T) {
	sp := awsSP(t)
	idx := func(i int) *int { return &i }
	ok := []struct {
		name string
		req  *AuthnRequest
		want string
	}{
		{"IdP-initiated", nil, awsACS},
		{"no ACS in request", &AuthnRequest{}, awsACS},
		{"default by URL", &AuthnRequest{ACSURL: awsACS}, awsACS},
		{"regional by URL", &AuthnRequest{ACSURL: awsRegionalACS}, awsRegionalACS},
		{"by index", &AuthnRequest{ACSIndex: idx(1)}, awsRegionalACS},
	}
	for _, c := range ok {
		if got, err := sp.ResolveACS(c.req); err != nil || got != c.want {
			t.Errorf("%s: %q, %v", c.name, got, err)
		}
	}
	bad := []string{
		"https://signin.aws.amazon.com.evil.example/saml", // host suffix
		"https://aws@evil.example/saml",                   // userinfo
		"https://signin.aws.amazon.com:8443/saml",         // port
		"https://signin.aws.amazon.com:443/saml",          // explicit default port
		"https://signin.aws.amazon.com/saml/../evil",      // traversal
		"https://SIGNIN.aws.amazon.com/saml",              // case
		"https://signin.aws.amazon.com/%73aml",            // percent-encoding
		"https://signin.aws.amazon.com/saml?",             // trailing ?
		"https://signin.aws.amazon.com/saml#",             // trailing #
		"https://signin.aws.amazon.com/saml/",             // trailing slash
		"https://signin.аws.amazon.com/saml",              // IDN homograph
		"javascript:alert(document.domain)",
		"data:text/html,<script>alert(1)</script>",
		"http://signin.aws.amazon.com/saml",
		"//signin.aws.amazon.com/saml",
		"/saml",
	}
	for _, u := range bad {
		if got, err := sp.ResolveACS(&AuthnRequest{ACSURL: u}); err == nil {
			t.Errorf("ACS %q accepted as %q", u, got)
		} else {
			requireRequestError(t, err)
		}
	}
	for name, r := range map[string]*AuthnRequest{
		"unknown index": {ACSIndex: idx(7)},
		"URL and index": {ACSURL: awsACS, ACSIndex: idx(1)},
	} {
		if _, err := sp.ResolveACS(r); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	// A registered but unsafe ACS is refused at send time too.
	js := &ServiceProvider{EntityID: "x", ACSURL: "javascript:alert(1)", AssertionSigned: true}
	if _, err := js.ResolveACS(nil); err == nil {
		t.Error("javascript: default ACS accepted")
	}
	// Unsupported binding: respondable at the resolved ACS.
	acs, err := sp.ResolveACS(&AuthnRequest{ProtocolBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"})
	var re *RequestError
	if err == nil || !errors.As(err, &re) || !re.Respondable || re.SubStatus != StatusUnsupportedBinding || acs != awsACS {
		t.Errorf("artifact binding: %q %v", acs, err)
	}
}

func TestValidateACSURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://signin.aws.amazon.com/saml":         true,
		"https://example.com:8443/acs?x=1":           true,
		"http://localhost:8080/acs":                  false,
		"https://exa mple.com/":                      false,
		"https://example.com/\x00":                   false,
		"vbscript:msgbox(1)":                         false,
		"JAVASCRIPT:alert(1)":                        false,
		"https:/example.com/acs":                     false,
		"https://example.com\\@evil.example/":        false,
		"https://" + strings.Repeat("a", 3000) + "/": false,
	} {
		if got := ValidateACSURL(u, false) == nil; got != want {
			t.Errorf("ValidateACSURL(%q) ok=%v, want %v", u, got, want)
		}
	}
	for u, want := range map[string]bool{
		"http://localhost:8080/acs": true, "http://127.0.0.1/acs": true, "http://[::1]:9/acs": true, "http://example.com/acs": false,
	} {
		if got := ValidateACSURL(u, true) == nil; got != want {
			t.Errorf("loopback ValidateACSURL(%q) ok=%v, want %v", u, got, want)
		}
	}
}

func TestCheckNameIDPolicy(t *testing.T) {
	sp := awsSP(t)
	sp.NameIDFormat = NameIDFormatEmailAddress
	if f, err := sp.CheckNameIDPolicy(&AuthnRequest{NameIDPolicy: &NameIDPolicy{Format: NameIDFormatEmailAddress}}); err != nil || f != NameIDFormatEmailAddress {
		t.Fatal(f, err)
	}
	_, err := sp.CheckNameIDPolicy(&AuthnRequest{NameIDPolicy: &NameIDPolicy{Format: NameIDFormatPersistent}})
	var re *RequestError
	if !errors.As(err, &re) || re.SubStatus != StatusInvalidNameIDPolicy || !re.Respondable {
		t.Fatalf("persistent request: %v", err)
	}
}

func TestCheckIssueInstant(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, 3 * time.Minute: true, -3 * time.Minute: true, 3*time.Minute + time.Millisecond: false, -3*time.Minute - time.Millisecond: false} {
		if got := CheckIssueInstant(testNow.Add(d), testNow, 3*time.Minute) == nil; got != ok {
			t.Errorf("skew %s ok=%v", d, got)
		}
	}
}

// TestChooseAuthnContext: each comparison of saml-core §3.3.2.2.1
// against Gatehouse's order unspecified < Password <
// PasswordProtectedTransport < REFEDS MFA, for a password session and a
// multi-factor one; unranked classes answer only as the configured class.
func TestChooseAuthnContext(t *testing.T) {
	const (
		ppt  = AuthnContextPasswordProtectedTransport
		pw   = AuthnContextPassword
		mfa  = AuthnContextREFEDSMFA
		uns  = AuthnContextUnspecified
		x509 = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
		smc  = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"
	)
	sp := awsSP(t)
	if ref, err := sp.ChooseAuthnContext(nil, StrengthProtectedPassword); err != nil || ref != ppt {
		t.Fatal(ref, err)
	}
	none := "NoAuthnContext"
	for _, c := range []struct {
		cmp        string
		refs       []string
		have       Strength
		configured string
		want       string
	}{
		{"exact", []string{ppt}, StrengthProtectedPassword, "", ppt},
		{"exact", []string{mfa}, StrengthProtectedPassword, "", none},
		{"exact", []string{mfa}, StrengthMultiFactor, "", mfa},
		{"exact", []string{mfa, ppt}, StrengthProtectedPassword, "", ppt},
		{"exact", []string{mfa, ppt}, StrengthMultiFactor, "", mfa},
		{"exact", []string{ppt, mfa}, StrengthMultiFactor, "", ppt},
		{"exact", []string{pw}, StrengthProtectedPassword, "", pw},
		{"exact", []string{uns}, StrengthProtectedPassword, "", uns},
		{"exact", []string{smc}, StrengthMultiFactor, "", none},
		{"exact", []string{smc, ppt}, StrengthProtectedPassword, "", ppt},
		{"exact", []string{x509}, StrengthProtectedPassword, x509, x509},
		{"exact", []string{x509}, StrengthProtectedPassword, "", none},
		{"exact", nil, StrengthMultiFactor, "", none},
		{"minimum", []string{pw}, StrengthProtectedPassword, "", ppt},
		{"minimum", []string{ppt}, StrengthProtectedPassword, "", ppt},
		{"minimum", []string{ppt}, StrengthMultiFactor, "", mfa},
		{"minimum", []string{mfa}, StrengthProtectedPassword, "", none},
		{"minimum", []string{mfa, pw}, StrengthProtectedPassword, "", ppt},
		{"minimum", []string{smc}, StrengthMultiFactor, "", none},
		{"minimum", []string{x509}, StrengthProtectedPassword, x509, x509},
		{"better", []string{ppt}, StrengthProtectedPassword, "", none},
		{"better", []string{ppt}, StrengthMultiFactor, "", mfa},
		{"better", []string{pw}, StrengthProtectedPassword, "", ppt},
		{"better", []string{mfa}, StrengthMultiFactor, "", none},
		{"better", []string{x509}, StrengthMultiFactor, x509, none},
		{"maximum", []string{ppt}, StrengthMultiFactor, "", ppt},
		{"maximum", []string{mfa}, StrengthProtectedPassword, "", ppt},
		{"maximum", []string{mfa}, StrengthMultiFactor, "", mfa},
		{"maximum", []string{pw}, StrengthMultiFactor, "", pw},
		{"maximum", []string{smc, uns}, StrengthMultiFactor, "", uns},
		{"maximum", []string{smc}, StrengthMultiFactor, "", none},
		// As strong as possible without exceeding at least one listed
		// class: the stronger listed class, wherever it is in the list.
		{"maximum", []string{pw, mfa}, StrengthMultiFactor, "", mfa},
		{"maximum", []string{pw, mfa}, StrengthProtectedPassword, "", ppt},
		{"maximum", []string{uns, ppt, pw}, StrengthMultiFactor, "", ppt},
		{"maximum", []string{pw, x509}, StrengthMultiFactor, x509, pw},
		{"maximum", []string{x509, pw}, StrengthMultiFactor, x509, x509},
	} {
		sp.AuthnContextClassRef = c.configured
		got, err := sp.ChooseAuthnContext(&RequestedAuthnContext{Comparison: c.cmp, ClassRefs: c.refs}, c.have)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Status != StatusRequester || re.SubStatus != StatusNoAuthnContext || !re.Respondable {
				t.Fatalf("%s %v: error %v", c.cmp, c.refs, err)
			}
			got = none
		}
		if got != c.want {
			t.Errorf("%s %v at strength %d (configured %q): %s, want %s", c.cmp, c.refs, c.have, c.configured, got, c.want)
		}
	}
}

func TestForceAuthn(t *testing.T) {
	sp := awsSP(t)
	force := &AuthnRequest{ForceAuthn: true}
	if sp.RequiresFreshLogin(force) {
		t.Fatal("ForceAuthn honoured although the app does not")
	}
	sp.HonorForceAuthn = true
	if !sp.RequiresFreshLogin(force) || sp.RequiresFreshLogin(&AuthnRequest{}) {
		t.Fatal("HonorForceAuthn not applied")
	}
}

// TestRequestedAuthnContextLimits: more class refs than
// MaxRequestedClassRefs, or one longer than MaxURLLength, is refused at
// intake (an error page, nothing sent).
func TestRequestedAuthnContextLimits(t *testing.T) {
	sp := awsSP(t)
	in := testIntake(t, sp)
	build := func(n, size int) []byte {
		return docBytes(t, buildRequestElement(reqOpts{acs: awsRegionalACS, extra: func(r *etree.Element) {
			rac := r.CreateElement("samlp:RequestedAuthnContext")
			for i := 0; i < n; i++ {
				rac.CreateElement("saml:AuthnContextClassRef").SetText("urn:x:" + strings.Repeat("a", size))
			}
		}}))
	}
	if _, _, err := in.ParseRedirectRequest(redirectQuery(t, build(MaxRequestedClassRefs, 100), "", nil, "")); err != nil {
		t.Fatalf("%d class refs: %v", MaxRequestedClassRefs, err)
	}
	for what, x := range map[string][]byte{"too many": build(MaxRequestedClassRefs+1, 10), "too long": build(1, MaxURLLength)} {
		var re *RequestError
		if _, _, err := in.ParseRedirectRequest(redirectQuery(t, x, "", nil, "")); !errors.As(err, &re) || re.Respondable {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

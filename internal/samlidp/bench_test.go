package samlidp

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// BenchmarkRSA2048Sign is the physical bound: one RSA-2048 PKCS#1 v1.5
// SHA-256 signature with a precomputed key. A response with one signature
// cannot be cheaper than this.
func BenchmarkRSA2048Sign(b *testing.B) {
	p := loadPair(b, "idp")
	p.key.Precompute()
	digest := sha256.Sum256([]byte("gatehouse"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, p.key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBuild(b *testing.B, mutate func(sp *ServiceProvider)) {
	idp := newTestIdP(b, nil)
	sp := awsSP(b)
	mutate(sp)
	in := awsInput(sp)
	out, err := idp.BuildResponse(in)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := idp.BuildResponse(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildResponseAssertionSigned: the AWS default (one signature).
func BenchmarkBuildResponseAssertionSigned(b *testing.B) {
	benchBuild(b, func(sp *ServiceProvider) {})
}

// BenchmarkBuildResponseBothSigned: assertion and response signed (two
// signatures), the same work as the crewjam peer below.
func BenchmarkBuildResponseBothSigned(b *testing.B) {
	benchBuild(b, func(sp *ServiceProvider) { sp.ResponseSigned = true })
}

// BenchmarkBuildResponseEncrypted: assertion signed, then AES-256-GCM
// encrypted with the key wrapped by RSA-OAEP.
func BenchmarkBuildResponseEncrypted(b *testing.B) {
	sp := loadPair(b, "sp")
	benchBuild(b, func(s *ServiceProvider) {
		s.Encryption = Encryption{Enabled: true, Certificate: sp.cert}
	})
}

// BenchmarkBuildResponseBothSignedParallel runs on all GOMAXPROCS to show
// that one IdP value scales across cores.
func BenchmarkBuildResponseBothSignedParallel(b *testing.B) {
	idp := newTestIdP(b, nil)
	sp := awsSP(b)
	sp.ResponseSigned = true
	in := awsInput(sp)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := idp.BuildResponse(in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCrewjamResponse is the peer measured in the same run: crewjam/saml
// v0.6.3's IdP building an IdP-initiated response for the same user and
// attributes (DefaultAssertionMaker.MakeAssertion, then PostBinding, which
// signs the assertion and the Response with RSA-SHA256 and exclusive C14N).
func BenchmarkCrewjamResponse(b *testing.B) {
	p := loadPair(b, "idp")
	p.key.Precompute()
	sso, _ := url.Parse(testSSOURL)
	idp := &saml.IdentityProvider{
		Key:             p.key,
		Certificate:     p.cert,
		MetadataURL:     *sso,
		SSOURL:          *sso,
		SignatureMethod: dsig.RSASHA256SignatureMethod,
		Clock:           dsig.NewFakeClockAt(testNow),
	}
	spMeta := &saml.EntityDescriptor{
		EntityID: awsEntityID,
		SPSSODescriptors: []saml.SPSSODescriptor{{
			AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: awsACS, Index: 1}},
		}},
	}
	httpReq := httptest.NewRequest("GET", testSSOURL, nil)
	session := &saml.Session{
		ID: "sess-1", Index: "sess-1", NameID: "jdoe@example.com", UserName: "jdoe@example.com",
		CreateTime: testNow.Add(-time.Minute), ExpireTime: testNow.Add(time.Hour),
		CustomAttributes: []saml.Attribute{
			{Name: "https://aws.amazon.com/SAML/Attributes/Role", NameFormat: AttrNameFormatURI, Values: []saml.AttributeValue{{Type: "xs:string", Value: roleValue}}},
			{Name: "https://aws.amazon.com/SAML/Attributes/RoleSessionName", NameFormat: AttrNameFormatBasic, Values: []saml.AttributeValue{{Type: "xs:string", Value: "jdoe@example.com"}}},
			{Name: "https://aws.amazon.com/SAML/Attributes/SessionDuration", NameFormat: AttrNameFormatBasic, Values: []saml.AttributeValue{{Type: "xs:string", Value: "43200"}}},
		},
	}
	build := func() (saml.IdpAuthnRequestForm, error) {
		req := &saml.IdpAuthnRequest{
			IDP: idp, HTTPRequest: httpReq, ServiceProviderMetadata: spMeta,
			SPSSODescriptor: &spMeta.SPSSODescriptors[0], ACSEndpoint: &spMeta.SPSSODescriptors[0].AssertionConsumerServices[0],
			Now: testNow,
		}
		if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
			return saml.IdpAuthnRequestForm{}, err
		}
		return req.PostBinding()
	}
	if _, err := build(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := build(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePostRequestSigned is the intake cost of a signed
// HTTP-POST AuthnRequest (strict parse, round-trip check, XML-DSig verify).
func BenchmarkParsePostRequestSigned(b *testing.B) {
	sp := awsSP(b)
	in := testIntake(b, sp)
	form := postForm(docBytes(b, signXML(b, buildRequestElement(reqOpts{}), loadPair(b, "sp"))), "")
	if _, _, err := in.ParsePostRequest(form); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := in.ParsePostRequest(form); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRedirectRequestSigned is the same for the Redirect binding.
func BenchmarkParseRedirectRequestSigned(b *testing.B) {
	sp := awsSP(b)
	in := testIntake(b, sp)
	kp := loadPair(b, "sp")
	q := redirectQuery(b, docBytes(b, buildRequestElement(reqOpts{})), "relay", &kp, AlgRSASHA256)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := in.ParseRedirectRequest(q); err != nil {
			b.Fatal(err)
		}
	}
}

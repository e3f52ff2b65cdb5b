package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/internal/keys"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// The fixed test clock. The test certificates are valid 2026-01-01 to
// 2027-12-31.
var testNow = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

const (
	testIdPEntityID = "http://gatehouse.test/exk0000000000000001"
	testSSOURL      = "https://idp.gatehouse.test/app/amazon_aws/exk0000000000000001/sso/saml"
	testSLOURL      = "https://idp.gatehouse.test/app/amazon_aws/exk0000000000000001/slo/saml"
	awsEntityID     = "urn:amazon:webservices"
	awsACS          = "https://signin.aws.amazon.com/saml"
	awsRegionalACS  = "https://eu-west-2.signin.aws.amazon.com/saml"
	roleValue       = "arn:aws:iam::123456789012:saml-provider/Gatehouse,arn:aws:iam::123456789012:role/ConnectAgent"
)

type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// loadPair reads a test-only key pair from testdata (generated once with
// internal/keys; Go 1.26 key generation ignores its random source, so
// golden files need stored keys).
func loadPair(t testing.TB, name string) keyPair {
	t.Helper()
	kb, err := os.ReadFile(filepath.Join("testdata", name+"-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := os.ReadFile(filepath.Join("testdata", name+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKeyPEM(kb)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := keys.ParseCertificatePEM(cb)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{k, cs[0]}
}

// detRand is a deterministic random source for golden files.
func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func newTestIdP(t testing.TB, random io.Reader) *IdP {
	t.Helper()
	p := loadPair(t, "idp")
	next := loadPair(t, "idp-next")
	idp, err := NewIdP(IdPConfig{
		EntityID:           testIdPEntityID,
		SSOURL:             testSSOURL,
		SLOURL:             testSLOURL,
		SigningKey:         p.key,
		SigningCertificate: p.cert,
		ExtraCertificates:  []*x509.Certificate{next.cert},
		Now:                func() time.Time { return testNow },
		Rand:               random,
	})
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

func awsSP(t testing.TB) *ServiceProvider {
	t.Helper()
	sp := loadPair(t, "sp")
	return &ServiceProvider{
		EntityID:            awsEntityID,
		ACSURL:              awsACS,
		ACSEndpoints:        []ACSEndpoint{{URL: awsRegionalACS, Index: 1}},
		AssertionSigned:     true,
		SigningCertificates: []*x509.Certificate{sp.cert},
		SLO:                 SLO{Enabled: true, LogoutURL: "https://sp.example.com/slo"},
	}
}

func awsInput(sp *ServiceProvider) ResponseInput {
	return ResponseInput{
		SP:           sp,
		NameID:       "jdoe@example.com",
		SessionIndex: "sess-1",
		AuthnInstant: testNow.Add(-time.Minute),
		Attributes: []Attribute{
			{Name: "https://aws.amazon.com/SAML/Attributes/Role", NameFormat: AttrNameFormatURI, Values: []string{roleValue}},
			{Name: "https://aws.amazon.com/SAML/Attributes/RoleSessionName", NameFormat: AttrNameFormatBasic, Values: []string{"jdoe@example.com"}},
			{Name: "https://aws.amazon.com/SAML/Attributes/SessionDuration", NameFormat: AttrNameFormatBasic, Values: []string{"43200"}},
		},
	}
}

func testIntake(t testing.TB, sp *ServiceProvider) *Intake {
	t.Helper()
	return &Intake{
		Lookup: func(issuer string) (*ServiceProvider, error) {
			if issuer == sp.EntityID || (sp.SLO.SPIssuer != "" && issuer == sp.SLO.SPIssuer) {
				return sp, nil
			}
			return nil, nil
		},
		Destinations: []string{testSSOURL, testSLOURL},
		Now:          func() time.Time { return testNow },
	}
}

// authnRequestXML builds an AuthnRequest as an SP would. mutate may edit the
// tree before signing.
type reqOpts struct {
	id, issuer, acs, destination string
	acsIndex                     string
	issueInstant                 time.Time
	extra                        func(root *etree.Element)
	root                         string
}

func buildRequestElement(o reqOpts) *etree.Element {
	if o.id == "" {
		o.id = "_req0123456789"
	}
	if o.issuer == "" {
		o.issuer = awsEntityID
	}
	if o.destination == "" {
		o.destination = testSSOURL
	}
	if o.issueInstant.IsZero() {
		o.issueInstant = testNow.Add(-10 * time.Second)
	}
	if o.root == "" {
		o.root = "AuthnRequest"
	}
	r := etree.NewElement("samlp:" + o.root)
	r.CreateAttr("xmlns:samlp", NSProtocol)
	r.CreateAttr("xmlns:saml", NSAssertion)
	r.CreateAttr("ID", o.id)
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", formatTime(o.issueInstant))
	if o.destination != "-" {
		r.CreateAttr("Destination", o.destination)
	}
	if o.acs != "" {
		r.CreateAttr("AssertionConsumerServiceURL", o.acs)
		r.CreateAttr("ProtocolBinding", BindingHTTPPost)
	}
	if o.acsIndex != "" {
		r.CreateAttr("AssertionConsumerServiceIndex", o.acsIndex)
	}
	r.CreateElement("saml:Issuer").SetText(o.issuer)
	if o.root == "AuthnRequest" {
		p := r.CreateElement("samlp:NameIDPolicy")
		p.CreateAttr("Format", NameIDFormatUnspecified)
		p.CreateAttr("AllowCreate", "true")
	} else {
		n := r.CreateElement("saml:NameID")
		n.CreateAttr("Format", NameIDFormatUnspecified)
		n.SetText("jdoe@example.com")
		r.CreateElement("samlp:SessionIndex").SetText("sess-1")
	}
	if o.extra != nil {
		o.extra(r)
	}
	return r
}

func docBytes(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signXML signs el enveloped with kp, placing the Signature after Issuer
// (the way an SP does for the POST binding).
func signXML(t testing.TB, el *etree.Element, kp keyPair) *etree.Element {
	t.Helper()
	ctx, err := dsig.NewSigningContext(kp.key, [][]byte{kp.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		t.Fatal(err)
	}
	el.InsertChildAt(childElements(el, NSAssertion, "Issuer")[0].Index()+1, sig)
	return el
}

func postForm(xmlBytes []byte, relay string) url.Values {
	v := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(xmlBytes)}}
	if relay != "" {
		v.Set("RelayState", relay)
	}
	return v
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// redirectQuery encodes a Redirect-binding query; when kp is not nil it
// signs it with sigAlg.
func redirectQuery(t testing.TB, xmlBytes []byte, relay string, kp *keyPair, sigAlg string) string {
	t.Helper()
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(deflate(t, xmlBytes)))
	if relay != "" {
		q += "&RelayState=" + url.QueryEscape(relay)
	}
	if kp == nil {
		return q
	}
	q += "&SigAlg=" + url.QueryEscape(sigAlg)
	h := crypto.SHA256
	if sigAlg == AlgRSASHA1 {
		h = crypto.SHA1
	}
	hh := h.New()
	hh.Write([]byte(q))
	sig, err := rsa.SignPKCS1v15(nil, kp.key, h, hh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

func sha256hex(b []byte) [32]byte { return sha256.Sum256(b) }

func requireRequestError(t *testing.T, err error) *RequestError {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RequestError", err, err)
	}
	if re.Respondable {
		t.Fatalf("intake error %v must not be answered with a SAML response", err)
	}
	return re
}

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run with -update after checking the diff)\n got: %s", path, strings.TrimSpace(string(got)))
	}
}

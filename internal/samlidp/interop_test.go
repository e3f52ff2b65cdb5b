package samlidp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/internal/keys"
)

// interopCase is one Response shape that independent SPs must accept.
type interopCase struct {
	name         string
	mutate       func(sp *ServiceProvider)
	inResponseTo string
	acs          string
}

var interopCases = []interopCase{
	{name: "assertion signed, IdP-initiated", mutate: func(sp *ServiceProvider) {}},
	{name: "response signed", mutate: func(sp *ServiceProvider) { sp.AssertionSigned, sp.ResponseSigned = false, true }},
	{name: "both signed", mutate: func(sp *ServiceProvider) { sp.ResponseSigned = true }},
	{name: "both signed, SP-initiated", mutate: func(sp *ServiceProvider) { sp.ResponseSigned = true }, inResponseTo: "_req0123456789"},
	{name: "SP-initiated to a requestable ACS", mutate: func(sp *ServiceProvider) {}, inResponseTo: "_req42", acs: awsRegionalACS},
	{name: "encrypted AES256-GCM RSA-OAEP", mutate: encryptWith(AES256GCM)},
	{name: "encrypted AES128-GCM RSA-OAEP, response signed", mutate: func(sp *ServiceProvider) {
		encryptWith(AES128GCM)(sp)
		sp.ResponseSigned = true
	}},
	{name: "encrypted AES256-CBC RSA-OAEP", mutate: encryptWith(AES256CBC)},
	{name: "encrypted AES128-CBC, SP-initiated", mutate: encryptWith(AES128CBC), inResponseTo: "_req77"},
}

var spKeyPairForEncryption keyPair

func encryptWith(alg DataEncryption) func(sp *ServiceProvider) {
	return func(sp *ServiceProvider) {
		sp.Encryption = Encryption{Enabled: true, Certificate: spKeyPairForEncryption.cert, DataAlgorithm: alg}
	}
}

func buildInterop(t *testing.T, c interopCase) (xmlBytes []byte, sp *ServiceProvider, acs string) {
	t.Helper()
	spKeyPairForEncryption = loadPair(t, "sp")
	idp := newTestIdP(t, nil)
	sp = awsSP(t)
	c.mutate(sp)
	in := awsInput(sp)
	in.InResponseTo = c.inResponseTo
	in.ACSURL = c.acs
	out, err := idp.BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	acs = c.acs
	if acs == "" {
		acs = awsACS
	}
	return out, sp, acs
}

func TestInteropGosaml2(t *testing.T) {
	idpPair := loadPair(t, "idp")
	spPair := loadPair(t, "sp")
	for _, c := range interopCases {
		t.Run(c.name, func(t *testing.T) {
			out, sp, acs := buildInterop(t, c)
			consumer := &saml2.SAMLServiceProvider{
				IdentityProviderIssuer:      testIdPEntityID,
				AssertionConsumerServiceURL: acs,
				AudienceURI:                 awsEntityID,
				IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{idpPair.cert}},
				SPKeyStore:                  dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{spPair.cert.Raw}, PrivateKey: spPair.key}),
				Clock:                       dsig.NewFakeClockAt(testNow.Add(30 * time.Second)),
			}
			info, err := consumer.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(out))
			if err != nil {
				t.Fatalf("gosaml2 rejected the response: %v", err)
			}
			if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
				t.Fatalf("gosaml2 warnings: %+v", info.WarningInfo)
			}
			if info.NameID != "jdoe@example.com" || info.NameIDFormat != NameIDFormatUnspecified {
				t.Fatalf("NameID %q format %q", info.NameID, info.NameIDFormat)
			}
			if got := info.Values.GetAll("https://aws.amazon.com/SAML/Attributes/Role"); len(got) != 1 || got[0] != roleValue {
				t.Fatalf("Role = %q", got)
			}
			if got := info.Values.Get("https://aws.amazon.com/SAML/Attributes/SessionDuration"); got != "43200" {
				t.Fatalf("SessionDuration = %q", got)
			}
			if info.SessionIndex != "sess-1" {
				t.Fatalf("SessionIndex %q", info.SessionIndex)
			}
			if info.ResponseSignatureValidated != sp.ResponseSigned {
				t.Fatalf("response signature validated = %v, want %v", info.ResponseSignatureValidated, sp.ResponseSigned)
			}
			if sp.Encryption.Enabled && strings.Contains(string(out), "jdoe@example.com") {
				t.Fatal("encrypted response leaks the NameID in clear")
			}
		})
	}
}

func crewjamIDPMetadata(t *testing.T) *saml.EntityDescriptor {
	t.Helper()
	md, err := Metadata(newTestIdP(t, nil), MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatalf("crewjam cannot read our metadata: %v", err)
	}
	return &ed
}

func TestInteropCrewjam(t *testing.T) {
	spPair := loadPair(t, "sp")
	idpMD := crewjamIDPMetadata(t)
	for _, c := range interopCases {
		t.Run(c.name, func(t *testing.T) {
			out, _, acs := buildInterop(t, c)
			acsURL, _ := url.Parse(acs)
			consumer := &saml.ServiceProvider{
				EntityID:          awsEntityID,
				Key:               spPair.key,
				Certificate:       spPair.cert,
				AcsURL:            *acsURL,
				IDPMetadata:       idpMD,
				AllowIDPInitiated: c.inResponseTo == "",
				Clock:             dsig.NewFakeClockAt(testNow.Add(30 * time.Second)),
			}
			var ids []string
			if c.inResponseTo != "" {
				ids = []string{c.inResponseTo}
			}
			a, err := consumer.ParseXMLResponse(out, ids, *acsURL)
			if err != nil {
				if ire, ok := err.(*saml.InvalidResponseError); ok {
					t.Fatalf("crewjam rejected the response: %v", ire.PrivateErr)
				}
				t.Fatalf("crewjam rejected the response: %v", err)
			}
			if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value != "jdoe@example.com" {
				t.Fatalf("subject %+v", a.Subject)
			}
			found := false
			for _, st := range a.AttributeStatements {
				for _, at := range st.Attributes {
					if at.Name == "https://aws.amazon.com/SAML/Attributes/Role" && len(at.Values) == 1 && at.Values[0].Value == roleValue {
						found = true
					}
				}
			}
			if !found {
				t.Fatal("Role attribute missing in crewjam's view")
			}
		})
	}
}

// TestInteropCrewjamRejectsWrongInResponseTo makes sure the SPs really
// check what we claim they check (a harness that accepts everything proves
// nothing).
func TestInteropCrewjamRejectsWrongInResponseTo(t *testing.T) {
	spPair := loadPair(t, "sp")
	out, _, acs := buildInterop(t, interopCase{name: "x", mutate: func(*ServiceProvider) {}, inResponseTo: "_reqA"})
	acsURL, _ := url.Parse(acs)
	consumer := &saml.ServiceProvider{EntityID: awsEntityID, Key: spPair.key, Certificate: spPair.cert, AcsURL: *acsURL,
		IDPMetadata: crewjamIDPMetadata(t), Clock: dsig.NewFakeClockAt(testNow)}
	if _, err := consumer.ParseXMLResponse(out, []string{"_reqB"}, *acsURL); err == nil {
		t.Fatal("crewjam accepted a response to another request")
	}
	// And a response signed by another key.
	other := loadPair(t, "attacker")
	idp, err := NewIdP(IdPConfig{EntityID: testIdPEntityID, SSOURL: testSSOURL, SigningKey: other.key, SigningCertificate: other.cert,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := idp.BuildResponse(awsInput(awsSP(t)))
	if err != nil {
		t.Fatal(err)
	}
	consumer.AllowIDPInitiated = true
	if _, err := consumer.ParseXMLResponse(forged, nil, *acsURL); err == nil {
		t.Fatal("crewjam accepted a response signed with a key not in our metadata")
	}
}

// TestXMLSec1Verify checks signatures with xmlsec1 (libxml2 + OpenSSL), an
// implementation sharing no code with goxmldsig. With
// GATEHOUSE_REQUIRE_XMLSEC1=1 a missing xmlsec1 fails the test.
func TestXMLSec1Verify(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_XMLSEC1") == "1" {
			t.Fatal("xmlsec1 not found but GATEHOUSE_REQUIRE_XMLSEC1=1 (apt-get install -y xmlsec1)")
		}
		t.Skip("xmlsec1 not installed")
	}
	dir := t.TempDir()
	certPath := filepath.Join(dir, "idp.pem")
	if err := os.WriteFile(certPath, pemCert(loadPair(t, "idp").cert), 0o644); err != nil {
		t.Fatal(err)
	}
	idp := newTestIdP(t, nil)
	for _, c := range []struct {
		name           string
		resp, assertio bool
		node           string
	}{
		{"assertion signature", false, true, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"},
		{"response signature", true, false, "urn:oasis:names:tc:SAML:2.0:protocol:Response"},
		{"both: response signature", true, true, "urn:oasis:names:tc:SAML:2.0:protocol:Response"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := awsSP(t)
			sp.ResponseSigned, sp.AssertionSigned = c.resp, c.assertio
			in := awsInput(sp)
			in.NameID = `o'brien&<co>"@example.com`
			out, err := idp.BuildResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, "resp.xml")
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(file string) (string, error) {
				cmd := exec.Command(bin, "--verify", "--pubkey-cert-pem", certPath,
					"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
					"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
					"--node-xpath", xpathFor(c.node), file)
				b, err := cmd.CombinedOutput()
				return string(b), err
			}
			if msg, err := run(f); err != nil {
				t.Fatalf("xmlsec1 rejected our signature: %v\n%s", err, msg)
			}
			// Tampering must be detected by xmlsec1 too.
			bad := strings.Replace(string(out), "43200", "43201", 1)
			if err := os.WriteFile(f, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := run(f); err == nil {
				t.Fatal("xmlsec1 accepted a tampered response")
			}
		})
	}
}

// TestXMLSec1Decrypt decrypts encrypted assertions with xmlsec1 (libxml2 +
// OpenSSL) and then verifies the decrypted assertion's signature with it.
func TestXMLSec1Decrypt(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_XMLSEC1") == "1" {
			t.Fatal("xmlsec1 not found but GATEHOUSE_REQUIRE_XMLSEC1=1 (apt-get install -y xmlsec1)")
		}
		t.Skip("xmlsec1 not installed")
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sp := loadPair(t, "sp")
	keyPEM, err := keys.EncodePrivateKeyPEM(sp.key)
	if err != nil {
		t.Fatal(err)
	}
	spKey, spCert := write("sp-key.pem", keyPEM), write("sp-cert.pem", pemCert(sp.cert))
	idpCert := write("idp.pem", pemCert(loadPair(t, "idp").cert))
	for _, alg := range []DataEncryption{AES256GCM, AES128GCM, AES256CBC, AES128CBC} {
		t.Run(string(alg), func(t *testing.T) {
			out, _, _ := buildInterop(t, interopCase{name: string(alg), mutate: encryptWith(alg)})
			f := write("enc.xml", out)
			dec, err := exec.Command(bin, "--decrypt", "--trusted-pem", spCert, "--privkey-pem", spKey, f).Output()
			if err != nil {
				t.Fatalf("xmlsec1 cannot decrypt %s: %v", alg, err)
			}
			if !strings.Contains(string(dec), ">jdoe@example.com</saml2:NameID>") {
				t.Fatalf("decrypted document lacks the NameID: %.300s", dec)
			}
			g := write("dec.xml", dec)
			msg, err := exec.Command(bin, "--verify", "--pubkey-cert-pem", idpCert,
				"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
				"--node-xpath", xpathFor(":Assertion"), g).CombinedOutput()
			if err != nil {
				t.Fatalf("xmlsec1 rejects the decrypted assertion's signature: %v\n%s", err, msg)
			}
		})
	}
}

func xpathFor(node string) string {
	if strings.HasSuffix(node, ":Assertion") {
		return "//*[local-name()='Assertion']/*[local-name()='Signature']"
	}
	return "/*[local-name()='Response']/*[local-name()='Signature']"
}

package samlidp

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

func TestParseLogoutRequest(t *testing.T) {
	sp := awsSP(t)
	sp.SLO.SPIssuer = "https://sp.example.com/slo-issuer"
	in := testIntake(t, sp)
	spPair := loadPair(t, "sp")
	x := docBytes(t, buildRequestElement(reqOpts{root: "LogoutRequest", issuer: sp.SLO.SPIssuer, destination: testSLOURL}))

	r, gotSP, err := in.ParseRedirectLogoutRequest(redirectQuery(t, x, "rs", &spPair, AlgRSASHA256))
	if err != nil {
		t.Fatal(err)
	}
	if gotSP != sp || !r.Signed || r.NameID != "jdoe@example.com" || len(r.SessionIndexes) != 1 || r.SessionIndexes[0] != "sess-1" ||
		r.RelayState != "rs" || r.Issuer != sp.SLO.SPIssuer || r.ReplayKey() != sp.SLO.SPIssuer+"\x00_req0123456789" {
		t.Fatalf("parsed %+v", r)
	}
	signed := docBytes(t, signXML(t, buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL}), spPair))
	if r, _, err = in.ParsePostLogoutRequest(postForm(signed, "")); err != nil || !r.Signed {
		t.Fatalf("signed POST logout: %v", err)
	}

	attacker := loadPair(t, "attacker")
	rejects := map[string]func() error{
		"SLO disabled": func() error {
			s := awsSP(t)
			s.SLO.Enabled = false
			_, _, err := testIntake(t, s).ParseRedirectLogoutRequest(redirectQuery(t, x, "", nil, ""))
			return err
		},
		"attacker signature": func() error {
			_, _, err := in.ParsePostLogoutRequest(postForm(docBytes(t, signXML(t, buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL}), attacker)), ""))
			return err
		},
		"tampered NameID": func() error {
			_, _, err := in.ParsePostLogoutRequest(postForm([]byte(strings.Replace(string(signed), "jdoe@", "admin@", 1)), ""))
			return err
		},
		"AuthnRequest at SLO": func() error {
			_, _, err := in.ParseRedirectLogoutRequest(redirectQuery(t, docBytes(t, buildRequestElement(reqOpts{})), "", nil, ""))
			return err
		},
		"expired NotOnOrAfter": func() error {
			el := buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL})
			el.CreateAttr("NotOnOrAfter", formatTime(testNow.Add(-1)))
			_, _, err := in.ParseRedirectLogoutRequest(redirectQuery(t, docBytes(t, el), "", &spPair, AlgRSASHA256))
			return err
		},
		// SAML Profiles 4.4.4.1: the requester MUST authenticate itself,
		// and over the browser bindings only a signature does that.
		"unsigned Redirect": func() error {
			_, _, err := in.ParseRedirectLogoutRequest(redirectQuery(t, x, "rs", nil, ""))
			return err
		},
		"unsigned POST": func() error {
			_, _, err := in.ParsePostLogoutRequest(postForm(docBytes(t, buildRequestElement(reqOpts{root: "LogoutRequest", destination: testSLOURL})), ""))
			return err
		},
		"signed but no certificate registered": func() error {
			s := awsSP(t)
			s.SigningCertificates = nil
			_, _, err := testIntake(t, s).ParseRedirectLogoutRequest(redirectQuery(t, x, "", &spPair, AlgRSASHA256))
			return err
		},
		"rsa-sha1": func() error {
			_, _, err := in.ParseRedirectLogoutRequest(redirectQuery(t, x, "", &spPair, AlgRSASHA1))
			return err
		},
	}
	for name, f := range rejects {
		t.Run(name, func(t *testing.T) {
			err := f()
			if err == nil {
				t.Fatal("accepted")
			}
			requireRequestError(t, err)
		})
	}
}

func sloConsumer(t *testing.T) *saml.ServiceProvider {
	t.Helper()
	slo, _ := url.Parse("https://sp.example.com/slo")
	return &saml.ServiceProvider{EntityID: awsEntityID, SloURL: *slo, IDPMetadata: crewjamIDPMetadata(t), Clock: dsig.NewFakeClockAt(testNow)}
}

func TestLogoutResponsesAcceptedByCrewjam(t *testing.T) {
	idp := newTestIdP(t, nil)
	sp := awsSP(t)
	in := LogoutResponseInput{SP: sp, InResponseTo: "_req0123456789"}

	xmlBytes, dest, err := idp.BuildLogoutResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if dest != sp.SLO.LogoutURL {
		t.Fatalf("post URL %q", dest)
	}
	if _, err := verifyPostSignature(parseOut(t, xmlBytes), []*x509.Certificate{loadPair(t, "idp").cert}, false, testNow); err != nil {
		t.Fatalf("our own verifier rejects the LogoutResponse: %v", err)
	}
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xmlBytes)}}
	req := httptest.NewRequest(http.MethodPost, sp.SLO.LogoutURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := sloConsumer(t).ParseLogoutResponse(req, []string{"_req0123456789"}); err != nil {
		t.Fatalf("crewjam rejected the POST LogoutResponse: %v", privateErr(err))
	}

	u, err := idp.LogoutResponseRedirectURL(in, "back-to")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, sp.SLO.LogoutURL+"?SAMLResponse=") || !strings.Contains(u, "&RelayState=back-to&SigAlg=") {
		t.Fatalf("redirect URL %s", u)
	}
	req = httptest.NewRequest(http.MethodGet, u, nil)
	if _, err := sloConsumer(t).ParseLogoutResponse(req, []string{"_req0123456789"}); err != nil {
		t.Fatalf("crewjam rejected the Redirect LogoutResponse: %v", privateErr(err))
	}
	// A flipped bit in the query signature is caught by crewjam.
	tampered := strings.Replace(u, "RelayState=back-to", "RelayState=back-tO", 1)
	if _, err := sloConsumer(t).ParseLogoutResponse(httptest.NewRequest(http.MethodGet, tampered, nil), []string{"_req0123456789"}); err == nil {
		t.Fatal("crewjam accepted a tampered redirect LogoutResponse")
	}

	noSLO := awsSP(t)
	noSLO.SLO = SLO{}
	if _, _, err := idp.BuildLogoutResponse(LogoutResponseInput{SP: noSLO}); err == nil {
		t.Fatal("logout response built for an SP without SLO")
	}
}

func privateErr(err error) error {
	if ire, ok := err.(*saml.InvalidResponseError); ok && ire.PrivateErr != nil {
		return ire.PrivateErr
	}
	return err
}

package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
)

// samlAnswer decodes the SAMLResponse of an auto-submitted page and
// returns its top-level and second-level status and its
// AuthnContextClassRef ("" without an assertion).
func samlAnswer(t *testing.T, page string) (top, sub, classRef string, doc *etree.Document) {
	t.Helper()
	_, msg, _ := samlPost(t, page)
	raw, err := base64.StdEncoding.DecodeString(msg)
	if err != nil {
		t.Fatal(err)
	}
	doc = etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	if el := doc.FindElement("/Response/Status/StatusCode"); el != nil {
		top = el.SelectAttrValue("Value", "")
		if s := el.FindElement("StatusCode"); s != nil {
			sub = s.SelectAttrValue("Value", "")
		}
	}
	if el := doc.FindElement("//Assertion/AuthnStatement/AuthnContext/AuthnContextClassRef"); el != nil {
		classRef = el.Text()
	}
	return top, sub, classRef, doc
}

// TestRequestedAuthnContext: real AuthnRequests with a
// RequestedAuthnContext, through the HTTP server (saml-core §3.3.2.2.1).
// A password session answers exact/minimum PasswordProtectedTransport and
// maximum REFEDS MFA with PasswordProtectedTransport; an exact request for
// REFEDS MFA steps the session up to a second factor and is then answered
// with that class; after that, minimum PasswordProtectedTransport is
// answered with the class actually achieved (REFEDS MFA) and exact
// PasswordProtectedTransport with itself. A class Gatehouse cannot assert
// (exact Smartcard), nothing stronger than multi-factor (better REFEDS
// MFA) and an AuthnContextDeclRef get a Requester/NoAuthnContext response
// without an assertion, before any sign-in; a passive request that would
// need a step-up gets NoPassive.
func TestRequestedAuthnContext(t *testing.T) {
	const (
		ppt   = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
		mfa   = "https://refeds.org/profile/mfa"
		smart = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"
	)
	ts := newTestServer(t, false)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	sp := ts.gosamlSP(t, appID)
	requestURL := func(cmp string, passive bool, refs ...string) string {
		t.Helper()
		sp.RequestedAuthnContext = &saml2.RequestedAuthnContext{Comparison: cmp, Contexts: refs}
		sp.IsPassive = passive
		u, err := sp.BuildAuthURL("rs")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	b := newBrowser(t, ts.srv.URL)
	type answer struct{ top, sub, class string }
	ask := func(cmp string, refs ...string) answer {
		t.Helper()
		_, page := b.follow(b.get(requestURL(cmp, false, refs...)))
		top, sub, class, doc := samlAnswer(t, page)
		if top == "urn:oasis:names:tc:SAML:2.0:status:Success" {
			raw, _ := doc.WriteToString()
			if _, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString([]byte(raw))); err != nil {
				t.Fatalf("%s %v: gosaml2 refused the response: %v", cmp, refs, err)
			}
		}
		return answer{top, sub, class}
	}
	noContext := func(what string, a answer) {
		t.Helper()
		if a.top != "urn:oasis:names:tc:SAML:2.0:status:Requester" || a.sub != "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext" || a.class != "" {
			t.Fatalf("%s: %+v", what, a)
		}
	}

	// Before any sign-in: unsatisfiable requests are answered at once.
	noContext("exact Smartcard", ask("exact", smart))
	noContext("better REFEDS MFA", ask("better", mfa))
	doc, err := sp.BuildAuthRequestDocumentNoSig()
	if err != nil {
		t.Fatal(err)
	}
	rac := doc.Root().FindElement("RequestedAuthnContext")
	rac.RemoveChildAt(0)
	rac.CreateElement("saml:AuthnContextDeclRef").SetText("urn:example:decl")
	_, page := b.follow(b.get(unsignedRedirect(t, sp.IdentityProviderSSOURL, "SAMLRequest", doc)))
	top, sub, class, _ := samlAnswer(t, page)
	noContext("AuthnContextDeclRef", answer{top, sub, class})

	// Sign in with a password.
	resp, _ := b.follow(b.get(requestURL("exact", false, ppt)))
	next := resp.Request.URL.Query().Get("next")
	resp, page = b.follow(b.signIn("ana@example.com", "Secret-Passw0rd", next))
	if top, _, class, _ := samlAnswer(t, page); top != "urn:oasis:names:tc:SAML:2.0:status:Success" || class != ppt {
		t.Fatalf("exact PasswordProtectedTransport after sign-in: %s %q", top, class)
	}
	for _, c := range []struct {
		cmp  string
		refs []string
	}{{"minimum", []string{ppt}}, {"maximum", []string{mfa}}, {"exact", []string{mfa, ppt}}, {"minimum", []string{mfa, "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"}}} {
		if a := ask(c.cmp, c.refs...); a.top != "urn:oasis:names:tc:SAML:2.0:status:Success" || a.class != ppt {
			t.Fatalf("password session, %s %v: %+v", c.cmp, c.refs, a)
		}
	}
	// A passive request that needs a second factor: NoPassive.
	_, page = b.follow(b.get(requestURL("exact", true, mfa)))
	if top, sub, class, _ := samlAnswer(t, page); top != "urn:oasis:names:tc:SAML:2.0:status:Responder" || sub != "urn:oasis:names:tc:SAML:2.0:status:NoPassive" || class != "" {
		t.Fatalf("passive exact REFEDS MFA: %s %s %q", top, sub, class)
	}

	// better PasswordProtectedTransport: the session steps up (the person
	// sets up an authenticator app on the way), then the SP gets REFEDS MFA.
	resp, _ = b.get(requestURL("better", false, ppt))
	resp, _ = b.follow(resp, "")
	if resp.Request.URL.Path != "/login/enroll" {
		t.Fatalf("better PasswordProtectedTransport from a password session went to %s", resp.Request.URL)
	}
	_, page = b.get("/login/enroll")
	resp, _ = b.post("/login/enroll/totp", url.Values{"csrf": {formCSRF(t, page)}})
	setup := resp.Header.Get("Location")
	_, page = b.get(setup)
	key := strings.ReplaceAll(totpKeyRe.FindStringSubmatch(page)[1], " ", "")
	b.post(setup, url.Values{"csrf": {formCSRF(t, page)}, "code": {totpNow(t, key, 0)}})
	_, page = b.get("/login/enroll/codes")
	resp, _ = b.post("/login/enroll/continue", url.Values{"csrf": {formCSRF(t, page)}})
	if !strings.HasPrefix(resp.Header.Get("Location"), "/sso/continue/") {
		t.Fatalf("after the step-up: %s", resp.Header.Get("Location"))
	}
	_, page = b.follow(resp, "")
	if top, _, class, _ := samlAnswer(t, page); top != "urn:oasis:names:tc:SAML:2.0:status:Success" || class != mfa {
		t.Fatalf("better PasswordProtectedTransport after the step-up: %s %q", top, class)
	}
	// The multi-factor session answers every comparison with no prompt.
	for _, c := range []struct {
		cmp, want string
		refs      []string
	}{{"exact", mfa, []string{mfa}}, {"minimum", mfa, []string{ppt}}, {"exact", ppt, []string{ppt}}, {"maximum", ppt, []string{ppt}}, {"better", mfa, []string{ppt}}} {
		if a := ask(c.cmp, c.refs...); a.top != "urn:oasis:names:tc:SAML:2.0:status:Success" || a.class != c.want {
			t.Fatalf("multi-factor session, %s %v: %+v, want %q", c.cmp, c.refs, a, c.want)
		}
	}
	noContext("exact Smartcard, multi-factor session", ask("exact", smart))
	// Without a RequestedAuthnContext: the app's configured class.
	sp.RequestedAuthnContext = nil
	authURL, _ := sp.BuildAuthURL("")
	_, page = b.follow(b.get(authURL))
	if _, _, class, _ := samlAnswer(t, page); class != ppt {
		t.Fatalf("no RequestedAuthnContext: %q", class)
	}
}

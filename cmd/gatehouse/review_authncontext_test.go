package main

import (
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// The Requester/NoAuthnContext answer to an unsatisfiable
// RequestedAuthnContext is a signed Response to the request
// (InResponseTo) at the registered ACS (Destination), without an
// assertion, as saml-core §3.3.2.2.1 and the Web SSO profile want.
func TestReviewNoAuthnContextResponse(t *testing.T) {
	ts := newTestServer(t, false)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	sp := ts.gosamlSP(t, appID)
	for _, c := range []struct {
		cmp  string
		refs []string
	}{{"exact", []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"}}, {"better", []string{"https://refeds.org/profile/mfa"}}} {
		sp.RequestedAuthnContext = &saml2.RequestedAuthnContext{Comparison: c.cmp, Contexts: c.refs}
		doc, err := sp.BuildAuthRequestDocumentNoSig()
		if err != nil {
			t.Fatal(err)
		}
		id := doc.Root().SelectAttrValue("ID", "")
		b := newBrowser(t, ts.srv.URL)
		_, page := b.follow(b.get(unsignedRedirect(t, sp.IdentityProviderSSOURL, "SAMLRequest", doc)))
		top, sub, class, rdoc := samlAnswer(t, page)
		if top != "urn:oasis:names:tc:SAML:2.0:status:Requester" || sub != "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext" || class != "" {
			t.Fatalf("%s %v: %s %s %q", c.cmp, c.refs, top, sub, class)
		}
		root := rdoc.Root()
		if _, err := dsig.NewDefaultValidationContext(sp.IDPCertificateStore).Validate(root); err != nil {
			t.Fatalf("%s %v: the error response's signature: %v", c.cmp, c.refs, err)
		}
		if got := root.SelectAttrValue("InResponseTo", ""); got != id {
			t.Fatalf("%s %v: InResponseTo %q, want %q", c.cmp, c.refs, got, id)
		}
		if got := root.SelectAttrValue("Destination", ""); got != sp.AssertionConsumerServiceURL {
			t.Fatalf("%s %v: Destination %q, want %q", c.cmp, c.refs, got, sp.AssertionConsumerServiceURL)
		}
		if root.FindElement("./Assertion") != nil || root.FindElement("./EncryptedAssertion") != nil {
			t.Fatalf("%s %v: an assertion in the error response", c.cmp, c.refs)
		}
	}
}

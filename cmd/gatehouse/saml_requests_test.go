package main

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// unsignedRedirect is the HTTP-Redirect binding URL of doc without a
// signature: DEFLATE, base64, query parameter (saml-bindings 3.4.4.1).
func unsignedRedirect(t testing.TB, endpoint, param string, doc *etree.Document) string {
	t.Helper()
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write(raw)
	fw.Close()
	return endpoint + "?" + url.Values{param: {base64.StdEncoding.EncodeToString(buf.Bytes())}}.Encode()
}

// TestLogoutRequestSessionIndex: a LogoutRequest ends the sessions it
// names by SessionIndex only when it is signed and each named session
// belongs to the person its NameID names at the app. An unsigned request
// (an app without an SP certificate), or a signed one naming someone
// else's session, leaves that session alone; the logout itself still
// answers with a LogoutResponse.
func TestLogoutRequestSessionIndex(t *testing.T) {
	ts := newTestServer(t, false)
	signer := newSPSigner(t)
	slo := `,"slo":{"enabled":true,"logoutUrl":"https://sp.example.test/slo"}`
	signedApp, _ := ts.newSAMLApp(t, "Signed", signer.signOn()+slo)
	plainApp, _ := ts.newSAMLApp(t, "Plain", slo)
	const pw = "Secret-Passw0rd"
	ana, bob := ts.createUser(t, "ana@example.com", pw), ts.createUser(t, "bob@example.com", pw)
	for _, app := range []string{signedApp, plainApp} {
		ts.assign(t, app, ana.ID)
		ts.assign(t, app, bob.ID)
	}
	sessionOf := func(userID string) string {
		t.Helper()
		b := newBrowser(t, ts.srv.URL)
		if resp, _ := b.signIn(map[string]string{ana.ID: "ana@example.com", bob.ID: "bob@example.com"}[userID], pw, "/app/UserHome"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		r := ts.call(t, "GET", "/api/v1/users/"+userID+"/sessions", ts.token, "")
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.raw), &list); err != nil || len(list) == 0 {
			t.Fatalf("sessions of %s: %d %s", userID, r.status, r.raw)
		}
		return list[len(list)-1]["id"].(string)
	}
	alive := func(id string) bool {
		t.Helper()
		r := ts.call(t, "GET", "/api/v1/sessions/"+id, ts.token, "")
		if r.status != 200 && r.status != 404 {
			t.Fatalf("session %s: %d %s", id, r.status, r.raw)
		}
		return r.status == 200
	}
	anaSess, bobSess := sessionOf(ana.ID), sessionOf(bob.ID)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(u string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://sp.example.test/slo?SAMLResponse=") {
			t.Fatalf("LogoutRequest: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	plain := ts.gosamlSP(t, plainApp)
	plain.IdentityProviderSLOURL = strings.Replace(plain.IdentityProviderSSOURL, "/sso/saml", "/slo/saml", 1)
	signed := signer.sp(t, ts, signedApp)

	// Unsigned, naming Bob and his session: answered, Bob still signed in.
	doc, err := plain.BuildLogoutRequestDocumentNoSig("bob@example.com", bobSess)
	if err != nil {
		t.Fatal(err)
	}
	send(unsignedRedirect(t, plain.IdentityProviderSLOURL, "SAMLRequest", doc))
	if !alive(bobSess) {
		t.Fatal("an unsigned LogoutRequest ended the session it named")
	}

	// Signed, naming Ana but carrying Bob's session: Bob still signed in.
	if doc, err = signed.BuildLogoutRequestDocumentNoSig("ana@example.com", bobSess); err != nil {
		t.Fatal(err)
	}
	var u string
	if u, err = signed.BuildLogoutURLRedirect("", doc); err != nil {
		t.Fatal(err)
	}
	send(u)
	if !alive(bobSess) || !alive(anaSess) {
		t.Fatalf("a signed LogoutRequest for Ana with Bob's SessionIndex ended a session (bob %v, ana %v)", alive(bobSess), alive(anaSess))
	}

	// Signed, naming Bob and his session: that session ends, Ana's stays.
	if doc, err = signed.BuildLogoutRequestDocumentNoSig("bob@example.com", bobSess); err != nil {
		t.Fatal(err)
	}
	if u, err = signed.BuildLogoutURLRedirect("", doc); err != nil {
		t.Fatal(err)
	}
	send(u)
	if alive(bobSess) {
		t.Fatal("a signed LogoutRequest for Bob's session left it alive")
	}
	if !alive(anaSess) {
		t.Fatal("Bob's logout ended Ana's session")
	}
}

// TestAuthnRequestUnsupportedBinding: an AuthnRequest that asks for the
// response through another binding than HTTP-POST, at a registered ACS,
// is answered there with Requester/UnsupportedBinding and its
// InResponseTo (saml-core 3.2.2.2); at an unregistered ACS it gets an
// error page and no SAML message at all.
func TestAuthnRequestUnsupportedBinding(t *testing.T) {
	ts := newTestServer(t, false)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	sp := ts.gosamlSP(t, appID)
	b := newBrowser(t, ts.srv.URL)
	request := func(acs string) (*etree.Document, string) {
		t.Helper()
		doc, err := sp.BuildAuthRequestDocumentNoSig()
		if err != nil {
			t.Fatal(err)
		}
		root := doc.Root()
		root.RemoveAttr("ProtocolBinding")
		root.CreateAttr("ProtocolBinding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact")
		root.RemoveAttr("AssertionConsumerServiceURL")
		root.CreateAttr("AssertionConsumerServiceURL", acs)
		return doc, root.SelectAttrValue("ID", "")
	}

	doc, id := request(spACS)
	resp, page := b.get(unsignedRedirect(t, sp.IdentityProviderSSOURL, "SAMLRequest", doc))
	if resp.StatusCode != 200 {
		t.Fatalf("artifact binding at a registered ACS: %d %.300s", resp.StatusCode, page)
	}
	action, msg, _ := samlPost(t, page)
	if action != spACS {
		t.Fatalf("posted to %s", action)
	}
	raw, _ := base64.StdEncoding.DecodeString(msg)
	out := etree.NewDocument()
	if err := out.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	if got := out.Root().SelectAttrValue("InResponseTo", ""); got != id {
		t.Fatalf("InResponseTo %q, want %q", got, id)
	}
	top := out.FindElement("//Status/StatusCode")
	sub := out.FindElement("//Status/StatusCode/StatusCode")
	if top == nil || sub == nil || top.SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:Requester" ||
		sub.SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding" {
		t.Fatalf("status: %s", raw)
	}
	if out.FindElement("//Assertion") != nil || out.FindElement("//EncryptedAssertion") != nil {
		t.Fatalf("an error response carries an assertion: %s", raw)
	}

	doc, _ = request("https://evil.example.test/acs")
	resp, page = b.get(unsignedRedirect(t, sp.IdentityProviderSSOURL, "SAMLRequest", doc))
	if resp.StatusCode != 400 || strings.Contains(page, "SAMLResponse") {
		t.Fatalf("artifact binding at an unregistered ACS: %d %.300s", resp.StatusCode, page)
	}
}

// TestCrossSiteLaunchNeedsAClick: an IdP-initiated launch that another
// site starts (Sec-Fetch-Site: cross-site) gets a Gatehouse page whose
// link continues, and no SAMLResponse; the link from that page (same
// origin), a bookmark (none) and a client without Fetch Metadata launch
// at once; a cross-site form POST to the launch link is refused.
func TestCrossSiteLaunchNeedsAClick(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "cs@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	b := newBrowser(t, ts.srv.URL)
	b.signIn("cs@example.com", "Secret-Passw0rd", "/")
	launch := func(method, site, target string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, b.abs(target), nil)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		return b.do(req)
	}
	withRelay := link + "?RelayState=" + url.QueryEscape("https://sp.example.test/deep")
	resp, page := launch("GET", "cross-site", withRelay)
	if resp.StatusCode != 200 || samlRespRe.MatchString(page) {
		t.Fatalf("cross-site launch: %d, SAMLResponse present: %v", resp.StatusCode, samlRespRe.MatchString(page))
	}
	m := regexp.MustCompile(`<a href="([^"]+)">Continue to Wiki</a>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no continue link: %.800s", page)
	}
	next := html.UnescapeString(m[1])
	if lu, _ := url.Parse(withRelay); next != lu.RequestURI() {
		t.Fatalf("continue link %q, want %q", next, lu.RequestURI())
	}
	resp, page = launch("GET", "same-origin", next)
	if resp.StatusCode != 200 || !samlRespRe.MatchString(page) {
		t.Fatalf("launch from the confirmation page: %d", resp.StatusCode)
	}
	if _, _, relay := samlPost(t, page); relay != "https://sp.example.test/deep" {
		t.Fatalf("relay state %q", relay)
	}
	for _, site := range []string{"none", ""} {
		if resp, page := launch("GET", site, link); resp.StatusCode != 200 || !samlRespRe.MatchString(page) {
			t.Fatalf("launch with Sec-Fetch-Site %q: %d", site, resp.StatusCode)
		}
	}
	if resp, page := launch("POST", "cross-site", link); resp.StatusCode < 400 || samlRespRe.MatchString(page) {
		t.Fatalf("cross-site POST to the launch link: %d, SAMLResponse present: %v", resp.StatusCode, samlRespRe.MatchString(page))
	}
}

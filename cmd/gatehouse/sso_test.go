package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
)

const spACS = "https://sp.example.test/saml/acs"

// newSAMLApp creates and activates a custom SAML app through the API and
// returns its id and JSON.
func (ts *testServer) newSAMLApp(t testing.TB, label string, extraSignOn string) (string, map[string]any) {
	t.Helper()
	body := fmt.Sprintf(`{"label":%q,"signOnMode":"SAML_2_0","settings":{"signOn":{
		"ssoAcsUrl":%q,"recipient":%q,"destination":%q,"audience":"https://sp.example.test/metadata",
		"subjectNameIdTemplate":"${user.userName}","subjectNameIdFormat":"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"responseSigned":true,"assertionSigned":true,"signatureAlgorithm":"RSA_SHA256","digestAlgorithm":"SHA256",
		"honorForceAuthn":true,"authnContextClassRef":"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
		"defaultRelayState":"https://sp.example.test/home",
		"attributeStatements":[{"type":"EXPRESSION","name":"email","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","values":["user.email"]},
		  {"type":"EXPRESSION","name":"displayName","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","values":["user.firstName + \" \" + user.lastName"]},
		  {"type":"GROUP","name":"groups","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","filterType":"STARTS_WITH","filterValue":"sp-"}]
		%s}}}`, label, spACS, spACS, spACS, extraSignOn)
	r := ts.call(t, "POST", "/api/v1/apps?activate=true", ts.token, body)
	if r.status != 200 {
		t.Fatalf("create app: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string), r.body
}

func (ts *testServer) assign(t testing.TB, appID, userID string) {
	t.Helper()
	r := ts.call(t, "POST", "/api/v1/apps/"+appID+"/users", ts.token, fmt.Sprintf(`{"id":%q,"scope":"USER"}`, userID))
	if r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
}

// gosamlSP builds an independent SP (gosaml2) trusting the certificates in
// the app's published metadata.
func (ts *testServer) gosamlSP(t testing.TB, appID string) *saml2.SAMLServiceProvider {
	t.Helper()
	r := ts.call(t, "GET", "/api/v1/apps/"+appID+"/sso/saml/metadata", ts.token, "")
	if r.status != 200 {
		t.Fatalf("metadata: %d %s", r.status, r.raw)
	}
	var md types.EntityDescriptor
	if err := xml.Unmarshal([]byte(r.raw), &md); err != nil {
		t.Fatalf("metadata does not parse: %v", err)
	}
	store := &dsig.MemoryX509CertificateStore{}
	for _, kd := range md.IDPSSODescriptor.KeyDescriptors {
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.Data))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			store.Roots = append(store.Roots, cert)
		}
	}
	sso := ""
	for _, s := range md.IDPSSODescriptor.SingleSignOnServices {
		if s.Binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" {
			sso = s.Location
		}
	}
	return &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      sso,
		IdentityProviderIssuer:      md.EntityID,
		ServiceProviderIssuer:       "https://sp.example.test/metadata",
		AssertionConsumerServiceURL: spACS,
		AudienceURI:                 "https://sp.example.test/metadata",
		IDPCertificateStore:         store,
		SignAuthnRequests:           false,
	}
}

var (
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	samlRespRe   = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
	relayRe      = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
)

// samlPost extracts the auto-submitted SAML form of a page.
func samlPost(t testing.TB, page string) (action, response, relay string) {
	t.Helper()
	a, r := formActionRe.FindStringSubmatch(page), samlRespRe.FindStringSubmatch(page)
	if a == nil || r == nil {
		t.Fatalf("no SAML POST form in page: %.600s", page)
	}
	if m := relayRe.FindStringSubmatch(page); m != nil {
		relay = html.UnescapeString(m[1])
	}
	return html.UnescapeString(a[1]), html.UnescapeString(r[1]), relay
}

func (b *browser) follow(resp *http.Response, body string) (*http.Response, string) {
	for i := 0; i < 10 && resp.StatusCode >= 300 && resp.StatusCode < 400; i++ {
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		resp, body = b.get(loc.String())
	}
	return resp, body
}

func TestSAMLSPInitiatedRedirect(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"sp-editors"}}`)
	ts.call(t, "PUT", "/api/v1/groups/"+g.body["id"].(string)+"/users/"+u.ID, ts.token, "")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	sp := ts.gosamlSP(t, appID)

	authURL, err := sp.BuildAuthURL("state-123")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ts.srv.URL)
	resp, body := b.follow(b.get(authURL))
	if !strings.Contains(body, "Sign In") {
		t.Fatalf("expected the sign-in page, got %d", resp.StatusCode)
	}
	resp, body = b.follow(b.signIn("ana@example.com", "Secret-Passw0rd", resp.Request.URL.Query().Get("next")))
	action, samlResponse, relay := samlPost(t, body)
	if action != spACS || relay != "state-123" {
		t.Fatalf("form posts to %s with relay %q", action, relay)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action https://sp.example.test") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP: %s", csp)
	}
	info, err := sp.RetrieveAssertionInfo(samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 rejected the response: %v", err)
	}
	if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
		t.Fatalf("gosaml2 warnings: %+v", info.WarningInfo)
	}
	if info.NameID != "ana@example.com" || info.Values.Get("email") != "ana@example.com" || info.Values.Get("displayName") != "Pat Doe" || info.Values.Get("groups") != "sp-editors" {
		t.Fatalf("assertion content: nameid %q values %+v", info.NameID, info.Values)
	}
	// The sign-on is in the system log.
	if r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.authentication.sso"`), ts.token, ""); !strings.Contains(r.raw, appID) {
		t.Fatalf("sso not logged: %s", r.raw)
	}
}

func TestSAMLIdPInitiatedAndDashboard(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "bo@example.com", "Secret-Passw0rd")
	other := ts.createUser(t, "cy@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	sp := ts.gosamlSP(t, appID)
	links := app["_links"].(map[string]any)["appLinks"].([]any)
	link := links[0].(map[string]any)["href"].(string)

	b := newBrowser(t, ts.srv.URL)
	b.signIn("bo@example.com", "Secret-Passw0rd", "/")
	_, home := b.get("/app/UserHome")
	path := strings.TrimPrefix(link, ts.srv.URL)
	if !strings.Contains(home, `href="`+path+`"`) || !strings.Contains(home, `target="_blank"`) {
		t.Fatalf("dashboard has no tile for the app: %s", home)
	}
	_, body := b.get(link)
	_, samlResponse, relay := samlPost(t, body)
	if relay != "https://sp.example.test/home" {
		t.Fatalf("default relay state: %q", relay)
	}
	sp.AllowMissingAttributes = true
	info, err := sp.RetrieveAssertionInfo(samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 rejected the IdP-initiated response: %v", err)
	}
	if info.NameID != "bo@example.com" {
		t.Fatalf("nameid %q", info.NameID)
	}
	// RelayState override on the link, limited to the app's own host.
	_, body = b.get(link + "?RelayState=" + url.QueryEscape("https://sp.example.test/page/7"))
	if _, _, relay := samlPost(t, body); relay != "https://sp.example.test/page/7" {
		t.Fatalf("relay override: %q", relay)
	}
	resp, body := b.get(link + "?RelayState=" + url.QueryEscape("https://evil.example/phish"))
	if resp.StatusCode != 400 || samlRespRe.MatchString(body) {
		t.Fatalf("foreign relay state accepted: %d", resp.StatusCode)
	}

	// A person who is not assigned gets a page, not an assertion.
	b2 := newBrowser(t, ts.srv.URL)
	b2.signIn("cy@example.com", "Secret-Passw0rd", "/")
	resp, body = b2.get(link)
	if resp.StatusCode != 403 || samlRespRe.MatchString(body) || !strings.Contains(body, "not assigned") {
		t.Fatalf("unassigned user: %d %.300s", resp.StatusCode, body)
	}
	_ = other
	if r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "app.generic.unauth_app_access_attempt"`), ts.token, ""); !strings.Contains(r.raw, "cy@example.com") {
		t.Fatalf("unassigned attempt not logged: %s", r.raw)
	}
}

func TestSAMLRefusals(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "di@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	sp := ts.gosamlSP(t, appID)
	b := newBrowser(t, ts.srv.URL)
	b.signIn("di@example.com", "Secret-Passw0rd", "/")

	evil := ts.gosamlSP(t, appID)
	evil.AssertionConsumerServiceURL = "https://evil.example/acs"
	bad, _ := evil.BuildAuthURL("")
	resp, body := b.follow(b.get(bad))
	if resp.StatusCode != 400 || samlRespRe.MatchString(body) || strings.Contains(body, "evil.example") {
		t.Fatalf("unregistered ACS: %d %.300s", resp.StatusCode, body)
	}
	js := ts.gosamlSP(t, appID)
	js.AssertionConsumerServiceURL = "javascript:alert(1)"
	bad, _ = js.BuildAuthURL("")
	if resp, body := b.follow(b.get(bad)); resp.StatusCode != 400 || samlRespRe.MatchString(body) {
		t.Fatalf("javascript ACS: %d", resp.StatusCode)
	}
	stranger := ts.gosamlSP(t, appID)
	stranger.ServiceProviderIssuer = "https://stranger.example/metadata"
	bad, _ = stranger.BuildAuthURL("")
	if resp, body := b.follow(b.get(bad)); resp.StatusCode != 400 || samlRespRe.MatchString(body) {
		t.Fatalf("unknown issuer: %d", resp.StatusCode)
	}
	// A suspended user's session stops working.
	if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/suspend", ts.token, ""); r.status != 200 {
		t.Fatalf("suspend: %d", r.status)
	}
	good, _ := sp.BuildAuthURL("")
	resp, body = b.follow(b.get(good))
	if samlRespRe.MatchString(body) || !strings.Contains(body, "Sign In") {
		t.Fatalf("suspended user got a response: %d", resp.StatusCode)
	}
}

func mustCompile(re string) *regexp.Regexp { return regexp.MustCompile(re) }

// TestSSOEventRecordedBeforeAssertion: every response's
// user.authentication.sso event is committed before the response leaves,
// and when the log cannot record it the person gets an error page and no
// SAMLResponse (fail closed).
func TestSSOEventRecordedBeforeAssertion(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "lo@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Logged", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	b := newBrowser(t, ts.srv.URL)
	b.signIn("lo@example.com", "Secret-Passw0rd", "/")
	for i := 0; i < 5; i++ {
		if resp, body := b.get(link); resp.StatusCode != 200 || !samlRespRe.MatchString(body) {
			t.Fatalf("launch %d: %d", i, resp.StatusCode)
		}
	}
	// No wait: the events are there as soon as the responses arrived.
	r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.authentication.sso" and target.id eq "`+u.ID+`"`), ts.token, "")
	var evs []map[string]any
	if err := json.Unmarshal([]byte(r.raw), &evs); err != nil || len(evs) != 5 {
		t.Fatalf("%d sso events for 5 responses (%v): %.300s", len(evs), err, r.raw)
	}
	ts.db.EventLog().Close()
	resp, body := b.get(link)
	if resp.StatusCode != 500 || samlRespRe.MatchString(body) {
		t.Fatalf("with the log closed the launch answered %d, SAMLResponse present: %v", resp.StatusCode, samlRespRe.MatchString(body))
	}
}

package main

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
)

// connectMFARule gives the story's Amazon Connect app a sign-on policy
// through the Policy API: a second factor, asked again after two hours, for
// everyone but the people of deniedGroup, who are refused.
func (e *storyEnv) connectMFARule(t *testing.T, deniedGroup string) string {
	t.Helper()
	p := e.api(t, "POST", "/api/v1/policies", `{"type":"ACCESS_POLICY","name":"Amazon Connect sign-on","description":"Agents use a second factor"}`)
	if p.status != 200 || p.body["type"] != "ACCESS_POLICY" {
		t.Fatalf("create policy: %d %s", p.status, p.raw)
	}
	pid := p.body["id"].(string)
	if r := e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID+"/policies/"+pid, ""); r.status != 204 {
		t.Fatalf("assign policy: %d %s", r.status, r.raw)
	}
	if deniedGroup != "" {
		r := e.api(t, "POST", "/api/v1/policies/"+pid+"/rules", `{"name":"No contractors","priority":1,
			"conditions":{"people":{"groups":{"include":["`+deniedGroup+`"]}}},
			"actions":{"appSignOn":{"access":"DENY","verificationMethod":{"type":"ASSURANCE","factorMode":"1FA"}}}}`)
		if r.status != 200 {
			t.Fatalf("deny rule: %d %s", r.status, r.raw)
		}
	}
	r := e.api(t, "POST", "/api/v1/policies/"+pid+"/rules", `{"name":"Agents with MFA","type":"ACCESS_POLICY",
		"conditions":{"people":{"groups":{"include":[],"exclude":[]}}},
		"actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"type":"ASSURANCE","factorMode":"2FA","reauthenticateIn":"PT2H","constraints":[]}}}}`)
	if r.status != 200 || !strings.Contains(r.raw, `"factorMode":"2FA"`) || !strings.Contains(r.raw, `"reauthenticateIn":"PT2H"`) {
		t.Fatalf("MFA rule: %d %s", r.status, r.raw)
	}
	return pid
}

// launchConnect clicks the Amazon Connect tile and returns the answer.
func (e *storyEnv) launchConnect(t *testing.T, b *browser) (string, string) {
	t.Helper()
	_, home := b.get("/app/UserHome")
	link := regexpFind(t, `href="(/home/amazon_connect/[^"]+)"`, home)
	resp, page := b.get(link)
	return resp.Header.Get("Location"), page
}

// reachAgentPage posts the SAML response page to the sandbox's AWS
// sign-in and checks the agent lands on Connect.
func (e *storyEnv) reachAgentPage(t *testing.T, b *browser, page, login string) {
	t.Helper()
	action, samlResponse, relay := samlPost(t, page)
	if action != e.sbSrv.URL+"/saml" {
		t.Fatalf("posts to %s", action)
	}
	resp, body := b.follow(b.post(action, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relay}}))
	if resp.StatusCode != 200 || !strings.Contains(body, login) || strings.Contains(body, "Access Denied") {
		t.Fatalf("agent page not reached: %d %.800s", resp.StatusCode, body)
	}
}

// TestAmazonConnectStoryWithMFA: the story's Amazon Connect app gets a
// sign-on rule that requires a second factor. Clicking the tile asks for
// it, then the same IdP-initiated flow sends the assertion and the agent
// lands on Connect; a second click within two hours goes straight through.
// An agent without a factor sets one up on the way; a denied group sees a
// refusal and gets no assertion.
func TestAmazonConnectStoryWithMFA(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	ctx := context.Background()
	contractors, err := e.ts.directory.CreateGroup(ctx, "Contractors", "")
	if err != nil {
		t.Fatal(err)
	}
	e.connectMFARule(t, contractors.ID)
	const login = "agent.smith@example.com"

	b := newBrowser(t, e.ts.srv.URL)
	b.signIn(login, "Connect-Passw0rd!", "/app/UserHome")
	secret, _ := setUpAuthenticator(t, b)
	// This session has no second factor yet (it was signed in without
	// one): the tile asks for it.
	loc, _ := e.launchConnect(t, b)
	if loc != "/login/verify" {
		t.Fatalf("tile without a factor in the session went to %q", loc)
	}
	_, page := b.get("/login/verify")
	if !strings.Contains(page, "Confirm it is you with a second factor to continue.") {
		t.Fatalf("step-up page: %.1500s", page)
	}
	resp, _ := b.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {totpNow(t, secret, 1)}})
	cont := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(cont, "/sso/continue/") {
		t.Fatalf("after the code: %d %s", resp.StatusCode, cont)
	}
	resp, page = b.get(cont)
	if resp.StatusCode != 200 {
		t.Fatalf("continue: %d %.500s", resp.StatusCode, page)
	}
	e.reachAgentPage(t, b, page, login)
	// Within the two hours the tile goes straight to the assertion.
	if loc, page := e.launchConnect(t, b); loc != "" || !strings.Contains(page, "SAMLResponse") {
		t.Fatalf("second click: %q", loc)
	}
	for _, want := range []string{`"result":"CHALLENGE"`, `"eventType":"policy.evaluate_sign_on"`} {
		if logs := e.api(t, "GET", "/api/v1/logs?limit=200&filter="+url.QueryEscape(`eventType eq "policy.evaluate_sign_on"`), ""); !strings.Contains(logs.raw, want) {
			t.Fatalf("logs lack %s: %.1000s", want, logs.raw)
		}
	}
	if logs := e.api(t, "GET", "/api/v1/logs?limit=200&filter="+url.QueryEscape(`eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS"`), ""); !strings.Contains(logs.raw, `"ruleId":"0pr`) {
		t.Fatalf("the SSO event does not name the rule: %.1000s", logs.raw)
	}

	// An agent without any factor is led to set one up, then lands on Connect.
	bea := e.newAgent(t, "bea.jones@example.com", "Bea", "Jones")
	e.assignAgent(t, bea, "bea.jones@example.com")
	e.waitProvisioned(t, 30e9)
	b2 := newBrowser(t, e.ts.srv.URL)
	b2.signIn("bea.jones@example.com", agentPassword, "/app/UserHome")
	if loc, _ := e.launchConnect(t, b2); loc != "/login/verify" {
		t.Fatalf("tile for an agent without a factor: %q", loc)
	}
	resp, _ = b2.get("/login/verify")
	if resp.Header.Get("Location") != "/login/enroll" {
		t.Fatalf("verify without a factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b2.get("/login/enroll")
	resp, _ = b2.post("/login/enroll/totp", url.Values{"csrf": {formCSRF(t, page)}})
	setup := resp.Header.Get("Location")
	_, page = b2.get(setup)
	key := strings.ReplaceAll(totpKeyRe.FindStringSubmatch(page)[1], " ", "")
	resp, _ = b2.post(setup, url.Values{"csrf": {formCSRF(t, page)}, "code": {totpNow(t, key, 0)}})
	if resp.Header.Get("Location") != "/login/enroll/codes" {
		t.Fatalf("activation at step-up: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b2.get("/login/enroll/codes")
	if len(codeListRe.FindAllString(page, -1)) != 10 {
		t.Fatalf("recovery codes not shown: %.1000s", page)
	}
	resp, _ = b2.post("/login/enroll/continue", url.Values{"csrf": {formCSRF(t, page)}})
	if cont := resp.Header.Get("Location"); !strings.HasPrefix(cont, "/sso/continue/") {
		t.Fatalf("after enrolment: %s", cont)
	}
	_, page = b2.get(resp.Header.Get("Location"))
	e.reachAgentPage(t, b2, page, "bea.jones@example.com")

	// A contractor is refused: a page, no assertion.
	cid := e.newAgent(t, "carl.temp@example.com", "Carl", "Temp")
	e.assignAgent(t, cid, "carl.temp@example.com")
	if err := e.ts.directory.AddMember(ctx, contractors.ID, cid); err != nil {
		t.Fatal(err)
	}
	b3 := newBrowser(t, e.ts.srv.URL)
	b3.signIn("carl.temp@example.com", agentPassword, "/app/UserHome")
	_, home := b3.get("/app/UserHome")
	resp, page = b3.get(regexpFind(t, `href="(/home/amazon_connect/[^"]+)"`, home))
	if resp.StatusCode != 403 || strings.Contains(page, "SAMLResponse") || !strings.Contains(page, "sign-on rules do not allow you to use Amazon Connect") {
		t.Fatalf("contractor: %d %.800s", resp.StatusCode, page)
	}
	if logs := e.api(t, "GET", "/api/v1/logs?limit=200&filter="+url.QueryEscape(`eventType eq "policy.evaluate_sign_on" and outcome.result eq "DENY"`), ""); !strings.Contains(logs.raw, "carl.temp@example.com") {
		t.Fatalf("no DENY event for the contractor: %.800s", logs.raw)
	}
}

// TestSAMLSPInitiatedStepUp: an SP-initiated request to an app whose rule
// wants a second factor: the person signs in with a password, sets up an
// authenticator app on the way (they had none), and the SP receives the
// answer to its original request. A passive request from a session without
// a factor gets NoPassive instead of a prompt.
func TestSAMLSPInitiatedStepUp(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	p := ts.call(t, "POST", "/api/v1/policies", ts.token, `{"type":"ACCESS_POLICY","name":"Wiki"}`)
	pid := p.body["id"].(string)
	ts.call(t, "PUT", "/api/v1/apps/"+appID+"/policies/"+pid, ts.token, "")
	if r := ts.call(t, "POST", "/api/v1/policies/"+pid+"/rules", ts.token,
		`{"name":"MFA","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"type":"ASSURANCE","factorMode":"2FA"}}}}`); r.status != 200 {
		t.Fatalf("rule: %d %s", r.status, r.raw)
	}
	sp := ts.gosamlSP(t, appID)

	b := newBrowser(t, ts.srv.URL)
	authURL, err := sp.BuildAuthURL("state-9")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := b.follow(b.get(authURL))
	next := resp.Request.URL.Query().Get("next")
	resp, _ = b.signIn("ana@example.com", "Secret-Passw0rd", next)
	if resp.Header.Get("Location") != next {
		t.Fatalf("password sign-in went to %s, want %s", resp.Header.Get("Location"), next)
	}
	resp, _ = b.get(next)
	if resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("continue without a factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.get("/login/verify")
	if resp.Header.Get("Location") != "/login/enroll" {
		t.Fatalf("verify without any factor: %s", resp.Header.Get("Location"))
	}
	_, page := b.get("/login/enroll")
	checkLabels(t, "/login/enroll", page)
	resp, _ = b.post("/login/enroll/totp", url.Values{"csrf": {formCSRF(t, page)}})
	setup := resp.Header.Get("Location")
	_, page = b.get(setup)
	key := strings.ReplaceAll(totpKeyRe.FindStringSubmatch(page)[1], " ", "")
	b.post(setup, url.Values{"csrf": {formCSRF(t, page)}, "code": {totpNow(t, key, 0)}})
	_, page = b.get("/login/enroll/codes")
	resp, _ = b.post("/login/enroll/continue", url.Values{"csrf": {formCSRF(t, page)}})
	cont := resp.Header.Get("Location")
	if !strings.HasPrefix(cont, "/sso/continue/") {
		t.Fatalf("after set-up: %s", cont)
	}
	_, page = b.get(cont)
	action, samlResponse, relay := samlPost(t, page)
	if action != spACS || relay != "state-9" {
		t.Fatalf("posts to %s relay %q", action, relay)
	}
	info, err := sp.RetrieveAssertionInfo(samlResponse)
	if err != nil || info.NameID != "ana@example.com" {
		t.Fatalf("gosaml2: %v %+v", err, info)
	}
	raw, _ := base64.StdEncoding.DecodeString(samlResponse)
	if !strings.Contains(string(raw), `InResponseTo="`) {
		t.Fatal("the response does not answer the original request")
	}

	// A passive request from a session whose factor is not recorded: the
	// rule would prompt, so the SP gets NoPassive.
	b2 := newBrowser(t, ts.srv.URL)
	other := ts.createUser(t, "bo@example.com", "Secret-Passw0rd")
	ts.assign(t, appID, other.ID)
	b2.signIn("bo@example.com", "Secret-Passw0rd", "/app/UserHome")
	sp.IsPassive = true
	passiveURL, _ := sp.BuildAuthURL("")
	_, page = b2.follow(b2.get(passiveURL))
	_, samlResponse, _ = samlPost(t, page)
	raw, _ = base64.StdEncoding.DecodeString(samlResponse)
	if !strings.Contains(string(raw), "urn:oasis:names:tc:SAML:2.0:status:NoPassive") || strings.Contains(string(raw), "<saml:Assertion") {
		t.Fatalf("passive request: %s", raw)
	}
}

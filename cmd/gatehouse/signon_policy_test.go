package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSessionPolicy: a rule of the global session policy requires a second
// factor from a group (enrolled at sign-in), offers "do not ask again on
// this device" for 7 days, and shortens the session; another rule refuses
// a group; everyone else signs in as before.
func TestSessionPolicy(t *testing.T) {
	ts := newTestServer(t, false)
	agent := ts.createUser(t, "agent@example.com", "Secret-Passw0rd")
	barred := ts.createUser(t, "barred@example.com", "Secret-Passw0rd")
	ts.createUser(t, "free@example.com", "Secret-Passw0rd")
	agents := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Agents"}}`).body["id"].(string)
	blocked := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Blocked"}}`).body["id"].(string)
	ts.call(t, "PUT", "/api/v1/groups/"+agents+"/users/"+agent.ID, ts.token, "")
	ts.call(t, "PUT", "/api/v1/groups/"+blocked+"/users/"+barred.ID, ts.token, "")
	var pols []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", ts.token, "").raw, &pols)
	rules := "/api/v1/policies/" + pols[0]["id"].(string) + "/rules"
	if r := ts.call(t, "POST", rules, ts.token, `{"name":"Agents","type":"SIGN_ON","conditions":{"people":{"groups":{"include":["`+agents+`"]}},"network":{"connection":"ANYWHERE"}},
		"actions":{"signon":{"access":"ALLOW","requireFactor":true,"factorPromptMode":"DEVICE","factorLifetime":10080,"session":{"usePersistentCookie":false,"maxSessionIdleMinutes":15,"maxSessionLifetimeMinutes":480}}}}`); r.status != 200 {
		t.Fatalf("agents rule: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", rules, ts.token, `{"name":"Blocked","conditions":{"people":{"groups":{"include":["`+blocked+`"]}}},"actions":{"signon":{"access":"DENY"}}}`); r.status != 200 {
		t.Fatalf("deny rule: %d %s", r.status, r.raw)
	}

	// Everyone else: as before.
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("free@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("free: %s", resp.Header.Get("Location"))
	}
	// Refused.
	if resp, page := newBrowser(t, ts.srv.URL).signIn("barred@example.com", "Secret-Passw0rd", "/"); resp.StatusCode != 403 || !strings.Contains(page, "sign-on policy does not allow you to sign in") {
		t.Fatalf("barred: %d", resp.StatusCode)
	}
	// The agent has no factor: enrol on sign-in, with "remember" offered.
	b := newBrowser(t, ts.srv.URL)
	if resp, _ := b.signIn("agent@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("agent: %s", resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/login/verify"); resp.Header.Get("Location") != "/login/enroll" {
		t.Fatalf("agent without factor: %s", resp.Header.Get("Location"))
	}
	_, page := b.get("/login/enroll")
	resp, _ := b.post("/login/enroll/totp", url.Values{"csrf": {formCSRF(t, page)}})
	setup := resp.Header.Get("Location")
	_, page = b.get(setup)
	secret := strings.ReplaceAll(totpKeyRe.FindStringSubmatch(page)[1], " ", "")
	b.post(setup, url.Values{"csrf": {formCSRF(t, page)}, "code": {totpNow(t, secret, 0)}})
	_, page = b.get("/login/enroll/codes")
	resp, _ = b.post("/login/enroll/continue", url.Values{"csrf": {formCSRF(t, page)}})
	if resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("after enrolment: %s", resp.Header.Get("Location"))
	}
	// The session follows the rule: 15 minutes idle.
	var sessions []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/users/"+agent.ID+"/sessions", ts.token, "").raw, &sessions)
	created, _ := time.Parse(time.RFC3339, sessions[0]["createdAt"].(string))
	expires, _ := time.Parse(time.RFC3339, sessions[0]["expiresAt"].(string))
	if d := expires.Sub(created); d != 15*time.Minute || sessions[0]["mfaActive"] != true || sessions[0]["lastFactorVerification"] == nil {
		t.Fatalf("session: idle %s %v", d, sessions[0])
	}

	// Next sign-in: the code, with "do not ask again on this device".
	b2 := newBrowser(t, ts.srv.URL)
	b2.signIn("agent@example.com", "Secret-Passw0rd", "/app/UserHome")
	_, page = b2.get("/login/verify")
	if !strings.Contains(page, "Do not ask again on this device for 7 days") {
		t.Fatalf("no remember option: %.1500s", page)
	}
	checkLabels(t, "/login/verify", page)
	resp, _ = b2.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {totpNow(t, secret, 1)}, "remember": {"1"}})
	if resp.Header.Get("Location") != "/app/UserHome" || b2.cookie("gh_device") == "" {
		t.Fatalf("remember: %s device=%q", resp.Header.Get("Location"), b2.cookie("gh_device"))
	}
	device := b2.cookie("gh_device")
	// Signing in again in that browser skips the code; the session then
	// records no second factor.
	b2.post("/logout", url.Values{"csrf": {formCSRF(t, b2.page("/app/UserHome", 200))}})
	if resp, _ := b2.signIn("agent@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("remembered device: %s", resp.Header.Get("Location"))
	}
	// Another browser, or the device cookie of another person, does not.
	b3 := newBrowser(t, ts.srv.URL)
	if resp, _ := b3.signIn("agent@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("another browser: %s", resp.Header.Get("Location"))
	}
	other := ts.createUser(t, "agent2@example.com", "Secret-Passw0rd")
	ts.call(t, "PUT", "/api/v1/groups/"+agents+"/users/"+other.ID, ts.token, "")
	b4 := newBrowser(t, ts.srv.URL)
	u, _ := url.Parse(ts.srv.URL)
	b4.c.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_device", Value: device, Path: "/"}})
	if resp, _ := b4.signIn("agent2@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("someone else's device cookie: %s", resp.Header.Get("Location"))
	}
	// Resetting the person's factors forgets every remembered device: the
	// browser that skipped the code is asked to set up a factor again.
	if r := ts.call(t, "POST", "/api/v1/users/"+agent.ID+"/lifecycle/reset_factors", ts.token, ""); r.status != 200 {
		t.Fatalf("reset_factors: %d %s", r.status, r.raw)
	}
	b2.post("/logout", url.Values{"csrf": {formCSRF(t, b2.page("/app/UserHome", 200))}})
	if resp, _ := b2.signIn("agent@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") == "/app/UserHome" {
		t.Fatalf("a remembered device outlived the factor reset: %s", resp.Header.Get("Location"))
	}
	// policy.evaluate_sign_on records each sign-in's decision.
	logs := ts.call(t, "GET", "/api/v1/logs?limit=500&filter="+url.QueryEscape(`eventType eq "policy.evaluate_sign_on"`), ts.token, "").raw
	for _, want := range []string{`"result":"DENY"`, `"result":"ALLOW"`, `"result":"CHALLENGE"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("no %s decision logged", want)
		}
	}
}

package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Review: the Authentication API under concurrent and malformed input.

// Many requests on one stateToken at once: challenges (which store the
// transaction again) beside the verify that ends it. Exactly one
// sessionToken, no 500, and the stateToken is dead afterwards: a
// challenge that read the transaction before it ended must not store it
// again.
func TestReviewAuthnConcurrentVerify(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.LockoutAfter = 50; c.SignInIPLimit = 1000 })
	u := ts.createUser(t, "kai@example.com", "Secret-Passw0rd")
	factorID, secret := ts.enrollTOTP(t, u)
	path := "/api/v1/authn/factors/" + factorID + "/verify"
	// The factor was activated with the previous step's code: the
	// current and the next one are left.
	for round := 0; round < 2; round++ {
		r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("kai@example.com", "Secret-Passw0rd"))
		st := str(r.body, "stateToken")
		if r.body["status"] != "MFA_REQUIRED" {
			t.Fatalf("primary: %d %s", r.status, r.raw)
		}
		code := totpNow(t, secret, round)
		var mu sync.Mutex
		var wg sync.WaitGroup
		successes := 0
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := `{"stateToken":"` + st + `"}`
				if i%4 == 0 {
					body = `{"stateToken":"` + st + `","passCode":"` + code + `"}`
				}
				r := ts.call(t, "POST", path, "", body)
				if r.status >= 500 {
					t.Errorf("concurrent verify: %d %s", r.status, r.raw)
				}
				mu.Lock()
				defer mu.Unlock()
				if r.body["status"] == "SUCCESS" {
					successes++
				}
			}(i)
		}
		wg.Wait()
		if successes != 1 {
			t.Fatalf("round %d: %d sessionTokens from one transaction", round, successes)
		}
		if r := ts.call(t, "POST", "/api/v1/authn/introspect", "", `{"stateToken":"`+st+`"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
			t.Fatalf("round %d: the finished transaction still answers: %d %s", round, r.status, r.raw)
		}
	}
}

// A cancelled transaction stays cancelled when a challenge on it was in
// flight.
func TestReviewAuthnCancelRace(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.SignInIPLimit = 1000 })
	u := ts.createUser(t, "lee@example.com", "Secret-Passw0rd")
	factorID, _ := ts.enrollTOTP(t, u)
	path := "/api/v1/authn/factors/" + factorID + "/verify"
	for round := 0; round < 3; round++ {
		r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("lee@example.com", "Secret-Passw0rd"))
		st := str(r.body, "stateToken")
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p, body := path, `{"stateToken":"`+st+`"}`
				if i == 3 {
					p = "/api/v1/authn/cancel"
				}
				if r := ts.call(t, "POST", p, "", body); r.status >= 500 {
					t.Errorf("%s: %d %s", p, r.status, r.raw)
				}
			}(i)
		}
		wg.Wait()
		if r := ts.call(t, "POST", "/api/v1/authn/introspect", "", `{"stateToken":"`+st+`"}`); r.status != 401 {
			t.Fatalf("round %d: the cancelled transaction still answers: %d %s", round, r.status, r.raw)
		}
	}
}

// Malformed bodies get Okta's error JSON (4xx with an errorCode), never a
// 500 and never a transaction.
func TestReviewAuthnMalformed(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testReviewAuthnMalformed(t, pg) })
}

func testReviewAuthnMalformed(t *testing.T, pg bool) {
	ts := newTestServer(t, pg)
	ts.createUser(t, "mo@example.com", "Secret-Passw0rd")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/authn", ``},
		{"/api/v1/authn", `null`},
		{"/api/v1/authn", `[]`},
		{"/api/v1/authn", `"x"`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd"`},
		{"/api/v1/authn", `{"username":1,"password":"Secret-Passw0rd"}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":null}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd","extra":1}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd","options":[]}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd","options":{"x":true}}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd","relayState":{}}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd"} {"x":1}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"Secret-Passw0rd","username":"x"}`},
		{"/api/v1/authn", `{"stateToken":123}`},
		{"/api/v1/authn", `{"username":"` + strings.Repeat("a", 20000) + `","password":"x"}`},
		{"/api/v1/authn", `{"username":"` + strings.Repeat("a", 15000) + `","password":"x"}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"` + strings.Repeat("p", 15000) + `"}`},
		{"/api/v1/authn", `{"username":"mo@example.com\u0000","password":"Secret-Passw0rd"}`},
		{"/api/v1/authn", `{"username":"mo@example.com","password":"wrong","relayState":"a\u0000b\ud800"}`},
		{"/api/v1/authn/introspect", `{"stateToken":"` + strings.Repeat("a", 5000) + `"}`},
		{"/api/v1/authn/introspect", `{"stateToken":"a\u0000b"}`},
		{"/api/v1/authn/introspect", `{}`},
		{"/api/v1/authn/factors/%00/verify", `{"stateToken":"x"}`},
		{"/api/v1/authn/factors/x/verify", `{"stateToken":"x","passCode":123456}`},
		{"/api/v1/authn/factors", `{"stateToken":"x","factorType":{}}`},
		{"/api/v1/authn/cancel", `{"stateToken":["x"]}`},
		{"/api/v1/authn/credentials/change_password", `{"stateToken":"x","newPassword":1}`},
	} {
		r := ts.call(t, "POST", c.path, "", c.body)
		if r.status < 400 || r.status >= 500 || str(r.body, "errorCode") == "" || str(r.body, "errorSummary") == "" {
			t.Errorf("POST %s %.80q: %d %.200s", c.path, c.body, r.status, r.raw)
		}
	}
}

// One sessionToken, one session: redeemed at sessionCookieRedirect it no
// longer works on a launch link, and the other way round.
func TestReviewSessionTokenOnce(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "nia@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)

	token := ts.authnSuccess(t, "nia@example.com", "Secret-Passw0rd")
	if resp, _ := newCLIClient(t).get(ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode()); resp.StatusCode != 200 {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	if resp, body := newCLIClient(t).get(link + "?sessionToken=" + url.QueryEscape(token)); resp.StatusCode != 401 || samlRespRe.MatchString(body) {
		t.Fatalf("replayed on the launch link: %d", resp.StatusCode)
	}
	token = ts.authnSuccess(t, "nia@example.com", "Secret-Passw0rd")
	if resp, body := newCLIClient(t).get(link + "?onetimetoken=" + url.QueryEscape(token)); resp.StatusCode != 200 || !samlRespRe.MatchString(body) {
		t.Fatalf("launch: %d", resp.StatusCode)
	}
	if resp, _ := newCLIClient(t).get(ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode()); resp.StatusCode != 401 {
		t.Fatalf("replayed at sessionCookieRedirect: %d", resp.StatusCode)
	}
}

// A sessionToken is redeemed without a click only from Gatehouse's own
// pages or from no page at all (a CLI, a typed address): a page on a
// sibling host of the same site (Sec-Fetch-Site: same-site) cannot sign
// the browser in to an account of its choosing either.
func TestReviewSessionTokenSameSite(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "oli@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	for _, site := range []string{"same-site", "cross-site"} {
		token := ts.authnSuccess(t, "oli@example.com", "Secret-Passw0rd")
		for _, target := range []string{
			ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode(),
			link + "?sessionToken=" + url.QueryEscape(token),
		} {
			cli := newCLIClient(t)
			resp, body := cli.get(target, "Sec-Fetch-Site", site)
			if resp.StatusCode != 200 || !strings.Contains(body, "oli@example.com") || samlRespRe.MatchString(body) {
				t.Fatalf("%s %s: %d %.300s", site, target, resp.StatusCode, body)
			}
			if me := cli.api("GET", ts.srv.URL+"/api/v1/sessions/me", ""); me.status != 404 {
				t.Fatalf("%s request started a session: %s", site, me.raw)
			}
		}
		// The click on the page (same-origin) uses it.
		if resp, body := newCLIClient(t).get(link+"?sessionToken="+url.QueryEscape(token), "Sec-Fetch-Site", "same-origin"); resp.StatusCode != 200 || !samlRespRe.MatchString(body) {
			t.Fatalf("same-origin: %d", resp.StatusCode)
		}
	}
}

// Odd relay states: NUL is refused with Okta's validation error; a lone
// surrogate is kept in the stored transaction on both databases.
func TestReviewAuthnRelayStateStored(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		u := ts.createUser(t, "pia@example.com", "Secret-Passw0rd")
		ts.enrollTOTP(t, u)
		if r := ts.call(t, "POST", "/api/v1/authn", "", `{"username":"pia@example.com","password":"Secret-Passw0rd","relayState":"a\u0000b"}`); r.status != 400 || r.body["errorCode"] != "E0000001" {
			t.Fatalf("NUL: %d %s", r.status, r.raw)
		}
		r := ts.call(t, "POST", "/api/v1/authn", "", `{"username":"pia@example.com","password":"Secret-Passw0rd","relayState":"a\ud800c"}`)
		if r.status != 200 || r.body["status"] != "MFA_REQUIRED" {
			t.Fatalf("primary: %d %s", r.status, r.raw)
		}
		st := str(r.body, "stateToken")
		if r := ts.call(t, "POST", "/api/v1/authn/introspect", "", `{"stateToken":"`+st+`"}`); r.status != 200 || !strings.HasPrefix(str(r.body, "relayState"), "a") {
			t.Fatalf("introspect: %d %s", r.status, r.raw)
		}
	})
}

// A launch link of an inactive app refuses before it redeems a
// sessionToken: no session starts, and the token still works elsewhere.
func TestSessionTokenKeptByInactiveApp(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	if r := ts.call(t, "POST", "/api/v1/apps/"+appID+"/lifecycle/deactivate", ts.token, ""); r.status != 200 {
		t.Fatalf("deactivate: %d %s", r.status, r.raw)
	}
	token := ts.authnSuccess(t, "pat@example.com", "Secret-Passw0rd")
	cli := newCLIClient(t)
	if resp, body := cli.get(link + "?sessionToken=" + url.QueryEscape(token)); resp.StatusCode != 403 || samlRespRe.MatchString(body) {
		t.Fatalf("inactive app: %d", resp.StatusCode)
	}
	if me := cli.api("GET", ts.srv.URL+"/api/v1/sessions/me", ""); me.status != 404 {
		t.Fatalf("the refused launch started a session: %s", me.raw)
	}
	if resp, _ := newCLIClient(t).get(ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode()); resp.StatusCode != 200 {
		t.Fatalf("the token was used up by the refused launch: %d", resp.StatusCode)
	}
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/mfa/passkeytest"
)

// jsonCall posts JSON with the CSRF header, as ui/static/webauthn.js does.
func (b *browser) jsonCall(path, csrf string, body []byte) (int, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.abs(path), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, raw := b.do(req)
	var out map[string]any
	json.Unmarshal([]byte(raw), &out)
	return resp.StatusCode, out
}

var dataCSRFRe = regexp.MustCompile(`id="passkey-(?:register|verify)"[^>]*data-csrf="([^"]+)"`)

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPasskeySignIn: a passkey added on the Settings page signs in as the
// second factor; the session's AMR records a hardware key.
func TestPasskeySignIn(t *testing.T) {
	ts := newTestServer(t, false, localhost)
	origin := ts.cfg.BaseURL
	u := ts.createUser(t, "ines@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	b.signIn("ines@example.com", "Secret-Passw0rd", "/")
	_, page := b.get("/enduser/settings")
	m := dataCSRFRe.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "/static/webauthn.js") {
		t.Fatalf("no passkey button on Settings: %.3000s", page)
	}
	csrf := m[1]
	// Without the CSRF header: refused.
	if status, _ := b.jsonCall("/enduser/settings/passkeys/options", "", []byte(`{"name":"Laptop"}`)); status != 403 {
		t.Fatalf("options without CSRF: %d", status)
	}
	if status, out := b.jsonCall("/enduser/settings/passkeys/options", csrf, []byte(`{"name":"`+strings.Repeat("x", 65)+`"}`)); status != 400 || out["error"] == nil {
		t.Fatalf("long name: %d %v", status, out)
	}
	status, out := b.jsonCall("/enduser/settings/passkeys/options", csrf, []byte(`{"name":"Laptop"}`))
	if status != 200 {
		t.Fatalf("options: %d %v", status, out)
	}
	a := passkeytest.New()
	reg, err := a.Create(mustMarshal(t, out["options"]), origin)
	if err != nil {
		t.Fatal(err)
	}
	// Junk instead of the authenticator's answer: refused, nothing added.
	if status, _ := b.jsonCall("/enduser/settings/passkeys?factor="+out["factorId"].(string), csrf, []byte(`{"id":"x"}`)); status != 400 {
		t.Fatalf("junk answer: %d", status)
	}
	status, done := b.jsonCall("/enduser/settings/passkeys?factor="+out["factorId"].(string), csrf, reg.JSON())
	if status != 200 || done["redirect"] != "/enduser/settings?saved=passkey" {
		t.Fatalf("finish: %d %v", status, done)
	}
	_, page = b.get("/enduser/settings?saved=passkey")
	if !strings.Contains(page, "Your passkey was added.") || !strings.Contains(page, "<td>Laptop</td>") {
		t.Fatalf("settings after adding: %.3000s", page)
	}

	// Sign in again: password, then the passkey.
	b2 := newBrowser(t, ts.srv.URL)
	resp, _ := b2.signIn("ines@example.com", "Secret-Passw0rd", "/app/UserHome")
	if resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("password step: %s", resp.Header.Get("Location"))
	}
	_, page = b2.get("/login/verify")
	m = dataCSRFRe.FindStringSubmatch(page)
	if m == nil || strings.Contains(page, `name="code"`) {
		t.Fatalf("verify page: %.2000s", page)
	}
	status, out = b2.jsonCall("/login/verify/passkey/options", m[1], nil)
	if status != 200 {
		t.Fatalf("options: %d %v", status, out)
	}
	as, err := a.Get(mustMarshal(t, out["options"]), "", origin)
	if err != nil {
		t.Fatal(err)
	}
	status, done = b2.jsonCall("/login/verify/passkey", m[1], as.JSON())
	if status != 200 || done["redirect"] != "/app/UserHome" || b2.cookie("gh_sid") == "" {
		t.Fatalf("passkey sign-in: %d %v", status, done)
	}
	if s := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, ""); !strings.Contains(s.raw, `"amr":["pwd","hwk","mfa"]`) {
		t.Fatalf("sessions: %s", s.raw)
	}
	// The same answer again, in another sign-in: refused.
	b3 := newBrowser(t, ts.srv.URL)
	b3.signIn("ines@example.com", "Secret-Passw0rd", "/")
	_, page = b3.get("/login/verify")
	c3 := dataCSRFRe.FindStringSubmatch(page)[1]
	b3.jsonCall("/login/verify/passkey/options", c3, nil)
	if status, _ := b3.jsonCall("/login/verify/passkey", c3, as.JSON()); status == 200 || b3.cookie("gh_sid") != "" {
		t.Fatalf("a replayed assertion signed in: %d", status)
	}
	// Remove the passkey from Settings.
	_, page = b.get("/enduser/settings")
	fid := regexp.MustCompile(`/enduser/settings/factors/(fwf[0-9A-Za-z]{17})/remove`).FindStringSubmatch(page)
	if fid == nil {
		t.Fatal("no remove button")
	}
	// This session never gave a second factor: it must step up first.
	resp, _ = b.post("/enduser/settings/factors/"+fid[1]+"/remove", url.Values{"csrf": {formCSRF(t, page)}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("remove without a recent factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get("/login/verify")
	if !strings.Contains(page, "Confirm it is you with a second factor to continue.") {
		t.Fatalf("step-up page: %.1000s", page)
	}
	cs := dataCSRFRe.FindStringSubmatch(page)[1]
	_, out = b.jsonCall("/login/verify/passkey/options", cs, nil)
	as, _ = a.Get(mustMarshal(t, out["options"]), "", origin)
	oldSID := b.cookie("gh_sid")
	if status, done := b.jsonCall("/login/verify/passkey", cs, as.JSON()); status != 200 || done["redirect"] != "/enduser/settings" || b.cookie("gh_sid") == oldSID {
		t.Fatalf("step-up: %d %v (session rotated: %v)", status, done, b.cookie("gh_sid") != oldSID)
	}
	_, page = b.get("/enduser/settings")
	resp, _ = b.post("/enduser/settings/factors/"+fid[1]+"/remove", url.Values{"csrf": {formCSRF(t, page)}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/enduser/settings?saved=removed" {
		t.Fatalf("remove: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("ines@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("after removing the only factor: %s", resp.Header.Get("Location"))
	}
}

// TestFactorsSDKWebAuthn enrolls, activates and verifies a WebAuthn factor
// through Okta's Factors API with the official SDK.
func TestFactorsSDKWebAuthn(t *testing.T) {
	ts := newTestServer(t, false, localhost)
	ctx := context.Background()
	c := sdkClient(t, ts)
	u := ts.createUser(t, "kai@example.com", "Secret-Passw0rd")
	cat, _, err := c.UserFactorAPI.ListSupportedFactors(ctx, u.ID).Execute()
	if err != nil || len(cat) != 3 || cat[2].GetFactorType() != "webauthn" || cat[2].GetProvider() != "FIDO" {
		t.Fatalf("catalog: %v %+v", err, cat)
	}
	enrolled, _, err := c.UserFactorAPI.EnrollFactor(ctx, u.ID).Body(okta.UserFactorWebAuthnAsListFactors200ResponseInner(&okta.UserFactorWebAuthn{
		FactorType: "webauthn", Provider: okta.PtrString("FIDO")})).Execute()
	if err != nil || enrolled.UserFactorWebAuthn == nil || enrolled.UserFactorWebAuthn.UserFactor.GetStatus() != "PENDING_ACTIVATION" {
		t.Fatalf("enroll: %v %+v", err, enrolled)
	}
	f := enrolled.UserFactorWebAuthn
	act := f.UserFactor.Embedded["activation"]
	if act["challenge"] == nil || act["rp"].(map[string]any)["id"] != "localhost" {
		t.Fatalf("activation: %v", act)
	}
	a := passkeytest.New()
	reg, err := a.Create(mustMarshal(t, act), ts.cfg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	// A wrong clientData (another origin): refused.
	evil, _ := passkeytest.New().Create(mustMarshal(t, act), "http://evil.test")
	_, _, err = c.UserFactorAPI.ActivateFactor(ctx, u.ID, f.UserFactor.GetId()).Body(map[string]any{"attestation": b64(evil.AttestationObject), "clientData": b64(evil.ClientDataJSON)}).Execute()
	if code := oktaErrorCode(err); !strings.Contains(code, "E0000001") {
		t.Fatalf("attestation for another origin: %s", code)
	}
	// The registration was used by the refused attempt: enroll again.
	enrolled, _, err = c.UserFactorAPI.EnrollFactor(ctx, u.ID).Body(okta.UserFactorWebAuthnAsListFactors200ResponseInner(&okta.UserFactorWebAuthn{
		FactorType: "webauthn", Provider: okta.PtrString("FIDO"), Profile: &okta.UserFactorWebAuthnProfile{AuthenticatorName: okta.PtrString("YubiKey")}})).Execute()
	if err != nil {
		t.Fatal(err)
	}
	f = enrolled.UserFactorWebAuthn
	reg, _ = a.Create(mustMarshal(t, f.UserFactor.Embedded["activation"]), ts.cfg.BaseURL)
	activated, _, err := c.UserFactorAPI.ActivateFactor(ctx, u.ID, f.UserFactor.GetId()).Body(map[string]any{"attestation": b64(reg.AttestationObject), "clientData": b64(reg.ClientDataJSON)}).Execute()
	if err != nil || activated.UserFactorWebAuthn == nil || activated.UserFactorWebAuthn.UserFactor.GetStatus() != "ACTIVE" ||
		activated.UserFactorWebAuthn.Profile.GetAuthenticatorName() != "YubiKey" || activated.UserFactorWebAuthn.Profile.GetCredentialId() != b64(a.CredID) {
		t.Fatalf("activate: %v %+v", err, activated)
	}
	fid := f.UserFactor.GetId()
	ch, _, err := c.UserFactorAPI.VerifyFactor(ctx, u.ID, fid).Execute()
	if err != nil || ch.GetFactorResult() != "CHALLENGE" || ch.Embedded["challenge"]["challenge"] == nil {
		t.Fatalf("challenge: %v %+v", err, ch)
	}
	as, err := a.Get(mustMarshal(t, ch.Embedded["challenge"]), "", ts.cfg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]any{"clientData": b64(as.ClientDataJSON), "authenticatorData": b64(as.AuthenticatorData), "signatureData": b64(as.Signature)}
	res, _, err := c.UserFactorAPI.VerifyFactor(ctx, u.ID, fid).Body(parts).Execute()
	if err != nil || res.GetFactorResult() != "SUCCESS" {
		t.Fatalf("verify: %v %+v", err, res)
	}
	// The challenge was used: the same answer is refused.
	_, _, err = c.UserFactorAPI.VerifyFactor(ctx, u.ID, fid).Body(parts).Execute()
	if code := oktaErrorCode(err); code != "E0000038" {
		t.Fatalf("replayed assertion: %s", code)
	}
	// A fresh challenge with a forged signature: E0000068.
	ch, _, _ = c.UserFactorAPI.VerifyFactor(ctx, u.ID, fid).Execute()
	as, _ = a.Get(mustMarshal(t, ch.Embedded["challenge"]), "", ts.cfg.BaseURL)
	as.Signature[len(as.Signature)-3] ^= 0xff
	_, _, err = c.UserFactorAPI.VerifyFactor(ctx, u.ID, fid).Body(map[string]any{"clientData": b64(as.ClientDataJSON), "authenticatorData": b64(as.AuthenticatorData), "signatureData": b64(as.Signature)}).Execute()
	if code := oktaErrorCode(err); code != "E0000068" {
		t.Fatalf("forged signature: %s", code)
	}
}

var passkeySignInRe = regexp.MustCompile(`id="passkey-signin"[^>]*data-next="([^"]*)" data-csrf="([^"]+)"`)

// addPasskey registers a software passkey on the Settings page of a
// signed-in browser.
func addPasskey(t *testing.T, ts *testServer, b *browser, name string) *passkeytest.Authenticator {
	t.Helper()
	_, page := b.get("/enduser/settings")
	m := dataCSRFRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no passkey button on Settings: %.2000s", page)
	}
	status, out := b.jsonCall("/enduser/settings/passkeys/options", m[1], mustMarshal(t, map[string]string{"name": name}))
	if status != 200 {
		t.Fatalf("options: %d %v", status, out)
	}
	a := passkeytest.New()
	reg, err := a.Create(mustMarshal(t, out["options"]), ts.cfg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if status, done := b.jsonCall("/enduser/settings/passkeys?factor="+out["factorId"].(string), m[1], reg.JSON()); status != 200 {
		t.Fatalf("finish: %d %v", status, done)
	}
	return a
}

// passwordlessSignIn runs "Sign in with a passkey" from the sign-in page
// (next is the page's next) and returns the finish call's answer.
func passwordlessSignIn(t *testing.T, b *browser, a *passkeytest.Authenticator, origin, next string) (int, map[string]any) {
	t.Helper()
	_, page := b.get("/login?next=" + url.QueryEscape(next))
	m := passkeySignInRe.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "/static/webauthn.js") {
		t.Fatalf("no passkey sign-in button: %.2000s", page)
	}
	status, out := b.jsonCall("/login/passkey/options", m[2], nil)
	if status != 200 {
		t.Fatalf("options: %d %v", status, out)
	}
	as, err := a.Get(mustMarshal(t, out["options"]), "", origin)
	if err != nil {
		t.Fatal(err)
	}
	return b.jsonCall("/login/passkey?next="+url.QueryEscape(m[1]), m[2], as.JSON())
}

// TestPasswordlessPasskey: "Sign in with a passkey" signs a person in
// without a username or password; the session records a verified
// hardware key and a factor time, as after a password and a second
// factor; replays, a missing CSRF header, a suspended person and an
// unknown credential are refused with no session.
func TestPasswordlessPasskey(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg, localhost)
		ctx := context.Background()
		origin := ts.cfg.BaseURL
		u := ts.createUser(t, "oona@example.com", "Secret-Passw0rd")
		b := newBrowser(t, origin)
		b.signIn("oona@example.com", "Secret-Passw0rd", "/")
		a := addPasskey(t, ts, b, "Phone")

		// The options call needs the sign-in form's CSRF token.
		nb := newBrowser(t, origin)
		_, page := nb.get("/login")
		m := passkeySignInRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no passkey sign-in button: %.2000s", page)
		}
		if status, _ := nb.jsonCall("/login/passkey/options", "", nil); status != 403 {
			t.Fatalf("options without CSRF: %d", status)
		}
		if status, _ := nb.jsonCall("/login/passkey/options", m[2]+"x", nil); status != 403 {
			t.Fatalf("options with a wrong CSRF token: %d", status)
		}
		status, out := nb.jsonCall("/login/passkey/options", m[2], nil)
		pk, _ := out["options"].(map[string]any)["publicKey"].(map[string]any)
		if status != 200 || pk["userVerification"] != "required" || pk["allowCredentials"] != nil || pk["rpId"] != "localhost" {
			t.Fatalf("options: %d %v", status, out)
		}

		// The passkey alone signs in, to the page that was asked for.
		b2 := newBrowser(t, origin)
		status, done := passwordlessSignIn(t, b2, a, origin, "/enduser/settings")
		if status != 200 || done["redirect"] != "/enduser/settings" || b2.cookie("gh_sid") == "" {
			t.Fatalf("passkey sign-in: %d %v", status, done)
		}
		if r, page := b2.get("/enduser/settings"); r.StatusCode != 200 || !strings.Contains(page, "Security methods") {
			t.Fatalf("settings after the passkey sign-in: %d", r.StatusCode)
		}
		sessions := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, "")
		var list []map[string]any
		json.Unmarshal([]byte(sessions.raw), &list)
		var passkeySession map[string]any
		for _, x := range list {
			if amr, _ := json.Marshal(x["amr"]); string(amr) == `["hwk","mfa"]` {
				passkeySession = x
			}
		}
		if passkeySession == nil || passkeySession["lastFactorVerification"] == nil || passkeySession["lastPasswordVerification"] != nil || passkeySession["mfaActive"] != true {
			t.Fatalf("sessions: %s", sessions.raw)
		}
		// An app whose sign-on rule requires a second factor: the passkey
		// session is multi-factor, so the SAML response comes at once.
		appID, _ := ts.newSAMLApp(t, "Wiki", "")
		ts.assign(t, appID, u.ID)
		pol := ts.call(t, "POST", "/api/v1/policies", ts.token, `{"type":"ACCESS_POLICY","name":"Wiki"}`)
		pid := pol.body["id"].(string)
		ts.call(t, "PUT", "/api/v1/apps/"+appID+"/policies/"+pid, ts.token, "")
		if r := ts.call(t, "POST", "/api/v1/policies/"+pid+"/rules", ts.token,
			`{"name":"MFA","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"type":"ASSURANCE","factorMode":"2FA","reauthenticateIn":"PT2H"}}}}`); r.status != 200 {
			t.Fatalf("rule: %d %s", r.status, r.raw)
		}
		sp := ts.gosamlSP(t, appID)
		authURL, err := sp.BuildAuthURL("state-pk")
		if err != nil {
			t.Fatal(err)
		}
		_, samlPage := b2.follow(b2.get(authURL))
		action, samlResponse, relay := samlPost(t, samlPage)
		if action != spACS || relay != "state-pk" {
			t.Fatalf("SSO after the passkey sign-in posts to %s relay %q", action, relay)
		}
		if info, err := sp.RetrieveAssertionInfo(samlResponse); err != nil || info.NameID != "oona@example.com" {
			t.Fatalf("assertion: %v %+v", err, info)
		}
		// A password-only session of the same person is asked for a factor.
		_, samlPage = b.follow(b.get(authURL))
		if strings.Contains(samlPage, "SAMLResponse") || !strings.Contains(samlPage, "Verify it") {
			t.Fatalf("the password session was not stepped up: %.500s", samlPage)
		}

		evs, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.session.start"))
		found := false
		for _, ev := range evs {
			found = found || ev.Outcome.Result == "SUCCESS" && ev.Debug["authnMethod"] == "passkey" && ev.Actor.ID == u.ID && ev.Client.IPAddress != ""
		}
		if !found {
			t.Fatalf("no passkey user.session.start event: %+v", evs)
		}

		// The same answer again: refused, no session.
		b3 := newBrowser(t, origin)
		_, page = b3.get("/login")
		c3 := passkeySignInRe.FindStringSubmatch(page)[2]
		_, out = b3.jsonCall("/login/passkey/options", c3, nil)
		as, _ := a.Get(mustMarshal(t, out["options"]), "", origin)
		if status, _ := b3.jsonCall("/login/passkey", c3, as.JSON()); status != 200 {
			t.Fatalf("first answer: %d", status)
		}
		b4 := newBrowser(t, origin)
		_, page = b4.get("/login")
		c4 := passkeySignInRe.FindStringSubmatch(page)[2]
		b4.jsonCall("/login/passkey/options", c4, nil)
		if status, out := b4.jsonCall("/login/passkey", c4, as.JSON()); status != 401 || b4.cookie("gh_sid") != "" || out["error"] == nil {
			t.Fatalf("a replayed answer: %d %v", status, out)
		}
		// Without options first (no ceremony): refused.
		b5 := newBrowser(t, origin)
		_, page = b5.get("/login")
		c5 := passkeySignInRe.FindStringSubmatch(page)[2]
		if status, _ := b5.jsonCall("/login/passkey", c5, as.JSON()); status != 400 || b5.cookie("gh_sid") != "" {
			t.Fatalf("an answer without a ceremony: %d", status)
		}
		// Junk: refused.
		if status, _ := b5.jsonCall("/login/passkey", c5, []byte(`{"id":"x"}`)); status != 400 {
			t.Fatalf("junk: %d", status)
		}
		// An authenticator Gatehouse never saw, under the person's handle.
		stranger := passkeytest.New()
		stranger.SetUserHandle([]byte(u.ID))
		b6 := newBrowser(t, origin)
		if status, _ := passwordlessSignIn(t, b6, stranger, origin, "/"); status != 401 || b6.cookie("gh_sid") != "" {
			t.Fatalf("unknown credential: %d", status)
		}

		// Suspended: the passkey is refused and no session starts.
		if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/suspend", ts.token, ""); r.status != 200 {
			t.Fatalf("suspend: %d %s", r.status, r.raw)
		}
		b7 := newBrowser(t, origin)
		if status, out := passwordlessSignIn(t, b7, a, origin, "/"); status != 401 || b7.cookie("gh_sid") != "" || out["error"] != "Unable to sign in with this passkey. Use your username and password, or contact your administrator." {
			t.Fatalf("suspended: %d %v", status, out)
		}
		evs, _, _ = ts.db.Events().Query(ctx, eventsOf(t, "user.session.start"))
		found = false
		for _, ev := range evs {
			found = found || ev.Outcome.Result == "FAILURE" && ev.Outcome.Reason == "USER_NOT_ACTIVE: SUSPENDED"
		}
		if !found {
			t.Fatal("the suspended person's attempt is not logged")
		}
	})
}

// TestPasskeyOptionsThrottled: every passkey ceremony stored for a person
// who is not signed in yet (the passwordless options, and the options of
// the second step after a password) counts towards the per-address limit;
// past it the answer is 429 and no ceremony.
func TestPasskeyOptionsThrottled(t *testing.T) {
	ts := newTestServer(t, false, localhost)
	origin := ts.cfg.BaseURL
	ts.createUser(t, "pia@example.com", "Secret-Passw0rd")
	b := newBrowser(t, origin)
	b.signIn("pia@example.com", "Secret-Passw0rd", "/")
	a := addPasskey(t, ts, b, "Phone")

	nb := newBrowser(t, origin)
	_, page := nb.get("/login")
	m := passkeySignInRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no passkey sign-in button: %.2000s", page)
	}
	limit := ts.cfg.SignInIPLimit
	for i := 1; i <= limit-2; i++ {
		if status, out := nb.jsonCall("/login/passkey/options", m[2], nil); status != 200 {
			t.Fatalf("passwordless options call %d of %d: %d %v", i, limit, status, out)
		}
	}
	// The second step's options share the count: the last one allowed,
	// then refused.
	sb := newBrowser(t, origin)
	if resp, _ := sb.signIn("pia@example.com", "Secret-Passw0rd", "/"); resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("password step: %s", resp.Header.Get("Location"))
	}
	_, page = sb.get("/login/verify")
	c := dataCSRFRe.FindStringSubmatch(page)
	if c == nil {
		t.Fatalf("verify page: %.2000s", page)
	}
	// Asked twice (a cancelled prompt, the button pressed again): the
	// second ceremony replaces the first, which no longer verifies.
	_, first := sb.jsonCall("/login/verify/passkey/options", c[1], nil)
	if first["options"] == nil {
		t.Fatalf("second-step options: %v", first)
	}
	if status, out := sb.jsonCall("/login/verify/passkey/options", c[1], nil); status != 200 || out["options"] == nil {
		t.Fatalf("second-step options asked again, at the limit: %d %v", status, out)
	}
	if as, err := a.Get(mustMarshal(t, first["options"]), "", origin); err != nil {
		t.Fatal(err)
	} else if status, _ := sb.jsonCall("/login/verify/passkey", c[1], as.JSON()); status == 200 || sb.cookie("gh_sid") != "" {
		t.Fatalf("an answer to the replaced ceremony signed in: %d", status)
	}
	status, out := sb.jsonCall("/login/verify/passkey/options", c[1], nil)
	if status != 429 || out["options"] != nil {
		t.Fatalf("second-step options past the limit: %d %v", status, out)
	}
	if status, out := nb.jsonCall("/login/passkey/options", m[2], nil); status != 429 || out["options"] != nil {
		t.Fatalf("passwordless options past the limit: %d %v", status, out)
	}
}

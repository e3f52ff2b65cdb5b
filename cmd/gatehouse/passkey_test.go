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
	if s := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, ""); !strings.Contains(s.raw, `"amr":["pwd","hwk","user","pin","mfa"]`) {
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

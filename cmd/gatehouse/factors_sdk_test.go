package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// TestFactorsSDK drives the Factors API with the official Okta Go SDK:
// catalog, enrolment of Google Authenticator with its QR code link,
// activation, verification (with a replay), list, reset, reset all.
func TestFactorsSDK(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) { testFactorsSDK(t, newTestServer(t, pg)) })
	}
}

func testFactorsSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	u, _, err := c.UserAPI.CreateUser(ctx).Activate(true).Body(okta.CreateUserRequest{
		Profile: okta.UserProfile{Login: okta.PtrString("dade.murphy@example.com"), Email: okta.PtrString("dade.murphy@example.com"),
			FirstName: *okta.NewNullableString(okta.PtrString("Dade")), LastName: *okta.NewNullableString(okta.PtrString("Murphy"))},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")}},
	}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	uid := u.GetId()

	cat, _, err := c.UserFactorAPI.ListSupportedFactors(ctx, uid).Execute()
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	providers := map[string]string{}
	for _, e := range cat {
		providers[e.GetFactorType()+"/"+e.GetProvider()] = e.GetStatus()
		if e.Links == nil || e.Links.Enroll == nil || e.Links.Enroll.Href != ts.srv.URL+"/api/v1/users/"+uid+"/factors" {
			t.Fatalf("catalog entry without its enroll link: %+v", e)
		}
	}
	if providers["token:software:totp/GOOGLE"] != "NOT_SETUP" || providers["token:software:totp/OKTA"] != "NOT_SETUP" {
		t.Fatalf("catalog: %v", providers)
	}

	// Enroll Google Authenticator.
	enrolled, _, err := c.UserFactorAPI.EnrollFactor(ctx, uid).Body(okta.UserFactorTOTPAsListFactors200ResponseInner(&okta.UserFactorTOTP{
		FactorType: "token:software:totp", Provider: okta.PtrString("GOOGLE")})).Execute()
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	f := enrolled.UserFactorTOTP
	if f == nil || f.GetProvider() != "GOOGLE" || f.UserFactor.GetStatus() != "PENDING_ACTIVATION" || f.UserFactor.GetId() == "" || f.GetFactorType() != "token:software:totp" {
		t.Fatalf("enrolled: %+v", enrolled)
	}
	fid := f.UserFactor.GetId()
	act := f.UserFactor.Embedded["activation"]
	secret, _ := act["sharedSecret"].(string)
	if len(secret) != 32 || act["encoding"] != "base32" || act["timeStep"] != float64(30) {
		t.Fatalf("activation: %v", act)
	}
	qr := act["_links"].(map[string]any)["qrcode"].(map[string]any)
	if qr["type"] != "image/png" {
		t.Fatalf("qrcode link: %v", qr)
	}
	// The QR code opens in a browser without the API token.
	resp, err := http.Get(qr["href"].(string))
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("QR code: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, err := http.Get(qr["href"].(string) + "x"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a wrong QR token: %v %d", err, resp.StatusCode)
	}

	// Activation: a wrong passcode is E0000068, the right one activates.
	_, _, err = c.UserFactorAPI.ActivateFactor(ctx, uid, fid).Body(map[string]any{"passCode": "000000"}).Execute()
	if code := oktaErrorCode(err); code != "E0000068" {
		t.Fatalf("wrong activation passcode: %v (%s)", err, code)
	}
	activated, _, err := c.UserFactorAPI.ActivateFactor(ctx, uid, fid).Body(map[string]any{"passCode": totpNow(t, secret, 0)}).Execute()
	if err != nil || activated.UserFactorTOTP == nil || activated.UserFactorTOTP.UserFactor.GetStatus() != "ACTIVE" {
		t.Fatalf("activate: %v %+v", err, activated)
	}
	// The QR code link dies with the pending enrolment.
	if resp, err := http.Get(qr["href"].(string)); err != nil || resp.StatusCode != 404 {
		t.Fatalf("QR code after activation: %v %d", err, resp.StatusCode)
	}

	// List and get: never the seed.
	list, _, err := c.UserFactorAPI.ListFactors(ctx, uid).Execute()
	if err != nil || len(list) != 1 || list[0].UserFactorTOTP == nil || list[0].UserFactorTOTP.UserFactor.GetId() != fid {
		t.Fatalf("list: %v %+v", err, list)
	}
	raw := ts.call(t, "GET", "/api/v1/users/"+uid+"/factors", ts.token, "").raw
	if strings.Contains(raw, secret) || strings.Contains(raw, "sharedSecret") || !strings.Contains(raw, `"credentialId":"dade.murphy@example.com"`) {
		t.Fatalf("list JSON: %s", raw)
	}
	got, _, err := c.UserFactorAPI.GetFactor(ctx, uid, fid).Execute()
	if err != nil || got.UserFactorTOTP == nil || got.UserFactorTOTP.UserFactor.Links["verify"] == nil {
		t.Fatalf("get: %v %+v", err, got)
	}

	// Verify: success, then the same code again is refused.
	code := totpNow(t, secret, 1)
	res, _, err := c.UserFactorAPI.VerifyFactor(ctx, uid, fid).Body(map[string]any{"passCode": code}).Execute()
	if err != nil || res.GetFactorResult() != "SUCCESS" {
		t.Fatalf("verify: %v %+v", err, res)
	}
	_, _, err = c.UserFactorAPI.VerifyFactor(ctx, uid, fid).Body(map[string]any{"passCode": code}).Execute()
	if code := oktaErrorCode(err); code != "E0000068" {
		t.Fatalf("replayed passcode: %s", code)
	}
	if n, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.mfa.attempt_bypass")); len(n) != 1 {
		t.Fatalf("%d bypass attempts logged", len(n))
	}
	// Unknown factor: E0000007.
	_, _, err = c.UserFactorAPI.VerifyFactor(ctx, uid, "uftNOPE0000000000000").Body(map[string]any{"passCode": "123456"}).Execute()
	if code := oktaErrorCode(err); code != "E0000007" {
		t.Fatalf("unknown factor: %s", code)
	}
	// A second Google Authenticator is refused; an Okta Verify TOTP is fine.
	_, _, err = c.UserFactorAPI.EnrollFactor(ctx, uid).Body(okta.UserFactorTOTPAsListFactors200ResponseInner(&okta.UserFactorTOTP{
		FactorType: "token:software:totp", Provider: okta.PtrString("GOOGLE")})).Execute()
	if code := oktaErrorCode(err); !strings.Contains(code, "E0000001") {
		t.Fatalf("second Google Authenticator: %s", code)
	}
	okv, _, err := c.UserFactorAPI.EnrollFactor(ctx, uid).Body(okta.UserFactorTOTPAsListFactors200ResponseInner(&okta.UserFactorTOTP{
		FactorType: "token:software:totp", Provider: okta.PtrString("OKTA")})).Execute()
	if err != nil || !strings.HasPrefix(okv.UserFactorTOTP.UserFactor.GetId(), "ost") {
		t.Fatalf("Okta Verify TOTP: %v", err)
	}

	// Reset one, then all.
	if _, err := c.UserFactorAPI.UnenrollFactor(ctx, uid, fid).Execute(); err != nil {
		t.Fatalf("unenroll: %v", err)
	}
	_, _, err = c.UserFactorAPI.GetFactor(ctx, uid, fid).Execute()
	if code := oktaErrorCode(err); code != "E0000007" {
		t.Fatalf("get after unenroll: %s", code)
	}
	if _, err := c.UserAPI.ResetFactors(ctx, uid).Execute(); err != nil {
		t.Fatalf("reset factors: %v", err)
	}
	if list, _, err := c.UserFactorAPI.ListFactors(ctx, uid).Execute(); err != nil || len(list) != 0 {
		t.Fatalf("after reset_factors: %v %d", err, len(list))
	}
	for _, typ := range []string{"user.mfa.factor.activate", "user.mfa.factor.deactivate", "user.mfa.factor.reset_all", "user.authentication.auth_via_mfa"} {
		if n, _, _ := ts.db.Events().Query(ctx, eventsOf(t, typ)); len(n) == 0 {
			t.Errorf("no %s event", typ)
		}
	}
}

// TestFactorsAPIBadInput: each bad request gets Okta's error object and
// changes nothing.
func TestFactorsAPIBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	u := ts.createUser(t, "kim@example.com", "Sufficient-Pass-9")
	base := "/api/v1/users/" + u.ID + "/factors"
	pending := ts.call(t, "POST", base, ts.token, `{"factorType":"token:software:totp","provider":"OKTA"}`)
	if pending.status != 200 {
		t.Fatalf("enroll: %d %s", pending.status, pending.raw)
	}
	fid := pending.body["id"].(string)
	roTok, _, err := oktaapi.NewToken(ctx, ts.db.Tokens(), ts.ids, ts.now(), ts.events, "ro", "", oktaapi.RoleReadOnlyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"malformed JSON", "POST", base, ts.token, `{"factorType":`, 400, "E0000003"},
		{"unknown member", "POST", base, ts.token, `{"factorType":"token:software:totp","color":"red"}`, 400, "E0000003"},
		{"unknown factor type", "POST", base, ts.token, `{"factorType":"sms","provider":"OKTA"}`, 400, "E0000001"},
		{"no factor type", "POST", base, ts.token, `{"provider":"OKTA"}`, 400, "E0000001"},
		{"unknown provider", "POST", base, ts.token, `{"factorType":"token:software:totp","provider":"RSA"}`, 400, "E0000001"},
		{"seed upload", "POST", base, ts.token, `{"factorType":"token:software:totp","provider":"GOOGLE","profile":{"sharedSecret":"ABCDEFGHIJKLMNOP"}}`, 400, "E0000001"},
		{"unknown person", "POST", "/api/v1/users/00uNOPE0000000000000/factors", ts.token, `{"factorType":"token:software:totp"}`, 404, "E0000007"},
		{"read-only token", "POST", base, roTok, `{"factorType":"token:software:totp","provider":"GOOGLE"}`, 403, "E0000006"},
		{"no token", "GET", base, "", "", 401, "E0000011"},
		{"activate without passCode", "POST", base + "/" + fid + "/lifecycle/activate", ts.token, `{}`, 400, "E0000001"},
		{"activate with a wrong passCode", "POST", base + "/" + fid + "/lifecycle/activate", ts.token, `{"passCode":"000000"}`, 403, "E0000068"},
		{"activate with a wrong member", "POST", base + "/" + fid + "/lifecycle/activate", ts.token, `{"passcode":"000000"}`, 400, "E0000003"},
		{"verify a pending factor", "POST", base + "/" + fid + "/verify", ts.token, `{"passCode":"000000"}`, 403, "E0000038"},
		{"unknown factor", "GET", base + "/ostNOPE0000000000000", ts.token, "", 404, "E0000007"},
		{"delete unknown factor", "DELETE", base + "/ostNOPE0000000000000", ts.token, "", 404, "E0000007"},
	}
	for _, c := range cases {
		r := ts.call(t, c.method, c.path, c.token, c.body)
		if r.status != c.status || r.body["errorCode"] != c.code || r.body["errorSummary"] == "" || r.body["errorId"] == nil {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.raw, c.status, c.code)
		}
	}
	list := ts.call(t, "GET", base, ts.token, "")
	if list.status != 200 || strings.Count(list.raw, `"id":`) != 1 || !strings.Contains(list.raw, `"status":"PENDING_ACTIVATION"`) {
		t.Fatalf("factors after bad input: %s", list.raw)
	}
	// The wrong passCode cause reads as Okta's.
	r := ts.call(t, "POST", base+"/"+fid+"/lifecycle/activate", ts.token, `{"passCode":"000000"}`)
	if !strings.Contains(r.raw, `"errorCauses":[{"errorSummary":"Your passcode doesn't match our records. Please try again."}]`) {
		t.Fatalf("cause: %s", r.raw)
	}
}

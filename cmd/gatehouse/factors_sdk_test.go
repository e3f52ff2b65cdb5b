package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
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

// TestFactorActivationLockout: wrong activation codes count towards the
// lockout like wrong verification codes and passwords, through the
// Factors API and on the Settings page: the code that reaches
// lockout_after locks the person (LOCKED_OUT), the right code is then
// refused with E0000069 and the factor stays pending.
func TestFactorActivationLockout(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg, func(c *config.Config) { c.LockoutAfter = 3 })
		ctx := context.Background()
		u := ts.createUser(t, "lee@example.com", "Sufficient-Pass-9")
		base := "/api/v1/users/" + u.ID + "/factors"
		enr := ts.call(t, "POST", base, ts.token, `{"factorType":"token:software:totp","provider":"GOOGLE"}`)
		if enr.status != 200 {
			t.Fatalf("enroll: %d %s", enr.status, enr.raw)
		}
		fid := enr.body["id"].(string)
		secret := enr.body["_embedded"].(map[string]any)["activation"].(map[string]any)["sharedSecret"].(string)
		activate := base + "/" + fid + "/lifecycle/activate"
		for i := 1; i <= ts.cfg.LockoutAfter; i++ {
			r := ts.call(t, "POST", activate, ts.token, `{"passCode":"000000"}`)
			if r.status != 403 || r.body["errorCode"] != "E0000068" || r.body["errorSummary"] != "Invalid Passcode/Answer" {
				t.Fatalf("wrong code %d: %d %s", i, r.status, r.raw)
			}
			want := "ACTIVE"
			if i == ts.cfg.LockoutAfter {
				want = "LOCKED_OUT"
			}
			if got := ts.call(t, "GET", "/api/v1/users/"+u.ID, ts.token, ""); got.body["status"] != want {
				t.Fatalf("after %d wrong codes: %v, want %s", i, got.body["status"], want)
			}
		}
		r := ts.call(t, "POST", activate, ts.token, `{"passCode":"`+totpNow(t, secret, 0)+`"}`)
		if r.status != 403 || r.body["errorCode"] != "E0000069" || r.body["errorSummary"] != "User Locked" {
			t.Fatalf("right code while locked: %d %s", r.status, r.raw)
		}
		if got := ts.call(t, "GET", base+"/"+fid, ts.token, ""); got.body["status"] != "PENDING_ACTIVATION" {
			t.Fatalf("factor after the refused code: %s", got.raw)
		}
		if n, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.account.lock")); len(n) != 1 {
			t.Fatalf("%d lock events", len(n))
		}
		// Unlocked, the right code activates.
		if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/unlock", ts.token, ""); r.status != 200 {
			t.Fatalf("unlock: %d %s", r.status, r.raw)
		}
		if r := ts.call(t, "POST", activate, ts.token, `{"passCode":"`+totpNow(t, secret, 0)+`"}`); r.status != 200 || r.body["status"] != "ACTIVE" {
			t.Fatalf("activation after unlock: %d %s", r.status, r.raw)
		}

		// The Settings page: wrong codes at the set-up of an authenticator
		// app lock the person out too, and their session ends.
		v := ts.createUser(t, "sam@example.com", "Sufficient-Pass-9")
		b := newBrowser(t, ts.srv.URL)
		if resp, _ := b.signIn("sam@example.com", "Sufficient-Pass-9", "/enduser/settings"); resp.StatusCode != 303 {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		_, page := b.get("/enduser/settings")
		resp, _ := b.post("/enduser/settings/factors/totp", url.Values{"csrf": {formCSRF(t, page)}})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 303 || !setupPathRe.MatchString(loc) {
			t.Fatalf("start set-up: %d %s", resp.StatusCode, loc)
		}
		_, page = b.get(loc)
		m := totpKeyRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("set-up page: %.1000s", page)
		}
		action := strings.TrimSuffix(loc, "/setup") + "/activate"
		csrf := formCSRF(t, page)
		for i := 1; i <= ts.cfg.LockoutAfter; i++ {
			resp, page = b.post(action, url.Values{"csrf": {csrf}, "code": {"000000"}})
			if i < ts.cfg.LockoutAfter && (resp.StatusCode != 400 || pageError(t, page, "code") == "") {
				t.Fatalf("wrong code %d: %d", i, resp.StatusCode)
			}
		}
		if resp.StatusCode != 403 || !strings.Contains(page, "Account locked") {
			t.Fatalf("the code that locks: %d %.500s", resp.StatusCode, page)
		}
		if got, err := ts.directory.Store.User(ctx, v.ID); err != nil || got.Status != directory.LockedOut {
			t.Fatalf("after wrong set-up codes: %v %v", got.Status, err)
		}
		if resp, _ := b.get("/enduser/settings"); resp.StatusCode != 302 {
			t.Fatalf("the locked person's session lives on: %d", resp.StatusCode)
		}
		if n := ts.call(t, "GET", "/api/v1/users/"+v.ID+"/sessions", ts.token, ""); strings.Contains(n.raw, `"id"`) {
			t.Fatalf("sessions of the locked person: %s", n.raw)
		}
		resp, _ = b.post(action, url.Values{"csrf": {csrf}, "code": {totpNow(t, strings.ReplaceAll(m[1], " ", ""), 0)}})
		if resp.StatusCode == 200 || resp.StatusCode == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("activation after lockout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}

		// Set-up at sign-in (a session rule requires a factor): wrong codes
		// lock the person out and end the pending sign-in.
		grp := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Must enrol"}}`).body["id"].(string)
		w := ts.createUser(t, "wren@example.com", "Sufficient-Pass-9")
		ts.call(t, "PUT", "/api/v1/groups/"+grp+"/users/"+w.ID, ts.token, "")
		var pols []map[string]any
		mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", ts.token, "").raw, &pols)
		if r := ts.call(t, "POST", "/api/v1/policies/"+pols[0]["id"].(string)+"/rules", ts.token, `{"name":"Enrol","conditions":{"people":{"groups":{"include":["`+grp+`"]}}},
			"actions":{"signon":{"access":"ALLOW","requireFactor":true}}}`); r.status != 200 {
			t.Fatalf("rule: %d %s", r.status, r.raw)
		}
		be := newBrowser(t, ts.srv.URL)
		if resp, _ := be.signIn("wren@example.com", "Sufficient-Pass-9", "/app/UserHome"); resp.Header.Get("Location") != "/login/verify" {
			t.Fatalf("password step: %s", resp.Header.Get("Location"))
		}
		_, page = be.get("/login/enroll")
		resp, _ = be.post("/login/enroll/totp", url.Values{"csrf": {formCSRF(t, page)}})
		setup := resp.Header.Get("Location")
		_, page = be.get(setup)
		csrf = formCSRF(t, page)
		for i := 1; i <= ts.cfg.LockoutAfter; i++ {
			resp, page = be.post(setup, url.Values{"csrf": {csrf}, "code": {"000000"}})
			if i < ts.cfg.LockoutAfter && resp.StatusCode != 400 {
				t.Fatalf("wrong set-up code %d: %d", i, resp.StatusCode)
			}
		}
		if resp.StatusCode != 403 || !strings.Contains(page, "Account locked") || be.cookie("gh_signin") != "" {
			t.Fatalf("the set-up code that locks: %d %.300s", resp.StatusCode, page)
		}
		if got, _ := ts.directory.Store.User(ctx, w.ID); got.Status != directory.LockedOut {
			t.Fatalf("after wrong set-up codes at sign-in: %s", got.Status)
		}
	})
}

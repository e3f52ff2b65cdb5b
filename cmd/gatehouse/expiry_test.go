package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
)

// agePassword moves a person's password change into the past.
func (ts *testServer) agePassword(t *testing.T, userID string, age time.Duration) {
	t.Helper()
	err := ts.directory.Store.Update(context.Background(), func(tx directory.Tx) error {
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		old := time.Now().UTC().Add(-age).Truncate(time.Millisecond)
		u.PasswordChanged = &old
		return tx.UpdateUser(u)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPasswordExpiry: a password older than the policy's maximum age, or
// expired by an administrator (with a temporary password too), must be
// replaced at sign-in (policy and history enforced) before the original
// flow goes on, a pending SSO included.
func TestPasswordExpiry(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	u := ts.createUser(t, "old@example.com", "Original-Passw0rd")
	pw := ts.call(t, "GET", "/api/v1/policies?type=PASSWORD", ts.token, "")
	var pols []map[string]any
	mustUnmarshal(t, pw.raw, &pols)
	pid := pols[0]["id"].(string)
	if r := ts.call(t, "PUT", "/api/v1/policies/"+pid, ts.token, `{"name":"Default Policy","settings":{"password":{"age":{"maxAgeDays":30,"historyCount":4}}}}`); r.status != 200 || !strings.Contains(r.raw, `"maxAgeDays":30`) {
		t.Fatalf("set max age: %d %s", r.status, r.raw)
	}
	// A fresh password signs in as before.
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("old@example.com", "Original-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("fresh password: %s", resp.Header.Get("Location"))
	}

	// Aged past 30 days: the SP-initiated request waits while the person
	// chooses a new password.
	ts.agePassword(t, u.ID, 31*24*time.Hour)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	sp := ts.gosamlSP(t, appID)
	authURL, _ := sp.BuildAuthURL("relay-7")
	b := newBrowser(t, ts.srv.URL)
	resp, _ := b.follow(b.get(authURL))
	next := resp.Request.URL.Query().Get("next")
	resp, _ = b.signIn("old@example.com", "Original-Passw0rd", next)
	if resp.Header.Get("Location") != "/login/password" || b.cookie("gh_sid") != "" {
		t.Fatalf("aged password: %s", resp.Header.Get("Location"))
	}
	if got, _ := ts.directory.Store.User(ctx, u.ID); got.Status != directory.PasswordExpired {
		t.Fatalf("status %s", got.Status)
	}
	if evs, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.account.expire_password")); len(evs) != 1 || evs[0].Outcome.Reason != "PASSWORD_MAX_AGE" {
		t.Fatalf("expiry events: %+v", evs)
	}
	_, page := b.get("/login/password")
	if !strings.Contains(page, "Your password has expired") {
		t.Fatalf("page: %.800s", page)
	}
	checkLabels(t, "/login/password", page)
	csrf := formCSRF(t, page)
	// Refused beside the field: too weak, the same as before, mismatched, no CSRF.
	for _, c := range []struct{ pw, confirm, field string }{
		{"short", "short", "password"},
		{"Original-Passw0rd", "Original-Passw0rd", "password"},
		{"Brand-New-Passw0rd", "Brand-New-Passw0rd-2", "confirm"},
	} {
		resp, page := b.post("/login/password", url.Values{"csrf": {csrf}, "password": {c.pw}, "confirm": {c.confirm}})
		if resp.StatusCode != 400 || pageError(t, page, c.field) == "" {
			t.Fatalf("%q: %d", c.pw, resp.StatusCode)
		}
	}
	if resp, _ := b.post("/login/password", url.Values{"password": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}}); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	if got, _ := ts.directory.Store.User(ctx, u.ID); got.Status != directory.PasswordExpired {
		t.Fatal("a refused password changed the person")
	}
	resp, _ = b.post("/login/password", url.Values{"csrf": {csrf}, "password": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}})
	if resp.Header.Get("Location") != next || b.cookie("gh_sid") == "" {
		t.Fatalf("after the new password: %s", resp.Header.Get("Location"))
	}
	_, page = b.follow(b.get(next))
	if _, samlResponse, relay := samlPost(t, page); relay != "relay-7" || samlResponse == "" {
		t.Fatalf("the pending SSO did not continue: relay %q", relay)
	}
	if got, _ := ts.directory.Store.User(ctx, u.ID); got.Status != directory.Active {
		t.Fatalf("status after the change: %s", got.Status)
	}

	// Expired by an administrator with a temporary password: the person
	// signs in with it, then must choose their own.
	r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/expire_password?tempPassword=true", ts.token, "")
	temp, _ := r.body["tempPassword"].(string)
	if r.status != 200 || len(temp) < 12 {
		t.Fatalf("tempPassword: %d %s", r.status, r.raw)
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("old@example.com", "Brand-New-Passw0rd", "/"); resp.StatusCode != 401 {
		t.Fatalf("the old password still works: %d", resp.StatusCode)
	}
	b2 := newBrowser(t, ts.srv.URL)
	if resp, _ := b2.signIn("old@example.com", temp, "/enduser/settings"); resp.Header.Get("Location") != "/login/password" {
		t.Fatalf("temporary password: %s", resp.Header.Get("Location"))
	}
	_, page = b2.get("/login/password")
	// The previous password is in the history.
	if resp, page := b2.post("/login/password", url.Values{"csrf": {formCSRF(t, page)}, "password": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}}); resp.StatusCode != 400 || !strings.Contains(pageError(t, page, "password"), "last 4 passwords") {
		t.Fatalf("reused password: %d", resp.StatusCode)
	}
	resp, _ = b2.post("/login/password", url.Values{"csrf": {formCSRF(t, page)}, "password": {"Third-Passw0rd-Here"}, "confirm": {"Third-Passw0rd-Here"}})
	if resp.Header.Get("Location") != "/enduser/settings" || b2.cookie("gh_sid") == "" {
		t.Fatalf("after choosing: %s", resp.Header.Get("Location"))
	}
	if r := ts.call(t, "POST", "/api/v1/users/00uNOPE0000000000000/lifecycle/expire_password?tempPassword=true", ts.token, ""); r.status != 404 {
		t.Fatalf("unknown person: %d", r.status)
	}
	if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/expire_password?tempPassword=maybe", ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("bad tempPassword: %d %s", r.status, r.raw)
	}
}

// TestExpiredPasswordAfterFactor: with an authenticator app, the code comes
// first, then the new password.
func TestExpiredPasswordAfterFactor(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "both@example.com", "Original-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	b.signIn("both@example.com", "Original-Passw0rd", "/")
	secret, _ := setUpAuthenticator(t, b)
	if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/expire_password", ts.token, ""); r.status != 200 || r.body["status"] != "PASSWORD_EXPIRED" {
		t.Fatalf("expire: %d %s", r.status, r.raw)
	}
	b2 := newBrowser(t, ts.srv.URL)
	resp, _ := b2.signIn("both@example.com", "Original-Passw0rd", "/app/UserHome")
	if resp.Header.Get("Location") != "/login/verify" {
		t.Fatalf("first step: %s", resp.Header.Get("Location"))
	}
	// The password page is not reachable before the factor.
	if r, _ := b2.get("/login/password"); r.Header.Get("Location") != "/login/verify" {
		t.Fatalf("password page before the factor: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	_, page := b2.get("/login/verify")
	resp, _ = b2.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {totpNow(t, secret, 1)}})
	if resp.Header.Get("Location") != "/login/password" || b2.cookie("gh_sid") != "" {
		t.Fatalf("after the code: %s", resp.Header.Get("Location"))
	}
	_, page = b2.get("/login/password")
	resp, _ = b2.post("/login/password", url.Values{"csrf": {formCSRF(t, page)}, "password": {"Second-Passw0rd-Ok"}, "confirm": {"Second-Passw0rd-Ok"}})
	if resp.Header.Get("Location") != "/app/UserHome" || b2.cookie("gh_sid") == "" {
		t.Fatalf("after the password: %s", resp.Header.Get("Location"))
	}
	if s := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, ""); !strings.Contains(s.raw, `"amr":["pwd","otp","mfa"]`) {
		t.Fatalf("sessions: %s", s.raw)
	}
}

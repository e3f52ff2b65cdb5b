package main

import (
	"context"
	"net/url"
	"testing"
)

// TestSessionTokenEndsWithClearedSessions: a sessionToken issued before an
// administrator clears the person's sessions (DELETE
// /api/v1/users/{id}/sessions, through the Okta Go SDK) starts no session
// any more (sessionCookieRedirect; a launch link redeems through the same
// code); one issued
// after the clearing works, until the next clearing.
func TestSessionTokenEndsWithClearedSessions(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		ctx := context.Background()
		c := sdkClient(t, ts)
		u := ts.createUser(t, "ben@example.com", "Secret-Passw0rd")
		redeem := func(token string) int {
			t.Helper()
			b := newBrowser(t, ts.srv.URL)
			resp, _ := b.get("/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode())
			if (resp.StatusCode == 302) != (b.cookie("gh_sid") != "") {
				t.Fatalf("redeem: %d with cookie %q", resp.StatusCode, b.cookie("gh_sid"))
			}
			return resp.StatusCode
		}
		sessions := func() int {
			t.Helper()
			xs, err := ts.db.Sessions().UserSessions(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(xs)
		}
		before := ts.authnSuccess(t, "ben@example.com", "Secret-Passw0rd")
		if _, err := c.UserAPI.RevokeUserSessions(ctx, u.ID).Execute(); err != nil {
			t.Fatalf("clear sessions: %v", err)
		}
		if code := redeem(before); code != 401 {
			t.Fatalf("token issued before the clearing: %d", code)
		}
		if n := sessions(); n != 0 {
			t.Fatalf("%d sessions after refused tokens", n)
		}
		after := ts.authnSuccess(t, "ben@example.com", "Secret-Passw0rd")
		next := ts.authnSuccess(t, "ben@example.com", "Secret-Passw0rd")
		if code := redeem(after); code != 302 {
			t.Fatalf("token issued after the clearing: %d", code)
		}
		if r := ts.call(t, "DELETE", "/api/v1/users/"+u.ID+"/sessions", ts.token, ""); r.status != 204 {
			t.Fatalf("clear again: %d %s", r.status, r.raw)
		}
		if code := redeem(next); code != 401 {
			t.Fatalf("token issued before the second clearing: %d", code)
		}
		if n := sessions(); n != 0 {
			t.Fatalf("%d sessions after the second clearing", n)
		}
	})
}

package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestNULCharacterRefused: text holding U+0000 is refused beside its field
// on SQLite and PostgreSQL alike, a lookup or sign-in by such a key finds
// no one, and the system log records U+FFFD in its place.
// (PostgreSQL refuses NUL in text, so these were 500s there; worse, a
// profile holding an escaped NUL was stored and then broke every profile
// search, which reads profiles as jsonb.)
func TestNULCharacterRefused(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, pg)
			ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
			refused := func(method, path, body, cause string) {
				t.Helper()
				r := ts.call(t, method, path, ts.token, body)
				if r.status != 400 || r.body["errorCode"] != "E0000001" || !strings.Contains(r.raw, cause+": must not contain the NUL character (U+0000)") {
					t.Fatalf("%s %s: %d %s", method, path, r.status, r.raw)
				}
			}
			refused("POST", "/api/v1/users", `{"profile":{"login":"n@example.com","email":"n@example.com","firstName":"A\u0000","lastName":"B"}}`, "firstName")
			refused("POST", "/api/v1/users", `{"profile":{"login":"n@example.com","email":"n@example.com","firstName":"A","lastName":"B","title":"x\u0000y"}}`, "title")
			refused("POST", "/api/v1/users/pat@example.com", `{"profile":{"displayName":"\u0000"}}`, "displayName")
			refused("POST", "/api/v1/groups", `{"profile":{"name":"Ops","description":"\u0000"}}`, "description")
			// Any other body, query parameter or path holding it, before
			// it reaches a store.
			refused("POST", "/api/v1/api-tokens", `{"name":"ops\u0000","role":"READ_ONLY_ADMIN"}`, "name")
			refused("POST", "/api/v1/apps", `{"label":"Wiki\u0000","signOnMode":"SAML_2_0"}`, "label")
			refused("GET", "/api/v1/users?q=pat%00", "", "q")
			refused("GET", "/api/v1/users?search="+url.QueryEscape("profile.title eq \"x\u0000\""), "", "search")
			refused("GET", "/api/v1/logs?filter="+url.QueryEscape("eventType eq \"a\u0000\""), "", "filter")
			refused("GET", "/api/v1/groups?q=%ff", "", "q")
			for _, path := range []string{"/api/v1/apps/0oa%00", "/api/v1/groups/00g%00", "/api/v1/api-tokens/x%00"} {
				if r := ts.call(t, "GET", path, ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
					t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
				}
			}
			if n := ts.userCount(t); n != 1 {
				t.Fatalf("%d users after the refusals", n)
			}
			if r := ts.call(t, "GET", "/api/v1/users/pat%00@example.com", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
				t.Fatalf("lookup with NUL: %d %s", r.status, r.raw)
			}
			b := newBrowser(t, ts.srv.URL)
			if resp, page := b.signIn("pat\x00@example.com", "Secret-Passw0rd", "/"); resp.StatusCode != 401 || !strings.Contains(page, signInFailureText) {
				t.Fatalf("sign-in with NUL in the username: %d", resp.StatusCode)
			}
			if r := ts.call(t, "GET", "/api/v1/users?search="+url.QueryEscape(`profile.title eq "x"`), ts.token, ""); r.status != 200 {
				t.Fatalf("profile search: %d %s", r.status, r.raw)
			}
			// The failed sign-in is in the system log, with U+FFFD for the
			// NUL, and the log's filters still work.
			r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.session.start" and displayMessage eq "User login to Okta"`), ts.token, "")
			if r.status != 200 || !strings.Contains(r.raw, `"alternateId":"pat�@example.com"`) && !strings.Contains(r.raw, "pat�@example.com") {
				t.Fatalf("system log after the sign-in with NUL: %d %s", r.status, r.raw)
			}
		})
	}
}

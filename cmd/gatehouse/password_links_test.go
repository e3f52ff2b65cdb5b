package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestActivationAndResetLinks: the links the API returns with
// sendEmail=false let the person set a password once; a weak password is
// refused beside the field without using the link up.
func TestActivationAndResetLinks(t *testing.T) {
	ts := newTestServer(t, false)
	r := ts.call(t, "POST", "/api/v1/users?activate=false", ts.token, `{"profile":{"login":"new@example.com","email":"new@example.com","firstName":"Nia","lastName":"Ng"}}`)
	id := r.body["id"].(string)
	r = ts.call(t, "POST", "/api/v1/users/"+id+"/lifecycle/activate?sendEmail=false", ts.token, "")
	link, _ := r.body["activationUrl"].(string)
	if r.status != 200 || !strings.Contains(link, "/welcome/") || r.body["activationToken"] == "" {
		t.Fatalf("activate: %d %s", r.status, r.raw)
	}
	b := newBrowser(t, ts.srv.URL)
	_, page := b.get(link)
	resp, page := b.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"short"}, "confirm": {"short"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="password-error"`) {
		t.Fatalf("weak password: %d", resp.StatusCode)
	}
	resp, _ = b.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Welcome-Passw0rd"}, "confirm": {"Welcome-Passw0rd"}})
	if resp.StatusCode != 303 {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+id, ts.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("after activation: %v", r.body["status"])
	}
	if resp, _ := b.get(link); resp.StatusCode != 404 {
		t.Fatalf("used link still works: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("new@example.com", "Welcome-Passw0rd", "/"); resp.StatusCode != 303 {
		t.Fatalf("sign in with the new password: %d", resp.StatusCode)
	}

	// Reset.
	r = ts.call(t, "POST", "/api/v1/users/"+id+"/lifecycle/reset_password?sendEmail=false", ts.token, "")
	reset, _ := r.body["resetPasswordUrl"].(string)
	if r.status != 200 || !strings.Contains(reset, "/reset-password/") {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+id, ts.token, ""); r.body["status"] != "RECOVERY" {
		t.Fatalf("after reset: %v", r.body["status"])
	}
	b2 := newBrowser(t, ts.srv.URL)
	_, page = b2.get(reset)
	resp, _ = b2.post(reset, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Another-Passw0rd"}, "confirm": {"Another-Passw0rd"}})
	if resp.StatusCode != 303 {
		t.Fatalf("reset password: %d", resp.StatusCode)
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+id, ts.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("after reset: %v", r.body["status"])
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("new@example.com", "Another-Passw0rd", "/"); resp.StatusCode != 303 {
		t.Fatalf("sign in after reset: %d", resp.StatusCode)
	}
	// A link with a forged token is refused.
	if resp, _ := b2.get("/reset-password/forged-token"); resp.StatusCode != 404 {
		t.Fatalf("forged link: %d", resp.StatusCode)
	}
}

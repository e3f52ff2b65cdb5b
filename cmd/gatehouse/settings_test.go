package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestEndUserSettings: a person sees their profile and changes their
// password; a wrong current password is reported beside its field.
func TestEndUserSettings(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "sam@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	b.signIn("sam@example.com", "Secret-Passw0rd", "/")
	resp, page := b.get("/enduser/settings")
	if resp.StatusCode != 200 || !strings.Contains(page, "sam@example.com") {
		t.Fatalf("settings: %d", resp.StatusCode)
	}
	resp, page = b.post("/enduser/settings/password", url.Values{"csrf": {formCSRF(t, page)}, "oldPassword": {"Wrong-Passw0rd"}, "newPassword": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="oldPassword-error"`) {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/enduser/settings/password", url.Values{"oldPassword": {"Secret-Passw0rd"}, "newPassword": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}}); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	resp, _ = b.post("/enduser/settings/password", url.Values{"csrf": {formCSRF(t, page)}, "oldPassword": {"Secret-Passw0rd"}, "newPassword": {"Brand-New-Passw0rd"}, "confirm": {"Brand-New-Passw0rd"}})
	if resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/enduser/settings?saved=1"); resp.StatusCode != 200 {
		t.Fatalf("session after change: %d", resp.StatusCode)
	}
	if r, _ := newBrowser(t, ts.srv.URL).signIn("sam@example.com", "Secret-Passw0rd", "/"); r.StatusCode != 401 {
		t.Fatalf("old password still works: %d", r.StatusCode)
	}
	if r, _ := newBrowser(t, ts.srv.URL).signIn("sam@example.com", "Brand-New-Passw0rd", "/"); r.StatusCode != 303 {
		t.Fatalf("new password: %d", r.StatusCode)
	}
}

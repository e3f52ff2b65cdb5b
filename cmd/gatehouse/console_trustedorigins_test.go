package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleTrustedOrigins: Security → Trusted Origins lists, adds
// (errors beside their fields, CSRF), edits, deactivates, activates and
// deletes origins, with the API's validation; a read-only admin sees them
// without forms and cannot post.
func TestConsoleTrustedOrigins(t *testing.T) {
	ts := newTestServer(t, false)
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	const base = "/admin/security/trusted-origins"

	page := admin.page(base, 200)
	checkLabels(t, base, page)
	if !strings.Contains(admin.page("/admin/security/api-tokens", 200), `href="`+base+`"`) {
		t.Fatal("the Security menu has no Trusted Origins")
	}
	status, _, body := admin.submit(page, base, url.Values{"name": {""}, "origin": {"https://app.example.com/path"}})
	if status != 400 {
		t.Fatalf("bad origin: %d", status)
	}
	if msg := fieldError(t, body, "name"); !strings.Contains(msg, "required") {
		t.Fatalf("name error: %q", msg)
	}
	if msg := fieldError(t, body, "origin"); !strings.Contains(msg, "must not have a path") {
		t.Fatalf("origin error: %q", msg)
	}
	if msg := fieldError(t, body, "scopes.cors"); !strings.Contains(msg, "at least one scope") {
		t.Fatalf("scopes error: %q", msg)
	}
	form := url.Values{"name": {"SPA"}, "origin": {"https://app.example.com"}, "scopes.cors": {"true"}}
	if resp, _ := admin.post(base, form); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	if all, _ := ts.db.TrustedOrigins().TrustedOrigins(t.Context()); len(all) != 0 {
		t.Fatalf("a refused form stored %d origins", len(all))
	}
	status, loc, _ := admin.submit(page, base, form)
	if status != 303 || loc != base+"?ok=created" {
		t.Fatalf("add: %d %s", status, loc)
	}
	list := admin.page(base, 200)
	m := regexp.MustCompile(`href="` + base + `/(tos[0-9A-Za-z]{17})">SPA</a>`).FindStringSubmatch(list)
	if m == nil || !strings.Contains(list, "https://app.example.com") {
		t.Fatalf("list: %.3000s", list)
	}
	one := base + "/" + m[1]
	edit := admin.page(one, 200)
	checkLabels(t, one, edit)
	status, _, body = admin.submit(edit, one, url.Values{"name": {"SPA"}, "origin": {"gopher://x"}, "scopes.redirect": {"true"}})
	if status != 400 || !strings.Contains(fieldError(t, body, "origin"), "scheme") {
		t.Fatalf("bad edit: %d", status)
	}
	status, loc, _ = admin.submit(edit, one, url.Values{"name": {"SPA 2"}, "origin": {"http://127.0.0.1:5173"}, "scopes.redirect": {"true"}})
	if status != 303 || loc != one+"?ok=saved" {
		t.Fatalf("save: %d %s", status, loc)
	}
	o, err := ts.db.TrustedOrigins().TrustedOrigin(t.Context(), m[1])
	if err != nil || o.Name != "SPA 2" || o.Origin != "http://127.0.0.1:5173" || strings.Join(o.Scopes, ",") != "REDIRECT" {
		t.Fatalf("saved: %+v %v", o, err)
	}
	if status, loc, _ := admin.submit(edit, one+"/lifecycle/deactivate", nil); status != 303 || loc != one+"?ok=deactivated" {
		t.Fatalf("deactivate: %d %s", status, loc)
	}
	if !strings.Contains(admin.page(one, 200), "/lifecycle/activate") {
		t.Fatal("an inactive origin offers no Activate")
	}
	if status, _, _ := admin.submit(edit, one+"/lifecycle/activate", nil); status != 303 {
		t.Fatalf("activate: %d", status)
	}

	rpage := reader.page(one, 200)
	if strings.Contains(rpage, "/delete") || strings.Contains(rpage, "/lifecycle/") || strings.Contains(reader.page(base, 200), "Add Origin") {
		t.Fatal("the read-only pages offer changes")
	}
	if status, _, _ := reader.submit(rpage, one+"/delete", nil); status != 403 {
		t.Fatalf("read-only delete: %d", status)
	}
	if status, loc, _ := admin.submit(edit, one+"/delete", nil); status != 303 || loc != base+"?ok=deleted" {
		t.Fatalf("delete: %d %s", status, loc)
	}
	admin.page(one, 404)
	log := ts.logEvents(t, `target.id eq "`+m[1]+`"`)
	for _, typ := range []string{"security.trusted_origin.create", "security.trusted_origin.update", "security.trusted_origin.deactivate", "security.trusted_origin.activate", "security.trusted_origin.delete"} {
		if !strings.Contains(log, typ) {
			t.Errorf("no %s event", typ)
		}
	}
}

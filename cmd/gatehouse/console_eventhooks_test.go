package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleEventHooks: Workflow → Event Hooks lists, creates (errors
// beside their fields, nothing stored, CSRF), shows the secret only as
// "set", verifies, edits (an empty secret keeps the stored one; a new URL
// needs it again), filters, deactivates and deletes (only when inactive)
// event hooks through the API's service, with the API's System Log events;
// other admins see the hooks without forms and cannot post.
func TestConsoleEventHooks(t *testing.T) {
	rc, tweak := newHookReceiver(t)
	ts := newTestServer(t, false, tweak)
	ctx := context.Background()
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	apps, _ := ts.adminBrowser(t, "apps@example.com", "APP_ADMIN")
	const base = "/admin/workflow/event-hooks"

	if !strings.Contains(admin.page("/admin", 200), `href="`+base+`"`) {
		t.Fatal("the admin navigation has no Event Hooks")
	}
	page := admin.page(base, 200)
	checkLabels(t, base, page)
	if !strings.Contains(page, "Create Event Hook") || !strings.Contains(page, `<option value="user.lifecycle.create">`) {
		t.Fatalf("list page without the create form: %.2000s", page)
	}

	// Refused: every problem beside its field, nothing stored.
	bad := url.Values{"name": {" "}, "uri": {"http://hooks.example.com/x"}, "authKey": {"Authorization"}, "authValue": {""},
		"headers": {"X-Tenant acme"}, "filters": {"event.eventType eq 'x'"}}
	status, _, body := admin.submit(page, base, bad)
	if status != 400 {
		t.Fatalf("bad hook: %d", status)
	}
	for name, want := range map[string]string{
		"name":      "required",
		"uri":       "must be https",
		"authValue": "authScheme.value: required",
		"headers":   "Line 1: write the header as Name: value.",
		"events":    "at least one event type",
		"filters":   "Line 1: write the filter as event.type: condition.",
	} {
		if msg := fieldError(t, body, name); !strings.Contains(msg, want) {
			t.Errorf("%s: %q, want %q", name, msg, want)
		}
	}
	bad.Set("headers", "X-Tenant: acme")
	bad["events"] = []string{"user.lifecycle.create"}
	bad.Set("filters", "user.lifecycle.create: event.target.?[type eq 'User'].size() >\ngroup.lifecycle.create: event.actor.type eq 'User'")
	_, _, body = admin.submit(page, base, bad)
	if msg := fieldError(t, body, "filters"); !strings.Contains(msg, "the expression ends too early at 1:40") || !strings.Contains(msg, `"group.lifecycle.create" is not one of events.items`) {
		t.Errorf("filters: %q", msg)
	}
	if hooks, _ := ts.db.EventHooks().EventHooks(ctx); len(hooks) != 0 {
		t.Fatalf("a refused form stored %d hooks", len(hooks))
	}
	good := url.Values{"name": {"SIEM"}, "description": {"to the SIEM"}, "uri": {rc.srv.URL + "/hook"}, "authKey": {"Authorization"},
		"authValue": {"Bearer console-s3cret"}, "headers": {"X-Tenant: acme"}, "events": {"user.lifecycle.create", "group.lifecycle.create"},
		"filters": {"user.lifecycle.create: event.target.?[alternateId eq 'keep@example.com'].size() > 0"}}
	if resp, _ := admin.post(base, good); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	status, loc, _ := admin.submit(page, base, good)
	m := regexp.MustCompile(`^` + base + `/(who[0-9A-Za-z]{17})\?ok=created$`).FindStringSubmatch(loc)
	if status != 303 || m == nil {
		t.Fatalf("create: %d %s", status, loc)
	}
	id, hookURL := m[1], base+"/"+m[1]
	hp := admin.page(hookURL, 200)
	checkLabels(t, hookURL, hp)
	if !strings.Contains(hp, "Authorization: secret set") || !strings.Contains(hp, "UNVERIFIED") || !strings.Contains(hp, "X-Tenant: acme") ||
		!strings.Contains(hp, "A secret is set") {
		t.Fatalf("hook page: %.3000s", hp)
	}
	list := admin.page(base, 200)
	for _, p := range []string{hp, list, reader.page(hookURL, 200)} {
		if strings.Contains(p, "console-s3cret") {
			t.Fatal("a page shows the secret")
		}
	}
	if !strings.Contains(list, "SIEM") || !strings.Contains(list, "2 (filtered)") {
		t.Fatalf("list: %.3000s", list)
	}
	if ev := ts.logEvents(t, `eventType eq "event_hook.created"`); !strings.Contains(ev, id) || !strings.Contains(ev, "root@example.com") {
		t.Fatalf("no event_hook.created by the admin: %s", ev)
	}

	// Verify: the challenge carries the secret header; then deliveries
	// follow the filter.
	status, loc, _ = admin.submit(hp, hookURL+"/verify", nil)
	if status != 303 || loc != hookURL+"?ok=verified" {
		t.Fatalf("verify: %d %s", status, loc)
	}
	if gets, _ := rc.snapshot(); len(gets) != 1 || gets[0].Get("Authorization") != "Bearer console-s3cret" || gets[0].Get("X-Tenant") != "acme" {
		t.Fatalf("verification requests: %v", gets)
	}
	ts.createUser(t, "drop@example.com", "Correct-Horse-42")
	ts.createUser(t, "keep@example.com", "Correct-Horse-42")
	rc.waitPost(t, "the user the filter takes", eventIs("user.lifecycle.create", "keep@example.com"))
	if _, posts := rc.snapshot(); len(posts) != 1 {
		t.Fatalf("%d deliveries, want only the one the filter takes", len(posts))
	}

	// Edit: an empty secret keeps the stored one, and the hook stays
	// verified; a new URL needs the secret again.
	before, _ := ts.db.EventHooks().EventHook(ctx, id)
	hp = admin.page(hookURL, 200)
	edit := url.Values{"name": {"SIEM 2"}, "uri": {rc.srv.URL + "/hook"}, "authKey": {"Authorization"}, "headers": {"X-Tenant: acme"},
		"events": {"user.lifecycle.create", "group.lifecycle.create"}}
	status, loc, _ = admin.submit(hp, hookURL, edit)
	if status != 303 || loc != hookURL+"?ok=saved" {
		t.Fatalf("save: %d %s", status, loc)
	}
	after, _ := ts.db.EventHooks().EventHook(ctx, id)
	if after.Name != "SIEM 2" || after.AuthSealed != before.AuthSealed || after.VerificationStatus != "VERIFIED" || after.Filter != nil || after.Description != nil {
		t.Fatalf("after save: %+v", after)
	}
	edit.Set("uri", rc.srv.URL+"/elsewhere")
	status, _, body = admin.submit(hp, hookURL, edit)
	if msg := fieldError(t, body, "authValue"); status != 400 || !strings.Contains(msg, "the secret must be given again") {
		t.Fatalf("new URL without the secret: %d %q", status, msg)
	}

	// Only an inactive hook can be deleted.
	status, _, body = admin.submit(hp, hookURL+"/delete", nil)
	if status != 400 || !strings.Contains(body, "only an INACTIVE event hook can be deleted") {
		t.Fatalf("delete an active hook: %d", status)
	}

	// Other admins read, and cannot post.
	rp := reader.page(hookURL, 200)
	if !strings.Contains(rp, "SIEM 2") || strings.Contains(rp, "Edit Event Hook") || strings.Contains(rp, "/verify") || strings.Contains(rp, "/lifecycle/") {
		t.Fatal("the read-only hook page offers changes")
	}
	if strings.Contains(reader.page(base, 200), "Create Event Hook") {
		t.Fatal("the read-only list offers the create form")
	}
	for _, b := range []*browser{reader, apps} {
		if status, _, _ := b.submit(rp, hookURL+"/lifecycle/deactivate", nil); status != 403 {
			t.Fatalf("deactivate without SUPER_ADMIN: %d", status)
		}
	}

	// A failed verification shows why on the hook's page.
	rc.set(func(rc *hookReceiver) { rc.badAnswer = true })
	edit.Set("uri", rc.srv.URL+"/hook")
	admin.submit(hp, hookURL, url.Values{"name": {"SIEM 2"}, "uri": {rc.srv.URL + "/other"}, "events": {"group.lifecycle.create"}})
	status, _, body = admin.submit(hp, hookURL+"/verify", nil)
	if status != 400 || !strings.Contains(body, "did not answer the verification request") {
		t.Fatalf("failed verification: %d %.2000s", status, body)
	}
	if h, _ := ts.db.EventHooks().EventHook(ctx, id); h.VerificationStatus != "UNVERIFIED" || h.AuthSealed != "" {
		t.Fatalf("after the new URL without authentication: %s %q", h.VerificationStatus, h.AuthSealed)
	}

	// Deactivate, then delete.
	status, loc, _ = admin.submit(hp, hookURL+"/lifecycle/deactivate", nil)
	if status != 303 || loc != hookURL+"?ok=deactivated" {
		t.Fatalf("deactivate: %d %s", status, loc)
	}
	status, loc, _ = admin.submit(hp, hookURL+"/delete", nil)
	if status != 303 || loc != base+"?ok=deleted" {
		t.Fatalf("delete: %d %s", status, loc)
	}
	admin.page(hookURL, 404)
	for _, typ := range []string{"event_hook.verified", "event_hook.updated", "event_hook.deactivated", "event_hook.deleted"} {
		if !strings.Contains(ts.logEvents(t, `eventType eq "`+typ+`"`), id) {
			t.Errorf("no %s event", typ)
		}
	}
}

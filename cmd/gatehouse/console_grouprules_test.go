package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/directory"
)

// TestConsoleGroupRules: Directory → Groups → Rules lists, adds (errors
// beside their fields, CSRF), edits while inactive, activates (the
// directory is evaluated), deactivates and deletes rules; a read-only
// admin sees them without forms and cannot post.
func TestConsoleGroupRules(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	g, err := ts.directory.CreateGroup(ctx, "Contractors", "")
	if err != nil {
		t.Fatal(err)
	}
	c1 := ts.createUser(t, "c1@example.com", "Correct-Horse-42")
	if _, err := ts.directory.UpdateProfile(ctx, c1.ID, directory.Profile{"userType": "Contractor"}, false); err != nil {
		t.Fatal(err)
	}
	c2 := ts.createUser(t, "c2@example.com", "Correct-Horse-42")
	if _, err := ts.directory.UpdateProfile(ctx, c2.ID, directory.Profile{"userType": "Contractor"}, false); err != nil {
		t.Fatal(err)
	}

	groups := admin.page("/admin/groups", 200)
	if !strings.Contains(groups, `href="/admin/group-rules"`) {
		t.Fatal("the groups page has no Rules tab")
	}
	page := admin.page("/admin/group-rules", 200)
	checkLabels(t, "/admin/group-rules", page)
	form := url.Values{"name": {"Contractors"}, "expression": {`user.userType ==`}, "groups": {"Contractor"}, "exclude": {"nobody@example.com"}}
	status, _, body := admin.submit(page, "/admin/group-rules", form)
	if status != 400 {
		t.Fatalf("bad rule: %d", status)
	}
	if msg := fieldError(t, body, "expression"); !strings.Contains(msg, "at 1:") {
		t.Fatalf("expression error without position: %q", msg)
	}
	if msg := fieldError(t, body, "groups"); !strings.Contains(msg, `No group is named "Contractor"`) {
		t.Fatalf("groups error: %q", msg)
	}
	if msg := fieldError(t, body, "exclude"); !strings.Contains(msg, "nobody@example.com") {
		t.Fatalf("exclude error: %q", msg)
	}
	form.Del("csrf")
	if resp, _ := admin.post("/admin/group-rules", form); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	form = url.Values{"name": {"Contractors"}, "expression": {`user.userType == "Contractor"`}, "groups": {"contractors"}, "exclude": {"c2@example.com"}}
	status, loc, _ := admin.submit(page, "/admin/group-rules", form)
	m := regexp.MustCompile(`^/admin/group-rules/(0pr[0-9A-Za-z]{17})\?ok=created$`).FindStringSubmatch(loc)
	if status != 303 || m == nil {
		t.Fatalf("add rule: %d %s", status, loc)
	}
	ruleURL := "/admin/group-rules/" + m[1]
	rule := admin.page(ruleURL, 200)
	checkLabels(t, ruleURL, rule)
	if !strings.Contains(rule, "INACTIVE") || !strings.Contains(rule, "Edit Rule") {
		t.Fatalf("new rule page: %.2000s", rule)
	}
	// Edit while inactive: the exclusion goes.
	status, loc, _ = admin.submit(rule, ruleURL, url.Values{"name": {"All contractors"}, "expression": {`user.userType == "Contractor"`}, "groups": {"Contractors"}, "exclude": {""}})
	if status != 303 || loc != ruleURL+"?ok=saved" {
		t.Fatalf("save: %d %s", status, loc)
	}
	status, loc, _ = admin.submit(rule, ruleURL+"/lifecycle/activate", nil)
	if status != 303 || loc != ruleURL+"?ok=activated" {
		t.Fatalf("activate: %d %s", status, loc)
	}
	members, _ := ts.db.Directory().GroupMembers(ctx, g.ID, "", 10)
	if len(members) != 2 {
		t.Fatalf("%d members after activation, want 2", len(members))
	}
	rule = admin.page(ruleURL, 200)
	if strings.Contains(rule, "Edit Rule") || !strings.Contains(rule, "ACTIVE") {
		t.Fatal("an active rule offers its edit form")
	}
	if status, _, body := admin.submit(rule, ruleURL, url.Values{"name": {"x"}, "expression": {`true`}, "groups": {"Contractors"}}); status != 400 || !strings.Contains(body, "INACTIVE") {
		t.Fatalf("edit an active rule: %d", status)
	}
	list := admin.page("/admin/group-rules?q=all", 200)
	if !strings.Contains(list, "All contractors") || !strings.Contains(list, "user.userType == &#34;Contractor&#34;") {
		t.Fatalf("list: %.3000s", list)
	}

	// The read-only admin sees the rule, no forms, and cannot post.
	rpage := reader.page(ruleURL, 200)
	if !strings.Contains(rpage, "All contractors") || strings.Contains(rpage, "Delete rule") || strings.Contains(rpage, "/lifecycle/deactivate") {
		t.Fatal("read-only rule page offers changes")
	}
	if status, _, _ := reader.submit(rpage, ruleURL+"/lifecycle/deactivate", nil); status != 403 {
		t.Fatalf("read-only deactivate: %d", status)
	}
	if strings.Contains(reader.page("/admin/group-rules", 200), "Add Rule") {
		t.Fatal("read-only list offers the add form")
	}

	// Deactivate keeps the members; delete with removal takes them out.
	if status, _, _ := admin.submit(rule, ruleURL+"/lifecycle/deactivate", nil); status != 303 {
		t.Fatalf("deactivate: %d", status)
	}
	if members, _ := ts.db.Directory().GroupMembers(ctx, g.ID, "", 10); len(members) != 2 {
		t.Fatalf("deactivation removed members: %d", len(members))
	}
	status, loc, _ = admin.submit(rule, ruleURL+"/delete", url.Values{"removeUsers": {"true"}})
	if status != 303 || loc != "/admin/group-rules?ok=deleted" {
		t.Fatalf("delete: %d %s", status, loc)
	}
	if members, _ := ts.db.Directory().GroupMembers(ctx, g.ID, "", 10); len(members) != 0 {
		t.Fatalf("%d members after deleting with removal", len(members))
	}
	if _, err := ts.groupRules.Get(ctx, m[1]); err == nil {
		t.Fatal("the rule still exists")
	}
	admin.page(ruleURL, 404)
}

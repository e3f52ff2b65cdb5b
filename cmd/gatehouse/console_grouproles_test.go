package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestConsoleGroupRoles: on Security → Administrators a super
// administrator gives a group a role (named by its name) and revokes it,
// through the same code as /api/v1/groups/{groupId}/roles: a role the group
// holds already, an unknown group and a group rule's target are refused
// beside their field; the Super Administrator role of the group whose
// members are the last active super administrators stays; forms without
// the CSRF token and a read-only administrator's posts are refused. Every
// step checks the stored roles.
func TestConsoleGroupRoles(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testConsoleGroupRoles(t, newTestServer(t, pg)) })
}

func testConsoleGroupRoles(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	// root is a super administrator only through Supers, and the only
	// active one (the test token has no owner).
	b, root := ts.adminBrowser(t, "root@example.com", "")
	supers := sdkGroup(t, c, "Supers")
	if err := ts.directory.AddMember(ctx, supers, root.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToGroup(ctx, supers).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	helpdesk, sales := sdkGroup(t, c, "Helpdesk"), sdkGroup(t, c, "Sales")
	carol := ts.createUser(t, "carol@example.com", "Secret-Passw0rd")
	if err := ts.directory.AddMember(ctx, helpdesk, carol.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody("Sales people", `user.department == "Sales"`, []string{sales}, nil)).Execute(); err != nil {
		t.Fatal(err)
	}
	roles := func(groupID string) string {
		t.Helper()
		gs, err := ts.db.Tokens().GroupRoleGrants(ctx, groupID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range gs {
			out = append(out, g.Role)
		}
		return strings.Join(out, ",")
	}
	const base = "/admin/security/administrators"

	page := b.page(base, 200)
	if !strings.Contains(page, `action="`+base+`/groups/grant"`) || !strings.Contains(page, `name="groupId" value="`+supers+`"`) {
		t.Fatalf("super administrator's page without the group forms: %.3000s", page)
	}

	// Grant, the group named by its name in another case.
	code, loc, _ := b.submit(page, base+"/groups/grant", url.Values{"group": {"helpdesk"}, "groupRole": {"APP_ADMIN"}})
	if code != 303 || !strings.HasPrefix(loc, base) {
		t.Fatalf("grant: %d %s", code, loc)
	}
	if got := roles(helpdesk); got != "APP_ADMIN" {
		t.Fatalf("Helpdesk's roles after the grant: %q", got)
	}
	page = b.page(loc, 200)
	if !strings.Contains(page, `aria-label="Revoke APP_ADMIN from the group Helpdesk"`) {
		t.Fatalf("page after the grant: %.3000s", page)
	}
	// carol holds it through the group, at once.
	if rs, _ := ts.db.Tokens().AdminRoles(ctx, carol.ID); len(rs) != 1 || rs[0] != "APP_ADMIN" {
		t.Fatalf("member's roles: %v", rs)
	}

	// The same role again: refused beside the role, nothing logged.
	code, _, body := b.submit(page, base+"/groups/grant", url.Values{"group": {"Helpdesk"}, "groupRole": {"APP_ADMIN"}})
	if code != 400 || !strings.Contains(fieldError(t, body, "groupRole"), "Helpdesk already holds this role.") {
		t.Fatalf("grant twice: %d %.3000s", code, body)
	}
	// An unknown group, beside the group.
	code, _, body = b.submit(page, base+"/groups/grant", url.Values{"group": {"Nobody"}, "groupRole": {"APP_ADMIN"}})
	if code != 400 || !strings.Contains(fieldError(t, body, "group"), `No group is named "Nobody".`) {
		t.Fatalf("unknown group: %d", code)
	}
	// A group rule's target (adminrole.ErrGroupRuleTarget), beside the group.
	code, _, body = b.submit(page, base+"/groups/grant", url.Values{"group": {"Sales"}, "groupRole": {"SUPER_ADMIN"}})
	if code != 400 || !strings.Contains(fieldError(t, body, "group"), "group rule") {
		t.Fatalf("group rule's target: %d %.3000s", code, body)
	}
	if got := roles(sales); got != "" {
		t.Fatalf("Sales's roles after a refused grant: %q", got)
	}
	// A role Gatehouse does not have.
	code, _, body = b.submit(page, base+"/groups/grant", url.Values{"group": {"Helpdesk"}, "groupRole": {"ORG_ADMIN"}})
	if code != 400 || fieldError(t, body, "groupRole") == "" {
		t.Fatalf("unknown role: %d", code)
	}

	// Without the CSRF token: refused, nothing changes.
	if resp, _ := b.post(base+"/groups/grant", url.Values{"group": {"Helpdesk"}, "groupRole": {"READ_ONLY_ADMIN"}}); resp.StatusCode != 403 {
		t.Fatalf("grant without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := b.post(base+"/groups/revoke", url.Values{"groupId": {helpdesk}, "role": {"APP_ADMIN"}}); resp.StatusCode != 403 {
		t.Fatalf("revoke without CSRF: %d", resp.StatusCode)
	}
	if got := roles(helpdesk); got != "APP_ADMIN" {
		t.Fatalf("Helpdesk's roles after posts without CSRF: %q", got)
	}

	// A read-only administrator sees no forms and cannot post them.
	ro, _ := ts.adminBrowser(t, "ro@example.com", oktaapi.RoleReadOnlyAdmin)
	roPage := ro.page(base, 200)
	if !strings.Contains(roPage, "Helpdesk") || strings.Contains(roPage, base+"/groups/grant") || strings.Contains(roPage, base+"/groups/revoke") {
		t.Fatalf("read-only administrator's page: %.3000s", roPage)
	}
	if code, _, _ := ro.submit(roPage, base+"/groups/grant", url.Values{"group": {"Helpdesk"}, "groupRole": {"SUPER_ADMIN"}}); code != 403 {
		t.Fatalf("read-only administrator grants: %d", code)
	}
	if code, _, _ := ro.submit(roPage, base+"/groups/revoke", url.Values{"groupId": {helpdesk}, "role": {"APP_ADMIN"}}); code != 403 {
		t.Fatalf("read-only administrator revokes: %d", code)
	}
	if got := roles(helpdesk); got != "APP_ADMIN" {
		t.Fatalf("Helpdesk's roles after the read-only administrator's posts: %q", got)
	}

	// Revoke.
	code, loc, _ = b.submit(page, base+"/groups/revoke", url.Values{"groupId": {helpdesk}, "role": {"APP_ADMIN"}})
	if code != 303 || !strings.HasPrefix(loc, base) {
		t.Fatalf("revoke: %d %s", code, loc)
	}
	if got := roles(helpdesk); got != "" {
		t.Fatalf("Helpdesk's roles after the revoke: %q", got)
	}
	if rs, _ := ts.db.Tokens().AdminRoles(ctx, carol.ID); len(rs) != 0 {
		t.Fatalf("member's roles after the revoke: %v", rs)
	}

	// The members of Supers are the last active super administrators:
	// its role stays, with the reason beside the group.
	code, _, body = b.submit(page, base+"/groups/revoke", url.Values{"groupId": {supers}, "role": {"SUPER_ADMIN"}})
	if code != 400 || !strings.Contains(body, `<p class="field-error" role="alert">The members of this group are the last active Super Administrators`) {
		t.Fatalf("revoke from the last super administrators' group: %d %.3000s", code, body)
	}
	if got := roles(supers); got != "SUPER_ADMIN" {
		t.Fatalf("Supers's roles after a refused revoke: %q", got)
	}

	// The events are the API's: one grant and one revoke of Helpdesk's
	// role, none for the refused requests.
	evs := ts.logEvents(t, `target.id eq "`+helpdesk+`"`)
	if strings.Count(evs, `"eventType":"group.privilege.grant"`) != 1 || strings.Count(evs, `"eventType":"group.privilege.revoke"`) != 1 ||
		!strings.Contains(evs, `"privilegeGranted":"APP_ADMIN"`) || !strings.Contains(evs, `"privilegeRevoked":"APP_ADMIN"`) {
		t.Fatalf("Helpdesk's events: %s", evs)
	}
	for _, g := range []string{supers, sales} {
		if evs := ts.logEvents(t, `target.id eq "`+g+`"`); strings.Contains(evs, `"eventType":"group.privilege.revoke"`) || (g == sales && strings.Contains(evs, `"eventType":"group.privilege.grant"`)) {
			t.Fatalf("events of a refused request: %s", evs)
		}
	}

	// The group's page links to the form, which names the group.
	gp := b.page("/admin/groups/"+helpdesk, 200)
	if !strings.Contains(gp, base+"?group=Helpdesk#grant-group") {
		t.Fatalf("group page without the link: %.3000s", gp)
	}
	if form := b.page(base+"?group=Helpdesk", 200); !strings.Contains(form, `name="group" value="Helpdesk"`) {
		t.Fatal("the form does not name the group")
	}
	if gp := ro.page("/admin/groups/"+helpdesk, 200); strings.Contains(gp, "#grant-group") {
		t.Fatal("a read-only administrator's group page links to the grant form")
	}
}

package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestLastSuperAdminLifecycleSDK: the Users API's lifecycle operations
// never leave the org without an active super administrator: deactivate,
// suspend, delete, expire the password (also with a temporary one) and
// reset it are refused with 403 E0000038 for the last active one, change
// nothing and log nothing; with another one they pass, and two at once
// cannot both pass.
func TestLastSuperAdminLifecycleSDK(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testLastSuperAdminLifecycle(t, newTestServer(t, pg)) })
}

func testLastSuperAdminLifecycle(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts) // ownerless: counts as nobody
	assign := func(userID, role string) {
		t.Helper()
		if _, _, err := c.RoleAssignmentAPI.AssignRoleToUser(ctx, userID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString(role)}).Execute(); err != nil {
			t.Fatalf("assign %s: %v", role, err)
		}
	}
	status := func(id string) directory.Status {
		t.Helper()
		u, err := ts.db.Directory().User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Status
	}
	boss := ts.createUser(t, "boss@example.com", "Secret-Passw0rd")
	assign(boss.ID, "SUPER_ADMIN")

	refusals := map[string]func() error{
		"deactivate": func() error { _, err := c.UserAPI.DeactivateUser(ctx, boss.ID).Execute(); return err },
		"suspend":    func() error { _, err := c.UserAPI.SuspendUser(ctx, boss.ID).Execute(); return err },
		"delete":     func() error { _, err := c.UserAPI.DeleteUser(ctx, boss.ID).Execute(); return err },
		"expire":     func() error { _, _, err := c.UserAPI.ExpirePassword(ctx, boss.ID).Execute(); return err },
		"temp password": func() error {
			_, _, err := c.UserAPI.ExpirePasswordAndGetTemporaryPassword(ctx, boss.ID).Execute()
			return err
		},
		"reset": func() error {
			_, _, err := c.UserAPI.GenerateResetPasswordToken(ctx, boss.ID).SendEmail(false).Execute()
			return err
		},
	}
	for name, op := range refusals {
		err := op()
		if roleErrCode(err) != "E0000038" || !strings.Contains(string(err.(*okta.GenericOpenAPIError).Body()), "last active Super Administrator") {
			t.Fatalf("%s of the last super admin: %v", name, err)
		}
		if s := status(boss.ID); s != directory.Active {
			t.Fatalf("%s refused, but boss is %s", name, s)
		}
	}
	if r := ts.call(t, "POST", "/api/v1/users/"+boss.ID+"/lifecycle/deactivate", ts.token, ""); r.status != 403 || r.body["errorCode"] != "E0000038" {
		t.Fatalf("raw deactivate: %d %s", r.status, r.raw)
	}
	if evs := ts.logEvents(t, `target.id eq "`+boss.ID+`" and eventType sw "user.lifecycle"`); strings.Contains(evs, "deactivate") || strings.Contains(evs, "suspend") {
		t.Fatalf("refused operations were logged: %s", evs)
	}
	// Holding the role through a group does not count as the
	// individually assigned super administrator Okta keeps.
	helpers, err := ts.directory.CreateGroup(ctx, "Helpers", "")
	if err != nil {
		t.Fatal(err)
	}
	dee := ts.createUser(t, "dee@example.com", "Secret-Passw0rd")
	if err := ts.directory.AddMember(ctx, helpers.ID, dee.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToGroup(ctx, helpers.ID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserAPI.SuspendUser(ctx, boss.ID).Execute(); roleErrCode(err) != "E0000038" {
		t.Fatalf("suspend the last individually assigned super admin: %v", err)
	}
	// ... while dee, a super administrator through the group, may go.
	if _, err := c.UserAPI.SuspendUser(ctx, dee.ID).Execute(); err != nil {
		t.Fatalf("suspend a group-held super admin: %v", err)
	}

	// With carol, boss may be suspended; then carol is the last one, and a
	// suspended super administrator does not count.
	carol := ts.createUser(t, "carol@example.com", "Secret-Passw0rd")
	assign(carol.ID, "SUPER_ADMIN")
	if _, err := c.UserAPI.SuspendUser(ctx, boss.ID).Execute(); err != nil {
		t.Fatalf("suspend boss with carol: %v", err)
	}
	if _, err := c.UserAPI.DeactivateUser(ctx, carol.ID).Execute(); roleErrCode(err) != "E0000038" || status(carol.ID) != directory.Active {
		t.Fatalf("deactivate carol, the last active one: %v", err)
	}
	if _, err := c.UserAPI.UnsuspendUser(ctx, boss.ID).Execute(); err != nil {
		t.Fatal(err)
	}

	// Two deactivations at once, of the only two active super
	// administrators: one passes, the other is refused.
	var wg sync.WaitGroup
	results := make([]apiResult, 2)
	for i, id := range []string{boss.ID, carol.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ts.call(t, "POST", "/api/v1/users/"+id+"/lifecycle/deactivate", ts.token, "")
		}()
	}
	wg.Wait()
	if (results[0].status == 200) == (results[1].status == 200) {
		t.Fatalf("racing deactivations: %d %s / %d %s", results[0].status, results[0].raw, results[1].status, results[1].raw)
	}
	for _, r := range results {
		if r.status != 200 && r.body["errorCode"] != "E0000038" {
			t.Fatalf("racing deactivation: %d %s", r.status, r.raw)
		}
	}
	if status(boss.ID) == directory.Active == (status(carol.ID) == directory.Active) {
		t.Fatalf("after the race: boss %s, carol %s", status(boss.ID), status(carol.ID))
	}
	// A person who is no administrator is deactivated as before.
	plain := ts.createUser(t, "plain@example.com", "Secret-Passw0rd")
	if _, err := c.UserAPI.DeactivateUser(ctx, plain.ID).Execute(); err != nil {
		t.Fatal(err)
	}
}

// TestLastSuperAdminConsole: the console's lifecycle buttons go through
// the same rule. root signs in as a super administrator through a group;
// boss is the only one in their own name, whom root cannot suspend,
// deactivate or reset; the page says why and nothing changes.
func TestLastSuperAdminConsole(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	b, root := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	boss := ts.createUser(t, "boss@example.com", "Secret-Passw0rd")
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToUser(ctx, boss.ID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	admins, _ := ts.directory.CreateGroup(ctx, "Admins", "")
	if err := ts.directory.AddMember(ctx, admins.ID, root.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToGroup(ctx, admins.ID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	roles, _, _ := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, root.ID).Execute()
	for _, r := range roles {
		if r.GetAssignmentType() == "USER" {
			if _, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, root.ID, r.GetId()).Execute(); err != nil {
				t.Fatalf("revoke root's own role: %v", err)
			}
		}
	}
	page := b.page("/admin/people/"+boss.ID, 200)
	for _, op := range []string{"suspend", "deactivate", "reset_password"} {
		code, _, body := b.submit(page, "/admin/people/"+boss.ID+"/lifecycle/"+op, nil)
		if code != 400 || !strings.Contains(body, "last active Super Administrator") {
			t.Fatalf("console %s of the last super admin: %d %.300s", op, code, body)
		}
		if u, _ := ts.db.Directory().User(ctx, boss.ID); u.Status != directory.Active {
			t.Fatalf("console %s changed boss: %s", op, u.Status)
		}
	}
	// The Administrators page lists root through the group, and the group.
	adm := b.page("/admin/security/administrators", 200)
	if !strings.Contains(adm, `through <a href="/admin/groups/`+admins.ID+`">Admins</a>`) || !strings.Contains(adm, "Groups with roles") {
		t.Fatalf("administrators page: %s", adm)
	}
	if strings.Contains(adm, `name="userId" value="`+root.ID+`"`) {
		t.Fatal("a role held through a group has a revoke button")
	}
	if gp := b.page("/admin/groups/"+admins.ID, 200); !strings.Contains(gp, "Administrator roles: SUPER_ADMIN") {
		t.Fatalf("group page without its roles: %.2000s", gp)
	}
	// With a second individually assigned one, the console suspends boss.
	carol := ts.createUser(t, "carol@example.com", "Secret-Passw0rd")
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToUser(ctx, carol.ID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := b.submit(page, "/admin/people/"+boss.ID+"/lifecycle/suspend", nil); code != 303 {
		t.Fatalf("console suspend with another super admin: %d", code)
	}
}

// TestGroupRoleAssignmentSDK drives Okta's role assignments for groups
// with the official Okta Go SDK: every member holds the group's roles, on
// their tokens too, from the moment they join until they leave; the
// member's list of roles shows them as GROUP assignments; the refusals;
// and the System Log events.
func TestGroupRoleAssignmentSDK(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testGroupRoleAssignmentSDK(t, newTestServer(t, pg)) })
}

func testGroupRoleAssignmentSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	assign := func(c *okta.APIClient, groupID, role string) (*okta.Role, *okta.APIResponse, error) {
		return c.RoleAssignmentAPI.AssignRoleToGroup(ctx, groupID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString(role)}).Execute()
	}
	apps, err := ts.directory.CreateGroup(ctx, "App owners", "")
	if err != nil {
		t.Fatal(err)
	}
	ann := ts.createUser(t, "ann@example.com", "Secret-Passw0rd")
	if err := ts.directory.AddMember(ctx, apps.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	annTok := ts.ownedToken(t, ann, "SUPER_ADMIN") // ann holds no role yet
	if r := ts.call(t, "GET", "/api/v1/users", annTok, ""); r.status != 403 {
		t.Fatalf("token of a person without a role: %d", r.status)
	}

	// Assign.
	role, resp, err := assign(c, apps.ID, "APP_ADMIN")
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("assign to group: %v", err)
	}
	if role.GetType() != "APP_ADMIN" || role.GetLabel() != "Application Administrator" || role.GetStatus() != "ACTIVE" ||
		role.GetAssignmentType() != "GROUP" || !strings.HasPrefix(role.GetId(), "gra") || len(role.GetId()) != 20 || role.GetCreated().IsZero() {
		t.Fatalf("group role: %+v", role)
	}
	raID := role.GetId()
	raw := ts.call(t, "GET", "/api/v1/groups/"+apps.ID+"/roles/"+raID, ts.token, "")
	if raw.status != 200 || raw.body["_links"].(map[string]any)["assignee"].(map[string]any)["href"] != ts.cfg.EffectiveBaseURL()+"/api/v1/groups/"+apps.ID {
		t.Fatalf("group role _links: %s", raw.raw)
	}
	if _, resp, err := assign(c, apps.ID, "APP_ADMIN"); roleErrCode(err) != "E0000090" || resp.StatusCode != 409 {
		t.Fatalf("assign twice: %v", err)
	}
	for _, typ := range []string{"ORG_ADMIN", "CUSTOM", ""} {
		if r := ts.call(t, "POST", "/api/v1/groups/"+apps.ID+"/roles", ts.token, `{"type":"`+typ+`"}`); r.status != 400 || r.body["errorCode"] != "E0000001" {
			t.Fatalf("type %q: %d %s", typ, r.status, r.raw)
		}
	}
	if _, _, err := assign(c, "00gnosuchgroup0000000", "APP_ADMIN"); roleErrCode(err) != "E0000007" {
		t.Fatalf("unknown group: %v", err)
	}
	list, _, err := c.RoleAssignmentAPI.ListGroupAssignedRoles(ctx, apps.ID).Execute()
	if err != nil || len(list) != 1 || list[0].GetId() != raID {
		t.Fatalf("list group roles: %v %+v", err, list)
	}
	if got, _, err := c.RoleAssignmentAPI.GetGroupAssignedRole(ctx, apps.ID, raID).Execute(); err != nil || got.GetType() != "APP_ADMIN" {
		t.Fatalf("get group role: %v", err)
	}

	// ann now acts as an application administrator, on her token too.
	if r := ts.call(t, "GET", "/api/v1/users", annTok, ""); r.status != 200 {
		t.Fatalf("member's token reads: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/groups", annTok, `{"profile":{"name":"x"}}`); r.status != 403 || r.body["errorCode"] != "E0000006" {
		t.Fatalf("application administrator's token writes the directory: %d", r.status)
	}
	// Her roles show the group's, as Okta lists them; it is revoked on
	// the group, not on her.
	mine, _, err := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, ann.ID).Execute()
	if err != nil || len(mine) != 1 || mine[0].GetId() != raID || mine[0].GetAssignmentType() != "GROUP" {
		t.Fatalf("member's roles: %v %+v", err, mine)
	}
	if _, _, err := c.RoleAssignmentAPI.GetUserAssignedRole(ctx, ann.ID, raID).Execute(); err != nil {
		t.Fatalf("get the group's role on the member: %v", err)
	}
	if _, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, ann.ID, raID).Execute(); roleErrCode(err) != "E0000038" {
		t.Fatalf("revoke a group's role on a member: %v", err)
	}
	as, _, err := c.RoleAssignmentAPI.ListUsersWithRoleAssignments(ctx).Execute()
	if err != nil || len(as.Value) != 1 || as.Value[0].GetId() != ann.ID {
		t.Fatalf("assignees: %v %+v", err, as)
	}
	// App targets of a group's APP_ADMIN role: all apps, not limited.
	targets, _, err := c.RoleTargetAPI.ListApplicationTargetsForApplicationAdministratorRoleForGroup(ctx, apps.ID, raID).Execute()
	if err != nil || len(targets) != 0 {
		t.Fatalf("group targets: %v %+v", err, targets)
	}
	if _, err := c.RoleTargetAPI.AssignAppTargetToAdminRoleForGroup(ctx, apps.ID, raID, "amazon_aws").Execute(); roleErrCode(err) != "E0000001" {
		t.Fatalf("limit a group's role: %v", err)
	}
	if _, err := c.RoleTargetAPI.UnassignAppTargetToAdminRoleForGroup(ctx, apps.ID, raID, "amazon_aws").Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("remove a target that does not exist: %v", err)
	}

	// Leaving the group takes the role at once; joining again gives it.
	if err := ts.directory.RemoveMember(ctx, apps.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", annTok, ""); r.status != 403 {
		t.Fatalf("token after leaving the group: %d", r.status)
	}
	if l, _, _ := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, ann.ID).Execute(); len(l) != 0 {
		t.Fatalf("roles after leaving: %+v", l)
	}
	if err := ts.directory.AddMember(ctx, apps.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", annTok, ""); r.status != 200 {
		t.Fatalf("token after joining again: %d", r.status)
	}

	// A super administrators' group: its members write the directory;
	// read-only and application administrators cannot assign group roles.
	supers, _ := ts.directory.CreateGroup(ctx, "Supers", "")
	bo := ts.createUser(t, "bo@example.com", "Secret-Passw0rd")
	if err := ts.directory.AddMember(ctx, supers.ID, bo.ID); err != nil {
		t.Fatal(err)
	}
	annC := sdkClientWith(t, ts, annTok)
	if _, _, err := assign(annC, supers.ID, "SUPER_ADMIN"); roleErrCode(err) != "E0000006" {
		t.Fatalf("application administrator assigns a group role: %v", err)
	}
	superRole, _, err := assign(c, supers.ID, "SUPER_ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	boTok := ts.ownedToken(t, bo, "SUPER_ADMIN")
	if r := ts.call(t, "POST", "/api/v1/groups", boTok, `{"profile":{"name":"made by bo"}}`); r.status != 200 {
		t.Fatalf("super administrator through a group writes: %d %s", r.status, r.raw)
	}
	// bo is the only active super administrator (the test token has no
	// owner): the group keeps the role, bo stays in the group, the group
	// stays, and bo stays active.
	if resp, err := c.RoleAssignmentAPI.UnassignRoleFromGroup(ctx, supers.ID, superRole.GetId()).Execute(); roleErrCode(err) != "E0000038" || resp.StatusCode != 403 {
		t.Fatalf("revoke the last super administrators' group: %v", err)
	}
	if r := ts.call(t, "DELETE", "/api/v1/groups/"+supers.ID+"/users/"+bo.ID, ts.token, ""); r.status != 403 || r.body["errorCode"] != "E0000038" {
		t.Fatalf("remove the last super admin from the group: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "DELETE", "/api/v1/groups/"+supers.ID, ts.token, ""); r.status != 403 || r.body["errorCode"] != "E0000038" {
		t.Fatalf("delete the last super administrators' group: %d %s", r.status, r.raw)
	}
	if _, err := c.UserAPI.DeactivateUser(ctx, bo.ID).Execute(); roleErrCode(err) != "E0000038" {
		t.Fatalf("deactivate the last super admin (through a group): %v", err)
	}
	// Once someone holds it in their own name, the group's role goes.
	cy := ts.createUser(t, "cy@example.com", "Secret-Passw0rd")
	if _, _, err := c.RoleAssignmentAPI.AssignRoleToUser(ctx, cy.ID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute(); err != nil {
		t.Fatal(err)
	}
	if resp, err := c.RoleAssignmentAPI.UnassignRoleFromGroup(ctx, supers.ID, superRole.GetId()).Execute(); err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke the group's role: %v", err)
	}
	if r := ts.call(t, "POST", "/api/v1/groups", boTok, `{"profile":{"name":"again"}}`); r.status != 403 {
		t.Fatalf("bo's token after the group's revoke: %d", r.status)
	}
	if _, _, err := c.RoleAssignmentAPI.GetGroupAssignedRole(ctx, supers.ID, superRole.GetId()).Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("revoked group role: %v", err)
	}
	if _, err := c.RoleAssignmentAPI.UnassignRoleFromGroup(ctx, supers.ID, superRole.GetId()).Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("revoke twice: %v", err)
	}
	// The same id after a new grant.
	again, _, err := assign(c, supers.ID, "SUPER_ADMIN")
	if err != nil || again.GetId() != superRole.GetId() {
		t.Fatalf("regrant: %v", err)
	}
	// Deleting a group takes its roles (and logs their revoke).
	if _, err := c.GroupAPI.DeleteGroup(ctx, apps.ID).Execute(); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", annTok, ""); r.status != 403 {
		t.Fatalf("token after the group's deletion: %d", r.status)
	}

	// The events: Okta's group.privilege.grant and .revoke, with the group
	// as target and the role; none for the refusals.
	grants := ts.logEvents(t, `eventType eq "group.privilege.grant"`)
	if strings.Count(grants, `"eventType":"group.privilege.grant"`) != 3 || !strings.Contains(grants, `"privilegeGranted":"SUPER_ADMIN"`) ||
		!strings.Contains(grants, `"type":"UserGroup"`) || !strings.Contains(grants, `"displayName":"App owners"`) {
		t.Fatalf("grant events: %s", grants)
	}
	revokes := ts.logEvents(t, `eventType eq "group.privilege.revoke"`)
	if strings.Count(revokes, `"eventType":"group.privilege.revoke"`) != 2 || !strings.Contains(revokes, `"privilegeRevoked":"APP_ADMIN"`) {
		t.Fatalf("revoke events: %s", revokes)
	}
}

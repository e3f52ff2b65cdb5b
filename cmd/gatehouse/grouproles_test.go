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
	if strings.Contains(adm, "Revoke SUPER_ADMIN from Pat Doe?\" ") {
		t.Fatal("a group-held role has a revoke button")
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

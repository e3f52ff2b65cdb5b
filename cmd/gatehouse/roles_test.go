package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// sdkClientWith is sdkClient with another API token.
func sdkClientWith(t *testing.T, ts *testServer, token string) *okta.APIClient {
	t.Helper()
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl(ts.srv.URL), okta.WithToken(token), okta.WithTestingDisableHttpsCheck(true),
		okta.WithCache(false), okta.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = strings.TrimPrefix(ts.srv.URL, "http://")
	return okta.NewAPIClient(cfg)
}

// roleErrCode is oktaErrorCode, also for statuses the SDK's spec does not
// declare (such as 409), whose error carries only the body.
func roleErrCode(err error) string {
	var ge *okta.GenericOpenAPIError
	if errors.As(err, &ge) && ge.Model() == nil {
		var e struct {
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(ge.Body(), &e) == nil && e.ErrorCode != "" {
			return e.ErrorCode
		}
	}
	return oktaErrorCode(err)
}

// ownedToken makes an API token owned by u with the given role.
func (ts *testServer) ownedToken(t *testing.T, u *directory.User, role string) string {
	t.Helper()
	tok, _, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "token of "+u.Login(), u.ID, role)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRoleAssignmentSDK drives Okta's role assignment API for users with
// the official Okta Go SDK: grant, list, get, revoke, the refusals, the
// tokens of people who lose a role, and the System Log events.
func TestRoleAssignmentSDK(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testRoleAssignmentSDK(t, newTestServer(t, pg)) })
}

func testRoleAssignmentSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts) // the ownerless super administrator token of `gatehouse token create`
	assign := func(c *okta.APIClient, userID, role string) (*okta.Role, *okta.APIResponse, error) {
		return c.RoleAssignmentAPI.AssignRoleToUser(ctx, userID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString(role)}).Execute()
	}
	alice := ts.createUser(t, "alice@example.com", "Secret-Passw0rd")
	boss := ts.createUser(t, "boss@example.com", "Secret-Passw0rd")

	// Grant.
	role, resp, err := assign(c, alice.ID, "APP_ADMIN")
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("assign APP_ADMIN: %v", err)
	}
	if role.GetType() != "APP_ADMIN" || role.GetLabel() != "Application Administrator" || role.GetStatus() != "ACTIVE" ||
		role.GetAssignmentType() != "USER" || !strings.HasPrefix(role.GetId(), "ra") || role.GetCreated().IsZero() {
		t.Fatalf("role: %+v", role)
	}
	appAdminID := role.GetId()
	if roles, _ := ts.db.Tokens().AdminRoles(ctx, alice.ID); len(roles) != 1 || roles[0] != "APP_ADMIN" {
		t.Fatalf("stored roles: %v", roles)
	}
	// The same role again: Okta's E0000090 (409), and no second event.
	if _, resp, err := assign(c, alice.ID, "APP_ADMIN"); roleErrCode(err) != "E0000090" || resp.StatusCode != 409 {
		t.Fatalf("assign twice: %v", err)
	}
	// List and get.
	list, _, err := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, alice.ID).Execute()
	if err != nil || len(list) != 1 || list[0].GetId() != appAdminID || list[0].GetType() != "APP_ADMIN" {
		t.Fatalf("list: %v %+v", err, list)
	}
	got, _, err := c.RoleAssignmentAPI.GetUserAssignedRole(ctx, alice.ID, appAdminID).Execute()
	if err != nil || got.GetType() != "APP_ADMIN" || got.GetId() != appAdminID {
		t.Fatalf("get: %v %+v", err, got)
	}
	raw := ts.call(t, "GET", "/api/v1/users/"+alice.ID+"/roles/"+appAdminID, ts.token, "")
	if links, _ := raw.body["_links"].(map[string]any); links == nil || links["assignee"].(map[string]any)["href"] != ts.cfg.EffectiveBaseURL()+"/api/v1/users/"+alice.ID {
		t.Fatalf("_links: %s", raw.raw)
	}
	if _, _, err := c.RoleAssignmentAPI.GetUserAssignedRole(ctx, boss.ID, appAdminID).Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("another person's assignment id: %v", err)
	}

	// Role types Gatehouse does not have, and nonsense, are refused with
	// the allowed types named; nothing changes.
	for _, typ := range []string{"USER_ADMIN", "ORG_ADMIN", "HELP_DESK_ADMIN", "CUSTOM", "super_admin"} {
		r := ts.call(t, "POST", "/api/v1/users/"+boss.ID+"/roles", ts.token, `{"type":"`+typ+`"}`)
		if r.status != 400 || r.body["errorCode"] != "E0000001" || !strings.Contains(r.raw, "SUPER_ADMIN, APP_ADMIN, READ_ONLY_ADMIN") {
			t.Fatalf("type %s: %d %s", typ, r.status, r.raw)
		}
	}
	if r := ts.call(t, "POST", "/api/v1/users/"+boss.ID+"/roles", ts.token, `{}`); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("no type: %d %s", r.status, r.raw)
	}
	if roles, _ := ts.db.Tokens().AdminRoles(ctx, boss.ID); len(roles) != 0 {
		t.Fatalf("refused types granted %v", roles)
	}
	// Only an ACTIVE person becomes an administrator.
	staged, err := ts.directory.CreateUser(ctx, directory.CreateUserInput{Profile: directory.Profile{"login": "staged@example.com", "email": "staged@example.com", "firstName": "S", "lastName": "T"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := assign(c, staged.ID, "READ_ONLY_ADMIN"); roleErrCode(err) != "E0000001" {
		t.Fatalf("staged user: %v", err)
	}

	// App targets: Gatehouse's app administrators cover every app, which
	// Okta answers with an empty list; limiting them is refused.
	targets, _, err := c.RoleTargetAPI.ListApplicationTargetsForApplicationAdministratorRoleForUser(ctx, alice.ID, appAdminID).Execute()
	if err != nil || len(targets) != 0 {
		t.Fatalf("targets: %v %+v", err, targets)
	}
	if _, err := c.RoleTargetAPI.AssignAllAppsAsTargetToRoleForUser(ctx, alice.ID, appAdminID).Execute(); err != nil {
		t.Fatalf("all apps: %v", err)
	}
	if _, err := c.RoleTargetAPI.AssignAppTargetToAdminRoleForUser(ctx, alice.ID, appAdminID, "amazon_aws").Execute(); roleErrCode(err) != "E0000001" {
		t.Fatalf("limit to an app: %v", err)
	}

	// The super administrators: boss, then carol.
	bossRole, _, err := assign(c, boss.ID, "SUPER_ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RoleTargetAPI.ListApplicationTargetsForApplicationAdministratorRoleForUser(ctx, boss.ID, bossRole.GetId()).Execute(); roleErrCode(err) != "E0000091" {
		t.Fatalf("targets of a super admin: %v", err)
	}
	// The last active super administrator keeps the role.
	if resp, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, boss.ID, bossRole.GetId()).Execute(); err == nil || resp.StatusCode != 403 {
		t.Fatalf("revoke the last super admin: %v", err)
	}
	carol := ts.createUser(t, "carol@example.com", "Secret-Passw0rd")
	carolRole, _, err := assign(c, carol.ID, "SUPER_ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	// Nobody revokes their own Super Administrator role, not even with a
	// token.
	bossC := sdkClientWith(t, ts, ts.ownedToken(t, boss, "SUPER_ADMIN"))
	if _, err := bossC.RoleAssignmentAPI.UnassignRoleFromUser(ctx, boss.ID, bossRole.GetId()).Execute(); err == nil || !strings.Contains(string(err.(*okta.GenericOpenAPIError).Body()), "your own Super Administrator role") {
		t.Fatalf("revoke own: %v", err)
	}
	if roles, _ := ts.db.Tokens().AdminRoles(ctx, boss.ID); len(roles) != 1 {
		t.Fatalf("boss lost the role: %v", roles)
	}

	// A read-only administrator's token reads roles and changes none; so
	// does an application administrator's.
	ro := ts.createUser(t, "ro@example.com", "Secret-Passw0rd")
	if _, _, err := assign(bossC, ro.ID, "READ_ONLY_ADMIN"); err != nil {
		t.Fatalf("boss grants: %v", err)
	}
	roC := sdkClientWith(t, ts, ts.ownedToken(t, ro, "READ_ONLY_ADMIN"))
	if l, _, err := roC.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, carol.ID).Execute(); err != nil || len(l) != 1 {
		t.Fatalf("read-only lists: %v", err)
	}
	aliceTok := ts.ownedToken(t, alice, "SUPER_ADMIN") // more than alice holds
	aliceC := sdkClientWith(t, ts, aliceTok)
	for name, cl := range map[string]*okta.APIClient{"read-only": roC, "app admin": aliceC} {
		if _, _, err := assign(cl, boss.ID, "APP_ADMIN"); roleErrCode(err) != "E0000006" {
			t.Fatalf("%s grants: %v", name, err)
		}
		if _, err := cl.RoleAssignmentAPI.UnassignRoleFromUser(ctx, carol.ID, carolRole.GetId()).Execute(); roleErrCode(err) != "E0000006" {
			t.Fatalf("%s revokes: %v", name, err)
		}
	}
	// A token never does more than its owner holds: alice's SUPER_ADMIN
	// token acts as an application administrator.
	if r := ts.call(t, "POST", "/api/v1/groups", aliceTok, `{"profile":{"name":"x"}}`); r.status != 403 || r.body["errorCode"] != "E0000006" {
		t.Fatalf("app admin's token writes the directory: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/users", aliceTok, ""); r.status != 200 {
		t.Fatalf("app admin's token reads: %d %s", r.status, r.raw)
	}

	// Users with role assignments, in pages.
	as, _, err := c.RoleAssignmentAPI.ListUsersWithRoleAssignments(ctx).Execute()
	if err != nil || len(as.Value) != 4 {
		t.Fatalf("assignees: %v %+v", err, as)
	}
	page := ts.call(t, "GET", "/api/v1/iam/assignees/users?limit=3", ts.token, "")
	next, _ := page.body["_links"].(map[string]any)["next"].(map[string]any)["href"].(string)
	nu, _ := url.Parse(next)
	rest := ts.call(t, "GET", nu.RequestURI(), ts.token, "")
	if len(page.body["value"].([]any)) != 3 || len(rest.body["value"].([]any)) != 1 || rest.body["_links"] != nil {
		t.Fatalf("pages: %s / %s", page.raw, rest.raw)
	}

	// Revoke: alice's token loses its access at once.
	if resp, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, alice.ID, appAdminID).Execute(); err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke: %v", err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", aliceTok, ""); r.status != 403 || r.body["errorCode"] != "E0000006" {
		t.Fatalf("token of a person without a role: %d %s", r.status, r.raw)
	}
	if _, _, err := c.RoleAssignmentAPI.GetUserAssignedRole(ctx, alice.ID, appAdminID).Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("revoked role: %v", err)
	}
	if _, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, alice.ID, appAdminID).Execute(); roleErrCode(err) != "E0000007" {
		t.Fatalf("revoke twice: %v", err)
	}
	// The assignment id is the same after a new grant; the token works again.
	again, _, err := assign(c, alice.ID, "APP_ADMIN")
	if err != nil || again.GetId() != appAdminID {
		t.Fatalf("regrant: %v %s != %s", err, again.GetId(), appAdminID)
	}
	if r := ts.call(t, "GET", "/api/v1/users", aliceTok, ""); r.status != 200 {
		t.Fatalf("token after the new grant: %d", r.status)
	}
	// A suspended administrator's tokens do nothing until unsuspended.
	if _, err := ts.directory.Transition(ctx, alice.ID, directory.OpSuspend); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", aliceTok, ""); r.status != 403 {
		t.Fatalf("token of a suspended administrator: %d", r.status)
	}
	if _, err := ts.directory.Transition(ctx, alice.ID, directory.OpUnsuspend); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", aliceTok, ""); r.status != 200 {
		t.Fatalf("token after unsuspend: %d", r.status)
	}
	// boss revokes carol (another super admin remains: boss) ...
	if _, err := bossC.RoleAssignmentAPI.UnassignRoleFromUser(ctx, carol.ID, carolRole.GetId()).Execute(); err != nil {
		t.Fatalf("boss revokes carol: %v", err)
	}
	// ... and is now the last one again.
	if _, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, boss.ID, bossRole.GetId()).Execute(); err == nil {
		t.Fatal("revoked the last super admin")
	}

	// The events: one grant per grant (none for the refused ones), one
	// revoke per revoke, with the person as target and the role.
	grants := ts.logEvents(t, `eventType eq "user.account.privilege.grant" and target.id eq "`+alice.ID+`"`)
	if n := strings.Count(grants, `"privilegeGranted":"APP_ADMIN"`); n != 2 {
		t.Fatalf("%d grant events for alice: %s", n, grants)
	}
	revokes := ts.logEvents(t, `eventType eq "user.account.privilege.revoke"`)
	if strings.Count(revokes, `"eventType":"user.account.privilege.revoke"`) != 2 || !strings.Contains(revokes, `"privilegeRevoked":"SUPER_ADMIN"`) ||
		!strings.Contains(revokes, `"alternateId":"carol@example.com"`) {
		t.Fatalf("revoke events: %s", revokes)
	}
	if n := strings.Count(ts.logEvents(t, `eventType eq "user.account.privilege.grant" and target.id eq "`+staged.ID+`"`), "privilegeGranted"); n != 0 {
		t.Fatalf("refused grant logged")
	}
}

// TestRoleAssignmentConsoleAgrees: the console and the API grant and
// revoke through one path: what one does, the other shows, with the same
// refusals and the same events.
func TestRoleAssignmentConsoleAgrees(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	b, root := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	lee := ts.createUser(t, "lee@example.com", "Secret-Passw0rd")
	page := b.page("/admin/security/administrators", 200)
	if code, _, _ := b.submit(page, "/admin/security/administrators/grant", url.Values{"username": {"lee@example.com"}, "role": {"APP_ADMIN"}}); code != 303 {
		t.Fatalf("console grant: %d", code)
	}
	list, _, err := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, lee.ID).Execute()
	if err != nil || len(list) != 1 || list[0].GetType() != "APP_ADMIN" {
		t.Fatalf("API after the console grant: %v %+v", err, list)
	}
	// The same role again: refused beside the role, as the API's E0000090.
	code, _, got := b.submit(page, "/admin/security/administrators/grant", url.Values{"username": {"lee@example.com"}, "role": {"APP_ADMIN"}})
	// (the page's revoke buttons carry hidden role inputs, so look for the select)
	if code != 400 || !regexp.MustCompile(`<select id="[^"]*" name="role" aria-invalid="true"`).MatchString(got) || !strings.Contains(got, "Pat Doe already holds this role.") {
		t.Fatalf("console grant twice: %d", code)
	}
	// A person who is not ACTIVE: refused beside the username.
	if _, err := ts.directory.Transition(ctx, lee.ID, directory.OpSuspend); err != nil {
		t.Fatal(err)
	}
	code, _, got = b.submit(page, "/admin/security/administrators/grant", url.Values{"username": {"lee@example.com"}, "role": {"READ_ONLY_ADMIN"}})
	if code != 400 || !strings.Contains(fieldError(t, got, "username"), "ACTIVE") {
		t.Fatalf("console grant to a suspended person: %d", code)
	}
	// The API revokes; the console no longer lists the role.
	if _, err := c.RoleAssignmentAPI.UnassignRoleFromUser(ctx, lee.ID, list[0].GetId()).Execute(); err != nil {
		t.Fatal(err)
	}
	if got := b.page("/admin/security/administrators?lookup=lee@example.com", 200); strings.Contains(got, "Revoke APP_ADMIN from") {
		t.Fatal("console lists a role the API revoked")
	}
	// The console's own-role rule holds for the API too: root's token
	// cannot revoke root's Super Administrator role.
	rootC := sdkClientWith(t, ts, ts.ownedToken(t, root, "SUPER_ADMIN"))
	roles, _, _ := rootC.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, root.ID).Execute()
	if len(roles) != 1 {
		t.Fatalf("root's roles: %+v", roles)
	}
	if _, err := rootC.RoleAssignmentAPI.UnassignRoleFromUser(ctx, root.ID, roles[0].GetId()).Execute(); err == nil {
		t.Fatal("revoked own super admin role through the API")
	}
	// One event shape from both surfaces: the console's grant and the
	// API's revoke.
	evs := ts.logEvents(t, `target.id eq "`+lee.ID+`"`)
	if !strings.Contains(evs, `"privilegeGranted":"APP_ADMIN"`) || !strings.Contains(evs, `"privilegeRevoked":"APP_ADMIN"`) ||
		strings.Count(evs, `"eventType":"user.account.privilege.grant"`) != 1 {
		t.Fatalf("events: %s", evs)
	}
}

// TestTokenCreateOwner: `gatehouse token create --owner` refuses a person
// who holds no administrator role (the token could do nothing) and takes
// an administrator.
func TestTokenCreateOwner(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	run1 := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--data-dir", dir, "--log-level", "error"), strings.NewReader(stdin), &out, io.Discard, env)
		return strings.TrimSpace(out.String()), err
	}
	if _, err := run1("Choose-A-Strong-Passw0rd\n", "admin", "create", "--email", "root@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if _, err := run1(`{"profile":{"login":"pat@example.com","email":"pat@example.com","firstName":"Pat","lastName":"Doe"}}`+"\n", "import", "users", "--file", "-"); err != nil {
		t.Skipf("import from stdin: %v", err)
	}
	if _, err := run1("", "token", "create", "--name", "x", "--owner", "pat@example.com"); err == nil || !strings.Contains(err.Error(), "holds no administrator role") {
		t.Fatalf("owner without a role: %v", err)
	}
	if tok, err := run1("", "token", "create", "--name", "y", "--owner", "root@example.com"); err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("owner with a role: %v %q", err, tok)
	}
}

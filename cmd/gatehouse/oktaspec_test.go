package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestOktaSDKSpecOperations drives, with the official Okta Go SDK, the
// operations of Okta's management spec (the SDK's okta-management-APIs
// OpenAPI document) that the SDK calls by their own paths and defaults:
// expirePasswordAndGetTemporaryPassword, reactivateUser's sendEmail
// default, revokeSessions on reset_password, the temporary password and
// change_password, listUserGroups' paging and
// listAssignedApplicationsForGroup.
func TestOktaSDKSpecOperations(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	sessions := func(u *directory.User) int {
		t.Helper()
		xs, err := ts.db.Sessions().UserSessions(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(xs)
	}
	signIn := func(u *directory.User, password string) {
		t.Helper()
		if r, _ := newBrowser(t, ts.srv.URL).signIn(u.Login(), password, "/app/UserHome"); r.StatusCode != 303 {
			t.Fatalf("sign-in of %s: %d", u.Login(), r.StatusCode)
		}
		if sessions(u) == 0 {
			t.Fatalf("no session after the sign-in of %s", u.Login())
		}
	}

	// refreshSession extends the idle timeout, as the session's
	// _links.refresh says.
	hal := ts.createUser(t, "hal@example.com", "Correct-Horse-42")
	signIn(hal, "Correct-Horse-42")
	xs, _ := ts.db.Sessions().UserSessions(ctx, hal.ID)
	before, _, err := c.SessionAPI.GetSession(ctx, xs[0].ID).Execute()
	if err != nil {
		t.Fatalf("get session: %v", err)
	}
	if href := before.GetLinks().Self.GetHref(); href != ts.cfg.EffectiveBaseURL()+"/api/v1/sessions/"+xs[0].ID {
		t.Fatalf("session self link %q", href)
	}
	realNow := ts.sessions.Now
	ts.sessions.Now = func() time.Time { return realNow().Add(30 * time.Minute) }
	refreshed, _, err := c.SessionAPI.RefreshSession(ctx, xs[0].ID).Execute()
	ts.sessions.Now = realNow
	if err != nil {
		t.Fatalf("refresh session: %v (%s)", err, oktaErrorCode(err))
	}
	if d := refreshed.GetExpiresAt().Sub(before.GetExpiresAt()); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("refresh moved expiresAt by %v, want 30m (from %v to %v)", d, before.GetExpiresAt(), refreshed.GetExpiresAt())
	}
	if again, _, _ := c.SessionAPI.GetSession(ctx, xs[0].ID).Execute(); !again.GetExpiresAt().Equal(refreshed.GetExpiresAt()) {
		t.Fatalf("the refresh was not stored: %v", again.GetExpiresAt())
	}
	if _, _, err := c.SessionAPI.RefreshSession(ctx, "nosuchsession").Execute(); !strings.Contains(oktaErrorCode(err), "E0000007") {
		t.Fatalf("refresh of an unknown session: %v", oktaErrorCode(err))
	}

	// expire_password_with_temp_password: the SDK's own path, with
	// revokeSessions=true ending the person's sessions.
	ann := ts.createUser(t, "ann@example.com", "Correct-Horse-42")
	signIn(ann, "Correct-Horse-42")
	temp, _, err := c.UserAPI.ExpirePasswordAndGetTemporaryPassword(ctx, ann.ID).RevokeSessions(true).Execute()
	if err != nil {
		t.Fatalf("expire with temporary password: %v (%s)", err, oktaErrorCode(err))
	}
	if len(temp.GetTempPassword()) < 8 {
		t.Fatalf("temporary password %q", temp.GetTempPassword())
	}
	if got, _, _ := c.UserAPI.GetUser(ctx, ann.ID).Execute(); got.GetStatus() != "PASSWORD_EXPIRED" {
		t.Fatalf("after expire_password_with_temp_password: %s", got.GetStatus())
	}
	if n := sessions(ann); n != 0 {
		t.Fatalf("revokeSessions=true left %d sessions", n)
	}
	// Without revokeSessions the sessions stay (its default is false).
	bea := ts.createUser(t, "bea@example.com", "Correct-Horse-42")
	signIn(bea, "Correct-Horse-42")
	if _, _, err := c.UserAPI.ExpirePasswordAndGetTemporaryPassword(ctx, bea.ID).Execute(); err != nil {
		t.Fatalf("expire with temporary password: %v (%s)", err, oktaErrorCode(err))
	}
	if n := sessions(bea); n != 1 {
		t.Fatalf("revokeSessions absent: %d sessions, want 1", n)
	}
	// A bad revokeSessions is refused and changes nothing.
	cy := ts.createUser(t, "cy@example.com", "Correct-Horse-42")
	if r := ts.call(t, "POST", "/api/v1/users/"+cy.ID+"/lifecycle/expire_password_with_temp_password?revokeSessions=perhaps", ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("bad revokeSessions: %d %s", r.status, r.raw)
	}
	if got, _, _ := c.UserAPI.GetUser(ctx, cy.ID).Execute(); got.GetStatus() != "ACTIVE" {
		t.Fatalf("a refused expire changed the status to %s", got.GetStatus())
	}

	// reset_password with revokeSessions=true (sendEmail=false answers the link).
	dee := ts.createUser(t, "dee@example.com", "Correct-Horse-42")
	signIn(dee, "Correct-Horse-42")
	reset, _, err := c.UserAPI.GenerateResetPasswordToken(ctx, dee.ID).SendEmail(false).RevokeSessions(true).Execute()
	if err != nil {
		t.Fatalf("reset_password: %v (%s)", err, oktaErrorCode(err))
	}
	if !strings.HasPrefix(reset.GetResetPasswordUrl(), ts.cfg.EffectiveBaseURL()+"/") {
		t.Fatalf("resetPasswordUrl %q", reset.GetResetPasswordUrl())
	}
	if n := sessions(dee); n != 0 {
		t.Fatalf("reset_password revokeSessions=true left %d sessions", n)
	}

	// change_password with revokeSessions: an API token has no session of
	// its own, so every session of the person ends.
	eve := ts.createUser(t, "eve@example.com", "Correct-Horse-42")
	signIn(eve, "Correct-Horse-42")
	creds, _, err := c.UserAPI.ChangePassword(ctx, eve.ID).ChangePasswordRequest(okta.ChangePasswordRequest{
		OldPassword:    &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")},
		NewPassword:    &okta.PasswordCredential{Value: okta.PtrString("Battery-Staple-43")},
		RevokeSessions: okta.PtrBool(true),
	}).Execute()
	if err != nil {
		t.Fatalf("change_password: %v (%s)", err, oktaErrorCode(err))
	}
	if creds.Password == nil || creds.Provider.GetType() != "OKTA" {
		t.Fatalf("change_password credentials: %+v", creds)
	}
	if n := sessions(eve); n != 0 {
		t.Fatalf("change_password revokeSessions=true left %d sessions", n)
	}

	// reactivate: sendEmail defaults to false (Okta's reactivateUser), so
	// without email delivery the SDK's plain call answers the link.
	pending, _, err := c.UserAPI.CreateUser(ctx).Activate(true).Body(okta.CreateUserRequest{Profile: okta.UserProfile{
		Login: okta.PtrString("fay@example.com"), Email: okta.PtrString("fay@example.com"),
		FirstName: *okta.NewNullableString(okta.PtrString("Fay")), LastName: *okta.NewNullableString(okta.PtrString("Doe")),
	}}).Execute()
	if err != nil || pending.GetStatus() != "PROVISIONED" {
		t.Fatalf("create without password: %v %s", err, pending.GetStatus())
	}
	tok, _, err := c.UserAPI.ReactivateUser(ctx, pending.GetId()).Execute()
	if err != nil {
		t.Fatalf("reactivate without sendEmail: %v (%s)", err, oktaErrorCode(err))
	}
	if tok.GetActivationToken() == "" || !strings.HasSuffix(tok.GetActivationUrl(), tok.GetActivationToken()) {
		t.Fatalf("reactivate answered %+v, want the activation link", tok)
	}
	// sendEmail=true still needs email delivery, which this server lacks
	// (the spec lists no 400 for reactivateUser, so the SDK leaves the
	// error body undecoded).
	if _, _, err := c.UserAPI.ReactivateUser(ctx, pending.GetId()).SendEmail(true).Execute(); !strings.Contains(oktaErrorCode(err), `"errorCode":"E0000001"`) {
		t.Fatalf("reactivate sendEmail=true without smtp_host: %v", oktaErrorCode(err))
	}

	// listUserGroups pages with limit and after.
	var groupIDs []string
	for _, name := range []string{"Agents", "Supervisors", "Admins"} {
		g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(name)}}).Execute()
		if err != nil {
			t.Fatalf("create group: %v", err)
		}
		if _, err := c.GroupAPI.AssignUserToGroup(ctx, g.GetId(), ann.ID).Execute(); err != nil {
			t.Fatalf("assign: %v", err)
		}
		groupIDs = append(groupIDs, g.GetId())
	}
	page, resp, err := c.UserAPI.ListUserGroups(ctx, ann.ID).Limit(2).Execute()
	if err != nil || len(page) != 2 || !resp.HasNextPage() {
		t.Fatalf("first page of user groups: %v %d next=%v", err, len(page), err == nil && resp.HasNextPage())
	}
	seen := map[string]bool{page[0].GetId(): true, page[1].GetId(): true}
	var rest []okta.Group
	if resp, err = resp.Next(&rest); err != nil || len(rest) != 1 || resp.HasNextPage() {
		t.Fatalf("second page of user groups: %v %d", err, len(rest))
	}
	seen[rest[0].GetId()] = true
	for _, id := range groupIDs {
		if !seen[id] {
			t.Fatalf("paging missed group %s: %v", id, seen)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+ann.ID+"/groups?limit=201", ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("limit over 200: %d %s", r.status, r.raw)
	}

	// listGroups: sortBy and sortOrder order search results, across pages.
	var sorted []string
	gpage, resp, err := c.GroupAPI.ListGroups(ctx).Search(`type eq "OKTA_GROUP"`).SortBy("profile.name").SortOrder("desc").Limit(2).Execute()
	for {
		if err != nil {
			t.Fatalf("sorted group search: %v (%s)", err, oktaErrorCode(err))
		}
		for _, g := range gpage {
			sorted = append(sorted, g.Profile.GetName())
		}
		if !resp.HasNextPage() {
			break
		}
		gpage = nil
		resp, err = resp.Next(&gpage)
	}
	if strings.Join(sorted, ",") != "Supervisors,Agents,Admins" {
		t.Fatalf("groups by name, descending: %v", sorted)
	}
	if r := ts.call(t, "GET", "/api/v1/groups?search=type+eq+%22OKTA_GROUP%22&sortBy=profile.name&sortOrder=sideways", ts.token, ""); r.status != 400 || !strings.Contains(r.raw, "sortOrder") {
		t.Fatalf("bad sortOrder: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/groups?search=type+eq+%22OKTA_GROUP%22&sortBy=profile.colour", ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000031" {
		t.Fatalf("sortBy an unknown attribute: %d %s", r.status, r.raw)
	}

	// listAssignedApplicationsForGroup: the apps a group is assigned to,
	// where every group's _links.apps points.
	var appIDs []string
	for _, label := range []string{"Wiki", "Tracker"} {
		r := ts.call(t, "POST", "/api/v1/apps", ts.token, samlApp(`"label":"Good"`, `"label":"`+label+`"`))
		if r.status != 200 {
			t.Fatalf("create app: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		if _, _, err := c.ApplicationGroupsAPI.AssignGroupToApplication(ctx, id, groupIDs[0]).Execute(); err != nil {
			t.Fatalf("assign group to app: %v (%s)", err, oktaErrorCode(err))
		}
		appIDs = append(appIDs, id)
	}
	g, _, _ := c.GroupAPI.GetGroup(ctx, groupIDs[0]).Execute()
	if href := g.GetLinks().Apps.GetHref(); href != ts.cfg.EffectiveBaseURL()+"/api/v1/groups/"+groupIDs[0]+"/apps" {
		t.Fatalf("group _links.apps %q", href)
	}
	apps, resp, err := c.GroupAPI.ListAssignedApplicationsForGroup(ctx, groupIDs[0]).Limit(1).Execute()
	if err != nil || len(apps) != 1 || apps[0].SamlApplication == nil || !resp.HasNextPage() {
		t.Fatalf("group apps, first page: %v %d", err, len(apps))
	}
	got := map[string]bool{apps[0].SamlApplication.GetId(): true}
	var more []okta.ListApplications200ResponseInner
	if resp, err = resp.Next(&more); err != nil || len(more) != 1 || more[0].SamlApplication == nil || resp.HasNextPage() {
		t.Fatalf("group apps, second page: %v %d", err, len(more))
	}
	got[more[0].SamlApplication.GetId()] = true
	if !got[appIDs[0]] || !got[appIDs[1]] {
		t.Fatalf("group apps %v, want %v", got, appIDs)
	}
	// The apps list's filter on group.id (the spec's listApplications
	// filter: "status, user.id, group.id or credentials.signing.kid").
	filtered, _, err := c.ApplicationAPI.ListApplications(ctx).Filter(`group.id eq "` + groupIDs[0] + `" and status eq "ACTIVE"`).Execute()
	if err != nil || len(filtered) != 2 {
		t.Fatalf("apps filtered by group.id: %v %d", err, len(filtered))
	}
	if filtered, _, err = c.ApplicationAPI.ListApplications(ctx).Filter(`group.id eq "` + groupIDs[1] + `"`).Execute(); err != nil || len(filtered) != 0 {
		t.Fatalf("apps filtered by an unassigned group: %v %d", err, len(filtered))
	}
	if none, _, err := c.GroupAPI.ListAssignedApplicationsForGroup(ctx, groupIDs[1]).Execute(); err != nil || len(none) != 0 {
		t.Fatalf("apps of an unassigned group: %v %d", err, len(none))
	}
	if _, _, err := c.GroupAPI.ListAssignedApplicationsForGroup(ctx, "00gNOPE0000000000000").Execute(); oktaErrorCode(err) != "E0000007" {
		t.Fatalf("apps of an unknown group: %v", oktaErrorCode(err))
	}

	// listUsers: "Defaults to 10 if q is provided" (200 otherwise).
	for i := 0; i < 11; i++ {
		login := fmt.Sprintf("queue%02d@example.com", i)
		if _, err := ts.directory.CreateUser(ctx, directory.CreateUserInput{Profile: directory.Profile{
			"login": login, "email": login, "firstName": "Queue", "lastName": "Agent"}}); err != nil {
			t.Fatal(err)
		}
	}
	found, resp, err := c.UserAPI.ListUsers(ctx).Q("queue").Execute()
	if err != nil || len(found) != 10 || !resp.HasNextPage() {
		t.Fatalf("q without limit: %v %d users", err, len(found))
	}
	var last []okta.User
	if resp, err = resp.Next(&last); err != nil || len(last) != 1 || resp.HasNextPage() {
		t.Fatalf("q, second page: %v %d", err, len(last))
	}
	if found, _, err = c.UserAPI.ListUsers(ctx).Q("queue").Limit(50).Execute(); err != nil || len(found) != 11 {
		t.Fatalf("q with limit 50: %v %d", err, len(found))
	}
	if all, _, err := c.UserAPI.ListUsers(ctx).Execute(); err != nil || len(all) != 18 {
		t.Fatalf("no q: %v %d users, want all 18", err, len(all))
	}

	// One user type and no realms: another type id or a realm is refused
	// (not ignored) and creates nothing; the default type, as user
	// objects show it, is accepted on create and on replace.
	profile := func(login string) okta.UserProfile {
		return okta.UserProfile{Login: okta.PtrString(login), Email: okta.PtrString(login),
			FirstName: *okta.NewNullableString(okta.PtrString("Gil")), LastName: *okta.NewNullableString(okta.PtrString("Doe"))}
	}
	_, _, err = c.UserAPI.CreateUser(ctx).Body(okta.CreateUserRequest{Profile: profile("gil@example.com"),
		Type: &okta.CreateUserRequestType{Id: okta.PtrString("oty1otherType00000000")}}).Execute()
	if oktaErrorCode(err) != "E0000001" {
		t.Fatalf("unknown user type: %v", oktaErrorCode(err))
	}
	if r := ts.call(t, "POST", "/api/v1/users", ts.token, `{"profile":{"login":"gil@example.com","email":"gil@example.com","firstName":"Gil","lastName":"Doe"},"realmId":"guo1realm0000000000"}`); r.status != 400 || !strings.Contains(r.raw, "realmId") {
		t.Fatalf("realmId: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/users?nextLogin=changePasswordLater", ts.token, `{"profile":{"login":"gil@example.com","email":"gil@example.com","firstName":"Gil","lastName":"Doe"}}`); r.status != 400 || !strings.Contains(r.raw, "nextLogin") {
		t.Fatalf("nextLogin outside its enum: %d %s", r.status, r.raw)
	}
	if _, _, err := c.UserAPI.GetUser(ctx, "gil@example.com").Execute(); oktaErrorCode(err) != "E0000007" {
		t.Fatalf("a refused create made a user: %v", oktaErrorCode(err))
	}
	gil, _, err := c.UserAPI.CreateUser(ctx).Body(okta.CreateUserRequest{Profile: profile("gil@example.com"),
		Type: &okta.CreateUserRequestType{Id: okta.PtrString(oktaapi.DefaultUserTypeID)}}).Execute()
	if err != nil {
		t.Fatalf("create with the default type: %v (%s)", err, oktaErrorCode(err))
	}
	gil.Profile.SetTitle("Agent")
	if replaced, _, err := c.UserAPI.ReplaceUser(ctx, gil.GetId()).User(*gil).Execute(); err != nil || replaced.Profile.GetTitle() != "Agent" {
		t.Fatalf("replace with the user as read: %v (%s)", err, oktaErrorCode(err))
	}
	// A profile change with a password the policy refuses changes nothing;
	// with a good password both change, in one step.
	_, _, err = c.UserAPI.UpdateUser(ctx, gil.GetId()).User(okta.UpdateUserRequest{
		Profile:     &okta.UserProfile{Title: *okta.NewNullableString(okta.PtrString("Supervisor"))},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("short")}},
	}).Execute()
	if oktaErrorCode(err) != "E0000001" {
		t.Fatalf("weak password with a profile change: %v", oktaErrorCode(err))
	}
	if got, _, _ := c.UserAPI.GetUser(ctx, gil.GetId()).Execute(); got.Profile.GetTitle() != "Agent" || got.PasswordChanged.Get() != nil {
		t.Fatalf("a refused update changed the user: title %q, passwordChanged %v", got.Profile.GetTitle(), got.PasswordChanged.Get())
	}
	both, _, err := c.UserAPI.UpdateUser(ctx, gil.GetId()).User(okta.UpdateUserRequest{
		Profile:     &okta.UserProfile{Title: *okta.NewNullableString(okta.PtrString("Supervisor"))},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-44")}},
	}).Execute()
	if err != nil || both.Profile.GetTitle() != "Supervisor" || both.PasswordChanged.Get() == nil || both.Profile.GetLogin() != "gil@example.com" {
		t.Fatalf("profile and password update: %v (%s)", err, oktaErrorCode(err))
	}
	if h, err := ts.directory.Store.PasswordHash(ctx, gil.GetId()); err != nil {
		t.Fatal(err)
	} else if ok, _, err := ts.directory.Hasher.Verify(ctx, h, "Correct-Horse-44"); err != nil || !ok {
		t.Fatalf("the password set with the profile does not verify: %v", err)
	}
	// Credentials Gatehouse sets only at creation are refused on update.
	for _, body := range []string{
		`{"credentials":{"recovery_question":{"question":"First pet?","answer":"a tortoise"}}}`,
		`{"credentials":{"password":{"hash":{"algorithm":"BCRYPT","workFactor":10,"salt":"rwh3vH166HCH/NT9XV5FYu","value":"qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}}}`,
	} {
		if r := ts.call(t, "POST", "/api/v1/users/"+gil.GetId(), ts.token, body); r.status != 400 || r.body["errorCode"] != "E0000001" || !strings.Contains(r.raw, "credentials.") {
			t.Fatalf("update with %s: %d %s", body, r.status, r.raw)
		}
	}
	gil.Type = &okta.UserType{Id: okta.PtrString("oty1otherType00000000")}
	if _, _, err := c.UserAPI.ReplaceUser(ctx, gil.GetId()).User(*gil).Execute(); oktaErrorCode(err) != "E0000001" {
		t.Fatalf("replace with another type: %v", oktaErrorCode(err))
	}
}

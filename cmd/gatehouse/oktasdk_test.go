package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

func sdkClient(t *testing.T, ts *testServer) *okta.APIClient {
	t.Helper()
	cfg, err := okta.NewConfiguration(
		okta.WithOrgUrl(ts.srv.URL),
		okta.WithToken(ts.token),
		okta.WithTestingDisableHttpsCheck(true),
		okta.WithCache(false),
		okta.WithRateLimitMaxRetries(0),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK keeps only the host name of the org URL; a test server
	// listens on a port, so give the configuration host and port.
	cfg.Host = strings.TrimPrefix(ts.srv.URL, "http://")
	return okta.NewAPIClient(cfg)
}

func oktaErrorCode(err error) string {
	var ge *okta.GenericOpenAPIError
	if errors.As(err, &ge) {
		if m, ok := ge.Model().(okta.Error); ok {
			return m.GetErrorCode()
		}
		if m, ok := ge.Model().(*okta.Error); ok {
			return m.GetErrorCode()
		}
		return string(ge.Body())
	}
	return fmt.Sprint(err)
}

// TestOktaSDK drives a running Gatehouse with the official Okta Go SDK.
func TestOktaSDK(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { testOktaSDK(t, newTestServer(t, pg)) })
	}
}

func testOktaSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)

	// Groups.
	g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString("Contact Center Agents"), Description: okta.PtrString("Amazon Connect agents")}}).Execute()
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	if g.GetId() == "" || g.GetType() != "OKTA_GROUP" || g.Profile.GetName() != "Contact Center Agents" {
		t.Fatalf("group: %+v", g)
	}

	// Create users with passwords, activated, into the group.
	var ids []string
	for i := 0; i < 5; i++ {
		login := fmt.Sprintf("agent%d@example.com", i)
		u, _, err := c.UserAPI.CreateUser(ctx).Activate(true).Body(okta.CreateUserRequest{
			Profile: okta.UserProfile{
				Login: okta.PtrString(login), Email: okta.PtrString(login),
				FirstName: *okta.NewNullableString(okta.PtrString("Agent")), LastName: *okta.NewNullableString(okta.PtrString(fmt.Sprintf("Number%d", i))),
				Department: okta.PtrString("Support"),
			},
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")}},
			GroupIds:    []string{g.GetId()},
		}).Execute()
		if err != nil {
			t.Fatalf("create user %d: %v (%s)", i, err, oktaErrorCode(err))
		}
		if u.GetStatus() != "ACTIVE" || u.Profile.GetLogin() != login || u.Created == nil {
			t.Fatalf("created user: status %s login %s", u.GetStatus(), u.Profile.GetLogin())
		}
		ids = append(ids, u.GetId())
	}

	// Get by login.
	got, _, err := c.UserAPI.GetUser(ctx, "agent3@example.com").Execute()
	if err != nil {
		t.Fatalf("get by login: %v", err)
	}
	if got.GetId() != ids[3] || got.Profile.GetLastName() != "Number3" {
		t.Fatalf("get by login returned %s %s", got.GetId(), got.Profile.GetLastName())
	}

	// List across several pages with the SDK's Link-header paging.
	users, resp, err := c.UserAPI.ListUsers(ctx).Limit(2).Execute()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	seen := map[string]bool{}
	pages := 1
	for _, u := range users {
		seen[u.GetId()] = true
	}
	for resp.HasNextPage() {
		var next []okta.User
		resp, err = resp.Next(&next)
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		pages++
		for _, u := range next {
			seen[u.GetId()] = true
		}
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("paging saw %d users in %d pages, want 5 in 3", len(seen), pages)
	}

	// Filter and search.
	filtered, _, err := c.UserAPI.ListUsers(ctx).Filter(`profile.login eq "agent1@example.com"`).Execute()
	if err != nil || len(filtered) != 1 || filtered[0].GetId() != ids[1] {
		t.Fatalf("filter: %v %d", err, len(filtered))
	}
	searched, _, err := c.UserAPI.ListUsers(ctx).Search(`profile.department eq "Support" and status eq "ACTIVE"`).Execute()
	if err != nil || len(searched) != 5 {
		t.Fatalf("search: %v %d", err, len(searched))
	}

	// Partial profile update.
	up, _, err := c.UserAPI.UpdateUser(ctx, ids[0]).User(okta.UpdateUserRequest{Profile: &okta.UserProfile{Title: *okta.NewNullableString(okta.PtrString("Team Lead"))}}).Execute()
	if err != nil {
		t.Fatalf("update: %v (%s)", err, oktaErrorCode(err))
	}
	if up.Profile.GetTitle() != "Team Lead" || up.Profile.GetLogin() != "agent0@example.com" {
		t.Fatalf("partial update lost data: title %q login %q", up.Profile.GetTitle(), up.Profile.GetLogin())
	}

	// Lifecycle.
	if _, err := c.UserAPI.SuspendUser(ctx, ids[1]).Execute(); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if _, err := c.UserAPI.SuspendUser(ctx, ids[1]).Execute(); err == nil {
		t.Fatal("suspending a suspended user succeeded")
	}
	if _, err := c.UserAPI.UnsuspendUser(ctx, ids[1]).Execute(); err != nil {
		t.Fatalf("unsuspend: %v", err)
	}
	if _, err := c.UserAPI.DeactivateUser(ctx, ids[2]).Execute(); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	d, _, _ := c.UserAPI.GetUser(ctx, ids[2]).Execute()
	if d.GetStatus() != "DEPROVISIONED" {
		t.Fatalf("after deactivate: %s", d.GetStatus())
	}
	if _, _, err := c.UserAPI.ActivateUser(ctx, ids[2]).SendEmail(false).Execute(); err != nil {
		t.Fatalf("activate: %v", err)
	}
	d, _, _ = c.UserAPI.GetUser(ctx, ids[2]).Execute()
	if d.GetStatus() != "ACTIVE" {
		t.Fatalf("after activate: %s", d.GetStatus())
	}

	// Group membership.
	members, _, err := c.GroupAPI.ListGroupUsers(ctx, g.GetId()).Execute()
	if err != nil || len(members) != 5 {
		t.Fatalf("members: %v %d", err, len(members))
	}
	if _, err := c.GroupAPI.UnassignUserFromGroup(ctx, g.GetId(), ids[4]).Execute(); err != nil {
		t.Fatalf("unassign: %v", err)
	}
	ug, _, err := c.UserAPI.ListUserGroups(ctx, ids[4]).Execute()
	if err != nil || len(ug) != 0 {
		t.Fatalf("user groups after unassign: %v %d", err, len(ug))
	}
	if _, err := c.GroupAPI.AssignUserToGroup(ctx, g.GetId(), ids[4]).Execute(); err != nil {
		t.Fatalf("assign: %v", err)
	}
	ug, _, _ = c.UserAPI.ListUserGroups(ctx, ids[4]).Execute()
	if len(ug) != 1 || ug[0].GetId() != g.GetId() {
		t.Fatalf("user groups after assign: %d", len(ug))
	}

	// Delete: first deactivates, second removes.
	if _, err := c.UserAPI.DeleteUser(ctx, ids[4]).Execute(); err != nil {
		t.Fatalf("delete 1: %v", err)
	}
	d, _, _ = c.UserAPI.GetUser(ctx, ids[4]).Execute()
	if d.GetStatus() != "DEPROVISIONED" {
		t.Fatalf("after first delete: %s", d.GetStatus())
	}
	if _, err := c.UserAPI.DeleteUser(ctx, ids[4]).Execute(); err != nil {
		t.Fatalf("delete 2: %v", err)
	}
	if _, _, err := c.UserAPI.GetUser(ctx, ids[4]).Execute(); oktaErrorCode(err) != "E0000007" {
		t.Fatalf("deleted user: want E0000007, got %v", oktaErrorCode(err))
	}
	if _, err := c.GroupAPI.DeleteGroup(ctx, g.GetId()).Execute(); err != nil {
		t.Fatalf("delete group: %v", err)
	}
}

package main

import (
	"context"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestGroupRulesAndAdminGroups: Okta's two rules that keep group rules
// away from administrator roles, so that nobody becomes an administrator
// by a profile attribute: "group rules cannot be used to assign users to
// admin groups", and "a group that is already the target of a group rule
// cannot be granted admin privileges". Each refusal is 400 E0000001 and
// changes nothing; a group freed of its rule can be given a role.
func TestGroupRulesAndAdminGroups(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		ctx := context.Background()
		c := sdkClient(t, ts)
		admins, sales := sdkGroup(t, c, "Admins"), sdkGroup(t, c, "Sales")
		assign := func(groupID string) error {
			_, _, err := c.RoleAssignmentAPI.AssignRoleToGroup(ctx, groupID).AssignRoleRequest(okta.AssignRoleRequest{Type: okta.PtrString("SUPER_ADMIN")}).Execute()
			return err
		}
		groupRoles := func(groupID string) int {
			t.Helper()
			rs, _, err := c.RoleAssignmentAPI.ListGroupAssignedRoles(ctx, groupID).Execute()
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		rules := func() int {
			t.Helper()
			rs, _, err := c.GroupAPI.ListGroupRules(ctx).Execute()
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		if err := assign(admins); err != nil {
			t.Fatalf("assign a role to a group: %v", err)
		}
		_, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody("IT admins", `user.department == "IT"`, []string{sales, admins}, nil)).Execute()
		if roleErrCode(err) != "E0000001" || rules() != 0 {
			t.Fatalf("a rule that adds people to an admin group: %v, %d rules", err, rules())
		}
		rule, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody("Sales people", `user.department == "Sales"`, []string{sales}, nil)).Execute()
		if err != nil {
			t.Fatalf("a rule for a group without a role: %v", err)
		}
		if err := assign(sales); roleErrCode(err) != "E0000001" || groupRoles(sales) != 0 {
			t.Fatalf("a role for a group rule's target: %v, %d roles", err, groupRoles(sales))
		}
		if _, err := c.GroupAPI.DeleteGroupRule(ctx, rule.GetId()).Execute(); err != nil {
			t.Fatal(err)
		}
		if err := assign(sales); err != nil || groupRoles(sales) != 1 {
			t.Fatalf("a role once the rule is gone: %v, %d roles", err, groupRoles(sales))
		}
	})
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// TestGroupRulesSDK drives Okta's group rules API with the official Okta
// Go SDK: create, list (paging, search, expand), activate (the directory
// is evaluated), a person's change (evaluated again), replace, deactivate
// (memberships stay) and delete with removeUsers; and bad input.
func TestGroupRulesSDK(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testGroupRulesSDK(t, newTestServer(t, pg)) })
}

func sdkGroup(t *testing.T, c *okta.APIClient, name string) string {
	t.Helper()
	g, _, err := c.GroupAPI.CreateGroup(context.Background()).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(name)}}).Execute()
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g.GetId()
}

func sdkPerson(t *testing.T, c *okta.APIClient, login, dept string) string {
	t.Helper()
	u, _, err := c.UserAPI.CreateUser(context.Background()).Activate(true).Body(okta.CreateUserRequest{
		Profile: okta.UserProfile{Login: okta.PtrString(login), Email: okta.PtrString(login),
			FirstName: *okta.NewNullableString(okta.PtrString("F")), LastName: *okta.NewNullableString(okta.PtrString("L")),
			Department: okta.PtrString(dept)},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")}},
	}).Execute()
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	return u.GetId()
}

func sdkMembers(t *testing.T, c *okta.APIClient, groupID string) []string {
	t.Helper()
	us, _, err := c.GroupAPI.ListGroupUsers(context.Background(), groupID).Limit(200).Execute()
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, u := range us {
		out = append(out, u.Profile.GetLogin())
	}
	sort.Strings(out)
	return out
}

func newRuleBody(name, expression string, groups, exclude []string) okta.GroupRule {
	return okta.GroupRule{
		Type: okta.PtrString("group_rule"),
		Name: okta.PtrString(name),
		Conditions: &okta.GroupRuleConditions{
			Expression: &okta.GroupRuleExpression{Type: okta.PtrString("urn:okta:expression:1.0"), Value: okta.PtrString(expression)},
			People:     &okta.GroupRulePeopleCondition{Users: &okta.GroupRuleUserCondition{Exclude: exclude}},
		},
		Actions: &okta.GroupRuleAction{AssignUserToGroups: &okta.GroupRuleGroupAssignment{GroupIds: groups}},
	}
}

func testGroupRulesSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	sales, staff := sdkGroup(t, c, "Sales"), sdkGroup(t, c, "Sales staff")
	for i := 0; i < 3; i++ {
		sdkPerson(t, c, fmt.Sprintf("rep%d@example.com", i), "Sales")
	}
	sdkPerson(t, c, "dev@example.com", "Engineering")
	excluded := sdkPerson(t, c, "boss@example.com", "Sales")
	manual := sdkPerson(t, c, "temp@example.com", "Engineering")
	if _, err := c.GroupAPI.AssignUserToGroup(ctx, sales, manual).Execute(); err != nil {
		t.Fatal(err)
	}
	// An app assigned to the group: people the rule adds get it as
	// people added by hand do.
	appID, _ := ts.newSAMLApp(t, "Sales tool", "")
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+staff, ts.token, `{}`); r.status != 200 {
		t.Fatalf("assign group to app: %d %s", r.status, r.raw)
	}

	// An expression that does not compile is refused with its position.
	_, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody("Sales people", `user.department = "Sales"`, []string{sales}, nil)).Execute()
	if cause := sdkErrorCause(err); oktaErrorCode(err) != "E0000001" || !strings.Contains(cause, "conditions.expression.value") || !strings.Contains(cause, " at 1:") {
		t.Fatalf("bad expression: %s %q", oktaErrorCode(err), cause)
	}
	rule, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody("Sales people", `user.department == "Sales"`, []string{sales, staff}, []string{excluded})).Execute()
	if err != nil {
		t.Fatalf("create rule: %v", oktaErrorCode(err))
	}
	if rule.GetStatus() != "INACTIVE" || rule.GetType() != "group_rule" || !strings.HasPrefix(rule.GetId(), "0pr") || rule.Created == nil || rule.LastUpdated == nil {
		t.Fatalf("created rule: %+v", rule)
	}
	if got := rule.Conditions.People.Users.Exclude; len(got) != 1 || got[0] != excluded {
		t.Fatalf("exclusions: %v", got)
	}
	if got := rule.Conditions.Expression.GetValue(); got != `user.department == "Sales"` || rule.Conditions.Expression.GetType() != "urn:okta:expression:1.0" {
		t.Fatalf("expression: %q", got)
	}
	// Okta's JSON shape, member by member.
	raw := ts.call(t, "GET", "/api/v1/groups/rules/"+rule.GetId()+"?expand=groupIdToGroupNameMap", ts.token, "")
	for _, want := range []string{`"type":"group_rule"`, `"assignUserToGroups":{"groupIds":["` + sales + `","` + staff + `"]}`,
		`"users":{"exclude":["` + excluded + `"]}`, `"groupIdToGroupNameMap":{`, `"` + sales + `":"Sales"`} {
		if !strings.Contains(raw.raw, want) {
			t.Fatalf("rule JSON lacks %s: %s", want, raw.raw)
		}
	}
	if want := sdkMembers(t, c, staff); len(want) != 0 {
		t.Fatalf("an inactive rule added %v", want)
	}

	// Activation evaluates every person.
	if _, err := c.GroupAPI.ActivateGroupRule(ctx, rule.GetId()).Execute(); err != nil {
		t.Fatalf("activate: %v", err)
	}
	got, _, err := c.GroupAPI.GetGroupRule(ctx, rule.GetId()).Execute()
	if err != nil || got.GetStatus() != "ACTIVE" {
		t.Fatalf("after activation: %v %v", got, err)
	}
	reps := []string{"rep0@example.com", "rep1@example.com", "rep2@example.com"}
	if m := sdkMembers(t, c, staff); strings.Join(m, ",") != strings.Join(reps, ",") {
		t.Fatalf("Sales staff after activation: %v, want %v", m, reps)
	}
	if m := sdkMembers(t, c, sales); len(m) != 4 {
		t.Fatalf("Sales after activation: %v", m)
	}
	if !strings.Contains(ts.logEvents(t, `eventType eq "group.user_membership.add"`), "rep2@example.com") {
		t.Fatal("no group.user_membership.add event for a rule's membership")
	}
	if !strings.Contains(ts.logEvents(t, `eventType eq "group.rule.activate"`), rule.GetId()) {
		t.Fatal("no activation event")
	}
	appUsers := ts.call(t, "GET", "/api/v1/apps/"+appID+"/users", ts.token, "").raw
	if !strings.Contains(appUsers, "rep1@example.com") {
		t.Fatalf("the app of the rule's group is not assigned to the people the rule added: %s", appUsers)
	}

	// A person's profile change is evaluated.
	dev := okta.UpdateUserRequest{Profile: &okta.UserProfile{Department: okta.PtrString("Sales")}}
	if _, _, err := c.UserAPI.UpdateUser(ctx, "dev@example.com").User(dev).Execute(); err != nil {
		t.Fatal(err)
	}
	if m := sdkMembers(t, c, staff); len(m) != 4 {
		t.Fatalf("after dev joined sales: %v", m)
	}
	dev.Profile.Department = okta.PtrString("Engineering")
	if _, _, err := c.UserAPI.UpdateUser(ctx, "dev@example.com").User(dev).Execute(); err != nil {
		t.Fatal(err)
	}
	if m := sdkMembers(t, c, staff); strings.Join(m, ",") != strings.Join(reps, ",") {
		t.Fatalf("after dev left sales: %v", m)
	}

	// Replace only while INACTIVE.
	renamed := newRuleBody("Sales reps", `user.department == "Sales"`, []string{sales, staff}, nil)
	_, _, err = c.GroupAPI.ReplaceGroupRule(ctx, rule.GetId()).GroupRule(renamed).Execute()
	if code := oktaErrorCode(err); code != "E0000001" {
		t.Fatalf("replace an active rule: %v", code)
	}
	if _, err := c.GroupAPI.DeactivateGroupRule(ctx, rule.GetId()).Execute(); err != nil {
		t.Fatal(err)
	}
	if m := sdkMembers(t, c, staff); len(m) != 3 {
		t.Fatalf("deactivation removed memberships: %v", m)
	}
	rep, _, err := c.GroupAPI.ReplaceGroupRule(ctx, rule.GetId()).GroupRule(renamed).Execute()
	if err != nil || rep.GetName() != "Sales reps" || len(rep.Conditions.People.Users.Exclude) != 0 {
		t.Fatalf("replace an inactive rule: %+v %v", rep, oktaErrorCode(err))
	}
	other := newRuleBody("Sales reps", `user.department == "Sales"`, []string{sales}, nil)
	if _, _, err := c.GroupAPI.ReplaceGroupRule(ctx, rule.GetId()).GroupRule(other).Execute(); oktaErrorCode(err) != "E0000001" {
		t.Fatalf("changing the target groups: %v", oktaErrorCode(err))
	}

	// List: paging with Link headers, search, expand.
	for i := 0; i < 3; i++ {
		if _, _, err := c.GroupAPI.CreateGroupRule(ctx).GroupRule(newRuleBody(fmt.Sprintf("Support %d", i), `user.department == "Support"`, []string{staff}, nil)).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	page, resp, err := c.GroupAPI.ListGroupRules(ctx).Limit(2).Execute()
	if err != nil || len(page) != 2 || !resp.HasNextPage() {
		t.Fatalf("first page: %d rules, next %v, %v", len(page), resp != nil && resp.HasNextPage(), err)
	}
	seen := len(page)
	for resp.HasNextPage() {
		var more []okta.GroupRule
		if resp, err = resp.Next(&more); err != nil {
			t.Fatal(err)
		}
		seen += len(more)
	}
	if seen != 4 {
		t.Fatalf("paged through %d rules, want 4", seen)
	}
	found, _, err := c.GroupAPI.ListGroupRules(ctx).Search("support").Expand("groupIdToGroupNameMap").Execute()
	if err != nil || len(found) != 3 {
		t.Fatalf("search support: %d %v", len(found), err)
	}
	emb, _ := found[0].AdditionalProperties["_embedded"].(map[string]any)
	names, _ := emb["groupIdToGroupNameMap"].(map[string]any)
	if names[staff] != "Sales staff" {
		t.Fatalf("groupIdToGroupNameMap: %v", found[0].AdditionalProperties)
	}

	// Delete with removeUsers: the rule's memberships go, manual ones stay.
	if err := activateAndDelete(ctx, c, rule.GetId()); err != nil {
		t.Fatal(err)
	}
	if m := sdkMembers(t, c, staff); len(m) != 0 {
		t.Fatalf("Sales staff after delete: %v", m)
	}
	if m := sdkMembers(t, c, sales); strings.Join(m, ",") != "temp@example.com" {
		t.Fatalf("Sales after delete: %v", m)
	}
	if _, _, err := c.GroupAPI.GetGroupRule(ctx, rule.GetId()).Execute(); oktaErrorCode(err) != "E0000007" {
		t.Fatalf("deleted rule: %v", oktaErrorCode(err))
	}
}

// sdkErrorCause is the first errorCauses summary of an Okta error.
func sdkErrorCause(err error) string {
	var ge *okta.GenericOpenAPIError
	if !errors.As(err, &ge) {
		return ""
	}
	var m *okta.Error
	switch v := ge.Model().(type) {
	case okta.Error:
		m = &v
	case *okta.Error:
		m = v
	default:
		return ""
	}
	if cs := m.GetErrorCauses(); len(cs) > 0 {
		return cs[0].GetErrorSummary()
	}
	return ""
}

func activateAndDelete(ctx context.Context, c *okta.APIClient, id string) error {
	if _, err := c.GroupAPI.ActivateGroupRule(ctx, id).Execute(); err != nil {
		return err
	}
	resp, err := c.GroupAPI.DeleteGroupRule(ctx, id).RemoveUsers(true).Execute()
	if err != nil {
		return err
	}
	if resp.StatusCode != 202 {
		return fmt.Errorf("delete answered %d, want 202", resp.StatusCode)
	}
	return nil
}

// TestGroupRulesBadInput checks that refused rules change nothing and say
// why, beside the field, in Okta's error shape.
func TestGroupRulesBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Target"}}`).body["id"].(string)
	rule := func(name, expression, groups string) string {
		return fmt.Sprintf(`{"type":"group_rule","name":%q,"conditions":{"expression":{"type":"urn:okta:expression:1.0","value":%q}},"actions":{"assignUserToGroups":{"groupIds":%s}}}`, name, expression, groups)
	}
	created := ts.call(t, "POST", "/api/v1/groups/rules", ts.token, rule("Taken", `user.title == "x"`, `["`+g+`"]`))
	if created.status != 200 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	// A rule read back (with its read-only members and _embedded) can be
	// sent back as it is.
	id := created.body["id"].(string)
	read := ts.call(t, "GET", "/api/v1/groups/rules/"+id+"?expand=groupIdToGroupNameMap", ts.token, "")
	if r := ts.call(t, "PUT", "/api/v1/groups/rules/"+id, ts.token, read.raw); r.status != 200 || r.body["name"] != "Taken" {
		t.Fatalf("replace with the rule read back: %d %s", r.status, r.raw)
	}
	for _, c := range []struct{ body, cause string }{
		{rule("Bad syntax", `user.department ==`, `["`+g+`"]`), "conditions.expression.value: expression ends too early at 1:19"},
		{rule("Not boolean", `String.toLowerCase(user.email)`, `["`+g+`"]`), "must be true or false"},
		{rule("No group", `user.title == "x"`, `["00gnosuchgroup0000"]`), "group 00gnosuchgroup0000 does not exist"},
		{rule("No groups", `user.title == "x"`, `[]`), "name at least one group"},
		{rule("taken", `user.title == "x"`, `["`+g+`"]`), "already exists"},
		{rule(strings.Repeat("n", 51), `user.title == "x"`, `["`+g+`"]`), "1 to 50 characters"},
		{strings.Replace(rule("Type", `user.title == "x"`, `["`+g+`"]`), `"group_rule"`, `"policy_rule"`, 1), "type: must be group_rule"},
		{strings.Replace(rule("Groups", `user.title == "x"`, `["`+g+`"]`), `"conditions":{`, `"conditions":{"people":{"groups":{"exclude":["`+g+`"]}},`, 1), "not supported"},
	} {
		r := ts.call(t, "POST", "/api/v1/groups/rules", ts.token, c.body)
		if r.status != 400 || r.body["errorCode"] != "E0000001" || !strings.Contains(r.raw, c.cause) {
			t.Errorf("%s: %d %s", c.cause, r.status, r.raw)
		}
	}
	if r := ts.call(t, "POST", "/api/v1/groups/rules", ts.token, `{"name":"x","bogus":1}`); r.status != 400 {
		t.Errorf("unknown member: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/groups/rules", ts.token, ""); r.status != 200 || strings.Count(r.raw, `"group_rule"`) != 1 {
		t.Fatalf("refused rules were stored: %s", r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/groups/rules/0prnosuchrule000000", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Errorf("unknown rule: %d %s", r.status, r.raw)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x"} {
		if r := ts.call(t, "GET", "/api/v1/groups/rules?"+q, ts.token, ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
	// A read-only admin reads rules but changes none.
	ro, _, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "ro", "", oktaapi.RoleReadOnlyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/groups/rules?search="+url.QueryEscape("Tak"), ro, ""); r.status != 200 || !strings.Contains(r.raw, "Taken") {
		t.Errorf("read-only list: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/groups/rules", ro, rule("RO", `user.title == "x"`, `["`+g+`"]`)); r.status != 403 {
		t.Errorf("read-only create: %d %s", r.status, r.raw)
	}
	// The group routes that share the rules' path shape still work.
	for _, p := range []string{"/users", "/apps", "/stats"} {
		if r := ts.call(t, "GET", "/api/v1/groups/"+g+p, ts.token, ""); r.status != 200 {
			t.Errorf("GET group%s: %d %s", p, r.status, r.raw)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/groups/"+g+"/nothing", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000008" {
		t.Errorf("GET group/nothing: %d %s", r.status, r.raw)
	}
}

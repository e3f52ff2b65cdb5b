package main

import (
	"context"
	"encoding/json"
	"testing"
)

// TestPolicyExpandRules: expand=rules on GET /api/v1/policies and GET
// /api/v1/policies/{id} embeds the policy's rules in _embedded.rules, in
// their order and shape as GET …/rules lists them; without it nothing is
// embedded.
func TestPolicyExpandRules(t *testing.T) {
	ts := newTestServer(t, false)
	p := ts.call(t, "POST", "/api/v1/policies", ts.token, `{"type":"ACCESS_POLICY","name":"Wiki"}`)
	pid := p.body["id"].(string)
	for _, name := range []string{"MFA", "Refuse"} {
		body := `{"name":"` + name + `","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"type":"ASSURANCE","factorMode":"2FA"}}}}`
		if name == "Refuse" {
			body = `{"name":"Refuse","actions":{"appSignOn":{"access":"DENY"}}}`
		}
		if r := ts.call(t, "POST", "/api/v1/policies/"+pid+"/rules", ts.token, body); r.status != 200 {
			t.Fatalf("rule %s: %d %s", name, r.status, r.raw)
		}
	}
	var rules []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies/"+pid+"/rules", ts.token, "").raw, &rules)
	embeddedRules := func(pol map[string]any) []any {
		t.Helper()
		emb, ok := pol["_embedded"].(map[string]any)
		if !ok {
			t.Fatalf("no _embedded: %v", pol)
		}
		rs, ok := emb["rules"].([]any)
		if !ok {
			t.Fatalf("_embedded.rules is not a list: %v", emb)
		}
		return rs
	}
	same := func(what string, got []any) {
		t.Helper()
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(rules)
		if len(rules) == 0 || string(a) != string(b) {
			t.Fatalf("%s: embedded rules %s, want %s", what, a, b)
		}
	}
	var list []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=ACCESS_POLICY&expand=rules", ts.token, "").raw, &list)
	if len(list) != 1 {
		t.Fatalf("policies: %v", list)
	}
	same("list", embeddedRules(list[0]))
	var one map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies/"+pid+"?expand=rules", ts.token, "").raw, &one)
	same("get", embeddedRules(one))
	// The default sign-on policy embeds its rule; the password policy,
	// which has none, an empty list.
	var signOn, password []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON&expand=rules", ts.token, "").raw, &signOn)
	if len(signOn) != 1 || len(embeddedRules(signOn[0])) == 0 {
		t.Fatalf("sign-on policy: %v", signOn)
	}
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=PASSWORD&expand=rules", ts.token, "").raw, &password)
	if len(password) != 1 || len(embeddedRules(password[0])) != 0 {
		t.Fatalf("password policy: %v", password)
	}
	// Without expand (or with another value): nothing embedded.
	for _, q := range []string{"", "&expand=nothing"} {
		var plain []map[string]any
		mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=ACCESS_POLICY"+q, ts.token, "").raw, &plain)
		if _, ok := plain[0]["_embedded"]; ok || len(plain) != 1 {
			t.Fatalf("embedded without expand=rules (%q): %v", q, plain)
		}
	}
}

// TestAppAssignmentsExpand: expand=user on an app's users and expand=group
// on its groups embed the User and Group objects (_embedded.user,
// _embedded.group), as GET /api/v1/users/{id} and /api/v1/groups/{id}
// render them; read with the official Okta Go SDK.
func TestAppAssignmentsExpand(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Editors"}}`).body["id"].(string)
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+g, ts.token, ""); r.status != 200 {
		t.Fatalf("assign group: %d %s", r.status, r.raw)
	}

	users, _, err := c.ApplicationUsersAPI.ListApplicationUsers(ctx, appID).Expand("user").Execute()
	if err != nil || len(users) != 1 {
		t.Fatalf("list app users: %v %d", err, len(users))
	}
	emb := users[0].GetEmbedded()["user"]
	profile, _ := emb["profile"].(map[string]any)
	if emb["id"] != u.ID || profile["login"] != "ana@example.com" || emb["status"] != "ACTIVE" {
		t.Fatalf("_embedded.user: %v", emb)
	}
	one, _, err := c.ApplicationUsersAPI.GetApplicationUser(ctx, appID, u.ID).Expand("user").Execute()
	if err != nil || one.GetEmbedded()["user"]["id"] != u.ID {
		t.Fatalf("get app user with expand=user: %v %v", err, one.GetEmbedded())
	}
	if plain, _, err := c.ApplicationUsersAPI.ListApplicationUsers(ctx, appID).Execute(); err != nil || plain[0].HasEmbedded() {
		t.Fatalf("app users without expand: %v %v", err, plain[0].GetEmbedded())
	}

	groups, _, err := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID).Expand("group").Execute()
	if err != nil || len(groups) != 1 {
		t.Fatalf("list app groups: %v %d", err, len(groups))
	}
	gemb := groups[0].GetEmbedded()["group"]
	gprofile, _ := gemb["profile"].(map[string]any)
	if gemb["id"] != g || gprofile["name"] != "Editors" || gemb["type"] != "OKTA_GROUP" {
		t.Fatalf("_embedded.group: %v", gemb)
	}
	oneGroup, _, err := c.ApplicationGroupsAPI.GetApplicationGroupAssignment(ctx, appID, g).Expand("group").Execute()
	if err != nil || oneGroup.GetEmbedded()["group"]["id"] != g {
		t.Fatalf("get app group with expand=group: %v", err)
	}
	if plain, _, err := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID).Execute(); err != nil || plain[0].HasEmbedded() {
		t.Fatalf("app groups without expand: %v", err)
	}
	// The raw JSON: _embedded.user is what GET /api/v1/users/{id} answers.
	var raw []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/apps/"+appID+"/users?expand=user", ts.token, "").raw, &raw)
	direct := ts.call(t, "GET", "/api/v1/users/"+u.ID, ts.token, "").body
	a, _ := json.Marshal(raw[0]["_embedded"].(map[string]any)["user"])
	b, _ := json.Marshal(direct)
	if string(a) != string(b) {
		t.Fatalf("_embedded.user %s, GET user %s", a, b)
	}
}

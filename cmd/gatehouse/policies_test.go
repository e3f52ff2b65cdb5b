package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestPolicySDK reads and changes policies through the official Okta Go
// SDK: the default sign-on policy and its rule, the password policy, an
// access policy with a rule assigned to an app.
func TestPolicySDK(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) { testPolicySDK(t, newTestServer(t, pg)) })
	}
}

func testPolicySDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	ps, _, err := c.PolicyAPI.ListPolicies(ctx).Type_("OKTA_SIGN_ON").Execute()
	if err != nil || len(ps) != 1 || ps[0].OktaSignOnPolicy == nil || !ps[0].OktaSignOnPolicy.GetSystem() || ps[0].OktaSignOnPolicy.GetName() != "Default Policy" {
		t.Fatalf("sign-on policies: %v %+v", err, ps)
	}
	soID := ps[0].OktaSignOnPolicy.GetId()
	rules, _, err := c.PolicyAPI.ListPolicyRules(ctx, soID).Execute()
	if err != nil || len(rules) != 1 || rules[0].OktaSignOnPolicyRule == nil {
		t.Fatalf("sign-on rules: %v %+v", err, rules)
	}
	def := rules[0].OktaSignOnPolicyRule
	if def.GetName() != "Default Rule" || def.Actions.Signon.GetAccess() != "ALLOW" || def.Actions.Signon.GetRequireFactor() {
		t.Fatalf("default rule: %+v", def)
	}

	pw, _, err := c.PolicyAPI.ListPolicies(ctx).Type_("PASSWORD").Execute()
	if err != nil || len(pw) != 1 || pw[0].PasswordPolicy == nil {
		t.Fatalf("password policies: %v %+v", err, pw)
	}
	pp := pw[0].PasswordPolicy
	if pp.Settings.Password.Complexity.GetMinLength() != 8 || pp.Settings.Password.Age.GetHistoryCount() != 4 {
		t.Fatalf("password settings: %+v", pp.Settings.Password)
	}
	// Replace it with what the SDK read, changed: a longer minimum, a
	// maximum age.
	pp.Settings.Password.Complexity.SetMinLength(10)
	pp.Settings.Password.Age.SetMaxAgeDays(30)
	replaced, _, err := c.PolicyAPI.ReplacePolicy(ctx, pp.GetId()).Policy(okta.PasswordPolicyAsListPolicies200ResponseInner(pp)).Execute()
	if err != nil || replaced.PasswordPolicy == nil || replaced.PasswordPolicy.Settings.Password.Age.GetMaxAgeDays() != 30 {
		t.Fatalf("replace password policy: %v (%s)", err, oktaErrorCode(err))
	}
	if got, _ := ts.policies.PasswordPolicy(ctx); got.MinLength != 10 || got.MaxAgeDays != 30 {
		t.Fatalf("password policy in force: %+v", got)
	}
	// The new minimum applies to the Users API at once.
	r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, `{"profile":{"login":"short@example.com","email":"short@example.com","firstName":"S","lastName":"P"},"credentials":{"password":{"value":"Abcdef1x"}}}`)
	if r.status != 400 || !strings.Contains(r.raw, "at least 10 characters") {
		t.Fatalf("short password: %d %s", r.status, r.raw)
	}

	// An access policy with a rule, assigned to an app.
	g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString("Agents")}}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	ap := okta.NewAccessPolicy()
	ap.SetName("Amazon Connect sign-on")
	ap.SetType("ACCESS_POLICY")
	created, _, err := c.PolicyAPI.CreatePolicy(ctx).Policy(okta.AccessPolicyAsListPolicies200ResponseInner(ap)).Execute()
	if err != nil || created.AccessPolicy == nil || created.AccessPolicy.GetId() == "" {
		t.Fatalf("create access policy: %v (%s)", err, oktaErrorCode(err))
	}
	pid := created.AccessPolicy.GetId()
	rule := okta.NewAccessPolicyRule()
	rule.SetName("Agents with MFA")
	rule.SetType("ACCESS_POLICY")
	rule.Conditions = &okta.AccessPolicyRuleConditions{People: &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: []string{g.GetId()}}}}
	rule.Actions = &okta.AccessPolicyRuleActions{AppSignOn: &okta.AccessPolicyRuleApplicationSignOn{Access: okta.PtrString("ALLOW"),
		VerificationMethod: &okta.VerificationMethod{Type: okta.PtrString("ASSURANCE"), FactorMode: okta.PtrString("2FA"), ReauthenticateIn: okta.PtrString("PT4H")}}}
	cr, _, err := c.PolicyAPI.CreatePolicyRule(ctx, pid).PolicyRule(okta.AccessPolicyRuleAsListPolicyRules200ResponseInner(rule)).Execute()
	if err != nil || cr.AccessPolicyRule == nil || cr.AccessPolicyRule.Actions.AppSignOn.VerificationMethod.GetReauthenticateIn() != "PT4H" {
		t.Fatalf("create rule: %v (%s) %+v", err, oktaErrorCode(err), cr)
	}
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	if _, err := c.ApplicationPoliciesAPI.AssignApplicationPolicy(ctx, appID, pid).Execute(); err != nil {
		t.Fatalf("assign: %v", err)
	}
	rules, _, err = c.PolicyAPI.ListPolicyRules(ctx, pid).Execute()
	if err != nil || len(rules) != 2 || rules[0].AccessPolicyRule.GetName() != "Agents with MFA" || rules[1].AccessPolicyRule.GetName() != "Catch-all Rule" ||
		rules[0].AccessPolicyRule.Conditions.People.Groups.Include[0] != g.GetId() {
		t.Fatalf("rules: %v %+v", err, rules)
	}
	if d, err := ts.policies.EvaluateApp(ctx, appID, []string{g.GetId()}, ts.now()); err != nil || d.RuleID != rules[0].AccessPolicyRule.GetId() || d.Outcome != "ALLOW" {
		t.Fatalf("evaluation: %+v %v", d, err)
	}
	// Lifecycle: a deactivated rule is skipped (the catch-all decides), a
	// deactivated policy is not applied; both come back when activated.
	ruleID, catchAll := rules[0].AccessPolicyRule.GetId(), rules[1].AccessPolicyRule.GetId()
	evaluate := func() (string, string) {
		t.Helper()
		d, err := ts.policies.EvaluateApp(ctx, appID, []string{g.GetId()}, ts.now())
		if err != nil {
			t.Fatal(err)
		}
		return d.PolicyID, d.RuleID
	}
	if _, err := c.PolicyAPI.DeactivatePolicyRule(ctx, pid, ruleID).Execute(); err != nil {
		t.Fatalf("deactivate rule: %v", err)
	}
	if got, _, err := c.PolicyAPI.GetPolicyRule(ctx, pid, ruleID).Execute(); err != nil || got.AccessPolicyRule.GetStatus() != "INACTIVE" {
		t.Fatalf("rule after deactivation: %v %+v", err, got)
	}
	if _, rid := evaluate(); rid != catchAll {
		t.Fatalf("a deactivated rule decided: %s", rid)
	}
	if _, err := c.PolicyAPI.ActivatePolicyRule(ctx, pid, ruleID).Execute(); err != nil {
		t.Fatalf("activate rule: %v", err)
	}
	if _, rid := evaluate(); rid != ruleID {
		t.Fatalf("the activated rule did not decide: %s", rid)
	}
	if _, err := c.PolicyAPI.DeactivatePolicy(ctx, pid).Execute(); err != nil {
		t.Fatalf("deactivate policy: %v", err)
	}
	if got, _, err := c.PolicyAPI.GetPolicy(ctx, pid).Execute(); err != nil || got.AccessPolicy.GetStatus() != "INACTIVE" {
		t.Fatalf("policy after deactivation: %v %+v", err, got)
	}
	if polID, _ := evaluate(); polID != "" {
		t.Fatalf("a deactivated policy was applied: %s", polID)
	}
	// The list filters by status (Okta's status parameter).
	for status, want := range map[string]int{"INACTIVE": 1, "ACTIVE": 0, "": 1} {
		got, _, err := c.PolicyAPI.ListPolicies(ctx).Type_("ACCESS_POLICY").Status(status).Execute()
		if err != nil || len(got) != want {
			t.Fatalf("access policies with status %q: %v %d, want %d", status, err, len(got), want)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/policies?type=ACCESS_POLICY&status=ON", ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("an unknown status: %d %s", r.status, r.raw)
	}
	// Deactivating twice changes nothing; activating brings the rules back.
	if _, err := c.PolicyAPI.DeactivatePolicy(ctx, pid).Execute(); err != nil {
		t.Fatalf("deactivate again: %v", err)
	}
	if _, err := c.PolicyAPI.ActivatePolicy(ctx, pid).Execute(); err != nil {
		t.Fatalf("activate policy: %v", err)
	}
	if polID, rid := evaluate(); polID != pid || rid != ruleID {
		t.Fatalf("after activation: %s %s", polID, rid)
	}
	// The defaults stay active.
	if _, err := c.PolicyAPI.DeactivatePolicy(ctx, soID).Execute(); !strings.Contains(oktaErrorCode(err), "E0000038") {
		t.Fatalf("deactivate the default policy: %s", oktaErrorCode(err))
	}
	if _, err := c.PolicyAPI.DeactivatePolicyRule(ctx, pid, catchAll).Execute(); !strings.Contains(oktaErrorCode(err), "E0000038") {
		t.Fatalf("deactivate the catch-all rule: %s", oktaErrorCode(err))
	}
	if _, err := c.PolicyAPI.DeactivatePolicyRule(ctx, pid, "0prNOPE0000000000000").Execute(); !strings.Contains(oktaErrorCode(err), "E0000007") {
		t.Fatalf("deactivate an unknown rule: %s", oktaErrorCode(err))
	}
	if r := ts.call(t, "POST", "/api/v1/policies/"+pid+"/lifecycle/suspend", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("unknown lifecycle operation: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/policies/00pNOPE0000000000000/lifecycle/activate", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("activate an unknown policy: %d %s", r.status, r.raw)
	}
	for typ, want := range map[string]int{"policy.lifecycle.activate": 1, "policy.lifecycle.deactivate": 1, "policy.rule.activate": 1, "policy.rule.deactivate": 1} {
		if n, _, _ := ts.db.Events().Query(ctx, eventsOf(t, typ)); len(n) != want {
			t.Errorf("%d %s events, want %d", len(n), typ, want)
		}
	}

	// Delete the rule and the policy.
	if _, err := c.PolicyAPI.DeletePolicyRule(ctx, pid, rules[0].AccessPolicyRule.GetId()).Execute(); err != nil {
		t.Fatalf("delete rule: %v", err)
	}
	if _, err := c.PolicyAPI.DeletePolicy(ctx, pid).Execute(); err != nil {
		t.Fatalf("delete policy: %v", err)
	}
	if _, err := c.PolicyAPI.DeletePolicy(ctx, soID).Execute(); !strings.Contains(oktaErrorCode(err), "E0000038") {
		t.Fatalf("delete the default policy: %s", oktaErrorCode(err))
	}
}

// TestPolicyAPIBadInput: bad policy JSON is refused in Okta's format and
// changes nothing.
func TestPolicyAPIBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	p := ts.call(t, "POST", "/api/v1/policies", ts.token, `{"type":"ACCESS_POLICY","name":"Wiki"}`)
	pid := p.body["id"].(string)
	so := ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", ts.token, "")
	var soPolicy []map[string]any
	mustUnmarshal(t, so.raw, &soPolicy)
	sid := soPolicy[0]["id"].(string)
	rules := "/api/v1/policies/" + pid + "/rules"
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"no type", "GET", "/api/v1/policies", "", 400, "E0000001"},
		{"unknown type", "GET", "/api/v1/policies?type=MFA_ENROLL", "", 400, "E0000001"},
		{"malformed", "POST", "/api/v1/policies", `{"type":`, 400, "E0000003"},
		{"not an object", "POST", "/api/v1/policies", `[]`, 400, "E0000003"},
		{"a second sign-on policy", "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"Mine"}`, 400, "E0000001"},
		{"unknown member", "POST", "/api/v1/policies", `{"type":"ACCESS_POLICY","name":"x","colour":"red"}`, 400, "E0000001"},
		{"blank name", "POST", "/api/v1/policies", `{"type":"ACCESS_POLICY","name":" "}`, 400, "E0000001"},
		{"unknown policy", "GET", "/api/v1/policies/00pNOPE0000000000000", "", 404, "E0000007"},
		{"rule: bad access", "POST", rules, `{"name":"x","actions":{"appSignOn":{"access":"MAYBE"}}}`, 400, "E0000001"},
		{"rule: bad factorMode", "POST", rules, `{"name":"x","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"factorMode":"3FA"}}}}`, 400, "E0000001"},
		{"rule: bad duration", "POST", rules, `{"name":"x","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"factorMode":"2FA","reauthenticateIn":"2 hours"}}}}`, 400, "E0000001"},
		{"rule: constraints", "POST", rules, `{"name":"x","actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"factorMode":"2FA","constraints":[{"possession":{"required":true}}]}}}}`, 400, "E0000001"},
		{"rule: network zone", "POST", rules, `{"name":"x","conditions":{"network":{"connection":"ZONE","include":["nzo1"]}},"actions":{"appSignOn":{"access":"ALLOW"}}}`, 400, "E0000001"},
		{"rule: unimplemented condition", "POST", rules, `{"name":"x","conditions":{"riskScore":{"level":"HIGH"}},"actions":{"appSignOn":{"access":"ALLOW"}}}`, 400, "E0000001"},
		{"rule: users", "POST", rules, `{"name":"x","conditions":{"people":{"users":{"include":["00u1"]}}},"actions":{"appSignOn":{"access":"ALLOW"}}}`, 400, "E0000001"},
		{"rule: unknown group", "POST", rules, `{"name":"x","conditions":{"people":{"groups":{"include":["00gNOPE0000000000000"]}}},"actions":{"appSignOn":{"access":"ALLOW"}}}`, 400, "E0000001"},
		{"rule: sign-on actions on an access policy", "POST", rules, `{"name":"x","actions":{"signon":{"access":"ALLOW"}}}`, 400, "E0000001"},
		{"rule: no actions", "POST", rules, `{"name":"x"}`, 400, "E0000001"},
		{"sign-on rule: persistent cookie", "POST", "/api/v1/policies/" + sid + "/rules", `{"name":"x","actions":{"signon":{"access":"ALLOW","session":{"usePersistentCookie":true}}}}`, 400, "E0000001"},
		{"sign-on rule: device without lifetime", "POST", "/api/v1/policies/" + sid + "/rules", `{"name":"x","actions":{"signon":{"access":"ALLOW","factorPromptMode":"DEVICE"}}}`, 400, "E0000001"},
		{"assign to an unknown app", "PUT", "/api/v1/apps/0oaNOPE0000000000000/policies/" + pid, "", 404, "E0000007"},
		{"assign an unknown policy", "PUT", "/api/v1/apps/0oaNOPE0000000000000/policies/00pNOPE0000000000000", "", 404, "E0000007"},
	}
	for _, c := range cases {
		r := ts.call(t, c.method, c.path, ts.token, c.body)
		if r.status != c.status || r.body["errorCode"] != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.raw, c.status, c.code)
		}
	}
	if r := ts.call(t, "GET", rules, ts.token, ""); strings.Count(r.raw, `"id":"0pr`) != 1 {
		t.Fatalf("rules after bad input: %s", r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/policies?type=ACCESS_POLICY", ts.token, ""); strings.Count(r.raw, `"id":"00p`) != 1 {
		t.Fatalf("policies after bad input: %s", r.raw)
	}
	// The cause names the unimplemented setting.
	r := ts.call(t, "POST", rules, ts.token, `{"name":"x","conditions":{"riskScore":{"level":"HIGH"}},"actions":{"appSignOn":{"access":"ALLOW"}}}`)
	if !strings.Contains(r.raw, "riskScore") {
		t.Fatalf("cause: %s", r.raw)
	}
}

func mustUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %.300s", err, s)
	}
}

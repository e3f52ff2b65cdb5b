package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/policy"
)

// TestConsolePolicies: the session policy, the password policy and an
// app's sign-on rules are edited in the console (errors beside their
// fields, CSRF, read-only admins without forms).
func TestConsolePolicies(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	g, err := ts.directory.CreateGroup(ctx, "Agents", "")
	if err != nil {
		t.Fatal(err)
	}

	// Session policy: the default rule, then a rule added.
	page := admin.page("/admin/security/session-policy", 200)
	checkLabels(t, "/admin/security/session-policy", page)
	if !strings.Contains(page, "Default Rule") || !strings.Contains(page, "Add a rule") {
		t.Fatalf("session policy page: %.2000s", page)
	}
	form := url.Values{"name": {"Agents"}, "groups": {g.ID}, "access": {"ALLOW"}, "requireMFA": {"true"}, "rememberDays": {"7"}, "idleMinutes": {"abc"}, "lifetimeMinutes": {"480"}, "active": {"true"}}
	status, _, body := admin.submit(page, "/admin/security/session-policy/rules", form)
	if status != 400 || fieldError(t, body, "idleMinutes") == "" {
		t.Fatalf("bad idle: %d", status)
	}
	form.Set("idleMinutes", "600")
	status, _, body = admin.submit(page, "/admin/security/session-policy/rules", form)
	if status != 400 || !strings.Contains(fieldError(t, body, "idleMinutes"), "cannot be longer than the session lifetime") {
		t.Fatalf("idle longer than lifetime: %d %s", status, fieldError(t, body, "idleMinutes"))
	}
	form.Del("csrf")
	if resp, _ := admin.post("/admin/security/session-policy/rules", form); resp.StatusCode != 403 {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	form.Set("idleMinutes", "30")
	status, loc, _ := admin.submit(page, "/admin/security/session-policy/rules", form)
	if status != 303 || !strings.Contains(loc, "ok=rule") {
		t.Fatalf("add rule: %d %s", status, loc)
	}
	d, err := ts.policies.EvaluateSignIn(ctx, []string{g.ID})
	if err != nil || d.Outcome != policy.Challenge || d.RememberDevice != 7*24*time.Hour || d.SessionIdle != 30*time.Minute || d.SessionMax != 8*time.Hour {
		t.Fatalf("rule in force: %+v %v", d, err)
	}
	page = admin.page("/admin/security/session-policy", 200)
	m := regexp.MustCompile(`href="(/admin/security/session-policy/rules/0pr[0-9A-Za-z]{17})">Agents</a>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "remember device 7 days, idle 30 minutes, at most 8 hours") {
		t.Fatalf("rule not listed: %.3000s", page)
	}
	edit := admin.page(m[1], 200)
	checkLabels(t, m[1], edit)
	status, loc, _ = admin.submit(edit, m[1], url.Values{"name": {"Agents (MFA)"}, "groups": {g.ID}, "access": {"ALLOW"}, "requireMFA": {"true"}, "priority": {"1"}, "active": {"true"}})
	if status != 303 || loc != "/admin/security/session-policy?ok=saved" {
		t.Fatalf("save rule: %d %s", status, loc)
	}
	if d, _ := ts.policies.EvaluateSignIn(ctx, []string{g.ID}); d.RuleName != "Agents (MFA)" || d.RememberDevice != 0 {
		t.Fatalf("after save: %+v", d)
	}
	// The read-only admin sees the rules, no form, and cannot post.
	rpage := reader.page("/admin/security/session-policy", 200)
	if !strings.Contains(rpage, "Agents (MFA)") || strings.Contains(rpage, "Add a rule") {
		t.Fatal("read-only view")
	}
	if status, _, _ := reader.submit(rpage, "/admin/security/session-policy/rules", form); status != 403 {
		t.Fatalf("read-only add: %d", status)
	}
	if status, loc, _ := admin.submit(edit, m[1]+"/delete", nil); status != 303 || !strings.Contains(loc, "ok=deleted") {
		t.Fatalf("delete: %d %s", status, loc)
	}
	if d, _ := ts.policies.EvaluateSignIn(ctx, []string{g.ID}); d.RequireMFA {
		t.Fatal("the deleted rule still applies")
	}

	// Password policy.
	page = admin.page("/admin/security/password-policy", 200)
	checkLabels(t, "/admin/security/password-policy", page)
	pform := url.Values{"minLength": {"3"}, "minLowerCase": {"true"}, "minUpperCase": {"true"}, "minNumber": {"true"}, "excludeUsername": {"true"}, "historyCount": {"4"}, "maxAgeDays": {"0"}}
	status, _, body = admin.submit(page, "/admin/security/password-policy", pform)
	if status != 400 || fieldError(t, body, "minLength") == "" {
		t.Fatalf("min length 3: %d", status)
	}
	pform.Set("minLength", "12")
	pform.Set("maxAgeDays", "45")
	pform.Set("minSymbol", "true")
	if status, loc, _ := admin.submit(page, "/admin/security/password-policy", pform); status != 303 || !strings.Contains(loc, "ok=saved") {
		t.Fatalf("save password policy: %d %s", status, loc)
	}
	if pp, _ := ts.policies.PasswordPolicy(ctx); pp.MinLength != 12 || pp.MaxAgeDays != 45 || pp.MinSymbol != 1 {
		t.Fatalf("password policy: %+v", pp)
	}

	// An app's sign-on rules, created on the first rule.
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	page = admin.page("/admin/apps/"+appID+"/signon-rules", 200)
	checkLabels(t, "/admin/apps/"+appID+"/signon-rules", page)
	if !strings.Contains(page, "No rules") || !strings.Contains(page, "Sign-On Rules") {
		t.Fatalf("app rules page: %.2000s", page)
	}
	status, _, body = admin.submit(page, "/admin/apps/"+appID+"/signon-rules", url.Values{"name": {"MFA"}, "access": {"ALLOW"}, "reauthHours": {"4"}, "active": {"true"}})
	if status != 400 || !strings.Contains(fieldError(t, body, "reauthHours"), "needs factorMode 2FA") {
		t.Fatalf("again without a factor: %d", status)
	}
	status, loc, _ = admin.submit(page, "/admin/apps/"+appID+"/signon-rules", url.Values{"name": {"MFA"}, "groups": {g.ID}, "access": {"ALLOW"}, "requireMFA": {"true"}, "reauthHours": {"4"}, "active": {"true"}})
	if status != 303 {
		t.Fatalf("add app rule: %d %s", status, loc)
	}
	page = admin.page("/admin/apps/"+appID+"/signon-rules", 200)
	if !strings.Contains(page, "Second factor, again after 4 hours") || !strings.Contains(page, "Everyone else") {
		t.Fatalf("app rules: %.3000s", page)
	}
	if status, _, _ := admin.submit(page, "/admin/apps/"+appID+"/signon-rules/everyone-else", url.Values{"everyoneElse": {"DENY"}}); status != 303 {
		t.Fatalf("everyone else: %d", status)
	}
	if d, _ := ts.policies.EvaluateApp(ctx, appID, nil, time.Time{}); d.Outcome != policy.Deny {
		t.Fatalf("everyone else refused: %+v", d)
	}
	if d, _ := ts.policies.EvaluateApp(ctx, appID, []string{g.ID}, time.Now().Add(-5*time.Hour)); d.Outcome != policy.Challenge {
		t.Fatalf("agents after 5 hours: %+v", d)
	}
	list := admin.page("/admin/security/app-sign-on-rules", 200)
	if !strings.Contains(list, "second factor required by 1; everyone else is refused") {
		t.Fatalf("app rules list: %.2000s", list)
	}
	// An app admin may change app rules but not the session policy.
	appAdmin, _ := ts.adminBrowser(t, "apps@example.com", "APP_ADMIN")
	apage := appAdmin.page("/admin/apps/"+appID+"/signon-rules", 200)
	if !strings.Contains(apage, "Add a rule") {
		t.Fatal("the app admin cannot add app rules")
	}
	spage := appAdmin.page("/admin/security/session-policy", 200)
	if status, _, _ := appAdmin.submit(spage, "/admin/security/session-policy/rules", form); status != 403 {
		t.Fatalf("app admin changing the session policy: %d", status)
	}
}

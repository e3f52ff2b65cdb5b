package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// Review: a read-only admin changes no rule, and the paths around
// GET /api/v1/groups/{id}/{sub} answer Okta's JSON errors.
func TestReviewGroupRulesAccessAndRoutes(t *testing.T) {
	ts := newTestServer(t, false)
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Target"}}`).body["id"].(string)
	body := fmt.Sprintf(`{"type":"group_rule","name":"R","conditions":{"expression":{"type":"urn:okta:expression:1.0","value":"user.title == \"x\""}},"actions":{"assignUserToGroups":{"groupIds":[%q]}}}`, g)
	created := ts.call(t, "POST", "/api/v1/groups/rules", ts.token, body)
	id := str(created.body, "id")
	if created.status != 200 || id == "" {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	ro, _, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "ro", "", oktaapi.RoleReadOnlyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/groups/rules/" + id, strings.Replace(body, `"R"`, `"RO"`, 1)},
		{"POST", "/api/v1/groups/rules/" + id + "/lifecycle/activate", ""},
		{"POST", "/api/v1/groups/rules/" + id + "/lifecycle/deactivate", ""},
		{"DELETE", "/api/v1/groups/rules/" + id + "?removeUsers=true", ""},
	} {
		if r := ts.call(t, c.method, c.path, ro, c.body); r.status != 403 || str(r.body, "errorCode") == "" {
			t.Errorf("read-only %s %s: %d %s", c.method, c.path, r.status, r.raw)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/groups/rules/"+id, ts.token, ""); r.status != 200 || r.body["name"] != "R" || r.body["status"] != "INACTIVE" {
		t.Fatalf("a read-only admin changed the rule: %s", r.raw)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/groups/" + g + "/nothing", 404},
		{"GET", "/api/v1/groups/" + g + "/", 404},
		{"GET", "/api/v1/groups/rules/", 404},
		{"GET", "/api/v1/groups/rules/" + id + "/", 404},
		{"GET", "/api/v1/groups//users", 404},
		{"GET", "/api/v1/groups/rules/" + id + "/nothing", 404},
		{"GET", "/api/v1/groups/rules/" + id + "/lifecycle/activate", 405},
		{"POST", "/api/v1/groups/rules/" + id + "/lifecycle/nothing", 404},
		{"POST", "/api/v1/groups/" + g + "/stats", 405},
		{"GET", "/api/v1/groups/nosuchgroup/stats", 404},
		{"GET", "/api/v1/groups/nosuchgroup/users", 404},
	} {
		r := ts.call(t, c.method, c.path, ts.token, "")
		if r.status != c.status || str(r.body, "errorCode") == "" {
			t.Errorf("%s %s: %d %s, want %d with Okta's error JSON", c.method, c.path, r.status, r.raw, c.status)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/groups/rules", ts.token, ""); r.status != 200 || !strings.Contains(r.raw, id) {
		t.Errorf("list: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/groups/"+g, ts.token, ""); r.status != 200 {
		t.Errorf("group: %d %s", r.status, r.raw)
	}
}

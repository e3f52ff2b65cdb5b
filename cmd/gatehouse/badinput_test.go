package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

type apiResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (ts *testServer) call(t testing.TB, method, path, token, body string) apiResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, ts.srv.URL+path, rd)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apiResult{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &r.body)
	return r
}

func (ts *testServer) userCount(t testing.TB) int {
	t.Helper()
	us, err := ts.directory.Store.Users(context.Background(), directory.UserQuery{Limit: 1000, IncludeDeprovisioned: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

const goodUser = `{"profile":{"login":"kim@example.com","email":"kim@example.com","firstName":"Kim","lastName":"Lee"},"credentials":{"password":{"value":"Sufficient-Pass-9"}}}`

// TestBadInput sends bad requests and checks each is answered in Okta's
// error shape with the expected code, and that nothing changed.
func TestBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	if r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, goodUser); r.status != 200 {
		t.Fatalf("seed user: %d %s", r.status, r.raw)
	}
	userID := ts.call(t, "GET", "/api/v1/users/kim@example.com", ts.token, "").body["id"].(string)
	revoked, tok, _ := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "old", "", oktaapi.RoleSuperAdmin)
	if err := ts.db.Tokens().Revoke(context.Background(), tok.ID, ts.now(), ts.events.New(context.Background(), "system.api_token.revoke", "", "SUCCESS")); err != nil {
		t.Fatal(err)
	}
	readOnly, _, _ := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "ro", "", oktaapi.RoleReadOnlyAdmin)

	big := `{"profile":{"login":"x@example.com","email":"x@example.com","firstName":"` + strings.Repeat("a", 2<<20) + `","lastName":"y"}}`
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
		cause                           string
	}{
		{"malformed JSON", "POST", "/api/v1/users", ts.token, `{"profile":`, 400, "E0000003", ""},
		{"not an object", "POST", "/api/v1/users", ts.token, `[1,2]`, 400, "E0000003", ""},
		{"wrong type", "POST", "/api/v1/users", ts.token, `{"profile":"kim"}`, 400, "E0000003", ""},
		{"wrong attribute type", "POST", "/api/v1/users", ts.token, `{"profile":{"login":"a@example.com","email":"a@example.com","firstName":5,"lastName":"b"}}`, 400, "E0000001", "firstName"},
		{"unknown top-level member", "POST", "/api/v1/users", ts.token, `{"profile":{"login":"a@example.com","email":"a@example.com","firstName":"a","lastName":"b"},"admin":true}`, 400, "E0000003", "admin"},
		{"unknown profile property", "POST", "/api/v1/users", ts.token, `{"profile":{"login":"a@example.com","email":"a@example.com","firstName":"a","lastName":"b","shoeSize":"9"}}`, 400, "E0000001", "shoeSize"},
		{"missing login and email", "POST", "/api/v1/users", ts.token, `{"profile":{"firstName":"a","lastName":"b"}}`, 400, "E0000001", "login"},
		{"invalid email", "POST", "/api/v1/users", ts.token, `{"profile":{"login":"a@example.com","email":"not-an-email","firstName":"a","lastName":"b"}}`, 400, "E0000001", "email"},
		{"duplicate login", "POST", "/api/v1/users", ts.token, strings.Replace(goodUser, "kim@", "KIM@", 1), 400, "E0000001", "already exists"},
		{"weak password", "POST", "/api/v1/users", ts.token, `{"profile":{"login":"w@example.com","email":"w@example.com","firstName":"w","lastName":"w"},"credentials":{"password":{"value":"short"}}}`, 400, "E0000001", "password"},
		{"illegal transition", "POST", "/api/v1/users/" + userID + "/lifecycle/unsuspend", ts.token, "", 400, "E0000001", ""},
		{"unknown lifecycle op", "POST", "/api/v1/users/" + userID + "/lifecycle/explode", ts.token, "", 404, "E0000008", ""},
		{"missing token", "GET", "/api/v1/users", "", "", 401, "E0000011", ""},
		{"wrong token", "GET", "/api/v1/users", "ghs_wrong", "", 401, "E0000011", ""},
		{"revoked token", "GET", "/api/v1/users", revoked, "", 401, "E0000011", ""},
		{"read-only admin writes", "POST", "/api/v1/users", readOnly, goodUser, 403, "E0000006", ""},
		{"oversized body", "POST", "/api/v1/users", ts.token, big, 413, "E0000003", ""},
		{"invalid filter", "GET", "/api/v1/users?filter=" + urlq(`status eq`), ts.token, "", 400, "E0000031", ""},
		{"filter on unsupported attribute", "GET", "/api/v1/users?filter=" + urlq(`profile.department eq "x"`), ts.token, "", 400, "E0000031", ""},
		{"invalid search", "GET", "/api/v1/users?search=" + urlq(`profile.login eq "a" and (`), ts.token, "", 400, "E0000031", ""},
		{"limit too large", "GET", "/api/v1/users?limit=201", ts.token, "", 400, "E0000001", "limit"},
		{"limit not a number", "GET", "/api/v1/users?limit=ten", ts.token, "", 400, "E0000001", "limit"},
		{"bad sortOrder", "GET", "/api/v1/users?search=" + urlq(`status eq "ACTIVE"`) + "&sortBy=created&sortOrder=sideways", ts.token, "", 400, "E0000001", "sortOrder"},
		{"unknown sortBy", "GET", "/api/v1/users?search=" + urlq(`status eq "ACTIVE"`) + "&sortBy=credentials.password", ts.token, "", 400, "E0000031", "sortBy"},
		{"not found", "GET", "/api/v1/users/00u00000000000000000", ts.token, "", 404, "E0000007", ""},
		{"unknown path", "GET", "/api/v1/nothing-here", ts.token, "", 404, "E0000008", ""},
		{"unsupported method on a known path", "PATCH", "/api/v1/users/" + userID, ts.token, `{"profile":{"title":"x"}}`, 405, "E0000022", ""},
		{"group without name", "POST", "/api/v1/groups", ts.token, `{"profile":{"description":"x"}}`, 400, "E0000001", "name"},
		{"bad log time", "GET", "/api/v1/logs?since=yesterday", ts.token, "", 400, "E0000001", "since"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := ts.userCount(t)
			r := ts.call(t, c.method, c.path, c.token, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw[:min(len(r.raw), 300)])
			}
			if r.body["errorCode"] != c.code {
				t.Fatalf("errorCode %v, want %s: %s", r.body["errorCode"], c.code, r.raw)
			}
			for _, k := range []string{"errorSummary", "errorLink", "errorId"} {
				if s, _ := r.body[k].(string); s == "" {
					t.Fatalf("missing %s in %s", k, r.raw)
				}
			}
			if _, ok := r.body["errorCauses"].([]any); !ok {
				t.Fatalf("errorCauses is not an array: %s", r.raw)
			}
			if c.cause != "" && !strings.Contains(r.raw, c.cause) {
				t.Fatalf("error does not mention %q: %s", c.cause, r.raw)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
			if after := ts.userCount(t); after != before {
				t.Fatalf("user count changed from %d to %d", before, after)
			}
		})
	}
	// The user the illegal transition targeted is unchanged.
	if r := ts.call(t, "GET", "/api/v1/users/"+userID, ts.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("status changed: %v", r.body["status"])
	}
}

func TestRateLimitHeaders(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.APIRateLimit = 3 })
	for i := 0; i < 3; i++ {
		r := ts.call(t, "GET", "/api/v1/users", ts.token, "")
		if r.status != 200 || r.header.Get("X-Rate-Limit-Limit") != "3" || r.header.Get("X-Rate-Limit-Reset") == "" {
			t.Fatalf("request %d: %d %v", i, r.status, r.header)
		}
	}
	r := ts.call(t, "GET", "/api/v1/users", ts.token, "")
	if r.status != 429 || r.body["errorCode"] != "E0000047" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("over the limit: %d %s", r.status, r.raw)
	}
}

func urlq(s string) string { return url.QueryEscape(s) }

// TestUsersMe: /api/v1/users/me is the administrator who owns the token.
func TestUsersMe(t *testing.T) {
	ts := newTestServer(t, false)
	admin := ts.createUser(t, "owner@example.com", "Secret-Passw0rd")
	// A token can do no more than its owner holds: the owner is an administrator.
	grant := ts.events.New(context.Background(), "user.account.privilege.grant", "Grant user privilege", audit.Success, audit.UserTarget(admin.ID, admin.Login(), admin.DisplayName()))
	if err := ts.db.Tokens().GrantRole(context.Background(), admin.ID, oktaapi.RoleReadOnlyAdmin, ts.now(), grant); err != nil {
		t.Fatal(err)
	}
	tok, _, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, ts.now(), ts.events, "owned", admin.ID, oktaapi.RoleReadOnlyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users/me", tok, ""); r.status != 200 || r.body["id"] != admin.ID {
		t.Fatalf("users/me with an owned token: %d %s", r.status, r.raw)
	}
	// The official Okta Go SDK's GetUser with "me".
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl(ts.srv.URL), okta.WithToken(tok), okta.WithTestingDisableHttpsCheck(true), okta.WithCache(false), okta.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = strings.TrimPrefix(ts.srv.URL, "http://")
	if u, _, err := okta.NewAPIClient(cfg).UserAPI.GetUser(context.Background(), "me").Execute(); err != nil || u.GetId() != admin.ID {
		t.Fatalf("SDK GetUser(me): %v", err)
	}
	// The CLI's token has no owner: there is no current user.
	if r := ts.call(t, "GET", "/api/v1/users/me", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("users/me with an ownerless token: %d %s", r.status, r.raw)
	}
}

// TestAPITokenWindow: a token unused for api_token_window stops working
// (Okta's tokenWindow); each use extends it.
func TestAPITokenWindow(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.APITokenWindow = time.Hour })
	stale, _, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, time.Now().Add(-61*time.Minute), ts.events, "stale", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", stale, ""); r.status != 401 || r.body["errorCode"] != "E0000011" {
		t.Fatalf("a token idle for longer than the window: %d %s", r.status, r.raw)
	}
	recent, rec, err := oktaapi.NewToken(context.Background(), ts.db.Tokens(), ts.ids, time.Now().Add(-59*time.Minute), ts.events, "recent", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "GET", "/api/v1/users", recent, ""); r.status != 200 {
		t.Fatalf("a token inside the window: %d %s", r.status, r.raw)
	}
	// The use moved its expiry an hour ahead.
	r := ts.call(t, "GET", "/api/v1/api-tokens/"+rec.ID, ts.token, "")
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(r.body["expiresAt"]))
	if err != nil || r.body["tokenWindow"] != "PT1H" || time.Until(exp) < 59*time.Minute {
		t.Fatalf("token after use: %d %s", r.status, r.raw)
	}
}

package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// The management API on several nodes: what one node writes, every other
// node reads, changes and deletes at once; API tokens are shared; rate
// limits are per node.

// TestClusterStartMigratesOnce: three nodes started together on an empty
// database migrate it once, under the migration lock, and all serve.
func TestClusterStartMigratesOnce(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{nodes: 3})
	migrated := 0
	for _, n := range c.nodes {
		if strings.Contains(n.logs.String(), "applied database migrations") {
			migrated++
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(n.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("node %s %s: %d", n.name, path, resp.StatusCode)
			}
		}
	}
	if migrated != 1 {
		t.Fatalf("%d nodes applied migrations, want exactly 1", migrated)
	}
	files, err := c.nodes[0].db.Migrate(context.Background())
	if err != nil || len(files) != 0 {
		t.Fatalf("migrations left to apply after the start: %v %v", files, err)
	}
}

// TestClusterAPI: a user, a group and an app created on node A are read,
// updated and deleted on node B; requests through the load balancer go
// to both nodes and see one directory; an API token created on A works on
// B, and once revoked on B it is refused on A at once.
func TestClusterAPI(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	a, b := c.nodes[0], c.nodes[1]
	must := func(r apiResult, want int, what string) apiResult {
		t.Helper()
		if r.status != want {
			t.Fatalf("%s: %d, want %d: %s", what, r.status, want, r.raw)
		}
		return r
	}

	// A user.
	uid := must(a.call(t, "POST", "/api/v1/users?activate=true", c.token, goodUser), 200, "create user on A").body["id"].(string)
	if r := must(b.call(t, "GET", "/api/v1/users/kim@example.com", c.token, ""), 200, "get user on B"); r.body["id"] != uid || r.body["status"] != "ACTIVE" {
		t.Fatalf("B reads %s", r.raw)
	}
	must(b.call(t, "POST", "/api/v1/users/"+uid, c.token, `{"profile":{"lastName":"Park"}}`), 200, "update user on B")
	if r := must(a.call(t, "GET", "/api/v1/users/"+uid, c.token, ""), 200, "get user on A"); r.body["profile"].(map[string]any)["lastName"] != "Park" {
		t.Fatalf("A does not see B's update: %s", r.raw)
	}

	// A group and its members.
	gid := must(a.call(t, "POST", "/api/v1/groups", c.token, `{"profile":{"name":"Support","description":"first line"}}`), 200, "create group on A").body["id"].(string)
	must(b.call(t, "PUT", "/api/v1/groups/"+gid+"/users/"+uid, c.token, ""), 204, "add member on B")
	if r := must(a.call(t, "GET", "/api/v1/groups/"+gid+"/users", c.token, ""), 200, "members on A"); !strings.Contains(r.raw, uid) {
		t.Fatalf("A does not list B's member: %s", r.raw)
	}
	must(b.call(t, "PUT", "/api/v1/groups/"+gid, c.token, `{"profile":{"name":"Support L1"}}`), 200, "rename group on B")
	if r := must(a.call(t, "GET", "/api/v1/groups/"+gid, c.token, ""), 200, "get group on A"); r.body["profile"].(map[string]any)["name"] != "Support L1" {
		t.Fatalf("A does not see the rename: %s", r.raw)
	}

	// An app, its assignment and its lifecycle.
	appID, _ := a.newSAMLApp(t, "Shared Wiki", "")
	app := must(b.call(t, "GET", "/api/v1/apps/"+appID, c.token, ""), 200, "get app on B").body
	app["label"] = "Shared Wiki (renamed)"
	must(b.call(t, "PUT", "/api/v1/apps/"+appID, c.token, mustJSONString(t, app)), 200, "update app on B")
	if r := must(a.call(t, "GET", "/api/v1/apps/"+appID, c.token, ""), 200, "get app on A"); r.body["label"] != "Shared Wiki (renamed)" {
		t.Fatalf("A does not see the new label: %s", r.raw)
	}
	must(b.call(t, "POST", "/api/v1/apps/"+appID+"/users", c.token, fmt.Sprintf(`{"id":%q,"scope":"USER"}`, uid)), 200, "assign on B")
	must(a.call(t, "GET", "/api/v1/apps/"+appID+"/users/"+uid, c.token, ""), 200, "assignment on A")
	must(a.call(t, "POST", "/api/v1/apps/"+appID+"/lifecycle/deactivate", c.token, ""), 200, "deactivate app on A")
	if r := must(b.call(t, "GET", "/api/v1/apps/"+appID, c.token, ""), 200, "get app on B"); r.body["status"] != "INACTIVE" {
		t.Fatalf("B sees status %v", r.body["status"])
	}
	must(b.call(t, "DELETE", "/api/v1/apps/"+appID, c.token, ""), 204, "delete app on B")
	if r := must(a.call(t, "GET", "/api/v1/apps/"+appID, c.token, ""), 404, "deleted app on A"); r.body["errorCode"] != "E0000007" {
		t.Fatalf("deleted app on A: %s", r.raw)
	}

	// Deletions.
	must(b.call(t, "DELETE", "/api/v1/groups/"+gid, c.token, ""), 204, "delete group on B")
	must(a.call(t, "GET", "/api/v1/groups/"+gid, c.token, ""), 404, "deleted group on A")
	must(b.call(t, "DELETE", "/api/v1/users/"+uid, c.token, ""), 204, "deactivate user on B")
	if r := must(a.call(t, "GET", "/api/v1/users/"+uid, c.token, ""), 200, "get user on A"); r.body["status"] != "DEPROVISIONED" {
		t.Fatalf("A sees %v after B's deactivation", r.body["status"])
	}
	must(a.call(t, "DELETE", "/api/v1/users/"+uid, c.token, ""), 204, "delete user on A")
	must(b.call(t, "GET", "/api/v1/users/"+uid, c.token, ""), 404, "deleted user on B")

	// Through the load balancer: creations go to both nodes, and each
	// node lists all of them.
	served := map[string]int{}
	var ids []string
	for i := range 6 {
		login := fmt.Sprintf("lb%d@example.com", i)
		r, node := c.call(t, "POST", "/api/v1/users?activate=false", fmt.Sprintf(`{"profile":{"login":%q,"email":%q,"firstName":"L","lastName":"B"}}`, login, login))
		must(r, 200, "create through the load balancer")
		served[node]++
		ids = append(ids, r.body["id"].(string))
	}
	if served["a"] != 3 || served["b"] != 3 {
		t.Fatalf("round-robin served %v", served)
	}
	for _, n := range c.nodes {
		r := must(n.call(t, "GET", "/api/v1/users?filter="+url.QueryEscape(`status eq "STAGED"`)+"&limit=200", c.token, ""), 200, "list on "+n.name)
		for _, id := range ids {
			if !strings.Contains(r.raw, id) {
				t.Fatalf("node %s does not list %s", n.name, id)
			}
		}
	}

	// API tokens: created on A, used on B, revoked on B, refused on A.
	r := must(a.call(t, "POST", "/api/v1/api-tokens", c.token, `{"name":"automation","role":"READ_ONLY_ADMIN"}`), 200, "create token on A")
	tok, tokID := r.body["tokenValue"].(string), r.body["id"].(string)
	must(b.call(t, "GET", "/api/v1/users?limit=1", tok, ""), 200, "new token on B")
	must(a.call(t, "GET", "/api/v1/users?limit=1", tok, ""), 200, "new token on A")
	must(b.call(t, "DELETE", "/api/v1/api-tokens/"+tokID, c.token, ""), 204, "revoke on B")
	for _, n := range c.nodes {
		if r := must(n.call(t, "GET", "/api/v1/users?limit=1", tok, ""), 401, "revoked token on "+n.name); r.body["errorCode"] != "E0000011" {
			t.Fatalf("revoked token on %s: %s", n.name, r.raw)
		}
	}
	// A token revoking itself on B is refused on A too.
	self := must(b.call(t, "POST", "/api/v1/api-tokens", c.token, `{"name":"short-lived"}`), 200, "create token on B").body["tokenValue"].(string)
	must(b.call(t, "DELETE", "/api/v1/api-tokens/current", self, ""), 204, "revoke current on B")
	must(a.call(t, "GET", "/api/v1/users?limit=1", self, ""), 401, "self-revoked token on A")
}

// TestClusterAPIRateLimitPerNode: api_rate_limit counts a token's requests
// per node (the documented behaviour): a token that used up its minute on
// node A is refused there with 429 E0000047 while node B still serves it
// with its own count, so through the load balancer a token gets up to
// nodes × api_rate_limit requests a minute.
func TestClusterAPIRateLimitPerNode(t *testing.T) {
	t.Parallel()
	const limit = 5
	c := newCluster(t, clusterOptions{tweak: func(cfg *config.Config) { cfg.APIRateLimit = limit }})
	a, b := c.nodes[0], c.nodes[1]
	newToken := func() string {
		r := a.call(t, "POST", "/api/v1/api-tokens", c.token, `{"name":"limited","role":"READ_ONLY_ADMIN"}`)
		if r.status != 200 {
			t.Fatalf("create token: %d %s", r.status, r.raw)
		}
		return r.body["tokenValue"].(string)
	}
	remaining := func(r apiResult) int {
		n, err := strconv.Atoi(r.header.Get("X-Rate-Limit-Remaining"))
		if err != nil || r.header.Get("X-Rate-Limit-Limit") != strconv.Itoa(limit) {
			t.Fatalf("rate-limit headers: %v", r.header)
		}
		return n
	}
	tok := newToken()
	waitWindow(10 * time.Second)
	for i := range limit {
		r := a.call(t, "GET", "/api/v1/users?limit=1", tok, "")
		if r.status != 200 || remaining(r) != limit-1-i {
			t.Fatalf("request %d on A: %d remaining %s", i+1, r.status, r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	r := a.call(t, "GET", "/api/v1/users?limit=1", tok, "")
	if r.status != 429 || r.body["errorCode"] != "E0000047" || remaining(r) != 0 {
		t.Fatalf("request %d on A: %d %s", limit+1, r.status, r.raw)
	}
	r = b.call(t, "GET", "/api/v1/users?limit=1", tok, "")
	if r.status != 200 || remaining(r) != limit-1 {
		t.Fatalf("first request on B: %d remaining %d: B's window is not its own", r.status, remaining(r))
	}

	// Through the load balancer, a fresh token gets exactly 2 × limit.
	tok = newToken()
	waitWindow(10 * time.Second)
	ok, refused := 0, 0
	for range 2*limit + 4 {
		req, _ := http.NewRequest("GET", c.url+"/api/v1/users?limit=1", nil)
		req.Header.Set("Authorization", "SSWS "+tok)
		r, _ := doAPI(t, req)
		switch r.status {
		case 200:
			ok++
		case 429:
			refused++
		default:
			t.Fatalf("through the load balancer: %d %s", r.status, r.raw)
		}
	}
	if ok != 2*limit || refused != 4 {
		t.Fatalf("through the load balancer: %d served, %d refused; want %d and 4", ok, refused, 2*limit)
	}
}

// TestClusterMasterKeyMismatch: a node started on the cluster's database
// with another master key than the others refuses to start (instead of
// serving with secrets it cannot open), and says which setting to fix;
// one with the cluster's key joins.
func TestClusterMasterKeyMismatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	c.nodes[0].newSAMLApp(t, "Sealed", "")
	other := make([]byte, 32)
	other[0] = 1
	n, err := c.startNode("x", clusterOptions{lease: time.Second, tweak: func(cfg *config.Config) { cfg.MasterKey = base64.StdEncoding.EncodeToString(other) }})
	if err == nil {
		n.stop()
		t.Fatal("a node with another master key started")
	}
	if !strings.Contains(err.Error(), "does not open the secrets in this database") || !strings.Contains(err.Error(), "GATEHOUSE_MASTER_KEY") {
		t.Fatalf("error: %v", err)
	}
	n, err = c.startNode("y", clusterOptions{lease: time.Second})
	if err != nil {
		t.Fatalf("a node with the cluster's key: %v", err)
	}
	n.stop()
}

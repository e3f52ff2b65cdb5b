package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Browsers on several nodes: a session, a parked SSO request, the replay
// cache of signed requests, lockout and the per-address throttle are in
// the database, so no node needs sticky sessions.

// TestClusterBrowserSessions: a person signs in on node A and uses the
// dashboard and IdP-initiated SSO on node B; the CSRF token of a form
// rendered by A is accepted by B; signing out on B ends the session on A.
// An SP-initiated request parked on A (not signed in) is answered after a
// sign-in on B.
func TestClusterBrowserSessions(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	a, b := c.nodes[0], c.nodes[1]
	u := a.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, app := a.newSAMLApp(t, "Wiki", "")
	a.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	if !strings.HasPrefix(link, c.url+"/") {
		t.Fatalf("app link %s is not on the public base URL %s", link, c.url)
	}

	t.Run("sign in on A, use B, sign out on B", func(t *testing.T) {
		br := c.browser(t)
		if resp, _ := br.on(a).signIn("ana@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.StatusCode != 303 || br.servedBy() != "a" {
			t.Fatalf("sign in on A: %d (served by %q)", resp.StatusCode, br.servedBy())
		}
		_, homeA := br.on(a).get("/app/UserHome")
		resp, home := br.on(b).get("/app/UserHome")
		if resp.StatusCode != 200 || br.servedBy() != "b" || !strings.Contains(home, `href="`+strings.TrimPrefix(link, c.url)+`"`) {
			t.Fatalf("dashboard on B: %d (served by %q) %.300s", resp.StatusCode, br.servedBy(), home)
		}
		_, page := br.on(b).get(link)
		action, response, relay := samlPost(t, page)
		if action != spACS || relay != "https://sp.example.test/home" {
			t.Fatalf("B's SAML form posts to %s with relay %q", action, relay)
		}
		sp := b.gosamlSP(t, appID)
		sp.AllowMissingAttributes = true
		info, err := sp.RetrieveAssertionInfo(response)
		if err != nil || info.NameID != "ana@example.com" || info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
			t.Fatalf("gosaml2 on B's response: %v %+v", err, info)
		}
		// Both nodes list the one session.
		for _, n := range c.nodes {
			r := n.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", c.token, "")
			var list []map[string]any
			if err := json.Unmarshal([]byte(r.raw), &list); r.status != 200 || err != nil || len(list) != 1 {
				t.Fatalf("sessions on %s: %d %s", n.name, r.status, r.raw)
			}
		}
		// Round-robin without a pin: every request works on either node.
		br.on(nil)
		seen := map[string]bool{}
		for range 4 {
			if resp, _ := br.get("/app/UserHome"); resp.StatusCode != 200 {
				t.Fatalf("dashboard through the load balancer: %d", resp.StatusCode)
			}
			seen[br.servedBy()] = true
		}
		if !seen["a"] || !seen["b"] {
			t.Fatalf("the load balancer used %v", seen)
		}
		// A forged token is refused on B, and the session lives on.
		if resp, _ := br.on(b).post("/logout", url.Values{"csrf": {"forged-" + formCSRF(t, homeA)}}); resp.StatusCode != 403 {
			t.Fatalf("sign-out with a forged token on B: %d", resp.StatusCode)
		}
		if resp, _ := br.on(a).get("/app/UserHome"); resp.StatusCode != 200 {
			t.Fatalf("session after the refused sign-out: %d", resp.StatusCode)
		}
		// The sign-out form rendered by A, posted to B.
		sid := br.cookie("gh_sid")
		if resp, _ := br.on(b).post("/logout", url.Values{"csrf": {formCSRF(t, homeA)}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
			t.Fatalf("sign-out on B with A's token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		br.c.Jar.SetCookies(mustURL(c.url), []*http.Cookie{{Name: "gh_sid", Value: sid}}) // a copy of the old cookie
		for _, n := range c.nodes {
			if resp, _ := br.on(n).get("/app/UserHome"); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Fatalf("ended session on %s: %d", n.name, resp.StatusCode)
			}
			if resp, body := br.on(n).get(link); resp.StatusCode != 302 || samlRespRe.MatchString(body) {
				t.Fatalf("SSO on %s after sign-out: %d", n.name, resp.StatusCode)
			}
		}
	})

	t.Run("sign-in form of A posted to B", func(t *testing.T) {
		br := c.browser(t)
		_, form := br.on(a).get("/login?next=/app/UserHome")
		resp, _ := br.on(b).post("/login", url.Values{"username": {"ana@example.com"}, "password": {"Secret-Passw0rd"}, "csrf": {formCSRF(t, form)}, "next": {"/app/UserHome"}})
		if resp.StatusCode != 303 || br.servedBy() != "b" || br.cookie("gh_sid") == "" {
			t.Fatalf("sign-in on B with A's form: %d", resp.StatusCode)
		}
		if resp, _ := br.on(a).get("/app/UserHome"); resp.StatusCode != 200 {
			t.Fatalf("dashboard on A: %d", resp.StatusCode)
		}
	})

	t.Run("SP-initiated parked on A, answered on B", func(t *testing.T) {
		sp := b.gosamlSP(t, appID)
		doc, err := sp.BuildAuthRequestDocument()
		if err != nil {
			t.Fatal(err)
		}
		reqID := doc.Root().SelectAttrValue("ID", "")
		authURL, err := sp.BuildAuthURLFromDocument("state-7", doc)
		if err != nil || reqID == "" {
			t.Fatal(reqID, err)
		}
		br := c.browser(t)
		resp, _ := br.on(a).get(authURL)
		parked := resp.Header.Get("Location")
		if resp.StatusCode != 303 || !strings.HasPrefix(parked, "/sso/continue/") {
			t.Fatalf("request on A: %d %s", resp.StatusCode, parked)
		}
		resp, _ = br.on(a).get(parked)
		if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc == nil || loc.Path != "/login" || loc.Query().Get("next") != parked {
			t.Fatalf("parked request on A without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = br.on(b).signIn("ana@example.com", "Secret-Passw0rd", parked)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != parked {
			t.Fatalf("sign-in on B: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := br.on(b).get(parked)
		action, response, relay := samlPost(t, page)
		if action != spACS || relay != "state-7" {
			t.Fatalf("B answers at %s with relay %q", action, relay)
		}
		info, err := sp.RetrieveAssertionInfo(response)
		if err != nil || info.NameID != "ana@example.com" {
			t.Fatalf("gosaml2: %v", err)
		}
		raw, _ := base64.StdEncoding.DecodeString(response)
		if !strings.Contains(string(raw), `InResponseTo="`+reqID+`"`) {
			t.Fatalf("the response does not answer request %s", reqID)
		}
		// The request was taken: neither node answers it again.
		for _, n := range c.nodes {
			if resp, body := br.on(n).get(parked); resp.StatusCode != 400 || samlRespRe.MatchString(body) {
				t.Fatalf("parked request answered twice, on %s: %d", n.name, resp.StatusCode)
			}
		}
	})
}

// TestClusterReplay: a signed AuthnRequest is accepted once across the
// nodes, sequentially and when copies arrive at both nodes at the same
// moment, and the replay cache survives the loss of the node that accepted
// it.
func TestClusterReplay(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	a, b := c.nodes[0], c.nodes[1]
	signer := newSPSigner(t)
	appID, _ := a.newSAMLApp(t, "Signed", signer.signOn())
	sp := signer.sp(t, a.testServer, appID)
	newRequest := func() string { return signedAuthnRequest(t, sp) }
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(n *clusterNode, u string) int {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set(nodeHeader, n.name)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		if resp.Header.Get(servedByHeader) != n.name {
			t.Errorf("sent to %s, served by %q", n.name, resp.Header.Get(servedByHeader))
		}
		if resp.StatusCode == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/sso/continue/") {
			t.Errorf("accepted request goes to %s", resp.Header.Get("Location"))
		}
		return resp.StatusCode
	}
	replays := 0

	// The unsigned form of a request is refused: signatures are required.
	unsigned := a.gosamlSP(t, appID)
	plain, _ := unsigned.BuildAuthURL("rs")
	if got := send(b, plain); got != 400 {
		t.Fatalf("unsigned request: %d", got)
	}

	// Sequentially: A accepts, B refuses.
	first := newRequest()
	if got := send(a, first); got != 303 {
		t.Fatalf("first use on A: %d", got)
	}
	if got := send(b, first); got != 400 {
		t.Fatalf("replay on B: %d", got)
	}
	replays++

	// At the same moment: eight copies, four to each node, one accepted.
	second := newRequest()
	var wg sync.WaitGroup
	codes := make([]int, 8)
	start := make(chan struct{})
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = send(c.nodes[i%2], second)
		}()
	}
	close(start)
	wg.Wait()
	accepted := 0
	for _, code := range codes {
		switch code {
		case 303:
			accepted++
		case 400:
			replays++
		default:
			t.Fatalf("concurrent copies: %v", codes)
		}
	}
	if accepted != 1 {
		t.Fatalf("concurrent copies accepted %d times: %v", accepted, codes)
	}

	// A is lost; B still refuses the request A accepted, and accepts a new one.
	a.kill()
	if got := send(b, first); got != 400 {
		t.Fatalf("replay on B after A is gone: %d", got)
	}
	replays++
	if got := send(b, newRequest()); got != 303 {
		t.Fatalf("a fresh request on B: %d", got)
	}
	r := b.call(t, "GET", "/api/v1/logs?limit=100&filter="+url.QueryEscape(`eventType eq "app.auth.sso.request.refused"`), c.token, "")
	if got := strings.Count(r.raw, "replayed AuthnRequest"); r.status != 200 || got != replays {
		t.Fatalf("%d replays in the system log, want %d: %s", got, replays, r.raw)
	}
}

// TestClusterLockoutAndThrottle: failed sign-ins spread over both nodes
// add up to LOCKED_OUT at lockout_after, and the per-address throttle
// counts the attempts of both nodes in one window.
func TestClusterLockoutAndThrottle(t *testing.T) {
	t.Parallel()
	const lockAfter, ipLimit = 4, 10
	c := newCluster(t, clusterOptions{tweak: func(cfg *config.Config) { cfg.LockoutAfter, cfg.SignInIPLimit = lockAfter, ipLimit }})
	a, b := c.nodes[0], c.nodes[1]
	u := a.createUser(t, "lee@example.com", "Secret-Passw0rd")
	status := func(n *clusterNode) string {
		t.Helper()
		r := n.call(t, "GET", "/api/v1/users/"+u.ID, c.token, "")
		if r.status != 200 {
			t.Fatalf("get user: %d", r.status)
		}
		return r.body["status"].(string)
	}
	br := c.browser(t)
	attempts := 0
	signIn := func(n *clusterNode, login, password string) *http.Response {
		t.Helper()
		_, form := br.on(n).get("/login")
		resp, _ := br.on(n).post("/login", url.Values{"username": {login}, "password": {password}, "csrf": {formCSRF(t, form)}})
		if br.servedBy() != n.name {
			t.Fatalf("served by %q, want %s", br.servedBy(), n.name)
		}
		attempts++
		return resp
	}
	waitWindow(20 * time.Second) // the throttle's one-minute window must hold every attempt

	for i := range lockAfter {
		n := c.nodes[i%2]
		if resp := signIn(n, "lee@example.com", "Wrong-Passw0rd"); resp.StatusCode != 401 {
			t.Fatalf("failure %d on %s: %d", i+1, n.name, resp.StatusCode)
		}
		want := "ACTIVE"
		if i+1 == lockAfter {
			want = "LOCKED_OUT"
		}
		if got := status(c.nodes[(i+1)%2]); got != want {
			t.Fatalf("after %d failures (the last on %s) the other node reads %s, want %s", i+1, n.name, got, want)
		}
	}
	if resp := signIn(a, "lee@example.com", "Secret-Passw0rd"); resp.StatusCode != 401 || br.cookie("gh_sid") != "" {
		t.Fatalf("locked-out person signed in on A: %d", resp.StatusCode)
	}
	r := b.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.account.lock"`), c.token, "")
	if strings.Count(r.raw, `"eventType":"user.account.lock"`) != 1 {
		t.Fatalf("lock events: %s", r.raw)
	}
	if r := b.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/unlock", c.token, ""); r.status != 200 {
		t.Fatalf("unlock on B: %d %s", r.status, r.raw)
	}
	if resp := signIn(a, "lee@example.com", "Secret-Passw0rd"); resp.StatusCode != 303 {
		t.Fatalf("sign-in on A after the unlock on B: %d", resp.StatusCode)
	}
	br = c.browser(t) // signed out again, for the sign-in form

	// The throttle: ipLimit attempts a minute from one address, whichever
	// node gets them (every request arrives from the load balancer's
	// address here; see docs/operations.md).
	for attempts < ipLimit {
		n := c.nodes[attempts%2]
		if resp := signIn(n, "nobody@example.com", "Whatever-123"); resp.StatusCode != 401 {
			t.Fatalf("attempt %d on %s: %d", attempts, n.name, resp.StatusCode)
		}
	}
	for _, n := range []*clusterNode{b, a} {
		resp := signIn(n, "lee@example.com", "Secret-Passw0rd")
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
			t.Fatalf("attempt %d on %s: %d, want 429 (the nodes count apart?)", attempts, n.name, resp.StatusCode)
		}
	}
}

// TestClusterClientAddress: with the load balancer in trusted_proxies, the
// nodes see each client's own address (from X-Forwarded-For): the sign-in
// throttle counts per client across the nodes, the system log records the
// client, and a client that talks to a node directly cannot choose its
// address with the header.
func TestClusterClientAddress(t *testing.T) {
	t.Parallel()
	const ipLimit = 3
	c := newCluster(t, clusterOptions{tweak: func(cfg *config.Config) { cfg.TrustedProxies, cfg.SignInIPLimit = "127.0.0.1", ipLimit }})
	a, b := c.nodes[0], c.nodes[1]
	x, y := c.browserFrom(t, "127.0.0.2"), c.browserFrom(t, "127.0.0.3")
	signIn := func(br *lbBrowser, n *clusterNode) int {
		t.Helper()
		_, form := br.on(n).get("/login")
		resp, _ := br.on(n).post("/login", url.Values{"username": {"nobody@example.com"}, "password": {"Whatever-123"}, "csrf": {formCSRF(t, form)}})
		return resp.StatusCode
	}
	waitWindow(10 * time.Second)
	for i := range ipLimit {
		if got := signIn(x, c.nodes[i%2]); got != 401 {
			t.Fatalf("client x, attempt %d: %d", i+1, got)
		}
	}
	if got := signIn(x, b); got != 429 {
		t.Fatalf("client x over its limit on B: %d", got)
	}
	for _, n := range c.nodes {
		if got := signIn(y, n); got != 401 {
			t.Fatalf("client y on %s (its own count): %d", n.name, got)
		}
	}
	// Directly to node A, bypassing the load balancer, with a header that
	// names another address: x is still x.
	_, form := x.get(a.srv.URL + "/login")
	req, _ := http.NewRequest("POST", a.srv.URL+"/login", strings.NewReader(url.Values{"username": {"nobody@example.com"}, "password": {"Whatever-123"}, "csrf": {formCSRF(t, form)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if resp, _ := x.do(req); resp.StatusCode != 429 {
		t.Fatalf("client x, directly on A with a forged X-Forwarded-For: %d", resp.StatusCode)
	}
	// The request log of each node names the clients, never the load
	// balancer or the forged address.
	for _, n := range c.nodes {
		logs := n.logs.String()
		if !strings.Contains(logs, `route="POST /login" status=401`) || !strings.Contains(logs, "ip=127.0.0.2") || !strings.Contains(logs, "ip=127.0.0.3") ||
			strings.Contains(logs, "203.0.113.9") || strings.Contains(logs, "ip=127.0.0.1") {
			t.Fatalf("node %s logs the wrong addresses:\n%s", n.name, n.logs.tail(30))
		}
	}
	// A change through the API from client x is in the system log with x's address.
	req, _ = http.NewRequest("POST", c.url+"/api/v1/groups", strings.NewReader(`{"profile":{"name":"From x"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "SSWS "+c.token)
	if resp, body := x.do(req); resp.StatusCode != 200 {
		t.Fatalf("create group from x: %d %s", resp.StatusCode, body)
	}
	r := b.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "group.lifecycle.create"`), c.token, "")
	if !strings.Contains(r.raw, `"ipAddress":"127.0.0.2"`) {
		t.Fatalf("client address in the system log: %s", r.raw)
	}
}

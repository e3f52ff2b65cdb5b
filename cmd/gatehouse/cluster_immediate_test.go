package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// TestClusterChangesAreImmediate: an administrator's change on node A
// governs node B's very next answer, with no wait and no retry. Before
// each change, B answers the same person and app several times, so that
// any per-node cache of apps, keys, assignments, people, groups or
// sessions is filled; a cache that serves the old state after the change
// fails this test. (Gatehouse has no deliberate staleness window for any
// of these: every one is an entitlement or a credential.)
func TestClusterChangesAreImmediate(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	a, b := c.nodes[0], c.nodes[1]
	const password = "Secret-Passw0rd"
	ok := func(r apiResult, what string) apiResult {
		t.Helper()
		if r.status < 200 || r.status > 299 {
			t.Fatalf("%s on A: %d %s", what, r.status, r.raw)
		}
		return r
	}
	// sso launches the app from node n's dashboard link and returns the
	// status and the SAML response ("" when there is none).
	sso := func(br *lbBrowser, n *clusterNode, link string) (int, string) {
		t.Helper()
		resp, body := br.on(n).get(link)
		if br.servedBy() != n.name {
			t.Fatalf("served by %q, want %s", br.servedBy(), n.name)
		}
		if !samlRespRe.MatchString(body) {
			return resp.StatusCode, ""
		}
		_, response, _ := samlPost(t, body)
		return resp.StatusCode, response
	}
	// warm has B answer several times and checks the answers.
	warm := func(br *lbBrowser, link string, sp *saml2.SAMLServiceProvider) *saml2.AssertionInfo {
		t.Helper()
		var info *saml2.AssertionInfo
		for range 3 {
			code, response := sso(br, b, link)
			if code != 200 || response == "" {
				t.Fatalf("B before the change: %d", code)
			}
			var err error
			if info, err = sp.RetrieveAssertionInfo(response); err != nil {
				t.Fatalf("B's response before the change: %v", err)
			}
		}
		return info
	}
	person := func(login string) (string, *lbBrowser) {
		t.Helper()
		u := a.createUser(t, login, password)
		br := c.browser(t)
		if resp, _ := br.on(b).signIn(login, password, "/app/UserHome"); resp.StatusCode != 303 {
			t.Fatalf("sign in %s on B: %d", login, resp.StatusCode)
		}
		return u.ID, br
	}
	newApp := func(label string) (string, string, *saml2.SAMLServiceProvider) {
		t.Helper()
		id, app := a.newSAMLApp(t, label, "")
		link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
		sp := b.gosamlSP(t, id)
		sp.AllowMissingAttributes = true
		return id, link, sp
	}
	refused := func(br *lbBrowser, link, want string) {
		t.Helper()
		resp, body := br.on(b).get(link)
		if resp.StatusCode != 403 || samlRespRe.MatchString(body) || !strings.Contains(body, want) {
			t.Fatalf("B's next answer: %d (want 403 %q): %.400s", resp.StatusCode, want, body)
		}
	}
	signedOut := func(br *lbBrowser, link string) {
		t.Helper()
		for _, path := range []string{"/app/UserHome", link} {
			resp, body := br.on(b).get(path)
			if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") || samlRespRe.MatchString(body) {
				t.Fatalf("B's next answer to %s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	tile := func(br *lbBrowser, link string) bool {
		t.Helper()
		resp, home := br.on(b).get("/app/UserHome")
		if resp.StatusCode != 200 {
			t.Fatalf("B's dashboard: %d", resp.StatusCode)
		}
		return strings.Contains(home, `href="`+strings.TrimPrefix(link, c.url)+`"`)
	}

	t.Run("unassigning a person", func(t *testing.T) {
		uid, br := person("una@example.com")
		appID, link, sp := newApp("Unassign")
		a.assign(t, appID, uid)
		warm(br, link, sp)
		if !tile(br, link) {
			t.Fatal("no tile before the change")
		}
		ok(a.call(t, "DELETE", "/api/v1/apps/"+appID+"/users/"+uid, c.token, ""), "unassign")
		refused(br, link, "not assigned")
		if tile(br, link) {
			t.Fatal("B's dashboard still shows the app")
		}
		// SP-initiated, too.
		authURL, err := sp.BuildAuthURL("")
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := br.on(b).get(authURL)
		if resp, body := br.on(b).get(resp.Header.Get("Location")); resp.StatusCode != 403 || samlRespRe.MatchString(body) {
			t.Fatalf("SP-initiated on B after the unassignment: %d", resp.StatusCode)
		}
	})

	t.Run("leaving the assigned group", func(t *testing.T) {
		uid, br := person("gus@example.com")
		appID, link, sp := newApp("By group")
		gid := ok(a.call(t, "POST", "/api/v1/groups", c.token, `{"profile":{"name":"Wiki users"}}`), "create group").body["id"].(string)
		ok(a.call(t, "PUT", "/api/v1/groups/"+gid+"/users/"+uid, c.token, ""), "add member")
		ok(a.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+gid, c.token, `{}`), "assign group")
		warm(br, link, sp)
		ok(a.call(t, "DELETE", "/api/v1/groups/"+gid+"/users/"+uid, c.token, ""), "remove member")
		refused(br, link, "not assigned")
	})

	t.Run("profile and group claims", func(t *testing.T) {
		uid, br := person("cla@example.com")
		appID, link, sp := newApp("Claims")
		a.assign(t, appID, uid)
		gid := ok(a.call(t, "POST", "/api/v1/groups", c.token, `{"profile":{"name":"sp-editors"}}`), "create group").body["id"].(string)
		ok(a.call(t, "PUT", "/api/v1/groups/"+gid+"/users/"+uid, c.token, ""), "add member")
		info := warm(br, link, sp)
		if info.Values.Get("groups") != "sp-editors" || info.Values.Get("email") != "cla@example.com" {
			t.Fatalf("claims before the change: %+v", info.Values)
		}
		ok(a.call(t, "DELETE", "/api/v1/groups/"+gid+"/users/"+uid, c.token, ""), "remove member")
		ok(a.call(t, "POST", "/api/v1/users/"+uid, c.token, `{"profile":{"email":"claire@example.com"}}`), "change email")
		_, response := sso(br, b, link)
		info, err := sp.RetrieveAssertionInfo(response)
		if err != nil {
			t.Fatal(err)
		}
		if _, still := info.Values["groups"]; still || info.Values.Get("email") != "claire@example.com" {
			t.Fatalf("B's next assertion: groups %q, email %q", info.Values.Get("groups"), info.Values.Get("email"))
		}
	})

	t.Run("suspending a person", func(t *testing.T) {
		uid, br := person("sus@example.com")
		appID, link, sp := newApp("Suspend")
		a.assign(t, appID, uid)
		warm(br, link, sp)
		ok(a.call(t, "POST", "/api/v1/users/"+uid+"/lifecycle/suspend", c.token, ""), "suspend")
		signedOut(br, link)
	})

	t.Run("ending a person's sessions", func(t *testing.T) {
		uid, br := person("end@example.com")
		appID, link, sp := newApp("Sessions")
		a.assign(t, appID, uid)
		warm(br, link, sp)
		ok(a.call(t, "DELETE", "/api/v1/users/"+uid+"/sessions", c.token, ""), "clear sessions")
		signedOut(br, link)
	})

	t.Run("deactivating an app", func(t *testing.T) {
		uid, br := person("dea@example.com")
		appID, link, sp := newApp("Deactivate")
		a.assign(t, appID, uid)
		warm(br, link, sp)
		ok(a.call(t, "POST", "/api/v1/apps/"+appID+"/lifecycle/deactivate", c.token, ""), "deactivate")
		refused(br, link, "not active")
		authURL, err := sp.BuildAuthURL("")
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := br.on(b).get(authURL); resp.StatusCode != 403 || samlRespRe.MatchString(body) {
			t.Fatalf("SP-initiated on B after the deactivation: %d", resp.StatusCode)
		}
		if tile(br, link) {
			t.Fatal("B's dashboard still shows the inactive app")
		}
		// And back: activation on A is immediate on B too.
		ok(a.call(t, "POST", "/api/v1/apps/"+appID+"/lifecycle/activate", c.token, ""), "activate")
		if code, response := sso(br, b, link); code != 200 || response == "" {
			t.Fatalf("B after the reactivation: %d", code)
		}
	})

	t.Run("signing-key rollover", func(t *testing.T) {
		uid, br := person("rol@example.com")
		appID, link, oldSP := newApp("Rollover")
		a.assign(t, appID, uid)
		oldCert := certs(t, oldSP)
		if len(oldCert) != 1 {
			t.Fatalf("metadata before the rollover has %d certificates", len(oldCert))
		}
		warm(br, link, oldSP)

		// Generate on A: B publishes both at once, the active one first,
		// and still signs with the old key.
		r := ok(a.call(t, "POST", "/api/v1/apps/"+appID+"/credentials/keys/generate?validityYears=1", c.token, ""), "generate key")
		newKid := r.body["kid"].(string)
		both := certs(t, b.gosamlSP(t, appID))
		if len(both) != 2 || !both[0].Equal(oldCert[0]) {
			t.Fatalf("B's metadata after the generation: %d certificates, old first: %v", len(both), len(both) > 0 && both[0].Equal(oldCert[0]))
		}
		newSP := b.gosamlSP(t, appID)
		newSP.AllowMissingAttributes = true
		newSP.IDPCertificateStore = &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{both[1]}}
		_, response := sso(br, b, link)
		if _, err := oldSP.RetrieveAssertionInfo(response); err != nil {
			t.Fatalf("B after the generation does not sign with the active key: %v", err)
		}
		if _, err := newSP.RetrieveAssertionInfo(response); err == nil {
			t.Fatal("B signs with the new key before it is active")
		}

		// Activate on A: B's metadata and B's next response use the new key.
		app := ok(a.call(t, "GET", "/api/v1/apps/"+appID, c.token, ""), "get app").body
		app["credentials"].(map[string]any)["signing"] = map[string]any{"kid": newKid}
		ok(a.call(t, "PUT", "/api/v1/apps/"+appID, c.token, mustJSONString(t, app)), "activate key")
		if md := certs(t, b.gosamlSP(t, appID)); len(md) != 2 || !md[0].Equal(both[1]) {
			t.Fatalf("B's metadata after the activation does not lead with the new key")
		}
		_, response = sso(br, b, link)
		if _, err := newSP.RetrieveAssertionInfo(response); err != nil {
			t.Fatalf("B's next response is not signed with the new key: %v", err)
		}
		if _, err := oldSP.RetrieveAssertionInfo(response); err == nil {
			t.Fatal("B's next response verifies with the old key alone")
		}
		raw, _ := base64.StdEncoding.DecodeString(response)
		if !strings.Contains(string(raw), base64.StdEncoding.EncodeToString(both[1].Raw)) {
			t.Fatal("B's response does not carry the new certificate")
		}

		// Retire the old key on A: B stops publishing it.
		oldKid := ""
		keys := a.call(t, "GET", "/api/v1/apps/"+appID+"/credentials/keys", c.token, "")
		for _, k := range jsonList(t, keys.raw) {
			if k["kid"] != newKid {
				oldKid = fmt.Sprint(k["kid"])
			}
		}
		ok(a.call(t, "DELETE", "/api/v1/apps/"+appID+"/credentials/keys/"+oldKid, c.token, ""), "retire old key")
		if md := certs(t, b.gosamlSP(t, appID)); len(md) != 1 || !md[0].Equal(both[1]) {
			t.Fatalf("B's metadata after the retirement: %d certificates", len(md))
		}
	})
}

// certs are the certificates an SP built from metadata trusts, in the
// metadata's order.
func certs(t testing.TB, sp *saml2.SAMLServiceProvider) []*x509.Certificate {
	t.Helper()
	return sp.IDPCertificateStore.(*dsig.MemoryX509CertificateStore).Roots
}

func jsonList(t testing.TB, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("not a JSON list: %v: %.300s", err, raw)
	}
	return out
}

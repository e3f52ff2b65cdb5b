package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/oidclogin/oidctest"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// newFederatedServer is newTestServer with local OpenID Connect providers
// standing in for Google and LinkedIn.
func newFederatedServer(t *testing.T, postgres bool, issuers map[federation.Type]string) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if postgres {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	cfg.MasterKeyFile = filepath.Join(cfg.DataDir, "master.key")
	cfg.APIRateLimit = 100000
	srv := httptest.NewUnstartedServer(nil)
	cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := build(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a.idpIssuers = issuers
	srv.Config.Handler = a.handler(prometheus.NewRegistry())
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.close() })
	tok, _, err := oktaapi.NewToken(context.Background(), a.db.Tokens(), a.ids, a.now(), a.events, "test", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{app: a, srv: srv, token: tok}
}

// federate drives the whole redirect flow: Gatehouse's start, the
// provider's authorization endpoint, and the callback. It returns the
// callback's answer and the callback URL (to replay it).
func (b *browser) federate(idpID, next string) (*http.Response, string, string) {
	b.t.Helper()
	resp, body := b.get("/sso/idps/" + idpID + "/start?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusFound {
		return resp, body, ""
	}
	resp, body = b.get(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("provider authorize: %d %s", resp.StatusCode, body)
	}
	callback := resp.Header.Get("Location")
	resp, body = b.get(callback)
	return resp, body, callback
}

// authorizeOnly runs start and the provider's authorization, returning the
// callback URL without visiting it.
func (b *browser) authorizeOnly(idpID string) string {
	b.t.Helper()
	resp, body := b.get("/sso/idps/" + idpID + "/start")
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	resp, _ = b.get(resp.Header.Get("Location"))
	return resp.Header.Get("Location")
}

func googleClaims(sub, email string, verified bool, given, family string) map[string]any {
	return map[string]any{"sub": sub, "email": email, "email_verified": verified, "given_name": given, "family_name": family,
		"name": given + " " + family, "picture": "https://lh3.googleusercontent.com/a/x", "hd": "example.com"}
}

func linkedInClaims(sub, email string, verified bool, given, family string) map[string]any {
	return map[string]any{"sub": sub, "email": email, "email_verified": verified, "given_name": given, "family_name": family,
		"name": given + " " + family, "locale": map[string]any{"country": "US", "language": "en"}, "picture": "https://media.licdn.com/x"}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func idpRequest(typ, name, clientID, secret, issuer string, policy map[string]any) map[string]any {
	protocol := map[string]any{"type": "OIDC", "scopes": []string{"openid", "email", "profile"},
		"credentials": map[string]any{"client": map[string]any{"client_id": clientID, "client_secret": secret}}}
	if issuer != "" {
		protocol["issuer"] = map[string]any{"url": issuer}
	}
	return map[string]any{"type": typ, "name": name, "protocol": protocol, "policy": policy}
}

type idpWorld struct {
	ts                 *testServer
	google, linkedin   *oidctest.Provider
	googleID, linkedID string
	staffID            string
}

func newIdPWorld(t *testing.T, postgres bool) *idpWorld {
	t.Helper()
	google := oidctest.Start("", "google-client-1", "google-secret-XYZ", googleClaims("g-1001", "ann@example.com", true, "Ann", "Lee"))
	linkedin := oidctest.Start("/oauth", "linkedin-client-1", "linkedin-secret-XYZ", linkedInClaims("li-77", "lee@example.com", true, "Lee", "Park"))
	t.Cleanup(google.Close)
	t.Cleanup(linkedin.Close)
	ts := newFederatedServer(t, postgres, map[federation.Type]string{federation.Google: google.Issuer, federation.LinkedIn: linkedin.Issuer})
	w := &idpWorld{ts: ts, google: google, linkedin: linkedin}
	g, err := ts.directory.CreateGroup(context.Background(), "Staff", "")
	if err != nil {
		t.Fatal(err)
	}
	w.staffID = g.ID
	r := ts.call(t, "POST", "/api/v1/idps", ts.token, mustJSON(t, idpRequest("GOOGLE", "Google", google.ClientID, google.ClientSecret, "", map[string]any{
		"provisioning": map[string]any{"action": "AUTO", "groups": map[string]any{"action": "ASSIGN", "assignments": []string{g.ID}}},
		"accountLink":  map[string]any{"action": "AUTO", "filter": nil},
		"subject":      map[string]any{"userNameTemplate": map[string]any{"template": "idpuser.email"}, "matchType": "USERNAME_OR_EMAIL"},
	})))
	if r.status != 200 {
		t.Fatalf("create Google: %d %s", r.status, r.raw)
	}
	w.googleID = r.body["id"].(string)
	r = ts.call(t, "POST", "/api/v1/idps", ts.token, mustJSON(t, idpRequest("LINKEDIN", "LinkedIn", linkedin.ClientID, linkedin.ClientSecret, "", map[string]any{
		"provisioning": map[string]any{"action": "DISABLED"},
		"accountLink":  map[string]any{"action": "AUTO"},
		"subject":      map[string]any{"matchType": "EMAIL"},
	})))
	if r.status != 200 {
		t.Fatalf("create LinkedIn: %d %s", r.status, r.raw)
	}
	w.linkedID = r.body["id"].(string)
	return w
}

// failures returns the auth_via_IDP failure events' raw JSON.
func (ts *testServer) idpEvents(t *testing.T, result string) string {
	t.Helper()
	f := fmt.Sprintf(`eventType eq "user.authentication.auth_via_IDP" and outcome.result eq "%s"`, result)
	return ts.call(t, "GET", "/api/v1/logs?limit=1000&filter="+url.QueryEscape(f), ts.token, "").raw
}

func TestFederatedSignIn(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testFederatedSignIn(t, false) })
	t.Run("postgres", func(t *testing.T) { testFederatedSignIn(t, true) })
}

func testFederatedSignIn(t *testing.T, postgres bool) {
	w := newIdPWorld(t, postgres)
	ts := w.ts
	ctx := context.Background()

	// The secret is write-only: not in the API, not in clear in the database.
	r := ts.call(t, "GET", "/api/v1/idps/"+w.googleID, ts.token, "")
	if r.status != 200 || strings.Contains(r.raw, "google-secret-XYZ") || strings.Contains(r.raw, "client_secret") {
		t.Fatalf("secret rendered: %s", r.raw)
	}
	if !strings.Contains(r.raw, `"client_id":"google-client-1"`) || !strings.Contains(r.raw, ts.srv.URL+"/oauth2/v1/authorize/callback") {
		t.Fatalf("idp JSON: %s", r.raw)
	}
	stored, err := ts.db.IdPs().IdP(ctx, w.googleID)
	if err != nil || stored.SealedSecret == "" || strings.Contains(stored.SealedSecret, "google-secret") {
		t.Fatalf("stored secret: %v %q", err, stored.SealedSecret)
	}

	// The sign-in page offers both providers.
	b := newBrowser(t, ts.srv.URL)
	_, page := b.get("/login?next=/app/UserHome")
	for _, want := range []string{"Sign in with Google", "Sign in with LinkedIn", "/sso/idps/" + w.googleID + "/start?next=%2Fapp%2FUserHome"} {
		if !strings.Contains(page, want) {
			t.Fatalf("sign-in page lacks %q", want)
		}
	}

	// First sign-in with Google: the person is created just in time.
	before := ts.userCount(t)
	resp, body, callback := b.federate(w.googleID, "/app/UserHome?tab=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/UserHome?tab=1" {
		t.Fatalf("JIT sign-in: %d %s %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if b.cookie("gh_sid") == "" {
		t.Fatal("no session after federated sign-in")
	}
	if resp, page := b.get("/app/UserHome"); resp.StatusCode != 200 || !strings.Contains(page, "My Apps") {
		t.Fatalf("dashboard after federated sign-in: %d", resp.StatusCode)
	}
	if ts.userCount(t) != before+1 {
		t.Fatal("no user created")
	}
	ann, err := ts.directory.Store.User(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ann.Status != directory.Active || ann.Profile.String("firstName") != "Ann" || ann.Profile.String("lastName") != "Lee" ||
		ann.Credentials.Provider != "FEDERATION" || ann.Credentials.HasPassword() || ann.LastLogin == nil {
		t.Fatalf("created user: %+v", ann)
	}
	groups, _ := ts.directory.Store.UserGroups(ctx, ann.ID)
	if len(groups) != 1 || groups[0].ID != w.staffID {
		t.Fatalf("JIT groups: %v", groups)
	}
	r = ts.call(t, "GET", "/api/v1/idps/"+w.googleID+"/users", ts.token, "")
	if r.status != 200 || !strings.Contains(r.raw, `"externalId":"g-1001"`) || !strings.Contains(r.raw, `"id":"`+ann.ID+`"`) || strings.Contains(r.raw, `"nonce"`) {
		t.Fatalf("linked users: %s", r.raw)
	}
	r = ts.call(t, "GET", "/api/v1/users/"+ann.ID+"/sessions", ts.token, "")
	if !strings.Contains(r.raw, `"amr":[]`) {
		t.Fatalf("session amr: %s", r.raw)
	}
	r = ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.lifecycle.create" and target.id eq "`+ann.ID+`"`), ts.token, "")
	if !strings.Contains(r.raw, "user.lifecycle.create") {
		t.Fatalf("JIT creation not logged: %s", r.raw)
	}
	if ev := ts.idpEvents(t, "SUCCESS"); !strings.Contains(ev, ann.ID) || !strings.Contains(ev, "JIT_CREATED") {
		t.Fatalf("success not logged: %s", ev)
	}

	// The same callback again is refused: state and code are single use.
	b2 := newBrowser(t, ts.srv.URL)
	resp, body = b2.get(callback)
	if resp.StatusCode != 400 || !strings.Contains(body, "expired or was already used") || b2.cookie("gh_sid") != "" {
		t.Fatalf("replayed callback: %d %.300s", resp.StatusCode, body)
	}

	// A second sign-in uses the link; nobody new is created.
	b3 := newBrowser(t, ts.srv.URL)
	if resp, _, _ := b3.federate(w.googleID, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("returning sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ts.userCount(t) != before+1 {
		t.Fatal("returning sign-in created a user")
	}

	// LinkedIn links an existing person by verified email.
	lee := ts.createUser(t, "lee@example.com", "Secret-Passw0rd")
	b4 := newBrowser(t, ts.srv.URL)
	if resp, body, _ := b4.federate(w.linkedID, "/app/UserHome"); resp.StatusCode != 303 {
		t.Fatalf("link by email: %d %.400s", resp.StatusCode, body)
	}
	r = ts.call(t, "GET", "/api/v1/users/"+lee.ID+"/idps", ts.token, "")
	if !strings.Contains(r.raw, `"id":"`+w.linkedID+`"`) || !strings.Contains(r.raw, `"type":"LINKEDIN"`) {
		t.Fatalf("person's providers: %s", r.raw)
	}
	r = ts.call(t, "GET", "/api/v1/idps/"+w.linkedID+"/users/"+lee.ID, ts.token, "")
	if r.status != 200 || r.body["externalId"] != "li-77" {
		t.Fatalf("link: %d %s", r.status, r.raw)
	}
	// The linked users are read as plain JSON: Okta documents the IdP user
	// (GET /api/v1/idps/{idpId}/users/{userId}) with a flat profile of
	// string (or null) values, such as {"lastName":"Jackson",
	// "subjectNameId":"saml.jackson@example.com"}, and Gatehouse sends that
	// shape; the SDK v5's IdentityProviderApplicationUser types the profile
	// as map[string]map[string]interface{} (an object per value, from the
	// OpenAPI spec's additionalProperties), so it cannot decode Okta's own
	// answers either.
	keys := []string{}
	for k := range r.body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "_links,created,externalId,id,lastUpdated,profile" {
		t.Fatalf("IdP user members: %v", keys)
	}
	if prof, ok := r.body["profile"].(map[string]any); !ok || prof["email"] != "lee@example.com" || prof["given_name"] != "Lee" {
		t.Fatalf("IdP user profile: %v", r.body["profile"])
	}
	if _, _, err := sdkClient(t, ts).IdentityProviderAPI.GetIdentityProviderApplicationUser(ctx, w.linkedID, lee.ID).Execute(); err == nil || !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Fatalf("the SDK's IdP user type was expected to refuse a string-valued profile: %v", err)
	}
	if ts.userCount(t) != before+2 {
		t.Fatal("linking created a user")
	}

	// Unlinking removes it; the person can still link again by email.
	if r := ts.call(t, "DELETE", "/api/v1/idps/"+w.linkedID+"/users/"+lee.ID, ts.token, ""); r.status != 204 {
		t.Fatalf("unlink: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/idps/"+w.linkedID+"/users/"+lee.ID, ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("after unlink: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "DELETE", "/api/v1/idps/"+w.linkedID+"/users/"+lee.ID, ts.token, ""); r.status != 404 {
		t.Fatalf("unlink twice: %d", r.status)
	}
	// An administrator links by hand; a subject already linked to someone
	// else is refused.
	if r := ts.call(t, "POST", "/api/v1/idps/"+w.linkedID+"/users/"+lee.ID, ts.token, `{"externalId":"li-77"}`); r.status != 200 || r.body["externalId"] != "li-77" {
		t.Fatalf("link by hand: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/idps/"+w.googleID+"/users/"+lee.ID, ts.token, `{"externalId":"g-1001"}`); r.status != 409 {
		t.Fatalf("link a subject twice: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/idps/"+w.googleID+"/users/"+lee.ID, ts.token, `{"externalId":""}`); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("link without externalId: %d %s", r.status, r.raw)
	}

	// The official Okta SDK reads providers and their users.
	sdk := sdkClient(t, ts)
	list, _, err := sdk.IdentityProviderAPI.ListIdentityProviders(ctx).Execute()
	if err != nil || len(list) != 2 {
		t.Fatalf("SDK list: %d %v", len(list), err)
	}
	gp, _, err := sdk.IdentityProviderAPI.GetIdentityProvider(ctx, w.googleID).Execute()
	if err != nil || gp.GetType() != "GOOGLE" || gp.GetName() != "Google" {
		t.Fatalf("SDK get: %v %+v", err, gp)
	}
	if pr := gp.GetProtocol(); pr.GetType() != "OIDC" || len(pr.GetScopes()) != 3 {
		t.Fatalf("SDK protocol: %+v", pr)
	}
	if cl := gp.GetProtocol().Credentials.GetClient(); cl.GetClientId() != "google-client-1" || cl.GetClientSecret() != "" {
		t.Fatalf("SDK client credentials: %+v", cl)
	}
	pol := gp.GetPolicy()
	if prov := pol.GetProvisioning(); prov.GetAction() != "AUTO" {
		t.Fatalf("SDK provisioning: %+v", prov)
	}
	if subj := pol.GetSubject(); subj.GetMatchType() != "USERNAME_OR_EMAIL" {
		t.Fatalf("SDK subject: %+v", subj)
	}
	// Replacing the settings without a secret keeps the sealed one.
	put := idpRequest("GOOGLE", "Google Workspace", w.google.ClientID, "", "", map[string]any{
		"provisioning": map[string]any{"action": "AUTO"}, "accountLink": map[string]any{"action": "AUTO"},
		"subject": map[string]any{"matchType": "USERNAME_OR_EMAIL"}})
	if r := ts.call(t, "PUT", "/api/v1/idps/"+w.googleID, ts.token, mustJSON(t, put)); r.status != 200 || r.body["name"] != "Google Workspace" {
		t.Fatalf("replace: %d %s", r.status, r.raw)
	}
	if resp, _, _ := newBrowser(t, ts.srv.URL).federate(w.googleID, ""); resp.StatusCode != 303 {
		t.Fatalf("sign-in after replace: %d", resp.StatusCode)
	}

	// A deactivated provider loses its button and its flow.
	if r := ts.call(t, "DELETE", "/api/v1/idps/"+w.linkedID, ts.token, ""); r.status != 403 || r.body["errorCode"] != "E0000038" {
		t.Fatalf("delete active: %d %s", r.status, r.raw)
	}
	ts.call(t, "POST", "/api/v1/idps/"+w.linkedID+"/lifecycle/deactivate", ts.token, "")
	if _, page := newBrowser(t, ts.srv.URL).get("/login"); strings.Contains(page, "Sign in with LinkedIn") || !strings.Contains(page, "Sign in with Google") {
		t.Fatal("deactivated provider still offered")
	}
	if resp, _ := newBrowser(t, ts.srv.URL).get("/sso/idps/" + w.linkedID + "/start"); resp.StatusCode != 404 {
		t.Fatalf("deactivated start: %d", resp.StatusCode)
	}
	if r := ts.call(t, "DELETE", "/api/v1/idps/"+w.linkedID, ts.token, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
}

func TestFederatedSignInRefusals(t *testing.T) {
	w := newIdPWorld(t, false)
	ts := w.ts
	users := ts.userCount(t)
	type tc struct {
		name   string
		setup  func()
		drive  func(b *browser) (*http.Response, string)
		status int
		page   string
		reason string
	}
	flow := func(id string) func(b *browser) (*http.Response, string) {
		return func(b *browser) (*http.Response, string) {
			resp, body, _ := b.federate(id, "/app/UserHome")
			return resp, body
		}
	}
	cases := []tc{
		{name: "unverified email", setup: func() { w.google.SetUser(googleClaims("g-2002", "eve@example.com", false, "Eve", "Moss")) },
			drive: flow(w.googleID), status: 403, page: "email address is not verified", reason: "UNVERIFIED_EMAIL"},
		{name: "unverified email never links an existing person", setup: func() {
			ts.createUser(t, "kim@example.com", "Secret-Passw0rd")
			w.google.SetUser(googleClaims("g-3003", "kim@example.com", false, "Kim", "Ode"))
		}, drive: flow(w.googleID), status: 403, page: "not verified", reason: "UNVERIFIED_EMAIL"},
		{name: "unknown person refused by LinkedIn policy", setup: func() { w.linkedin.SetUser(linkedInClaims("li-88", "new@example.com", true, "New", "Person")) },
			drive: flow(w.linkedID), status: 403, page: "accounts are not created from LinkedIn", reason: "UNKNOWN_USER"},
		{name: "bad state", drive: func(b *browser) (*http.Response, string) {
			return b.get("/oauth2/v1/authorize/callback?state=forged-state&code=abc")
		}, status: 400, page: "expired or was already used", reason: "INVALID_STATE"},
		{name: "missing state", drive: func(b *browser) (*http.Response, string) {
			return b.get("/oauth2/v1/authorize/callback?code=abc")
		}, status: 400, page: "expired or was already used", reason: "INVALID_STATE"},
		{name: "callback in another browser", drive: func(b *browser) (*http.Response, string) {
			cb := newBrowser(t, ts.srv.URL).authorizeOnly(w.googleID)
			return b.get(cb)
		}, status: 400, page: "started in another browser", reason: "STATE_MISMATCH"},
		{name: "replayed code with a fresh state", drive: func(b *browser) (*http.Response, string) {
			_, _, used := newBrowser(t, ts.srv.URL).federate(w.googleID, "")
			oldCode := mustURL(used).Query().Get("code")
			fresh := mustURL(b.authorizeOnly(w.googleID))
			q := fresh.Query()
			q.Set("code", oldCode)
			fresh.RawQuery = q.Encode()
			return b.get(fresh.String())
		}, status: 403, page: "refused the sign-in code", reason: "TOKEN_EXCHANGE_FAILED: invalid_grant"},
		{name: "provider error", drive: func(b *browser) (*http.Response, string) {
			cb := mustURL(b.authorizeOnly(w.googleID))
			q := cb.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			cb.RawQuery = q.Encode()
			return b.get(cb.String())
		}, status: 403, page: "did not sign you in", reason: "IDP_ERROR: access_denied"},
		{name: "wrong audience", setup: func() { w.google.SetAudience("another-client") }, drive: flow(w.googleID), status: 403, page: "could not be verified", reason: "INVALID_ID_TOKEN: AUDIENCE"},
		{name: "expired ID token", setup: func() { w.google.SetExpired(true) }, drive: flow(w.googleID), status: 403, page: "could not be verified", reason: "INVALID_ID_TOKEN: EXPIRED"},
		{name: "ID token signed with another key", setup: func() { w.google.SetForeignKey(true) }, drive: flow(w.googleID), status: 403, page: "could not be verified", reason: "INVALID_ID_TOKEN: SIGNATURE"},
		{name: "nonce mismatch", setup: func() { w.google.SetNonce("not-the-nonce") }, drive: flow(w.googleID), status: 403, page: "could not be verified", reason: "INVALID_ID_TOKEN: NONCE"},
		{name: "provider down at the token endpoint", drive: func(b *browser) (*http.Response, string) {
			cb := b.authorizeOnly(w.googleID)
			w.google.SetDown(true)
			return b.get(cb)
		}, status: 502, page: "cannot be reached", reason: "PROVIDER_UNAVAILABLE"},
		{name: "provider down at the start", setup: func() { w.google.SetDown(true) }, drive: func(b *browser) (*http.Response, string) {
			return b.get("/sso/idps/" + w.googleID + "/start")
		}, status: 502, page: "cannot be reached", reason: "PROVIDER_UNAVAILABLE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.google.Reset()
			w.linkedin.Reset()
			w.google.SetUser(googleClaims("g-1001", "ann@example.com", true, "Ann", "Lee"))
			if c.setup != nil {
				c.setup()
			}
			before := strings.Count(ts.idpEvents(t, "FAILURE"), `"reason":"`+c.reason+`"`)
			b := newBrowser(t, ts.srv.URL)
			resp, body := c.drive(b)
			if resp.StatusCode != c.status || !strings.Contains(body, c.page) {
				t.Fatalf("got %d, want %d with %q: %.600s", resp.StatusCode, c.status, c.page, body)
			}
			if b.cookie("gh_sid") != "" {
				t.Fatal("a refused sign-in left a session")
			}
			if after := strings.Count(ts.idpEvents(t, "FAILURE"), `"reason":"`+c.reason+`"`); after != before+1 {
				t.Fatalf("reason %s logged %d times, want %d", c.reason, after, before+1)
			}
		})
	}
	w.google.Reset()
	// Only kim (created by the test) and ann (whose honest sign-in supplied
	// the code to replay) exist; no refusal created anyone.
	if n := ts.userCount(t); n != users+2 {
		t.Fatalf("users: %d, want %d", n, users+2)
	}
}

func TestIdPAPIBadInput(t *testing.T) {
	op := oidctest.Start("/realms/acme", "acme-client", "acme-secret", googleClaims("a-1", "a@example.com", true, "A", "B"))
	t.Cleanup(op.Close)
	ts := newFederatedServer(t, false, nil)
	good := func() map[string]any {
		return idpRequest("OIDC", "Acme SSO", "acme-client", "acme-secret", op.Issuer, map[string]any{"provisioning": map[string]any{"action": "AUTO"}})
	}
	cases := []struct {
		name   string
		body   func() map[string]any
		raw    string
		status int
		cause  string
	}{
		{name: "missing client secret", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["credentials"] = map[string]any{"client": map[string]any{"client_id": "acme-client"}}
			return b
		}, status: 400, cause: "protocol.credentials.client.client_secret: required"},
		{name: "bad issuer URL", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["issuer"] = map[string]any{"url": "not a url"}
			return b
		}, status: 400, cause: "protocol.issuer.url: must be an absolute https URL"},
		{name: "plain http issuer off loopback", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["issuer"] = map[string]any{"url": "http://login.example.com"}
			return b
		}, status: 400, cause: "must use https"},
		{name: "issuer without discovery", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["issuer"] = map[string]any{"url": op.Server.URL + "/nothing-here"}
			return b
		}, status: 400, cause: "discovery document"},
		{name: "unknown type", body: func() map[string]any { b := good(); b["type"] = "FACEBOOK"; return b }, status: 400, cause: "is not supported; use GOOGLE, LINKEDIN or OIDC"},
		{name: "SAML protocol", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["type"] = "SAML2"
			return b
		}, status: 400, cause: "protocol.type"},
		{name: "no openid scope", body: func() map[string]any {
			b := good()
			b["protocol"].(map[string]any)["scopes"] = []string{"email"}
			return b
		}, status: 400, cause: "must include openid"},
		{name: "bad provisioning action", body: func() map[string]any {
			b := good()
			b["policy"] = map[string]any{"provisioning": map[string]any{"action": "CALLOUT"}}
			return b
		}, status: 400, cause: "policy.provisioning.action"},
		{name: "unknown group", body: func() map[string]any {
			b := good()
			b["policy"] = map[string]any{"provisioning": map[string]any{"action": "AUTO", "groups": map[string]any{"action": "ASSIGN", "assignments": []string{"00gnope"}}}}
			return b
		}, status: 400, cause: "00gnope"},
		{name: "bad mapping expression", body: func() map[string]any {
			b := good()
			b["policy"] = map[string]any{"provisioning": map[string]any{"action": "AUTO", "profileMapping": map[string]string{"login": "idpuser.email +"}}}
			return b
		}, status: 400, cause: "policy.provisioning.profileMapping.login"},
		{name: "Google issuer cannot change", body: func() map[string]any {
			b := good()
			b["type"] = "GOOGLE"
			return b
		}, status: 400, cause: "cannot be changed"},
		{name: "unknown member", raw: `{"type":"OIDC","name":"x","secret":"y"}`, status: 400, cause: "Unrecognized field"},
		{name: "not JSON", raw: `{"type":`, status: 400, cause: "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.raw
			if body == "" {
				body = mustJSON(t, c.body())
			}
			r := ts.call(t, "POST", "/api/v1/idps", ts.token, body)
			if r.status != c.status || r.body["errorCode"] == nil || r.body["errorId"] == nil || !strings.Contains(r.raw, c.cause) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
	if r := ts.call(t, "GET", "/api/v1/idps", ts.token, ""); r.raw != "[]\n" {
		t.Fatalf("a refused provider was stored: %s", r.raw)
	}
	// A good OIDC provider gets its endpoints from discovery.
	r := ts.call(t, "POST", "/api/v1/idps", ts.token, mustJSON(t, good()))
	if r.status != 200 || !strings.Contains(r.raw, `"url":"`+op.Issuer+`/authorize"`) || !strings.Contains(r.raw, `"url":"`+op.Issuer+`/jwks"`) {
		t.Fatalf("OIDC create: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/idps?type=OIDC&q=acme", ts.token, ""); !strings.Contains(r.raw, "Acme SSO") {
		t.Fatalf("list: %s", r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/idps/0oinope", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("unknown idp: %d %s", r.status, r.raw)
	}
	// The generic OIDC provider signs a person in too.
	acme := r.body["id"].(string)
	b := newBrowser(t, ts.srv.URL)
	if resp, body, _ := b.federate(acme, ""); resp.StatusCode != 303 {
		t.Fatalf("OIDC sign-in: %d %.400s", resp.StatusCode, body)
	}
	// The provider goes away between its authorization and the callback:
	// the code cannot be exchanged, and later starts cannot discover it.
	b = newBrowser(t, ts.srv.URL)
	cb := b.authorizeOnly(acme)
	op.Close()
	if resp, body := b.get(cb); resp.StatusCode != 502 || !strings.Contains(body, "cannot be reached") || b.cookie("gh_sid") != "" {
		t.Fatalf("provider gone at the token endpoint: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := b.get("/sso/idps/" + acme + "/start"); resp.StatusCode != 502 || !strings.Contains(body, "cannot be reached") {
		t.Fatalf("provider gone at the start: %d %.300s", resp.StatusCode, body)
	}
	if n := strings.Count(ts.idpEvents(t, "FAILURE"), `"reason":"PROVIDER_UNAVAILABLE"`); n != 2 {
		t.Fatalf("provider failures logged: %d", n)
	}
}

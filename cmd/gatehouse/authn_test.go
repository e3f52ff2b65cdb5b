package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
)

// Okta's classic Authentication API as CLI tools use it: primary
// authentication, TOTP verification, the sessionToken exchanged for the
// session cookie (/login/sessionCookieRedirect as saml2aws asks for it,
// ?onetimetoken= as aws-okta, ?sessionToken= as gimme-aws-creds) and the
// IdP-initiated SAML response for the assigned app.

// cliClient is an HTTP client with a cookie jar that follows redirects,
// as saml2aws's and aws-okta's are.
type cliClient struct {
	t *testing.T
	c *http.Client
}

func newCLIClient(t *testing.T) *cliClient {
	jar, _ := cookiejar.New(nil)
	return &cliClient{t: t, c: &http.Client{Jar: jar}}
}

func (c *cliClient) get(rawURL string, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (c *cliClient) api(method, rawURL, body string) apiResult {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, rawURL, rd)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apiResult{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &r.body)
	return r
}

func authnBody(username, password string) string {
	return fmt.Sprintf(`{"username":%q,"password":%q,"options":{"multiOptionalFactorEnroll":false,"warnBeforePasswordExpired":false},"context":{"deviceToken":"d1"}}`, username, password)
}

func str(v any, path ...string) string {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// authnSuccess signs in through the API and returns the sessionToken.
func (ts *testServer) authnSuccess(t *testing.T, login, password string) string {
	t.Helper()
	r := ts.call(t, "POST", "/api/v1/authn", "", authnBody(login, password))
	if r.status != 200 || r.body["status"] != "SUCCESS" || str(r.body, "sessionToken") == "" {
		t.Fatalf("primary authentication: %d %s", r.status, r.raw)
	}
	return str(r.body, "sessionToken")
}

func TestAuthnPasswordToSAML(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
		appID, app := ts.newSAMLApp(t, "Wiki", "")
		ts.assign(t, appID, u.ID)
		sp := ts.gosamlSP(t, appID)
		sp.AllowMissingAttributes = true
		link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)

		r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("ana@example.com", "Secret-Passw0rd"))
		if r.status != 200 || r.body["status"] != "SUCCESS" {
			t.Fatalf("primary authentication: %d %s", r.status, r.raw)
		}
		token := str(r.body, "sessionToken")
		exp, err := time.Parse(time.RFC3339, str(r.body, "expiresAt"))
		if len(token) < 40 || err != nil || exp.Before(time.Now()) || exp.After(time.Now().Add(6*time.Minute)) || r.body["stateToken"] != nil {
			t.Fatalf("SUCCESS shape: %s", r.raw)
		}
		user := r.body["_embedded"].(map[string]any)["user"].(map[string]any)
		if user["id"] != u.ID || str(user, "profile", "login") != "ana@example.com" || str(user, "profile", "firstName") != "Pat" ||
			str(user, "profile", "lastName") != "Doe" || str(user, "profile", "locale") == "" || str(user, "profile", "timeZone") == "" || str(user, "passwordChanged") == "" {
			t.Fatalf("embedded user: %v", user)
		}
		// The store keeps only the token's hash.
		if _, err := ts.db.Sessions().Pending(context.Background(), "sessiontoken:"+token); err == nil {
			t.Fatal("the sessionToken is stored in the clear")
		}

		// saml2aws: sessionCookieRedirect to the app's embed link, then the
		// SAMLResponse form, in one chain of redirects with a cookie jar.
		cli := newCLIClient(t)
		q := url.Values{"checkAccountSetupComplete": {"true"}, "token": {token}, "redirectUrl": {link}}
		resp, body := cli.get(ts.srv.URL + "/login/sessionCookieRedirect?" + q.Encode())
		if resp.StatusCode != 200 {
			t.Fatalf("sessionCookieRedirect chain: %d %.500s", resp.StatusCode, body)
		}
		_, samlResponse, _ := samlPost(t, body)
		info, err := sp.RetrieveAssertionInfo(samlResponse)
		if err != nil || info.NameID != "ana@example.com" {
			t.Fatalf("SAML response: %v %+v", err, info)
		}
		// The browser session: Okta's session object, amr pwd.
		me := cli.api("GET", ts.srv.URL+"/api/v1/sessions/me", "")
		if me.status != 200 || me.body["userId"] != u.ID || me.body["login"] != "ana@example.com" || me.body["status"] != "ACTIVE" ||
			fmt.Sprint(me.body["amr"]) != "[pwd]" || me.body["mfaActive"] != false {
			t.Fatalf("sessions/me: %d %s", me.status, me.raw)
		}
		// The cookie is the sign-in form's: its timeouts and flags.
		sessions, _ := ts.db.Sessions().UserSessions(context.Background(), u.ID)
		if len(sessions) != 1 || sessions[0].Expires.Sub(sessions[0].Created) != ts.cfg.SessionMax {
			t.Fatalf("sessions: %+v", sessions)
		}

		// The token works once.
		cli2 := newCLIClient(t)
		resp, body = cli2.get(ts.srv.URL + "/login/sessionCookieRedirect?" + q.Encode())
		if resp.StatusCode != 401 || samlRespRe.MatchString(body) || !strings.Contains(body, "not valid any more") {
			t.Fatalf("replayed sessionToken: %d %.300s", resp.StatusCode, body)
		}
		if me := cli2.api("GET", ts.srv.URL+"/api/v1/sessions/me", ""); me.status != 404 || me.body["errorCode"] != "E0000007" {
			t.Fatalf("sessions/me without a session: %d %s", me.status, me.raw)
		}

		// DELETE /api/v1/sessions/me ends the session.
		if r := cli.api("DELETE", ts.srv.URL+"/api/v1/sessions/me", ""); r.status != 204 {
			t.Fatalf("delete sessions/me: %d %s", r.status, r.raw)
		}
		if me := cli.api("GET", ts.srv.URL+"/api/v1/sessions/me", ""); me.status != 404 {
			t.Fatalf("sessions/me after delete: %d", me.status)
		}
		if resp, body := cli.get(link); samlRespRe.MatchString(body) || resp.Request.URL.Path != "/login" {
			t.Fatalf("app launch after sign-out was not sent to sign in: %s", resp.Request.URL)
		}

		// aws-okta: the embed link with ?onetimetoken=; gimme-aws-creds:
		// ?sessionToken=, here on the app's SSO URL.
		for _, launch := range []string{link + "?onetimetoken=", ts.srv.URL + "/app/" + str(app, "name") + "/" + ssoKey(t, ts, appID) + "/sso/saml?sessionToken="} {
			c := newCLIClient(t)
			tok := ts.authnSuccess(t, "ana@example.com", "Secret-Passw0rd")
			resp, body := c.get(launch + url.QueryEscape(tok))
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %.300s", launch, resp.StatusCode, body)
			}
			_, samlResponse, _ := samlPost(t, body)
			if _, err := sp.RetrieveAssertionInfo(samlResponse); err != nil {
				t.Fatalf("%s: %v", launch, err)
			}
			if me := c.api("GET", ts.srv.URL+"/api/v1/sessions/me", ""); me.status != 200 {
				t.Fatalf("%s: no session: %d", launch, me.status)
			}
			// Used up.
			resp, body = newCLIClient(t).get(launch + url.QueryEscape(tok))
			if resp.StatusCode != 401 || samlRespRe.MatchString(body) {
				t.Fatalf("%s replayed: %d", launch, resp.StatusCode)
			}
		}
	})
}

// ssoKey is the external key in an app's SSO URL.
func ssoKey(t *testing.T, ts *testServer, appID string) string {
	a, err := ts.catalog.Store.App(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	return a.ExternalKey
}

func TestAuthnRedirectURLStaysHome(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "ben@example.com", "Secret-Passw0rd")
	token := ts.authnSuccess(t, "ben@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL) // does not follow redirects
	for _, outside := range []string{"https://evil.example/steal", "//evil.example/x", "/\\evil.example", "http://evil.example" + strings.TrimPrefix(ts.srv.URL, "http://"),
		strings.Replace(ts.srv.URL, "http://", "https://", 1) + "/app/UserHome", "http://user@" + strings.TrimPrefix(ts.srv.URL, "http://") + "/", "javascript:alert(1)"} {
		resp, body := b.get("/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {outside}}.Encode())
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, "not on this Gatehouse") || b.cookie("gh_sid") != "" {
			t.Fatalf("redirectUrl %q: %d %q", outside, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A request another site started asks first, naming the account; the
	// token is still good for the click.
	req, _ := http.NewRequest("GET", ts.srv.URL+"/login/sessionCookieRedirect?"+url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode(), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, body := b.do(req)
	if resp.StatusCode != 200 || b.cookie("gh_sid") != "" || !strings.Contains(body, "ben@example.com") {
		t.Fatalf("cross-site exchange: %d %.400s", resp.StatusCode, body)
	}
	// Own origin, absolute or a path: followed, with the session cookie.
	resp, _ = b.get("/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {ts.srv.URL + "/app/UserHome?x=1"}}.Encode())
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/app/UserHome?x=1" || b.cookie("gh_sid") == "" {
		t.Fatalf("own-origin redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, page := b.get("/app/UserHome"); resp.StatusCode != 200 || !strings.Contains(page, "My Apps") {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
}

var errorIDRe = regexp.MustCompile(`"errorId":"[^"]*"`)

func TestAuthnFailures(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.LockoutAfter = 3 })
	ts.createUser(t, "cat@example.com", "Secret-Passw0rd")
	sus := ts.createUser(t, "dee@example.com", "Secret-Passw0rd")
	if _, err := ts.directory.Transition(context.Background(), sus.ID, directory.OpSuspend); err != nil {
		t.Fatal(err)
	}
	unknown := ts.call(t, "POST", "/api/v1/authn", "", authnBody("nobody@example.com", "Secret-Passw0rd"))
	wrong := ts.call(t, "POST", "/api/v1/authn", "", authnBody("cat@example.com", "Wrong-Passw0rd"))
	suspended := ts.call(t, "POST", "/api/v1/authn", "", authnBody("dee@example.com", "Secret-Passw0rd"))
	for _, r := range []apiResult{unknown, wrong, suspended} {
		if r.status != 401 || r.body["errorCode"] != "E0000004" || r.body["errorSummary"] != "Authentication failed" {
			t.Fatalf("failure: %d %s", r.status, r.raw)
		}
	}
	// The same bytes whoever was typed (but for the per-response errorId).
	if a, b, c := errorIDRe.ReplaceAllString(unknown.raw, ""), errorIDRe.ReplaceAllString(wrong.raw, ""), errorIDRe.ReplaceAllString(suspended.raw, ""); a != b || b != c {
		t.Fatalf("bodies differ:\n%s\n%s\n%s", a, b, c)
	}
	if unknown.header.Get("Content-Length") != wrong.header.Get("Content-Length") {
		t.Fatal("lengths differ")
	}
	// Two more wrong passwords make three: locked. Then even the right
	// password gets the same failure (Okta's default password policy,
	// showLockoutFailures false), which says nothing of the lock.
	ts.call(t, "POST", "/api/v1/authn", "", authnBody("cat@example.com", "Wrong-Passw0rd"))
	if r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("cat@example.com", "Wrong-Passw0rd")); r.status != 401 {
		t.Fatalf("third failure: %d %s", r.status, r.raw)
	}
	r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("cat@example.com", "Secret-Passw0rd"))
	if r.status != 401 || errorIDRe.ReplaceAllString(r.raw, "") != errorIDRe.ReplaceAllString(unknown.raw, "") {
		t.Fatalf("locked out: %d %s, want the unknown login's answer %s", r.status, r.raw, unknown.raw)
	}
	if u := ts.mustUser(t, "cat@example.com"); u.Status != directory.LockedOut {
		t.Fatalf("status %s", u.Status)
	}
	// The system log has the sign-in form's events.
	if logs := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.account.lock"`), ts.token, ""); !strings.Contains(logs.raw, "cat@example.com") {
		t.Fatalf("lock not logged: %s", logs.raw)
	}
	logs := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.session.start" and outcome.result eq "FAILURE"`), ts.token, "")
	for _, want := range []string{"nobody@example.com", "INVALID_CREDENTIALS", "USER_NOT_ACTIVE", "LOCKED_OUT"} {
		if !strings.Contains(logs.raw, want) {
			t.Fatalf("no %s failure in the log: %s", want, logs.raw)
		}
	}
	// Bad input: a clear error, nothing counted.
	for _, body := range []string{`{"username":"cat@example.com"}`, `{"password":"x"}`, `{"username":"a","password":"b","options":{"bogus":true}}`, `{"username":"a","password":"b","extra":1}`, `[]`} {
		if r := ts.call(t, "POST", "/api/v1/authn", "", body); r.status != 400 {
			t.Fatalf("%s: %d %s", body, r.status, r.raw)
		}
	}
	// Unknown, expired or used stateTokens.
	for _, st := range []string{"nope", strings.Repeat("x", 43)} {
		if r := ts.call(t, "POST", "/api/v1/authn", "", `{"stateToken":"`+st+`"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
			t.Fatalf("unknown stateToken: %d %s", r.status, r.raw)
		}
		if r := ts.call(t, "POST", "/api/v1/authn/factors/ostx/verify", "", `{"stateToken":"`+st+`","passCode":"123456"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
			t.Fatalf("verify with unknown stateToken: %d %s", r.status, r.raw)
		}
	}
}

func TestAuthnThrottleSharedWithForm(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.SignInIPLimit = 3 })
	ts.createUser(t, "eve@example.com", "Secret-Passw0rd")
	ts.call(t, "POST", "/api/v1/authn", "", authnBody("eve@example.com", "Wrong-Passw0rd"))
	ts.call(t, "POST", "/api/v1/authn", "", authnBody("eve@example.com", "Wrong-Passw0rd"))
	newBrowser(t, ts.srv.URL).signIn("eve@example.com", "Wrong-Passw0rd", "/")
	r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("eve@example.com", "Secret-Passw0rd"))
	if r.status != 429 || r.body["errorCode"] != "E0000047" || r.header.Get("Retry-After") == "" {
		t.Fatalf("throttle: %d %s", r.status, r.raw)
	}
}

// enrollTOTP gives a person an active authenticator app and returns its
// seed; the activation used the previous time step's code.
func (ts *testServer) enrollTOTP(t *testing.T, u *directory.User) (string, string) {
	t.Helper()
	ctx := context.Background()
	f, enr, err := ts.mfa.EnrollTOTP(ctx, u.ID, mfa.ProviderOkta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.mfa.ActivateTOTP(ctx, u.ID, f.ID, totpNow(t, enr.SharedSecret, -1)); err != nil {
		t.Fatal(err)
	}
	return f.ID, enr.SharedSecret
}

func TestAuthnMFA(t *testing.T) {
	ts := newTestServer(t, false, func(c *config.Config) { c.LockoutAfter = 3 })
	u := ts.createUser(t, "fay@example.com", "Secret-Passw0rd")
	factorID, secret := ts.enrollTOTP(t, u)
	appID, app := ts.newSAMLApp(t, "Wiki", "")
	ts.assign(t, appID, u.ID)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)

	r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("fay@example.com", "Secret-Passw0rd"))
	st := str(r.body, "stateToken")
	if r.status != 200 || r.body["status"] != "MFA_REQUIRED" || len(st) < 40 || r.body["sessionToken"] != nil {
		t.Fatalf("MFA_REQUIRED: %d %s", r.status, r.raw)
	}
	factors := r.body["_embedded"].(map[string]any)["factors"].([]any)
	f := factors[0].(map[string]any)
	verify := str(f, "_links", "verify", "href")
	if len(factors) != 1 || f["id"] != factorID || f["factorType"] != "token:software:totp" || f["provider"] != "OKTA" ||
		verify != ts.srv.URL+"/api/v1/authn/factors/"+factorID+"/verify" || str(r.body, "_links", "cancel", "href") == "" {
		t.Fatalf("factors: %s", r.raw)
	}
	if _, err := ts.db.Sessions().Pending(context.Background(), "authn:"+session.Hash(st)); err != nil {
		t.Fatalf("transaction not stored under the token's hash: %v", err)
	}
	path := strings.TrimPrefix(verify, ts.srv.URL)
	// saml2aws first posts the stateToken alone: a challenge, not a failure.
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`"}`); r.status != 200 || r.body["status"] != "MFA_CHALLENGE" || r.body["stateToken"] != st {
		t.Fatalf("challenge: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/authn", "", `{"stateToken":"`+st+`"}`); r.status != 200 || r.body["status"] != "MFA_CHALLENGE" {
		t.Fatalf("current state: %d %s", r.status, r.raw)
	}
	// A wrong code: E0000068, counted.
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"000000"}`); r.status != 403 || r.body["errorCode"] != "E0000068" {
		t.Fatalf("wrong code: %d %s", r.status, r.raw)
	}
	// Another factor id is not this person's.
	if r := ts.call(t, "POST", "/api/v1/authn/factors/ost00000000000000000/verify", "", `{"stateToken":"`+st+`","passCode":"000000"}`); r.status != 404 {
		t.Fatalf("foreign factor: %d %s", r.status, r.raw)
	}
	r = ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"`+totpNow(t, secret, 0)+`"}`)
	token := str(r.body, "sessionToken")
	if r.status != 200 || r.body["status"] != "SUCCESS" || token == "" || r.body["stateToken"] != nil {
		t.Fatalf("verify: %d %s", r.status, r.raw)
	}
	// The transaction is over.
	if r := ts.call(t, "POST", "/api/v1/authn", "", `{"stateToken":"`+st+`"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
		t.Fatalf("finished transaction: %d %s", r.status, r.raw)
	}
	cli := newCLIClient(t)
	resp, body := cli.get(ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"checkAccountSetupComplete": {"true"}, "token": {token}, "redirectUrl": {link}}.Encode())
	if resp.StatusCode != 200 || !samlRespRe.MatchString(body) {
		t.Fatalf("SAML after MFA: %d %.300s", resp.StatusCode, body)
	}
	me := cli.api("GET", ts.srv.URL+"/api/v1/sessions/me", "")
	if fmt.Sprint(me.body["amr"]) != "[pwd otp mfa]" || me.body["mfaActive"] != true || me.body["lastFactorVerification"] == nil {
		t.Fatalf("session after MFA: %s", me.raw)
	}

	// Cancel ends a transaction.
	r = ts.call(t, "POST", "/api/v1/authn", "", authnBody("fay@example.com", "Secret-Passw0rd"))
	st = str(r.body, "stateToken")
	if r := ts.call(t, "POST", "/api/v1/authn/cancel", "", `{"stateToken":"`+st+`"}`); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"`+totpNow(t, secret, 1)+`"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
		t.Fatalf("verify after cancel: %d %s", r.status, r.raw)
	}

	// An expired transaction is refused.
	r = ts.call(t, "POST", "/api/v1/authn", "", authnBody("fay@example.com", "Secret-Passw0rd"))
	st = str(r.body, "stateToken")
	expireTransaction(t, ts, st)
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"`+totpNow(t, secret, 1)+`"}`); r.status != 401 || r.body["errorCode"] != "E0000011" {
		t.Fatalf("verify after expiry: %d %s", r.status, r.raw)
	}

	// Wrong codes lock the account like at the sign-in form (one failure
	// counted above, the failure count was reset by the success).
	r = ts.call(t, "POST", "/api/v1/authn", "", authnBody("fay@example.com", "Secret-Passw0rd"))
	st = str(r.body, "stateToken")
	for i := 0; i < 3; i++ {
		if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"000000"}`); r.status != 403 || r.body["errorCode"] != "E0000068" {
			t.Fatalf("wrong code %d: %d %s", i, r.status, r.raw)
		}
	}
	if u := ts.mustUser(t, "fay@example.com"); u.Status != directory.LockedOut {
		t.Fatalf("not locked: %s", u.Status)
	}
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","passCode":"`+totpNow(t, secret, 1)+`"}`); r.status != 401 {
		t.Fatalf("verify once locked: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("fay@example.com", "Secret-Passw0rd")); r.status != 401 || r.body["errorCode"] != "E0000004" {
		t.Fatalf("primary once locked: %d %s", r.status, r.raw)
	}
}

// expireTransaction moves a stored transaction's end into the past.
func expireTransaction(t *testing.T, ts *testServer, stateToken string) {
	t.Helper()
	ctx := context.Background()
	key := "authn:" + session.Hash(stateToken)
	b, err := ts.db.Sessions().Pending(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	mustUnmarshal(t, string(b), &m)
	m["expires"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	nb, _ := json.Marshal(m)
	ts.db.Sessions().DeletePending(ctx, key)
	if err := ts.db.Sessions().PutPending(ctx, key, nb, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func TestAuthnEnrollAndExpiredPassword(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "gus@example.com", "Secret-Passw0rd")
	exp := ts.createUser(t, "hal@example.com", "Secret-Passw0rd")

	// A rule that requires a factor of everyone: MFA_ENROLL for a person
	// without one (setting one up is done in the browser).
	var pols []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", ts.token, "").raw, &pols)
	everyone := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"MFA"}}`).body["id"].(string)
	ts.call(t, "PUT", "/api/v1/groups/"+everyone+"/users/"+ts.mustUser(t, "gus@example.com").ID, ts.token, "")
	if r := ts.call(t, "POST", "/api/v1/policies/"+pols[0]["id"].(string)+"/rules", ts.token, `{"name":"MFA","type":"SIGN_ON","conditions":{"people":{"groups":{"include":["`+everyone+`"]}}},
		"actions":{"signon":{"access":"ALLOW","requireFactor":true}}}`); r.status != 200 {
		t.Fatalf("rule: %d %s", r.status, r.raw)
	}
	r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("gus@example.com", "Secret-Passw0rd"))
	st := str(r.body, "stateToken")
	if r.status != 200 || r.body["status"] != "MFA_ENROLL" || st == "" || r.body["sessionToken"] != nil {
		t.Fatalf("MFA_ENROLL: %d %s", r.status, r.raw)
	}
	offered := r.body["_embedded"].(map[string]any)["factors"].([]any)[0].(map[string]any)
	enroll := strings.TrimPrefix(str(offered, "_links", "enroll", "href"), ts.srv.URL)
	if offered["factorType"] != "token:software:totp" || offered["status"] != "NOT_SETUP" || enroll != "/api/v1/authn/factors" {
		t.Fatalf("offered factors: %s", r.raw)
	}
	// A passkey is set up in a browser.
	if r := ts.call(t, "POST", enroll, "", `{"stateToken":"`+st+`","factorType":"webauthn","provider":"FIDO"}`); r.status != 400 {
		t.Fatalf("webauthn enrolment: %d %s", r.status, r.raw)
	}
	r = ts.call(t, "POST", enroll, "", `{"stateToken":"`+st+`","factorType":"token:software:totp","provider":"OKTA"}`)
	seed := str(r.body, "_embedded", "factor", "_embedded", "activation", "sharedSecret")
	activate := strings.TrimPrefix(str(r.body, "_links", "next", "href"), ts.srv.URL)
	if r.status != 200 || r.body["status"] != "MFA_ENROLL_ACTIVATE" || len(seed) < 16 || !strings.HasSuffix(activate, "/lifecycle/activate") || r.body["stateToken"] != st {
		t.Fatalf("MFA_ENROLL_ACTIVATE: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "POST", "/api/v1/authn", "", `{"stateToken":"`+st+`"}`); r.body["status"] != "MFA_ENROLL_ACTIVATE" {
		t.Fatalf("state while activating: %s", r.raw)
	}
	if r := ts.call(t, "POST", activate, "", `{"stateToken":"`+st+`","passCode":"000000"}`); r.status != 403 || r.body["errorCode"] != "E0000068" {
		t.Fatalf("wrong activation code: %d %s", r.status, r.raw)
	}
	r = ts.call(t, "POST", activate, "", `{"stateToken":"`+st+`","passCode":"`+totpNow(t, seed, 0)+`"}`)
	if r.status != 200 || r.body["status"] != "SUCCESS" || str(r.body, "sessionToken") == "" {
		t.Fatalf("activation: %d %s", r.status, r.raw)
	}
	// From now on the app is asked for, not set up again.
	r = ts.call(t, "POST", "/api/v1/authn", "", authnBody("gus@example.com", "Secret-Passw0rd"))
	if r.body["status"] != "MFA_REQUIRED" {
		t.Fatalf("after enrolment: %s", r.raw)
	}
	if r := ts.call(t, "POST", enroll, "", `{"stateToken":"`+str(r.body, "stateToken")+`","factorType":"token:software:totp","provider":"OKTA"}`); r.status != 403 || r.body["errorCode"] != "E0000079" {
		t.Fatalf("second enrolment: %d %s", r.status, r.raw)
	}

	// PASSWORD_EXPIRED, then the change of password in the transaction.
	if r := ts.call(t, "POST", "/api/v1/users/"+exp.ID+"/lifecycle/expire_password", ts.token, ""); r.status != 200 {
		t.Fatalf("expire: %d %s", r.status, r.raw)
	}
	r = ts.call(t, "POST", "/api/v1/authn", "", authnBody("hal@example.com", "Secret-Passw0rd"))
	st = str(r.body, "stateToken")
	next := str(r.body, "_links", "next", "href")
	if r.status != 200 || r.body["status"] != "PASSWORD_EXPIRED" || st == "" || next != ts.srv.URL+"/api/v1/authn/credentials/change_password" {
		t.Fatalf("PASSWORD_EXPIRED: %d %s", r.status, r.raw)
	}
	path := strings.TrimPrefix(next, ts.srv.URL)
	if r := ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","oldPassword":"Secret-Passw0rd","newPassword":"short"}`); r.status != 400 {
		t.Fatalf("weak password: %d %s", r.status, r.raw)
	}
	r = ts.call(t, "POST", path, "", `{"stateToken":"`+st+`","oldPassword":"Secret-Passw0rd","newPassword":"Another-Passw0rd-9"}`)
	if r.status != 200 || r.body["status"] != "SUCCESS" || str(r.body, "sessionToken") == "" {
		t.Fatalf("change password: %d %s", r.status, r.raw)
	}
	if u := ts.mustUser(t, "hal@example.com"); u.Status != directory.Active {
		t.Fatalf("status after change: %s", u.Status)
	}
	ts.authnSuccess(t, "hal@example.com", "Another-Passw0rd-9")
}

// TestAuthnAWSStory: the story's agent signs in from a terminal as
// saml2aws does (primary authentication, sessionCookieRedirect to the
// Amazon Connect app's launch link) and redeems the SAML response at the
// sandbox's STS for the story's role.
func TestAuthnAWSStory(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	r := e.ts.call(t, "GET", "/api/v1/users/"+e.story.AgentID+"/appLinks", e.ts.token, "")
	var links []map[string]any
	mustUnmarshal(t, r.raw, &links)
	if len(links) != 1 {
		t.Fatalf("app links: %s", r.raw)
	}
	link := str(links[0], "linkUrl")
	token := e.ts.authnSuccess(t, "agent.smith@example.com", "Connect-Passw0rd!")
	cli := newCLIClient(t)
	resp, body := cli.get(e.ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"checkAccountSetupComplete": {"true"}, "token": {token}, "redirectUrl": {link}}.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("launch: %d %.300s", resp.StatusCode, body)
	}
	_, samlResponse, _ := samlPost(t, body)
	form := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"}, "RoleArn": {e.story.RoleArn},
		"PrincipalArn": {e.story.ProviderArn}, "SAMLAssertion": {samlResponse}}
	sts, err := http.PostForm(e.sbSrv.URL+"/", form)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(sts.Body)
	sts.Body.Close()
	if sts.StatusCode != 200 || !strings.Contains(string(out), "assumed-role/") || !strings.Contains(string(out), "/agent.smith@example.com") {
		t.Fatalf("AssumeRoleWithSAML: %d %s", sts.StatusCode, out)
	}
}

// TestClusterAuthn: a transaction started on one node continues on
// another, and its end is one: two nodes given the same right code at
// once give one sessionToken between them, redeemed once.
func TestClusterAuthn(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	a, b := c.nodes[0], c.nodes[1]
	u := a.createUser(t, "mia@example.com", "Secret-Passw0rd")
	_, secret := a.enrollTOTP(t, u)

	r := a.call(t, "POST", "/api/v1/authn", "", authnBody("mia@example.com", "Secret-Passw0rd"))
	st := str(r.body, "stateToken")
	if r.body["status"] != "MFA_REQUIRED" {
		t.Fatalf("primary on A: %s", r.raw)
	}
	verify := strings.TrimPrefix(str(r.body["_embedded"].(map[string]any)["factors"].([]any)[0], "_links", "verify", "href"), c.url)
	if r := b.call(t, "POST", "/api/v1/authn", "", `{"stateToken":"`+st+`"}`); r.body["status"] != "MFA_REQUIRED" {
		t.Fatalf("state on B: %s", r.raw)
	}
	code := totpNow(t, secret, 0)
	results := make([]apiResult, 2)
	parallel(t, 2, func(i int) error {
		results[i] = c.nodes[i].call(t, "POST", verify, "", `{"stateToken":"`+st+`","passCode":"`+code+`"}`)
		return nil
	})
	var tokens []string
	for _, r := range results {
		if tok := str(r.body, "sessionToken"); tok != "" {
			tokens = append(tokens, tok)
		} else if r.status != 403 && r.status != 401 {
			t.Fatalf("the other verify: %d %s", r.status, r.raw)
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("%d sessionTokens for one transaction: %v", len(tokens), results)
	}
	br := c.browser(t)
	resp, _ := br.on(b).get("/login/sessionCookieRedirect?" + url.Values{"token": {tokens[0]}, "redirectUrl": {"/app/UserHome"}}.Encode())
	if resp.StatusCode != 302 || br.cookie("gh_sid") == "" {
		t.Fatalf("exchange on B: %d", resp.StatusCode)
	}
	if resp, _ := c.browser(t).on(a).get("/login/sessionCookieRedirect?" + url.Values{"token": {tokens[0]}, "redirectUrl": {"/app/UserHome"}}.Encode()); resp.StatusCode != 401 {
		t.Fatalf("second exchange on A: %d", resp.StatusCode)
	}
	if resp, page := br.on(a).get("/app/UserHome"); resp.StatusCode != 200 || !strings.Contains(page, "My Apps") {
		t.Fatalf("the session on A: %d", resp.StatusCode)
	}
}

// TestAuthnSessionPolicy: the session policy decides for the API as for
// the form: a denying rule refuses (E0000004, the policy's event in the
// log) and a rule's session lifetime and idle timeout shape the session
// the sessionToken starts.
func TestAuthnSessionPolicy(t *testing.T) {
	ts := newTestServer(t, false)
	barred := ts.createUser(t, "nia@example.com", "Secret-Passw0rd")
	short := ts.createUser(t, "oz@example.com", "Secret-Passw0rd")
	var pols []map[string]any
	mustUnmarshal(t, ts.call(t, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", ts.token, "").raw, &pols)
	rules := "/api/v1/policies/" + pols[0]["id"].(string) + "/rules"
	for _, g := range []struct{ name, user, actions string }{
		{"Blocked", barred.ID, `{"signon":{"access":"DENY"}}`},
		{"Short", short.ID, `{"signon":{"access":"ALLOW","session":{"maxSessionIdleMinutes":15,"maxSessionLifetimeMinutes":90}}}`},
	} {
		gid := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"`+g.name+`"}}`).body["id"].(string)
		ts.call(t, "PUT", "/api/v1/groups/"+gid+"/users/"+g.user, ts.token, "")
		if r := ts.call(t, "POST", rules, ts.token, `{"name":"`+g.name+`","conditions":{"people":{"groups":{"include":["`+gid+`"]}}},"actions":`+g.actions+`}`); r.status != 200 {
			t.Fatalf("rule %s: %d %s", g.name, r.status, r.raw)
		}
	}
	if r := ts.call(t, "POST", "/api/v1/authn", "", authnBody("nia@example.com", "Secret-Passw0rd")); r.status != 401 || r.body["errorCode"] != "E0000004" {
		t.Fatalf("denied by policy: %d %s", r.status, r.raw)
	}
	if logs := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "policy.evaluate_sign_on"`), ts.token, ""); !strings.Contains(logs.raw, "nia@example.com") || !strings.Contains(logs.raw, "DENY") {
		t.Fatalf("policy decision not logged: %s", logs.raw)
	}
	token := ts.authnSuccess(t, "oz@example.com", "Secret-Passw0rd")
	cli := newCLIClient(t)
	if resp, _ := cli.get(ts.srv.URL + "/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {"/app/UserHome"}}.Encode()); resp.StatusCode != 200 {
		t.Fatalf("exchange: %d", resp.StatusCode)
	}
	xs, _ := ts.db.Sessions().UserSessions(context.Background(), short.ID)
	if len(xs) != 1 || xs[0].Expires.Sub(xs[0].Created) != 90*time.Minute || xs[0].IdleTimeout != 15*time.Minute {
		t.Fatalf("session timeouts: %+v", xs)
	}
}

package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

func originWrite(name, origin string, scopes ...string) okta.TrustedOriginWrite {
	o := okta.TrustedOriginWrite{Name: okta.PtrString(name), Origin: okta.PtrString(origin)}
	for _, s := range scopes {
		o.Scopes = append(o.Scopes, okta.TrustedOriginScope{Type: okta.PtrString(s)})
	}
	return o
}

func originFull(name, origin string, scopes ...string) okta.TrustedOrigin {
	w := originWrite(name, origin, scopes...)
	return okta.TrustedOrigin{Name: w.Name, Origin: w.Origin, Scopes: w.Scopes}
}

func scopeTypes(o *okta.TrustedOrigin) []string {
	var out []string
	for _, s := range o.Scopes {
		out = append(out, s.GetType())
	}
	return out
}

// TestTrustedOriginsSDK drives Okta's Trusted Origins API with the
// official Okta Go SDK: create, list (q, filter, limit and after), get,
// replace, deactivate, activate and delete, the validation errors (each
// a 400 E0000001 that stores nothing), the roles, and the events.
func TestTrustedOriginsSDK(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) { testTrustedOriginsSDK(t, newTestServer(t, pg)) })
}

func testTrustedOriginsSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	api := c.TrustedOriginAPI
	spa, _, err := api.CreateTrustedOrigin(ctx).TrustedOrigin(originWrite("SPA", "HTTPS://App.Example.com:443/", "REDIRECT", "CORS")).Execute()
	if err != nil {
		t.Fatalf("create: %v", oktaErrorCode(err))
	}
	if spa.GetStatus() != "ACTIVE" || spa.GetOrigin() != "https://app.example.com" || strings.Join(scopeTypes(spa), ",") != "CORS,REDIRECT" ||
		!strings.HasPrefix(spa.GetId(), "tos") || spa.Created == nil || spa.LastUpdated == nil ||
		spa.Links == nil || spa.Links.Deactivate == nil || spa.Links.Self == nil || spa.Links.Self.GetHref() != ts.srv.URL+"/api/v1/trustedOrigins/"+spa.GetId() {
		t.Fatalf("created: %+v", spa)
	}
	portal, _, err := api.CreateTrustedOrigin(ctx).TrustedOrigin(originWrite("Portal", "http://127.0.0.1:5173", "CORS")).Execute()
	if err != nil {
		t.Fatal(oktaErrorCode(err))
	}
	mobile, _, err := api.CreateTrustedOrigin(ctx).TrustedOrigin(originWrite("Mobile", "capacitor://localhost", "REDIRECT")).Execute()
	if err != nil {
		t.Fatal(oktaErrorCode(err))
	}

	// Validation: every problem at once, nothing stored.
	for _, bad := range []struct {
		body okta.TrustedOriginWrite
		want string
	}{
		{originWrite("", "https://x.example.com", "CORS"), "name: required"},
		{originWrite("Path", "https://x.example.com/app", "CORS"), "must not have a path"},
		{originWrite("Query", "https://x.example.com?a=1", "CORS"), "must not have a query"},
		{originWrite("Fragment", "https://x.example.com#top", "CORS"), "must not have a fragment"},
		{originWrite("Scheme", "javascript:alert(1)", "CORS"), "scheme://host"},
		{originWrite("Gopher", "gopher://x.example.com", "CORS"), "the scheme must be"},
		{originWrite("User", "https://me@x.example.com", "CORS"), "user name"},
		{originWrite("Dup", "https://APP.example.com", "CORS"), "already a trusted origin"},
		{originWrite("spa", "https://y.example.com", "CORS"), "another trusted origin is named"},
		{originWrite("None", "https://z.example.com"), "at least one scope"},
		{originWrite("Frame", "https://z.example.com", "IFRAME_EMBED"), "IFRAME_EMBED is not supported"},
		{originWrite("Other", "https://z.example.com", "POPUP"), "POPUP is not a scope type"},
	} {
		_, resp, err := api.CreateTrustedOrigin(ctx).TrustedOrigin(bad.body).Execute()
		if err == nil || resp == nil || resp.StatusCode != 400 || oktaErrorCode(err) != "E0000001" {
			t.Fatalf("%s: %v %v", bad.want, resp, err)
		}
		var ge *okta.GenericOpenAPIError
		if !errors.As(err, &ge) || !strings.Contains(string(ge.Body()), bad.want) || !strings.Contains(string(ge.Body()), `"errorCauses":[{`) {
			t.Fatalf("%s: %s", bad.want, ge.Body())
		}
	}
	r := ts.call(t, "POST", "/api/v1/trustedOrigins", ts.token, `{"name":"","origin":"ftp://a/b","scopes":[{"type":"IFRAME_EMBED"}]}`)
	if r.status != 400 || r.body["errorSummary"] != "Api validation failed: trustedOrigin" || len(r.body["errorCauses"].([]any)) != 3 {
		t.Fatalf("several problems: %d %s", r.status, r.raw)
	}

	all, resp, err := api.ListTrustedOrigins(ctx).Execute()
	if err != nil || len(all) != 3 || !(all[0].GetId() < all[1].GetId() && all[1].GetId() < all[2].GetId()) {
		t.Fatalf("list (id order): %v %d", err, len(all))
	}
	if !strings.Contains(resp.Header.Get("Link"), `rel="self"`) {
		t.Fatalf("Link: %q", resp.Header.Get("Link"))
	}
	page, resp, err := api.ListTrustedOrigins(ctx).Limit(2).Execute()
	if err != nil || len(page) != 2 || !resp.HasNextPage() {
		t.Fatalf("first page: %v %d %v", err, len(page), resp.Header["Link"])
	}
	var rest []okta.TrustedOrigin
	if _, err := resp.Next(&rest); err != nil || len(rest) != 1 || rest[0].GetId() != all[2].GetId() || page[1].GetId() != all[1].GetId() {
		t.Fatalf("next page: %v %+v", err, rest)
	}
	for q, want := range map[string]string{"por": portal.GetId(), "https://app": spa.GetId(), "127.0": portal.GetId(), "capacitor": mobile.GetId()} {
		got, _, err := api.ListTrustedOrigins(ctx).Q(q).Execute()
		if err != nil || len(got) != 1 || got[0].GetId() != want {
			t.Errorf("q=%s: %v %d", q, err, len(got))
		}
	}
	for f, want := range map[string]int{
		`name eq "SPA"`:                       1,
		`origin eq "https://app.example.com"`: 1,
		`status eq "ACTIVE"`:                  3,
		`type eq "CORS"`:                      2,
		`type eq "REDIRECT" and name sw "M"`:  1,
		`(id eq "` + spa.GetId() + `" or id eq "` + portal.GetId() + `")`: 2,
	} {
		got, _, err := api.ListTrustedOrigins(ctx).Filter(f).Execute()
		if err != nil || len(got) != want {
			t.Errorf("filter %s: %v %d, want %d", f, err, len(got), want)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/trustedOrigins?filter="+url.QueryEscape(`createdBy eq "x"`), ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000031" {
		t.Fatalf("filter on another attribute: %d %s", r.status, r.raw)
	}

	got, _, err := api.GetTrustedOrigin(ctx, portal.GetId()).Execute()
	if err != nil || got.GetName() != "Portal" || got.GetOrigin() != "http://127.0.0.1:5173" {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, resp, err := api.GetTrustedOrigin(ctx, "tosnothere0000000000").Execute(); err == nil || resp.StatusCode != 404 || oktaErrorCode(err) != "E0000007" {
		t.Fatalf("get missing: %v", err)
	}
	rep, _, err := api.ReplaceTrustedOrigin(ctx, portal.GetId()).TrustedOrigin(originFull("Portal 2", "http://127.0.0.1:5174", "CORS", "REDIRECT")).Execute()
	if err != nil || rep.GetName() != "Portal 2" || rep.GetOrigin() != "http://127.0.0.1:5174" || len(rep.Scopes) != 2 || rep.GetStatus() != "ACTIVE" ||
		!rep.GetCreated().Equal(portal.GetCreated()) {
		t.Fatalf("replace: %v %+v", oktaErrorCode(err), rep)
	}
	if _, resp, err := api.ReplaceTrustedOrigin(ctx, portal.GetId()).TrustedOrigin(originFull("Portal 2", "https://app.example.com", "CORS")).Execute(); err == nil || resp.StatusCode != 400 {
		t.Fatalf("replace onto another's origin: %v", err)
	}
	off, _, err := api.DeactivateTrustedOrigin(ctx, spa.GetId()).Execute()
	if err != nil || off.GetStatus() != "INACTIVE" || off.Links.Activate == nil {
		t.Fatalf("deactivate: %v %+v", err, off)
	}
	if got, _, _ := api.ListTrustedOrigins(ctx).Filter(`status eq "INACTIVE"`).Execute(); len(got) != 1 || got[0].GetId() != spa.GetId() {
		t.Fatalf("inactive: %+v", got)
	}
	on, _, err := api.ActivateTrustedOrigin(ctx, spa.GetId()).Execute()
	if err != nil || on.GetStatus() != "ACTIVE" {
		t.Fatalf("activate: %v", err)
	}
	if resp, err := api.DeleteTrustedOrigin(ctx, mobile.GetId()).Execute(); err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v", err)
	}
	if _, resp, _ := api.GetTrustedOrigin(ctx, mobile.GetId()).Execute(); resp.StatusCode != 404 {
		t.Fatalf("deleted: %d", resp.StatusCode)
	}

	// Reads take any admin role; changes a super administrator.
	readOnly, _, err := oktaapi.NewToken(ctx, ts.db.Tokens(), ts.ids, ts.now(), ts.events, "auditor", "", oktaapi.RoleReadOnlyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	ro := sdkClientWith(t, ts, readOnly).TrustedOriginAPI
	if got, _, err := ro.ListTrustedOrigins(ctx).Execute(); err != nil || len(got) != 2 {
		t.Fatalf("read-only list: %v", err)
	}
	if _, resp, err := ro.CreateTrustedOrigin(ctx).TrustedOrigin(originWrite("RO", "https://ro.example.com", "CORS")).Execute(); err == nil || resp.StatusCode != 403 || oktaErrorCode(err) != "E0000006" {
		t.Fatalf("read-only create: %v", err)
	}
	if _, resp, err := ro.DeactivateTrustedOrigin(ctx, spa.GetId()).Execute(); err == nil || resp.StatusCode != 403 {
		t.Fatalf("read-only deactivate: %v", err)
	}

	log := ts.logEvents(t, `target.id eq "`+spa.GetId()+`" or target.id eq "`+mobile.GetId()+`" or target.id eq "`+portal.GetId()+`"`)
	for _, typ := range []string{"security.trusted_origin.create", "security.trusted_origin.update", "security.trusted_origin.deactivate",
		"security.trusted_origin.activate", "security.trusted_origin.delete"} {
		if !strings.Contains(log, typ) {
			t.Errorf("no %s event in %s", typ, log)
		}
	}
}

// preflight sends a browser's CORS preflight.
func (ts *testServer) preflight(t *testing.T, path, origin, method, headers string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("OPTIONS", ts.srv.URL+path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (ts *testServer) fromOrigin(t *testing.T, method, path, origin, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Origin", origin)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestTrustedOriginCORS: a page on an ACTIVE trusted origin with the CORS
// scope may call the Authentication API and /api/v1/sessions/me from the
// browser (its preflight is answered, its answers carry the CORS headers);
// another origin, an origin with only REDIRECT, an inactive origin, a
// request with an SSWS token and the management API get none.
func TestTrustedOriginCORS(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		ts.createUser(t, "ivy@example.com", "Secret-Passw0rd")
		const spa, redirectOnly, evil = "http://127.0.0.1:5173", "https://return.example.com", "https://evil.example"
		if r := ts.call(t, "POST", "/api/v1/trustedOrigins", ts.token, `{"name":"SPA","origin":"`+spa+`","scopes":[{"type":"CORS"}]}`); r.status != 200 {
			t.Fatalf("create: %s", r.raw)
		}
		if r := ts.call(t, "POST", "/api/v1/trustedOrigins", ts.token, `{"name":"Back","origin":"`+redirectOnly+`","scopes":[{"type":"REDIRECT"}]}`); r.status != 200 {
			t.Fatalf("create: %s", r.raw)
		}
		for _, path := range []string{"/api/v1/authn", "/api/v1/sessions/me", "/api/v1/authn/factors/x/verify"} {
			resp := ts.preflight(t, path, spa, "POST", "content-type,x-okta-user-agent-extended")
			if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != spa || resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Okta-User-Agent-Extended") ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
				t.Fatalf("preflight %s: %d %v", path, resp.StatusCode, resp.Header)
			}
		}
		resp := ts.fromOrigin(t, "POST", "/api/v1/authn", spa, "", authnBody("ivy@example.com", "Secret-Passw0rd"))
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != spa || resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Okta-Request-Id") {
			t.Fatalf("authn from the trusted origin: %d %v", resp.StatusCode, resp.Header)
		}
		if resp := ts.fromOrigin(t, "GET", "/api/v1/sessions/me", spa, "", ""); resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != spa {
			t.Fatalf("sessions/me from the trusted origin: %d %v", resp.StatusCode, resp.Header)
		}
		noCORS := func(what string, resp *http.Response) {
			t.Helper()
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("%s: %d, CORS header %s: %v", what, resp.StatusCode, k, resp.Header)
				}
			}
		}
		for _, o := range []string{evil, redirectOnly, "null", spa + ".evil.example", "http://127.0.0.1:5174"} {
			resp := ts.preflight(t, "/api/v1/authn", o, "POST", "content-type")
			if resp.StatusCode != 403 {
				t.Fatalf("preflight from %s: %d", o, resp.StatusCode)
			}
			noCORS("preflight from "+o, resp)
			resp = ts.fromOrigin(t, "POST", "/api/v1/authn", o, "", authnBody("ivy@example.com", "Secret-Passw0rd"))
			noCORS("authn from "+o, resp)
		}
		// API tokens are never for browsers: a preflight asking to send
		// Authorization is refused, and a request with a token gets no
		// CORS headers, on the Authentication API as on the management API.
		if resp := ts.preflight(t, "/api/v1/sessions/me", spa, "GET", "authorization"); resp.StatusCode != 403 {
			t.Fatalf("preflight with Authorization: %d", resp.StatusCode)
		} else {
			noCORS("preflight with Authorization", resp)
		}
		noCORS("authn with SSWS", ts.fromOrigin(t, "POST", "/api/v1/authn", spa, ts.token, authnBody("ivy@example.com", "Secret-Passw0rd")))
		noCORS("users with SSWS", ts.fromOrigin(t, "GET", "/api/v1/users", spa, ts.token, ""))
		resp = ts.preflight(t, "/api/v1/users", spa, "GET", "")
		noCORS("preflight to the management API", resp)
		noCORS("sign-in form", ts.fromOrigin(t, "GET", "/login", spa, "", ""))
		noCORS("console", ts.fromOrigin(t, "GET", "/admin", spa, "", ""))

		// A deactivated origin is trusted no more, at once.
		list := ts.call(t, "GET", "/api/v1/trustedOrigins?filter="+url.QueryEscape(`name eq "SPA"`), ts.token, "")
		id := list.raw[strings.Index(list.raw, `"id":"`)+6:][:20]
		if r := ts.call(t, "POST", "/api/v1/trustedOrigins/"+id+"/lifecycle/deactivate", ts.token, ""); r.status != 200 {
			t.Fatalf("deactivate: %s", r.raw)
		}
		if resp := ts.preflight(t, "/api/v1/authn", spa, "POST", "content-type"); resp.StatusCode != 403 {
			t.Fatalf("preflight from a deactivated origin: %d", resp.StatusCode)
		}
		noCORS("authn from a deactivated origin", ts.fromOrigin(t, "POST", "/api/v1/authn", spa, "", authnBody("ivy@example.com", "Secret-Passw0rd")))
	})
}

// TestTrustedOriginRedirect: sessionCookieRedirect follows a redirectUrl
// on an ACTIVE trusted origin with the REDIRECT scope, and still refuses
// other origins (one with only CORS, an inactive one, look-alikes).
func TestTrustedOriginRedirect(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "jo@example.com", "Secret-Passw0rd")
	for _, body := range []string{
		`{"name":"Back","origin":"https://return.example.com","scopes":[{"type":"REDIRECT"}]}`,
		`{"name":"SPA","origin":"http://127.0.0.1:5173","scopes":[{"type":"CORS"}]}`,
		`{"name":"Old","origin":"https://old.example.com","scopes":[{"type":"REDIRECT"}]}`,
	} {
		if r := ts.call(t, "POST", "/api/v1/trustedOrigins", ts.token, body); r.status != 200 {
			t.Fatalf("create: %s", r.raw)
		}
	}
	old := ts.call(t, "GET", "/api/v1/trustedOrigins?q=Old", ts.token, "")
	id := old.raw[strings.Index(old.raw, `"id":"`)+6:][:20]
	if r := ts.call(t, "POST", "/api/v1/trustedOrigins/"+id+"/lifecycle/deactivate", ts.token, ""); r.status != 200 {
		t.Fatal(r.raw)
	}
	token := ts.authnSuccess(t, "jo@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	for _, outside := range []string{"http://127.0.0.1:5173/callback", "https://old.example.com/x", "https://return.example.com.evil.example/",
		"https://evil.example/?https://return.example.com", "http://return.example.com/", "https://user@return.example.com/", "https://return.example.com:8443/"} {
		resp, body := b.get("/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {outside}}.Encode())
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, "not on this Gatehouse") || b.cookie("gh_sid") != "" {
			t.Fatalf("redirectUrl %q: %d %q", outside, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	dest := "https://RETURN.example.com:443/app/done?state=1#frag"
	resp, _ := b.get("/login/sessionCookieRedirect?" + url.Values{"token": {token}, "redirectUrl": {dest}}.Encode())
	if resp.StatusCode != 302 || resp.Header.Get("Location") != dest || b.cookie("gh_sid") == "" {
		t.Fatalf("trusted redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

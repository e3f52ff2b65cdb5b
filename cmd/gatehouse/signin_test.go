package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/directory"
)

// browser is a cookie-jar HTTP client that does not follow redirects by
// itself, so tests see each step.
type browser struct {
	t    testing.TB
	c    *http.Client
	base string
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.abs(path), nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func formCSRF(t testing.TB, html string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf token in page: %.300s", html)
	}
	return m[1]
}

// signIn goes through the sign-in form and returns the final response.
func (b *browser) signIn(user, password, next string) (*http.Response, string) {
	_, page := b.get("/login?next=" + url.QueryEscape(next))
	return b.post("/login", url.Values{"username": {user}, "password": {password}, "csrf": {formCSRF(b.t, page)}, "next": {next}})
}

func (ts *testServer) createUser(t testing.TB, login, password string) *directory.User {
	t.Helper()
	u, err := ts.directory.CreateUser(context.Background(), directory.CreateUserInput{
		Profile:  directory.Profile{"login": login, "email": login, "firstName": "Pat", "lastName": "Doe"},
		Password: password, Activate: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestSignInAndDashboard(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)

	resp, _ := b.get("/app/UserHome")
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("dashboard without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.c.Jar.SetCookies(mustURL(ts.srv.URL), []*http.Cookie{{Name: "gh_sid", Value: "planted-by-attacker"}})
	resp, _ = b.signIn("pat@example.com", "Secret-Passw0rd", "/app/UserHome")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sid := b.cookie("gh_sid")
	if sid == "" || sid == "planted-by-attacker" {
		t.Fatalf("session cookie not rotated: %q", sid)
	}
	var setCookie string
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gh_sid=") {
			setCookie = c
		}
	}
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") {
		t.Fatalf("cookie flags: %s", setCookie)
	}
	resp, page := b.get("/app/UserHome")
	if resp.StatusCode != 200 || !strings.Contains(page, "My Apps") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	// The session is in the sessions API, and ends on sign-out.
	r := ts.call(t, "GET", "/api/v1/users/pat@example.com/sessions", ts.token, "")
	if r.status != 200 || !strings.Contains(r.raw, `"amr":["pwd"]`) {
		t.Fatalf("sessions API: %d %s", r.status, r.raw)
	}
	resp, _ = b.post("/logout", url.Values{"csrf": {formCSRF(t, page)}})
	if resp.StatusCode != 303 {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	old := &http.Cookie{Name: "gh_sid", Value: sid}
	b.c.Jar.SetCookies(mustURL(ts.srv.URL), []*http.Cookie{old})
	if resp, _ := b.get("/app/UserHome"); resp.StatusCode != 302 {
		t.Fatalf("ended session still works: %d", resp.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSignInFailures(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "lee@example.com", "Secret-Passw0rd")
	sus := ts.createUser(t, "sus@example.com", "Secret-Passw0rd")
	if _, err := ts.directory.Transition(context.Background(), sus.ID, directory.OpSuspend); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ts.srv.URL)

	// Missing CSRF token.
	resp, _ := b.post("/login", url.Values{"username": {"lee@example.com"}, "password": {"Secret-Passw0rd"}})
	if resp.StatusCode != 403 || b.cookie("gh_sid") != "" {
		t.Fatalf("sign in without CSRF: %d", resp.StatusCode)
	}
	// Cross-site form post with a valid token is refused too.
	_, page := b.get("/login")
	req, _ := http.NewRequest("POST", ts.srv.URL+"/login", strings.NewReader(url.Values{"username": {"lee@example.com"}, "password": {"Secret-Passw0rd"}, "csrf": {formCSRF(t, page)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := b.do(req); resp.StatusCode != 403 {
		t.Fatalf("cross-origin sign in: %d", resp.StatusCode)
	}

	// Unknown user and wrong password get the same answer.
	r1, p1 := b.signIn("nobody@example.com", "Whatever-123", "/")
	r2, p2 := b.signIn("lee@example.com", "Wrong-Passw0rd", "/")
	if r1.StatusCode != 401 || r2.StatusCode != 401 || !strings.Contains(p1, signInFailureText) || !strings.Contains(p2, signInFailureText) {
		t.Fatalf("unknown vs wrong: %d %d", r1.StatusCode, r2.StatusCode)
	}
	// Suspended users cannot sign in, even with the right password.
	if r, _ := b.signIn("sus@example.com", "Secret-Passw0rd", "/"); r.StatusCode != 401 || b.cookie("gh_sid") != "" {
		t.Fatalf("suspended user signed in: %d", r.StatusCode)
	}
	// Ten consecutive failures lock the account (one already counted
	// above), however the login is spelled: by id or in capitals too.
	lee, _ := ts.directory.Store.User(context.Background(), "lee@example.com")
	for i := 0; i < 9; i++ {
		login := []string{"lee@example.com", "LEE@example.com", lee.ID}[i%3]
		b.signIn(login, "Wrong-Passw0rd", "/")
	}
	u, _ := ts.directory.Store.User(context.Background(), "lee@example.com")
	if u.Status != directory.LockedOut {
		t.Fatalf("after 10 failures: %s (%d failures)", u.Status, u.FailedLogins)
	}
	if r, _ := b.signIn("lee@example.com", "Secret-Passw0rd", "/"); r.StatusCode != 401 {
		t.Fatalf("locked user signed in: %d", r.StatusCode)
	}
	// The attempts are in the system log.
	r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.account.lock"`), ts.token, "")
	if !strings.Contains(r.raw, "lee@example.com") {
		t.Fatalf("lock not logged: %s", r.raw)
	}
	r = ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.session.start" and outcome.result eq "FAILURE"`)+"&limit=1000", ts.token, "")
	if n := strings.Count(r.raw, `"eventType":"user.session.start"`); n < 12 {
		t.Fatalf("failed sign-ins logged: %d", n)
	}
	// An open redirect through next is not possible.
	ts.createUser(t, "ok@example.com", "Secret-Passw0rd")
	b2 := newBrowser(t, ts.srv.URL)
	if r, _ := b2.signIn("ok@example.com", "Secret-Passw0rd", "//evil.example/x"); r.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("next not sanitised: %s", r.Header.Get("Location"))
	}
}

const signInFailureText = "Unable to sign in. Check your username and password, or contact your administrator."

package oidclogin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/oidclogin/oidctest"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
	"github.com/gatehouse/gatehouse/ui"
)

type rig struct {
	h   *Handler
	db  *sqlstore.DB
	srv *httptest.Server
}

// newRig serves a Handler (with the sign-in surface it needs) on a
// loopback server whose URL is its base URL.
func newRig(t testing.TB, issuers map[federation.Type]string) *rig {
	t.Helper()
	db := storetest.SQLite(t)
	src := ids.NewSource(nil)
	n := 0
	events := audit.Builder{Now: time.Now, UUID: func() string { n++; return fmt.Sprintf("u-%d", n) }}
	hasher, err := credential.NewHasher(credential.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := &directory.Service{Store: db.Directory(), Hasher: hasher, Policy: credential.DefaultPolicy(), IDs: src, Now: time.Now, Events: events}
	mk, _ := keys.NewMasterKey(make([]byte, 32))
	sealer, _ := keys.NewSealer(nil, mk)
	fed := &federation.Service{Store: db.IdPs(), Directory: dir, Sealer: sealer, Expr: expr.NewEngine(), IDs: src, Now: time.Now, Events: events}
	pages, err := web.ParsePages(ui.Templates(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	surf := &login.Surface{BaseURL: base, Directory: dir, Pages: pages, Log: log,
		Sessions: &session.Manager{Store: db.Sessions(), Now: time.Now, IDs: src, Idle: time.Hour, Max: 8 * time.Hour}}
	h := &Handler{BaseURL: base, IdPs: fed, Login: surf, Pending: db.Sessions(), Now: time.Now, Log: log, Issuers: issuers}
	fed.Discover = h
	mux := http.NewServeMux()
	h.Mount(mux)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &rig{h: h, db: db, srv: srv}
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestFlowWithLinkedInShapedProvider(t *testing.T) {
	op := oidctest.Start("/oauth", "li-client", "li-secret", map[string]any{
		"sub": "li-1", "email": "pat@example.com", "email_verified": true, "given_name": "Pat", "family_name": "Lee",
		"locale": map[string]any{"country": "US", "language": "en"}})
	defer op.Close()
	r := newRig(t, map[federation.Type]string{federation.LinkedIn: op.Issuer})
	ctx := context.Background()
	p, err := r.h.IdPs.Create(ctx, &federation.IdP{Type: federation.LinkedIn, ClientID: "li-client"}, "li-secret")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := r.h.SignInButtons(ctx)
	if err != nil || len(bs) != 1 || bs[0].Label != "Sign in with LinkedIn" || bs[0].Kind != "linkedin" {
		t.Fatalf("buttons: %+v %v", bs, err)
	}
	c := client()
	resp := get(t, c, r.srv.URL+"/sso/idps/"+p.ID+"/start?next=%2Fapp%2FUserHome")
	auth, _ := url.Parse(resp.Header.Get("Location"))
	q := auth.Query()
	if resp.StatusCode != 302 || !strings.HasPrefix(auth.String(), op.Issuer+"/authorize") || q.Get("code_challenge_method") != "S256" ||
		q.Get("nonce") == "" || q.Get("state") == "" || q.Get("redirect_uri") != r.srv.URL+CallbackPath || q.Get("scope") != "openid email profile" {
		t.Fatalf("authorization request: %d %s", resp.StatusCode, auth)
	}
	resp = get(t, c, auth.String())
	resp = get(t, c, resp.Header.Get("Location"))
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sid string
	for _, ck := range resp.Cookies() {
		if ck.Name == "gh_sid" {
			sid = ck.Value
		}
	}
	sess, err := r.h.Login.Sessions.Check(ctx, sid)
	if err != nil || strings.Join(sess.AMR, " ") != "fed" {
		t.Fatalf("session: %v %+v", err, sess)
	}
	u, err := r.h.IdPs.Directory.Store.User(ctx, sess.UserID)
	if err != nil || u.Login() != "pat@example.com" {
		t.Fatalf("user: %v %+v", err, u)
	}
	// The flow record is gone: nothing is left to replay.
	if op.Tokens != 1 {
		t.Fatalf("tokens issued: %d", op.Tokens)
	}
}

// FuzzCallback sends arbitrary query strings to the callback: no input
// without a started flow signs anyone in, and nothing panics.
func FuzzCallback(f *testing.F) {
	for _, s := range []string{"", "state=x&code=y", "state=&code=", "error=access_denied&state=s", "state=" + strings.Repeat("a", 300),
		"state=%ff%fe&code=%00", "code=abc", "state=x&state=y&code=z"} {
		f.Add(s)
	}
	r := newRig(f, nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest("GET", r.srv.URL+CallbackPath+"?"+query, nil)
		if err != nil {
			return
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("callback answered %d to %q", resp.StatusCode, query)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "gh_sid" && ck.Value != "" {
				t.Fatalf("session cookie for %q", query)
			}
		}
	})
}

func TestTokenProblem(t *testing.T) {
	cases := map[string]error{
		"EXPIRED":   &oidc.TokenExpiredError{Expiry: time.Now()},
		"AUDIENCE":  errors.New(`oidc: expected audience "a" got ["b"]`),
		"ISSUER":    errors.New(`oidc: id token issued by a different provider, expected "x" got "y"`),
		"SIGNATURE": errors.New("failed to verify signature: failed to verify id token signature"),
		"INVALID":   errors.New("something else"),
	}
	for want, err := range cases {
		if got := tokenProblem(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func TestStartIsThrottledPerAddress(t *testing.T) {
	r := newRig(t, nil)
	r.h.Login.IPAttempts = 3
	c := client()
	for i := 1; i <= 4; i++ {
		resp := get(t, c, r.srv.URL+"/sso/idps/0oinope/start")
		want := http.StatusNotFound
		if i == 4 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("start %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

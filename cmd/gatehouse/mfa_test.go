package main

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/mfa"
)

var (
	totpKeyRe   = regexp.MustCompile(`<code class="secret" id="totp-key">([A-Z2-7 ]+)</code>`)
	codeListRe  = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	qrImgRe     = regexp.MustCompile(`<img src="([^"]+/qr\.png)"`)
	setupPathRe = regexp.MustCompile(`^/enduser/settings/factors/(ost[0-9A-Za-z]{17})/setup$`)
)

// totpNow returns the code an authenticator app shows now (offset in steps).
func totpNow(t testing.TB, secret string, steps int) string {
	t.Helper()
	c, err := mfa.TOTPCode(secret, time.Now().Add(time.Duration(steps)*mfa.TOTPPeriod*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setUpAuthenticator adds an authenticator app on the Settings page of a
// signed-in browser and returns its seed and recovery codes.
func setUpAuthenticator(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	_, page := b.get("/enduser/settings")
	if !strings.Contains(page, "Security methods") || !strings.Contains(page, "Set up authenticator app") {
		t.Fatalf("no security methods on Settings: %.2000s", page)
	}
	resp, _ := b.post("/enduser/settings/factors/totp", url.Values{"csrf": {formCSRF(t, page)}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !setupPathRe.MatchString(loc) {
		t.Fatalf("start set-up: %d %s", resp.StatusCode, loc)
	}
	resp, page = b.get(loc)
	m := totpKeyRe.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("set-up page: %d %.1500s", resp.StatusCode, page)
	}
	checkLabels(t, loc, page)
	secret := strings.ReplaceAll(m[1], " ", "")
	qr := qrImgRe.FindStringSubmatch(page)
	if qr == nil {
		t.Fatal("no QR code image")
	}
	resp, png := b.get(qr[1])
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(png, "\x89PNG") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR code: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	action := strings.TrimSuffix(loc, "/setup") + "/activate"
	// A wrong code is reported beside the field and changes nothing.
	resp, page = b.post(action, url.Values{"csrf": {formCSRF(t, page)}, "code": {"000000"}})
	if resp.StatusCode != 400 || pageError(t, page, "code") == "" {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	// Without the CSRF token: refused.
	if resp, _ := b.post(action, url.Values{"code": {totpNow(t, secret, 0)}}); resp.StatusCode != 403 {
		t.Fatalf("activation without CSRF: %d", resp.StatusCode)
	}
	resp, page = b.post(action, url.Values{"csrf": {formCSRF(t, page)}, "code": {totpNow(t, secret, 0)}})
	codes := codeListRe.FindAllStringSubmatch(page, -1)
	if resp.StatusCode != 200 || len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("activation: %d, %d recovery codes: %.1500s", resp.StatusCode, len(codes), page)
	}
	var out []string
	for _, c := range codes {
		out = append(out, c[1])
	}
	// The pending set-up is gone: its QR code no longer answers.
	if resp, _ := b.get(qr[1]); resp.StatusCode != 404 {
		t.Fatalf("QR code after activation: %d", resp.StatusCode)
	}
	return secret, out
}

func TestTOTPSignIn(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) { testTOTPSignIn(t, newTestServer(t, pg)) })
	}
}

func testTOTPSignIn(t *testing.T, ts *testServer) {
	ctx := context.Background()
	u := ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	if resp, _ := b.signIn("pat@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("sign-in without a factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	secret, codes := setUpAuthenticator(t, b)
	_, page := b.get("/enduser/settings?saved=factor")
	if !strings.Contains(page, "Authenticator app") || !strings.Contains(page, "10 unused recovery codes") {
		t.Fatalf("settings after set-up: %.3000s", page)
	}
	// The set-up's wrong code and its right one.
	evs, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.mfa.factor.activate"))
	outcomes := map[string]int{}
	for _, ev := range evs {
		outcomes[ev.Outcome.Result+" "+ev.Outcome.Reason]++
	}
	if len(evs) != 2 || outcomes["SUCCESS "] != 1 || outcomes["FAILURE INVALID_CREDENTIALS"] != 1 {
		t.Fatalf("activation events: %v", outcomes)
	}

	// Signing in now asks for the code; no session exists before it.
	b2 := newBrowser(t, ts.srv.URL)
	resp, _ := b2.signIn("pat@example.com", "Secret-Passw0rd", "/enduser/settings")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login/verify" || b2.cookie("gh_sid") != "" {
		t.Fatalf("password step: %d %s sid=%q", resp.StatusCode, resp.Header.Get("Location"), b2.cookie("gh_sid"))
	}
	if r, _ := b2.get("/app/UserHome"); r.StatusCode != 302 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("dashboard before the second step: %d", r.StatusCode)
	}
	resp, page = b2.get("/login/verify")
	if resp.StatusCode != 200 || !strings.Contains(page, "Verify it&#39;s you") || !strings.Contains(page, `name="recoveryCode"`) {
		t.Fatalf("verify page: %d %.1500s", resp.StatusCode, page)
	}
	checkLabels(t, "/login/verify", page)
	csrf := formCSRF(t, page)
	// Missing CSRF, then a wrong code: refused beside the field.
	if r, _ := b2.post("/login/verify", url.Values{"method": {"totp"}, "code": {totpNow(t, secret, 0)}}); r.StatusCode != 403 {
		t.Fatalf("verify without CSRF: %d", r.StatusCode)
	}
	resp, page = b2.post("/login/verify", url.Values{"csrf": {csrf}, "method": {"totp"}, "code": {"123456"}})
	if resp.StatusCode != 401 || pageError(t, page, "code") == "" {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	code := totpNow(t, secret, 1) // the next step, still inside the window
	resp, _ = b2.post("/login/verify", url.Values{"csrf": {csrf}, "method": {"totp"}, "code": {code}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/enduser/settings" || b2.cookie("gh_sid") == "" {
		t.Fatalf("right code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sessions := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, "")
	if !strings.Contains(sessions.raw, `"amr":["pwd","otp","mfa"]`) {
		t.Fatalf("session AMR: %s", sessions.raw)
	}

	// The same code cannot sign in a second time.
	b3 := newBrowser(t, ts.srv.URL)
	b3.signIn("pat@example.com", "Secret-Passw0rd", "/")
	_, page = b3.get("/login/verify")
	resp, page = b3.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {code}})
	if resp.StatusCode != 401 || b3.cookie("gh_sid") != "" {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	// A recovery code works once.
	resp, _ = b3.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"recovery"}, "recoveryCode": {codes[0]}})
	if resp.StatusCode != 303 || b3.cookie("gh_sid") == "" {
		t.Fatalf("recovery code: %d", resp.StatusCode)
	}
	b4 := newBrowser(t, ts.srv.URL)
	b4.signIn("pat@example.com", "Secret-Passw0rd", "/")
	_, page = b4.get("/login/verify")
	resp, page = b4.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"recovery"}, "recoveryCode": {codes[0]}})
	if resp.StatusCode != 401 || pageError(t, page, "recoveryCode") == "" {
		t.Fatalf("used recovery code: %d", resp.StatusCode)
	}
	// The pending sign-in is per browser: another browser's cookie-less
	// post is sent back to sign in.
	if r, _ := newBrowser(t, ts.srv.URL).post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {"1"}}); r.StatusCode != 302 {
		t.Fatalf("verify without a pending sign-in: %d", r.StatusCode)
	}

	// Wrong codes lock the person out, as wrong passwords do: the used
	// recovery code was the first failure.
	for i := 1; i < ts.cfg.LockoutAfter; i++ {
		_, page = b4.get("/login/verify")
		if !strings.Contains(page, "Verify it") {
			t.Fatalf("attempt %d: %.300s", i, page)
		}
		resp, _ := b4.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {"000000"}})
		if want := map[bool]int{false: 401, true: 403}[i == ts.cfg.LockoutAfter-1]; resp.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	got, err := ts.directory.Store.User(ctx, u.ID)
	if err != nil || got.Status != directory.LockedOut {
		t.Fatalf("after %d wrong codes: %v %v", ts.cfg.LockoutAfter, got.Status, err)
	}
	if r, _ := newBrowser(t, ts.srv.URL).signIn("pat@example.com", "Secret-Passw0rd", "/"); r.StatusCode != 401 {
		t.Fatalf("sign-in while locked: %d", r.StatusCode)
	}
}

// eventsOf is a query for one event type.
func eventsOf(t testing.TB, typ string) audit.Query {
	t.Helper()
	f, err := filter.Parse(`eventType eq "`+typ+`"`, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return audit.Query{Filter: f, Limit: 1000}
}

// pageError returns the message shown beside a field of an end-user page
// (or "" when the field is not marked invalid).
func pageError(t testing.TB, page, name string) string {
	t.Helper()
	re := regexp.MustCompile(`<(?:input|select|textarea)[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*>`)
	tag := re.FindString(page)
	if tag == "" {
		t.Fatalf("no input %s in page", name)
	}
	if !strings.Contains(tag, `aria-invalid="true"`) {
		return ""
	}
	m := regexp.MustCompile(`aria-describedby="([^" ]+)`).FindStringSubmatch(tag)
	if m == nil {
		t.Fatalf("invalid input %s describes no error: %s", name, tag)
	}
	msg := regexp.MustCompile(`<(?:div|p) class="field-error" id="` + regexp.QuoteMeta(m[1]) + `">([^<]*)</`).FindStringSubmatch(page)
	if msg == nil || msg[1] == "" {
		t.Fatalf("error %s of %s not in page", m[1], name)
	}
	return html.UnescapeString(msg[1])
}

// TestFederatedSignInAsksForFactor: after a sign-in through an external
// provider, a person with an authenticator app still owes the code.
func TestFederatedSignInAsksForFactor(t *testing.T) {
	w := newIdPWorld(t, false)
	ts := w.ts
	b := newBrowser(t, ts.srv.URL)
	if resp, _, _ := b.federate(w.googleID, "/app/UserHome"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("first federated sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	secret, _ := setUpAuthenticator(t, b)

	b2 := newBrowser(t, ts.srv.URL)
	resp, _, _ := b2.federate(w.googleID, "/enduser/settings")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login/verify" || b2.cookie("gh_sid") != "" {
		t.Fatalf("federated sign-in with a factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b2.get("/login/verify")
	resp, _ = b2.post("/login/verify", url.Values{"csrf": {formCSRF(t, page)}, "method": {"totp"}, "code": {totpNow(t, secret, 1)}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/enduser/settings" || b2.cookie("gh_sid") == "" {
		t.Fatalf("code after federated sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := ts.directory.Store.User(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if s := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/sessions", ts.token, ""); !strings.Contains(s.raw, `"amr":["otp","mfa"]`) {
		t.Fatalf("sessions: %s", s.raw)
	}
}

// TestConsoleFactors: the admin person page lists a person's factors with
// Reset (one, or all); a read-only admin sees them without the forms; a
// reset without the CSRF token is refused.
func TestConsoleFactors(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	p := ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
	pb := newBrowser(t, ts.srv.URL)
	pb.signIn("pat@example.com", "Secret-Passw0rd", "/")
	setUpAuthenticator(t, pb)
	if _, _, err := ts.mfa.EnrollTOTP(ctx, p.ID, "GOOGLE"); err != nil {
		t.Fatal(err)
	}

	page := admin.page("/admin/people/"+p.ID, 200)
	checkLabels(t, "/admin/people/"+p.ID, page)
	fs, _, err := ts.mfa.List(ctx, p.ID)
	if err != nil || len(fs) != 2 {
		t.Fatalf("factors: %v %d", err, len(fs))
	}
	for _, want := range []string{"Security methods", "Authenticator app", "Google Authenticator", "PENDING_ACTIVATION", "10 unused recovery codes",
		"/admin/people/" + p.ID + "/factors/" + fs[0].ID + "/reset", "Reset all factors", `data-confirm="Reset Authenticator app of Pat Doe?`} {
		if !strings.Contains(page, want) {
			t.Fatalf("person page lacks %q", want)
		}
	}
	rpage := reader.page("/admin/people/"+p.ID, 200)
	if !strings.Contains(rpage, "Authenticator app") || strings.Contains(rpage, "/factors/"+fs[0].ID+"/reset") || strings.Contains(rpage, "Reset all factors") {
		t.Fatal("the read-only admin sees the reset forms")
	}
	if status, _, _ := reader.submit(rpage, "/admin/people/"+p.ID+"/factors/"+fs[0].ID+"/reset", nil); status != 403 {
		t.Fatalf("read-only reset: %d", status)
	}
	if resp, _ := admin.post("/admin/people/"+p.ID+"/factors/"+fs[0].ID+"/reset", url.Values{}); resp.StatusCode != 403 {
		t.Fatalf("reset without CSRF: %d", resp.StatusCode)
	}
	if status, _, _ := admin.submit(page, "/admin/people/"+p.ID+"/factors/ostNOPE0000000000000/reset", nil); status != 404 {
		t.Fatalf("reset of an unknown factor: %d", status)
	}
	if left, _, _ := ts.mfa.List(ctx, p.ID); len(left) != 2 {
		t.Fatalf("refused resets changed something: %d factors", len(left))
	}
	status, loc, _ := admin.submit(page, "/admin/people/"+p.ID+"/factors/"+fs[0].ID+"/reset", nil)
	if status != 303 || loc != "/admin/people/"+p.ID+"?ok=factorreset#factors" {
		t.Fatalf("reset: %d %s", status, loc)
	}
	if page = admin.page("/admin/people/"+p.ID+"?ok=factorreset", 200); !strings.Contains(page, "The factor was reset.") || strings.Contains(page, "/factors/"+fs[0].ID+"/reset") {
		t.Fatal("the reset factor is still listed")
	}
	status, loc, _ = admin.submit(page, "/admin/people/"+p.ID+"/factors/reset", nil)
	if status != 303 || !strings.Contains(loc, "ok=factorsreset") {
		t.Fatalf("reset all: %d %s", status, loc)
	}
	if left, _, _ := ts.mfa.List(ctx, p.ID); len(left) != 0 {
		t.Fatalf("%d factors after reset all", len(left))
	}
	evs, _, _ := ts.db.Events().Query(ctx, eventsOf(t, "user.mfa.factor.reset_all"))
	if len(evs) != 1 || evs[0].Actor.AlternateID != "root@example.com" {
		t.Fatalf("reset_all events: %+v", evs)
	}
	// Without factors the person signs in with the password alone again.
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("pat@example.com", "Secret-Passw0rd", "/app/UserHome"); resp.Header.Get("Location") != "/app/UserHome" {
		t.Fatalf("sign-in after reset: %s", resp.Header.Get("Location"))
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/mail/smtptest"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/recovery"
	"github.com/gatehouse/gatehouse/internal/session"
)

// mailServer starts aiosmtpd and returns the config tweak that points
// Gatehouse at it.
func mailServer(t *testing.T) (*smtptest.Server, func(*config.Config)) {
	s := smtptest.Start(t, smtptest.Options{Mode: "none"})
	return s, func(c *config.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = s.Host, s.Port, "none"
		c.SMTPFrom = "Gatehouse <no-reply@gatehouse.test>"
		c.LockoutAfter = 3
	}
}

// clock is a controllable time source for the one-time links.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func withClock(ts *testServer) *clock    { c := &clock{}; ts.oneTime.Now = c.now; return c }
func (ts *testServer) logEvents(t *testing.T, filter string) string {
	t.Helper()
	return ts.call(t, "GET", "/api/v1/logs?limit=1000&filter="+url.QueryEscape(filter), ts.token, "").raw
}

// waitLogEvents polls the system log until an event matching filter
// mentions want, or timeout passes; it returns the last answer.
func (ts *testServer) waitLogEvents(t *testing.T, filter, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev := ts.logEvents(t, filter)
		if strings.Contains(ev, want) || time.Now().After(deadline) {
			return ev
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailParts decodes a received multipart/alternative message.
func mailParts(t *testing.T, m smtptest.Received) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Message.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", m.Message.Header.Get("Content-Type"))
	}
	out := map[string]string{}
	mr := multipart.NewReader(strings.NewReader(string(m.Body)), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(b)
	}
}

var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/(reset-password|welcome)/[A-Za-z0-9_-]{20,}`)

// checkMail checks the headers of a received message and returns its link.
func checkMail(t *testing.T, ts *testServer, m smtptest.Received, to, subject, path string) string {
	t.Helper()
	h := m.Message.Header
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "no-reply@gatehouse.test" || from[0].Name != "Gatehouse" {
		t.Errorf("From %q", h.Get("From"))
	}
	if rcpt, err := h.AddressList("To"); err != nil || rcpt[0].Address != to {
		t.Errorf("To %q", h.Get("To"))
	}
	if len(m.RcptTos) != 1 || m.RcptTos[0] != to || m.MailFrom != "no-reply@gatehouse.test" {
		t.Errorf("envelope %q -> %v", m.MailFrom, m.RcptTos)
	}
	if d, err := mail.ParseDate(h.Get("Date")); err != nil || time.Since(d) > time.Minute || time.Until(d) > time.Minute {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@gatehouse\.test>$`).MatchString(h.Get("Message-ID")) || h.Get("MIME-Version") != "1.0" {
		t.Errorf("Message-ID %q MIME-Version %q", h.Get("Message-ID"), h.Get("MIME-Version"))
	}
	if got := h.Get("Subject"); got != subject {
		t.Errorf("Subject %q, want %q", got, subject)
	}
	parts := mailParts(t, m)
	text := linkRe.FindString(parts["text/plain"])
	if text == "" || !strings.HasPrefix(text, ts.srv.URL+path) {
		t.Fatalf("no %s link in the text part: %s", path, parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], `href="`+text+`"`) {
		t.Errorf("the HTML part does not link to %s", text)
	}
	return text
}

// forgot posts the "Forgot password?" form and returns the answer.
func (b *browser) forgot(identifier string) (int, string) {
	b.t.Helper()
	_, page := b.get("/forgot-password")
	resp, body := b.post("/forgot-password", url.Values{"csrf": {formCSRF(b.t, page)}, "username": {identifier}})
	return resp.StatusCode, body
}

// answer is the part of the "check your email" page that must not depend
// on the account.
func answer(t *testing.T, body, identifier string) string {
	t.Helper()
	i, j := strings.Index(body, "<main"), strings.Index(body, "</main>")
	if i < 0 || j < 0 {
		t.Fatalf("no main in %.300s", body)
	}
	return strings.ReplaceAll(body[i:j], identifier, "IDENTIFIER")
}

func (ts *testServer) emailJobs(t *testing.T, userID string) []*provisioning.Job {
	t.Helper()
	js, _, err := ts.queue.List(context.Background(), provisioning.Filter{UserID: userID, Kind: recovery.KindPasswordReset}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestPasswordRecoveryByEmail(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPasswordRecovery(t, false) })
	t.Run("postgres", func(t *testing.T) { testPasswordRecovery(t, true) })
}

func testPasswordRecovery(t *testing.T, postgres bool) {
	smtp, tweak := mailServer(t)
	ts := newTestServer(t, postgres, tweak)
	clk := withClock(ts)
	pat := ts.createUser(t, "pat@example.com", "Old-Passw0rd-11")

	// Pat is signed in somewhere; the reset must end that session.
	elsewhere := newBrowser(t, ts.srv.URL)
	if resp, _ := elsewhere.signIn("pat@example.com", "Old-Passw0rd-11", "/app/UserHome"); resp.StatusCode != 303 {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	b := newBrowser(t, ts.srv.URL)
	if _, page := b.get("/login"); !strings.Contains(page, `href="/forgot-password"`) || !strings.Contains(page, "Forgot password?") {
		t.Fatal("no Forgot password? link on the sign-in page")
	}
	// An empty form is refused beside its field.
	_, page := b.get("/forgot-password")
	resp, page := b.post("/forgot-password", url.Values{"csrf": {formCSRF(t, page)}, "username": {""}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="username-error"`) || !strings.Contains(page, `aria-describedby="username-error"`) {
		t.Fatalf("empty identifier: %d %s", resp.StatusCode, page)
	}

	// Known and unknown accounts get the same page; only the known one mail.
	status, known := b.forgot("pat@example.com")
	if status != 200 || !strings.Contains(known, "If an account matches pat@example.com, we sent a link") || !strings.Contains(known, "expires in 1 hour") {
		t.Fatalf("known: %d %s", status, known)
	}
	status, unknown := b.forgot("nobody@example.com")
	if status != 200 || answer(t, known, "pat@example.com") != answer(t, unknown, "nobody@example.com") {
		t.Fatalf("unknown account answered differently (%d):\n%s\n---\n%s", status, answer(t, known, "pat@example.com"), answer(t, unknown, "nobody@example.com"))
	}
	msgs := smtp.Wait(1, 15*time.Second)
	link := checkMail(t, ts, msgs[0], "pat@example.com", "Reset your Gatehouse password", "/reset-password/")
	if ev := ts.logEvents(t, `eventType eq "user.account.reset_password" and outcome.result eq "FAILURE"`); !strings.Contains(ev, "UNKNOWN_USER") || !strings.Contains(ev, "nobody@example.com") {
		t.Errorf("unknown request not logged: %s", ev)
	}
	// The job records the sent message once the relay has taken it, so
	// the event may commit a moment after the mail arrives.
	if ev := ts.waitLogEvents(t, `eventType eq "system.email.password_reset.sent_message"`, pat.ID, 10*time.Second); !strings.Contains(ev, pat.ID) || !strings.Contains(ev, msgs[0].Message.Header.Get("Message-ID")) {
		t.Errorf("sent message not logged: %s", ev)
	}
	if ev := ts.logEvents(t, `eventType eq "user.account.reset_password" and outcome.result eq "SUCCESS"`); !strings.Contains(ev, pat.ID) || !strings.Contains(ev, "SELF_SERVICE") {
		t.Errorf("request not logged: %s", ev)
	}
	// The link's token is stored only as a hash, and no job holds it.
	token := link[strings.LastIndex(link, "/")+1:]
	if _, err := ts.db.Sessions().Pending(context.Background(), "onetime:"+token); err == nil {
		t.Fatal("the token is a store key")
	}
	if _, err := ts.db.Sessions().Pending(context.Background(), "onetime:"+session.Hash(token)); err != nil {
		t.Fatalf("the token's hash is not stored: %v", err)
	}
	for _, j := range ts.emailJobs(t, pat.ID) {
		if strings.Contains(string(j.Payload)+string(j.Result)+j.LastError, token) {
			t.Fatal("a job holds the token")
		}
	}

	// Following the link: policy and history errors beside the field, then
	// the new password; every session of Pat ends.
	reader := newBrowser(t, ts.srv.URL)
	resp, page = reader.get(link)
	if resp.StatusCode != 200 || !strings.Contains(page, "Reset your password") {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	resp, page = reader.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"short"}, "confirm": {"short"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="password-error"`) {
		t.Fatalf("weak password: %d", resp.StatusCode)
	}
	resp, page = reader.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Old-Passw0rd-11"}, "confirm": {"Old-Passw0rd-11"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="password-error"`) {
		t.Fatalf("the old password again: %d", resp.StatusCode)
	}
	resp, _ = reader.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"New-Passw0rd-22"}, "confirm": {"New-Passw0rd-22"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/reset-password/done" {
		t.Fatalf("reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, done := reader.get("/reset-password/done"); !strings.Contains(done, "Your password was changed") {
		t.Fatalf("done page: %s", done)
	}
	if resp, _ := elsewhere.get("/app/UserHome"); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("the other session survived the reset: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("pat@example.com", "Old-Passw0rd-11", "/"); resp.StatusCode != 401 {
		t.Fatalf("old password still works: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("pat@example.com", "New-Passw0rd-22", "/"); resp.StatusCode != 303 {
		t.Fatalf("new password: %d", resp.StatusCode)
	}
	if ev := ts.logEvents(t, `eventType eq "user.account.update_password"`); !strings.Contains(ev, pat.ID) {
		t.Errorf("update_password not logged: %s", ev)
	}

	// A reused link: a clear page that offers a new one.
	resp, page = newBrowser(t, ts.srv.URL).get(link)
	if resp.StatusCode != 404 || !strings.Contains(page, "does not work any more") || !strings.Contains(page, `href="/forgot-password"`) {
		t.Fatalf("reused link: %d %s", resp.StatusCode, page)
	}
	// An expired link: the same page, and the password stays.
	b.forgot("pat@example.com")
	link2 := checkMail(t, ts, smtp.Wait(2, 15*time.Second)[1], "pat@example.com", "Reset your Gatehouse password", "/reset-password/")
	clk.advance(61 * time.Minute)
	resp, page = newBrowser(t, ts.srv.URL).get(link2)
	if resp.StatusCode != 404 || !strings.Contains(page, "does not work any more") {
		t.Fatalf("expired link: %d", resp.StatusCode)
	}
	clk.advance(-61 * time.Minute)

	// A locked-out person may reset, which unlocks them.
	lee := ts.createUser(t, "lee@example.com", "Lee-Passw0rd-33")
	for range 3 {
		newBrowser(t, ts.srv.URL).signIn("lee@example.com", "wrong-password", "/")
	}
	if u, _ := ts.directory.Store.User(context.Background(), lee.ID); u.Status != directory.LockedOut {
		t.Fatalf("lee is %s", u.Status)
	}
	newBrowser(t, ts.srv.URL).forgot("lee@example.com")
	link3 := checkMail(t, ts, smtp.Wait(3, 15*time.Second)[2], "lee@example.com", "Reset your Gatehouse password", "/reset-password/")
	rb := newBrowser(t, ts.srv.URL)
	_, page = rb.get(link3)
	if resp, _ := rb.post(link3, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Lee-Unlocked-44"}, "confirm": {"Lee-Unlocked-44"}}); resp.StatusCode != 303 {
		t.Fatalf("locked-out reset: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, ts.srv.URL).signIn("lee@example.com", "Lee-Unlocked-44", "/"); resp.StatusCode != 303 {
		t.Fatalf("sign in after unlock-by-reset: %d", resp.StatusCode)
	}

	// People whose status does not allow it get no mail, and the same page.
	sus := ts.createUser(t, "sus@example.com", "Sus-Passw0rd-55")
	if _, err := ts.directory.Transition(context.Background(), sus.ID, directory.OpSuspend); err != nil {
		t.Fatal(err)
	}
	status, page = newBrowser(t, ts.srv.URL).forgot("sus@example.com")
	if status != 200 || answer(t, page, "sus@example.com") != answer(t, known, "pat@example.com") || len(ts.emailJobs(t, sus.ID)) != 0 {
		t.Fatalf("suspended: %d, %d jobs", status, len(ts.emailJobs(t, sus.ID)))
	}
	if ev := ts.logEvents(t, `eventType eq "user.account.reset_password" and outcome.result eq "FAILURE"`); !strings.Contains(ev, "USER_NOT_ELIGIBLE: SUSPENDED") {
		t.Errorf("suspended request not logged: %s", ev)
	}
	if got := len(smtp.Messages()); got != 3 {
		t.Fatalf("%d messages, want 3 (the unknown and the suspended account got none)", got)
	}
}

// TestPasswordRecoveryThrottles: an account gets at most three emails an
// hour (further requests are answered as usual), and one address may ask
// twenty times an hour, whatever it asks for.
func TestPasswordRecoveryThrottles(t *testing.T) {
	smtp, tweak := mailServer(t)
	ts := newTestServer(t, false, tweak)
	tia := ts.createUser(t, "tia@example.com", "Tia-Passw0rd-66")
	b := newBrowser(t, ts.srv.URL)
	requests := 0
	for i := range 5 {
		status, page := b.forgot("tia@example.com")
		requests++
		if status != 200 || !strings.Contains(page, "If an account matches") {
			t.Fatalf("request %d: %d", i+1, status)
		}
		time.Sleep(300 * time.Millisecond) // let the job run, so requests do not coalesce
	}
	ev := ts.logEvents(t, `eventType eq "user.account.reset_password" and outcome.result eq "FAILURE"`)
	if c := strings.Count(ev, "RATE_LIMITED"); c != 2 {
		t.Fatalf("%d RATE_LIMITED events, want 2: %s", c, ev)
	}
	time.Sleep(time.Second)
	if got := len(smtp.Messages()); got < 1 || got > 3 {
		t.Fatalf("%d messages for one account in an hour", got)
	}
	if n := len(ts.emailJobs(t, tia.ID)); n > 3 {
		t.Fatalf("%d jobs", n)
	}
	// The address limit: the 21st request of the hour is refused, the
	// same way for an unknown name.
	for ; requests < recovery.DefaultIPLimit; requests++ {
		if status, _ := b.forgot(fmt.Sprintf("someone%d@example.com", requests)); status != 200 {
			t.Fatalf("request %d: %d", requests+1, status)
		}
	}
	for _, who := range []string{"tia@example.com", "nobody@example.com"} {
		if status, page := b.forgot(who); status != 429 || !strings.Contains(page, "Too many password reset requests") {
			t.Fatalf("over the address limit (%s): %d", who, status)
		}
	}
}

// TestPasswordRecoveryRelayDown: the request is answered as usual while
// the relay is down; the job retries and the mail goes out when the relay
// is back.
func TestPasswordRecoveryRelayDown(t *testing.T) {
	smtp, tweak := mailServer(t)
	ts := newTestServer(t, false, tweak)
	kai := ts.createUser(t, "kai@example.com", "Kai-Passw0rd-77")
	smtp.Stop()
	status, page := newBrowser(t, ts.srv.URL).forgot("kai@example.com")
	if status != 200 || !strings.Contains(page, "If an account matches kai@example.com") {
		t.Fatalf("answer with the relay down: %d", status)
	}
	deadline := time.Now().Add(15 * time.Second)
	var j *provisioning.Job
	for {
		js := ts.emailJobs(t, kai.ID)
		if len(js) == 1 && js[0].State == provisioning.Pending && js[0].Attempts >= 1 {
			j = js[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not fail and wait for a retry: %+v", js)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(j.LastError, "smtp dial") {
		t.Fatalf("last error %q", j.LastError)
	}
	smtp.Restart()
	checkMail(t, ts, smtp.Wait(1, 30*time.Second)[0], "kai@example.com", "Reset your Gatehouse password", "/reset-password/")
	deadline = time.Now().Add(10 * time.Second)
	for {
		js := ts.emailJobs(t, kai.ID)
		if js[0].State == provisioning.Succeeded {
			if id, _ := recovery.ResultJSON(js[0]); id == "" {
				t.Fatalf("no Message-ID recorded: %s", js[0].Result)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s", js[0].State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSendEmailLifecycle: reset_password and activate with sendEmail=true
// mail the link; without email configured they are refused and change
// nothing.
func TestSendEmailLifecycle(t *testing.T) {
	smtp, tweak := mailServer(t)
	ts := newTestServer(t, false, tweak)
	u := ts.createUser(t, "ria@example.com", "Ria-Passw0rd-88")
	if r := ts.call(t, "POST", "/api/v1/users/"+u.ID+"/lifecycle/reset_password?sendEmail=true", ts.token, ""); r.status != 200 || strings.TrimSpace(r.raw) != "{}" {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	link := checkMail(t, ts, smtp.Wait(1, 15*time.Second)[0], "ria@example.com", "Reset your Gatehouse password", "/reset-password/")
	if r := ts.call(t, "GET", "/api/v1/users/"+u.ID, ts.token, ""); r.body["status"] != "RECOVERY" {
		t.Fatalf("status %v", r.body["status"])
	}
	b := newBrowser(t, ts.srv.URL)
	_, page := b.get(link)
	if resp, _ := b.post(link, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Ria-Fresh-Passw0rd"}, "confirm": {"Ria-Fresh-Passw0rd"}}); resp.StatusCode != 303 {
		t.Fatalf("reset by link: %d", resp.StatusCode)
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+u.ID, ts.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("status after reset %v", r.body["status"])
	}

	r := ts.call(t, "POST", "/api/v1/users?activate=false", ts.token, `{"profile":{"login":"nia@example.com","email":"nia@example.com","firstName":"Nia","lastName":"Ng"}}`)
	id := r.body["id"].(string)
	if r := ts.call(t, "POST", "/api/v1/users/"+id+"/lifecycle/activate", ts.token, ""); r.status != 200 || strings.TrimSpace(r.raw) != "{}" {
		t.Fatalf("activate: %d %s", r.status, r.raw)
	}
	welcome := checkMail(t, ts, smtp.Wait(2, 15*time.Second)[1], "nia@example.com", "Activate your Gatehouse account", "/welcome/")
	_, page = b.get(welcome)
	if resp, _ := b.post(welcome, url.Values{"csrf": {formCSRF(t, page)}, "password": {"Nia-First-Passw0rd"}, "confirm": {"Nia-First-Passw0rd"}}); resp.StatusCode != 303 {
		t.Fatalf("activation by link: %d", resp.StatusCode)
	}
	if r := ts.call(t, "GET", "/api/v1/users/"+id, ts.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("status after activation %v", r.body["status"])
	}

	// Okta's Authentication API: the same answer for known and unknown
	// usernames, a message only for the known one.
	known := ts.call(t, "POST", "/api/v1/authn/recovery/password", "", `{"username":"ria@example.com","factorType":"EMAIL","relayState":"/app/UserHome"}`)
	unknown := ts.call(t, "POST", "/api/v1/authn/recovery/password", "", `{"username":"ghost@example.com","factorType":"EMAIL","relayState":"/app/UserHome"}`)
	want := `{"factorResult":"WAITING","factorType":"EMAIL","recoveryType":"PASSWORD","relayState":"/app/UserHome","status":"RECOVERY_CHALLENGE"}`
	for _, r := range []apiResult{known, unknown} {
		var canon map[string]any
		json.Unmarshal([]byte(r.raw), &canon)
		got, _ := json.Marshal(canon)
		if r.status != 200 || string(got) != want {
			t.Fatalf("authn recovery: %d %s", r.status, r.raw)
		}
	}
	checkMail(t, ts, smtp.Wait(3, 15*time.Second)[2], "ria@example.com", "Reset your Gatehouse password", "/reset-password/")
	for body, code := range map[string]string{
		`{"username":"ria@example.com","factorType":"SMS"}`:                  "E0000001",
		`{"username":"ria@example.com"}`:                                     "E0000001",
		`{"factorType":"EMAIL"}`:                                             "E0000001",
		`{"username":"ria@example.com","factorType":"EMAIL","password":"x"}`: "E0000003",
	} {
		if r := ts.call(t, "POST", "/api/v1/authn/recovery/password", "", body); r.status != 400 || r.body["errorCode"] != code {
			t.Errorf("%s: %d %s", body, r.status, r.raw)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if got := len(smtp.Messages()); got != 3 {
		t.Fatalf("%d messages, want 3", got)
	}

	// The console's Reset Password mails the link too.
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	person := admin.page("/admin/people/"+u.ID, 200)
	status, loc, _ := admin.submit(person, "/admin/people/"+u.ID+"/lifecycle/reset_password", nil)
	if status != 303 || !strings.Contains(loc, "ok=resetmail") {
		t.Fatalf("console reset: %d %s", status, loc)
	}
	checkMail(t, ts, smtp.Wait(4, 15*time.Second)[3], "ria@example.com", "Reset your Gatehouse password", "/reset-password/")
	if !strings.Contains(admin.page(loc, 200), "a link to choose a new one was emailed") {
		t.Fatal("console flash")
	}

	// Without email, sendEmail=true is refused and nothing changes.
	plain := newTestServer(t, false)
	v := plain.createUser(t, "ola@example.com", "Ola-Passw0rd-99")
	if r := plain.call(t, "POST", "/api/v1/users/"+v.ID+"/lifecycle/reset_password?sendEmail=true", plain.token, ""); r.status != 400 || !strings.Contains(r.raw, "email delivery is not configured") {
		t.Fatalf("reset without email: %d %s", r.status, r.raw)
	}
	if r := plain.call(t, "GET", "/api/v1/users/"+v.ID, plain.token, ""); r.body["status"] != "ACTIVE" {
		t.Fatalf("status changed: %v", r.body["status"])
	}
	if _, page := newBrowser(t, plain.srv.URL).get("/login"); strings.Contains(page, "Forgot password?") {
		t.Fatal("Forgot password? offered without email")
	}
	if r := plain.call(t, "POST", "/api/v1/authn/recovery/password", "", `{"username":"ola@example.com","factorType":"EMAIL"}`); r.status != 400 {
		t.Fatalf("authn recovery without email: %d", r.status)
	}
}

package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/demo"
)

type storyEnv struct {
	ts    *testServer
	sb    *awssandbox.Sandbox
	sbSrv *httptest.Server
	info  awssandbox.Info
	gh    *demo.Client
	story *demo.Story
}

func newStory(t *testing.T, opts awssandbox.Options) *storyEnv {
	t.Helper()
	return newStoryOn(t, false, opts)
}

// newStoryOn plays the story on SQLite, or on PostgreSQL when pg is set.
func newStoryOn(t *testing.T, pg bool, opts awssandbox.Options) *storyEnv {
	t.Helper()
	sb, err := awssandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(sbSrv.Close)
	info := sb.Info(sbSrv.URL)
	ts := newTestServer(t, pg, func(c *config.Config) { c.AWSEndpoint = sbSrv.URL })
	gh := &demo.Client{BaseURL: ts.srv.URL, Token: ts.token}
	st, err := demo.SetUp(context.Background(), gh, demo.AWS{Endpoint: sbSrv.URL, AccountID: info.AccountID, AccessKeyID: info.AccessKeyID,
		SecretAccessKey: info.SecretAccessKey, Region: info.Region, ConnectInstanceID: info.ConnectInstanceID},
		demo.Agent{Login: "agent.smith@example.com", Password: "Connect-Passw0rd!", FirstName: "Agatha", LastName: "Smith"})
	if err != nil {
		t.Fatalf("story set-up: %v", err)
	}
	if err := demo.WaitProvisioned(context.Background(), gh, st.AppID, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return &storyEnv{ts: ts, sb: sb, sbSrv: sbSrv, info: info, gh: gh, story: st}
}

func (e *storyEnv) connectUser(name string) *awssandbox.ConnectUser {
	for _, u := range e.sb.ConnectUsers("") {
		if u.Username == name {
			u := u
			return &u
		}
	}
	return nil
}

// TestAmazonConnectStory is the walkthrough end to end: the administrator's
// half through Gatehouse's API and the AWS SDK against the sandbox, then the
// agent signs in, clicks the Amazon Connect tile and lands on the agent page.
func TestAmazonConnectStory(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	cu := e.connectUser("agent.smith@example.com")
	if cu == nil || cu.FirstName != "Agatha" || cu.LastName != "Smith" || cu.PhoneType != "SOFT_PHONE" || len(cu.SecurityProfileIDs) != 1 {
		t.Fatalf("Connect user not provisioned as expected: %+v", cu)
	}

	b := newBrowser(t, e.ts.srv.URL)
	b.signIn("agent.smith@example.com", "Connect-Passw0rd!", "/app/UserHome")
	_, home := b.get("/app/UserHome")
	if !strings.Contains(home, "Amazon Connect") {
		t.Fatalf("no Amazon Connect tile: %s", home)
	}
	link := regexpFind(t, `href="(/home/amazon_connect/[^"]+)"`, home)
	_, page := b.get(link)
	action, samlResponse, relay := samlPost(t, page)
	if action != e.sbSrv.URL+"/saml" {
		t.Fatalf("posts to %s", action)
	}
	wantRelay := "https://" + e.info.Region + ".console.aws.amazon.com/connect/federate/" + e.info.ConnectInstanceID
	if relay != wantRelay {
		t.Fatalf("relay state %q, want %q", relay, wantRelay)
	}
	// The browser posts the form to AWS sign-in (the sandbox).
	resp, body := b.follow(b.post(action, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relay}}))
	if resp.StatusCode != 200 || !strings.Contains(body, "agent.smith@example.com") || strings.Contains(body, "Access Denied") {
		t.Fatalf("agent page not reached: %d %.800s", resp.StatusCode, body)
	}
}

func regexpFind(t *testing.T, re, s string) string {
	t.Helper()
	m := mustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not found in %.500s", re, s)
	}
	return m[1]
}

// TestStorySchedule: the Connect app of the story gets its periodic role
// refresh and reconciliation, and both jobs run to success.
func TestStorySchedule(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	ctx := context.Background()
	periodic, err := e.ts.aws.Periodic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, p := range periodic {
		if p.AppID == e.story.AppID {
			kinds[p.Kind] = true
		}
	}
	if !kinds["aws.refresh_roles"] || !kinds["connect.reconcile"] {
		t.Fatalf("periodic work for the app: %v", kinds)
	}
	before := e.sb.Calls("ListRoles")
	jobs, err := e.ts.scheduler(e.ts.log).Once(ctx)
	if err != nil || len(jobs) < 2 {
		t.Fatalf("schedule: %v %d", err, len(jobs))
	}
	if err := demo.WaitProvisioned(ctx, e.gh, e.story.AppID, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if e.sb.Calls("ListRoles") <= before {
		t.Fatal("the scheduled refresh did not call IAM ListRoles")
	}
	// A second tick right away schedules nothing new: the intervals have not passed.
	again, err := e.ts.scheduler(e.ts.log).Once(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second tick enqueued %d jobs (%v)", len(again), err)
	}
}

// TestStoryTemplateUserName: an assignment without an explicit username
// takes it from the app's username template (the login), which is checked
// as a RoleSessionName and becomes the Connect username.
func TestStoryTemplateUserName(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	u := e.ts.createUser(t, "bea.jones@example.com", "Connect-Passw0rd!")
	r := e.ts.call(t, "POST", "/api/v1/apps/"+e.story.AppID+"/users", e.ts.token,
		`{"id":"`+u.ID+`","scope":"USER","profile":{"role":"Okta_Role","samlRoles":["Okta_Role"]}}`)
	if r.status != 200 || r.body["credentials"].(map[string]any)["userName"] != "bea.jones@example.com" {
		t.Fatalf("assign without userName: %d %s", r.status, r.raw)
	}
	if err := demo.WaitProvisioned(context.Background(), e.gh, e.story.AppID, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if e.connectUser("bea.jones@example.com") == nil {
		t.Fatal("Connect user not created with the template username")
	}
}

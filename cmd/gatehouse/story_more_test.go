package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/demo"
)

// The remaining proofs of the Amazon Connect story (issue 4): what happens
// after the story (profile change, unassignment, deactivation), a heavily
// throttling Connect, bad input at every AWS-facing field, and the AWS
// SAML response itself.

// agentPassword is the password of every agent the tests create.
const agentPassword = "Connect-Passw0rd!"

// api calls Gatehouse's API as the super administrator.
func (e *storyEnv) api(t testing.TB, method, path, body string) apiResult {
	t.Helper()
	return e.ts.call(t, method, path, e.ts.token, body)
}

// newAgent creates an active person with a password and returns their id.
func (e *storyEnv) newAgent(t testing.TB, login, first, last string) string {
	t.Helper()
	r := e.api(t, "POST", "/api/v1/users?activate=true", fmt.Sprintf(
		`{"profile":{"login":%q,"email":%q,"firstName":%q,"lastName":%q},"credentials":{"password":{"value":%q}}}`,
		login, login, first, last, agentPassword))
	if r.status != 200 {
		t.Fatalf("create %s: %d %s", login, r.status, r.raw)
	}
	return r.body["id"].(string)
}

// assignAgent assigns a person to the Connect app with the story's role.
func (e *storyEnv) assignAgent(t testing.TB, userID, userName string) {
	t.Helper()
	r := e.api(t, "POST", "/api/v1/apps/"+e.story.AppID+"/users", fmt.Sprintf(
		`{"id":%q,"scope":"USER","credentials":{"userName":%q},"profile":{"role":%q,"samlRoles":[%q]}}`,
		userID, userName, demo.RoleName, demo.RoleName))
	if r.status != 200 {
		t.Fatalf("assign %s: %d %s", userName, r.status, r.raw)
	}
}

func (e *storyEnv) waitProvisioned(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := demo.WaitProvisioned(context.Background(), e.gh, e.story.AppID, timeout); err != nil {
		t.Fatal(err)
	}
}

// jobCounts returns the app's job counts by state.
func (e *storyEnv) jobCounts(t testing.TB) map[string]int {
	t.Helper()
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	if err := e.gh.Do(context.Background(), "GET", "/api/v1/apps/"+e.story.AppID+"/provisioning/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	return st.Counts
}

// TestConnectStoryAfterwards: after the story, a profile change reaches the
// Connect user through UpdateUserIdentityInfo, and an unassignment or a
// deactivation removes the Connect user.
func TestConnectStoryAfterwards(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
	const agent = "agent.smith@example.com"

	t.Run("profile change", func(t *testing.T) {
		before := e.sb.Calls("UpdateUserIdentityInfo")
		if r := e.api(t, "POST", "/api/v1/users/"+e.story.AgentID, `{"profile":{"lastName":"Smythe"}}`); r.status != 200 {
			t.Fatalf("profile update: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if after := e.sb.Calls("UpdateUserIdentityInfo"); after <= before {
			t.Fatalf("UpdateUserIdentityInfo calls %d → %d: the change was not pushed", before, after)
		}
		cu := e.connectUser(agent)
		if cu == nil || cu.LastName != "Smythe" || cu.FirstName != "Agatha" {
			t.Fatalf("Connect user after the profile change: %+v", cu)
		}
	})

	t.Run("unassignment", func(t *testing.T) {
		if r := e.api(t, "DELETE", "/api/v1/apps/"+e.story.AppID+"/users/"+e.story.AgentID, ""); r.status != 204 && r.status != 200 {
			t.Fatalf("unassign: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(agent); cu != nil {
			t.Fatalf("Connect user still exists after the unassignment: %+v", cu)
		}
	})

	t.Run("deactivation", func(t *testing.T) {
		const login = "agent.jones@example.com"
		id := e.newAgent(t, login, "Jo", "Jones")
		e.assignAgent(t, id, login)
		e.waitProvisioned(t, 20*time.Second)
		if e.connectUser(login) == nil {
			t.Fatal("the second agent was not provisioned")
		}
		if r := e.api(t, "POST", "/api/v1/users/"+id+"/lifecycle/deactivate", ""); r.status != 200 {
			t.Fatalf("deactivate: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu != nil {
			t.Fatalf("Connect user still exists after the deactivation: %+v", cu)
		}
	})
	if n := len(e.sb.ConnectUsers("")); n != 0 {
		t.Fatalf("%d Connect users left", n)
	}
	if c := e.jobCounts(t); c["failed"] != 0 {
		t.Fatalf("failed jobs: %v", c)
	}
}

// TestConnectHeavyThrottling: a Connect instance that allows one request a
// second (Gatehouse assumes the documented two) still gets every agent
// exactly once, and no job fails.
func TestConnectHeavyThrottling(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 1, ConnectBurst: 1})
	const n = 30
	for i := range n {
		login := fmt.Sprintf("agent%02d@example.com", i)
		e.assignAgent(t, e.newAgent(t, login, "Agent", fmt.Sprintf("N%02d", i)), login)
	}
	start := time.Now()
	e.waitProvisioned(t, 150*time.Second)
	users := e.sb.ConnectUsers("")
	seen := map[string]int{}
	for _, u := range users {
		seen[u.Username]++
	}
	for name, c := range seen {
		if c > 1 {
			t.Errorf("%s exists %d times in Connect", name, c)
		}
	}
	if len(users) != n+1 { // the story's agent and the 30
		t.Fatalf("%d Connect users, want %d", len(users), n+1)
	}
	for i := range n {
		if seen[fmt.Sprintf("agent%02d@example.com", i)] != 1 {
			t.Fatalf("agent%02d missing", i)
		}
	}
	counts := e.jobCounts(t)
	if counts["failed"] != 0 || counts["succeeded"] < n+1 {
		t.Fatalf("job counts: %v", counts)
	}
	if e.sb.Throttled() == 0 {
		t.Fatal("the sandbox never throttled: the test proves nothing")
	}
	if c := e.sb.Calls("CreateUser"); c < n+1 {
		t.Fatalf("only %d CreateUser calls", c)
	}
	t.Logf("%d agents in %s; %d Connect calls, %d throttled; jobs %v", n, time.Since(start).Round(time.Second),
		connectCalls(e.sb), e.sb.Throttled(), counts)
}

// connectOps are the Connect operations the integration uses.
var connectOps = []string{"ListUsers", "DescribeUser", "CreateUser", "DeleteUser", "UpdateUserIdentityInfo", "UpdateUserPhoneConfig",
	"UpdateUserSecurityProfiles", "UpdateUserRoutingProfile", "UpdateUserHierarchy", "ListSecurityProfiles", "ListRoutingProfiles", "SearchUsers"}

// connectCalls counts the Connect API requests the sandbox received,
// throttled ones included.
func connectCalls(sb *awssandbox.Sandbox) int {
	n := 0
	for _, op := range connectOps {
		n += sb.Calls(op)
	}
	return n
}

// TestConnectBadInput: every AWS-facing input an administrator can get
// wrong is refused in Okta's error shape, naming the field, without a
// request to AWS and without changing anything.
func TestConnectBadInput(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
	appPath := "/api/v1/apps/" + e.story.AppID
	appJSON := func() map[string]any {
		r := e.api(t, "GET", appPath, "")
		if r.status != 200 {
			t.Fatalf("get app: %d %s", r.status, r.raw)
		}
		return r.body
	}
	settingsOf := func(app map[string]any) string {
		b, _ := jsonMarshal(app["settings"])
		return string(b)
	}
	withSetting := func(changes map[string]any) string {
		app := appJSON()
		sa := app["settings"].(map[string]any)["app"].(map[string]any)
		for k, v := range changes {
			sa[k] = v
		}
		b, _ := jsonMarshal(app)
		return string(b)
	}
	assigned := func() int {
		r := e.api(t, "GET", appPath+"/users?limit=200", "")
		var list []any
		if err := json.Unmarshal([]byte(r.raw), &list); err != nil {
			t.Fatalf("app users: %d %s", r.status, r.raw)
		}
		return len(list)
	}
	bystander := e.newAgent(t, "bystander@example.com", "By", "Stander")
	e.waitProvisioned(t, 10*time.Second)

	cases := []struct {
		name, method, path string
		body               func() string
		cause              string // text of the one errorCause
		awsCalls           map[string]int
	}{
		{"wrong secret key", "POST", appPath + "/credentials/test", func() string {
			return fmt.Sprintf(`{"accessKey":%q,"secretKey":%q}`, e.info.AccessKeyID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEYXX")
		}, "SignatureDoesNotMatch", map[string]int{"GetCallerIdentity": 1}},
		{"provider ARN of the wrong format", "PUT", appPath, func() string {
			return withSetting(map[string]any{"identityProviderArn": "arn:aws:iam::12345:role/Okta"})
		}, "is not an IAM SAML provider ARN", nil},
		{"provider ARN of the wrong partition", "PUT", appPath, func() string {
			return withSetting(map[string]any{"awsEnvironmentType": "aws.amazon.cn", "region": "cn-north-1"})
		}, "is in partition aws, but the AWS Environment aws.amazon.cn uses aws-cn", nil},
		{"session duration 899", "PUT", appPath, func() string { return withSetting(map[string]any{"sessionDuration": 899}) }, "Session Duration must be a whole number of seconds from 900 (15 minutes) to 43200 (12 hours); got 899", nil},
		{"session duration 43201", "PUT", appPath, func() string { return withSetting(map[string]any{"sessionDuration": 43201}) }, "got 43201", nil},
		{"instance ID not a UUID", "PUT", appPath, func() string { return withSetting(map[string]any{"instanceId": "my-instance"}) }, `"my-instance\" is not an Amazon Connect instance ID`, nil},
		{"unknown region", "PUT", appPath, func() string { return withSetting(map[string]any{"region": "moon-1"}) }, `"moon-1\" is not an AWS region code`, nil},
		{"app username with a space", "POST", appPath + "/users", func() string {
			return fmt.Sprintf(`{"id":%q,"scope":"USER","credentials":{"userName":"a b"},"profile":{"role":%q}}`, bystander, demo.RoleName)
		}, `The app username \"a b\" cannot be used with AWS`, nil},
		{"app username too short", "POST", appPath + "/users", func() string {
			return fmt.Sprintf(`{"id":%q,"scope":"USER","credentials":{"userName":"x"},"profile":{"role":%q}}`, bystander, demo.RoleName)
		}, `The app username \"x\" cannot be used with AWS`, nil},
		{"role that was not imported", "POST", appPath + "/users", func() string {
			return fmt.Sprintf(`{"id":%q,"scope":"USER","credentials":{"userName":"by.stander"},"profile":{"role":"Admin"}}`, bystander)
		}, "role", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, settingsBefore, assignedBefore := e.sb.CallCounts(), settingsOf(appJSON()), assigned()
			r := e.api(t, c.method, c.path, c.body())
			if r.status != 400 || r.body["errorCode"] != "E0000001" {
				t.Fatalf("status %d, errorCode %v, want 400 E0000001: %s", r.status, r.body["errorCode"], r.raw)
			}
			for _, k := range []string{"errorSummary", "errorLink", "errorId"} {
				if s, _ := r.body[k].(string); s == "" {
					t.Fatalf("missing %s in %s", k, r.raw)
				}
			}
			if strings.Contains(c.name, "app username") && r.body["errorSummary"] != "Api validation failed: credentials.userName" {
				t.Fatalf("errorSummary %v does not name credentials.userName", r.body["errorSummary"])
			}
			causes, _ := r.body["errorCauses"].([]any)
			cb, _ := jsonMarshal(causes)
			if len(causes) != 1 || !strings.Contains(string(cb), c.cause) {
				t.Fatalf("errorCauses %s do not name %q (summary %v)", cb, c.cause, r.body["errorSummary"])
			}
			time.Sleep(100 * time.Millisecond) // a job enqueued by mistake would have started
			after := e.sb.CallCounts()
			for op, n := range after {
				if d := n - before[op]; d != c.awsCalls[op] {
					t.Errorf("%s: %d request(s) sent to AWS, want %d", op, d, c.awsCalls[op])
				}
			}
			if s := settingsOf(appJSON()); s != settingsBefore {
				t.Errorf("settings changed:\n%s\n%s", settingsBefore, s)
			}
			if n := assigned(); n != assignedBefore {
				t.Errorf("assignments changed from %d to %d", assignedBefore, n)
			}
		})
	}
	// The stored credentials still work after the failed test of others.
	if r := e.api(t, "POST", appPath+"/credentials/test", ""); r.status != 200 {
		t.Fatalf("stored credentials: %d %s", r.status, r.raw)
	}

	t.Run("no role", func(t *testing.T) {
		const login = "norole@example.com"
		id := e.newAgent(t, login, "No", "Role")
		if r := e.api(t, "POST", appPath+"/users", fmt.Sprintf(`{"id":%q,"scope":"USER","credentials":{"userName":%q}}`, id, login)); r.status != 200 {
			t.Fatalf("assign without a role: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 10*time.Second)
		before := e.sb.CallCounts()
		b := newBrowser(t, e.ts.srv.URL)
		b.signIn(login, agentPassword, "/app/UserHome")
		_, home := b.get("/app/UserHome")
		link := regexpFind(t, `href="(/home/amazon_connect/[^"]+)"`, home)
		resp, page := b.get(link)
		if resp.StatusCode != 403 || !strings.Contains(page, "No AWS role") || strings.Contains(page, "SAMLResponse") {
			t.Fatalf("tile without a role: %d %.600s", resp.StatusCode, page)
		}
		if after := e.sb.CallCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("AWS was called: %v → %v", before, after)
		}
	})
}

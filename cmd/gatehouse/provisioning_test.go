package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// putProvisioning changes some provisioning settings of the story's app
// through the API and returns the answer.
func (e *storyEnv) putProvisioning(t *testing.T, change map[string]any) apiResult {
	t.Helper()
	cur := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID+"/provisioning", "")
	for k, v := range change {
		cur.body[k] = v
	}
	b, _ := json.Marshal(cur.body)
	return e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID+"/provisioning", string(b))
}

func (e *storyEnv) profileName(id string) string {
	for name, pid := range e.info.SecurityProfileIDs {
		if pid == id {
			return name
		}
	}
	return id
}

func (e *storyEnv) profileNames(cu *awssandbox.ConnectUser) string {
	var out []string
	for _, id := range cu.SecurityProfileIDs {
		out = append(out, e.profileName(id))
	}
	return strings.Join(out, ",")
}

// TestConnectAttributeMappings: a mapping set to Create only (DONT_PUSH)
// reaches the Connect user when Gatehouse creates it and never afterwards,
// while the others follow profile changes; the console's preview shows
// what would be sent, expression errors included.
func TestConnectAttributeMappings(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
	ctx := context.Background()
	if r := e.api(t, "POST", "/api/v1/mappings/prm"+strings.TrimPrefix(e.story.AppID, "0oa"), `{"properties":{
		"Email":{"expression":"user.email","pushStatus":"DONT_PUSH"},
		"LastName":{"expression":"String.toUpperCase(user.lastName)","pushStatus":"PUSH"}}}`); r.status != 200 {
		t.Fatalf("update mappings: %d %s", r.status, r.raw)
	}
	const login = "lee.chan@example.com"
	id := e.newAgent(t, login, "Lee", "Chan")
	e.assignAgent(t, id, login)
	e.waitProvisioned(t, 20*time.Second)
	cu := e.connectUser(login)
	if cu == nil || cu.Email != login || cu.LastName != "CHAN" || cu.FirstName != "Lee" {
		t.Fatalf("created Connect user: %+v", cu)
	}
	if r := e.api(t, "POST", "/api/v1/users/"+id, `{"profile":{"email":"lee.chan@example.org","lastName":"Chan-Park"}}`); r.status != 200 {
		t.Fatalf("profile change: %d %s", r.status, r.raw)
	}
	e.waitProvisioned(t, 20*time.Second)
	cu = e.connectUser(login)
	if cu == nil || cu.LastName != "CHAN-PARK" || cu.Email != login {
		t.Fatalf("after the profile change (Email is create only): %+v", cu)
	}

	// The preview in the console, for the agent, with the saved mappings.
	b, _ := e.ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	page := b.page("/admin/apps/"+e.story.AppID+"/provisioning/to-app?preview="+url.QueryEscape(login), 200)
	for _, want := range []string{"Preview for Lee Chan-Park", "<code>CHAN-PARK</code>", "<code>lee.chan@example.org</code>", "Gatehouse would send this user to the application.", "<code>SOFT_PHONE</code>", "Agent", "Basic Routing Profile"} {
		if !strings.Contains(page, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	checkLabels(t, "to-app", page)
	// Unsaved edits preview with their errors beside the rows: a syntax
	// error refuses (position shown), a runtime error shows in the preview.
	form := url.Values{"action": {"preview"}, "person": {login}, "mappings.FirstName": {"user.firstName"}, "mappings.LastName": {"Convert.toInt(user.lastName)"},
		"mappings.Email": {"user.email +"}, "apply.Email": {"DONT_PUSH"}}
	edit := b.page("/admin/apps/"+e.story.AppID+"/provisioning/to-app?mappings=edit", 200)
	code, _, body := b.submit(edit, "/admin/apps/"+e.story.AppID+"/provisioning/mappings", form)
	if code != 400 || !strings.Contains(fieldError(t, body, "mappings.Email"), "expression ends too early at 1:13") {
		t.Fatalf("preview with a syntax error: %d %s", code, fieldError(t, body, "mappings.Email"))
	}
	form.Set("mappings.Email", "user.email")
	code, _, body = b.submit(edit, "/admin/apps/"+e.story.AppID+"/provisioning/mappings", form)
	if code != 200 || !strings.Contains(body, `Convert.toInt: &#34;Chan-Park&#34; is not a whole number`) || !strings.Contains(body, "Amazon Connect would refuse this user") {
		t.Fatalf("preview with a runtime error: %d %.3000s", code, body)
	}
	// Saving a mapping that does not compile is refused beside its row and
	// changes nothing.
	form.Set("action", "save")
	form.Set("mappings.LastName", "String.toUpperCase(user.lastName")
	code, _, body = b.submit(edit, "/admin/apps/"+e.story.AppID+"/provisioning/mappings", form)
	if code != 400 || !strings.Contains(fieldError(t, body, "mappings.LastName"), "( is not closed at 1:19") {
		t.Fatalf("save of a bad mapping: %d", code)
	}
	p, err := e.ts.aws.Provisioning(ctx, e.story.AppID)
	if err != nil || p.Mappings["LastName"] != "String.toUpperCase(user.lastName)" {
		t.Fatalf("a refused save changed the mappings: %v %+v", err, p.Mappings)
	}
	// A good save, with Mobile mapped as create only.
	form.Set("mappings.LastName", "user.lastName")
	form.Set("mappings.Mobile", "user.mobilePhone")
	form.Set("apply.Mobile", "DONT_PUSH")
	code, loc, _ := b.submit(edit, "/admin/apps/"+e.story.AppID+"/provisioning/mappings", form)
	if code != 303 || !strings.Contains(loc, "ok=mappings") {
		t.Fatalf("save mappings: %d %s", code, loc)
	}
	p, _ = e.ts.aws.Provisioning(ctx, e.story.AppID)
	if p.Mappings["LastName"] != "user.lastName" || p.Mappings["Mobile"] != "user.mobilePhone" || strings.Join(p.DontPush, ",") != "Email,Mobile" {
		t.Fatalf("saved mappings: %+v %v", p.Mappings, p.DontPush)
	}
	// Previewing someone who is not assigned says nothing would be sent.
	e.newAgent(t, "not.assigned@example.com", "Nat", "Signed")
	page = b.page("/admin/apps/"+e.story.AppID+"/provisioning/to-app?preview=not.assigned@example.com", 200)
	if !strings.Contains(page, "is not assigned to Amazon Connect") {
		t.Fatalf("preview of an unassigned person: %.2000s", page)
	}
	// An unknown person is refused beside the person field.
	page = b.page("/admin/apps/"+e.story.AppID+"/provisioning/to-app", 200)
	_, body = b.get("/admin/apps/" + e.story.AppID + "/provisioning/to-app?preview=nobody@example.com")
	if msg := fieldError(t, body, "person"); !strings.Contains(msg, "No person has the username") {
		t.Fatalf("unknown person: %q", msg)
	}
}

// TestConnectDeprovisioningStrip: with "only strip security profiles", an
// unassigned person keeps their Connect user with just the fallback
// profile; the strip is idempotent; assigning them again gives their
// profiles back even without Update User Attributes; and a fallback the
// instance lacks is refused on save. On SQLite and PostgreSQL.
func TestConnectDeprovisioningStrip(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		testConnectDeprovisioningStrip(t, newStoryOn(t, pg, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100}))
	})
}

func testConnectDeprovisioningStrip(t *testing.T, e *storyEnv) {
	ctx := context.Background()
	const agent = "agent.smith@example.com"
	before := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID+"/provisioning", "").raw
	for _, c := range []struct {
		change map[string]any
		field  string
	}{
		{map[string]any{"deprovision": "STRIP_SECURITY_PROFILES", "fallbackSecurityProfile": "Retired"}, "fallbackSecurityProfile"},
		{map[string]any{"deprovision": "STRIP_SECURITY_PROFILES", "fallbackSecurityProfile": ""}, "fallbackSecurityProfile"},
		{map[string]any{"deprovision": "ARCHIVE"}, "deprovision"},
		{map[string]any{"securityProfiles": []string{"Agent", "Supervisor"}}, "securityProfiles"},
		{map[string]any{"routingProfile": "Night Shift"}, "routingProfile"},
	} {
		r := e.putProvisioning(t, c.change)
		if r.status != 400 || !strings.Contains(r.raw, c.field+": ") {
			t.Errorf("%v: %d %s", c.change, r.status, r.raw)
		}
	}
	if after := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID+"/provisioning", "").raw; after != before {
		t.Fatalf("refused settings changed something:\n%s\n%s", before, after)
	}
	if r := e.putProvisioning(t, map[string]any{"deprovision": "STRIP_SECURITY_PROFILES", "fallbackSecurityProfile": "QualityAnalyst", "updateUsers": false}); r.status != 200 {
		t.Fatalf("strip setting: %d %s", r.status, r.raw)
	}
	deletes := e.sb.Calls("DeleteUser")
	if r := e.api(t, "DELETE", "/api/v1/apps/"+e.story.AppID+"/users/"+e.story.AgentID, ""); r.status != 204 && r.status != 200 {
		t.Fatalf("unassign: %d %s", r.status, r.raw)
	}
	e.waitProvisioned(t, 20*time.Second)
	cu := e.connectUser(agent)
	if cu == nil || e.profileNames(cu) != "QualityAnalyst" || e.sb.Calls("DeleteUser") != deletes {
		t.Fatalf("after unassignment with strip: %+v (DeleteUser %d → %d)", cu, deletes, e.sb.Calls("DeleteUser"))
	}
	// The same job again, as after a crash before its outcome was saved:
	// no second update.
	updates := e.sb.Calls("UpdateUserSecurityProfiles")
	job := &provisioning.Job{Kind: awsapp.KindConnectSync, AppID: e.story.AppID, UserID: e.story.AgentID, Payload: json.RawMessage(`{"userName":"` + agent + `"}`)}
	res, err := e.ts.aws.HandleSync(ctx, job)
	if err != nil || res.(awsapp.SyncResult).Action != "stripped" || e.sb.Calls("UpdateUserSecurityProfiles") != updates {
		t.Fatalf("strip again: %+v %v (updates %d → %d)", res, err, updates, e.sb.Calls("UpdateUserSecurityProfiles"))
	}
	// Deactivating a person strips too.
	const second = "agent.kim@example.com"
	id := e.newAgent(t, second, "Kim", "Lo")
	e.assignAgent(t, id, second)
	e.waitProvisioned(t, 20*time.Second)
	if r := e.api(t, "POST", "/api/v1/users/"+id+"/lifecycle/deactivate", ""); r.status != 200 {
		t.Fatalf("deactivate: %d %s", r.status, r.raw)
	}
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(second); cu == nil || e.profileNames(cu) != "QualityAnalyst" {
		t.Fatalf("after deactivation with strip: %+v", cu)
	}
	// Assigned again: the stripped profiles come back, although Update
	// User Attributes is off.
	e.assignAgent(t, e.story.AgentID, agent)
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(agent); cu == nil || e.profileNames(cu) != "Agent" {
		t.Fatalf("after assigning again: %+v", cu)
	}
	// Back to deleting: an unassignment removes the user.
	if r := e.putProvisioning(t, map[string]any{"deprovision": "DELETE"}); r.status != 200 {
		t.Fatalf("delete setting: %d %s", r.status, r.raw)
	}
	if r := e.api(t, "DELETE", "/api/v1/apps/"+e.story.AppID+"/users/"+e.story.AgentID, ""); r.status != 204 && r.status != 200 {
		t.Fatalf("unassign: %d %s", r.status, r.raw)
	}
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(agent); cu != nil {
		t.Fatalf("Connect user kept with DELETE: %+v", cu)
	}
}

// TestConnectProfileChoices: an assignment's Connect profiles must exist
// in the instance (an unknown one is refused beside its field, nothing
// sent); a group assignment's profiles apply to its members whose own
// assignment names none (group rules); the console offers the instance's
// profiles as choices.
func TestConnectProfileChoices(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
	const login = "pat.lee@example.com"
	id := e.newAgent(t, login, "Pat", "Lee")
	calls := e.sb.Calls("CreateUser")
	for _, c := range []struct{ profile, field string }{
		{`{"role":"Okta_Role","connectSecurityProfiles":["Supervisor"]}`, "connectSecurityProfiles"},
		{`{"role":"Okta_Role","connectRoutingProfile":"Night Shift"}`, "connectRoutingProfile"},
		{`{"role":"Okta_Role","connectRoutingProfile":["Basic Routing Profile"]}`, "connectRoutingProfile"},
	} {
		r := e.api(t, "POST", "/api/v1/apps/"+e.story.AppID+"/users", fmt.Sprintf(`{"id":%q,"scope":"USER","credentials":{"userName":%q},"profile":%s}`, id, login, c.profile))
		if r.status != 400 || !strings.Contains(r.raw, c.field) {
			t.Errorf("%s: %d %s", c.profile, r.status, r.raw)
		}
	}
	if r := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID+"/users/"+id, ""); r.status != 404 {
		t.Fatalf("a refused assignment was stored: %d %s", r.status, r.raw)
	}
	if e.sb.Calls("CreateUser") != calls {
		t.Fatal("a refused assignment reached Connect")
	}
	// Group rule: members get the group's security profiles.
	g := e.api(t, "POST", "/api/v1/groups", `{"profile":{"name":"Supervisors"}}`)
	gid := g.body["id"].(string)
	if r := e.api(t, "PUT", "/api/v1/groups/"+gid+"/users/"+id, ""); r.status != 204 && r.status != 200 {
		t.Fatalf("add member: %d", r.status)
	}
	if r := e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID+"/groups/"+gid, `{"profile":{"role":"Okta_Role","connectSecurityProfiles":["CallCenterManager","Agent"]}}`); r.status != 200 {
		t.Fatalf("group assignment: %d %s", r.status, r.raw)
	}
	e.assignAgent(t, id, login) // own assignment without Connect profiles
	e.waitProvisioned(t, 20*time.Second)
	cu := e.connectUser(login)
	if cu == nil || e.profileNames(cu) != "CallCenterManager,Agent" && e.profileNames(cu) != "Agent,CallCenterManager" {
		t.Fatalf("group rule not applied: %+v", cu)
	}
	// The person's own choice wins over the group's.
	if r := e.api(t, "POST", "/api/v1/apps/"+e.story.AppID+"/users/"+id, `{"profile":{"role":"Okta_Role","connectSecurityProfiles":["Admin"]}}`); r.status != 200 {
		t.Fatalf("update assignment: %d %s", r.status, r.raw)
	}
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(login); cu == nil || e.profileNames(cu) != "Admin" {
		t.Fatalf("own profiles not applied: %+v", cu)
	}

	// The console's assignment form offers the instance's profiles.
	b, _ := e.ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	page := b.page("/admin/apps/"+e.story.AppID+"/assign/people/"+id, 200)
	sel := regexp.MustCompile(`(?s)<select id="f-connectSecurityProfiles" name="connectSecurityProfiles" multiple.*?</select>`).FindString(page)
	for _, want := range []string{`<option value="Admin" selected>Admin</option>`, `<option value="QualityAnalyst">QualityAnalyst</option>`} {
		if !strings.Contains(sel, want) {
			t.Errorf("security profile picker lacks %s: %s", want, sel)
		}
	}
	if !strings.Contains(page, `<option value="Basic Routing Profile">Basic Routing Profile</option>`) {
		t.Error("routing profile picker lacks the instance's profile")
	}
	checkLabels(t, "assign form", page)
	// Choosing an unknown value (a forged form) is refused beside the field.
	code, _, body := b.submit(page, "/admin/apps/"+e.story.AppID+"/assign/people/"+id, url.Values{"userName": {login}, "role": {"Okta_Role"},
		"connectSecurityProfiles": {"Supervisor"}, "connectRoutingProfile": {""}})
	if code != 400 || !strings.Contains(fieldError(t, body, "connectSecurityProfiles"), `no profile named "Supervisor"`) {
		t.Fatalf("unknown profile in the form: %d", code)
	}
	code, _, _ = b.submit(page, "/admin/apps/"+e.story.AppID+"/assign/people/"+id, url.Values{"userName": {login}, "role": {"Okta_Role"},
		"connectSecurityProfiles": {"QualityAnalyst", "Agent"}, "connectRoutingProfile": {"Basic Routing Profile"}})
	if code != 303 {
		t.Fatalf("assignment with chosen profiles: %d", code)
	}
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(login); cu == nil || e.profileNames(cu) != "QualityAnalyst,Agent" && e.profileNames(cu) != "Agent,QualityAnalyst" {
		t.Fatalf("profiles chosen in the console: %+v", cu)
	}
	// The defaults form offers them too.
	page = b.page("/admin/apps/"+e.story.AppID+"/provisioning/to-app?defaults=edit", 200)
	if !strings.Contains(page, `<option value="CallCenterManager">CallCenterManager</option>`) || !strings.Contains(page, "Fallback security profile") {
		t.Fatalf("defaults form: %.3000s", page)
	}
	checkLabels(t, "defaults", page)
	code, _, body = b.submit(page, "/admin/apps/"+e.story.AppID+"/provisioning/defaults", url.Values{"securityProfiles": {"Agent"},
		"routingProfile": {"Basic Routing Profile"}, "phoneType": {"SOFT_PHONE"}, "deprovision": {"strip"}, "fallbackSecurityProfile": {""}})
	if code != 400 || !strings.Contains(fieldError(t, body, "fallbackSecurityProfile"), "Choose the security profile") {
		t.Fatalf("strip without a fallback: %d", code)
	}
	code, _, _ = b.submit(page, "/admin/apps/"+e.story.AppID+"/provisioning/defaults", url.Values{"securityProfiles": {"Agent"},
		"routingProfile": {"Basic Routing Profile"}, "phoneType": {"SOFT_PHONE"}, "deprovision": {"strip"}, "fallbackSecurityProfile": {"QualityAnalyst"}})
	if p, _ := e.ts.aws.Provisioning(context.Background(), e.story.AppID); code != 303 || p.Deprovision != awsapp.DeprovisionStrip || p.FallbackSecurityProfile != "QualityAnalyst" {
		t.Fatalf("save defaults: %d %+v", code, p)
	}
}

// TestConnectTaskStatusAndRetry: a job that AWS refuses (the stored secret
// key is wrong) fails with AWS's own message, shown on the status page
// and through the API; after the key is fixed, "Retry" runs it again and
// it succeeds. "Push Now" shows its differences before it changes
// anything, and never touches Connect users Gatehouse does not know.
func TestConnectTaskStatusAndRetry(t *testing.T) {
	t.Parallel()
	e := newStory(t, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
	ctx := context.Background()
	app := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID, "")
	settings := app.body["settings"].(map[string]any)["app"].(map[string]any)
	settings["secretKey"] = "wrong" + e.info.SecretAccessKey[5:]
	settings["accessKey"] = e.info.AccessKeyID
	body, _ := json.Marshal(app.body)
	if r := e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID, string(body)); r.status != 200 {
		t.Fatalf("store a wrong secret: %d %s", r.status, r.raw)
	}
	const login = "sam.wu@example.com"
	id := e.newAgent(t, login, "Sam", "Wu")
	e.assignAgent(t, id, login)
	if err := demo.WaitProvisioned(ctx, e.gh, e.story.AppID, 20*time.Second); err == nil || !strings.Contains(err.Error(), "signature we calculated does not match") {
		t.Fatalf("expected a failed job with AWS's message: %v", err)
	}
	st := e.api(t, "GET", "/api/v1/apps/"+e.story.AppID+"/provisioning/status", "")
	if st.body["counts"].(map[string]any)["failed"].(float64) != 1 || !strings.Contains(st.raw, "InvalidSignatureException") {
		t.Fatalf("status: %s", st.raw)
	}
	b, _ := e.ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	page := b.page("/admin/apps/"+e.story.AppID+"/provisioning/status?state=failed", 200)
	if !strings.Contains(page, "Sam Wu") || !strings.Contains(page, "InvalidSignatureException") || !strings.Contains(page, ">Retry</button>") {
		t.Fatalf("status page: %.3000s", page)
	}
	checkLabels(t, "status", page)
	// Bad filter: refused beside it.
	if _, body := b.get("/admin/apps/" + e.story.AppID + "/provisioning/status?state=lost"); !strings.Contains(body, "name=\"state\"") || !strings.Contains(fieldError(t, body, "state"), "unknown job state") {
		t.Log(body)
		t.Fatal("bad state filter not refused beside its field")
	}
	// Fix the key, then retry the one task.
	settings["secretKey"] = e.info.SecretAccessKey
	body, _ = json.Marshal(app.body)
	if r := e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID, string(body)); r.status != 200 {
		t.Fatalf("store the right secret: %d %s", r.status, r.raw)
	}
	jobID := regexp.MustCompile(`/provisioning/tasks/([^/]+)/retry`).FindStringSubmatch(page)
	if jobID == nil {
		t.Fatal("no retry form")
	}
	code, loc, _ := b.submit(page, "/admin/apps/"+e.story.AppID+"/provisioning/tasks/"+jobID[1]+"/retry", nil)
	if code != 303 || !strings.Contains(loc, "ok=retried1") {
		t.Fatalf("retry: %d %s", code, loc)
	}
	e.waitProvisioned(t, 20*time.Second)
	if cu := e.connectUser(login); cu == nil {
		t.Fatal("retried task did not create the Connect user")
	}
	// Retrying it again is refused: it succeeded.
	if code, _, _ := b.submit(page, "/admin/apps/"+e.story.AppID+"/provisioning/tasks/"+jobID[1]+"/retry", nil); code != 400 {
		t.Fatalf("retry of a succeeded task: %d", code)
	}

	// Push Now: a Connect user unknown to Gatehouse and an agent whose
	// Connect user was removed behind Gatehouse's back.
	conn := connect.New(connect.Options{Region: e.info.Region, BaseEndpoint: awssdk.String(e.sbSrv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(e.info.AccessKeyID, e.info.SecretAccessKey, "")})
	if _, err := conn.CreateUser(ctx, &connect.CreateUserInput{InstanceId: awssdk.String(e.info.ConnectInstanceID), Username: awssdk.String("stranger@example.com"),
		IdentityInfo: &ctypes.UserIdentityInfo{FirstName: awssdk.String("Str"), LastName: awssdk.String("Anger")}, PhoneConfig: &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeSoftPhone},
		SecurityProfileIds: []string{e.info.SecurityProfileIDs["Agent"]}, RoutingProfileId: awssdk.String(e.info.RoutingProfileID)}); err != nil {
		t.Fatal(err)
	}
	cu := e.connectUser(login)
	if _, err := conn.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: awssdk.String(e.info.ConnectInstanceID), UserId: awssdk.String(cu.ID)}); err != nil {
		t.Fatal(err)
	}
	page = b.page("/admin/apps/"+e.story.AppID+"/provisioning/status", 200)
	creates := e.sb.Calls("CreateUser")
	code, _, preview := b.submit(page, "/admin/apps/"+e.story.AppID+"/provisioning/push", url.Values{"action": {"preview"}})
	if code != 200 || !strings.Contains(preview, "stranger@example.com") || !strings.Contains(preview, "in Amazon Connect but not assigned in Gatehouse") ||
		!strings.Contains(preview, login) || !strings.Contains(preview, "missing in Amazon Connect") || !strings.Contains(preview, "Apply Changes") {
		t.Fatalf("push preview: %d %.4000s", code, preview)
	}
	if e.sb.Calls("CreateUser") != creates || e.connectUser(login) != nil {
		t.Fatal("the preview changed Connect")
	}
	code, loc, _ = b.submit(preview, "/admin/apps/"+e.story.AppID+"/provisioning/push", url.Values{"action": {"apply"}})
	if code != 303 || !strings.Contains(loc, "pushed=1") {
		t.Fatalf("apply: %d %s", code, loc)
	}
	e.waitProvisioned(t, 20*time.Second)
	if e.connectUser(login) == nil || e.connectUser("stranger@example.com") == nil {
		t.Fatal("push did not restore the agent, or removed the stranger")
	}
	// The progress endpoint the status page polls.
	_, prog := b.get("/admin/apps/" + e.story.AppID + "/provisioning/progress")
	var counts map[string]int
	if err := json.Unmarshal([]byte(prog), &counts); err != nil || counts["pending"] != 0 || counts["running"] != 0 || counts["succeeded"] < 2 {
		t.Fatalf("progress: %v %s", err, prog)
	}
	// Retry all failed through the API: nothing failed now.
	if r := e.api(t, "POST", "/api/v1/apps/"+e.story.AppID+"/provisioning/retry", ""); r.status != 200 || r.body["retried"].(float64) != 0 {
		t.Fatalf("retry all: %d %s", r.status, r.raw)
	}
}

// TestConnectGroupMembership: with a group assigned to Amazon Connect, a
// person added to the group gets a Connect user at once and loses it when
// removed, whether an administrator or a group rule changes the
// membership (not only at the next hourly reconcile).
func TestConnectGroupMembership(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		e := newStoryOn(t, pg, awssandbox.Options{ConnectRate: 100, ConnectBurst: 100})
		g := e.api(t, "POST", "/api/v1/groups", `{"profile":{"name":"Support Agents"}}`)
		gid := g.body["id"].(string)
		if r := e.api(t, "PUT", "/api/v1/apps/"+e.story.AppID+"/groups/"+gid, fmt.Sprintf(`{"profile":{"role":%q}}`, demo.RoleName)); r.status != 200 {
			t.Fatalf("group assignment: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)

		const login = "agent.lee@example.com"
		id := e.newAgent(t, login, "Lee", "Park")
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu != nil {
			t.Fatalf("a person in no assigned group has a Connect user: %+v", cu)
		}
		if r := e.api(t, "PUT", "/api/v1/groups/"+gid+"/users/"+id, ""); r.status != 204 {
			t.Fatalf("add member: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu == nil {
			t.Fatal("no Connect user after the person joined the assigned group")
		}
		if r := e.api(t, "DELETE", "/api/v1/groups/"+gid+"/users/"+id, ""); r.status != 204 {
			t.Fatalf("remove member: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu != nil {
			t.Fatalf("Connect user kept after the person left the group: %+v", cu)
		}

		// A group rule's membership, from a profile change.
		rule := e.api(t, "POST", "/api/v1/groups/rules", fmt.Sprintf(`{"type":"group_rule","name":"Support department",
			"conditions":{"expression":{"value":"user.department==\"Support\"","type":"urn:okta:expression:1.0"}},
			"actions":{"assignUserToGroups":{"groupIds":[%q]}}}`, gid))
		if rule.status != 200 {
			t.Fatalf("create rule: %d %s", rule.status, rule.raw)
		}
		if r := e.api(t, "POST", "/api/v1/groups/rules/"+rule.body["id"].(string)+"/lifecycle/activate", ""); r.status != 204 {
			t.Fatalf("activate rule: %d %s", r.status, r.raw)
		}
		if r := e.api(t, "POST", "/api/v1/users/"+id, `{"profile":{"department":"Support"}}`); r.status != 200 {
			t.Fatalf("profile update: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu == nil {
			t.Fatal("no Connect user after a group rule added the person to the assigned group")
		}
		if r := e.api(t, "POST", "/api/v1/users/"+id, `{"profile":{"department":"Sales"}}`); r.status != 200 {
			t.Fatalf("profile update: %d %s", r.status, r.raw)
		}
		e.waitProvisioned(t, 20*time.Second)
		if cu := e.connectUser(login); cu != nil {
			t.Fatalf("Connect user kept after the rule took the person out of the group: %+v", cu)
		}
	})
}

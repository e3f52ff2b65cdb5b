package main

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

const connectInstance = "2fb42df9-78a2-2e74-d572-c8af67ed289b"

// adminBrowser creates a person with the given admin role (none for "")
// and signs them in.
func (ts *testServer) adminBrowser(t *testing.T, login, role string) (*browser, *directory.User) {
	t.Helper()
	u := ts.createUser(t, login, "Secret-Passw0rd")
	if role != "" {
		ev := ts.events.New(context.Background(), "user.account.privilege.grant", "Grant user privilege", audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
		if err := ts.db.Tokens().GrantRole(context.Background(), u.ID, role, ts.now(), ev); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, ts.srv.URL)
	if resp, _ := b.signIn(login, "Secret-Passw0rd", "/admin"); resp.StatusCode != 303 {
		t.Fatalf("sign in %s: %d", login, resp.StatusCode)
	}
	return b, u
}

// page gets path and fails unless the answer has status want.
func (b *browser) page(path string, want int) string {
	b.t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != want {
		b.t.Fatalf("GET %s: %d, want %d: %.600s", path, resp.StatusCode, want, body)
	}
	return body
}

// submit posts form to path with the CSRF token of page.
func (b *browser) submit(page, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", formCSRF(b.t, page))
	resp, body := b.post(path, form)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// fieldError returns the message shown beside the input with the given
// name, checking the input points at it.
func fieldError(t *testing.T, page, name string) string {
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
	msg := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(m[1]) + `">([^<]*)</p>`).FindStringSubmatch(page)
	if msg == nil {
		t.Fatalf("error %s of %s not in page", m[1], name)
	}
	return html.UnescapeString(msg[1])
}

var labelForRe = regexp.MustCompile(`<label for="([^"]+)"`)
var inputIDRe = regexp.MustCompile(`<(?:input|select|textarea)([^>]*)>`)

// checkLabels fails when a visible input has no <label for>.
func checkLabels(t *testing.T, path, page string) {
	t.Helper()
	labels := map[string]bool{}
	for _, m := range labelForRe.FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	for _, m := range inputIDRe.FindAllStringSubmatch(page, -1) {
		attrs := m[1]
		if strings.Contains(attrs, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(attrs)
		if id == nil || !labels[id[1]] {
			t.Errorf("%s: input without a label: <%s>", path, strings.TrimSpace(attrs))
		}
	}
}

func TestConsoleAccess(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	// Something to look at.
	app, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateConnect, Label: "Connect",
		SettingsApp: map[string]any{"region": "eu-west-2", "instanceId": connectInstance}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ts.directory.CreateGroup(ctx, "Agents", "")
	if err != nil {
		t.Fatal(err)
	}
	person := ts.createUser(t, "agent@example.com", "Secret-Passw0rd")

	// Not signed in: sign in first.
	anon := newBrowser(t, ts.srv.URL)
	if resp, _ := anon.get("/admin/people"); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A signed-in person without a role: 403 everywhere.
	plain, _ := ts.adminBrowser(t, "plain@example.com", "")
	for _, p := range []string{"/admin", "/admin/people", "/admin/apps/" + app.ID} {
		plain.page(p, 403)
	}
	home := plain.page("/app/UserHome", 200)
	if code, _, _ := plain.submit(home, "/admin/people/new", url.Values{"firstName": {"X"}}); code != 403 {
		t.Fatalf("non-admin POST: %d", code)
	}

	pages := []string{
		"/admin", "/admin/people", "/admin/people?q=agent", "/admin/people/new", "/admin/people/" + person.ID,
		"/admin/people/" + person.ID + "/assign", "/admin/people/" + person.ID + "/assign/" + app.ID,
		"/admin/groups", "/admin/groups/" + g.ID, "/admin/groups/" + g.ID + "/assign", "/admin/groups/" + g.ID + "/assign/" + app.ID,
		"/admin/profile-editor", "/admin/apps", "/admin/apps/catalog", "/admin/apps/new?template=amazon_connect",
		"/admin/apps/" + app.ID, "/admin/apps/" + app.ID + "/signon", "/admin/apps/" + app.ID + "/provisioning",
		"/admin/apps/" + app.ID + "/provisioning/to-app", "/admin/apps/" + app.ID + "/assignments",
		"/admin/apps/" + app.ID + "/assign/people", "/admin/apps/" + app.ID + "/assign/people/" + person.ID,
		"/admin/apps/" + app.ID + "/assign/groups", "/admin/apps/" + app.ID + "/assign/groups/" + g.ID,
		"/admin/reports/system-log", "/admin/security/api-tokens", "/admin/security/administrators?lookup=agent@example.com",
	}
	super, _ := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	for _, p := range pages {
		body := super.page(p, 200)
		checkLabels(t, p, body)
		for _, nav := range []string{">Dashboard<", ">Directory<", ">People<", ">Groups<", ">Profile Editor<", ">Applications<", ">Reports<", ">System Log<", ">Security<", ">API Tokens<", ">Administrators<"} {
			if !strings.Contains(body, nav) {
				t.Fatalf("%s: admin navigation lacks %s", p, nav)
			}
		}
	}
	super.page("/admin/people/00unope", 404)

	// A read-only admin sees every page without forms, and every POST is
	// refused without changing anything.
	ro, _ := ts.adminBrowser(t, "auditor@example.com", oktaapi.RoleReadOnlyAdmin)
	for _, p := range pages {
		body := ro.page(p, 200)
		if strings.Contains(body, `method="post" action="/admin`) {
			t.Fatalf("%s: read-only admin sees a form that changes something", p)
		}
	}
	page := ro.page("/admin/people", 200)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/admin/people/new", url.Values{"firstName": {"Eve"}, "lastName": {"X"}, "login": {"eve@example.com"}, "email": {"eve@example.com"}}},
		{"/admin/people/" + person.ID + "/lifecycle/suspend", nil},
		{"/admin/people/" + person.ID + "/profile", url.Values{"profile.firstName": {"Changed"}}},
		{"/admin/groups", url.Values{"name": {"Intruders"}}},
		{"/admin/groups/" + g.ID + "/delete", nil},
		{"/admin/profile-editor", url.Values{"name": {"badge"}, "title": {"Badge"}, "type": {"string"}}},
		{"/admin/apps/new", url.Values{"template": {"amazon_aws"}, "label": {"Sneaky"}}},
		{"/admin/apps/" + app.ID + "/general", url.Values{"label": {"Renamed"}}},
		{"/admin/apps/" + app.ID + "/lifecycle/deactivate", nil},
		{"/admin/apps/" + app.ID + "/keys/generate", nil},
		{"/admin/people/" + person.ID + "/assign/" + app.ID, url.Values{"userName": {"agent"}}},
		{"/admin/security/api-tokens", url.Values{"name": {"t"}, "role": {"SUPER_ADMIN"}}},
		{"/admin/security/administrators/grant", url.Values{"username": {"auditor@example.com"}, "role": {"SUPER_ADMIN"}}},
	}
	for _, p := range posts {
		code, _, body := ro.submit(page, p.path, p.form)
		if code != 403 || !strings.Contains(body, "READ_ONLY_ADMIN") {
			t.Fatalf("read-only POST %s: %d %.300s", p.path, code, body)
		}
	}
	if u, _ := ts.directory.Store.User(ctx, person.ID); u.Status != directory.Active || u.Profile.String("firstName") != "Pat" {
		t.Fatalf("read-only admin changed a person: %s %v", u.Status, u.Profile)
	}
	if _, err := ts.directory.Store.User(ctx, "eve@example.com"); err == nil {
		t.Fatal("read-only admin created a person")
	}
	if a, _ := ts.catalog.Store.App(ctx, app.ID); a.Label != "Connect" || a.Status != catalog.Active {
		t.Fatalf("read-only admin changed the app: %s %s", a.Label, a.Status)
	}
	if _, keys, _ := ts.catalog.Keys(ctx, app.ID); len(keys) != 1 {
		t.Fatalf("read-only admin generated a key: %d keys", len(keys))
	}
	if roles, _ := ts.db.Tokens().AdminRoles(ctx, person.ID); len(roles) != 0 {
		t.Fatal("roles changed")
	}
	if roles, _ := ts.db.Tokens().AdminRoles(ctx, ts.mustUser(t, "auditor@example.com").ID); len(roles) != 1 || roles[0] != oktaapi.RoleReadOnlyAdmin {
		t.Fatalf("read-only admin escalated: %v", roles)
	}
	if gs, _ := ts.directory.Store.Groups(ctx, directory.GroupQuery{Limit: 10}); len(gs) != 1 {
		t.Fatalf("groups changed: %d", len(gs))
	}

	// An app admin changes applications but not the directory.
	appAdmin, _ := ts.adminBrowser(t, "apps@example.com", oktaapi.RoleAppAdmin)
	page = appAdmin.page("/admin/apps/"+app.ID, 200)
	if code, loc, _ := appAdmin.submit(page, "/admin/apps/"+app.ID+"/general", url.Values{"label": {"Contact Center"}}); code != 303 || !strings.HasSuffix(loc, "ok=saved") {
		t.Fatalf("app admin saving the app: %d %s", code, loc)
	}
	if code, _, _ := appAdmin.submit(page, "/admin/people/"+person.ID+"/lifecycle/suspend", nil); code != 403 {
		t.Fatalf("app admin suspending a person: %d", code)
	}
	if strings.Contains(appAdmin.page("/admin/people/"+person.ID, 200), "/lifecycle/") {
		t.Fatal("app admin sees lifecycle buttons")
	}

	// Every POST checks the CSRF token.
	if resp, _ := super.post("/admin/groups", url.Values{"name": {"NoToken"}}); resp.StatusCode != 403 {
		t.Fatalf("POST without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := super.post("/admin/groups", url.Values{"name": {"NoToken"}, "csrf": {"forged"}}); resp.StatusCode != 403 {
		t.Fatalf("POST with a forged CSRF token: %d", resp.StatusCode)
	}
}

func (ts *testServer) mustUser(t *testing.T, login string) *directory.User {
	t.Helper()
	u, err := ts.directory.Store.User(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestConsolePeople(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	b, _ := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)

	// Add Person: a new person, then the same username again.
	form := b.page("/admin/people/new", 200)
	for _, label := range []string{">First name", ">Last name", ">Username", ">Primary email", ">Password", ">Activate now"} {
		if !strings.Contains(form, label) {
			t.Fatalf("Add Person form lacks %s", label)
		}
	}
	add := url.Values{"firstName": {"Sam"}, "lastName": {"Agent"}, "login": {"sam@example.com"}, "email": {"sam@example.com"}, "password": {"Secret-Passw0rd"}, "activate": {"true"}}
	code, loc, _ := b.submit(form, "/admin/people/new", add)
	if code != 303 || !strings.HasPrefix(loc, "/admin/people/00u") {
		t.Fatalf("add person: %d %s", code, loc)
	}
	sam := ts.mustUser(t, "sam@example.com")
	if sam.Status != directory.Active {
		t.Fatalf("activate checkbox ignored: %s", sam.Status)
	}
	code, _, page := b.submit(form, "/admin/people/new", add)
	if code != 400 {
		t.Fatalf("duplicate username: %d", code)
	}
	if msg := fieldError(t, page, "login"); !strings.Contains(msg, "already exists") {
		t.Fatalf("duplicate username message beside Username: %q", msg)
	}
	if !strings.Contains(page, `value="Sam"`) {
		t.Fatal("the form lost what was typed")
	}
	// Several problems at once, each beside its field.
	code, _, page = b.submit(form, "/admin/people/new", url.Values{"firstName": {"Kim"}, "login": {"not-an-email"}, "email": {"kim@example.com"}})
	if code != 400 || fieldError(t, page, "login") == "" || fieldError(t, page, "lastName") == "" || fieldError(t, page, "firstName") != "" {
		t.Fatalf("field errors: %d login=%q lastName=%q", code, fieldError(t, page, "login"), fieldError(t, page, "lastName"))
	}
	code, _, page = b.submit(form, "/admin/people/new", url.Values{"firstName": {"Kim"}, "lastName": {"Lee"}, "login": {"kim@example.com"}, "email": {"kim@example.com"}, "password": {"short"}})
	if code != 400 || !strings.Contains(fieldError(t, page, "password"), "Password requirements") {
		t.Fatalf("weak password: %d %q", code, fieldError(t, page, "password"))
	}

	// Search and cursor paging over more people than a page holds.
	for i := 0; i < 55; i++ {
		ts.createUser(t, "bulk"+strconv.Itoa(100+i)+"@example.com", "Secret-Passw0rd")
	}
	first := b.page("/admin/people?q=bulk", 200)
	if strings.Count(first, `<tr>`) != 51 || !strings.Contains(first, `rel="next"`) || strings.Contains(first, `rel="prev"`) {
		t.Fatalf("first page: %d rows", strings.Count(first, `<tr>`)-1)
	}
	next := html.UnescapeString(regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first)[1])
	if strings.Contains(next, "offset") || !strings.Contains(next, "after=00u") {
		t.Fatalf("next link is not a cursor: %s", next)
	}
	second := b.page(next, 200)
	if strings.Count(second, `<tr>`) != 6 || strings.Contains(second, `rel="next"`) || !strings.Contains(second, `rel="prev"`) {
		t.Fatalf("second page: %d rows", strings.Count(second, `<tr>`)-1)
	}
	prev := html.UnescapeString(regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(second)[1])
	if back := b.page(prev, 200); strings.Count(back, `<tr>`) != 51 {
		t.Fatal("previous page differs from the first")
	}

	// The person page: lifecycle buttons by status.
	page = b.page("/admin/people/"+sam.ID, 200)
	for _, want := range []string{">Suspend<", ">Reset Password<", ">Deactivate<", ">Assign Applications<"} {
		if !strings.Contains(page, want) {
			t.Fatalf("active person page lacks %s", want)
		}
	}
	if strings.Contains(page, ">Unsuspend<") || strings.Contains(page, ">Delete<") {
		t.Fatal("active person page offers Unsuspend or Delete")
	}
	if code, loc, _ := b.submit(page, "/admin/people/"+sam.ID+"/lifecycle/suspend", nil); code != 303 || !strings.HasSuffix(loc, "ok=suspended") {
		t.Fatalf("suspend: %d %s", code, loc)
	}
	page = b.page("/admin/people/"+sam.ID+"?ok=suspended", 200)
	if !strings.Contains(page, ">Unsuspend<") || strings.Contains(page, ">Suspend<") || !strings.Contains(page, "Suspended.") {
		t.Fatal("suspended person page")
	}
	b.submit(page, "/admin/people/"+sam.ID+"/lifecycle/unsuspend", nil)
	// Profile edit with an error beside the field, then a good one.
	code, _, page = b.submit(page, "/admin/people/"+sam.ID+"/profile", url.Values{"profile.login": {"sam@example.com"}, "profile.firstName": {"Samuel"}, "profile.lastName": {"Agent"}, "profile.email": {"not-mail"}})
	if code != 400 || fieldError(t, page, "profile.email") == "" {
		t.Fatalf("bad email: %d", code)
	}
	code, _, _ = b.submit(page, "/admin/people/"+sam.ID+"/profile", url.Values{"profile.login": {"sam@example.com"}, "profile.firstName": {"Samuel"}, "profile.lastName": {"Agent"}, "profile.email": {"sam@example.com"}, "profile.title": {"Agent"}})
	if u := ts.mustUser(t, sam.ID); code != 303 || u.Profile.String("firstName") != "Samuel" || u.Profile.String("title") != "Agent" {
		t.Fatalf("profile save: %d %v", code, u.Profile)
	}
	// Deactivate, then Delete appears and removes.
	b.submit(page, "/admin/people/"+sam.ID+"/lifecycle/deactivate", nil)
	page = b.page("/admin/people/"+sam.ID, 200)
	if !strings.Contains(page, ">Delete<") || !strings.Contains(page, ">Activate<") || !strings.Contains(page, `data-confirm="Delete this person`) {
		t.Fatal("deactivated person page")
	}
	if code, _, _ := b.submit(page, "/admin/people/"+sam.ID+"/delete", nil); code != 303 {
		t.Fatalf("delete: %d", code)
	}
	if _, err := ts.directory.Store.User(ctx, sam.ID); err == nil {
		t.Fatal("person not deleted")
	}

	// Groups: create, add a member, remove.
	page = b.page("/admin/groups", 200)
	code, loc, _ = b.submit(page, "/admin/groups", url.Values{"name": {"Agents"}, "description": {"Contact center"}})
	if code != 303 {
		t.Fatalf("create group: %d", code)
	}
	gpath := strings.Split(loc, "?")[0]
	page = b.page(gpath, 200)
	if code, _, p := b.submit(page, gpath+"/members", url.Values{"username": {"nobody@example.com"}}); code != 400 || !strings.Contains(fieldError(t, p, "username"), "No person") {
		t.Fatalf("add unknown member: %d", code)
	}
	if code, _, _ := b.submit(page, gpath+"/members", url.Values{"username": {"bulk100@example.com"}}); code != 303 {
		t.Fatalf("add member: %d", code)
	}
	if page = b.page(gpath, 200); !strings.Contains(page, "bulk100@example.com") {
		t.Fatal("member not listed")
	}

	// Profile Editor: add and remove a custom attribute.
	page = b.page("/admin/profile-editor", 200)
	if code, _, p := b.submit(page, "/admin/profile-editor", url.Values{"name": {"9bad"}, "title": {""}, "type": {"string"}}); code != 400 || fieldError(t, p, "name") == "" || fieldError(t, p, "title") == "" {
		t.Fatalf("bad attribute: %d", code)
	}
	if code, _, _ := b.submit(page, "/admin/profile-editor", url.Values{"name": {"badge"}, "title": {"Badge number"}, "type": {"string"}}); code != 303 {
		t.Fatalf("add attribute: %d", code)
	}
	page = b.page("/admin/people/"+ts.mustUser(t, "bulk100@example.com").ID, 200)
	if !strings.Contains(page, ">Badge number") {
		t.Fatal("custom attribute not on the person page")
	}
	page = b.page("/admin/profile-editor", 200)
	if code, _, _ := b.submit(page, "/admin/profile-editor/badge/remove", nil); code != 303 {
		t.Fatalf("remove attribute: %d", code)
	}
	if sc, _ := ts.directory.Store.Schema(ctx); len(sc.Custom) != 0 {
		t.Fatal("attribute not removed")
	}
}

func TestConsoleApplications(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	b, _ := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	agent := ts.createUser(t, "agent@example.com", "Secret-Passw0rd")

	// Applications → Add Application → search "Amazon" → Add.
	page := b.page("/admin/apps", 200)
	if !strings.Contains(page, ">Add Application<") || !strings.Contains(page, ">Browse App Catalog<") {
		t.Fatal("applications page lacks the catalog links")
	}
	page = b.page("/admin/apps/catalog?q=Amazon", 200)
	if !strings.Contains(page, ">Amazon Connect<") || !strings.Contains(page, ">Amazon Web Services<") || strings.Contains(page, ">Custom SAML 2.0<") {
		t.Fatal("catalog search for Amazon")
	}
	if !strings.Contains(page, `name="template" value="amazon_connect"><button type="submit" aria-label="Add Amazon Connect">Add</button>`) {
		t.Fatal("no Add button next to Amazon Connect")
	}
	form := b.page("/admin/apps/new?template=amazon_connect", 200)
	for _, label := range []string{">General Settings<", ">Application Label", ">Login URL", ">Region", ">Instance ID"} {
		if !strings.Contains(form, label) {
			t.Fatalf("General Settings lacks %s", label)
		}
	}
	create := url.Values{"template": {"amazon_connect"}, "label": {"Contact Center"}, "settings.app.loginURL": {"https://console.aws.amazon.com/connect/home"},
		"settings.app.region": {"eu-west-2"}, "settings.app.instanceId": {"not-an-instance"}}
	code, _, page := b.submit(form, "/admin/apps/new", create)
	if code != 400 || !strings.Contains(fieldError(t, page, "settings.app.instanceId"), "not an Amazon Connect instance ID") {
		t.Fatalf("bad instance id: %d %q", code, fieldError(t, page, "settings.app.instanceId"))
	}
	create.Set("settings.app.instanceId", connectInstance)
	code, loc, _ := b.submit(form, "/admin/apps/new", create)
	if code != 303 || !strings.HasPrefix(loc, "/admin/apps/0oa") {
		t.Fatalf("create app: %d %s", code, loc)
	}
	appPath := strings.Split(loc, "?")[0]
	app, err := ts.catalog.Store.App(ctx, strings.TrimPrefix(appPath, "/admin/apps/"))
	if err != nil {
		t.Fatal(err)
	}
	if app.Status != catalog.Active || app.Label != "Contact Center" || app.Settings.SignOn.DefaultRelayState != "https://eu-west-2.console.aws.amazon.com/connect/federate/"+connectInstance {
		t.Fatalf("created app: %s %s relay=%q", app.Status, app.Label, app.Settings.SignOn.DefaultRelayState)
	}

	// Sign On: the story's fields, the metadata link, and errors beside fields.
	so := b.page(appPath+"/signon", 200)
	for _, want := range []string{">Default Relay State", ">Identity Provider metadata<", app.MetadataPath(), ">Advanced Sign-On Settings<",
		">Identity Provider ARN", ">Session Duration", ">Join all roles", ">Use Group Mapping", ">Group Filter", ">Role Value Pattern", ">Region", ">Instance ID",
		">Save<", ">Done<", ">Generate new certificate<", app.EntityID(ts.srv.URL), app.SSOPath()} {
		if !strings.Contains(so, want) {
			t.Fatalf("Sign On lacks %s", want)
		}
	}
	if resp, body := b.get(app.MetadataPath()); resp.StatusCode != 200 || !strings.Contains(body, "EntityDescriptor") {
		t.Fatalf("metadata download: %d", resp.StatusCode)
	}
	vals := formValues(so, "/admin/apps/"+app.ID+"/signon")
	vals.Set("settings.signOn.ssoAcsUrl", "not a url")
	vals.Set("settings.app.identityProviderArn", "arn:aws:iam::12345:role/Nope")
	vals.Set("settings.app.sessionDuration", "99999")
	code, _, page = b.submit(so, appPath+"/signon", vals)
	if code != 400 {
		t.Fatalf("invalid sign-on settings: %d", code)
	}
	for _, f := range []string{"settings.signOn.ssoAcsUrl", "settings.app.identityProviderArn", "settings.app.sessionDuration"} {
		if fieldError(t, page, f) == "" {
			t.Fatalf("no message beside %s", f)
		}
	}
	if !strings.Contains(page, `value="arn:aws:iam::12345:role/Nope"`) {
		t.Fatal("the form lost the typed ARN")
	}
	// Paste the provider ARN → Done.
	vals = formValues(so, "/admin/apps/"+app.ID+"/signon")
	vals.Set("settings.app.identityProviderArn", "arn:aws:iam::123456789012:saml-provider/Okta_Connect_Admin")
	vals.Set("after", "done")
	code, loc, _ = b.submit(so, appPath+"/signon", vals)
	if code != 303 || loc != appPath+"?ok=saved" {
		t.Fatalf("Done: %d %s", code, loc)
	}
	app, _ = ts.catalog.Store.App(ctx, app.ID)
	if app.Settings.App["identityProviderArn"] != "arn:aws:iam::123456789012:saml-provider/Okta_Connect_Admin" || app.Settings.SignOn.SSOAcsURL != catalog.AWSSignInACS {
		t.Fatalf("saved settings: %v %s", app.Settings.App["identityProviderArn"], app.Settings.SignOn.SSOAcsURL)
	}

	// Signing keys: generate, make active, delete the old one.
	oldKid := app.Credentials.SigningKid
	if code, loc, _ := b.submit(so, appPath+"/keys/generate", nil); code != 303 || !strings.Contains(loc, "ok=key") {
		t.Fatalf("generate key: %d %s", code, loc)
	}
	_, keys, _ := ts.catalog.Keys(ctx, app.ID)
	if len(keys) != 2 {
		t.Fatalf("keys: %d", len(keys))
	}
	newKid := keys[1].Kid
	if newKid == oldKid {
		newKid = keys[0].Kid
	}
	so = b.page(appPath+"/signon", 200)
	if !strings.Contains(so, ">Make active<") {
		t.Fatal("no Make active button")
	}
	if code, _, _ := b.submit(so, appPath+"/keys/"+newKid+"/activate", nil); code != 303 {
		t.Fatalf("make active: %d", code)
	}
	if app, _ = ts.catalog.Store.App(ctx, app.ID); app.Credentials.SigningKid != newKid {
		t.Fatal("key not active")
	}
	if code, _, _ := b.submit(so, appPath+"/keys/"+oldKid+"/delete", nil); code != 303 {
		t.Fatalf("delete key: %d", code)
	}

	// General: an invalid Login URL is shown beside the field.
	gen := b.page(appPath, 200)
	code, _, page = b.submit(gen, appPath+"/general", url.Values{"label": {"Contact Center"}, "settings.app.loginURL": {"javascript:alert(1)"}})
	if code != 400 || fieldError(t, page, "settings.app.loginURL") == "" {
		t.Fatalf("bad login URL: %d", code)
	}

	// Provisioning: Configure API Integration → Enable API Integration,
	// keys → Save; To App → Edit → Create Users → Save.
	prov := b.page(appPath+"/provisioning", 200)
	if !strings.Contains(prov, ">Configure API Integration<") || !strings.Contains(prov, ">To App<") {
		t.Fatal("provisioning tab")
	}
	prov = b.page(appPath+"/provisioning?configure=1", 200)
	for _, want := range []string{">Enable API Integration<", ">Access Key", ">Secret Key", ">Test API Credentials<", ">Save<"} {
		if !strings.Contains(prov, want) {
			t.Fatalf("API integration form lacks %s", want)
		}
	}
	code, loc, page = b.submit(prov, appPath+"/provisioning", url.Values{"enabled": {"true"}, "accessKey": {"AKIAIOSFODNN7EXAMPLE"}, "secretKey": {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, "action": {"save"}})
	if code != 303 {
		t.Fatalf("save API integration: %d %s %.500s", code, loc, page)
	}
	if got := b.page(appPath+"/provisioning", 200); strings.Contains(got, "wJalrXUtnFEMI") || !strings.Contains(got, "(stored)") {
		t.Fatal("stored secret shown, or not marked stored")
	}
	toApp := b.page(appPath+"/provisioning/to-app", 200)
	if !strings.Contains(toApp, ">Edit<") || !strings.Contains(toApp, ">Attribute Mappings<") {
		t.Fatal("To App page")
	}
	toApp = b.page(appPath+"/provisioning/to-app?edit=1", 200)
	for _, want := range []string{">Create Users<", ">Update User Attributes<", ">Deactivate Users<"} {
		if !strings.Contains(toApp, want) {
			t.Fatalf("To App form lacks %s", want)
		}
	}
	// Turning Create Users on reads the Connect instance's users; without
	// AWS here it fails, and the page says why with the choice kept.
	code, _, page = b.submit(toApp, appPath+"/provisioning/to-app", url.Values{"createUsers": {"true"}})
	if code == 303 {
		if got := b.page(appPath+"/provisioning/to-app", 200); !strings.Contains(got, "<dt>Create Users</dt><dd>Enabled</dd>") {
			t.Fatal("Create Users not enabled")
		}
	} else if code != 400 || !strings.Contains(page, `class="alert error"`) || !regexp.MustCompile(`name="createUsers" value="true" checked`).MatchString(page) {
		t.Fatalf("save To App: %d", code)
	}
	// Applications without an integration show a placeholder.
	custom, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Label: "Wiki", SignOn: &catalog.SignOn{SSOAcsURL: "https://wiki.example.com/acs", Audience: "wiki",
		SubjectNameIDTemplate: "${user.userName}", SubjectNameIDFormat: catalog.NameIDUnspecified, ResponseSigned: true, AssertionSigned: true,
		SignatureAlgorithm: "RSA_SHA256", DigestAlgorithm: "SHA256"}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if page := b.page("/admin/apps/"+custom.ID+"/provisioning", 200); !strings.Contains(page, "Provisioning is not available for this application") {
		t.Fatal("provisioning placeholder")
	}
	// Attribute statements of a custom SAML app: a bad expression is
	// shown beside its row, a good one is saved, an emptied row removed.
	cso := b.page("/admin/apps/"+custom.ID+"/signon", 200)
	vals = formValues(cso, "/admin/apps/"+custom.ID+"/signon")
	if vals.Get("statements") != "2" {
		t.Fatalf("spare statement rows: %q", vals.Get("statements"))
	}
	vals.Set("settings.signOn.attributeStatements[0].name", "email")
	vals.Set("settings.signOn.attributeStatements[0].values", "${user.email")
	code, _, page = b.submit(cso, "/admin/apps/"+custom.ID+"/signon", vals)
	if code != 400 || fieldError(t, page, "settings.signOn.attributeStatements[0].values") == "" {
		t.Fatalf("bad attribute expression: %d", code)
	}
	vals.Set("settings.signOn.attributeStatements[0].values", "${user.email}")
	vals.Set("settings.signOn.attributeStatements[1].type", "GROUP")
	vals.Set("settings.signOn.attributeStatements[1].name", "groups")
	vals.Set("settings.signOn.attributeStatements[1].filterType", "STARTS_WITH")
	vals.Set("settings.signOn.attributeStatements[1].filterValue", "wiki_")
	if code, _, _ := b.submit(cso, "/admin/apps/"+custom.ID+"/signon", vals); code != 303 {
		t.Fatalf("save statements: %d", code)
	}
	got, _ := ts.catalog.Store.App(ctx, custom.ID)
	if sts := got.Settings.SignOn.AttributeStatements; len(sts) != 2 || sts[0].Values[0] != "${user.email}" || sts[1].Type != "GROUP" || sts[1].FilterValue != "wiki_" {
		t.Fatalf("statements: %+v", sts)
	}
	cso = b.page("/admin/apps/"+custom.ID+"/signon", 200)
	vals = formValues(cso, "/admin/apps/"+custom.ID+"/signon")
	vals.Set("settings.signOn.attributeStatements[1].name", "")
	vals.Set("settings.signOn.attributeStatements[1].filterValue", "")
	if code, _, _ := b.submit(cso, "/admin/apps/"+custom.ID+"/signon", vals); code != 303 {
		t.Fatalf("remove statement: %d", code)
	}
	if got, _ = ts.catalog.Store.App(ctx, custom.ID); len(got.Settings.SignOn.AttributeStatements) != 1 {
		t.Fatalf("statement not removed: %+v", got.Settings.SignOn.AttributeStatements)
	}

	// Directory → People → person → Assign Applications → Assign → Save and Go Back → Done.
	person := b.page("/admin/people/"+agent.ID, 200)
	if !strings.Contains(person, `href="/admin/people/`+agent.ID+`/assign">Assign Applications<`) {
		t.Fatal("person page lacks Assign Applications")
	}
	list := b.page("/admin/people/"+agent.ID+"/assign", 200)
	if !strings.Contains(list, `action="/admin/people/`+agent.ID+`/assign/`+app.ID+`"><button type="submit" aria-label="Assign Contact Center">Assign</button>`) || !strings.Contains(list, ">Done<") {
		t.Fatal("assign list lacks the Assign button or Done")
	}
	af := b.page("/admin/people/"+agent.ID+"/assign/"+app.ID, 200)
	for _, want := range []string{">User Name", ">Role", ">SAML User Roles", ">Save and Go Back<", `value="agent@example.com"`} {
		if !strings.Contains(af, want) {
			t.Fatalf("assignment form lacks %s", want)
		}
	}
	// No roles are imported yet, so a role cannot be validated: the
	// message is beside Role.
	code, _, page = b.submit(af, "/admin/people/"+agent.ID+"/assign/"+app.ID, url.Values{"userName": {"agent"}, "role": {"Okta_Role"}})
	if code != 400 || !strings.Contains(fieldError(t, page, "role"), "No IAM roles are imported") {
		t.Fatalf("role without imported roles: %d %q", code, fieldError(t, page, "role"))
	}
	code, loc, _ = b.submit(af, "/admin/people/"+agent.ID+"/assign/"+app.ID, url.Values{"userName": {"agent"}})
	if code != 303 || loc != "/admin/people/"+agent.ID+"/assign?ok=assigned" {
		t.Fatalf("Save and Go Back: %d %s", code, loc)
	}
	as, err := ts.catalog.Assignment(ctx, app.ID, agent.ID)
	if err != nil || as.UserName != "agent" || as.Scope != catalog.ScopeUser {
		t.Fatalf("assignment: %v %+v", err, as)
	}
	if list = b.page("/admin/people/"+agent.ID+"/assign?ok=assigned", 200); !strings.Contains(list, ">Assigned<") {
		t.Fatal("assigned app not marked")
	}
	if page := b.page("/admin/people/"+agent.ID, 200); !strings.Contains(page, ">Contact Center<") {
		t.Fatal("person page does not list the app")
	}
	if page := b.page(appPath+"/assignments", 200); !strings.Contains(page, "agent@example.com") || !strings.Contains(page, ">Individually<") {
		t.Fatal("assignments tab does not list the person")
	}

	// Deactivate, then Delete.
	gen = b.page(appPath, 200)
	if code, _, _ := b.submit(gen, appPath+"/delete", nil); code != 400 {
		t.Fatalf("deleting an active app: %d", code)
	}
	b.submit(gen, appPath+"/lifecycle/deactivate", nil)
	if code, _, _ := b.submit(gen, appPath+"/delete", nil); code != 303 {
		t.Fatalf("delete app: %d", code)
	}
	if _, err := ts.catalog.Store.App(ctx, app.ID); err == nil {
		t.Fatal("app not deleted")
	}
}

func TestConsoleSystemLogAndSecurity(t *testing.T) {
	ts := newTestServer(t, false)
	b, root := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	ts.createUser(t, "lee@example.com", "Secret-Passw0rd")
	page := b.page("/admin/groups", 200)
	b.submit(page, "/admin/groups", url.Values{"name": {"Night shift"}})

	all := b.page("/admin/reports/system-log", 200)
	if !strings.Contains(all, "group.user_membership") && !strings.Contains(all, "group.lifecycle.create") {
		t.Fatalf("system log lacks the group creation: %.2000s", all)
	}
	got := b.page("/admin/reports/system-log?eventType=user.lifecycle.create", 200)
	if !strings.Contains(got, "lee@example.com") || strings.Contains(got, "group.lifecycle.create") {
		t.Fatal("event type filter")
	}
	got = b.page("/admin/reports/system-log?eventType=user.*", 200)
	if !strings.Contains(got, "user.lifecycle.create") || !strings.Contains(got, "eventType sw") {
		t.Fatal("event type prefix filter")
	}
	got = b.page("/admin/reports/system-log?actor=root@example.com", 200)
	if !strings.Contains(got, "group.lifecycle.create") || strings.Contains(got, "user.lifecycle.create<") {
		t.Fatal("actor filter")
	}
	if got = b.page("/admin/reports/system-log?outcome=FAILURE", 200); !strings.Contains(got, "No events match") {
		t.Fatal("outcome filter")
	}
	resp, got := b.get("/admin/reports/system-log?since=yesterday")
	if resp.StatusCode != 400 || fieldError(t, got, "since") == "" {
		t.Fatalf("bad since: %d", resp.StatusCode)
	}
	if got = b.page("/admin/reports/system-log?since=2000-01-01T00:00&until=2000-01-02T00:00", 200); !strings.Contains(got, "No events match") {
		t.Fatal("time window")
	}

	// API Tokens: create (value shown once), then revoke.
	page = b.page("/admin/security/api-tokens", 200)
	code, _, got := b.submit(page, "/admin/security/api-tokens", url.Values{"name": {"deploy"}, "role": {"READ_ONLY_ADMIN"}})
	m := regexp.MustCompile(`id="token-value" type="text" readonly value="(ghs_[^"]+)"`).FindStringSubmatch(got)
	if code != 200 || m == nil {
		t.Fatalf("create token: %d", code)
	}
	if r := ts.call(t, "GET", "/api/v1/users", m[1], ""); r.status != 200 {
		t.Fatalf("new token does not work: %d", r.status)
	}
	if strings.Contains(b.page("/admin/security/api-tokens", 200), m[1]) {
		t.Fatal("token value shown twice")
	}
	toks, _ := ts.db.Tokens().List(context.Background())
	var id string
	for _, tk := range toks {
		if tk.Name == "deploy" {
			id = tk.ID
		}
	}
	if code, _, _ := b.submit(page, "/admin/security/api-tokens/"+id+"/revoke", nil); code != 303 {
		t.Fatalf("revoke: %d", code)
	}
	if r := ts.call(t, "GET", "/api/v1/users", m[1], ""); r.status != 401 {
		t.Fatalf("revoked token still works: %d", r.status)
	}

	// Administrators: grant, see, revoke; never one's own super admin role.
	page = b.page("/admin/security/administrators", 200)
	if code, _, got := b.submit(page, "/admin/security/administrators/grant", url.Values{"username": {"nobody@example.com"}, "role": {"APP_ADMIN"}}); code != 400 || fieldError(t, got, "username") == "" {
		t.Fatalf("grant to nobody: %d", code)
	}
	if code, _, _ := b.submit(page, "/admin/security/administrators/grant", url.Values{"username": {"lee@example.com"}, "role": {"APP_ADMIN"}}); code != 303 {
		t.Fatalf("grant: %d", code)
	}
	lee := ts.mustUser(t, "lee@example.com")
	if roles, _ := ts.db.Tokens().AdminRoles(context.Background(), lee.ID); len(roles) != 1 || roles[0] != "APP_ADMIN" {
		t.Fatalf("roles: %v", roles)
	}
	if got = b.page("/admin/security/administrators?lookup=lee@example.com", 200); !strings.Contains(got, "APP_ADMIN") {
		t.Fatal("lookup does not show the role")
	}
	// The list names every administrator with their roles.
	got = b.page("/admin/security/administrators", 200)
	if !strings.Contains(got, `aria-label="Revoke APP_ADMIN from Pat Doe"`) || !strings.Contains(got, `aria-label="Revoke SUPER_ADMIN from Pat Doe"`) {
		t.Fatalf("administrators list: %.3000s", got)
	}
	if code, _, _ := b.submit(page, "/admin/security/administrators/revoke", url.Values{"userId": {lee.ID}, "role": {"APP_ADMIN"}}); code != 303 {
		t.Fatalf("revoke role: %d", code)
	}
	if code, _, _ := b.submit(page, "/admin/security/administrators/revoke", url.Values{"userId": {root.ID}, "role": {"SUPER_ADMIN"}}); code != 400 {
		t.Fatalf("revoking one's own super admin role: %d", code)
	}
	if got := b.page("/admin/security/administrators", 200); strings.Contains(got, "Revoke APP_ADMIN from") || !strings.Contains(got, "Revoke SUPER_ADMIN from") {
		t.Fatal("revoked role still listed")
	}
	if got := b.page("/admin/reports/system-log?eventType=user.account.privilege.grant", 200); !strings.Contains(got, "Grant user privilege") {
		t.Fatal("grant not logged")
	}
}

var formInputRe = regexp.MustCompile(`<(input|select|textarea)([^>]*)>`)
var attrRe = regexp.MustCompile(`(\w[\w-]*)="([^"]*)"`)

// formValues collects what a browser would submit from the form posting
// to action: text inputs, checked checkboxes and selected options.
func formValues(page, action string) url.Values {
	start := strings.Index(page, `action="`+action+`"`)
	end := strings.Index(page[start:], "</form>")
	form := page[start : start+end]
	out := url.Values{}
	for _, m := range formInputRe.FindAllStringSubmatchIndex(form, -1) {
		tag, attrs := form[m[2]:m[3]], map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(form[m[4]:m[5]], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		name := attrs["name"]
		if name == "" || name == "csrf" {
			continue
		}
		switch tag {
		case "input":
			if attrs["type"] == "checkbox" {
				if strings.Contains(form[m[4]:m[5]], " checked") {
					out.Add(name, attrs["value"])
				}
				continue
			}
			out.Add(name, attrs["value"])
		case "textarea":
			rest := form[m[1]:]
			out.Add(name, html.UnescapeString(rest[:strings.Index(rest, "</textarea>")]))
		case "select":
			rest := form[m[1]:]
			rest = rest[:strings.Index(rest, "</select>")]
			for _, o := range regexp.MustCompile(`<option value="([^"]*)" selected>`).FindAllStringSubmatch(rest, -1) {
				out.Add(name, html.UnescapeString(o[1]))
			}
		}
	}
	return out
}

func TestConsoleGroupAssignments(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	b, _ := ts.adminBrowser(t, "root@example.com", oktaapi.RoleSuperAdmin)
	app, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateAWS, Label: "AWS Console"}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := ts.directory.CreateGroup(ctx, "Engineers", "")
	member := ts.createUser(t, "eng@example.com", "Secret-Passw0rd")
	if err := ts.directory.AddMember(ctx, g.ID, member.ID); err != nil {
		t.Fatal(err)
	}

	// From the group: Assign Applications → Assign → Save and Go Back.
	list := b.page("/admin/groups/"+g.ID+"/assign", 200)
	if !strings.Contains(list, `aria-label="Assign AWS Console">Assign<`) {
		t.Fatal("group assign list")
	}
	form := b.page("/admin/groups/"+g.ID+"/assign/"+app.ID, 200)
	if strings.Contains(form, ">User Name") || !strings.Contains(form, ">Role") {
		t.Fatal("group assignment form: no username, but the roles")
	}
	code, loc, _ := b.submit(form, "/admin/groups/"+g.ID+"/assign/"+app.ID, url.Values{})
	if code != 303 || loc != "/admin/groups/"+g.ID+"/assign?ok=assigned" {
		t.Fatalf("assign group: %d %s", code, loc)
	}
	if page := b.page("/admin/groups/"+g.ID, 200); !strings.Contains(page, ">AWS Console<") {
		t.Fatal("group page does not list the app")
	}
	// The member has it through the group; the app lists both.
	if page := b.page("/admin/people/"+member.ID, 200); !strings.Contains(page, "Through a group") {
		t.Fatal("member's page")
	}
	page := b.page("/admin/apps/"+app.ID+"/assignments", 200)
	if !strings.Contains(page, ">Engineers<") || !strings.Contains(page, "eng@example.com") || !strings.Contains(page, ">Through a group<") {
		t.Fatal("assignments tab")
	}
	// From the app: Assign to Groups lists the group as assigned; remove it.
	if page := b.page("/admin/apps/"+app.ID+"/assign/groups", 200); !strings.Contains(page, ">Assigned<") {
		t.Fatal("assigned group not marked")
	}
	if code, _, _ := b.submit(page, "/admin/apps/"+app.ID+"/unassign/groups/"+g.ID, nil); code != 303 {
		t.Fatalf("unassign group: %d", code)
	}
	if _, err := ts.catalog.Store.GroupAssignment(ctx, app.ID, g.ID); err == nil {
		t.Fatal("group still assigned")
	}
}

package main

import (
	"context"
	"html"
	"net/url"
	"regexp"
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
		ev := ts.events.New(context.Background(), "user.account.privilege.grant", "Grant user privilege", audit.Success)
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
		"/admin/reports/system-log", "/admin/security/api-tokens", "/admin/security/administrators?username=agent@example.com",
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

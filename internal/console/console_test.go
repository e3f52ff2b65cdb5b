package console

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/web"
	"github.com/gatehouse/gatehouse/ui"
)

func TestTemplatesParse(t *testing.T) {
	pages, err := parsePages(ui.Templates())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin_dashboard", "admin_people", "admin_person", "admin_person_new", "admin_assign_list", "admin_assign_form",
		"admin_groups", "admin_group", "admin_schema", "admin_apps", "admin_catalog", "admin_app_new", "admin_app_general", "admin_app_signon",
		"admin_app_provisioning", "admin_app_provisioning_status", "admin_app_assignments", "admin_syslog", "admin_tokens", "admin_admins", "admin_message"} {
		if pages[name] == nil {
			t.Errorf("no page %s", name)
		}
	}
	// The shared page set parses every template too, with no functions
	// beyond its own.
	if _, err := web.ParsePages(ui.Templates(), nil); err != nil {
		t.Fatalf("web.ParsePages with the admin templates: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	cases := []struct {
		roles              []string
		dir, apps, sec, ro bool
	}{
		{[]string{RoleSuperAdmin}, true, true, true, false},
		{[]string{RoleAppAdmin}, false, true, false, false},
		{[]string{RoleReadOnlyAdmin}, false, false, false, true},
		{[]string{RoleAppAdmin, RoleReadOnlyAdmin}, false, true, false, false},
		{[]string{RoleReadOnlyAdmin, RoleSuperAdmin}, true, true, true, false},
		{[]string{"SOMETHING_ELSE"}, false, false, false, true},
	}
	for _, c := range cases {
		p := permsFor(c.roles)
		if p.may(areaDirectory) != c.dir || p.may(areaApps) != c.apps || p.may(areaSecurity) != c.sec || !p.Any() != c.ro {
			t.Errorf("%v: %+v", c.roles, p)
		}
	}
}

func TestPager(t *testing.T) {
	q := url.Values{"q": {"pat"}, "ok": {"saved"}}
	cases := []struct {
		name             string
		after            string
		trail            []string
		last             string
		more             bool
		next, prev, frst string
	}{
		{"only page", "", nil, "u3", false, "", "", ""},
		{"first of many", "", nil, "u3", true, "/p?after=u3&q=pat", "", ""},
		{"second", "u3", nil, "u6", true, "/p?after=u6&q=pat&trail=u3", "/p?q=pat", "/p?q=pat"},
		{"third", "u6", []string{"u3"}, "u9", true, "/p?after=u9&q=pat&trail=u3%2Cu6", "/p?after=u3&q=pat", "/p?q=pat"},
		{"last", "u9", []string{"u3", "u6"}, "u10", false, "", "/p?after=u6&q=pat&trail=u3", "/p?q=pat"},
	}
	for _, c := range cases {
		p := pager("/p", q, c.after, c.trail, c.last, c.more)
		if p.Next != c.next || p.Prev != c.prev || p.First != c.frst {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	// The trail is bounded.
	long := make([]string, 100)
	for i := range long {
		long[i] = "u"
	}
	p := pager("/p", nil, "x", long, "y", true)
	v, _ := url.ParseQuery(strings.TrimPrefix(p.Next, "/p?"))
	if n := len(strings.Split(v.Get("trail"), ",")); n != maxTrail {
		t.Fatalf("trail of %d", n)
	}
	after, trail := cursor(url.Values{"after": {"a"}, "trail": {strings.Repeat("x,", 200)}})
	if after != "a" || len(trail) != maxTrail {
		t.Fatalf("cursor: %q %d", after, len(trail))
	}
}

func TestLogQuery(t *testing.T) {
	cases := []struct {
		name   string
		q      url.Values
		filter string
		text   string
		fields []string
	}{
		{"none", url.Values{}, "", "", nil},
		{"event type", url.Values{"eventType": {"user.lifecycle.create"}}, `eventType eq "user.lifecycle.create"`, "", nil},
		{"event prefix", url.Values{"eventType": {"user.*"}}, `eventType sw "user."`, "", nil},
		{"actor", url.Values{"actor": {"root@example.com"}}, `actor.alternateId eq "root@example.com" or actor.id eq "root@example.com"`, "", nil},
		{"target id", url.Values{"target": {"00uabc"}}, `target.id eq "00uabc"`, "", nil},
		{"target name", url.Values{"target": {"lee@example.com"}, "q": {"lock"}}, "", "lee@example.com lock", nil},
		{"outcome and type", url.Values{"outcome": {"FAILURE"}, "eventType": {"user.session.start"}},
			`eventType eq "user.session.start" and outcome.result eq "FAILURE"`, "", nil},
		{"bad outcome", url.Values{"outcome": {"MAYBE"}}, "", "", []string{"outcome"}},
		{"bad dates", url.Values{"since": {"soon"}, "until": {"2026-01-01T00:00"}}, "", "", []string{"since"}},
		{"until before since", url.Values{"since": {"2026-02-01T00:00"}, "until": {"2026-01-01"}}, "", "", []string{"until"}},
	}
	for _, c := range cases {
		aq, err := logQuery(c.q, nil)
		if c.fields != nil {
			e, ok := errs.As(err)
			if !ok {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if !reflect.DeepEqual(got, c.fields) {
				t.Errorf("%s: fields %v", c.name, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := ""
		if aq.Filter != nil {
			got = filter.String(aq.Filter)
		}
		if got != c.filter || aq.Q != c.text {
			t.Errorf("%s: filter %q q %q", c.name, got, aq.Q)
		}
		// Every filter the console builds parses back to itself.
		if got != "" {
			if e, err := filter.Parse(got, filter.Options{}); err == nil && filter.String(e) != got {
				t.Errorf("%s: round trip %q", c.name, filter.String(e))
			}
		}
	}
}

func TestBind(t *testing.T) {
	fields := []Field{
		{Name: "userName", Keys: []string{"credentials.userName"}},
		{Name: "role"},
		{Name: "samlRoles"},
		{Name: "settings.app.identityProviderArn", Keys: []string{"identityProviderArn"}},
	}
	err := errs.InvalidFields("Api validation failed: profile",
		errs.Field("credentials.userName", "too long"),
		errs.Field("profile.role", "unknown role"),
		errs.Field("samlRoles[1]", "empty"),
		errs.Field("samlRoles[2]", "also empty"),
		errs.Field("settings.app.identityProviderArn", "not an ARN"),
		errs.Field("settings.app.region", "missing"))
	summary, fe, ok := fieldErrors(err)
	if !ok || summary != "Fix the fields marked below." {
		t.Fatalf("%v %q", ok, summary)
	}
	rest := bind(fields, fe)
	want := []string{"too long", "unknown role", "empty also empty", "not an ARN"}
	for i, f := range fields {
		if f.Error != want[i] {
			t.Errorf("%s: %q", f.Name, f.Error)
		}
	}
	if !reflect.DeepEqual(rest, []string{"settings.app.region: missing"}) {
		t.Errorf("unclaimed: %v", rest)
	}
	if fields[0].DescribedBy() != "f-userName-error" {
		t.Errorf("describedby %q", fields[0].DescribedBy())
	}
	if _, _, ok := fieldErrors(errs.NotFoundf("gone")); ok {
		t.Error("not found is not about the input")
	}
}

func TestProfileFromForm(t *testing.T) {
	app := appNamed("amazon_connect")
	cur := map[string]any{"role": "Old", "other": "kept"}
	form := url.Values{"role": {" Okta_Role "}, "samlRoles": {"A\nB\n", "C"}, "connectSecurityProfiles": {"Agent, ,Admin"}, "connectRoutingProfile": {""}}
	got := profileFromForm(app, cur, form)
	want := map[string]any{"role": "Okta_Role", "samlRoles": []any{"A", "B", "C"}, "connectSecurityProfiles": []any{"Agent", "Admin"}, "other": "kept"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if cur["role"] != "Old" {
		t.Fatal("current profile modified")
	}
	got = profileFromForm(app, got, url.Values{})
	if !reflect.DeepEqual(got, map[string]any{"other": "kept"}) {
		t.Fatalf("clearing: %v", got)
	}
}

func FuzzLogQuery(f *testing.F) {
	for _, s := range []string{"eventType=user.*&actor=a%40b&target=00u1", "since=2026-01-01T00:00&until=2026-01-02", "outcome=FAILURE&q=lock", "eventType=%22%20or%20", "target=a%20b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		aq, err := logQuery(q, nil)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if aq.Filter != nil {
			// The built filter is a well-formed tree whose canonical text
			// parses again.
			s := filter.String(aq.Filter)
			if _, err := filter.Parse(s, filter.Options{}); err != nil && len(s) < 1000 {
				t.Fatalf("filter %q does not parse: %v", s, err)
			}
		}
	})
}

func FuzzCursor(f *testing.F) {
	for _, s := range []string{"after=00u1&trail=00u0", "trail=a,b,c", "after=&trail=,,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		after, trail := cursor(q)
		if len(trail) > maxTrail {
			t.Fatalf("trail of %d", len(trail))
		}
		p := pager("/p", q, after, trail, "last", true)
		for _, l := range []string{p.Next, p.Prev, p.First} {
			if l != "" && !strings.HasPrefix(l, "/p") {
				t.Fatalf("link leaves the page: %q", l)
			}
		}
	})
}

func appNamed(name string) *catalog.App { return &catalog.App{Name: name} }

type fakeRoles []string

func (f fakeRoles) RoleOptions(context.Context, string) ([]string, error) { return f, nil }

func TestRoleFields(t *testing.T) {
	ctx := context.Background()
	app := appNamed("amazon_aws")
	profile := map[string]any{"role": "Okta_Role", "samlRoles": []any{"ReadOnly", "Gone"}}

	// Imported roles: a select and a multi-select, keeping chosen values
	// that are no longer imported.
	c := &Console{Roles: fakeRoles{"Admin", "Okta_Role", "ReadOnly"}}
	fields, notice, err := c.profileFieldsFor(ctx, app, profile, nil)
	if err != nil || notice != "" || len(fields) != 2 {
		t.Fatalf("%v %q %d", err, notice, len(fields))
	}
	role, saml := fields[0], fields[1]
	if role.Label != "Role" || role.Type != "select" || saml.Label != "SAML User Roles" || saml.Type != "multiselect" {
		t.Fatalf("%+v %+v", role, saml)
	}
	selected := func(f Field) []string {
		var out []string
		for _, o := range f.Options {
			if o.Selected {
				out = append(out, o.Value)
			}
		}
		return out
	}
	if got := selected(role); !reflect.DeepEqual(got, []string{"Okta_Role"}) {
		t.Errorf("role selected %v", got)
	}
	if got := selected(saml); !reflect.DeepEqual(got, []string{"ReadOnly", "Gone"}) {
		t.Errorf("saml selected %v", got)
	}

	// Nothing imported (the default): free text, and a notice.
	c = &Console{}
	fields, notice, _ = c.profileFieldsFor(ctx, app, profile, nil)
	if notice == "" || fields[0].Type != "text" || fields[0].Value != "Okta_Role" || fields[1].Type != "textarea" || fields[1].Value != "ReadOnly\nGone" {
		t.Fatalf("free text fields: %+v", fields)
	}
	// Connect adds its profile choices; other apps have no fields.
	if fields, _, _ = c.profileFieldsFor(ctx, appNamed("amazon_connect"), nil, nil); len(fields) != 4 {
		t.Fatalf("connect fields: %d", len(fields))
	}
	if fields, _, _ = c.profileFieldsFor(ctx, appNamed("gatehouse_wiki_1"), nil, nil); len(fields) != 0 {
		t.Fatalf("custom app fields: %d", len(fields))
	}
}

// fakeWho resolves one username.
type fakeWho struct{}

func (fakeWho) actor(v string) filter.Expr {
	if v == "lee@example.com" {
		return &filter.Compare{Attr: "actor.id", Op: filter.OpEq, Value: filter.StringValue("00ulee")}
	}
	return nil
}

func (fakeWho) target(v string) filter.Expr {
	if v == "lee@example.com" {
		return &filter.Compare{Attr: "target.id", Op: filter.OpEq, Value: filter.StringValue("00ulee")}
	}
	return nil
}

func TestLogQueryResolves(t *testing.T) {
	for _, c := range []struct{ q, filter, text string }{
		{"actor=lee%40example.com&target=lee%40example.com", `actor.id eq "00ulee" and target.id eq "00ulee"`, ""},
		// Unknown to the directory: the plain filter and text search.
		{"actor=kim%40example.com&target=kim%40example.com", `actor.alternateId eq "kim@example.com" or actor.id eq "kim@example.com"`, "kim@example.com"},
	} {
		v, _ := url.ParseQuery(c.q)
		aq, err := logQuery(v, fakeWho{})
		if err != nil {
			t.Fatal(err)
		}
		if got := filter.String(aq.Filter); got != c.filter || aq.Q != c.text {
			t.Errorf("%s: %q %q", c.q, got, aq.Q)
		}
	}
}

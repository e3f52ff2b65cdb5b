package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// Regression tests for differences between Gatehouse's management API and
// Okta's published spec (okta-management-openapi-spec), found by an audit
// of the Users, Groups and Apps APIs; each is read through the official
// Okta Go SDK where the SDK has the operation.

// TestAppGroupAssignmentsQ: q on GET /api/v1/apps/{id}/groups
// (listApplicationGroupAssignments) keeps the assigned groups whose name
// starts with it, case-insensitively, and pages within them; it was
// ignored, so every assigned group came back.
func TestAppGroupAssignmentsQ(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	byName := map[string]string{}
	for _, name := range []string{"Editors", "Engineers", "Readers", "Senior Editors"} {
		id := ts.group(t, name)
		byName[name] = id
		if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+id, ts.token, ""); r.status != 200 {
			t.Fatalf("assign %s: %d %s", name, r.status, r.raw)
		}
	}
	names := func(gas []okta.ApplicationGroupAssignment) []string {
		var out []string
		for _, ga := range gas {
			for n, id := range byName {
				if id == ga.GetId() {
					out = append(out, n)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for q, want := range map[string][]string{
		"e":      {"Editors", "Engineers"},
		"EDIT":   {"Editors"},
		"senior": {"Senior Editors"},
		"ditors": nil,
		"":       {"Editors", "Engineers", "Readers", "Senior Editors"},
	} {
		req := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID)
		if q != "" {
			req = req.Q(q)
		}
		gas, _, err := req.Execute()
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		if got := names(gas); !slices.Equal(got, want) {
			t.Fatalf("q=%q: groups %v, want %v", q, got, want)
		}
	}
	// Pages of a q keep the q: one group a page, both E groups in all,
	// followed through the SDK's next links.
	first, resp, err := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID).Q("E").Limit(1).Execute()
	if err != nil || len(first) != 1 || !resp.HasNextPage() {
		t.Fatalf("first page of q=E: %v %d", err, len(first))
	}
	all := first
	for resp.HasNextPage() {
		var page []okta.ApplicationGroupAssignment
		if resp, err = resp.Next(&page); err != nil {
			t.Fatalf("next page: %v", err)
		}
		all = append(all, page...)
	}
	if got := names(all); !slices.Equal(got, []string{"Editors", "Engineers"}) {
		t.Fatalf("pages of q=E: %v", got)
	}
}

// nullAt returns the dotted paths (list items as [i]) below v at which
// one of the named members is JSON null.
func nullAt(v any, at string, names map[string]bool) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if at != "" {
				p = at + "." + k
			}
			if e == nil && names[k] {
				out = append(out, p)
			}
			out = append(out, nullAt(e, p, names)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, nullAt(e, fmt.Sprintf("%s[%d]", at, i), names)...)
		}
	}
	return out
}

// TestAppsNoNullNonNullableStrings: the members Okta's spec types as
// strings that are not nullable are left out when unset, never null:
// an app's accessibility.errorRedirectUrl and loginRedirectUrl (Application),
// an app user's externalId (AppUser), an app link's logoUrl and
// appAssignmentId (AssignedAppLink). Each was null, which a client
// validating against the spec refuses. The SDK still reads every answer.
func TestAppsNoNullNonNullableStrings(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	g := ts.group(t, "Editors")
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+g, ts.token, ""); r.status != 200 {
		t.Fatalf("assign group: %d %s", r.status, r.raw)
	}
	assign := ts.call(t, "POST", "/api/v1/apps/"+appID+"/users", ts.token, `{"id":"`+u.ID+`","scope":"USER"}`)
	if assign.status != 200 {
		t.Fatalf("assign user: %d %s", assign.status, assign.raw)
	}
	names := map[string]bool{"errorRedirectUrl": true, "loginRedirectUrl": true, "externalId": true, "logoUrl": true, "appAssignmentId": true}
	check := func(what, raw string) {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatalf("%s: %v: %s", what, err, raw)
		}
		if nulls := nullAt(v, "", names); len(nulls) > 0 {
			t.Errorf("%s: null at %v: %s", what, nulls, raw)
		}
	}
	check("assign user", assign.raw)
	for _, path := range []string{
		"/api/v1/apps/" + appID,
		"/api/v1/apps",
		"/api/v1/groups/" + g + "/apps",
		"/api/v1/apps/" + appID + "/users",
		"/api/v1/apps/" + appID + "/users/" + u.ID,
		"/api/v1/users/" + u.ID + "/appLinks",
	} {
		r := ts.call(t, "GET", path, ts.token, "")
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
		}
		check("GET "+path, r.raw)
	}
	// A set redirect URL is still a string.
	if r := ts.call(t, "GET", "/api/v1/apps/"+appID, ts.token, ""); true {
		body := strings.Replace(r.raw, `"selfService":false`, `"selfService":false,"errorRedirectUrl":"https://wiki.example.com/error"`, 1)
		if p := ts.call(t, "PUT", "/api/v1/apps/"+appID, ts.token, body); p.status != 200 || !strings.Contains(p.raw, `"errorRedirectUrl":"https://wiki.example.com/error"`) {
			t.Fatalf("replace with errorRedirectUrl: %d %s", p.status, p.raw)
		}
	}
	// The SDK reads them.
	if app, _, err := c.ApplicationAPI.GetApplication(ctx, appID).Execute(); err != nil || app.SamlApplication == nil ||
		app.SamlApplication.Accessibility.GetErrorRedirectUrl() != "https://wiki.example.com/error" || app.SamlApplication.Accessibility.LoginRedirectUrl != nil {
		t.Fatalf("SDK get app: %v %+v", err, app)
	}
	if au, _, err := c.ApplicationUsersAPI.GetApplicationUser(ctx, appID, u.ID).Execute(); err != nil || au.GetId() != u.ID || au.ExternalId != nil {
		t.Fatalf("SDK get app user: %v %+v", err, au)
	}
	// (SDK v5.0.2 types listAppLinks' items as AppLink, not the spec's
	// AssignedAppLink, so it can only count them.)
	if links, _, err := c.UserAPI.ListAppLinks(ctx, u.ID).Execute(); err != nil || len(links) != 1 {
		t.Fatalf("SDK app links: %v %+v", err, links)
	}
}

// TestAppsFilterIDAndExpandUser: the apps list's filter takes id eq (one
// of the properties Okta's listApplications filters on; it answered 400
// E0000031), and expand=user/{userId} embeds the user's app user in
// _embedded.user, on GET /api/v1/apps/{id} and, with the filter user.id
// eq that user, on the list (it embedded nothing).
func TestAppsFilterIDAndExpandUser(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	ana := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	bob := ts.createUser(t, "bob@example.com", "Secret-Passw0rd")
	wiki, _ := ts.newSAMLApp(t, "Wiki", "")
	mail, _ := ts.newSAMLApp(t, "Mail", "")
	ts.assign(t, wiki, ana.ID)

	appID := func(a okta.ListApplications200ResponseInner) string {
		if a.SamlApplication == nil {
			t.Fatalf("not a SAML app: %+v", a)
		}
		return a.SamlApplication.GetId()
	}
	list, _, err := c.ApplicationAPI.ListApplications(ctx).Filter(`id eq "` + mail + `"`).Execute()
	if err != nil || len(list) != 1 || appID(list[0]) != mail {
		t.Fatalf("filter id eq: %v %+v", err, list)
	}
	list, _, err = c.ApplicationAPI.ListApplications(ctx).Filter(`id eq "` + mail + `" and status eq "INACTIVE"`).Execute()
	if err != nil || len(list) != 0 {
		t.Fatalf("filter id eq and status INACTIVE: %v %d", err, len(list))
	}

	got, _, err := c.ApplicationAPI.GetApplication(ctx, wiki).Expand("user/" + ana.ID).Execute()
	if err != nil || got.SamlApplication == nil {
		t.Fatalf("get with expand: %v", err)
	}
	emb := got.SamlApplication.GetEmbedded()["user"]
	if emb["id"] != ana.ID || emb["scope"] != "USER" || emb["status"] != "ACTIVE" {
		t.Fatalf("_embedded.user: %v", got.SamlApplication.GetEmbedded())
	}
	// Not assigned, unknown, or no expand: nothing embedded.
	for _, x := range []string{"user/" + bob.ID, "user/00unknown", ""} {
		req := c.ApplicationAPI.GetApplication(ctx, wiki)
		if x != "" {
			req = req.Expand(x)
		}
		if got, _, err := req.Execute(); err != nil || got.SamlApplication.HasEmbedded() {
			t.Fatalf("get with expand=%q: %v %v", x, err, got.SamlApplication.GetEmbedded())
		}
	}

	list, _, err = c.ApplicationAPI.ListApplications(ctx).Filter(`user.id eq "` + ana.ID + `"`).Expand("user/" + ana.ID).Execute()
	if err != nil || len(list) != 1 || appID(list[0]) != wiki {
		t.Fatalf("list for ana: %v %+v", err, list)
	}
	if emb := list[0].SamlApplication.GetEmbedded()["user"]; emb["id"] != ana.ID {
		t.Fatalf("list _embedded.user: %v", list[0].SamlApplication.GetEmbedded())
	}
	// Without the matching filter, the list embeds nothing.
	list, _, err = c.ApplicationAPI.ListApplications(ctx).Expand("user/" + ana.ID).Execute()
	if err != nil || len(list) != 2 || list[0].SamlApplication.HasEmbedded() || list[1].SamlApplication.HasEmbedded() {
		t.Fatalf("list with expand, no filter: %v %d", err, len(list))
	}
}

// TestGroupNameUnique: Okta refuses a group name another group has, on
// create and on replace (400 E0000001 "Api validation failed: name"), and
// nothing changes; Gatehouse made a second group of the same name. The
// name is compared without case, as logins are; a group keeps its own
// name when replaced.
func TestGroupNameUnique(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			ts := newTestServer(t, pg)
			ctx := context.Background()
			c := sdkClient(t, ts)
			mk := func(name string) (*okta.Group, error) {
				g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(name)}}).Execute()
				return g, err
			}
			editors, err := mk("Editors")
			if err != nil {
				t.Fatal(err)
			}
			readers, err := mk("Readers")
			if err != nil {
				t.Fatal(err)
			}
			refused := func(what string, err error) {
				t.Helper()
				var ge *okta.GenericOpenAPIError
				if !errors.As(err, &ge) {
					t.Fatalf("%s: %v, want 400 E0000001", what, err)
				}
				m, _ := ge.Model().(okta.Error)
				if m.GetErrorCode() != "E0000001" || m.GetErrorSummary() != "Api validation failed: name" || len(m.ErrorCauses) != 1 ||
					m.ErrorCauses[0].GetErrorSummary() != "name: An object with this field already exists in the current organization" {
					t.Fatalf("%s: %s", what, ge.Body())
				}
			}
			_, err = mk("editors")
			refused("create editors", err)
			_, _, err = c.GroupAPI.ReplaceGroup(ctx, readers.GetId()).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString("EDITORS")}}).Execute()
			refused("rename Readers to EDITORS", err)
			if g, _, err := c.GroupAPI.GetGroup(ctx, readers.GetId()).Execute(); err != nil || g.Profile.GetName() != "Readers" {
				t.Fatalf("Readers after the refused rename: %v %v", err, g.Profile.GetName())
			}
			if gs, _, err := c.GroupAPI.ListGroups(ctx).Execute(); err != nil || len(gs) != 2 {
				t.Fatalf("groups: %v %d, want 2", err, len(gs))
			}
			// A group keeps its name (another case of it, too) and takes a free one.
			for _, name := range []string{"Editors", "editors", "Editors team"} {
				if g, _, err := c.GroupAPI.ReplaceGroup(ctx, editors.GetId()).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(name)}}).Execute(); err != nil || g.Profile.GetName() != name {
					t.Fatalf("rename Editors to %q: %v", name, err)
				}
			}
			// The freed name is free again.
			if _, err := mk("Editors"); err != nil {
				t.Fatalf("create Editors after the rename: %v", err)
			}
		})
	}
}

// TestListUsersFields: fields on GET /api/v1/users (Okta's field
// projection) keeps only the named members, the id always, and only the
// named profile attributes of profile:(...); the next link keeps it. It
// was ignored and whole users were listed. (The Okta Go SDK v5.0.2 has no
// Fields on ListUsers, so the request is made by hand.)
func TestListUsersFields(t *testing.T) {
	ts := newTestServer(t, false)
	for _, login := range []string{"ana@example.com", "bob@example.com"} {
		ts.createUser(t, login, "Secret-Passw0rd")
	}
	r := ts.call(t, "GET", "/api/v1/users?limit=1&fields="+url.QueryEscape("status,profile:(firstName, login)"), ts.token, "")
	var page []map[string]any
	mustUnmarshal(t, r.raw, &page)
	if r.status != 200 || len(page) != 1 {
		t.Fatalf("first page: %d %s", r.status, r.raw)
	}
	check := func(u map[string]any) {
		t.Helper()
		keys := slices.Sorted(maps.Keys(u))
		profile, _ := u["profile"].(map[string]any)
		pkeys := slices.Sorted(maps.Keys(profile))
		if !slices.Equal(keys, []string{"id", "profile", "status"}) || !slices.Equal(pkeys, []string{"firstName", "login"}) ||
			u["status"] != "ACTIVE" || u["id"] == "" {
			t.Fatalf("projected user: %v", u)
		}
	}
	check(page[0])
	var next string
	for _, l := range r.header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			next = strings.TrimPrefix(strings.TrimSuffix(l, `>; rel="next"`), "<"+ts.cfg.EffectiveBaseURL())
		}
	}
	if !strings.Contains(next, "fields=") {
		t.Fatalf("next link %q", next)
	}
	r = ts.call(t, "GET", next, ts.token, "")
	page = nil
	mustUnmarshal(t, r.raw, &page)
	if r.status != 200 || len(page) != 1 {
		t.Fatalf("second page: %d %s", r.status, r.raw)
	}
	check(page[0])
	// id alone, whatever is named; a list that does not parse is refused.
	r = ts.call(t, "GET", "/api/v1/users?fields=nothing", ts.token, "")
	page = nil
	mustUnmarshal(t, r.raw, &page)
	if len(page) == 0 || len(page[0]) != 1 || page[0]["id"] == nil {
		t.Fatalf("fields=nothing: %s", r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/users?fields="+url.QueryEscape("profile:(firstName"), ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("unclosed profile:( : %d %s", r.status, r.raw)
	}
}

// TestAppMetadataMediaType: GET /api/v1/apps/{id}/sso/saml/metadata
// (Okta's previewSAMLmetadataForApplication) answers text/xml, the one
// media type Okta's spec gives it (it answered application/xml, which the
// Okta Node SDK cannot parse), and a kid that is not one of the app's
// keys is 404 (it was ignored); the public metadata URL keeps
// application/xml.
func TestAppMetadataMediaType(t *testing.T) {
	ts := newTestServer(t, false)
	c := sdkClient(t, ts)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	md, resp, err := c.ApplicationSSOAPI.PreviewSAMLmetadataForApplication(context.Background(), appID).Execute()
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q, want text/xml", ct)
	}
	if !strings.Contains(md, "EntityDescriptor") || !strings.Contains(md, "IDPSSODescriptor") {
		t.Fatalf("metadata: %.200s", md)
	}
	// kid (which the Node SDK always sends): a key of the app serves the
	// metadata, which carries every key of the app; another is 404.
	keys, _, err := c.ApplicationCredentialsAPI.ListApplicationKeys(context.Background(), appID).Execute()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v", err)
	}
	if r := ts.call(t, "GET", "/api/v1/apps/"+appID+"/sso/saml/metadata?kid="+keys[0].GetKid(), ts.token, ""); r.status != 200 || !strings.Contains(r.raw, keys[0].X5c[0]) {
		t.Fatalf("metadata for kid %s: %d %.200s", keys[0].GetKid(), r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/apps/"+appID+"/sso/saml/metadata?kid=nosuchkey", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("metadata for an unknown kid: %d %s", r.status, r.raw)
	}
	pub, err := http.Get(ts.srv.URL + "/app/" + ssoKey(t, ts, appID) + "/sso/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	pub.Body.Close()
	if ct := pub.Header.Get("Content-Type"); pub.StatusCode != 200 || !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("public metadata: %d %q", pub.StatusCode, ct)
	}
}

// TestCreateUserNextLoginRefusals: nextLogin=changePassword needs
// activate=true (400 E0000125) and a password (400 E0000124), with Okta's
// texts, and nothing is created; Gatehouse made a STAGED user for the
// first and an activated one without a password for the second.
func TestCreateUserNextLoginRefusals(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	body := func(login string, password string) okta.CreateUserRequest {
		b := okta.CreateUserRequest{Profile: okta.UserProfile{
			Login: okta.PtrString(login), Email: okta.PtrString(login),
			FirstName: *okta.NewNullableString(okta.PtrString("Gil")), LastName: *okta.NewNullableString(okta.PtrString("Doe")),
		}}
		if password != "" {
			b.Credentials = &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString(password)}}
		}
		return b
	}
	before := ts.userCount(t)
	for _, c2 := range []struct {
		activate bool
		password string
		code     string
		summary  string
	}{
		{false, "Correct-Horse-42", "E0000125", "Could not create user. To create a user and expire their password immediately, `activate` must be true."},
		{false, "", "E0000125", "Could not create user. To create a user and expire their password immediately, `activate` must be true."},
		{true, "", "E0000124", "Could not create user. To create a user and expire their password immediately, a password must be specified."},
	} {
		_, resp, err := c.UserAPI.CreateUser(ctx).Activate(c2.activate).NextLogin("changePassword").Body(body("gil@example.com", c2.password)).Execute()
		var ge *okta.GenericOpenAPIError
		if !errors.As(err, &ge) || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("activate=%v password=%q: %v, want 400 %s", c2.activate, c2.password, err, c2.code)
		}
		m, _ := ge.Model().(okta.Error)
		if m.GetErrorCode() != c2.code || m.GetErrorSummary() != c2.summary || len(m.ErrorCauses) != 1 || m.ErrorCauses[0].GetErrorSummary() != c2.summary {
			t.Fatalf("activate=%v password=%q: %s", c2.activate, c2.password, ge.Body())
		}
	}
	if n := ts.userCount(t); n != before {
		t.Fatalf("users: %d, want %d", n, before)
	}
	// With activate=true and a password: created, the password expired.
	u, _, err := c.UserAPI.CreateUser(ctx).Activate(true).NextLogin("changePassword").Body(body("gil@example.com", "Correct-Horse-42")).Execute()
	if err != nil || u.GetStatus() != "PASSWORD_EXPIRED" {
		t.Fatalf("create with nextLogin: %v %v", err, u)
	}
}

// TestUpdateUserPasswordStrict: a password an administrator sets with
// POST /api/v1/users/{id} (Okta's updateUser) meets the complexity rules;
// the password history applies only with strict=true, as Okta's strict
// says ("validates against minimum age and history password policy").
// The history was always checked, so the SDK's default call was refused.
// The console's set password and change_password keep the history check.
func TestUpdateUserPasswordStrict(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	u := ts.createUser(t, "ana@example.com", "Correct-Horse-42")
	set := func(pw string, strict *bool) error {
		req := c.UserAPI.UpdateUser(ctx, u.ID).User(okta.UpdateUserRequest{Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString(pw)}}})
		if strict != nil {
			req = req.Strict(*strict)
		}
		_, _, err := req.Execute()
		return err
	}
	yes, no := true, false
	// The current password again, with strict=true: refused by the history.
	if err := set("Correct-Horse-42", &yes); oktaErrorCode(err) != "E0000001" {
		t.Fatalf("strict reuse: %v (%s)", err, oktaErrorCode(err))
	}
	// Without strict (or strict=false): set.
	if err := set("Correct-Horse-42", nil); err != nil {
		t.Fatalf("reuse without strict: %v (%s)", err, oktaErrorCode(err))
	}
	if err := set("Correct-Horse-42", &no); err != nil {
		t.Fatalf("reuse with strict=false: %v (%s)", err, oktaErrorCode(err))
	}
	if got, err := ts.directory.Authenticate(ctx, "ana@example.com", "Correct-Horse-42", 10); err != nil || got.ID != u.ID {
		t.Fatalf("sign-in with the password set again: %v", err)
	}
	// Complexity applies either way.
	if err := set("short", nil); oktaErrorCode(err) != "E0000001" {
		t.Fatalf("weak password: %v", err)
	}
	// change_password keeps the history.
	_, _, err := c.UserAPI.ChangePassword(ctx, u.ID).ChangePasswordRequest(okta.ChangePasswordRequest{
		OldPassword: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")},
		NewPassword: &okta.PasswordCredential{Value: okta.PtrString("Correct-Horse-42")},
	}).Execute()
	if oktaErrorCode(err) != "E0000001" {
		t.Fatalf("change_password to the same password: %v (%s)", err, oktaErrorCode(err))
	}
}

// TestPatchAppGroupAssignment: PATCH /api/v1/apps/{id}/groups/{groupId}
// (Okta's updateGroupAssignmentToApplication) applies JSON Patch replace
// and remove operations to the assignment's profile and priority; it
// answered 405. A refused operation changes nothing; a group not assigned
// is 404.
func TestPatchAppGroupAssignment(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	g := ts.group(t, "Editors")
	other := ts.group(t, "Readers")
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+g, ts.token, `{"priority":2,"profile":{"team":"docs"}}`); r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
	// Through the SDK: replace the whole profile.
	ga, _, err := c.ApplicationGroupsAPI.UpdateGroupAssignmentToApplication(ctx, appID, g).JsonPatchOperation([]okta.JsonPatchOperation{
		{Op: okta.PtrString("replace"), Path: okta.PtrString("/profile"), Value: map[string]any{"team": "wiki", "manager": "Ana"}},
	}).Execute()
	if err != nil || ga.GetPriority() != 2 || ga.Profile["team"] != "wiki" || ga.Profile["manager"] != "Ana" {
		t.Fatalf("SDK patch: %v (%s) %+v", err, oktaErrorCode(err), ga)
	}
	path := "/api/v1/apps/" + appID + "/groups/" + g
	r := ts.call(t, "PATCH", path, ts.token, `[{"op":"replace","path":"/profile/manager","value":"Carlo"},{"op":"remove","path":"/profile/team"},{"op":"replace","path":"/priority","value":0}]`)
	profile, _ := r.body["profile"].(map[string]any)
	if r.status != 200 || r.body["priority"] != float64(0) || profile["manager"] != "Carlo" || len(profile) != 1 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	if got, _, err := c.ApplicationGroupsAPI.GetApplicationGroupAssignment(ctx, appID, g).Execute(); err != nil || got.Profile["manager"] != "Carlo" || got.GetPriority() != 0 {
		t.Fatalf("after patch: %v %+v", err, got)
	}
	// Refused operations change nothing.
	for _, body := range []string{
		`[{"op":"replace","path":"/profile/manager","value":"Dora"},{"op":"add","path":"/profile/x","value":1}]`,
		`[{"op":"replace","path":"/priority","value":"high"}]`,
		`[{"op":"remove","path":"/priority"}]`,
		`[{"op":"replace","path":"/id","value":"x"}]`,
		`[{"op":"replace","path":"/priority","value":-1}]`,
		`{"op":"replace"}`,
	} {
		if r := ts.call(t, "PATCH", path, ts.token, body); r.status != 400 {
			t.Fatalf("%s: %d %s", body, r.status, r.raw)
		}
	}
	if got, _, _ := c.ApplicationGroupsAPI.GetApplicationGroupAssignment(ctx, appID, g).Execute(); got.Profile["manager"] != "Carlo" || got.GetPriority() != 0 {
		t.Fatalf("after refused patches: %+v", got)
	}
	if r := ts.call(t, "PATCH", "/api/v1/apps/"+appID+"/groups/"+other, ts.token, `[{"op":"remove","path":"/profile"}]`); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("patch of a group not assigned: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/apps/"+appID+"/groups/"+other, ts.token, ""); r.status != 404 {
		t.Fatalf("the unassigned group got assigned: %d", r.status)
	}
	// The 405 of another method names PATCH among the methods there are.
	if r := ts.call(t, "POST", path, ts.token, "{}"); r.status != 405 || r.header.Get("Allow") != "GET, PUT, PATCH, DELETE" {
		t.Fatalf("POST: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

// TestGroupSearchContains: search on GET /api/v1/groups takes co on
// profile.name and profile.description, as Okta's listGroups says ("You
// can only use co with these select profile attributes"), in any case; it
// answered 400 E0000031.
func TestGroupSearchContains(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	for _, g := range [][2]string{{"Senior Editors", "Edits the wiki"}, {"Readers", "Reads the WIKI"}, {"Admins", "Everything"}} {
		if _, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(g[0]), Description: okta.PtrString(g[1])}}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	for search, want := range map[string][]string{
		`profile.name co "EDIT"`:                                {"Senior Editors"},
		`profile.description co "wiki"`:                         {"Readers", "Senior Editors"},
		`profile.name co "e" and profile.description co "wiki"`: {"Readers", "Senior Editors"},
		`profile.name co "zzz"`:                                 nil,
	} {
		gs, _, err := c.GroupAPI.ListGroups(ctx).Search(search).Execute()
		if err != nil {
			t.Fatalf("%s: %v (%s)", search, err, oktaErrorCode(err))
		}
		var got []string
		for _, g := range gs {
			got = append(got, g.Profile.GetName())
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", search, got, want)
		}
	}
	// co stays refused where Okta has no contains: on the type.
	if _, _, err := c.GroupAPI.ListGroups(ctx).Search(`type co "OKTA"`).Execute(); !strings.Contains(oktaErrorCode(err), "E0000031") {
		t.Fatalf("type co: %v", err)
	}
}

// TestUserSearchOperators: search on GET /api/v1/users takes Okta's
// operators: eq, sw, the comparisons, pr, and co on profile.firstName,
// lastName, email and login only; ne ("isn't supported"), ew and co on
// other attributes are refused with 400 E0000031. ne, ew and co on any
// attribute were accepted.
func TestUserSearchOperators(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	ts.createUser(t, "ana.lopez@example.com", "Secret-Passw0rd")
	ts.createUser(t, "bob.stone@example.com", "Secret-Passw0rd")
	for search, want := range map[string]int{
		`profile.login co "lopez"`:                            1,
		`profile.email co "EXAMPLE"`:                          2,
		`profile.login sw "bob"`:                              1,
		`status eq "ACTIVE"`:                                  2,
		`(status lt "ACTIVE" or status gt "ACTIVE")`:          0,
		`profile.login pr`:                                    2,
		`created gt "2000-01-01T00:00:00.000Z"`:               2,
		`profile.firstName co "a" or profile.lastName co "a"`: 2,
	} {
		us, _, err := c.UserAPI.ListUsers(ctx).Search(search).Execute()
		if err != nil || len(us) != want {
			t.Fatalf("%s: %v (%s) %d, want %d", search, err, oktaErrorCode(err), len(us), want)
		}
	}
	for _, search := range []string{
		`status ne "ACTIVE"`,
		`profile.login ew "example.com"`,
		`profile.department co "x"`,
		`status co "ACT"`,
	} {
		if _, _, err := c.UserAPI.ListUsers(ctx).Search(search).Execute(); !strings.Contains(oktaErrorCode(err), "E0000031") {
			t.Fatalf("%s: %v (%s), want 400 E0000031", search, err, oktaErrorCode(err))
		}
	}
}

// TestAppUserPasswordRefused: a password in an app user's credentials
// (POST /api/v1/apps/{id}/users and …/users/{userId}) is refused with
// Okta's 400 E0000041 "Credentials should not be set on this resource
// based on the scheme." (the error Okta's spec gives
// updateApplicationUser), not E0000001, and nothing changes.
func TestAppUserPasswordRefused(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	check := func(what string, err error) {
		t.Helper()
		var ge *okta.GenericOpenAPIError
		if !errors.As(err, &ge) || !strings.Contains(string(ge.Body()), `"errorCode":"E0000041"`) ||
			!strings.Contains(string(ge.Body()), `"errorSummary":"Credentials should not be set on this resource based on the scheme."`) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	ar := okta.NewAppUserAssignRequest(u.ID)
	ar.Credentials = &okta.AppUserCredentials{UserName: okta.PtrString("ana"), Password: &okta.AppUserPasswordCredential{Value: okta.PtrString("x")}}
	_, _, err := c.ApplicationUsersAPI.AssignUserToApplication(ctx, appID).AppUser(*ar).Execute()
	check("assign with a password", err)
	if _, _, err := c.ApplicationUsersAPI.GetApplicationUser(ctx, appID, u.ID).Execute(); err == nil {
		t.Fatal("the refused assignment was made")
	}
	ts.assign(t, appID, u.ID)
	_, _, err = c.ApplicationUsersAPI.UpdateApplicationUser(ctx, appID, u.ID).AppUser(okta.AppUserCredentialsRequestPayloadAsAppUserUpdateRequest(&okta.AppUserCredentialsRequestPayload{
		Credentials: &okta.AppUserCredentials{UserName: okta.PtrString("changed"), Password: &okta.AppUserPasswordCredential{Value: okta.PtrString("x")}}})).Execute()
	check("update with a password", err)
	if au, _, err := c.ApplicationUsersAPI.GetApplicationUser(ctx, appID, u.ID).Execute(); err != nil || au.Credentials.GetUserName() == "changed" {
		t.Fatalf("after the refused update: %v %+v", err, au)
	}
}

// TestAPIUncleanPaths: a management API path with an empty segment (an
// empty id, as in /api/v1/users//groups) or a . or .. segment answers
// Okta's 404 E0000008; ServeMux redirected it (307) to the cleaned path,
// which names another resource, and a POST was then replayed there.
func TestAPIUncleanPaths(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "ana@example.com", "Secret-Passw0rd")
	g := ts.group(t, "Editors")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users//groups"},
		{"POST", "/api/v1/users//lifecycle/suspend"},
		{"GET", "/api/v1/groups//users"},
		{"PUT", "/api/v1/groups//users/" + u.ID},
		{"GET", "/api/v1/groups/" + g + "/../" + g},
		{"DELETE", "/api/v1/users/" + u.ID + "/."},
		{"GET", "/api/v1//users"},
	} {
		req, _ := http.NewRequest(c.method, ts.srv.URL+c.path, nil)
		req.Header.Set("Authorization", "SSWS "+ts.token)
		req.Header.Set("Accept", "application/json")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 404 || body["errorCode"] != "E0000008" || resp.Header.Get("Location") != "" {
			t.Fatalf("%s %s: %d %v Location %q", c.method, c.path, resp.StatusCode, body, resp.Header.Get("Location"))
		}
	}
	if got, _ := ts.directory.Store.User(context.Background(), u.ID); got.Status != "ACTIVE" {
		t.Fatalf("the user changed: %s", got.Status)
	}
	// Clean paths, with or without a trailing slash, are routed as before.
	if r := ts.call(t, "GET", "/api/v1/users/"+u.ID+"/groups", ts.token, ""); r.status != 200 {
		t.Fatalf("clean path: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/users/", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000008" {
		t.Fatalf("trailing slash: %d %s", r.status, r.raw)
	}
}

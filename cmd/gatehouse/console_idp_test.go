package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/oidclogin/oidctest"
)

func idpForm(over map[string]string) url.Values {
	f := url.Values{
		"name":                                  {"Google"},
		"protocol.credentials.client.client_id": {"console-client"},
		"protocol.credentials.client.client_secret": {"console-secret-123"},
		"protocol.scopes": {"openid email profile"},
		"link":            {"EMAIL"},
		"policy.subject.userNameTemplate.template": {"idpuser.email"},
		"jit": {"true"},
		"policy.provisioning.profileMapping.login":     {"idpuser.email"},
		"policy.provisioning.profileMapping.email":     {"idpuser.email"},
		"policy.provisioning.profileMapping.firstName": {"idpuser.given_name"},
		"policy.provisioning.profileMapping.lastName":  {"idpuser.family_name"},
		"mappingOther": {""},
	}
	for k, v := range over {
		if v == "\x00" {
			f.Del(k)
			continue
		}
		f.Set(k, v)
	}
	return f
}

// fieldErr reports whether page shows msg beside the input named name.
func fieldErr(page, name, msg string) bool {
	id := "f-" + strings.NewReplacer(".", "-").Replace(name)
	return strings.Contains(page, `id="`+id+`" name="`+name+`"`) && strings.Contains(page, `aria-invalid="true" aria-describedby="`+id+`-error`) &&
		strings.Contains(page, `<p class="field-error" id="`+id+`-error">`) && strings.Contains(page, msg)
}

// TestConsoleIdentityProviders: Security → Identity Providers adds, edits,
// deactivates and deletes providers with the API's validation, keeps the
// client secret write-only, and shows and removes a person's links; a
// read-only administrator sees the pages without forms.
func TestConsoleIdentityProviders(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	admin, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	staff, err := ts.directory.CreateGroup(ctx, "Staff", "")
	if err != nil {
		t.Fatal(err)
	}

	list := admin.page("/admin/security/identity-providers", 200)
	for _, want := range []string{"No identity providers yet", `href="/admin/security/identity-providers/new?type=GOOGLE"`, "Add LinkedIn", "Add OpenID Connect provider", `aria-current="page">Identity Providers`} {
		if !strings.Contains(list, want) {
			t.Fatalf("list lacks %q", want)
		}
	}
	form := admin.page("/admin/security/identity-providers/new?type=GOOGLE", 200)
	if !strings.Contains(form, `value="`+ts.srv.URL+`/oauth2/v1/authorize/callback"`) || !strings.Contains(form, "Authorized redirect URIs") {
		t.Fatal("the redirect URI to register is not shown")
	}
	// Missing client ID and secret, a bad scope list and a broken
	// expression: every error beside its field, nothing created.
	status, _, page := admin.submit(form, "/admin/security/identity-providers/new?type=GOOGLE", idpForm(map[string]string{
		"protocol.credentials.client.client_id": "", "protocol.credentials.client.client_secret": "",
		"protocol.scopes": "email profile", "policy.provisioning.profileMapping.firstName": "idpuser.given_name +",
		"mappingOther": "not a mapping line",
	}))
	if status != 400 {
		t.Fatalf("invalid provider: %d", status)
	}
	for name, msg := range map[string]string{
		"protocol.credentials.client.client_id": "required", "protocol.credentials.client.client_secret": "required",
	} {
		if !fieldErr(page, name, msg) {
			t.Errorf("no error beside %s: %s", name, page)
		}
	}
	if !strings.Contains(page, "Line 1: write attribute = expression.") {
		t.Errorf("bad mapping line not reported")
	}
	ps, _ := ts.db.IdPs().IdPs(ctx, federation.Query{Limit: 10})
	if len(ps) != 0 {
		t.Fatal("an invalid provider was created")
	}
	status, _, page = admin.submit(form, "/admin/security/identity-providers/new?type=GOOGLE", idpForm(map[string]string{"protocol.scopes": "email profile", "policy.provisioning.profileMapping.firstName": "idpuser.given_name +"}))
	if status != 400 || !fieldErr(page, "protocol.scopes", "must include openid") || !fieldErr(page, "policy.provisioning.profileMapping.firstName", "") {
		t.Fatalf("scopes and expression errors: %d %s", status, page)
	}
	// A valid Google provider with JIT into Staff.
	f := idpForm(map[string]string{"mappingOther": "title = idpuser.job_title"})
	f.Add("policy.provisioning.groups.assignments", staff.ID)
	status, loc, _ := admin.submit(form, "/admin/security/identity-providers/new?type=GOOGLE", f)
	if status != 303 || !strings.HasPrefix(loc, "/admin/security/identity-providers/") {
		t.Fatalf("create: %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/security/identity-providers/")
	p, err := ts.db.IdPs().IdP(ctx, id)
	if err != nil || p.Type != federation.Google || p.ClientID != "console-client" || p.Subject.MatchType != "EMAIL" || p.Provisioning.Action != "AUTO" ||
		len(p.Provisioning.Groups) != 1 || p.Provisioning.Groups[0] != staff.ID || p.Provisioning.ProfileMapping["title"] != "idpuser.job_title" {
		t.Fatalf("stored provider: %v %+v", err, p)
	}
	if sec, err := ts.catalog.Sealer.Open(p.SealedSecret, "idp:"+p.ID+":client_secret"); err != nil || string(sec) != "console-secret-123" {
		t.Fatalf("secret: %v %q", err, sec)
	}
	edit := admin.page(loc, 200)
	if strings.Contains(edit, "console-secret-123") || !strings.Contains(edit, "Leave empty to keep the current secret") {
		t.Fatal("the secret is shown, or the keep hint is missing")
	}
	// Edit: linking off, JIT off, an empty secret keeps the stored one.
	sealed := p.SealedSecret
	status, _, _ = admin.submit(edit, "/admin/security/identity-providers/"+id, idpForm(map[string]string{
		"name": "Google Workspace", "link": "NONE", "jit": "\x00", "protocol.credentials.client.client_secret": "",
	}))
	if status != 303 {
		t.Fatalf("edit: %d", status)
	}
	p, _ = ts.db.IdPs().IdP(ctx, id)
	if p.Name != "Google Workspace" || p.AccountLink.Action != "DISABLED" || p.Provisioning.Action != "DISABLED" || p.SealedSecret != sealed {
		t.Fatalf("after edit: %+v", p)
	}
	if r := ts.call(t, "GET", "/api/v1/idps/"+id, ts.token, ""); !strings.Contains(r.raw, `"accountLink":{"action":"DISABLED"`) {
		t.Fatalf("API view: %s", r.raw)
	}

	// A generic OpenID Connect provider by its discovery URL; an
	// unreachable one is refused beside the field.
	op := oidctest.Start("", "op-client", "op-secret", map[string]any{"sub": "x"})
	t.Cleanup(op.Close)
	oform := admin.page("/admin/security/identity-providers/new?type=OIDC", 200)
	status, _, page = admin.submit(oform, "/admin/security/identity-providers/new?type=OIDC", idpForm(map[string]string{"name": "Acme SSO", "protocol.issuer.url": "http://127.0.0.1:1/nothing"}))
	if status != 400 || !fieldErr(page, "protocol.issuer.url", "could not be read") {
		t.Fatalf("unreachable issuer: %d %s", status, page)
	}
	status, loc, _ = admin.submit(oform, "/admin/security/identity-providers/new?type=OIDC", idpForm(map[string]string{"name": "Acme SSO", "protocol.issuer.url": op.Issuer + "/.well-known/openid-configuration"}))
	if status != 303 {
		t.Fatalf("OIDC create: %d", status)
	}
	oid := strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/security/identity-providers/")
	if o, _ := ts.db.IdPs().IdP(ctx, oid); o.Issuer != op.Issuer || o.Endpoints.Token == "" {
		t.Fatalf("discovered provider: %+v", o)
	}
	if !strings.Contains(newBrowser(t, ts.srv.URL).page("/login", 200), "Sign in with Acme SSO") {
		t.Fatal("no sign-in button for the new provider")
	}

	// A person's links: shown on their page and removed there.
	pat := ts.createUser(t, "pat@example.com", "Secret-Passw0rd")
	if r := ts.call(t, "POST", "/api/v1/idps/"+oid+"/users/"+pat.ID, ts.token, `{"externalId":"acme-42"}`); r.status != 200 {
		t.Fatalf("link: %d %s", r.status, r.raw)
	}
	person := admin.page("/admin/people/"+pat.ID, 200)
	if !strings.Contains(person, "acme-42") || !strings.Contains(person, "Acme SSO") || !strings.Contains(person, `data-confirm="Remove the link to Acme SSO?`) {
		t.Fatalf("person page lacks the link: %s", person)
	}

	// A read-only administrator sees every page and no form that changes
	// anything; a forged POST is refused.
	reader, _ := ts.adminBrowser(t, "reader@example.com", "READ_ONLY_ADMIN")
	for _, path := range []string{"/admin/security/identity-providers", "/admin/security/identity-providers/" + id, "/admin/people/" + pat.ID} {
		page := reader.page(path, 200)
		if n := strings.Count(page, `method="post"`); n != 1 { // sign out
			t.Errorf("%s: %d POST forms for a read-only admin", path, n)
		}
		if strings.Contains(page, "Remove link") || strings.Contains(page, "Add Google") {
			t.Errorf("%s offers changes to a read-only admin", path)
		}
	}
	if status, _, _ := reader.submit(reader.page("/admin/security/identity-providers/"+id, 200), "/admin/security/identity-providers/"+id+"/lifecycle/deactivate", nil); status != 403 {
		t.Fatalf("read-only deactivate: %d", status)
	}
	if status, _, _ := reader.submit(reader.page("/admin/people/"+pat.ID, 200), "/admin/people/"+pat.ID+"/idps/"+oid+"/unlink", nil); status != 403 {
		t.Fatalf("read-only unlink: %d", status)
	}

	status, loc, _ = admin.submit(person, "/admin/people/"+pat.ID+"/idps/"+oid+"/unlink", nil)
	if status != 303 || !strings.Contains(loc, "ok=unlinked") {
		t.Fatalf("unlink: %d %s", status, loc)
	}
	if _, err := ts.db.IdPs().Link(ctx, oid, pat.ID); err == nil {
		t.Fatal("the link is still there")
	}
	if page := admin.page(loc, 200); !strings.Contains(page, "Not linked to any identity provider") || !strings.Contains(page, "The link to the identity provider was removed.") {
		t.Fatal("person page after unlink")
	}

	// Status: an active provider cannot be deleted; deactivate, then delete.
	edit = admin.page("/admin/security/identity-providers/"+id, 200)
	if !strings.Contains(edit, `data-confirm="Deactivate this identity provider?`) || strings.Contains(edit, ">Delete</button>") {
		t.Fatal("active provider: no confirmed Deactivate, or a Delete")
	}
	if status, _, page := admin.submit(edit, "/admin/security/identity-providers/"+id+"/delete", nil); status != 400 || !strings.Contains(page, "deactivate the identity provider before deleting it") {
		t.Fatalf("delete active: %d", status)
	}
	if status, _, _ := admin.submit(edit, "/admin/security/identity-providers/"+id+"/lifecycle/deactivate", nil); status != 303 {
		t.Fatalf("deactivate: %d", status)
	}
	edit = admin.page("/admin/security/identity-providers/"+id, 200)
	if !strings.Contains(edit, `data-confirm="Delete this identity provider`) || !strings.Contains(edit, `data-confirm="Activate this identity provider?`) {
		t.Fatal("inactive provider: no confirmed Delete and Activate")
	}
	if status, loc, _ := admin.submit(edit, "/admin/security/identity-providers/"+id+"/delete", nil); status != 303 || !strings.HasPrefix(loc, "/admin/security/identity-providers?ok=deleted") {
		t.Fatalf("delete: %d %s", status, loc)
	}
	if _, err := ts.db.IdPs().IdP(ctx, id); err == nil {
		t.Fatal("provider still stored")
	}
	admin.page("/admin/security/identity-providers/"+id, 404)
	admin.page("/admin/security/identity-providers/new?type=SAML", 404)
}

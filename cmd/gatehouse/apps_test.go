package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

// TestAppsSDK drives the Apps API with the official Okta Go SDK (and raw
// HTTP where the SDK has no call) on SQLite and PostgreSQL.
func TestAppsSDK(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { testAppsSDK(t, newTestServer(t, pg)) })
	}
}

const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func testAppsSDK(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)

	// People: a directly assigned agent and a group member.
	g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString("Connect Agents")}}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for i, login := range []string{"direct@example.com", "member@example.com", "outsider@example.com"} {
		req := okta.CreateUserRequest{Profile: okta.UserProfile{Login: okta.PtrString(login), Email: okta.PtrString(login),
			FirstName: *okta.NewNullableString(okta.PtrString("Pat")), LastName: *okta.NewNullableString(okta.PtrString(fmt.Sprint("N", i)))}}
		if i == 1 {
			req.GroupIds = []string{g.GetId()}
		}
		u, _, err := c.UserAPI.CreateUser(ctx).Activate(false).Body(req).Execute()
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.GetId())
	}
	direct, member, outsider := users[0], users[1], users[2]

	// A custom SAML app, created with the SDK.
	so := okta.NewSamlApplicationSettingsSignOn()
	so.SetSsoAcsUrl("https://sp.example.com/saml/acs?tenant=7&b=2")
	so.SetAudience("https://sp.example.com/metadata")
	so.SetSubjectNameIdTemplate("${user.userName}")
	so.SetSubjectNameIdFormat(catalog.NameIDEmail)
	so.SetResponseSigned(true)
	so.SetAssertionSigned(true)
	so.SetSignatureAlgorithm("RSA_SHA256")
	so.SetDigestAlgorithm("SHA256")
	so.SetHonorForceAuthn(true)
	so.SetAuthnContextClassRef(catalog.AuthnContextPasswordProtectedTransport)
	so.SetAllowMultipleAcsEndpoints(true)
	so.SetAcsEndpoints([]okta.AcsEndpoint{*okta.NewAcsEndpoint(0, "https://sp.example.com/saml/acs?tenant=7&b=2"), *okta.NewAcsEndpoint(1, "https://sp.example.com/saml/acs2")})
	st := okta.NewSamlAttributeStatement()
	st.SetType("EXPRESSION")
	st.SetName("email")
	st.SetNamespace("urn:oasis:names:tc:SAML:2.0:attrname-format:basic")
	st.SetValues([]string{"user.email"})
	so.SetAttributeStatements([]okta.SamlAttributeStatement{*st})
	settings := okta.NewSamlApplicationSettings()
	settings.SetSignOn(*so)
	sapp := okta.NewSamlApplication("Example Custom SAML 2.0 App", "SAML_2_0")
	sapp.Settings = settings
	vis := okta.NewApplicationVisibility()
	vis.SetAutoSubmitToolbar(false)
	sapp.Visibility = vis
	created, _, err := c.ApplicationAPI.CreateApplication(ctx).Application(okta.ListApplications200ResponseInner{SamlApplication: sapp}).Activate(true).Execute()
	if err != nil {
		t.Fatalf("create app: %v (%s)", err, oktaErrorCode(err))
	}
	app := created.SamlApplication
	if app == nil {
		t.Fatalf("create returned no SAML app: %+v", created)
	}
	appID := app.GetId()
	if !strings.HasPrefix(appID, "0oa") || app.GetName() != "gatehouse_examplecustomsaml20app_1" || app.GetStatus() != "ACTIVE" ||
		app.Credentials.Signing.GetKid() == "" || app.Settings.SignOn.GetSsoAcsUrl() != "https://sp.example.com/saml/acs?tenant=7&b=2" ||
		app.Settings.SignOn.GetRecipient() != app.Settings.SignOn.GetSsoAcsUrl() || len(app.Settings.SignOn.AcsEndpoints) != 2 ||
		app.Links.Metadata.GetHref() != ts.srv.URL+"/api/v1/apps/"+appID+"/sso/saml/metadata" {
		t.Fatalf("created app: %+v", app)
	}
	firstKid := app.Credentials.Signing.GetKid()

	// An AWS Account Federation app with write-only API keys (raw HTTP: the
	// SDK has no typed settings.app for it).
	r := ts.call(t, "POST", "/api/v1/apps?activate=true", ts.token, `{"name":"amazon_aws","label":"AWS Account Federation","signOnMode":"SAML_2_0",
		"settings":{"app":{"awsEnvironmentType":"aws.amazon","identityProviderArn":"arn:aws:iam::123456789012:saml-provider/Gatehouse",
		"sessionDuration":43200,"joinAllRoles":false,"useGroupMapping":false,"appFilter":"okta",
		"accessKey":"AKIAIOSFODNN7EXAMPLE","secretKey":"`+awsSecret+`"}}}`)
	if r.status != 200 {
		t.Fatalf("create aws: %d %s", r.status, r.raw)
	}
	awsID := r.body["id"].(string)
	sa := r.body["settings"].(map[string]any)["app"].(map[string]any)
	signOn := r.body["settings"].(map[string]any)["signOn"].(map[string]any)
	if r.body["name"] != "amazon_aws" || sa["sessionDuration"] != float64(43200) || sa["roleValuePattern"] == nil || sa["secretKey"] != nil ||
		sa["accessKey"] != nil || signOn["ssoAcsUrl"] != catalog.AWSSignInACS || signOn["audience"] != catalog.AWSAudience {
		t.Fatalf("aws app: %s", r.raw)
	}
	for _, path := range []string{"/api/v1/apps", "/api/v1/apps/" + awsID} {
		if raw := ts.call(t, "GET", path, ts.token, "").raw; strings.Contains(raw, awsSecret) || strings.Contains(raw, "AKIAIOSFODNN7EXAMPLE") {
			t.Fatalf("%s reveals a secret", path)
		}
	}
	if got, err := ts.catalog.AppSecret(ctx, awsID, "secretKey"); err != nil || got != awsSecret {
		t.Fatalf("sealed secret: %v", err)
	}

	// Listing with the SDK's Link-header paging, search and filters.
	list, resp, err := c.ApplicationAPI.ListApplications(ctx).Limit(1).Execute()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	seen := len(list)
	for resp.HasNextPage() {
		var next []okta.ListApplications200ResponseInner
		if resp, err = resp.Next(&next); err != nil {
			t.Fatalf("next page: %v", err)
		}
		seen += len(next)
	}
	if seen != 2 {
		t.Fatalf("paging saw %d apps", seen)
	}
	if l, _, err := c.ApplicationAPI.ListApplications(ctx).Q("amazon").Execute(); err != nil || len(l) != 1 {
		t.Fatalf("q: %v %d", err, len(l))
	}
	if l, _, err := c.ApplicationAPI.ListApplications(ctx).Filter(`name eq "amazon_aws" and status eq "ACTIVE"`).Execute(); err != nil || len(l) != 1 {
		t.Fatalf("filter: %v %d", err, len(l))
	}

	// Assignments: a direct user and a group.
	ar := okta.NewAppUserAssignRequest(direct)
	ar.SetScope("USER")
	ar.Credentials = &okta.AppUserCredentials{UserName: okta.PtrString("pat.agent")}
	ar.Profile = map[string]any{"role": "Agent"}
	au, _, err := c.ApplicationUsersAPI.AssignUserToApplication(ctx, appID).AppUser(*ar).Execute()
	if err != nil || au.GetId() != direct || au.GetScope() != "USER" || au.Credentials.GetUserName() != "pat.agent" || au.Profile["role"] != "Agent" {
		t.Fatalf("assign user: %v %+v", err, au)
	}
	ga := okta.NewApplicationGroupAssignment()
	ga.SetPriority(0)
	ga.Profile = map[string]any{"role": "Member"}
	gotGA, _, err := c.ApplicationGroupsAPI.AssignGroupToApplication(ctx, appID, g.GetId()).ApplicationGroupAssignment(*ga).Execute()
	if err != nil || gotGA.GetId() != g.GetId() || gotGA.GetPriority() != 0 {
		t.Fatalf("assign group: %v %+v", err, gotGA)
	}
	if gas, _, err := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID).Execute(); err != nil || len(gas) != 1 {
		t.Fatalf("list groups: %v %d", err, len(gas))
	}
	if one, _, err := c.ApplicationGroupsAPI.GetApplicationGroupAssignment(ctx, appID, g.GetId()).Execute(); err != nil || one.Profile["role"] != "Member" {
		t.Fatalf("get group: %v", err)
	}
	appUsers, _, err := c.ApplicationUsersAPI.ListApplicationUsers(ctx, appID).Execute()
	if err != nil || len(appUsers) != 2 {
		t.Fatalf("app users: %v %d", err, len(appUsers))
	}
	byID := map[string]*okta.AppUser{}
	for i := range appUsers {
		x := appUsers[i]
		byID[x.GetId()] = &x
	}
	if byID[direct].GetScope() != "USER" || byID[member].GetScope() != "GROUP" || byID[member].Credentials.GetUserName() != "member@example.com" ||
		byID[member].Profile["role"] != "Member" {
		t.Fatalf("app users: %+v", byID)
	}
	mu, _, err := c.ApplicationUsersAPI.GetApplicationUser(ctx, appID, member).Execute()
	if err != nil || mu.GetScope() != "GROUP" {
		t.Fatalf("group user: %v %+v", err, mu)
	}
	if r := ts.call(t, "POST", "/api/v1/apps/"+appID+"/users/"+direct, ts.token, `{"credentials":{"userName":"pat.lead"}}`); r.status != 200 ||
		r.body["credentials"].(map[string]any)["userName"] != "pat.lead" || r.body["profile"].(map[string]any)["role"] != "Agent" {
		t.Fatalf("update app user: %d %s", r.status, r.raw)
	}
	eff, err := ts.catalog.Assignment(ctx, appID, direct)
	if err != nil || eff.UserName != "pat.lead" {
		t.Fatalf("effective assignment: %v %+v", err, eff)
	}

	// The dashboard view and apps of a user.
	links := ts.call(t, "GET", "/api/v1/users/"+member+"/appLinks", ts.token, "")
	if links.status != 200 || !strings.Contains(links.raw, `"appInstanceId":"`+appID+`"`) || !strings.Contains(links.raw, "/home/gatehouse_examplecustomsaml20app_1/"+appID+"/login") {
		t.Fatalf("app links: %d %s", links.status, links.raw)
	}
	if l, _, err := c.ApplicationAPI.ListApplications(ctx).Filter(`user.id eq "` + member + `"`).Execute(); err != nil || len(l) != 1 {
		t.Fatalf("apps of a user: %v %d", err, len(l))
	}
	if l, _, err := c.ApplicationAPI.ListApplications(ctx).Filter(`user.id eq "` + outsider + `"`).Execute(); err != nil || len(l) != 0 {
		t.Fatalf("apps of an outsider: %v %d", err, len(l))
	}

	// Signing key rollover.
	ks, _, err := c.ApplicationCredentialsAPI.ListApplicationKeys(ctx, appID).Execute()
	if err != nil || len(ks) != 1 || ks[0].GetKid() != firstKid || ks[0].GetStatus() != "ACTIVE" || len(ks[0].X5c) != 1 {
		t.Fatalf("keys: %v %+v", err, ks)
	}
	nk, _, err := c.ApplicationCredentialsAPI.GenerateApplicationKey(ctx, appID).ValidityYears(2).Execute()
	if err != nil || nk.GetStatus() != "INACTIVE" || nk.GetKid() == firstKid {
		t.Fatalf("generate: %v (%s) %+v", err, oktaErrorCode(err), nk)
	}
	if k, _, err := c.ApplicationCredentialsAPI.GetApplicationKey(ctx, appID, nk.GetKid()).Execute(); err != nil || k.GetKid() != nk.GetKid() {
		t.Fatalf("get key: %v", err)
	}
	_, published, err := ts.catalog.SigningKeys(ctx, appID)
	if err != nil || len(published) != 2 {
		t.Fatalf("published keys: %v %d", err, len(published))
	}
	// Switch with a PUT of the app as the SDK read it.
	cur, _, err := c.ApplicationAPI.GetApplication(ctx, appID).Execute()
	if err != nil || cur.SamlApplication == nil {
		t.Fatalf("get app: %v", err)
	}
	cur.SamlApplication.Credentials.Signing.SetKid(nk.GetKid())
	cur.SamlApplication.SetLabel("Renamed SAML App")
	rep, _, err := c.ApplicationAPI.ReplaceApplication(ctx, appID).Application(*cur).Execute()
	if err != nil {
		t.Fatalf("replace: %v (%s)", err, oktaErrorCode(err))
	}
	if rep.SamlApplication.Credentials.Signing.GetKid() != nk.GetKid() || rep.SamlApplication.GetLabel() != "Renamed SAML App" ||
		rep.SamlApplication.Settings.SignOn.GetSsoAcsUrl() != "https://sp.example.com/saml/acs?tenant=7&b=2" ||
		len(rep.SamlApplication.Settings.SignOn.AttributeStatements) != 1 || rep.SamlApplication.GetName() != app.GetName() {
		t.Fatalf("replaced app: %+v", rep.SamlApplication)
	}
	active, _, err := ts.catalog.SigningKeys(ctx, appID)
	if err != nil || active.Kid != nk.GetKid() {
		t.Fatalf("active key after switch: %v", err)
	}
	if r := ts.call(t, "DELETE", "/api/v1/apps/"+appID+"/credentials/keys/"+nk.GetKid(), ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("deleting the active key: %d %s", r.status, r.raw)
	}
	if r := ts.call(t, "DELETE", "/api/v1/apps/"+appID+"/credentials/keys/"+firstKid, ts.token, ""); r.status != 204 {
		t.Fatalf("retiring the old key: %d %s", r.status, r.raw)
	}

	// Unassign, deactivate, delete.
	if _, err := c.ApplicationUsersAPI.UnassignUserFromApplication(ctx, appID, direct).Execute(); err != nil {
		t.Fatalf("unassign: %v", err)
	}
	if _, err := c.ApplicationGroupsAPI.UnassignApplicationFromGroup(ctx, appID, g.GetId()).Execute(); err != nil {
		t.Fatalf("unassign group: %v", err)
	}
	if l, _, _ := c.ApplicationUsersAPI.ListApplicationUsers(ctx, appID).Execute(); len(l) != 0 {
		t.Fatalf("users after unassigning: %d", len(l))
	}
	if _, err := c.ApplicationAPI.DeleteApplication(ctx, appID).Execute(); oktaErrorCode(err) != "E0000056" {
		t.Fatalf("delete active: %v", oktaErrorCode(err))
	}
	if _, err := c.ApplicationAPI.DeactivateApplication(ctx, appID).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ApplicationAPI.DeleteApplication(ctx, appID).Execute(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := c.ApplicationAPI.GetApplication(ctx, appID).Execute(); oktaErrorCode(err) != "E0000007" {
		t.Fatalf("deleted app: %v", oktaErrorCode(err))
	}

	// The system log recorded the changes.
	logs := ts.call(t, "GET", "/api/v1/logs?limit=1000", ts.token, "")
	for _, ev := range []string{"application.lifecycle.create", "application.lifecycle.update", "application.lifecycle.deactivate", "application.lifecycle.delete",
		"application.user_membership.add", "application.user_membership.change_username", "application.user_membership.remove",
		"application.group_membership.add", "application.group_membership.remove", "app.keys.generate", "app.keys.rotate"} {
		if !strings.Contains(logs.raw, `"`+ev+`"`) {
			t.Errorf("no %s event in the system log", ev)
		}
	}
}

func TestCatalogTemplates(t *testing.T) {
	ts := newTestServer(t, false)
	r := ts.call(t, "GET", "/api/v1/catalog/apps", ts.token, "")
	if r.status != 200 {
		t.Fatalf("catalog: %d %s", r.status, r.raw)
	}
	for _, want := range []string{`"title":"Amazon Web Services"`, `"displayName":"AWS Account Federation"`, `"name":"amazon_aws"`,
		`"title":"Amazon Connect"`, `"name":"amazon_connect"`, `"title":"Custom SAML 2.0"`, `"name":"sessionDuration"`, `"writeOnly":true`} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("catalog lacks %s", want)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/catalog/apps?q="+url.QueryEscape("amazon"), ts.token, ""); strings.Count(r.raw, `"key":`) != 2 {
		t.Fatalf("catalog search: %s", r.raw)
	}
	if r := ts.call(t, "GET", "/api/v1/catalog/apps/nope", ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
		t.Fatalf("unknown template: %d %s", r.status, r.raw)
	}
}

func selfSigned(t *testing.T, bits int) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

const goodSAMLApp = `{"label":"Good","signOnMode":"SAML_2_0","settings":{"signOn":{"ssoAcsUrl":"https://sp.example.com/acs","audience":"urn:sp",
	"subjectNameIdTemplate":"${user.userName}","subjectNameIdFormat":"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
	"responseSigned":true,"assertionSigned":true,"signatureAlgorithm":"RSA_SHA256","digestAlgorithm":"SHA256"}}}`

func samlApp(replace ...string) string {
	s := goodSAMLApp
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	return s
}

// TestAppsBadInput sends bad app requests and checks each is answered in
// Okta's error shape with the expected code, and that nothing changed.
func TestAppsBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	good := ts.call(t, "POST", "/api/v1/apps?activate=true", ts.token, goodSAMLApp)
	if good.status != 200 {
		t.Fatalf("seed app: %d %s", good.status, good.raw)
	}
	appID := good.body["id"].(string)
	kid := good.body["credentials"].(map[string]any)["signing"].(map[string]any)["kid"].(string)
	if r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, goodUser); r.status != 200 {
		t.Fatalf("seed user: %d %s", r.status, r.raw)
	}
	userID := ts.call(t, "GET", "/api/v1/users/kim@example.com", ts.token, "").body["id"].(string)
	grp := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Members"}}`).body["id"].(string)
	if r := ts.call(t, "PUT", "/api/v1/groups/"+grp+"/users/"+userID, ts.token, ""); r.status != 204 {
		t.Fatalf("membership: %d", r.status)
	}
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+grp, ts.token, `{"priority":0}`); r.status != 200 {
		t.Fatalf("group assignment: %d %s", r.status, r.raw)
	}
	notCert := "MIIBmzCCAQSgAwIBAgIBATANBgkq"
	weakCert := selfSigned(t, 1024)
	appPath := "/api/v1/apps/" + appID
	cases := []struct {
		name, method, path, body string
		status                   int
		code, cause              string
	}{
		{"javascript ACS", "POST", "/api/v1/apps", samlApp("https://sp.example.com/acs", "javascript:alert(document.cookie)"), 400, "E0000001", "javascript: scheme is not allowed"},
		{"http ACS for another host", "POST", "/api/v1/apps", samlApp("https://sp.example.com/acs", "http://sp.example.com/acs"), 400, "E0000001", "must use https"},
		{"missing audience", "POST", "/api/v1/apps", samlApp(`"audience":"urn:sp",`, ""), 400, "E0000001", "settings.signOn.audience: The field cannot be left blank"},
		{"nothing signed", "POST", "/api/v1/apps", samlApp(`"responseSigned":true,"assertionSigned":true`, `"responseSigned":false,"assertionSigned":false`), 400, "E0000001", "at least one of responseSigned and assertionSigned"},
		{"bad expression", "POST", "/api/v1/apps", samlApp(`${user.userName}`, `${user.userName`), 400, "E0000001", "at 1:1"},
		{"bad attribute expression", "POST", "/api/v1/apps", samlApp(`"digestAlgorithm":"SHA256"`, `"digestAlgorithm":"SHA256","attributeStatements":[{"type":"EXPRESSION","name":"a","values":["user.email +"]}]`), 400, "E0000001", "values[0]: invalid expression: expression ends too early at 1:13"},
		{"bad certificate", "POST", "/api/v1/apps", samlApp(`"digestAlgorithm":"SHA256"`, `"digestAlgorithm":"SHA256","spCertificate":{"x5c":["`+notCert+`"]}`), 400, "E0000001", "spCertificate.x5c[0]: is not an X.509 certificate"},
		{"weak certificate", "POST", "/api/v1/apps", samlApp(`"digestAlgorithm":"SHA256"`, `"digestAlgorithm":"SHA256","assertionEncryption":{"enabled":true,"encryptionAlgorithm":"AES256_GCM","keyTransportAlgorithm":"RSA_OAEP","x5c":["`+weakCert+`"]}`), 400, "E0000001", "RSA key of 1024 bits; at least 2048"},
		{"SHA-1", "POST", "/api/v1/apps", samlApp(`"signatureAlgorithm":"RSA_SHA256","digestAlgorithm":"SHA256"`, `"signatureAlgorithm":"RSA_SHA1","digestAlgorithm":"SHA1"`), 400, "E0000001", "RSA_SHA1 is refused"},
		{"lifetime", "POST", "/api/v1/apps", samlApp(`"digestAlgorithm":"SHA256"`, `"digestAlgorithm":"SHA256","samlAssertionLifetimeSeconds":5`), 400, "E0000001", "between 60 and 86400"},
		{"unknown signOn member", "POST", "/api/v1/apps", samlApp(`"audience"`, `"audiance":"x","audience"`), 400, "E0000003", "audiance"},
		{"unknown catalog name", "POST", "/api/v1/apps", samlApp(`"label":"Good"`, `"name":"salesforce","label":"Good"`), 400, "E0000001", "not an app in the catalog"},
		{"unknown settings.app field", "POST", "/api/v1/apps", `{"name":"amazon_aws","settings":{"app":{"color":"red"}}}`, 400, "E0000001", "settings.app.color"},
		{"bad key size", "POST", "/api/v1/apps?keyBits=1024", goodSAMLApp, 400, "E0000001", "keyBits"},
		{"malformed", "POST", "/api/v1/apps", `{"label":`, 400, "E0000003", ""},
		{"replace with javascript ACS", "PUT", appPath, samlApp("https://sp.example.com/acs", "javascript:x"), 400, "E0000001", "ssoAcsUrl"},
		{"switch to unknown kid", "PUT", appPath, samlApp(`"label":"Good"`, `"label":"Good","credentials":{"signing":{"kid":"nope"}}`), 400, "E0000001", "credentials.signing.kid"},
		{"delete active app", "DELETE", appPath, "", 403, "E0000056", "Deactivate"},
		{"unknown app", "GET", "/api/v1/apps/0oa00000000000000000", "", 404, "E0000007", ""},
		{"unknown lifecycle", "POST", appPath + "/lifecycle/explode", "", 404, "E0000008", ""},
		{"assign unknown user", "POST", appPath + "/users", `{"id":"00u00000000000000000","scope":"USER"}`, 404, "E0000007", ""},
		{"assign with password", "POST", appPath + "/users", `{"id":"` + userID + `","credentials":{"password":{"value":"x"}}}`, 400, "E0000041", "User level credentials"},
		{"assign nested profile", "POST", appPath + "/users", `{"id":"` + userID + `","profile":{"a":{"b":1}}}`, 400, "E0000001", "profile.a"},
		{"assign unknown group", "PUT", appPath + "/groups/00g00000000000000000", `{}`, 404, "E0000007", ""},
		{"negative priority", "PUT", appPath + "/groups/" + grp, `{"priority":-1}`, 400, "E0000001", "priority"},
		{"unassign group member", "DELETE", appPath + "/users/" + userID, "", 403, "E0000046", "through a group"},
		{"validity years", "POST", appPath + "/credentials/keys/generate?validityYears=9", "", 400, "E0000001", "validityYears"},
		{"delete active key", "DELETE", appPath + "/credentials/keys/" + kid, "", 400, "E0000001", "active signing key"},
		{"unknown key", "GET", appPath + "/credentials/keys/nope", "", 404, "E0000007", ""},
		{"bad filter", "GET", "/api/v1/apps?filter=" + urlq(`label eq "x"`), "", 400, "E0000031", ""},
		{"or filter", "GET", "/api/v1/apps?filter=" + urlq(`status eq "ACTIVE" or name eq "x"`), "", 400, "E0000031", ""},
		{"limit", "GET", "/api/v1/apps?limit=500", "", 400, "E0000001", "limit"},
	}
	snapshot := func() string {
		var b strings.Builder
		apps := ts.call(t, "GET", "/api/v1/apps?limit=200", ts.token, "")
		b.WriteString(apps.raw)
		b.WriteString(ts.call(t, "GET", appPath+"/users", ts.token, "").raw)
		b.WriteString(ts.call(t, "GET", appPath+"/groups", ts.token, "").raw)
		b.WriteString(ts.call(t, "GET", appPath+"/credentials/keys", ts.token, "").raw)
		return b.String()
	}
	before := snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.call(t, c.method, c.path, ts.token, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			if r.body["errorCode"] != c.code {
				t.Fatalf("errorCode %v, want %s: %s", r.body["errorCode"], c.code, r.raw)
			}
			for _, k := range []string{"errorSummary", "errorLink", "errorId"} {
				if s, _ := r.body[k].(string); s == "" {
					t.Fatalf("missing %s in %s", k, r.raw)
				}
			}
			if _, ok := r.body["errorCauses"].([]any); !ok {
				t.Fatalf("errorCauses is not an array: %s", r.raw)
			}
			if c.cause != "" && !strings.Contains(r.raw, c.cause) {
				t.Fatalf("error does not mention %q: %s", c.cause, r.raw)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("state changed:\nbefore %s\nafter  %s", before, after)
	}
	if apps, _ := ts.catalog.Store.Apps(ctx, catalog.AppQuery{Limit: 10}); len(apps) != 1 {
		t.Fatalf("apps: %d", len(apps))
	}
}

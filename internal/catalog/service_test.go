package catalog_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

type env struct {
	svc *catalog.Service
	db  *sqlstore.DB
	src *ids.Source
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db := storetest.SQLite(t)
	mk, err := keys.NewMasterKey(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewSealer(nil, mk)
	if err != nil {
		t.Fatal(err)
	}
	src := ids.NewSource(nil)
	svc := &catalog.Service{
		Store: db.Catalog(), Directory: db.Directory(), Sealer: sealer, Expr: expr.NewEngine(), IDs: src,
		Now: time.Now, Events: audit.Builder{Now: time.Now, UUID: func() string { return src.New(ids.Event) }},
		Config: catalog.Config{OrgSlug: "acme"},
	}
	return &env{svc: svc, db: db, src: src}
}

func (e *env) user(t testing.TB, login string, groups ...*directory.Group) *directory.User {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &directory.User{ID: e.src.New(ids.User), Status: directory.Active, Created: now, LastUpdated: now,
		Profile: directory.Profile{"login": login, "email": login, "firstName": "Ann", "lastName": "Lee"}}
	err := e.db.Directory().Update(context.Background(), func(tx directory.Tx) error {
		if err := tx.InsertUser(u); err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := tx.AddMember(g.ID, u.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) group(t testing.TB, name string) *directory.Group {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := &directory.Group{ID: e.src.New(ids.Group), Type: "OKTA_GROUP", Name: name, Created: now, LastUpdated: now, LastMembershipUpdated: now}
	if err := e.db.Directory().Update(context.Background(), func(tx directory.Tx) error { return tx.InsertGroup(g) }); err != nil {
		t.Fatal(err)
	}
	return g
}

func goodSignOn() *catalog.SignOn {
	so := catalog.TemplateFor("").DefaultSignOn
	so.SSOAcsURL = "https://sp.example.com/saml/acs?tenant=1&x=%2F"
	so.Audience = "https://sp.example.com/metadata"
	so.AttributeStatements = []catalog.AttributeStatement{
		{Type: "EXPRESSION", Name: "email", Namespace: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"user.email"}},
		{Type: "GROUP", Name: "groups", FilterType: "REGEX", FilterValue: "agents_.*"},
	}
	return &so
}

func (e *env) customApp(t *testing.T, label string, activate bool) *catalog.App {
	t.Helper()
	a, err := e.svc.CreateApp(context.Background(), catalog.AppInput{Label: label, SignOn: goodSignOn()}, catalog.CreateOptions{Activate: activate})
	if err != nil {
		t.Fatalf("create %s: %v", label, err)
	}
	return a
}

func cert(t *testing.T, bits int) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func fieldsOf(err error) map[string]string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	m := map[string]string{}
	for _, f := range e.Fields {
		m[f.Field] = f.Message
	}
	return m
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	weak := cert(t, 1024)
	cases := []struct {
		name   string
		mutate func(so *catalog.SignOn, in *catalog.AppInput)
		field  string
		msg    string
	}{
		{"javascript ACS", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "javascript:alert(1)" }, "settings.signOn.ssoAcsUrl", "javascript: scheme is not allowed"},
		{"data ACS", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "data:text/html,x" }, "settings.signOn.ssoAcsUrl", "data: scheme"},
		{"http ACS elsewhere", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "http://sp.example.com/acs" }, "settings.signOn.ssoAcsUrl", "must use https"},
		{"relative ACS", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "/acs" }, "settings.signOn.ssoAcsUrl", "absolute"},
		{"ACS with space", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "https://sp.example.com/a cs" }, "settings.signOn.ssoAcsUrl", "white space"},
		{"ACS with credentials", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SSOAcsURL = "https://u:p@sp.example.com/acs" }, "settings.signOn.ssoAcsUrl", "user name"},
		{"bad recipient", func(so *catalog.SignOn, _ *catalog.AppInput) { so.Recipient = "ftp://x" }, "settings.signOn.recipient", "ftp: scheme"},
		{"missing audience", func(so *catalog.SignOn, _ *catalog.AppInput) { so.Audience = "" }, "settings.signOn.audience", "cannot be left blank"},
		{"nothing signed", func(so *catalog.SignOn, _ *catalog.AppInput) { so.ResponseSigned, so.AssertionSigned = false, false }, "settings.signOn.assertionSigned", "at least one"},
		{"SHA-1 signature", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SignatureAlgorithm = "RSA_SHA1" }, "settings.signOn.signatureAlgorithm", "RSA_SHA1 is refused"},
		{"SHA-1 digest", func(so *catalog.SignOn, _ *catalog.AppInput) { so.DigestAlgorithm = "SHA1" }, "settings.signOn.digestAlgorithm", "SHA1 is refused"},
		{"name ID format", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SubjectNameIDFormat = "urn:x" }, "settings.signOn.subjectNameIdFormat", "must be one of"},
		{"bad NameID expression", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SubjectNameIDTemplate = "${user.email" }, "settings.signOn.subjectNameIdTemplate", "at 1:1"},
		{"bad attribute expression", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AttributeStatements[0].Values = []string{"user.email +"}
		}, "settings.signOn.attributeStatements[0].values[0]", "at 1:13"},
		{"bad group regex", func(so *catalog.SignOn, _ *catalog.AppInput) { so.AttributeStatements[1].FilterValue = "agents_(" }, "settings.signOn.attributeStatements[1].filterValue", "invalid regular expression"},
		{"long group regex", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AttributeStatements[1].FilterValue = strings.Repeat("a", catalog.MaxRegexLen+1)
		}, "settings.signOn.attributeStatements[1].filterValue", "at most"},
		{"duplicate attribute", func(so *catalog.SignOn, _ *catalog.AppInput) { so.AttributeStatements[1].Name = "email" }, "settings.signOn.attributeStatements[1].name", "already defined"},
		{"bad filter type", func(so *catalog.SignOn, _ *catalog.AppInput) { so.AttributeStatements[1].FilterType = "LIKE" }, "settings.signOn.attributeStatements[1].filterType", "STARTS_WITH"},
		{"cert not base64", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SPCertificate.X5C = []string{"!!"} }, "settings.signOn.spCertificate.x5c[0]", "not base64"},
		{"cert not a certificate", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SPCertificate.X5C = []string{"AAAA"} }, "settings.signOn.spCertificate.x5c[0]", "not an X.509"},
		{"weak cert", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AssertionEncryption = catalog.AssertionEncryption{Enabled: true, EncryptionAlgorithm: "AES256_GCM", KeyTransportAlgorithm: "RSA_OAEP", X5C: []string{weak}}
		}, "settings.signOn.assertionEncryption.x5c[0]", "1024 bits"},
		{"encryption without cert", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AssertionEncryption = catalog.AssertionEncryption{Enabled: true, EncryptionAlgorithm: "AES256_GCM", KeyTransportAlgorithm: "RSA_OAEP"}
		}, "settings.signOn.assertionEncryption.x5c", "required"},
		{"RSA_15", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AssertionEncryption = catalog.AssertionEncryption{Enabled: true, EncryptionAlgorithm: "AES256_GCM", KeyTransportAlgorithm: "RSA_15", X5C: []string{cert(t, 2048)}}
		}, "settings.signOn.assertionEncryption.keyTransportAlgorithm", "RSA_15 is refused"},
		{"signed requests without cert", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SAMLSignedRequestEnabled = true }, "settings.signOn.samlSignedRequestEnabled", "spCertificate"},
		{"duplicate ACS index", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.AcsEndpoints = []catalog.ACSEndpoint{{URL: "https://a.example.com/1", Index: 1}, {URL: "https://a.example.com/2", Index: 1}}
		}, "settings.signOn.acsEndpoints[1].index", "used by another"},
		{"lifetime too short", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SAMLAssertionLifetimeSeconds = 30 }, "settings.signOn.samlAssertionLifetimeSeconds", "between 60 and 86400"},
		{"lifetime too long", func(so *catalog.SignOn, _ *catalog.AppInput) { so.SAMLAssertionLifetimeSeconds = 86401 }, "settings.signOn.samlAssertionLifetimeSeconds", "between"},
		{"SLO URL", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.SLO = catalog.SLO{Enabled: true, LogoutURL: "http://evil.example.com"}
		}, "settings.signOn.slo.logoutUrl", "https"},
		{"SLO without the SP's certificate", func(so *catalog.SignOn, _ *catalog.AppInput) {
			so.SLO = catalog.SLO{Enabled: true, LogoutURL: "https://sp.example.com/slo"}
			so.SPCertificate = catalog.SPCertificate{}
		}, "settings.signOn.slo.enabled", "logout requests must be signed"},
		{"label too long", func(_ *catalog.SignOn, in *catalog.AppInput) { in.Label = strings.Repeat("x", 101) }, "label", "at most 100"},
		{"blank label", func(_ *catalog.SignOn, in *catalog.AppInput) { in.Label = "   " }, "label", "blank"},
		{"bad username template", func(_ *catalog.SignOn, in *catalog.AppInput) {
			in.UserNameTemplate = &catalog.UserNameTemplate{Template: "String.nope(user.login)", Type: "CUSTOM"}
		}, "credentials.userNameTemplate.template", "invalid expression"},
		{"unknown app setting", func(_ *catalog.SignOn, in *catalog.AppInput) { in.SettingsApp = map[string]any{"foo": 1} }, "settings.app.foo", "not a setting"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			so := goodSignOn()
			in := catalog.AppInput{Label: "Bad", SignOn: so}
			c.mutate(so, &in)
			_, err := e.svc.CreateApp(context.Background(), in, catalog.CreateOptions{})
			f := fieldsOf(err)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(f[c.field], c.msg) {
				t.Fatalf("want %s to mention %q, got %v", c.field, c.msg, err)
			}
		})
	}
	apps, _ := e.svc.Store.Apps(context.Background(), catalog.AppQuery{Limit: 10})
	if len(apps) != 0 {
		t.Fatalf("invalid apps were stored: %d", len(apps))
	}
	// Every problem is reported at once.
	so := goodSignOn()
	so.SSOAcsURL, so.Audience, so.ResponseSigned, so.AssertionSigned = "javascript:x", "", false, false
	_, err := e.svc.CreateApp(context.Background(), catalog.AppInput{Label: "", SignOn: so}, catalog.CreateOptions{})
	if f := fieldsOf(err); len(f) < 4 {
		t.Fatalf("want at least 4 problems, got %v", err)
	}
	// Loopback http and exact ACS strings are kept.
	so = goodSignOn()
	so.SSOAcsURL = "http://127.0.0.1:8080/acs?b=2&a=1"
	a, err := e.svc.CreateApp(context.Background(), catalog.AppInput{Label: "Local", SignOn: so}, catalog.CreateOptions{})
	if err != nil || a.Settings.SignOn.SSOAcsURL != "http://127.0.0.1:8080/acs?b=2&a=1" || a.Settings.SignOn.Recipient != a.Settings.SignOn.SSOAcsURL {
		t.Fatalf("loopback app: %v %+v", err, a)
	}
}

func TestLegacyCryptoOption(t *testing.T) {
	e := newEnv(t)
	e.svc.Config.AllowLegacyCrypto = true
	so := goodSignOn()
	so.SignatureAlgorithm, so.DigestAlgorithm = "RSA_SHA1", "SHA1"
	if _, err := e.svc.CreateApp(context.Background(), catalog.AppInput{Label: "Old SP", SignOn: so}, catalog.CreateOptions{}); err != nil {
		t.Fatalf("legacy SHA-1 app: %v", err)
	}
}

func TestCreateNamesAndDefaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a1 := e.customApp(t, "Example Custom SAML 2.0 App", true)
	a2 := e.customApp(t, "Example Custom SAML 2.0 App", false)
	if a1.Name != "acme_examplecustomsaml20app_1" || a2.Name != "acme_examplecustomsaml20app_2" {
		t.Fatalf("names %q %q", a1.Name, a2.Name)
	}
	if a1.Status != catalog.Active || a2.Status != catalog.Inactive || !strings.HasPrefix(a1.ExternalKey, "exk") || !strings.HasPrefix(a1.ID, "0oa") {
		t.Fatalf("app: %+v", a1)
	}
	if a1.EntityID("https://id.example.com/") != "https://id.example.com/"+a1.ExternalKey || a1.SSOPath() != "/app/"+a1.Name+"/"+a1.ExternalKey+"/sso/saml" {
		t.Fatalf("entity id %q, sso %q", a1.EntityID("https://id.example.com/"), a1.SSOPath())
	}
	if a1.Credentials.UserNameTemplate != (catalog.UserNameTemplate{Template: "${source.login}", Type: "BUILT_IN"}) {
		t.Fatalf("username template %+v", a1.Credentials.UserNameTemplate)
	}
	aws, err := e.svc.CreateApp(ctx, catalog.AppInput{Name: "amazon_aws", SettingsApp: map[string]any{
		"identityProviderArn": "arn:aws:iam::123456789012:saml-provider/Gatehouse", "sessionDuration": float64(43200),
		"accessKey": "AKIAEXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG"}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	so := aws.Settings.SignOn
	if aws.Name != "amazon_aws" || aws.Label != "AWS Account Federation" || so.SSOAcsURL != catalog.AWSSignInACS || so.Audience != catalog.AWSAudience ||
		!so.ResponseSigned || !so.AssertionSigned || so.SignatureAlgorithm != "RSA_SHA256" || so.SubjectNameIDFormat != catalog.NameIDUnspecified {
		t.Fatalf("aws defaults: %+v", aws)
	}
	sa := aws.Settings.App
	if sa["sessionDuration"] != int64(43200) || sa["appFilter"] != "okta" || sa["joinAllRoles"] != false || sa["awsEnvironmentType"] != "aws.amazon" ||
		sa["loginURL"] != catalog.AWSDefaultPage || !strings.Contains(sa["groupFilter"].(string), "(?{{accountid}}") {
		t.Fatalf("aws settings: %+v", sa)
	}
	if _, ok := sa["secretKey"]; ok {
		t.Fatal("secretKey kept in settings.app")
	}
	stored, _ := e.svc.Store.App(ctx, aws.ID)
	for _, k := range []string{"accessKey", "secretKey"} {
		if v := stored.Secrets[k]; v == "" || strings.Contains(v, "wJalr") || strings.Contains(v, "AKIA") {
			t.Fatalf("%s not sealed: %q", k, v)
		}
	}
	if got, err := e.svc.AppSecret(ctx, aws.ID, "secretKey"); err != nil || got != "wJalrXUtnFEMI/K7MDENG" {
		t.Fatalf("secret: %q %v", got, err)
	}
	// Replacing without the secret keeps it; an empty string clears it.
	up, err := e.svc.UpdateApp(ctx, aws.ID, catalog.AppInput{Label: "AWS Prod", SettingsApp: map[string]any{"secretKey": nil}})
	if err != nil || up.Label != "AWS Prod" || up.Settings.SignOn.Audience != catalog.AWSAudience {
		t.Fatalf("update: %v %+v", err, up)
	}
	if got, _ := e.svc.AppSecret(ctx, aws.ID, "secretKey"); got != "wJalrXUtnFEMI/K7MDENG" {
		t.Fatal("secret lost on update")
	}
	if _, err := e.svc.UpdateApp(ctx, aws.ID, catalog.AppInput{SettingsApp: map[string]any{"accessKey": ""}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.AppSecret(ctx, aws.ID, "accessKey"); got != "" {
		t.Fatal("secret not cleared")
	}
	if _, err := e.svc.UpdateApp(ctx, aws.ID, catalog.AppInput{Name: "amazon_connect"}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("renaming: %v", err)
	}
	if _, err := e.svc.CreateApp(ctx, catalog.AppInput{Name: "salesforce"}, catalog.CreateOptions{}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("unknown template: %v", err)
	}
}

func TestLifecycleAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.customApp(t, "Life", true)
	err := e.svc.DeleteApp(ctx, a.ID)
	if ee, ok := errs.As(err); !ok || ee.Code != "E0000056" {
		t.Fatalf("delete active: %v", err)
	}
	if err := e.svc.DeactivateApp(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteApp(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Store.App(ctx, a.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted app: %v", err)
	}
	evs, _, err := e.db.Events().Query(ctx, audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.EventType)
	}
	want := "application.lifecycle.create app.keys.generate application.lifecycle.activate application.lifecycle.deactivate application.lifecycle.delete"
	if strings.Join(types, " ") != want {
		t.Fatalf("events %v", types)
	}
}

func TestKeyRollover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.customApp(t, "Keys", true)
	active, published, err := e.svc.SigningKeys(ctx, a.ID)
	if err != nil || active.Kid != a.Credentials.SigningKid || len(published) != 1 || active.Key.N.BitLen() != 2048 ||
		!active.Key.PublicKey.Equal(published[0].PublicKey) {
		t.Fatalf("first key: %v %+v", err, active)
	}
	again, _, _ := e.svc.SigningKeys(ctx, a.ID)
	if again != active {
		t.Fatal("parsed key not cached")
	}
	next, err := e.svc.GenerateKey(ctx, a.ID, 2, 3072)
	if err != nil || next.Bits != 3072 || next.ExpiresAt.Sub(next.Created) < 729*24*time.Hour {
		t.Fatalf("generate: %v %+v", err, next)
	}
	active2, published, _ := e.svc.SigningKeys(ctx, a.ID)
	if active2.Kid != active.Kid || len(published) != 2 {
		t.Fatalf("after generate: active %s, %d published", active2.Kid, len(published))
	}
	if err := e.svc.DeleteKey(ctx, a.ID, active.Kid); !errs.Is(err, errs.Invalid) {
		t.Fatalf("deleting the active key: %v", err)
	}
	if _, err := e.svc.UpdateApp(ctx, a.ID, catalog.AppInput{SigningKid: "nope"}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("switching to an unknown kid: %v", err)
	}
	if _, err := e.svc.UpdateApp(ctx, a.ID, catalog.AppInput{SigningKid: next.Kid}); err != nil {
		t.Fatal(err)
	}
	active3, published, _ := e.svc.SigningKeys(ctx, a.ID)
	if active3.Kid != next.Kid || active3.Key.N.BitLen() != 3072 || published[0].Equal(published[1]) || keys.KeyID(published[0]) != next.Kid {
		t.Fatalf("after switch: %s", active3.Kid)
	}
	if err := e.svc.DeleteKey(ctx, a.ID, active.Kid); err != nil {
		t.Fatal(err)
	}
	_, recs, _ := e.svc.Keys(ctx, a.ID)
	if len(recs) != 1 || recs[0].Kid != next.Kid {
		t.Fatalf("after retire: %d keys", len(recs))
	}
	if _, err := e.svc.GenerateKey(ctx, a.ID, 5, 0); !errs.Is(err, errs.Invalid) {
		t.Fatalf("validityYears 5: %v", err)
	}
	if _, err := e.svc.GenerateKey(ctx, a.ID, 1, 1024); !errs.Is(err, errs.Invalid) {
		t.Fatalf("1024 bits: %v", err)
	}
}

type rolesOnly struct{ calls int }

func (v *rolesOnly) ValidateAssignmentProfile(_ context.Context, _ *catalog.App, _ catalog.Scope, p map[string]any) error {
	v.calls++
	for k := range p {
		if k != "role" && k != "samlRoles" {
			return errs.InvalidFields("Api validation failed: profile", errs.Field("profile."+k, "profile.%s: not an AWS assignment property", k))
		}
	}
	return nil
}

func TestAssignments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	agents, leads := e.group(t, "Agents"), e.group(t, "Leads")
	direct := e.user(t, "direct@example.com", agents)
	both := e.user(t, "both@example.com", agents, leads)
	none := e.user(t, "none@example.com")
	a := e.customApp(t, "Assign", true)
	a, _ = e.svc.UpdateApp(ctx, a.ID, catalog.AppInput{UserNameTemplate: &catalog.UserNameTemplate{Template: `String.substringBefore(user.email, "@")`, Type: "CUSTOM"}})

	var changes []catalog.ChangeKind
	e.svc.OnChange = []catalog.ChangeHook{func(_ context.Context, _ catalog.Tx, c catalog.Change) error {
		changes = append(changes, c.Kind)
		return nil
	}}
	as, err := e.svc.AssignUser(ctx, a.ID, direct.ID, catalog.AssignUserInput{Profile: map[string]any{"role": "Agent"}})
	if err != nil || as.Scope != catalog.ScopeUser || as.UserName != "direct" || as.Profile["role"] != "Agent" {
		t.Fatalf("assign: %v %+v", err, as)
	}
	one := 1
	if _, err := e.svc.AssignGroup(ctx, a.ID, agents.ID, catalog.AssignGroupInput{Profile: map[string]any{"role": "FromAgents"}}); err != nil {
		t.Fatal(err)
	}
	lg, err := e.svc.AssignGroup(ctx, a.ID, leads.ID, catalog.AssignGroupInput{Profile: map[string]any{"role": "FromLeads"}})
	if err != nil || lg.Priority != 1 {
		t.Fatalf("second group gets the next priority: %v %+v", err, lg)
	}
	// Leads (priority 1) vs Agents (0): Agents wins for "both".
	got, err := e.svc.Assignment(ctx, a.ID, both.ID)
	if err != nil || got.Scope != catalog.ScopeGroup || got.GroupID != agents.ID || got.Profile["role"] != "FromAgents" || got.UserName != "both" {
		t.Fatalf("effective via group: %v %+v", err, got)
	}
	if _, err := e.svc.AssignGroup(ctx, a.ID, leads.ID, catalog.AssignGroupInput{Priority: new(int)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AssignGroup(ctx, a.ID, agents.ID, catalog.AssignGroupInput{Priority: &one}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Assignment(ctx, a.ID, both.ID)
	if got.GroupID != leads.ID || got.Profile["role"] != "FromLeads" {
		t.Fatalf("after reprioritizing: %+v", got)
	}
	got, _ = e.svc.Assignment(ctx, a.ID, direct.ID)
	if got.Scope != catalog.ScopeUser || got.Profile["role"] != "Agent" {
		t.Fatalf("direct wins over group: %+v", got)
	}
	if _, err := e.svc.Assignment(ctx, a.ID, none.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unassigned: %v", err)
	}
	name := "agent.007"
	up, err := e.svc.UpdateAppUser(ctx, a.ID, direct.ID, catalog.AssignUserInput{UserName: &name})
	if err != nil || up.UserName != name || up.Profile["role"] != "Agent" {
		t.Fatalf("update username: %v %+v", err, up)
	}
	// A group-only user gets a direct assignment when updated.
	up, err = e.svc.UpdateAppUser(ctx, a.ID, both.ID, catalog.AssignUserInput{Profile: map[string]any{"role": "Own"}})
	if err != nil || up.Scope != catalog.ScopeUser {
		t.Fatalf("update group user: %v %+v", err, up)
	}
	if _, err := e.svc.UpdateAppUser(ctx, a.ID, none.ID, catalog.AssignUserInput{}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("update unassigned: %v", err)
	}
	users, err := e.svc.AppUsers(ctx, catalog.AppUserQuery{AppID: a.ID, Limit: 10})
	if err != nil || len(users) != 2 {
		t.Fatalf("app users: %v %d", err, len(users))
	}
	if err := e.svc.UnassignUser(ctx, a.ID, both.ID); err != nil {
		t.Fatal(err)
	}
	err = e.svc.UnassignUser(ctx, a.ID, both.ID)
	if ee, ok := errs.As(err); !ok || ee.Code != "E0000046" {
		t.Fatalf("unassigning a group user: %v", err)
	}
	if _, err := e.svc.AssignUser(ctx, a.ID, "00u00000000000000000", catalog.AssignUserInput{}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := e.svc.AssignUser(ctx, a.ID, none.ID, catalog.AssignUserInput{Profile: map[string]any{"x": map[string]any{"nested": 1}}}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("nested profile: %v", err)
	}
	// Dashboard: active apps only.
	inactive := e.customApp(t, "Inactive", false)
	if _, err := e.svc.AssignUser(ctx, inactive.ID, direct.ID, catalog.AssignUserInput{}); err != nil {
		t.Fatal(err)
	}
	apps, err := e.svc.AppsForUser(ctx, direct.ID)
	if err != nil || len(apps) != 1 || apps[0].ID != a.ID {
		t.Fatalf("apps for user: %v %d", err, len(apps))
	}
	want := []catalog.ChangeKind{catalog.UserAssigned, catalog.GroupAssigned, catalog.GroupAssigned, catalog.GroupAssignmentUpdated,
		catalog.GroupAssignmentUpdated, catalog.UserAssignmentUpdated, catalog.UserAssigned, catalog.UserUnassigned, catalog.AppCreated, catalog.UserAssigned}
	if len(changes) != len(want) {
		t.Fatalf("changes %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("changes %v, want %v", changes, want)
		}
	}
}

func TestHooksAndValidatorsRollBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "hook@example.com")
	v := &rolesOnly{}
	e.svc.ProfileValidators = map[string]catalog.ProfileValidator{"amazon_aws": v}
	aws, err := e.svc.CreateApp(ctx, catalog.AppInput{Name: "amazon_aws"}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AssignUser(ctx, aws.ID, u.ID, catalog.AssignUserInput{Profile: map[string]any{"color": "red"}}); !errs.Is(err, errs.Invalid) || v.calls != 1 {
		t.Fatalf("validator: %v (%d calls)", err, v.calls)
	}
	if _, err := e.svc.AssignUser(ctx, aws.ID, u.ID, catalog.AssignUserInput{Profile: map[string]any{"samlRoles": []any{"Agent"}}}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("queue full")
	e.svc.OnChange = []catalog.ChangeHook{func(context.Context, catalog.Tx, catalog.Change) error { return boom }}
	if err := e.svc.UnassignUser(ctx, aws.ID, u.ID); !errors.Is(err, boom) {
		t.Fatalf("hook error: %v", err)
	}
	if _, err := e.svc.Assignment(ctx, aws.ID, u.ID); err != nil {
		t.Fatalf("assignment removed despite the hook failing: %v", err)
	}
}

// TestSigningKeysConcurrent reads keys from many goroutines while the key
// set changes (run with -race).
func TestSigningKeysConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.customApp(t, "Concurrent", true)
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i := 0; i < 20; i++ {
				active, published, err := e.svc.SigningKeys(ctx, a.ID)
				if err != nil {
					done <- err
					return
				}
				if active.Key == nil || len(published) == 0 || !active.Key.PublicKey.Equal(published[0].PublicKey) {
					done <- errors.New("active key does not match the first published certificate")
					return
				}
			}
			done <- nil
		}()
	}
	k, err := e.svc.GenerateKey(ctx, a.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateApp(ctx, a.ID, catalog.AppInput{SigningKid: k.Kid}); err != nil {
		t.Fatal(err)
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// TestProfileMappingsAPI drives /api/v1/mappings with the official Okta Go
// SDK on SQLite and PostgreSQL: the Amazon Connect app's attribute
// mappings in Okta's Profile Mapping shape, listed, read and updated, with
// bad expressions refused (position in the message) and nothing changed.
func TestProfileMappingsAPI(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		testProfileMappingsAPI(t, newTestServer(t, pg))
	})
}

func testProfileMappingsAPI(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	connect, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateConnect, Label: "Connect",
		SettingsApp: map[string]any{"region": "eu-west-2", "instanceId": connectInstance}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	aws, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateAWS, Label: "AWS",
		SettingsApp: map[string]any{"identityProviderArn": "arn:aws:iam::123456789012:saml-provider/Gatehouse"}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	wantID := oktaapi.MappingID(connect.ID)

	list, _, err := c.ProfileMappingAPI.ListProfileMappings(ctx).Execute()
	if err != nil {
		t.Fatalf("list mappings: %v", err)
	}
	if len(list) != 1 || list[0].GetId() != wantID || list[0].Source.GetType() != "user" || list[0].Source.GetId() != oktaapi.DefaultUserTypeID ||
		list[0].Target.GetId() != connect.ID || list[0].Target.GetType() != "appuser" || list[0].Target.GetName() != "amazon_connect" {
		t.Fatalf("mappings: %+v", list)
	}
	if l, _, err := c.ProfileMappingAPI.ListProfileMappings(ctx).SourceId(oktaapi.DefaultUserTypeID).TargetId(connect.ID).Execute(); err != nil || len(l) != 1 {
		t.Fatalf("by source and target: %v %d", err, len(l))
	}
	// The AWS app has no users of its own, so no mapping.
	if l, _, err := c.ProfileMappingAPI.ListProfileMappings(ctx).TargetId(aws.ID).Execute(); err != nil || len(l) != 0 {
		t.Fatalf("AWS app mappings: %v %+v", err, l)
	}
	if l, _, err := c.ProfileMappingAPI.ListProfileMappings(ctx).SourceId(connect.ID).Execute(); err != nil || len(l) != 0 {
		t.Fatalf("mappings from an app: %v %+v", err, l)
	}

	m, _, err := c.ProfileMappingAPI.GetProfileMapping(ctx, wantID).Execute()
	if err != nil {
		t.Fatalf("get mapping: %v", err)
	}
	props := m.GetProperties()
	prop := func(name string) (expression, push string) {
		p, ok := props[name]
		if !ok {
			return "", ""
		}
		return p.GetExpression(), p.GetPushStatus()
	}
	if e, p := prop("FirstName"); e != "user.firstName" || p != "PUSH" || len(props) != 2 {
		t.Fatalf("default mapping properties: %+v", props)
	}

	// Add Email (set only at creation) and Mobile.
	upd, _, err := c.ProfileMappingAPI.UpdateProfileMapping(ctx, wantID).ProfileMapping(okta.ProfileMappingRequest{Properties: map[string]okta.ProfileMappingProperty{
		"Email":  {Expression: okta.PtrString("user.email"), PushStatus: okta.PtrString("DONT_PUSH")},
		"Mobile": {Expression: okta.PtrString("user.mobilePhone"), PushStatus: okta.PtrString("PUSH")},
	}}).Execute()
	if err != nil {
		t.Fatalf("update mapping: %v", err)
	}
	props = upd.GetProperties()
	_, emailPush := prop("Email")
	mobile, _ := prop("Mobile")
	first, _ := prop("FirstName")
	if emailPush != "DONT_PUSH" || mobile != "user.mobilePhone" || first != "user.firstName" {
		t.Fatalf("after update: %+v", props)
	}
	prov := ts.call(t, "GET", "/api/v1/apps/"+connect.ID+"/provisioning", ts.token, "")
	if prov.body["mappings"].(map[string]any)["Email"] != "user.email" || !strings.Contains(prov.raw, `"dontPush":["Email"]`) {
		t.Fatalf("provisioning settings after the mapping update: %s", prov.raw)
	}

	// Bad input: a syntax error (with its position), an unknown attribute,
	// a bad push status; each named, and nothing changed.
	before := ts.call(t, "GET", "/api/v1/mappings/"+wantID, ts.token, "").raw
	for _, c := range []struct{ body, want string }{
		{`{"properties":{"Mobile":{"expression":"user.mobilePhone +","pushStatus":"PUSH"}}}`, "properties.Mobile.expression: Invalid expression: expression ends too early at 1:19"},
		{`{"properties":{"Nickname":{"expression":"user.nickName"}}}`, "properties.Nickname"},
		{`{"properties":{"Email":{"expression":"user.email","pushStatus":"SOMETIMES"}}}`, "properties.Email.pushStatus: must be PUSH or DONT_PUSH"},
		{`{"properties":{"Email":{"expression":""}}}`, "properties.Email.expression"},
		{`{"properties":{"Email":"user.email"}}`, "properties.Email"},
		{`{"props":{}}`, "props"},
	} {
		r := ts.call(t, "POST", "/api/v1/mappings/"+wantID, ts.token, c.body)
		if r.status != 400 || r.body["errorCode"] != "E0000001" && r.body["errorCode"] != "E0000003" || !strings.Contains(r.raw, c.want) {
			t.Errorf("%s: %d %s (want a cause with %q)", c.body, r.status, r.raw, c.want)
		}
	}
	if after := ts.call(t, "GET", "/api/v1/mappings/"+wantID, ts.token, "").raw; after != before {
		t.Fatalf("a refused update changed the mapping:\n%s\n%s", before, after)
	}

	// A null property removes the mapping.
	r := ts.call(t, "POST", "/api/v1/mappings/"+wantID, ts.token, `{"properties":{"Mobile":null}}`)
	if r.status != 200 {
		t.Fatalf("remove Mobile: %d %s", r.status, r.raw)
	}
	var got struct {
		Properties map[string]map[string]string `json:"properties"`
	}
	if err := json.Unmarshal([]byte(r.raw), &got); err != nil || got.Properties["Mobile"] != nil || got.Properties["Email"]["expression"] != "user.email" {
		t.Fatalf("after removing Mobile: %v %s", err, r.raw)
	}

	// Unknown ids, and another app's id, are 404 in Okta's shape.
	for _, id := range []string{"prmnotamapping000000", "nope", oktaapi.MappingID(aws.ID)} {
		if r := ts.call(t, "GET", "/api/v1/mappings/"+id, ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
			t.Errorf("GET mapping %s: %d %s", id, r.status, r.raw)
		}
	}
	// Paging: limit 1 over two Connect apps gives a next link.
	if _, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateConnect, Label: "Connect 2",
		SettingsApp: map[string]any{"region": "eu-west-2", "instanceId": connectInstance}}, catalog.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p1 := ts.call(t, "GET", "/api/v1/mappings?limit=1", ts.token, "")
	if p1.status != 200 || !strings.Contains(strings.Join(p1.header.Values("Link"), " "), `rel="next"`) {
		t.Fatalf("first page: %d %v", p1.status, p1.header.Values("Link"))
	}
	all, _, err := c.ProfileMappingAPI.ListProfileMappings(ctx).Limit(1).Execute()
	if err != nil || len(all) != 1 {
		t.Fatalf("limit 1: %v %d", err, len(all))
	}
}

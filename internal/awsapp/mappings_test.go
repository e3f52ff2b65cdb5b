package awsapp

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
)

func TestValidateMappings(t *testing.T) {
	in := &Integration{Expr: expr.NewEngine()}
	p := ProvisioningSettings{Mappings: map[string]string{"FirstName": "user.firstName", "LastName": " ", "Email": "user.email +", "Nickname": "x"},
		DontPush: []string{"FirstName", "FirstName", "LastName", "Pager"}}
	fe := in.validateMappings(&p)
	got := map[string]string{}
	for _, f := range fe {
		got[f.Field] = f.Message
	}
	if !strings.Contains(got["mappings.Email"], "at 1:13") || got["mappings.Nickname"] == "" || got["dontPush"] == "" || len(fe) != 3 {
		t.Fatalf("problems: %v", got)
	}
	// The empty mapping is removed, and with it its push status; the
	// duplicate is kept once.
	if _, ok := p.Mappings["LastName"]; ok || strings.Join(p.DontPush, ",") != "FirstName" {
		t.Fatalf("after validation: %v %v", p.Mappings, p.DontPush)
	}
	if p.PushStatus("FirstName") != DontPush || p.PushStatus("Email") != Push {
		t.Fatal("push status")
	}
}

func TestIdentityAndDontPush(t *testing.T) {
	in := &Integration{Expr: expr.NewEngine()}
	info, failed := in.identityOf(map[string]string{"FirstName": "user.firstName", "LastName": "Convert.toInt(user.lastName)", "Email": "user.email"},
		expr.Env{User: map[string]any{"firstName": "Lee", "lastName": "Chan", "email": "lee@example.com"}})
	if info.FirstName != "Lee" || info.Email != "lee@example.com" || info.LastName != "" || !strings.Contains(failed["LastName"], "not a whole number") || len(failed) != 1 {
		t.Fatalf("identity: %+v %v", info, failed)
	}
	p := ProvisioningSettings{DontPush: []string{"Email", "Mobile"}}
	cur := amazonconnect.IdentityInfo{FirstName: "Old", Email: "old@example.com", Mobile: "+14155550100"}
	want := keepDontPush(p, amazonconnect.IdentityInfo{FirstName: "New", Email: "new@example.com"}, cur)
	if want != (amazonconnect.IdentityInfo{FirstName: "New", Email: "old@example.com", Mobile: "+14155550100"}) {
		t.Fatalf("kept: %+v", want)
	}
}

func TestRestoreOnly(t *testing.T) {
	plan := []amazonconnect.Change{{Op: amazonconnect.OpUpdateIdentityInfo}, {Op: amazonconnect.OpUpdateSecurityProfiles}}
	stripped := &amazonconnect.DescribedUser{SecurityProfileIDs: []string{"fallback"}}
	if got := restoreOnly(plan, stripped, "fallback"); len(got) != 1 || got[0].Op != amazonconnect.OpUpdateSecurityProfiles {
		t.Fatalf("stripped user: %+v", got)
	}
	for _, cur := range []*amazonconnect.DescribedUser{{SecurityProfileIDs: []string{"agent"}}, {SecurityProfileIDs: []string{"fallback", "agent"}}} {
		if got := restoreOnly(plan, cur, "fallback"); len(got) != 0 {
			t.Fatalf("a user Gatehouse did not strip (%v) is changed: %+v", cur.SecurityProfileIDs, got)
		}
	}
	if got := restoreOnly(plan, stripped, ""); len(got) != 0 {
		t.Fatal("restored without a fallback")
	}
}

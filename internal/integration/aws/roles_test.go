package aws

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/errs"
)

const (
	roleAgent    = "arn:aws:iam::123456789012:role/ConnectAgent"
	roleReadOnly = "arn:aws:iam::123456789012:role/ReadOnly"
	roleAdmin    = "arn:aws:iam::123456789012:role/Admin"
	roleProdRO   = "arn:aws:iam::210987654321:role/ReadOnly"
	roleOrphan   = "arn:aws:iam::555555555555:role/Orphan"
)

func importedRoles() []Role {
	return []Role{
		{Arn: roleAgent, Name: "ConnectAgent", AccountID: "123456789012", AccountAlias: "dev", ProviderArns: []string{provA}},
		{Arn: roleReadOnly, Name: "ReadOnly", AccountID: "123456789012", AccountAlias: "dev", ProviderArns: []string{provA}},
		{Arn: roleAdmin, Name: "Admin", AccountID: "123456789012", AccountAlias: "dev", ProviderArns: []string{provA}},
		{Arn: roleProdRO, Name: "ReadOnly", AccountID: "210987654321", AccountAlias: "prod", ProviderArns: []string{provB}},
		{Arn: roleOrphan, Name: "Orphan", AccountID: "555555555555"},
	}
}

func pair(role string) RolePair {
	prov := provA
	if strings.Contains(role, "210987654321") {
		prov = provB
	}
	return RolePair{RoleArn: role, ProviderArn: prov}
}

func TestEntitlements(t *testing.T) {
	multi := validAWS()
	multi.IdentityProviderArns = []string{provA, provB}
	join := multi
	join.JoinAllRoles = true
	user := func(role string, saml ...string) *AssignmentProfile {
		return &AssignmentProfile{Role: role, SAMLRoles: saml}
	}
	group := func(role string, saml ...string) AssignmentProfile {
		return AssignmentProfile{Role: role, SAMLRoles: saml}
	}

	tests := []struct {
		name  string
		in    EntitlementInput
		want  []RolePair
		noRol bool
		noPrv string
	}{
		{name: "direct samlRoles", in: EntitlementInput{Settings: multi, User: user("", "ConnectAgent", "Admin")},
			want: []RolePair{pair(roleAgent), pair(roleAdmin)}},
		{name: "samlRoles empty falls back to role", in: EntitlementInput{Settings: multi, User: user("ConnectAgent")},
			want: []RolePair{pair(roleAgent)}},
		{name: "samlRoles win over role", in: EntitlementInput{Settings: multi, User: user("Admin", "ConnectAgent")},
			want: []RolePair{pair(roleAgent)}},
		{name: "joinAllRoles off: direct beats groups", in: EntitlementInput{Settings: multi, User: user("", "ConnectAgent"),
			Groups: []AssignmentProfile{group("", "Admin")}}, want: []RolePair{pair(roleAgent)}},
		{name: "joinAllRoles off: no direct roles, highest-priority group", in: EntitlementInput{Settings: multi, User: user(""),
			Groups: []AssignmentProfile{group(""), group("", "Admin"), group("ConnectAgent")}}, want: []RolePair{pair(roleAdmin)}},
		{name: "joinAllRoles off: group only", in: EntitlementInput{Settings: multi,
			Groups: []AssignmentProfile{group("ConnectAgent", "123456789012 -- ConnectAgent")}}, want: []RolePair{pair(roleAgent)}},
		{name: "joinAllRoles on: union, de-duplicated, stable", in: EntitlementInput{Settings: join, User: user("", "ConnectAgent", "[dev] -- Admin"),
			Groups: []AssignmentProfile{group("", "Admin", "[prod] -- ReadOnly"), group(roleAgent)}},
			want: []RolePair{pair(roleAgent), pair(roleAdmin), pair(roleProdRO)}},
		{name: "account and alias forms", in: EntitlementInput{Settings: multi, User: user("", "210987654321 -- ReadOnly", "[dev] -- ReadOnly", "[210987654321] -- ReadOnly")},
			want: []RolePair{pair(roleProdRO), pair(roleReadOnly)}},
		{name: "role ARN form", in: EntitlementInput{Settings: multi, User: user(roleProdRO)}, want: []RolePair{pair(roleProdRO)}},
		{name: "ambiguous bare name is not resolved", in: EntitlementInput{Settings: multi, User: user("", "ReadOnly")}, noRol: true},
		{name: "stale role skipped", in: EntitlementInput{Settings: multi, User: user("", "Gone", "ConnectAgent")}, want: []RolePair{pair(roleAgent)}},
		{name: "no assignment roles", in: EntitlementInput{Settings: multi, User: user("")}, noRol: true},
		{name: "nothing at all", in: EntitlementInput{Settings: multi}, noRol: true},
		{name: "role in account without provider", in: EntitlementInput{Settings: multi, User: user("Orphan")}, noPrv: "555555555555"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Roles = importedRoles()
			got, err := Entitlements(tc.in)
			switch {
			case tc.noRol:
				var nr *NoRolesError
				if !errors.As(err, &nr) {
					t.Fatalf("want NoRolesError, got %v %v", got, err)
				}
			case tc.noPrv != "":
				var np *NoProviderError
				if !errors.As(err, &np) || np.AccountID != tc.noPrv || !strings.Contains(err.Error(), tc.noPrv) {
					t.Fatalf("want NoProviderError for %s, got %v", tc.noPrv, err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %v\nwant %v", got, tc.want)
				}
			}
		})
	}
}

func TestNoRolesErrorNamesUnresolved(t *testing.T) {
	_, err := Entitlements(EntitlementInput{Settings: validAWS(), Roles: importedRoles(), User: &AssignmentProfile{SAMLRoles: []string{"Gone"}}})
	var nr *NoRolesError
	if !errors.As(err, &nr) || !reflect.DeepEqual(nr.Unresolved, []string{"Gone"}) || !strings.Contains(err.Error(), "Gone") {
		t.Fatalf("err %v", err)
	}
}

func TestGroupMappingEntitlements(t *testing.T) {
	s := validAWS()
	s.UseGroupMapping = true
	s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`
	s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}"
	groups := []string{"Everyone", "aws_123456789012_ConnectAgent", "aws_210987654321_Admin", "xaws_123456789012_Admin",
		"aws_123456789012_ConnectAgent", "aws_12345_Bad", "aws_123456789012_Bad Name", "aws_123456789012_" + strings.Repeat("r", 65)}
	tests := []struct {
		name string
		mut  func(*Settings)
		want []RolePair
	}{
		{name: "Okta default filter", mut: func(*Settings) {}, want: []RolePair{
			{RoleArn: "arn:aws:iam::123456789012:role/ConnectAgent", ProviderArn: "arn:aws:iam::123456789012:saml-provider/OKTA"},
			{RoleArn: "arn:aws:iam::210987654321:role/Admin", ProviderArn: "arn:aws:iam::210987654321:saml-provider/OKTA"},
		}},
		{name: "role-first pattern and reversed captures", mut: func(s *Settings) {
			s.GroupFilter = `^aws\#(?{{role}}[\w\-]+)\#(?{{accountid}}\d+)$`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:role/${role},arn:aws:iam::${accountid}:saml-provider/G"
		}, want: nil},
		{name: "joinAllRoles makes no difference", mut: func(s *Settings) { s.JoinAllRoles = true }, want: []RolePair{
			{RoleArn: "arn:aws:iam::123456789012:role/ConnectAgent", ProviderArn: "arn:aws:iam::123456789012:saml-provider/OKTA"},
			{RoleArn: "arn:aws:iam::210987654321:role/Admin", ProviderArn: "arn:aws:iam::210987654321:saml-provider/OKTA"},
		}},
		{name: "appFilter without okta matches nothing", mut: func(s *Settings) { s.AppFilter = "active_directory" }, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := s
			tc.mut(&st)
			got, err := Entitlements(EntitlementInput{Settings: st, GroupNames: groups,
				User: &AssignmentProfile{SAMLRoles: []string{"Ignored"}}})
			if tc.want == nil {
				var nr *NoRolesError
				if !errors.As(err, &nr) {
					t.Fatalf("want NoRolesError, got %v %v", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v %v\nwant %v", got, err, tc.want)
			}
		})
	}
	// The hash-delimited Okta example matches its own group shape.
	st := s
	st.GroupFilter = `^aws\#\S+\#(?{{role}}[\w\-]+)\#(?{{accountid}}\d+)$`
	st.RoleValuePattern = "arn:aws:iam::${accountid}:role/${role},arn:aws:iam::${accountid}:saml-provider/G"
	got, err := Entitlements(EntitlementInput{Settings: st, GroupNames: []string{"aws#team#Agent#123456789012"}})
	want := []RolePair{{RoleArn: "arn:aws:iam::123456789012:role/Agent", ProviderArn: "arn:aws:iam::123456789012:saml-provider/G"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("hash form: %v %v", got, err)
	}
}

func TestRolePairString(t *testing.T) {
	p := RolePair{RoleArn: roleAgent, ProviderArn: provA}
	if p.String() != roleAgent+","+provA {
		t.Fatal(p.String())
	}
	for _, v := range []string{roleAgent + "," + provA, provA + "," + roleAgent, " " + provA + " , " + roleAgent} {
		got, err := ParseRolePair(v)
		if err != nil || got != p {
			t.Errorf("ParseRolePair(%q) = %v %v", v, got, err)
		}
	}
	for _, v := range []string{roleAgent, provA + "," + provA, roleAgent + "," + roleAgent, provA + "," + roleAgent + ",x"} {
		if _, err := ParseRolePair(v); err == nil {
			t.Errorf("ParseRolePair(%q) accepted", v)
		}
	}
}

func TestTranslateGroupFilter(t *testing.T) {
	got, err := TranslateGroupFilter(`aws_(?{{accountid}}\d+)_(?{{role}}\w+)`)
	if err != nil || got != `^(?:aws_(?P<accountid>\d+)_(?P<role>\w+))$` {
		t.Fatalf("%s %v", got, err)
	}
	if _, err := TranslateGroupFilter(`(?{{bad name}}x)`); err == nil {
		t.Fatal("bad capture name accepted")
	}
}

func TestParseProfile(t *testing.T) {
	p, err := ParseProfile(map[string]any{"role": "A", "samlRoles": []any{"B", "C"}})
	if err != nil || p.Role != "A" || !reflect.DeepEqual(p.Values(), []string{"B", "C"}) {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = ParseProfile(map[string]any{"role": "A", "samlRoles": []any{}})
	if err != nil || !reflect.DeepEqual(p.Values(), []string{"A"}) {
		t.Fatalf("%+v %v", p, err)
	}
	_, err = ParseProfile(map[string]any{"role": 3, "samlRoles": []any{1}})
	if e, ok := errs.As(err); !ok || len(e.Fields) != 2 {
		t.Fatalf("%v", err)
	}
}

func TestRoleLabel(t *testing.T) {
	r := importedRoles()[0]
	if r.Label(false) != "ConnectAgent" || r.Label(true) != "[dev] -- ConnectAgent" {
		t.Fatal(r.Label(true))
	}
	r.AccountAlias = ""
	if r.Label(true) != "123456789012 -- ConnectAgent" {
		t.Fatal(r.Label(true))
	}
}

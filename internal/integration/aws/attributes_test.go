package aws

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAttributes(t *testing.T) {
	s := validConnect()
	s.SessionDuration = 43200
	pairs := []RolePair{pair(roleAgent), pair(roleAdmin)}
	got, err := Attributes(AttributeInput{Settings: s, Connect: true, Pairs: pairs, UserName: "jdoe@example.com",
		PrincipalTags: map[string]string{"team": "blue", "CostCenter": "42"}, TransitiveTagKeys: []string{"team"}, SourceIdentity: "jdoe@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Attribute{
		{Name: "https://aws.amazon.com/SAML/Attributes/Role", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
			Values: []string{roleAgent + "," + provA, roleAdmin + "," + provA}},
		{Name: "https://aws.amazon.com/SAML/Attributes/RoleSessionName", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"jdoe@example.com"}},
		{Name: "https://aws.amazon.com/SAML/Attributes/SessionDuration", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"43200"}},
		{Name: "https://aws.amazon.com/SAML/Attributes/PrincipalTag:CostCenter", NameFormat: NameFormatBasic, Values: []string{"42"}},
		{Name: "https://aws.amazon.com/SAML/Attributes/PrincipalTag:team", NameFormat: NameFormatBasic, Values: []string{"blue"}},
		{Name: "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys", NameFormat: NameFormatBasic, Values: []string{"team"}},
		{Name: "https://aws.amazon.com/SAML/Attributes/SourceIdentity", NameFormat: NameFormatBasic, Values: []string{"jdoe@example.com"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// Minimal: only the three AWS attributes.
	got, err = Attributes(AttributeInput{Settings: validAWS(), Pairs: pairs[:1], UserName: "jdoe"})
	if err != nil || len(got) != 3 || got[2].Values[0] != "3600" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestAttributesErrors(t *testing.T) {
	pairs := []RolePair{pair(roleAgent)}
	tests := []struct {
		name    string
		in      AttributeInput
		kind    string // norole, session, attr
		attr    string
		ruleHas string
	}{
		{name: "person with no role", in: AttributeInput{Settings: validAWS(), UserName: "jdoe"}, kind: "norole"},
		{name: "username template gives a space", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "Jane Doe"},
			kind: "session", attr: "RoleSessionName", ruleHas: "2 to 64 characters"},
		{name: "one character", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "j"}, kind: "session", attr: "RoleSessionName"},
		{name: "65 characters", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: strings.Repeat("a", 65)}, kind: "session", attr: "RoleSessionName"},
		{name: "plus is fine for AWS but not Connect", in: AttributeInput{Settings: validConnect(), Connect: true, Pairs: pairs, UserName: "jdoe+agent@example.com"},
			kind: "session", attr: "RoleSessionName", ruleHas: "Amazon Connect"},
		{name: "Connect @ without email shape", in: AttributeInput{Settings: validConnect(), Connect: true, Pairs: pairs, UserName: "jdoe@example"},
			kind: "session", attr: "RoleSessionName", ruleHas: "email address"},
		{name: "Connect two @", in: AttributeInput{Settings: validConnect(), Connect: true, Pairs: pairs, UserName: "a@b@example.com"},
			kind: "session", attr: "RoleSessionName", ruleHas: "email address"},
		{name: "SourceIdentity aws: prefix", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", SourceIdentity: "aws:jdoe"},
			kind: "session", attr: "SourceIdentity", ruleHas: "aws:"},
		{name: "SourceIdentity with space", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", SourceIdentity: "j doe"},
			kind: "session", attr: "SourceIdentity"},
		{name: "transitive key not a tag", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", TransitiveTagKeys: []string{"team"}},
			kind: "attr", attr: "TransitiveTagKeys"},
		{name: "tag key aws:", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", PrincipalTags: map[string]string{"aws:x": "1"}},
			kind: "attr", attr: "PrincipalTag:aws:x"},
		{name: "tag value too long", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", PrincipalTags: map[string]string{"k": strings.Repeat("v", 257)}},
			kind: "attr", attr: "PrincipalTag:k"},
		{name: "tag keys collide by case", in: AttributeInput{Settings: validAWS(), Pairs: pairs, UserName: "jdoe", PrincipalTags: map[string]string{"Team": "a", "team": "b"}},
			kind: "attr", attr: "PrincipalTag:team"},
		{name: "bad session duration", in: AttributeInput{Settings: Settings{SessionDuration: 60}, Pairs: pairs, UserName: "jdoe"}, kind: "attr", attr: "SessionDuration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Attributes(tc.in)
			var nr *NoRolesError
			var sn *SessionNameError
			var ae *AttributeError
			switch tc.kind {
			case "norole":
				if !errors.As(err, &nr) {
					t.Fatalf("want NoRolesError, got %v", err)
				}
			case "session":
				if !errors.As(err, &sn) || sn.Attribute != tc.attr || !strings.Contains(sn.Rule, tc.ruleHas) {
					t.Fatalf("want SessionNameError on %s (%q), got %v", tc.attr, tc.ruleHas, err)
				}
			case "attr":
				if !errors.As(err, &ae) || ae.Attribute != tc.attr {
					t.Fatalf("want AttributeError on %s, got %v", tc.attr, err)
				}
			}
		})
	}
}

func TestCheckRoleSessionName(t *testing.T) {
	for _, tc := range []struct {
		v            string
		aws, connect bool
	}{
		{"jdoe@example.com", true, true},
		{"j.doe_1-x@sub.example.co", true, true},
		{"ab", true, true},
		{"jdoe+x", true, false},
		{"a=b,c", true, false},
		{"jdoe@example", true, false},
		{"@example.com", true, false},
		{"jdoe@.example.com", true, false},
		{"jdoe@example.com.", true, false},
		{"jdoe@ex..ample.com", true, false},
		{"Jane Doe", false, false},
		{"jänne", false, false},
		{"", false, false},
	} {
		if got := CheckRoleSessionName(tc.v, false) == nil; got != tc.aws {
			t.Errorf("AWS %q: ok=%v want %v", tc.v, got, tc.aws)
		}
		if got := CheckRoleSessionName(tc.v, true) == nil; got != tc.connect {
			t.Errorf("Connect %q: ok=%v want %v", tc.v, got, tc.connect)
		}
	}
}

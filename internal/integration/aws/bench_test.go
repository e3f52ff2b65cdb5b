package aws

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkSignInAttributes is the per-sign-in work: entitlements from a
// direct and two group assignments over 200 imported roles, then the AWS
// attributes.
func BenchmarkSignInAttributes(b *testing.B) {
	s := validConnect()
	s.JoinAllRoles = true
	var roles []Role
	for i := range 200 {
		roles = append(roles, Role{Arn: fmt.Sprintf("arn:aws:iam::123456789012:role/Role%03d", i), Name: fmt.Sprintf("Role%03d", i), AccountID: "123456789012"})
	}
	in := EntitlementInput{Settings: s, Roles: roles, User: &AssignmentProfile{SAMLRoles: []string{"Role001", "Role150"}},
		Groups: []AssignmentProfile{{Role: "Role199"}, {SAMLRoles: []string{"Role001", "123456789012 -- Role042"}}}}
	b.ReportAllocs()
	for b.Loop() {
		pairs, err := Entitlements(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Attributes(AttributeInput{Settings: s, Connect: true, Pairs: pairs, UserName: "jdoe@example.com"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTrustPolicy(b *testing.B) {
	doc, err := os.ReadFile("testdata/trust/url-encoded.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseTrustPolicy(string(doc))
		if err != nil || len(p.SAMLProviders()) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateSettings(b *testing.B) {
	s := validConnect()
	s.UseGroupMapping = true
	s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`
	s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}"
	b.ReportAllocs()
	for b.Loop() {
		if v := Validate(s, true); len(v) != 0 {
			b.Fatal(v)
		}
	}
}

package aws

import (
	"strings"
	"testing"
)

func FuzzGroupFilter(f *testing.F) {
	f.Add(`aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`, "aws_123456789012_Admin")
	f.Add(`^aws\#\S+\#(?{{role}}[\w\-]+)\#(?{{accountid}}\d+)$`, "aws#x#Agent#123456789012")
	f.Add(`(?{{role}}`, "x")
	f.Add(`(?{{}}a)(?{{role}}b)`, "ab")
	f.Fuzz(func(t *testing.T, filter, group string) {
		g, err := CompileGroupFilter(filter)
		if err != nil {
			return
		}
		acct, role, ok := g.Match(group)
		if ok && role == "" {
			t.Fatal("match without role")
		}
		if !g.HasAccountCapture() && acct != "" {
			t.Fatal("account without capture")
		}
	})
}

func FuzzParseRolePair(f *testing.F) {
	f.Add(provA + "," + roleAgent)
	f.Add(roleAgent + "," + provA)
	f.Add("arn:aws-us-gov:iam::123456789012:role/a/b/c,arn:aws-us-gov:iam::123456789012:saml-provider/x")
	f.Add(",")
	f.Fuzz(func(t *testing.T, v string) {
		p, err := ParseRolePair(v)
		if err != nil {
			return
		}
		if _, err := ParseRoleArn(p.RoleArn); err != nil {
			t.Fatalf("role %q: %v", p.RoleArn, err)
		}
		if _, err := ParseProviderArn(p.ProviderArn); err != nil {
			t.Fatalf("provider %q: %v", p.ProviderArn, err)
		}
		back, err := ParseRolePair(p.String())
		if err != nil || back != p || strings.Count(p.String(), ",") != 1 {
			t.Fatalf("round trip %v -> %v %v", p, back, err)
		}
	})
}

package iampolicy

import (
	"errors"
	"testing"
)

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/Okta"},
 "Action":["sts:AssumeRoleWithSAML","sts:TagSession"],
 "Condition":{"StringEquals":{"SAML:aud":["https://signin.aws.amazon.com/saml","https://us-east-1.signin.aws.amazon.com/saml"]}}}]}`

const connectPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Statement1","Effect":"Allow","Action":"connect:GetFederationToken",
 "Resource":["arn:aws:connect:us-east-1:123456789012:instance/abc/user/${aws:userid}"]}]}`

func TestTrustPolicy(t *testing.T) {
	d, err := Parse(trust)
	if err != nil {
		t.Fatal(err)
	}
	req := func(principal, action, aud string) Request {
		return Request{PrincipalType: "Federated", Principal: principal, Action: action,
			Context: map[string][]string{"saml:aud": {aud}}}
	}
	const p = "arn:aws:iam::123456789012:saml-provider/Okta"
	tests := []struct {
		name string
		r    Request
		want Decision
	}{
		{"allowed", req(p, "sts:AssumeRoleWithSAML", "https://signin.aws.amazon.com/saml"), Allow},
		{"regional aud", req(p, "sts:AssumeRoleWithSAML", "https://us-east-1.signin.aws.amazon.com/saml"), Allow},
		{"action case-insensitive", req(p, "STS:assumerolewithsaml", "https://signin.aws.amazon.com/saml"), Allow},
		{"wrong aud", req(p, "sts:AssumeRoleWithSAML", "https://evil/saml"), ImplicitDeny},
		{"other provider", req(p+"2", "sts:AssumeRoleWithSAML", "https://signin.aws.amazon.com/saml"), ImplicitDeny},
		{"other action", req(p, "sts:AssumeRole", "https://signin.aws.amazon.com/saml"), ImplicitDeny},
		{"no aud", Request{PrincipalType: "Federated", Principal: p, Action: "sts:AssumeRoleWithSAML"}, ImplicitDeny},
	}
	for _, tt := range tests {
		if got := Evaluate(tt.r, d); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIdentityPolicy(t *testing.T) {
	d, err := Parse(connectPolicy)
	if err != nil {
		t.Fatal(err)
	}
	deny, err := Parse(`{"Statement":{"Effect":"Deny","Action":"connect:*","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := Parse(`{"Statement":[{"Effect":"Allow","Action":"connect:GetFederationToken","Resource":"*","Condition":{"StringEquals":{"connect:InstanceId":"abc"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string][]string{"aws:userid": {"AROAEXAMPLE:jdoe@example.com"}, "connect:InstanceId": {"abc"}}
	res := "arn:aws:connect:us-east-1:123456789012:instance/abc/user/AROAEXAMPLE:jdoe@example.com"
	r := Request{Action: "connect:GetFederationToken", Resource: res, Context: ctx}
	if got := Evaluate(r, d); got != Allow {
		t.Fatalf("variable resource: %v", got)
	}
	if got := Evaluate(r, d, deny); got != ExplicitDeny {
		t.Fatalf("deny must win: %v", got)
	}
	if got := Evaluate(r, byID); got != Allow {
		t.Fatalf("instance condition: %v", got)
	}
	r.Context = map[string][]string{"aws:userid": {"AROAEXAMPLE:other"}, "connect:InstanceId": {"xyz"}}
	if got := Evaluate(r, d); got != ImplicitDeny {
		t.Fatalf("other user: %v", got)
	}
	if got := Evaluate(r, byID); got != ImplicitDeny {
		t.Fatalf("other instance: %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{"", "{", `{"Statement":[]}`, `{"Version":"1999","Statement":[{"Effect":"Allow","Action":"*"}]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"*"}]}`, `{"Statement":[{"Effect":"Allow"}]}`, `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"x"}]}`} {
		if _, err := Parse(doc); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v", doc, err)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		p, v string
		want bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"arn:*:role/*", "arn:aws:iam::1:role/x/y", true}, {"ab", "abc", false}, {"*b*b", "abab", true},
	}
	for _, tt := range tests {
		if got := Match(tt.p, tt.v, false); got != tt.want {
			t.Errorf("Match(%q,%q) = %v", tt.p, tt.v, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(trust)
	f.Add(connectPolicy)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		_ = Evaluate(Request{Action: "sts:AssumeRoleWithSAML", PrincipalType: "Federated", Principal: "x", Resource: "arn"}, d)
	})
}

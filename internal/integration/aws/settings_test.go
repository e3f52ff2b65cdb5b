package aws

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/errs"
)

const (
	provA = "arn:aws:iam::123456789012:saml-provider/Gatehouse"
	provB = "arn:aws:iam::210987654321:saml-provider/Gatehouse"
	inst  = "2fb42df9-78a2-2e74-d572-c8af67ed289b"
)

func validAWS() Settings {
	return Settings{EnvironmentType: EnvAWS, IdentityProviderArns: []string{provA}, SessionDuration: 3600, AppFilter: "okta", SignInEndpoint: SignInGlobal}
}

func validConnect() Settings {
	s := validAWS()
	s.Region, s.InstanceID = "us-east-1", inst
	return s
}

// fieldsOf returns "field: message" lines for failure output and the set of
// fields.
func fieldsOf(fe []FieldError) map[string]string {
	out := map[string]string{}
	for _, f := range fe {
		out[f.Field] += f.Message + " | "
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		connect bool
		mut     func(*Settings)
		field   string // "" = valid
		msg     string // substring of the message
	}{
		{name: "valid aws", mut: func(*Settings) {}},
		{name: "valid connect", connect: true, mut: func(*Settings) {}},
		{name: "valid multi-account", mut: func(s *Settings) { s.IdentityProviderArns = []string{provA, provB} }},
		{name: "valid China", connect: true, mut: func(s *Settings) {
			s.EnvironmentType, s.IdentityProviderArns, s.Region = EnvChina, []string{"arn:aws-cn:iam::123456789012:saml-provider/G"}, "cn-north-1"
		}},
		{name: "valid GovCloud", connect: true, mut: func(s *Settings) {
			s.EnvironmentType, s.IdentityProviderArns, s.Region = EnvGovCloud, []string{"arn:aws-us-gov:iam::123456789012:saml-provider/G"}, "us-gov-west-1"
		}},
		{name: "unknown environment", mut: func(s *Settings) { s.EnvironmentType = "aws.amazon.eu" }, field: "awsEnvironmentType", msg: "aws.amazon.gov"},
		{name: "no ARN yet (the provider is created from this app's metadata first)", mut: func(s *Settings) { s.IdentityProviderArns = nil }},
		{name: "ARN is a role", mut: func(s *Settings) { s.IdentityProviderArns = []string{"arn:aws:iam::123456789012:role/Okta_Role"} }, field: "identityProviderArn", msg: "not an IAM SAML provider ARN"},
		{name: "ARN account 11 digits", mut: func(s *Settings) { s.IdentityProviderArns = []string{"arn:aws:iam::12345678901:saml-provider/G"} }, field: "identityProviderArn", msg: "12-digit"},
		{name: "ARN name with space", mut: func(s *Settings) {
			s.IdentityProviderArns = []string{"arn:aws:iam::123456789012:saml-provider/Okta Connect"}
		}, field: "identityProviderArn"},
		{name: "ARN name too long", mut: func(s *Settings) {
			s.IdentityProviderArns = []string{"arn:aws:iam::123456789012:saml-provider/" + strings.Repeat("a", 129)}
		}, field: "identityProviderArn"},
		{name: "ARN unknown partition", mut: func(s *Settings) { s.IdentityProviderArns = []string{"arn:aws-iso:iam::123456789012:saml-provider/G"} }, field: "identityProviderArn", msg: "aws-iso"},
		{name: "ARN wrong partition for environment", mut: func(s *Settings) {
			s.IdentityProviderArns = []string{"arn:aws-cn:iam::123456789012:saml-provider/G"}
		}, field: "identityProviderArn", msg: "partition aws-cn"},
		{name: "GovCloud environment with aws ARN", mut: func(s *Settings) { s.EnvironmentType = EnvGovCloud }, field: "identityProviderArn", msg: "aws-us-gov"},
		{name: "two ARNs same account", mut: func(s *Settings) {
			s.IdentityProviderArns = []string{provA, "arn:aws:iam::123456789012:saml-provider/Other"}
		}, field: "identityProviderArn", msg: "one identity provider ARN per AWS account"},
		{name: "duration 899", mut: func(s *Settings) { s.SessionDuration = 899 }, field: "sessionDuration", msg: "900"},
		{name: "duration 43201", mut: func(s *Settings) { s.SessionDuration = 43201 }, field: "sessionDuration", msg: "43200"},
		{name: "duration 900 ok", mut: func(s *Settings) { s.SessionDuration = 900 }},
		{name: "duration 43200 ok", mut: func(s *Settings) { s.SessionDuration = 43200 }},
		{name: "account id", mut: func(s *Settings) { s.AccountIDs = []string{"12345"} }, field: "accountID"},
		{name: "connect without region", connect: true, mut: func(s *Settings) { s.Region = "" }, field: "region", msg: "Enter the AWS region"},
		{name: "connect bad region", connect: true, mut: func(s *Settings) { s.Region = "us-east" }, field: "region", msg: "not an AWS region code"},
		{name: "connect region uppercase", connect: true, mut: func(s *Settings) { s.Region = "US-EAST-1" }, field: "region"},
		{name: "connect region unknown prefix", connect: true, mut: func(s *Settings) { s.Region = "xx-east-1" }, field: "region", msg: "not a region of"},
		{name: "connect China region in aws env", connect: true, mut: func(s *Settings) { s.Region = "cn-north-1" }, field: "region", msg: "partition aws-cn"},
		{name: "connect region eu-west-2 ok", connect: true, mut: func(s *Settings) { s.Region = "eu-west-2" }},
		{name: "connect region ap-southeast-7 ok", connect: true, mut: func(s *Settings) { s.Region = "ap-southeast-7" }},
		{name: "connect without instance", connect: true, mut: func(s *Settings) { s.InstanceID = "" }, field: "instanceId", msg: "instance ID"},
		{name: "connect instance is ARN", connect: true, mut: func(s *Settings) {
			s.InstanceID = "arn:aws:connect:us-east-1:123456789012:instance/" + inst
		}, field: "instanceId", msg: "UUID"},
		{name: "connect instance short", connect: true, mut: func(s *Settings) { s.InstanceID = "2fb42df9-78a2-2e74-d572" }, field: "instanceId"},
		{name: "destination ok", connect: true, mut: func(s *Settings) { s.Destination = "/ccp-v2/chat" }},
		{name: "destination URL", connect: true, mut: func(s *Settings) { s.Destination = "https://evil.example/ccp-v2" }, field: "destination", msg: "starting with a single /"},
		{name: "destination protocol-relative", connect: true, mut: func(s *Settings) { s.Destination = "//evil.example/x" }, field: "destination"},
		{name: "destination too long", connect: true, mut: func(s *Settings) { s.Destination = "/" + strings.Repeat("a", 256) }, field: "destination", msg: "256"},
		{name: "destination space", connect: true, mut: func(s *Settings) { s.Destination = "/ccp v2" }, field: "destination"},
		{name: "destination on aws app", mut: func(s *Settings) { s.Destination = "/ccp-v2" }, field: "destination", msg: "Connect apps only"},
		{name: "override ACS http", mut: func(s *Settings) { s.OverrideACSURL = "http://signin.aws.amazon.com/saml" }, field: "overrideAcsURL", msg: "https"},
		{name: "override ACS relative", mut: func(s *Settings) { s.OverrideACSURL = "/saml" }, field: "overrideAcsURL"},
		{name: "override ACS loopback sandbox ok", mut: func(s *Settings) { s.OverrideACSURL = "http://127.0.0.1:4566/saml" }},
		{name: "override ACS regional ok", mut: func(s *Settings) { s.OverrideACSURL = "https://eu-west-2.signin.aws.amazon.com/saml" }},
		{name: "login URL http", mut: func(s *Settings) { s.LoginURL = "http://console.aws.amazon.com/" }, field: "loginURL"},
		{name: "login URL loopback http refused", mut: func(s *Settings) { s.LoginURL = "http://127.0.0.1/" }, field: "loginURL"},
		{name: "regional sign-in without region", mut: func(s *Settings) { s.SignInEndpoint = SignInRegional }, field: "signInRegion"},
		{name: "regional sign-in ok", mut: func(s *Settings) { s.SignInEndpoint, s.SignInRegion = SignInRegional, "eu-west-1" }},
		{name: "regional sign-in in China", mut: func(s *Settings) {
			s.EnvironmentType, s.IdentityProviderArns = EnvChina, []string{"arn:aws-cn:iam::123456789012:saml-provider/G"}
			s.SignInEndpoint, s.SignInRegion = SignInRegional, "cn-north-1"
		}, field: "signInEndpoint", msg: "choose global"},
		{name: "regional sign-in region differs from Connect", connect: true, mut: func(s *Settings) {
			s.SignInEndpoint, s.SignInRegion = SignInRegional, "eu-west-1"
		}, field: "signInRegion", msg: "us-east-1"},
		{name: "unknown sign-in endpoint", mut: func(s *Settings) { s.SignInEndpoint = "local" }, field: "signInEndpoint"},
		{name: "access key ok", mut: func(s *Settings) { s.AccessKeyID = "AKIAIOSFODNN7EXAMPLE" }},
		{name: "access key lowercase", mut: func(s *Settings) { s.AccessKeyID = "akiaiosfodnn7example" }, field: "accessKey", msg: "AKIA"},
		{name: "access key wrong prefix", mut: func(s *Settings) { s.AccessKeyID = "AIDAIOSFODNN7EXAMPLE" }, field: "accessKey"},
		{name: "secret without key", mut: func(s *Settings) { s.SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }, field: "accessKey", msg: "belongs to the Secret Key"},
		{name: "secret with spaces", mut: func(s *Settings) {
			s.AccessKeyID, s.SecretKey = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI K7MDENG bPxRfiCYEXAMPLEKEY"
		}, field: "secretKey"},
		{name: "group mapping ok", mut: func(s *Settings) {
			s.UseGroupMapping, s.IdentityProviderArns = true, nil
			s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}"
		}},
		{name: "group filter without role capture", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{accountid}}\d+)_(.+)`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}"
		}, field: "groupFilter", msg: "role capture"},
		{name: "group filter does not compile", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{role}}[a-z+)`
			s.RoleValuePattern = "arn:aws:iam::123456789012:saml-provider/OKTA,arn:aws:iam::123456789012:role/${role}"
		}, field: "groupFilter", msg: "not a valid regular expression"},
		{name: "group filter without account but pattern uses it", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{role}}\w+)`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}"
		}, field: "groupFilter", msg: "account capture"},
		{name: "group filter without account, fixed account ok", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{role}}\w+)`
			s.RoleValuePattern = "arn:aws:iam::123456789012:saml-provider/OKTA,arn:aws:iam::123456789012:role/${role}"
		}},
		{name: "role pattern without role", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}\w+)`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/Admin"
		}, field: "roleValuePattern", msg: "${role}"},
		{name: "role pattern not a pair", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}\w+)`
			s.RoleValuePattern = "arn:aws:iam::${accountid}:role/${role}"
		}, field: "roleValuePattern", msg: "separated by a comma"},
		{name: "role pattern wrong partition", mut: func(s *Settings) {
			s.UseGroupMapping = true
			s.GroupFilter = `aws_(?{{accountid}}\d+)_(?{{role}}\w+)`
			s.RoleValuePattern = "arn:aws-cn:iam::${accountid}:saml-provider/OKTA,arn:aws-cn:iam::${accountid}:role/${role}"
		}, field: "roleValuePattern", msg: "aws-cn"},
		{name: "app filter junk", mut: func(s *Settings) { s.AppFilter = "okta, Active Directory" }, field: "appFilter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validAWS()
			if tc.connect {
				s = validConnect()
			}
			tc.mut(&s)
			got := Validate(s, tc.connect)
			fields := fieldsOf(got)
			if tc.field == "" {
				if len(got) != 0 {
					t.Fatalf("want valid, got %v", got)
				}
				return
			}
			msg, ok := fields[tc.field]
			if !ok {
				t.Fatalf("want error on %s, got %v", tc.field, got)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Fatalf("%s message %q does not contain %q", tc.field, msg, tc.msg)
			}
			for _, f := range got {
				if f.Message == "" || !strings.ContainsAny(f.Message[len(f.Message)-1:], ".") {
					t.Errorf("message for %s should be a sentence: %q", f.Field, f.Message)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := Settings{EnvironmentType: EnvAWS, IdentityProviderArns: []string{"nope"}, SessionDuration: 10, SignInEndpoint: "x"}
	got := fieldsOf(Validate(s, true))
	for _, f := range []string{"identityProviderArn", "sessionDuration", "signInEndpoint", "region", "instanceId"} {
		if _, ok := got[f]; !ok {
			t.Errorf("no error for %s: %v", f, got)
		}
	}
}

func TestParseSettings(t *testing.T) {
	var m map[string]any
	js := `{"awsEnvironmentType":"aws.amazon","identityProviderArn":" ` + provA + ` , ` + provB + ` ",
	  "sessionDuration":43200,"joinAllRoles":true,"useGroupMapping":false,"appFilter":"okta",
	  "groupFilter":"aws_(?{{accountid}}\\d+)_(?{{role}}[a-zA-Z0-9+=,.@\\-_]+)","secretKeyEnc":null,"accountID":null,
	  "roleValuePattern":"arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}",
	  "loginURL":"https://console.aws.amazon.com/ec2/home","region":"eu-west-2","instanceId":"` + inst + `","destination":"/ccp-v2"}`
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.IdentityProviderArns) != 2 || s.IdentityProviderArns[1] != provB || s.SessionDuration != 43200 || !s.JoinAllRoles ||
		s.Region != "eu-west-2" || s.InstanceID != inst || s.Destination != "/ccp-v2" || s.SignInEndpoint != SignInGlobal {
		t.Fatalf("parsed %+v", s)
	}
	if v := Validate(s, true); len(v) != 0 {
		t.Fatalf("Validate: %v", v)
	}
	// Round trip through Map keeps every value and never carries the secret.
	s.SecretKey = "secret"
	back, err := ParseSettings(s.Map())
	if err != nil {
		t.Fatal(err)
	}
	if back.SecretKey != "" || back.IdentityProviderArns[1] != provB || back.Destination != "/ccp-v2" || back.SessionDuration != 43200 {
		t.Fatalf("round trip %+v", back)
	}

	defaults, err := ParseSettings(map[string]any{})
	if err != nil || defaults.EnvironmentType != EnvAWS || defaults.SessionDuration != 3600 || defaults.AppFilter != "okta" {
		t.Fatalf("defaults %+v %v", defaults, err)
	}
	list, err := ParseSettings(map[string]any{"identityProviderArn": []any{provA, provB}, "sessionDuration": "900", "joinAllRoles": "true"})
	if err != nil || len(list.IdentityProviderArns) != 2 || list.SessionDuration != 900 || !list.JoinAllRoles {
		t.Fatalf("list form %+v %v", list, err)
	}
	_, err = ParseSettings(map[string]any{"sessionDuration": 3600.5, "joinAllRoles": "maybe", "region": 7, "identityProviderArn": []any{1}})
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || len(e.Fields) != 4 {
		t.Fatalf("wrong types: %v", err)
	}
}

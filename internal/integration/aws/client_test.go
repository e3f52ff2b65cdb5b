package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
)

type sandbox struct {
	sb   *awssandbox.Sandbox
	info awssandbox.Info
	iam  *iam.Client
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	sb, err := awssandbox.New(awssandbox.Options{AccountAlias: "gatehouse-dev"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	info := sb.Info(srv.URL)
	cfg := awssdk.Config{Region: info.Region, Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	return &sandbox{sb: sb, info: info, iam: iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = awssdk.String(srv.URL) })}
}

func (s *sandbox) client() *Client {
	return NewClient(ClientOptions{Region: s.info.Region, Endpoint: s.info.URL, MaxAttempts: 1})
}

func (s *sandbox) creds() Credentials {
	return Credentials{AccessKeyID: s.info.AccessKeyID, SecretAccessKey: s.info.SecretAccessKey}
}

func TestTestCredentialsSandbox(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	id, err := s.client().TestCredentials(ctx, s.creds())
	if err != nil {
		t.Fatal(err)
	}
	if id.Account != s.info.AccountID || !strings.Contains(id.Arn, ":user/") {
		t.Fatalf("identity %+v", id)
	}
	if s.sb.Calls("GetCallerIdentity") != 1 || s.sb.Calls("ListRoles") != 1 {
		t.Fatalf("calls %v", s.sb.CallCounts())
	}
	// The sandbox's key has the shape Validate requires of an access key.
	if v := Validate(Settings{EnvironmentType: EnvAWS, IdentityProviderArns: []string{provA}, SessionDuration: 3600, AccessKeyID: s.info.AccessKeyID,
		SecretKey: s.info.SecretAccessKey}, false); len(v) != 0 {
		t.Fatalf("sandbox credentials rejected by Validate: %v", v)
	}

	tests := []struct {
		name  string
		creds Credentials
		code  string
		msg   string
	}{
		{name: "wrong secret", creds: Credentials{AccessKeyID: s.info.AccessKeyID, SecretAccessKey: s.info.SecretAccessKey + "x"},
			code: "SignatureDoesNotMatch", msg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."},
		{name: "unknown key", creds: Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: s.info.SecretAccessKey},
			code: "InvalidClientTokenId", msg: "The security token included in the request is invalid."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client().TestCredentials(ctx, tc.creds)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("want APIError, got %v", err)
			}
			if ae.Op != "sts:GetCallerIdentity" || ae.Code != tc.code || !strings.HasPrefix(ae.Message, tc.msg) || ae.StatusCode != 403 {
				t.Fatalf("got %+v", ae)
			}
			if strings.Contains(err.Error(), tc.creds.SecretAccessKey) {
				t.Fatal("error text contains the secret key")
			}
		})
	}

	// Nothing listens: a wrapped transport error, not an APIError.
	dead := NewClient(ClientOptions{Endpoint: "http://127.0.0.1:1", MaxAttempts: 1})
	_, err = dead.TestCredentials(ctx, s.creds())
	var ae *APIError
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "sts:GetCallerIdentity") {
		t.Fatalf("dead endpoint: %v", err)
	}
}

func TestImportRolesSandbox(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	acct := s.info.AccountID
	ours := "arn:aws:iam::" + acct + ":saml-provider/Gatehouse"
	other := "arn:aws:iam::" + acct + ":saml-provider/SomeoneElse"
	trust := func(prov string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, prov)
	}
	create := func(name, doc string) {
		t.Helper()
		if _, err := s.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: awssdk.String(name), AssumeRolePolicyDocument: awssdk.String(doc)}); err != nil {
			t.Fatalf("CreateRole %s: %v", name, err)
		}
	}
	want := map[string]bool{}
	for i := range 120 {
		name := fmt.Sprintf("Role%03d", i)
		switch {
		case i%10 == 3:
			create(name, trust(other))
		case i%10 == 7:
			create(name, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
		case i == 50:
			create(name, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":["`+other+`","`+ours+`"]},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}]}`)
			want[name] = true
		default:
			create(name, trust(ours))
			want[name] = true
		}
	}
	before := s.sb.Calls("ListRoles")
	roles, err := s.client().ImportRoles(ctx, s.creds(), []string{ours})
	if err != nil {
		t.Fatal(err)
	}
	if pages := s.sb.Calls("ListRoles") - before; pages != 2 {
		t.Fatalf("ListRoles pages = %d, want 2", pages)
	}
	if len(roles) != len(want) {
		t.Fatalf("imported %d roles, want %d", len(roles), len(want))
	}
	for i, r := range roles {
		if !want[r.Name] || r.AccountID != acct || r.AccountAlias != "gatehouse-dev" || r.Arn != "arn:aws:iam::"+acct+":role/"+r.Name ||
			len(r.ProviderArns) != 1 || r.ProviderArns[0] != ours {
			t.Fatalf("role %d: %+v", i, r)
		}
		if i > 0 && roles[i-1].Name >= r.Name {
			t.Fatalf("order: %s before %s", roles[i-1].Name, r.Name)
		}
	}
	// Both providers configured: the role trusting both lists both.
	roles, err = s.client().ImportRoles(ctx, s.creds(), []string{ours, other})
	if err != nil || len(roles) != 120-12 {
		t.Fatalf("%d roles, %v", len(roles), err)
	}
	for _, r := range roles {
		if r.Name == "Role050" && (len(r.ProviderArns) != 2 || r.ProviderArns[0] != other) {
			t.Fatalf("Role050 %+v", r)
		}
	}
	// The imported roles feed the assignment checks and the Role attribute.
	st := Settings{EnvironmentType: EnvAWS, IdentityProviderArns: []string{ours}, SessionDuration: 3600}
	if fe := ValidateAssignment(st, roles, map[string]any{"role": "Role001", "samlRoles": []any{"Role001", "Role002"}}, "jdoe@example.com", true); len(fe) != 0 {
		t.Fatal(fe)
	}
	pairs, err := Entitlements(EntitlementInput{Settings: st, Roles: roles, User: &AssignmentProfile{SAMLRoles: []string{"Role001"}}})
	if err != nil || len(pairs) != 1 || pairs[0].String() != "arn:aws:iam::"+acct+":role/Role001,"+ours {
		t.Fatalf("%v %v", pairs, err)
	}

	// Wrong secret: AWS's error, from ListAccountAliases (the first call).
	_, err = s.client().ImportRoles(ctx, Credentials{AccessKeyID: s.info.AccessKeyID, SecretAccessKey: "wrong"}, []string{ours})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}

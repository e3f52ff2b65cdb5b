package awssandbox

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

const (
	providerName = "Okta_Connect_Admin"
	roleName     = "Okta_Role"
	sessionName  = "jdoe@example.com"
)

func trustPolicy(providerArn string, aud ...string) string {
	if len(aud) == 0 {
		aud = []string{"https://signin.aws.amazon.com/saml"}
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":[%q]}}}]}`,
		providerArn, strings.Join(aud, `","`))
}

// setupFederation creates the provider, a role trusting it, and a policy
// allowing connect:GetFederationToken, as steps 5 and 6 of the story do.
func (e *env) setupFederation() (providerArn, roleArn string) {
	e.t.Helper()
	p, err := e.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(providerName), SAMLMetadataDocument: aws.String(e.idp.Metadata())})
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleName), AssumeRolePolicyDocument: aws.String(trustPolicy(*p.SAMLProviderArn))})
	if err != nil {
		e.t.Fatal(err)
	}
	pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Statement1","Effect":"Allow","Action":"connect:GetFederationToken","Resource":["arn:aws:connect:%s:%s:instance/%s/user/${aws:userid}"]}]}`,
		e.info.Region, e.info.AccountID, e.info.ConnectInstanceID)
	if _, err := e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("connect-federation"), PolicyDocument: aws.String(pol)}); err != nil {
		e.t.Fatal(err)
	}
	return *p.SAMLProviderArn, *r.Role.Arn
}

// response builds a signed SAMLResponse with AWS-shaped defaults.
func (e *env) response(providerArn, roleArn string, f func(*samltest.Response)) string {
	e.t.Helper()
	name := sessionName
	r := samltest.Response{
		Destination: e.srv.URL + "/saml", Recipient: e.srv.URL + "/saml", NameID: sessionName,
		IssueInstant: e.clock.Now(), SessionName: &name, SessionDuration: "43200",
		Roles:         []string{providerArn + "," + roleArn},
		SignAssertion: true, SignResponse: true,
	}
	if f != nil {
		f(&r)
	}
	b64, err := e.idp.Build(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return b64
}

func TestSAMLProviderLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	md := e.idp.Metadata()
	out, err := e.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(providerName), SAMLMetadataDocument: aws.String(md),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("contact-center")}}})
	if err != nil {
		t.Fatal(err)
	}
	wantArn := "arn:aws:iam::" + e.info.AccountID + ":saml-provider/" + providerName
	if *out.SAMLProviderArn != wantArn || len(out.Tags) != 1 {
		t.Fatalf("CreateSAMLProvider = %s %v", *out.SAMLProviderArn, out.Tags)
	}
	_, err = e.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(providerName), SAMLMetadataDocument: aws.String(md)})
	apiErr(t, err, "EntityAlreadyExists", "")

	bad := []struct {
		name, doc, code, msg string
	}{
		{"bad-name!", md, "ValidationError", ""},
		{"short", "<md/>", "ValidationError", ""},
		{"bom", "\uFEFF" + md, "InvalidInput", "Could not parse metadata"},
		{"sp", strings.ReplaceAll(md, "IDPSSODescriptor", "SPSSODescriptor"), "InvalidInput", "Could not parse metadata"},
		{"junk", strings.Repeat("x", 1200), "InvalidInput", "Could not parse metadata"},
	}
	for _, b := range bad {
		_, err := e.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(b.name), SAMLMetadataDocument: aws.String(b.doc)})
		apiErr(t, err, b.code, b.msg)
	}

	got, err := e.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn})
	if err != nil {
		t.Fatal(err)
	}
	if *got.SAMLMetadataDocument != md || got.SAMLProviderUUID == nil || got.CreateDate == nil || got.ValidUntil == nil ||
		got.ValidUntil.Before(time.Now().AddDate(99, 0, 0)) || len(got.Tags) != 1 {
		t.Fatalf("GetSAMLProvider = %+v", got)
	}
	_, other := idps(t)
	if _, err := e.iam.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn,
		SAMLMetadataDocument: aws.String(samltest.MetadataFor(e.idp.EntityID, other.Cert))}); err != nil {
		t.Fatal(err)
	}
	list, err := e.iam.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(list.SAMLProviderList) != 1 || *list.SAMLProviderList[0].Arn != wantArn {
		t.Fatalf("ListSAMLProviders = %+v, %v", list, err)
	}
	if _, err := e.iam.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn})
	apiErr(t, err, "NoSuchEntity", "Manifest not found for arn "+wantArn)
}

func TestRoles(t *testing.T) {
	e := newEnv(t, Options{AccountAlias: "gatehouse-demo"})
	trust := trustPolicy("arn:aws:iam::" + e.info.AccountID + ":saml-provider/Okta")
	names := []string{"Okta_Role", "agents", "Billing", "connect-admins", "ReadOnly"}
	for _, n := range names {
		if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), AssumeRolePolicyDocument: aws.String(trust),
			MaxSessionDuration: aws.Int32(43200), Description: aws.String("role " + n), Path: aws.String("/federated/")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("okta_role"), AssumeRolePolicyDocument: aws.String(trust)})
	apiErr(t, err, "EntityAlreadyExists", "Role with name okta_role already exists.")
	_, err = e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String("{not json")})
	apiErr(t, err, "MalformedPolicyDocument", "This policy contains invalid Json")
	_, err = e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(60)})
	apiErr(t, err, "ValidationError", "")

	role, err := e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Okta_Role")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(*role.Role.AssumeRolePolicyDocument)
	if err != nil || doc != trust {
		t.Fatalf("AssumeRolePolicyDocument not URL-encoded trust policy: %q", *role.Role.AssumeRolePolicyDocument)
	}
	if strings.Contains(*role.Role.AssumeRolePolicyDocument, "{") {
		t.Fatalf("policy document not encoded: %s", *role.Role.AssumeRolePolicyDocument)
	}
	if *role.Role.Arn != "arn:aws:iam::"+e.info.AccountID+":role/federated/Okta_Role" || *role.Role.MaxSessionDuration != 43200 ||
		!strings.HasPrefix(*role.Role.RoleId, "AROA") || *role.Role.Description != "role Okta_Role" {
		t.Fatalf("GetRole = %+v", role.Role)
	}
	_, err = e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	apiErr(t, err, "NoSuchEntity", "The role with name nope cannot be found.")

	// Paging with Marker/MaxItems, by hand and with the SDK paginator.
	var seen []string
	var marker *string
	pages := 0
	for {
		out, err := e.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Roles {
			seen = append(seen, *r.RoleName)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	want := "agents,Billing,connect-admins,Okta_Role,ReadOnly"
	if strings.Join(seen, ",") != want || pages != 3 {
		t.Fatalf("ListRoles pages=%d roles=%v", pages, seen)
	}
	p := iam.NewListRolesPaginator(e.iam, &iam.ListRolesInput{MaxItems: aws.Int32(4), PathPrefix: aws.String("/federated/")})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Roles)
	}
	if n != 5 {
		t.Fatalf("paginator saw %d roles", n)
	}

	if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ReadOnly"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonConnect_FullAccess")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ReadOnly"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Nope")})
	apiErr(t, err, "NoSuchEntity", "")
	_, err = e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ReadOnly")})
	apiErr(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	if _, err := e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Billing")}); err != nil {
		t.Fatal(err)
	}
	aliases, err := e.iam.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil || len(aliases.AccountAliases) != 1 || aliases.AccountAliases[0] != "gatehouse-demo" {
		t.Fatalf("ListAccountAliases = %v, %v", aliases, err)
	}
	if got := e.sb.RoleArns(); len(got) != 4 {
		t.Fatalf("RoleArns = %v", got)
	}
}

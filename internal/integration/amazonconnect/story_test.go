package amazonconnect_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
)

// TestStory walks the walkthrough's steps through these packages against the
// AWS sandbox: the admin's IAM provider and role (steps 5-6), the app
// settings (7), Test API Credentials and role import (8), the Connect user
// Gatehouse creates (9), the assignment (10), and the agent's sign-in (12):
// the attributes and relay state built here take the agent into Connect.
// The SAML response itself is signed by the sandbox's test IdP, standing in
// for Gatehouse's samlidp.
func TestStory(t *testing.T) {
	ctx := context.Background()
	sb, err := awssandbox.New(awssandbox.Options{ConnectRate: 1000, ConnectBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	info := sb.Info(srv.URL)
	idp, err := samltest.NewIdP("http://gatehouse.example/app/amazon_connect/exk1/sso/saml", 2048, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	// Steps 5-6: the AWS administrator's provider and role.
	adminCfg := awssdk.Config{Region: info.Region, Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	adminIAM := iam.NewFromConfig(adminCfg, func(o *iam.Options) { o.BaseEndpoint = awssdk.String(srv.URL) })
	p, err := adminIAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: awssdk.String("Okta_Connect_Admin"), SAMLMetadataDocument: awssdk.String(idp.Metadata())})
	if err != nil {
		t.Fatal(err)
	}
	providerArn := *p.SAMLProviderArn
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerArn +
		`"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	if _, err := adminIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: awssdk.String("Okta_Role"), AssumeRolePolicyDocument: awssdk.String(trust)}); err != nil {
		t.Fatal(err)
	}
	pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"connect:GetFederationToken","Resource":["arn:aws:connect:%s:%s:instance/%s/user/${aws:userid}"]}]}`,
		info.Region, info.AccountID, info.ConnectInstanceID)
	if _, err := adminIAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String("Okta_Role"), PolicyName: awssdk.String("connect"), PolicyDocument: awssdk.String(pol)}); err != nil {
		t.Fatal(err)
	}

	// Step 7: the app settings, as pasted; the ACS is the sandbox's sign-in.
	settings, err := ghaws.ParseSettings(map[string]any{"identityProviderArn": providerArn, "region": info.Region, "instanceId": info.ConnectInstanceID,
		"destination": "/ccp-v2/chat", "overrideAcsURL": info.SignInURL, "accessKey": info.AccessKeyID, "secretKey": info.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	if fe := ghaws.Validate(settings, true); len(fe) != 0 {
		t.Fatal(fe)
	}

	// Step 8: Test API Credentials, then import the roles.
	iamClient := ghaws.NewClient(ghaws.ClientOptions{Region: ghaws.APIRegion(settings), Endpoint: srv.URL})
	creds := ghaws.Credentials{AccessKeyID: settings.AccessKeyID, SecretAccessKey: settings.SecretKey}
	if _, err := iamClient.TestCredentials(ctx, creds); err != nil {
		t.Fatal(err)
	}
	roles, err := iamClient.ImportRoles(ctx, creds, settings.IdentityProviderArns)
	if err != nil || len(roles) != 1 || roles[0].Name != "Okta_Role" {
		t.Fatalf("import: %+v %v", roles, err)
	}

	// Step 10: assign Jane with Role and SAML User Roles Okta_Role.
	const username = "jane.doe@example.com"
	profile := map[string]any{"role": "Okta_Role", "samlRoles": []any{"Okta_Role"}}
	if fe := ghaws.ValidateAssignment(settings, roles, profile, username, true); len(fe) != 0 {
		t.Fatal(fe)
	}

	// Step 9 ("Create Users"): Gatehouse creates the Connect user.
	cc, err := amazonconnect.New(amazonconnect.Options{Region: settings.Region, InstanceID: settings.InstanceID, AccessKeyID: creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey, Endpoint: srv.URL, Limiter: amazonconnect.NewLimiter(0, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	sps, err := cc.ListSecurityProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rps, err := cc.ListRoutingProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spIDs, _ := amazonconnect.ProfileIDs(sps, "Agent")
	rpIDs, _ := amazonconnect.ProfileIDs(rps, "Basic Routing Profile")
	spec := amazonconnect.UserSpec{Username: username, IdentityInfo: amazonconnect.IdentityInfo{FirstName: "Jane", LastName: "Doe"},
		SecurityProfileIDs: spIDs, RoutingProfileID: rpIDs[0]}
	if _, err := cc.Apply(ctx, "", amazonconnect.Plan(spec, nil)); err != nil {
		t.Fatal(err)
	}

	// Step 12: the agent's sign-in.
	prof, _ := ghaws.ParseProfile(profile)
	pairs, err := ghaws.Entitlements(ghaws.EntitlementInput{Settings: settings, Roles: roles, User: &prof})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := ghaws.Attributes(ghaws.AttributeInput{Settings: settings, Connect: true, Pairs: pairs, UserName: username})
	if err != nil {
		t.Fatal(err)
	}
	sessionName := attrs[1].Values[0]
	resp := samltest.Response{Destination: ghaws.ACSURL(settings), Recipient: ghaws.ACSURL(settings), Audience: ghaws.Audience, NameID: username,
		IssueInstant: time.Now(), Roles: attrs[0].Values, SessionName: &sessionName, SessionDuration: attrs[2].Values[0],
		SignAssertion: true, SignResponse: true}
	b64, err := idp.Build(resp)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	relay := ghaws.DefaultRelayState(settings)
	if relay != "https://"+info.Region+".console.aws.amazon.com/connect/federate/"+info.ConnectInstanceID+"?destination=%2Fccp-v2%2Fchat" {
		t.Fatalf("relay state %s", relay)
	}
	r, err := browser.PostForm(ghaws.ACSURL(settings), url.Values{"SAMLResponse": {b64}, "RelayState": {relay}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), username) || !strings.Contains(string(body), "/ccp-v2/chat") {
		t.Fatalf("sign-in: %d %s", r.StatusCode, body)
	}
	feds := sb.Federations()
	if len(feds) != 1 || feds[0].Username != username || !strings.HasSuffix(feds[0].RoleArn, ":role/Okta_Role") {
		t.Fatalf("federations %+v", feds)
	}
}

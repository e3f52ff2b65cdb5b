package awssandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.Path
}

func TestBrowserFlow(t *testing.T) {
	e := newEnv(t, Options{})
	providerArn, roleArn := e.setupFederation()
	// A second role the user may pick, without Connect permissions.
	other, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ReadOnly"), AssumeRolePolicyDocument: aws.String(trustPolicy(providerArn))})
	if err != nil {
		t.Fatal(err)
	}
	relay := "https://" + e.info.Region + ".console.aws.amazon.com/connect/federate/" + e.info.ConnectInstanceID + "?destination=%2Fccp-v2%2Fchat"
	signIn := e.srv.URL + "/saml"
	twoRoles := func(r *samltest.Response) {
		r.Roles = []string{providerArn + "," + roleArn, *other.Role.Arn + "," + providerArn}
	}

	// Not onboarded yet: the role picker, then Connect refuses.
	c := browser(t)
	status, body, _ := postForm(t, c, signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, twoRoles)}, "RelayState": {relay}})
	if status != 200 || !strings.Contains(body, `type="radio" name="roleIndex"`) || !strings.Contains(body, html.EscapeString(roleArn)) {
		t.Fatalf("role picker: %d %s", status, body)
	}
	form := hiddenFields(body)
	form.Set("roleIndex", roleArn)
	status, body, path := postForm(t, c, signIn, form)
	if status != 403 || !strings.Contains(body, MsgNotOnboarded) || path != "/connect/federate/"+e.info.ConnectInstanceID {
		t.Fatalf("not onboarded: %d %s %s", status, path, body)
	}

	// Case matters: a Connect user "JDoe@example.com" does not match.
	if _, err := e.createUser(e.conn, "JDoe@example.com", nil); err != nil {
		t.Fatal(err)
	}
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, nil)}, "RelayState": {relay}})
	if status != 403 || !strings.Contains(body, MsgNotOnboarded) {
		t.Fatalf("case-sensitive username: %d %s", status, body)
	}

	// Onboarded: the agent page.
	if _, err := e.createUser(e.conn, sessionName, nil); err != nil {
		t.Fatal(err)
	}
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, nil)}, "RelayState": {relay}})
	if status != 200 || !strings.Contains(body, `<strong id="username">`+sessionName+`</strong>`) || !strings.Contains(body, "Agent") ||
		!strings.Contains(body, "Basic Routing Profile") || !strings.Contains(body, "/ccp-v2/chat") {
		t.Fatalf("agent page: %d %s", status, body)
	}
	if feds := e.sb.Federations(); len(feds) != 1 || feds[0].Username != sessionName || feds[0].RoleArn != roleArn {
		t.Fatalf("Federations = %+v", feds)
	}

	// Picking the role without connect:GetFederationToken.
	c = browser(t)
	_, body, _ = postForm(t, c, signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, twoRoles)}, "RelayState": {relay}})
	form = hiddenFields(body)
	form.Set("roleIndex", *other.Role.Arn)
	status, body, _ = postForm(t, c, signIn, form)
	if status != 403 || !strings.Contains(body, MsgFederationDenied) {
		t.Fatalf("no federation permission: %d %s", status, body)
	}

	// The sandbox's own federate URL works as a relay state too.
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, nil)},
		"RelayState": {e.srv.URL + "/connect/federate/" + e.info.ConnectInstanceID}})
	if status != 200 || !strings.Contains(body, `id="ccp"`) {
		t.Fatalf("sandbox relay: %d %s", status, body)
	}

	// Any other relay state lands on the console home page.
	status, body, path = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, nil)},
		"RelayState": {"https://evil.example.com/"}})
	if status != 200 || path != "/console/home" || !strings.Contains(body, "assumed-role/"+roleName+"/"+sessionName) ||
		!strings.Contains(body, `<code id="session-name">`+sessionName+`</code>`) || !strings.Contains(body, `id="connect-link"`) {
		t.Fatalf("console home: %d %s %s", status, path, body)
	}

	// Invalid responses get AWS's error page.
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, func(r *samltest.Response) { r.Roles = nil })}})
	if status != 400 || !strings.Contains(body, MsgInvalidSAMLResponse) {
		t.Fatalf("no Role attribute: %d %s", status, body)
	}
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, func(r *samltest.Response) { r.SessionName = nil })}})
	if status != 400 || !strings.Contains(body, msgSessionNameMiss+" (Service: AWSSecurityTokenService; Status Code: 400; Error Code: InvalidIdentityToken") {
		t.Fatalf("no session name: %d %s", status, body)
	}
	status, body, _ = postForm(t, browser(t), signIn, url.Values{"SAMLResponse": {e.response(providerArn, roleArn, func(r *samltest.Response) { r.Issuer = "http://other" })}})
	if status != 400 || !strings.Contains(body, "Failed to assume role: Issuer not present in specified provider") {
		t.Fatalf("issuer: %d %s", status, body)
	}
	// The federation page without a console session.
	resp, err := http.Get(e.srv.URL + "/connect/federate/" + e.info.ConnectInstanceID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("federate without session: %d", resp.StatusCode)
	}
}

var reHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func TestFederateTarget(t *testing.T) {
	const host = "127.0.0.1:4566"
	tests := []struct{ relay, want string }{
		{"https://us-east-1.console.aws.amazon.com/connect/federate/abc", "/connect/federate/abc"},
		{"https://eu-west-2.console.aws.amazon.com/connect/federate/abc?destination=%2Fagent-app-v2&new_domain=true", "/connect/federate/abc?destination=%2Fagent-app-v2"},
		{"https://console.amazonaws-us-gov.com/connect/federate/abc", "/connect/federate/abc"},
		{"https://cn-north-1.console.amazonaws.cn/connect/federate/abc", "/connect/federate/abc"},
		{"http://127.0.0.1:4566/connect/federate/abc", "/connect/federate/abc"},
		{"/connect/federate/abc", "/connect/federate/abc"},
		{"https://evil.example.com/connect/federate/abc", ""},
		{"https://console.aws.amazon.com.evil.com/connect/federate/abc", ""},
		{"//evil.example.com/connect/federate/abc", ""},
		{"https://us-east-1.console.aws.amazon.com/ec2/home", ""},
		{"http://127.0.0.2:4566/connect/federate/abc", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := federateTarget(tt.relay, host); got != tt.want {
			t.Errorf("federateTarget(%q) = %q, want %q", tt.relay, got, tt.want)
		}
	}
}

func FuzzFederateTarget(f *testing.F) {
	f.Add("https://us-east-1.console.aws.amazon.com/connect/federate/abc?destination=%2Fccp-v2")
	f.Add("//evil/connect/federate/x")
	f.Fuzz(func(t *testing.T, relay string) {
		got := federateTarget(relay, "127.0.0.1:1")
		if got != "" && (!strings.HasPrefix(got, "/connect/federate/") || strings.HasPrefix(got, "//")) {
			t.Fatalf("federateTarget(%q) = %q leaves the sandbox", relay, got)
		}
	})
}

func TestSignatureErrors(t *testing.T) {
	e := newEnv(t, Options{})
	noRetryIAM := func(cfg aws.Config) *iam.Client {
		return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.srv.URL); o.Retryer = aws.NopRetryer{} })
	}
	_, err := noRetryIAM(e.config(e.info.AccessKeyID, e.info.SecretAccessKey+"x", "")).ListRoles(ctx, &iam.ListRolesInput{})
	apiErr(t, err, "SignatureDoesNotMatch", msgSignatureMismatch)
	_, err = noRetryIAM(e.config("AKIAUNKNOWNKEY000000", e.info.SecretAccessKey, "")).ListRoles(ctx, &iam.ListRolesInput{})
	apiErr(t, err, "InvalidClientTokenId", msgInvalidToken)
	_, stsc, _ := e.clients(e.config("AKIAUNKNOWNKEY000000", "x", ""))
	_, err = stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", msgInvalidToken)
	_, err = e.connectNoRetry(e.config("AKIAUNKNOWNKEY000000", "x", "")).ListInstances(ctx, &connect.ListInstancesInput{})
	apiErr(t, err, "UnrecognizedClientException", msgInvalidToken)
	_, err = e.connectNoRetry(e.config(e.info.AccessKeyID, "wrong", "")).ListInstances(ctx, &connect.ListInstancesInput{})
	apiErr(t, err, "InvalidSignatureException", msgSignatureMismatch)

	// A clock 20 minutes off: AWS's "Signature expired" wording.
	e.clock.Advance(20 * time.Minute)
	_, err = noRetryIAM(e.cfg).ListRoles(ctx, &iam.ListRolesInput{})
	e.clock.Advance(-20 * time.Minute)
	apiErr(t, err, "SignatureDoesNotMatch", "")
	if !strings.Contains(err.Error(), "Signature expired") {
		t.Fatalf("skew error: %v", err)
	}
}

// The AWS CLI sends IAM and STS calls as form-encoded POSTs to "/"; GET with
// the parameters in the query string also works.
func TestQueryRequestShapes(t *testing.T) {
	e := newEnv(t, Options{})
	signer := v4.NewSigner()
	creds, _ := e.cfg.Credentials.Retrieve(ctx)
	send := func(method, service, body, query string) (int, string) {
		req, _ := http.NewRequest(method, e.srv.URL+"/"+query, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		sum := sha256.Sum256([]byte(body))
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := send("POST", "iam", "Action=ListRoles&Version=2010-05-08", "")
	if code != 200 || !strings.Contains(body, `<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`) {
		t.Fatalf("CLI-shaped ListRoles: %d %s", code, body)
	}
	code, body = send("GET", "sts", "", "?Action=GetCallerIdentity&Version=2011-06-15")
	if code != 200 || !strings.Contains(body, "<Account>"+e.info.AccountID+"</Account>") {
		t.Fatalf("GET GetCallerIdentity: %d %s", code, body)
	}
	code, body = send("POST", "iam", "Action=CreateGroup&Version=2010-05-08&GroupName=x", "")
	if code != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") || !strings.Contains(body, "<Type>Sender</Type>") ||
		!strings.Contains(body, "<RequestId>") {
		t.Fatalf("unknown action: %d %s", code, body)
	}
	// A malformed Authorization header is IncompleteSignature.
	req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader("Action=ListRoles&Version=2010-05-08"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=broken")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !bytes.Contains(b, []byte("<Code>IncompleteSignature</Code>")) {
			t.Fatalf("malformed authorization: %d %s", resp.StatusCode, b)
		}
	}
	// Unsigned IAM calls are refused.
	resp, err := http.PostForm(e.srv.URL+"/", url.Values{"Action": {"ListRoles"}, "Version": {"2010-05-08"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !bytes.Contains(b, []byte("MissingAuthenticationToken")) {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, b)
	}
}

// Assumed-role sessions are held to their role's policies.
func TestSessionAuthorization(t *testing.T) {
	e := newEnv(t, Options{})
	providerArn, roleArn := e.setupFederation()
	out, err := e.sts.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn),
		SAMLAssertion: aws.String(e.response(providerArn, roleArn, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	iamc, _, connc := e.clients(cfg)
	_, err = iamc.ListRoles(ctx, &iam.ListRolesInput{})
	apiErr(t, err, "AccessDenied", "")
	_, err = connc.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	apiErr(t, err, "AccessDeniedException", "")
	// GetFederationToken: the session name must be a Connect username.
	_, err = connc.GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	apiErr(t, err, "UserNotFoundException", "")
	if _, err := e.createUser(e.conn, sessionName, nil); err != nil {
		t.Fatal(err)
	}
	tok, err := connc.GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	if err != nil || tok.Credentials == nil || *tok.Credentials.AccessToken == "" {
		t.Fatalf("GetFederationToken = %+v, %v", tok, err)
	}
	_, err = e.conn.GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	apiErr(t, err, "InvalidRequestException", "")
}

func TestRunWritesState(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "aws-sandbox.json")
	cctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() { done <- Run(cctx, "127.0.0.1:0", state, pw); pw.Close() }()
	buf := make([]byte, 4096)
	n, _ := pr.Read(buf)
	out.Write(buf[:n])
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"url", "account_id", "access_key_id", "secret_access_key", "region", "connect_instance_id", "security_profile_ids", "routing_profile_id"} {
		if _, ok := m[k]; !ok {
			t.Errorf("state file lacks %s: %s", k, b)
		}
	}
	if sp, _ := m["security_profile_ids"].(map[string]any); len(sp) != 4 {
		t.Errorf("security_profile_ids = %v", m["security_profile_ids"])
	}
	if !strings.Contains(out.String(), fmt.Sprint(m["url"])) {
		t.Errorf("printed info lacks URL: %s", out.String())
	}
	// The printed endpoint serves.
	resp, err := http.Get(fmt.Sprint(m["url"]) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("index: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

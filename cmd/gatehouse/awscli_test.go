package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
)

// The AWS CLI (Debian's awscli, version 2, which brings its own botocore)
// against the AWS sandbox after the story's set-up: what an administrator
// or a script would run with --endpoint-url. It reads what Gatehouse set up
// in IAM and Connect, and redeems the agent's Gatehouse SAML response with
// `aws sts assume-role-with-saml`, as SAML-to-CLI tools do. With
// GATEHOUSE_REQUIRE_AWSCLI=1 (scripts/test.sh installs awscli and sets it)
// a missing CLI fails the test instead of skipping it.

type awsCLI struct {
	t   *testing.T
	bin string
	env []string
}

func newAWSCLI(t *testing.T, info awssandbox.Info) *awsCLI {
	t.Helper()
	bin := "/usr/bin/aws" // Debian's CLI; a different one may come first on PATH
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("the AWS CLI is required (apt-get install -y awscli): %v", err)
		}
		t.Skipf("the AWS CLI is not installed: %v", err)
	}
	home := t.TempDir() // no ~/.aws of the machine leaks in
	return &awsCLI{t: t, bin: bin, env: []string{
		"HOME=" + home, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=" + info.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + info.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + info.Region, "AWS_ENDPOINT_URL=" + info.URL,
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=8", "AWS_RETRY_MODE=standard",
	}}
}

// run runs the CLI with extra environment entries; it returns stdout,
// stderr and whether it exited 0.
func (c *awsCLI) run(extraEnv []string, args ...string) (string, string, bool) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"--endpoint-url", envValue(c.env, "AWS_ENDPOINT_URL"), "--output", "json"}, args...)...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			c.t.Fatalf("aws %v: %v", args, err)
		}
	}
	return out.String(), errOut.String(), err == nil
}

// json runs a command that must succeed and decodes its output.
func (c *awsCLI) json(extraEnv []string, args ...string) map[string]any {
	c.t.Helper()
	out, errOut, ok := c.run(extraEnv, args...)
	if !ok {
		c.t.Fatalf("aws %s failed: %s", strings.Join(args, " "), errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out, err)
	}
	return v
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestAWSCLIAgainstTheStory(t *testing.T) {
	e := newStory(t, awssandbox.Options{})
	aws := newAWSCLI(t, e.info)

	me := aws.json(nil, "sts", "get-caller-identity")
	if me["Account"] != e.info.AccountID {
		t.Fatalf("get-caller-identity: %v", me)
	}
	providers := aws.json(nil, "iam", "list-saml-providers")
	if !strings.Contains(mustJSON(t, providers), e.story.ProviderArn) {
		t.Fatalf("the SAML provider Gatehouse's metadata was uploaded as is not listed: %v", providers)
	}
	roleName := e.story.RoleArn[strings.LastIndex(e.story.RoleArn, "/")+1:]
	role := aws.json(nil, "iam", "get-role", "--role-name", roleName)
	if trust := mustJSON(t, role["Role"].(map[string]any)["AssumeRolePolicyDocument"]); !strings.Contains(trust, e.story.ProviderArn) || !strings.Contains(trust, "sts:AssumeRoleWithSAML") {
		t.Fatalf("trust policy %s", trust)
	}
	users := aws.json(nil, "connect", "list-users", "--instance-id", e.info.ConnectInstanceID)
	var agentID string
	for _, u := range users["UserSummaryList"].([]any) {
		if u := u.(map[string]any); u["Username"] == "agent.smith@example.com" {
			agentID = u["Id"].(string)
		}
	}
	if agentID == "" {
		t.Fatalf("the provisioned agent is not listed: %v", users)
	}
	described := aws.json(nil, "connect", "describe-user", "--instance-id", e.info.ConnectInstanceID, "--user-id", agentID)
	if id := described["User"].(map[string]any)["IdentityInfo"].(map[string]any); id["FirstName"] != "Agatha" || id["LastName"] != "Smith" {
		t.Fatalf("describe-user: %v", described)
	}
	if _, errOut, ok := aws.run(nil, "connect", "describe-user", "--instance-id", e.info.ConnectInstanceID, "--user-id", "00000000-0000-0000-0000-000000000000"); ok || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("describe-user of an unknown user: ok=%v %s", ok, errOut)
	}
	if _, errOut, ok := aws.run([]string{"AWS_SECRET_ACCESS_KEY=" + strings.Repeat("x", 40)}, "sts", "get-caller-identity"); ok || !strings.Contains(errOut, "SignatureDoesNotMatch") {
		t.Fatalf("a wrong secret key: ok=%v %s", ok, errOut)
	}

	// The agent's SAML response from the dashboard tile, redeemed by the CLI.
	b := newBrowser(t, e.ts.srv.URL)
	b.signIn("agent.smith@example.com", "Connect-Passw0rd!", "/app/UserHome")
	_, home := b.get("/app/UserHome")
	_, page := b.get(regexpFind(t, `href="(/home/amazon_connect/[^"]+)"`, home))
	_, samlResponse, _ := samlPost(t, page)
	creds := aws.json(nil, "sts", "assume-role-with-saml", "--role-arn", e.story.RoleArn, "--principal-arn", e.story.ProviderArn,
		"--saml-assertion", samlResponse, "--duration-seconds", "3600")
	wantArn := "arn:aws:sts::" + e.info.AccountID + ":assumed-role/" + roleName + "/agent.smith@example.com"
	if got := creds["AssumedRoleUser"].(map[string]any)["Arn"]; got != wantArn {
		t.Fatalf("assumed role %v, want %s", got, wantArn)
	}
	c := creds["Credentials"].(map[string]any)
	who := aws.json([]string{"AWS_ACCESS_KEY_ID=" + c["AccessKeyId"].(string), "AWS_SECRET_ACCESS_KEY=" + c["SecretAccessKey"].(string),
		"AWS_SESSION_TOKEN=" + c["SessionToken"].(string)}, "sts", "get-caller-identity")
	if who["Arn"] != wantArn {
		t.Fatalf("get-caller-identity with the temporary credentials: %v", who)
	}
	// A role the assertion does not offer is refused.
	if _, errOut, ok := aws.run(nil, "sts", "assume-role-with-saml", "--role-arn", "arn:aws:iam::"+e.info.AccountID+":role/NotOffered",
		"--principal-arn", e.story.ProviderArn, "--saml-assertion", samlResponse); ok || !strings.Contains(errOut, "AccessDenied") && !strings.Contains(errOut, "InvalidIdentityToken") {
		t.Fatalf("assume-role-with-saml for a role not in the assertion: ok=%v %s", ok, errOut)
	}
}

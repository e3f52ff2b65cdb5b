// Package demo performs the administrator's half of the Amazon Connect
// story against a running Gatehouse (through its Okta-compatible API, as
// an administrator's script would) and the Gatehouse AWS sandbox (through
// the official AWS SDK, as the administrator would in the IAM console):
// app from the catalog, metadata into IAM, role, provider ARN, API
// integration, Create Users, an assigned agent. `gatehouse demo` and the
// end-to-end tests use it. It is the one package besides the AWS
// integration and the sandbox that talks to AWS APIs, because it plays
// the AWS administrator.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// AWS is what the story needs to know of the AWS account (the sandbox's
// Info, or a real account).
type AWS struct {
	Endpoint          string // the sandbox URL ("" for real AWS)
	AccountID         string
	AccessKeyID       string
	SecretAccessKey   string
	Region            string
	ConnectInstanceID string
}

// Agent is the person the story signs in.
type Agent struct {
	Login, Password, FirstName, LastName string
}

// Story is the outcome of the setup.
type Story struct {
	AppID       string `json:"app_id"`
	ProviderArn string `json:"provider_arn"`
	RoleArn     string `json:"role_arn"`
	AgentID     string `json:"agent_id"`
}

// Client calls Gatehouse's API with an SSWS token.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// APIError is an error answer from Gatehouse.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string { return fmt.Sprintf("gatehouse API: %d %s", e.Status, e.Body) }

// Do calls the API and decodes the JSON answer into out (when not nil).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "SSWS "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return &APIError{Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ProviderName and RoleName are the walkthrough's names.
const (
	ProviderName = "Okta_Connect_Admin"
	RoleName     = "Okta_Role"
)

// SetUp runs the administrator's steps 2–10 of the story.
func SetUp(ctx context.Context, gh *Client, aws AWS, agent Agent) (*Story, error) {
	st := &Story{}
	// 2–4. Add the Amazon Connect app from the catalog, with its relay
	// state built from the instance; the sign-in endpoint is the sandbox's.
	settingsApp := map[string]any{"region": aws.Region, "instanceId": aws.ConnectInstanceID, "loginURL": "https://" + aws.Region + ".console.aws.amazon.com/connect/home"}
	if aws.Endpoint != "" {
		settingsApp["overrideAcsURL"] = strings.TrimSuffix(aws.Endpoint, "/") + "/saml"
	}
	var app map[string]any
	if err := gh.Do(ctx, "POST", "/api/v1/apps?activate=true", map[string]any{
		"name": "amazon_connect", "label": "Amazon Connect", "signOnMode": "SAML_2_0",
		"settings": map[string]any{"app": settingsApp},
	}, &app); err != nil {
		return nil, fmt.Errorf("add Amazon Connect from the catalog: %w", err)
	}
	st.AppID, _ = app["id"].(string)
	metadata, err := gh.raw(ctx, "/api/v1/apps/"+st.AppID+"/sso/saml/metadata")
	if err != nil {
		return nil, fmt.Errorf("download the Identity Provider metadata: %w", err)
	}
	// 5–6. In IAM: the SAML provider from the metadata, and the role.
	iamc := iam.New(iam.Options{Region: aws.Region, Credentials: credentials.NewStaticCredentialsProvider(aws.AccessKeyID, aws.SecretAccessKey, ""),
		BaseEndpoint: endpoint(aws.Endpoint)})
	prov, err := iamc.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: awssdk.String(ProviderName), SAMLMetadataDocument: awssdk.String(metadata)})
	if err != nil {
		return nil, fmt.Errorf("IAM CreateSAMLProvider: %w", err)
	}
	st.ProviderArn = awssdk.ToString(prov.SAMLProviderArn)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, st.ProviderArn)
	role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: awssdk.String(RoleName), AssumeRolePolicyDocument: awssdk.String(trust), MaxSessionDuration: awssdk.Int32(43200)})
	if err != nil {
		return nil, fmt.Errorf("IAM CreateRole: %w", err)
	}
	st.RoleArn = awssdk.ToString(role.Role.Arn)
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Statement1","Effect":"Allow","Action":"connect:GetFederationToken","Resource":["arn:aws:connect:%s:%s:instance/%s/user/${aws:userid}"]}]}`, aws.Region, aws.AccountID, aws.ConnectInstanceID)
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String(RoleName), PolicyName: awssdk.String("AmazonConnectFederation"), PolicyDocument: awssdk.String(policy)}); err != nil {
		return nil, fmt.Errorf("IAM PutRolePolicy: %w", err)
	}
	// 7–8. Advanced Sign-On Settings: the provider ARN; API integration:
	// the access keys, tested, then roles imported.
	app["settings"].(map[string]any)["app"].(map[string]any)["identityProviderArn"] = st.ProviderArn
	app["settings"].(map[string]any)["app"].(map[string]any)["accessKey"] = aws.AccessKeyID
	app["settings"].(map[string]any)["app"].(map[string]any)["secretKey"] = aws.SecretAccessKey
	if err := gh.Do(ctx, "PUT", "/api/v1/apps/"+st.AppID, app, &app); err != nil {
		return nil, fmt.Errorf("save Identity Provider ARN and API credentials: %w", err)
	}
	if err := gh.Do(ctx, "POST", "/api/v1/apps/"+st.AppID+"/credentials/test", nil, nil); err != nil {
		return nil, fmt.Errorf("Test API Credentials: %w", err)
	}
	if err := gh.Do(ctx, "POST", "/api/v1/apps/"+st.AppID+"/refresh", nil, nil); err != nil {
		return nil, fmt.Errorf("Refresh Application Data: %w", err)
	}
	// 9. To App: Create Users, Update User Attributes, Deactivate Users.
	if err := gh.Do(ctx, "PUT", "/api/v1/apps/"+st.AppID+"/provisioning", map[string]any{
		"apiIntegration": true, "createUsers": true, "updateUsers": true, "deactivateUsers": true,
		"mappings":         map[string]string{"FirstName": "user.firstName", "LastName": "user.lastName"},
		"securityProfiles": []string{"Agent"}, "routingProfile": "Basic Routing Profile", "phoneType": "SOFT_PHONE",
	}, nil); err != nil {
		return nil, fmt.Errorf("enable Create Users: %w", err)
	}
	// 10. The agent, assigned with the Role and SAML User Roles.
	var user map[string]any
	if err := gh.Do(ctx, "POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]any{"login": agent.Login, "email": agent.Login, "firstName": agent.FirstName, "lastName": agent.LastName},
		"credentials": map[string]any{"password": map[string]any{"value": agent.Password}},
	}, &user); err != nil {
		return nil, fmt.Errorf("create the agent: %w", err)
	}
	st.AgentID, _ = user["id"].(string)
	if err := gh.Do(ctx, "POST", "/api/v1/apps/"+st.AppID+"/users", map[string]any{
		"id": st.AgentID, "scope": "USER", "credentials": map[string]any{"userName": agent.Login},
		"profile": map[string]any{"role": RoleName, "samlRoles": []string{RoleName}},
	}, nil); err != nil {
		return nil, fmt.Errorf("assign the agent: %w", err)
	}
	return st, nil
}

func endpoint(e string) *string {
	if e == "" {
		return nil
	}
	return awssdk.String(strings.TrimSuffix(e, "/"))
}

func (c *Client) raw(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.BaseURL+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "SSWS "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", &APIError{Status: resp.StatusCode, Body: string(b)}
	}
	return string(b), nil
}

// WaitProvisioned waits until the app has no pending or running jobs.
func WaitProvisioned(ctx context.Context, gh *Client, appID string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var st struct {
			Counts map[string]int `json:"counts"`
		}
		if err := gh.Do(ctx, "GET", "/api/v1/apps/"+appID+"/provisioning/status", nil, &st); err != nil {
			return err
		}
		if st.Counts["pending"] == 0 && st.Counts["running"] == 0 {
			if st.Counts["failed"] > 0 {
				var jobs []map[string]any
				gh.Do(ctx, "GET", "/api/v1/apps/"+appID+"/provisioning/jobs?state=failed", nil, &jobs)
				return fmt.Errorf("provisioning failed: %v", jobs)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("provisioning still running after %s: %v", timeout, st.Counts)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

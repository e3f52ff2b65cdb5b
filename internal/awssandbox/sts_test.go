package awssandbox

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

func TestAssumeRoleWithSAML(t *testing.T) {
	e := newEnv(t, Options{})
	providerArn, roleArn := e.setupFederation()
	for _, order := range []string{"provider-first", "role-first"} {
		t.Run(order, func(t *testing.T) {
			b64 := e.response(providerArn, roleArn, func(r *samltest.Response) {
				if order == "role-first" {
					r.Roles = []string{roleArn + "," + providerArn}
				}
			})
			out, err := e.sts.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn),
				SAMLAssertion: aws.String(b64), DurationSeconds: aws.Int32(1800)})
			if err != nil {
				t.Fatal(err)
			}
			c := out.Credentials
			if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || len(*c.SecretAccessKey) != 40 || *c.SessionToken == "" {
				t.Fatalf("credentials %+v", c)
			}
			if d := time.Until(*c.Expiration); d < 25*time.Minute || d > 31*time.Minute {
				t.Fatalf("expiration in %v, want ~30m", d)
			}
			wantArn := "arn:aws:sts::" + e.info.AccountID + ":assumed-role/" + roleName + "/" + sessionName
			if *out.AssumedRoleUser.Arn != wantArn || !strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, "AROA") ||
				!strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":"+sessionName) {
				t.Fatalf("AssumedRoleUser %+v", out.AssumedRoleUser)
			}
			sum := sha1.Sum([]byte(e.idp.EntityID + e.info.AccountID + "/" + providerName))
			if *out.Audience != "https://signin.aws.amazon.com/saml" || *out.SubjectType != "unspecified" || *out.Subject != sessionName ||
				*out.Issuer != e.idp.EntityID || *out.NameQualifier != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Fatalf("result %+v", out)
			}
			// The temporary credentials work for signed calls.
			_, stsc, _ := e.clients(e.config(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken))
			who, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *who.Arn != wantArn || *who.Account != e.info.AccountID {
				t.Fatalf("GetCallerIdentity = %s", *who.Arn)
			}
			// But without a session token they are refused.
			_, stsNoToken, _ := e.clients(e.config(*c.AccessKeyId, *c.SecretAccessKey, ""))
			_, err = stsNoToken.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			apiErr(t, err, "InvalidClientTokenId", msgInvalidToken)
		})
	}
	who, err := e.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:iam::"+e.info.AccountID+":user/gatehouse-sandbox" {
		t.Fatalf("admin GetCallerIdentity = %v, %v", who, err)
	}
}

func TestAssumeRoleWithSAMLRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	providerArn, roleArn := e.setupFederation()
	_, other := idps(t)
	// A second role whose trust policy only admits the regional endpoint.
	regional, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Regional"),
		AssumeRolePolicyDocument: aws.String(trustPolicy(providerArn, "https://eu-west-1.signin.aws.amazon.com/saml"))})
	if err != nil {
		t.Fatal(err)
	}
	regionalArn := *regional.Role.Arn
	bad := "a b"
	tests := []struct {
		name     string
		role     string
		provider string
		duration int32
		mutate   func(*samltest.Response)
		advance  time.Duration
		code     string
		msg      string
	}{
		{name: "redeemed after 5 minutes", advance: 6 * time.Minute, code: "ExpiredTokenException", msg: msgRedeemWindow},
		{name: "signed with another key", mutate: func(r *samltest.Response) { r.SignWith = other }, code: "InvalidIdentityToken", msg: msgSignatureInvalid},
		{name: "assertion unsigned", mutate: func(r *samltest.Response) { r.SignAssertion = false }, code: "InvalidIdentityToken", msg: msgSignatureInvalid},
		{name: "issuer mismatch", mutate: func(r *samltest.Response) { r.Issuer = "http://www.okta.com/other" }, code: "InvalidIdentityToken", msg: msgIssuer},
		{name: "no RoleSessionName", mutate: func(r *samltest.Response) { r.SessionName = nil }, code: "InvalidIdentityToken", msg: msgSessionNameMiss},
		{name: "bad RoleSessionName", mutate: func(r *samltest.Response) { r.SessionName = &bad }, code: "InvalidIdentityToken", msg: msgSessionNameBad},
		{name: "role not in assertion", mutate: func(r *samltest.Response) { r.Roles = []string{providerArn + "," + regionalArn} }, code: "AccessDenied", msg: msgNotAuthorized},
		{name: "no Role attribute", mutate: func(r *samltest.Response) { r.Roles = nil }, code: "AccessDenied", msg: msgNotAuthorized},
		{name: "trust policy audience", role: regionalArn, mutate: func(r *samltest.Response) { r.Roles = []string{providerArn + "," + regionalArn} }, code: "AccessDenied", msg: msgNotAuthorized},
		{name: "no NameID", mutate: func(r *samltest.Response) { r.OmitSubject = true }, code: "AccessDenied", msg: msgNotAuthorized},
		{name: "duration above role maximum", duration: 7200, code: "ValidationError", msg: msgDurationTooLong},
		{name: "unknown provider", provider: "arn:aws:iam::" + e.info.AccountID + ":saml-provider/Nope", code: "InvalidIdentityToken", msg: msgNoProvider},
		{name: "recipient elsewhere", mutate: func(r *samltest.Response) { r.Recipient = "https://evil.example.com/saml" }, code: "InvalidIdentityToken"},
		{name: "IdP status failure", mutate: func(r *samltest.Response) { r.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, code: "IDPRejectedClaim"},
		{name: "bad SessionDuration", mutate: func(r *samltest.Response) { r.SessionDuration = "60" }, code: "InvalidIdentityToken"},
		{name: "foreign audience", mutate: func(r *samltest.Response) { r.Audience = "https://evil.example.com" }, code: "InvalidIdentityToken"},
		{name: "issued in the future", mutate: func(r *samltest.Response) { r.IssueInstant = time.Now().Add(20 * time.Minute) }, code: "InvalidIdentityToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role, provider := roleArn, providerArn
			if tt.role != "" {
				role = tt.role
			}
			if tt.provider != "" {
				provider = tt.provider
			}
			b64 := e.response(providerArn, roleArn, tt.mutate)
			e.clock.Advance(tt.advance)
			defer e.clock.Advance(-tt.advance)
			in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(provider), SAMLAssertion: aws.String(b64)}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(tt.duration)
			}
			_, err := e.sts.AssumeRoleWithSAML(ctx, in)
			apiErr(t, err, tt.code, tt.msg)
		})
	}
	// The SDK maps the codes to its typed errors.
	b64 := e.response(providerArn, roleArn, nil)
	e.clock.Advance(10 * time.Minute)
	_, err = e.sts.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn), SAMLAssertion: aws.String(b64)})
	e.clock.Advance(-10 * time.Minute)
	var expired *ststypes.ExpiredTokenException
	if !errors.As(err, &expired) {
		t.Fatalf("want *types.ExpiredTokenException, got %T %v", err, err)
	}
	b64 = e.response(providerArn, roleArn, func(r *samltest.Response) { r.SessionName = nil })
	_, err = e.sts.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn), SAMLAssertion: aws.String(b64)})
	var invalid *ststypes.InvalidIdentityTokenException
	if !errors.As(err, &invalid) {
		t.Fatalf("want *types.InvalidIdentityTokenException, got %T %v", err, err)
	}
}

func TestSignInAudience(t *testing.T) {
	const host = "127.0.0.1:4566"
	tests := []struct {
		recipient, aud string
		ok             bool
	}{
		{"https://signin.aws.amazon.com/saml", "https://signin.aws.amazon.com/saml", true},
		{"https://signin.aws.amazon.com/static/saml", "https://signin.aws.amazon.com/static/saml", true},
		{"https://eu-west-1.signin.aws.amazon.com/saml", "https://eu-west-1.signin.aws.amazon.com/saml", true},
		{"https://us-gov-west-1.signin.aws.amazon.com/saml", "https://us-gov-west-1.signin.aws.amazon.com/saml", true},
		{"https://signin.amazonaws.cn/saml", "https://signin.amazonaws.cn/saml", true},
		{"http://127.0.0.1:4566/saml", "https://signin.aws.amazon.com/saml", true},
		{"http://localhost:4566/saml", "https://signin.aws.amazon.com/saml", true},
		{"http://[::1]:4566/saml", "https://signin.aws.amazon.com/saml", true},
		{"http://127.0.0.1:4567/saml", "", false},
		{"http://user@127.0.0.1:4566/saml", "", false},
		{"http://127.0.0.1:4566/saml?x=1", "", false},
		{"https://signin.aws.amazon.com.evil.com/saml", "", false},
		{"https://evil.signin.aws.amazon.com/saml", "", false},
		{"https://signin.aws.amazon.com/saml/", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		aud, ok := signInAudience(tt.recipient, host)
		if aud != tt.aud || ok != tt.ok {
			t.Errorf("signInAudience(%q) = %q, %v", tt.recipient, aud, ok)
		}
	}
}

func TestTemporaryCredentialsExpire(t *testing.T) {
	e := newEnv(t, Options{})
	providerArn, roleArn := e.setupFederation()
	out, err := e.sts.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn),
		SAMLAssertion: aws.String(e.response(providerArn, roleArn, func(r *samltest.Response) { r.SessionDuration = "" })), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	creds := aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
	call := func() (int, string) {
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
		sum := sha256.Sum256([]byte(body))
		// Sign at the sandbox's time so only the expiry differs.
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", e.clock.Now()); err != nil {
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
	if code, body := call(); code != 200 {
		t.Fatalf("fresh credentials: %d %s", code, body)
	}
	e.clock.Advance(16 * time.Minute)
	defer e.clock.Advance(-16 * time.Minute)
	if code, body := call(); code != 403 || !strings.Contains(body, "<Code>ExpiredToken</Code>") {
		t.Fatalf("expired credentials: %d %s", code, body)
	}
}

package awssandbox

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkAssumeRoleWithSAML measures the STS endpoint in-process: base64,
// XML checks, two RSA-SHA256 signature verifications, policy evaluation.
func BenchmarkAssumeRoleWithSAML(b *testing.B) {
	e := newEnv(b, Options{})
	providerArn, roleArn := e.setupFederation()
	assertion := e.response(providerArn, roleArn, nil)
	form := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"}, "RoleArn": {roleArn},
		"PrincipalArn": {providerArn}, "SAMLAssertion": {assertion}}.Encode()
	h := e.sb.Handler()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", e.srv.URL+"/", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkSDKAssumeRoleWithSAML is the same call through the AWS SDK over
// loopback HTTP.
func BenchmarkSDKAssumeRoleWithSAML(b *testing.B) {
	e := newEnv(b, Options{})
	providerArn, roleArn := e.setupFederation()
	assertion := e.response(providerArn, roleArn, nil)
	in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleArn), PrincipalArn: aws.String(providerArn), SAMLAssertion: aws.String(assertion)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.sts.AssumeRoleWithSAML(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKConnectDescribeUser is a SigV4-signed Connect call through the
// SDK over loopback HTTP (throttle lifted).
func BenchmarkSDKConnectDescribeUser(b *testing.B) {
	e := newEnv(b, Options{})
	u, err := e.createUser(e.conn, "bench.user", nil)
	if err != nil {
		b.Fatal(err)
	}
	in := &connect.DescribeUserInput{InstanceId: aws.String(e.info.ConnectInstanceID), UserId: u.UserId}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.conn.DescribeUser(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

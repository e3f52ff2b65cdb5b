package awssandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAssumeRoleWithSAML feeds arbitrary SAMLAssertion values to the
// unsigned STS endpoint: every answer must be a well-formed AWS error, and
// nothing unsigned by the IdP may yield credentials.
func FuzzAssumeRoleWithSAML(f *testing.F) {
	e := newEnv(f, Options{})
	providerArn, roleArn := e.setupFederation()
	f.Add(e.response(providerArn, roleArn, nil))
	f.Add("PHNhbWxwOlJlc3BvbnNlLz4=")
	f.Add("not base64 at all")
	h := e.sb.Handler()
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"}, "RoleArn": {roleArn},
			"PrincipalArn": {providerArn}, "SAMLAssertion": {assertion}}
		req := httptest.NewRequest("POST", e.srv.URL+"/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		switch rec.Code {
		case http.StatusOK:
			if !strings.Contains(body, "<AccessKeyId>ASIA") {
				t.Fatalf("200 without credentials: %s", body)
			}
		default:
			if !strings.Contains(body, "<ErrorResponse") || !strings.Contains(body, "<Code>") {
				t.Fatalf("%d without an AWS error: %s", rec.Code, body)
			}
		}
	})
}

// FuzzSignIn posts arbitrary form values to the sign-in endpoint.
func FuzzSignIn(f *testing.F) {
	e := newEnv(f, Options{})
	providerArn, roleArn := e.setupFederation()
	f.Add(e.response(providerArn, roleArn, nil), "https://us-east-1.console.aws.amazon.com/connect/federate/x", "")
	f.Add("", "", "")
	h := e.sb.Handler()
	f.Fuzz(func(t *testing.T, assertion, relay, role string) {
		form := url.Values{"SAMLResponse": {assertion}, "RelayState": {relay}, "roleIndex": {role}}
		req := httptest.NewRequest("POST", e.srv.URL+"/saml", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusFound {
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, "/connect/federate/") && !strings.HasPrefix(loc, "/console/home") {
				t.Fatalf("redirect out of the sandbox: %q", loc)
			}
		}
	})
}

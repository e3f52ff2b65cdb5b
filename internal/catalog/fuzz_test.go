package catalog

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/expr"
)

// FuzzCheckURL: an accepted URL is absolute https (or loopback http), has
// a host, and has no white space, credentials or fragment.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://signin.aws.amazon.com/saml", "http://127.0.0.1:8080/acs", "http://localhost/x?a=b",
		"javascript:alert(1)", "data:text/html,x", "HTTPS://EXAMPLE.com", "https://u:p@h/", "https://h/#f", "//h/p", "http://[::1]/", "https:///x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkURL(s) != "" {
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted %q that does not parse", s)
		}
		scheme := strings.ToLower(u.Scheme)
		h := strings.ToLower(u.Hostname())
		if !(scheme == "https" || scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1")) {
			t.Fatalf("accepted %q with scheme %q host %q", s, u.Scheme, h)
		}
		if h == "" || u.User != nil || strings.ContainsAny(s, " \t\r\n#") {
			t.Fatalf("accepted %q", s)
		}
	})
}

// FuzzValidateSignOn runs the whole settings.signOn validation on
// arbitrary JSON: it must never panic, and what it accepts must satisfy
// the signing rules.
func FuzzValidateSignOn(f *testing.F) {
	seed, _ := json.Marshal(customSAMLTemplate().DefaultSignOn)
	f.Add(string(seed))
	f.Add(`{"ssoAcsUrl":"https://sp/acs","audience":"a","responseSigned":true,"signatureAlgorithm":"RSA_SHA256","digestAlgorithm":"SHA256","subjectNameIdFormat":"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified","subjectNameIdTemplate":"${user.userName}","attributeStatements":[{"type":"GROUP","name":"g","filterType":"REGEX","filterValue":"a(b"}]}`)
	f.Add(`{"ssoAcsUrl":"javascript:x","spCertificate":{"x5c":["AAAA","!!"]},"acsEndpoints":[{"url":"https://a","index":1},{"url":"https://b","index":1}]}`)
	s := &Service{Expr: expr.NewEngine()}
	f.Fuzz(func(t *testing.T, data string) {
		so := customSAMLTemplate().DefaultSignOn
		if json.Unmarshal([]byte(data), &so) != nil {
			return
		}
		a := &App{Label: "x", SignOnMode: SignOnModeSAML2, Credentials: Credentials{UserNameTemplate: UserNameTemplate{Template: DefaultUserNameTemplate, Type: UserNameBuiltIn}},
			Settings: Settings{SignOn: so, App: map[string]any{}}}
		if err := s.validateApp(a, customSAMLTemplate()); err != nil {
			return
		}
		if !so.ResponseSigned && !so.AssertionSigned || so.SignatureAlgorithm != "RSA_SHA256" || so.Audience == "" || checkURL(so.SSOAcsURL) != "" {
			t.Fatalf("accepted %s", data)
		}
	})
}

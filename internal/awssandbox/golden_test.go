package awssandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// countingReader is deterministic "randomness" for golden output.
type countingReader struct{ n uint32 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n = r.n*1664525 + 1013904223
		p[i] = byte(r.n >> 24)
	}
	return len(p), nil
}

// TestGoldenWireFormats pins the bytes the sandbox puts on the wire for the
// shapes Gatehouse depends on, so a change in them is a reviewed change.
func TestGoldenWireFormats(t *testing.T) {
	at := time.Date(2026, 5, 30, 21, 30, 35, 0, time.UTC)
	sb, err := New(Options{Clock: func() time.Time { return at }, Random: &countingReader{}, ConnectRate: 100, ConnectBurst: 100,
		AccessKeyID: "AKIAGATEHOUSESANDBOX", SecretAccessKey: "sandbox/secret/key/for/golden/tests/0000"})
	if err != nil {
		t.Fatal(err)
	}
	h := sb.Handler()
	const host = "127.0.0.1:4566"
	info := sb.Info("http://" + host)
	idp, _ := idps(t)
	creds := aws.Credentials{AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey}
	do := func(method, path, service, contentType, body string, signed bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if signed {
			sum := sha256.Sum256([]byte(body))
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
				t.Fatal(err)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	form := "application/x-www-form-urlencoded; charset=utf-8"
	query := func(v url.Values) string { return v.Encode() }

	rec := do("POST", "/", "iam", form, query(url.Values{"Action": {"CreateSAMLProvider"}, "Version": {"2010-05-08"},
		"Name": {"Okta"}, "SAMLMetadataDocument": {idp.Metadata()}}), true)
	golden(t, "iam_create_saml_provider.xml", rec)
	providerArn := "arn:aws:iam::123456789012:saml-provider/Okta"
	rec = do("POST", "/", "iam", form, query(url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"},
		"RoleName": {"ConnectAgent"}, "AssumeRolePolicyDocument": {trustPolicy(providerArn)}}), true)
	golden(t, "iam_create_role.xml", rec)
	rec = do("POST", "/", "iam", form, query(url.Values{"Action": {"GetRole"}, "Version": {"2010-05-08"}, "RoleName": {"Nope"}}), true)
	golden(t, "iam_error_no_such_entity.xml", rec)

	roleArn := "arn:aws:iam::123456789012:role/ConnectAgent"
	name := "jdoe@example.com"
	b64, err := idp.Build(samltest.Response{Destination: "https://signin.aws.amazon.com/saml", Recipient: "https://signin.aws.amazon.com/saml",
		NameID: name, SessionName: &name, IssueInstant: at, Roles: []string{providerArn + "," + roleArn}, SignAssertion: true, SignResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	assume := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"}, "RoleArn": {roleArn}, "PrincipalArn": {providerArn}, "SAMLAssertion": {b64}}
	rec = do("POST", "/", "", form, query(assume), false)
	golden(t, "sts_assume_role_with_saml.xml", rec)
	assume.Set("DurationSeconds", "7200")
	rec = do("POST", "/", "", form, query(assume), false)
	golden(t, "sts_error_duration.xml", rec)

	body := `{"Username":"jdoe@example.com","IdentityInfo":{"FirstName":"Jane","LastName":"Doe"},"PhoneConfig":{"PhoneType":"SOFT_PHONE"},` +
		`"SecurityProfileIds":["` + info.SecurityProfileIDs["Agent"] + `"],"RoutingProfileId":"` + info.RoutingProfileID + `"}`
	rec = do("PUT", "/users/"+info.ConnectInstanceID, "connect", "application/json", body, true)
	golden(t, "connect_create_user.json", rec)
	rec = do("PUT", "/users/"+info.ConnectInstanceID, "connect", "application/json", body, true)
	golden(t, "connect_error_duplicate.json", rec)
	rec = do("GET", "/users-summary/"+info.ConnectInstanceID, "connect", "", "", true)
	golden(t, "connect_list_users.json", rec)
}

// golden compares the status line, the protocol headers and the body.
func golden(t *testing.T, name string, rec *httptest.ResponseRecorder) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(http.StatusText(rec.Code) + "\n")
	for _, h := range []string{"Content-Type", "X-Amzn-ErrorType"} {
		if v := rec.Header().Get(h); v != "" {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	_, _ = io.Copy(&b, rec.Body)
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, b.Bytes(), want)
	}
}

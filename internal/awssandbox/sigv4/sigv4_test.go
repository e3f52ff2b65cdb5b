package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The example request from the AWS General Reference ("Signature Version 4
// signing process", IAM ListUsers, 2015-08-30).
func exampleRequest() *http.Request {
	r := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Host = "iam.amazonaws.com"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	return r
}

const exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

func TestDocumentedExample(t *testing.T) {
	r := exampleRequest()
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	cr := CanonicalRequest(r, nil, a.SignedHeaders)
	wantCR := "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", cr, wantCR)
	}
	tm, err := RequestTime(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(r, nil, a, tm, exampleSecret); err != nil {
		t.Fatalf("documented example does not verify: %v", err)
	}
	if err := Verify(r, nil, a, tm, exampleSecret+"x"); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("wrong secret: got %v", err)
	}
	r.Header.Set("Content-Type", "text/plain")
	if err := Verify(r, nil, a, tm, exampleSecret); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("tampered header: got %v", err)
	}
}

func TestParseAuthorization(t *testing.T) {
	good := "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64)
	a, err := ParseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID != "AKID" || a.Region != "us-east-1" || a.Service != "iam" || a.Scope() != "20150830/us-east-1/iam/aws4_request" {
		t.Fatalf("parsed %+v", a)
	}
	bad := []string{
		"",
		"AWS4-HMAC-SHA1 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("A", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, Credential=X/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
	}
	for _, h := range bad {
		if _, err := ParseAuthorization(h); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseAuthorization(%q) = %v, want ErrMalformed", h, err)
		}
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in    string
		slash bool
		want  string
	}{
		{"/users/abc", false, "/users/abc"},
		{"/a b/%2F", false, "/a%20b/%252F"},
		{"a/b~c", true, "a%2Fb~c"},
		{"ü+=", true, "%C3%BC%2B%3D"},
	}
	for _, tt := range tests {
		if got := URIEncode(tt.in, tt.slash); got != tt.want {
			t.Errorf("URIEncode(%q,%v) = %q, want %q", tt.in, tt.slash, got, tt.want)
		}
	}
}

func TestRequestTime(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if _, err := RequestTime(r); err == nil {
		t.Fatal("missing date accepted")
	}
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	got, err := RequestTime(r)
	if err != nil || !got.Equal(time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)) {
		t.Fatalf("RequestTime = %v, %v", got, err)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(exampleRequest().Header.Get("Authorization"))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e")
	f.Add("AWS4-HMAC-SHA256 ,,,=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Signature) != 64 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted incomplete header %q: %+v", h, a)
		}
		r := exampleRequest()
		tm, _ := RequestTime(r)
		_ = Verify(r, nil, a, tm, "secret")
	})
}

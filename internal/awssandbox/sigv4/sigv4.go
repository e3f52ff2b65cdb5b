// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests,
// following the documented algorithm (canonical request, string to sign,
// derived signing key, HMAC-SHA256). It is the sandbox's own implementation:
// it never calls the AWS SDK's signer, so a signing bug on either side shows.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm the verifier accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// TimeFormat is the layout of X-Amz-Date.
const TimeFormat = "20060102T150405Z"

// MaxSkew is how far X-Amz-Date may be from the verifier's clock.
const MaxSkew = 15 * time.Minute

// Authorization is a parsed SigV4 Authorization header.
type Authorization struct {
	AccessKeyID   string
	Date          string // yyyymmdd from the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string // lowercase hex
}

// Scope returns the credential scope "date/region/service/aws4_request".
func (a Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// ErrMalformed reports an Authorization header that does not follow the
// SigV4 grammar (AWS answers IncompleteSignature).
var ErrMalformed = errors.New("sigv4: malformed authorization header")

// ParseAuthorization parses a header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return a, fmt.Errorf("%w: algorithm must be %s", ErrMalformed, Algorithm)
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok || seen[k] {
			return a, fmt.Errorf("%w: bad component %q", ErrMalformed, part)
		}
		seen[k] = true
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" || f[0] == "" || f[2] == "" || f[3] == "" {
				return a, fmt.Errorf("%w: credential must be AKID/date/region/service/aws4_request", ErrMalformed)
			}
			if _, err := time.Parse("20060102", f[1]); err != nil {
				return a, fmt.Errorf("%w: credential date %q", ErrMalformed, f[1])
			}
			a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			if v == "" {
				return a, fmt.Errorf("%w: empty SignedHeaders", ErrMalformed)
			}
			hs := strings.Split(v, ";")
			for i, name := range hs {
				if name == "" || name != strings.ToLower(name) || (i > 0 && hs[i-1] >= name) {
					return a, fmt.Errorf("%w: SignedHeaders must be sorted lowercase names", ErrMalformed)
				}
			}
			a.SignedHeaders = hs
		case "Signature":
			if len(v) != 64 {
				return a, fmt.Errorf("%w: signature must be 64 hex digits", ErrMalformed)
			}
			if _, err := hex.DecodeString(v); err != nil || v != strings.ToLower(v) {
				return a, fmt.Errorf("%w: signature must be lowercase hex", ErrMalformed)
			}
			a.Signature = v
		default:
			return a, fmt.Errorf("%w: unknown component %q", ErrMalformed, k)
		}
	}
	if a.AccessKeyID == "" || a.SignedHeaders == nil || a.Signature == "" {
		return a, fmt.Errorf("%w: Credential, SignedHeaders and Signature are required", ErrMalformed)
	}
	hasHost := false
	for _, h := range a.SignedHeaders {
		hasHost = hasHost || h == "host"
	}
	if !hasHost {
		return a, fmt.Errorf("%w: host must be a signed header", ErrMalformed)
	}
	return a, nil
}

// RequestTime reads X-Amz-Date (or Date in RFC 1123 form) from the request.
func RequestTime(r *http.Request) (time.Time, error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(TimeFormat, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("sigv4: bad X-Amz-Date %q: %w", v, err)
		}
		return t, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("sigv4: bad Date %q: %w", v, err)
		}
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("sigv4: missing X-Amz-Date")
}

// CanonicalRequest builds the canonical request for r with the given body and
// signed header names, as the documented algorithm describes. Paths are
// URI-encoded a second time (all services except S3 do this).
func CanonicalRequest(r *http.Request, body []byte, signedHeaders []string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(URIEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash(body))
	return b.String()
}

func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// ContentHashMismatch reports whether X-Amz-Content-Sha256 is present and
// differs from the body's hash.
func ContentHashMismatch(r *http.Request, body []byte) bool {
	v := r.Header.Get("X-Amz-Content-Sha256")
	return v != "" && v != payloadHash(body)
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = []string{strconv.FormatInt(r.ContentLength, 10)}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			uk = k
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = v
		}
		if uk == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{URIEncode(uk, true), URIEncode(uv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// URIEncode percent-encodes every byte except the RFC 3986 unreserved
// characters; '/' is kept when encodeSlash is false.
func URIEncode(s string, encodeSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// StringToSign builds the string to sign from the request time, scope and
// canonical request.
func StringToSign(t time.Time, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + t.UTC().Format(TimeFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// SigningKey derives the SigV4 signing key.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// Signature computes the hex signature of stringToSign.
func Signature(secret string, a Authorization, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(SigningKey(secret, a.Date, a.Region, a.Service), stringToSign))
}

// ErrSignatureMismatch is returned when the computed signature differs.
var ErrSignatureMismatch = errors.New("sigv4: signature does not match")

// Verify checks the request's signature against secret. t is the request
// time (from RequestTime); the caller checks skew and key validity.
func Verify(r *http.Request, body []byte, a Authorization, t time.Time, secret string) error {
	if t.UTC().Format("20060102") != a.Date {
		return fmt.Errorf("%w: credential date %s does not match request date", ErrSignatureMismatch, a.Date)
	}
	if ContentHashMismatch(r, body) {
		return fmt.Errorf("%w: x-amz-content-sha256 does not match the body", ErrSignatureMismatch)
	}
	sts := StringToSign(t, a.Scope(), CanonicalRequest(r, body, a.SignedHeaders))
	want := Signature(secret, a, sts)
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return ErrSignatureMismatch
	}
	return nil
}

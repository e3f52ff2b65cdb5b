package awssandbox

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/awssandbox/sigv4"
)

// AWS's wording for signature failures.
const (
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken      = "The security token included in the request is invalid."
	msgExpiredToken      = "The security token included in the request is expired"
)

// authenticate verifies the SigV4 signature of r. jsonProtocol selects the
// error codes a restJson service (Connect) uses instead of the query ones.
func (s *Sandbox) authenticate(r *http.Request, body []byte, jsonProtocol bool) (*credential, *apiError) {
	codeMismatch, codeUnknownKey, codeIncomplete, codeMissing := "SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature", "MissingAuthenticationToken"
	if jsonProtocol {
		codeMismatch, codeUnknownKey, codeIncomplete, codeMissing = "InvalidSignatureException", "UnrecognizedClientException", "IncompleteSignatureException", "MissingAuthenticationTokenException"
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		msg := "Request is missing Authentication Token"
		if jsonProtocol {
			msg = "Missing Authentication Token"
		}
		return nil, &apiError{Status: 403, Code: codeMissing, Message: msg, Sender: true}
	}
	a, err := sigv4.ParseAuthorization(h)
	if err != nil {
		return nil, &apiError{Status: 400, Code: codeIncomplete, Message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters in the AWS4-HMAC-SHA256 form. Authorization=" + truncate(h, 40), Sender: true}
	}
	t, err := sigv4.RequestTime(r)
	if err != nil {
		return nil, &apiError{Status: 400, Code: codeIncomplete, Message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", Sender: true}
	}
	now := s.now().UTC()
	switch {
	case t.Before(now.Add(-sigv4.MaxSkew)):
		return nil, &apiError{Status: 403, Code: codeMismatch, Sender: true,
			Message: "Signature expired: " + t.Format(sigv4.TimeFormat) + " is now earlier than " + now.Add(-sigv4.MaxSkew).Format(sigv4.TimeFormat) + " (" + now.Format(sigv4.TimeFormat) + " - 15 min.)"}
	case t.After(now.Add(sigv4.MaxSkew)):
		return nil, &apiError{Status: 403, Code: codeMismatch, Sender: true,
			Message: "Signature not yet current: " + t.Format(sigv4.TimeFormat) + " is still later than " + now.Add(sigv4.MaxSkew).Format(sigv4.TimeFormat) + " (" + now.Format(sigv4.TimeFormat) + " + 15 min.)"}
	}
	s.mu.Lock()
	c, ok := s.keys[a.AccessKeyID]
	var cc credential
	if ok {
		cc = *c
	}
	s.mu.Unlock()
	if !ok {
		return nil, &apiError{Status: 403, Code: codeUnknownKey, Message: msgInvalidToken, Sender: true}
	}
	if cc.sessionToken != "" {
		if r.Header.Get("X-Amz-Security-Token") != cc.sessionToken {
			return nil, &apiError{Status: 403, Code: codeUnknownKey, Message: msgInvalidToken, Sender: true}
		}
		if !now.Before(cc.expires) {
			code := "ExpiredToken"
			if jsonProtocol {
				code = "ExpiredTokenException"
			}
			return nil, &apiError{Status: 403, Code: code, Message: msgExpiredToken, Sender: true}
		}
	}
	if err := sigv4.Verify(r, body, a, t, cc.secret); err != nil {
		if errors.Is(err, sigv4.ErrSignatureMismatch) {
			return nil, &apiError{Status: 403, Code: codeMismatch, Message: msgSignatureMismatch, Sender: true}
		}
		return nil, &apiError{Status: 403, Code: codeMismatch, Message: msgSignatureMismatch, Sender: true}
	}
	return &cc, nil
}

// principalArn is the caller's ARN as AWS names it in AccessDenied messages.
func (s *Sandbox) principalArn(c *credential) string {
	if c.session != nil {
		return c.session.assumedArn(s.accountID)
	}
	return s.adminUser
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

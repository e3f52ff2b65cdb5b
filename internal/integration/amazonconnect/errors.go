package amazonconnect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// Kind classifies a Connect API failure for the job engine.
type Kind int

// Kinds of failure.
const (
	Transient Kind = iota // 5xx, network trouble, timeouts: retry with backoff
	Throttled             // 429 ThrottlingException / TooManyRequests / LimitExceeded as a rate limit: retry after a pause
	NotFound              // the user, instance or profile does not exist
	Duplicate             // a user with that username exists
	Invalid               // AWS refused the request's content: permanent
	Denied                // the credentials may not do this, or are wrong: permanent
	Quota                 // a resource quota (such as users per instance) is reached: permanent until raised
)

func (k Kind) String() string {
	switch k {
	case Throttled:
		return "throttled"
	case NotFound:
		return "not found"
	case Duplicate:
		return "duplicate"
	case Invalid:
		return "invalid"
	case Denied:
		return "denied"
	case Quota:
		return "quota"
	}
	return "transient"
}

// Error is a classified Connect API failure. Code and Message are AWS's own
// (safe to show to an administrator).
type Error struct {
	Kind       Kind
	Op         string // Connect operation, e.g. CreateUser
	Code       string // AWS error code, e.g. ThrottlingException; "" when AWS did not answer
	Message    string
	StatusCode int // HTTP status; 0 when AWS did not answer
	Err        error
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("amazonconnect: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("amazonconnect: %s: %s: %s", e.Op, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later can succeed.
func (e *Error) Retryable() bool { return e.Kind == Transient || e.Kind == Throttled }

// KindOf returns the kind of a classified error (Transient for others).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Transient
}

// IsKind reports whether err is a classified error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// classify turns an SDK error into *Error.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	out := &Error{Op: op, Err: err}
	var sc interface{ HTTPStatusCode() int }
	if errors.As(err, &sc) {
		out.StatusCode = sc.HTTPStatusCode()
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		out.Kind = Transient // no answer from AWS: network, timeout, cancelled context
		if out.StatusCode >= 400 && out.StatusCode < 500 && out.StatusCode != 429 && !errors.Is(err, context.Canceled) {
			out.Kind = Invalid
		}
		return out
	}
	out.Code, out.Message = ae.ErrorCode(), ae.ErrorMessage()
	out.Kind = kindOf(out.Code, out.Message, out.StatusCode)
	return out
}

func kindOf(code, msg string, status int) Kind {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return Throttled
	case "LimitExceededException":
		// Connect answers LimitExceededException both for request rates and
		// for resource quotas; the message tells them apart.
		m := strings.ToLower(msg)
		if strings.Contains(m, "limit for the resource") || strings.Contains(m, "quota") || strings.Contains(m, "per instance") {
			return Quota
		}
		return Throttled
	case "ServiceQuotaExceededException":
		return Quota
	case "ResourceNotFoundException", "UserNotFoundException", "ContactNotFoundException":
		return NotFound
	case "DuplicateResourceException", "ResourceConflictException", "ConflictException":
		return Duplicate
	case "InvalidParameterException", "InvalidRequestException", "ValidationException", "SerializationException", "PropertyValidationException":
		return Invalid
	case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
		"MissingAuthenticationTokenException", "IncompleteSignatureException", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch":
		return Denied
	case "InternalServiceException", "InternalFailure", "ServiceUnavailableException", "ServiceUnavailable", "ResourceNotReadyException":
		return Transient
	}
	switch {
	case status == 429:
		return Throttled
	case status == 404:
		return NotFound
	case status == 409:
		return Duplicate
	case status == 401 || status == 403:
		return Denied
	case status >= 500 || status == 0:
		return Transient
	}
	return Invalid
}

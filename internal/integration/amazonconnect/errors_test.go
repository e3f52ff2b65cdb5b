package amazonconnect

import "testing"

func TestKindOfCode(t *testing.T) {
	tests := []struct {
		code, msg string
		status    int
		want      Kind
	}{
		{"ThrottlingException", "Rate exceeded", 429, Throttled},
		{"TooManyRequestsException", "", 429, Throttled},
		{"LimitExceededException", "Rate exceeded", 429, Throttled},
		{"LimitExceededException", "The allowed limit for the resource has been exceeded: Users per instance (500).", 429, Quota},
		{"ServiceQuotaExceededException", "", 402, Quota},
		{"ResourceNotFoundException", "User not found", 404, NotFound},
		{"UserNotFoundException", "", 404, NotFound},
		{"DuplicateResourceException", "User with username x already exists.", 409, Duplicate},
		{"InvalidParameterException", "", 400, Invalid},
		{"InvalidRequestException", "", 400, Invalid},
		{"AccessDeniedException", "", 403, Denied},
		{"InvalidSignatureException", "", 403, Denied},
		{"UnrecognizedClientException", "", 403, Denied},
		{"InternalServiceException", "", 500, Transient},
		{"SomethingNew", "", 503, Transient},
		{"SomethingNew", "", 429, Throttled},
		{"SomethingNew", "", 418, Invalid},
	}
	for _, tc := range tests {
		if got := kindOf(tc.code, tc.msg, tc.status); got != tc.want {
			t.Errorf("%s %d %q: %v, want %v", tc.code, tc.status, tc.msg, got, tc.want)
		}
	}
	if (&Error{Kind: Throttled}).Retryable() != true || (&Error{Kind: Transient}).Retryable() != true ||
		(&Error{Kind: Invalid}).Retryable() || (&Error{Kind: Quota}).Retryable() || (&Error{Kind: Duplicate}).Retryable() {
		t.Fatal("Retryable")
	}
}

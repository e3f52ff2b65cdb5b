package mfa

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// FuzzPasskeyAnswers feeds arbitrary bytes to the parsers of WebAuthn
// answers (the browser's JSON and the separate values of Okta's API):
// they must refuse with an Invalid error, never panic.
func FuzzPasskeyAnswers(f *testing.F) {
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"}}`))
	f.Add([]byte(`{"id":"","type":"public-key"}`))
	f.Add([]byte("\x00\xff|e30|AAAA"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) {
			if err != nil && !errs.Is(err, errs.Invalid) {
				t.Fatalf("%s: %T %v", what, err, err)
			}
		}
		_, err := ParseRegistration(data)
		check("registration", err)
		_, err = ParseAssertion(data)
		check("assertion", err)
		parts := strings.SplitN(string(data), "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		_, err = ParseRegistrationParts(parts[0], parts[1])
		check("registration parts", err)
		_, err = ParseAssertionParts([]byte("cred"), parts[0], parts[1], parts[2])
		check("assertion parts", err)
	})
}

// FuzzCodes: typed codes of any shape are accepted only when they are a
// valid code, and never panic the normalisers.
func FuzzCodes(f *testing.F) {
	secret := []byte("12345678901234567890")
	f.Add("287082")
	f.Add(" 287 082 ")
	f.Add("abcd-efgh-ijkl-mnop")
	f.Add("ABCD EFGH IJKL MNOP")
	f.Add("\u0660\u0661\u0662\u0663\u0664\u0665")
	f.Fuzz(func(t *testing.T, code string) {
		now := time.Unix(59, 0)
		if step, ok := matchTOTP(secret, code, now); ok {
			// RFC 6238 test vector: at 59 s (step 1) the code is 287082;
			// the window also holds steps 0 and 2.
			if step < 0 || step > 2 {
				t.Fatalf("code %q matched step %d", code, step)
			}
			n := NormalizeCode(code)
			if len(n) != TOTPDigits {
				t.Fatalf("code %q matched with %d digits", code, len(n))
			}
		}
		if n, ok := normalizeRecoveryCode(code); ok {
			if len(n) != recoveryLength || strings.ToLower(n) != n {
				t.Fatalf("recovery code %q normalised to %q", code, n)
			}
		}
	})
}

// TestRFC6238Vectors checks the SHA-1 test vectors of RFC 6238 appendix B
// (their last six digits).
func TestRFC6238Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for at, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		step, ok := matchTOTP(secret, want, time.Unix(at, 0))
		if !ok || step != at/TOTPPeriod {
			t.Errorf("at %d: %s not accepted at its own step (%d %v)", at, want, step, ok)
		}
	}
}

package oktaapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/mfa"
)

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func errNoPasskeys() error {
	return enrollInvalid("factorType", "factorType: webauthn is not available: passkeys need Gatehouse's base URL to name a host (not an IP address).")
}

// enrollWebAuthn starts the registration of a WebAuthn credential.
func (f *Factors) enrollWebAuthn(w http.ResponseWriter, r *http.Request, provider string, profile map[string]json.RawMessage) error {
	if !f.MFA.PasskeysOn() {
		return errNoPasskeys()
	}
	return errNoPasskeys()
}

func (f *Factors) activateWebAuthn(w http.ResponseWriter, r *http.Request, x *mfa.Factor, in passCodeIn) error {
	return errNoPasskeys()
}

func (f *Factors) verifyWebAuthn(w http.ResponseWriter, r *http.Request, x *mfa.Factor, in passCodeIn) error {
	return errNoPasskeys()
}

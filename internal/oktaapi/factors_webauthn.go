package oktaapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
)

// WebAuthn through Okta's Factors API: enroll answers PENDING_ACTIVATION
// with the credential creation options in _embedded.activation; activate
// takes attestation and clientData; verify without a body answers
// CHALLENGE with the request options in _embedded.challenge, and with
// clientData, authenticatorData and signatureData verifies.

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// asObject turns a value into a JSON object for _embedded.
func asObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func (f *Factors) enrollWebAuthn(w http.ResponseWriter, r *http.Request, provider string, profile map[string]json.RawMessage) error {
	if provider != "" && provider != mfa.ProviderFIDO {
		return enrollInvalid("provider", "provider: The factor provider must be FIDO for webauthn.")
	}
	var name string
	if raw, ok := profile["authenticatorName"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return enrollInvalid("profile.authenticatorName", "profile.authenticatorName: must be a string")
		}
	}
	x, creation, err := f.MFA.BeginPasskeyRegistration(r.Context(), r.PathValue("id"), name)
	if err != nil {
		return err
	}
	act, err := asObject(creation.Response)
	if err != nil {
		return err
	}
	u, err := f.API.Directory.Store.User(r.Context(), x.UserID)
	if err != nil {
		return err
	}
	out := f.factorJSON(x, u.Login())
	out["_embedded"] = map[string]any{"activation": act}
	return WriteJSON(w, out)
}

func (f *Factors) activateWebAuthn(w http.ResponseWriter, r *http.Request, x *mfa.Factor, in passCodeIn) error {
	if in.Attestation == "" || in.ClientData == "" {
		return errs.InvalidFields("Api validation failed: attestation",
			errs.Field("attestation", "attestation: attestation and clientData are required to activate a webauthn factor"))
	}
	parsed, err := mfa.ParseRegistrationParts(in.Attestation, in.ClientData)
	if err != nil {
		return err
	}
	done, err := f.MFA.FinishPasskeyRegistration(r.Context(), x.UserID, x.ID, parsed)
	if err != nil {
		return err
	}
	u, err := f.API.Directory.Store.User(r.Context(), x.UserID)
	if err != nil {
		return err
	}
	return WriteJSON(w, f.factorJSON(done, u.Login()))
}

func (f *Factors) verifyWebAuthn(w http.ResponseWriter, r *http.Request, x *mfa.Factor, in passCodeIn) error {
	key := "api:" + x.ID
	if in.ClientData == "" && in.AuthenticatorData == "" && in.SignatureData == "" {
		assertion, err := f.MFA.BeginPasskeyLogin(r.Context(), x.UserID, x.ID, key)
		if err != nil {
			return err
		}
		ch, err := asObject(assertion.Response)
		if err != nil {
			return err
		}
		verify := f.API.BaseURL + "/api/v1/users/" + x.UserID + "/factors/" + x.ID + "/verify"
		return WriteJSON(w, map[string]any{
			"factorResult": "CHALLENGE",
			"_embedded":    map[string]any{"challenge": ch},
			"_links":       map[string]any{"verify": link(verify, "POST")},
		})
	}
	if x.Status != mfa.Active || x.Credential == nil {
		return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The factor is not active. Activate it first."}
	}
	parsed, err := mfa.ParseAssertionParts(x.Credential.ID, in.ClientData, in.AuthenticatorData, in.SignatureData)
	if err != nil {
		return err
	}
	if _, err := f.MFA.FinishPasskeyLogin(r.Context(), x.UserID, key, parsed); err != nil {
		return err
	}
	return WriteJSON(w, map[string]any{"factorResult": "SUCCESS"})
}

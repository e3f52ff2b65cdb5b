// Package mfa holds people's second factors: authenticator apps (TOTP, RFC
// 6238), WebAuthn passkeys and security keys, and single-use recovery
// codes. It enrols and activates them, verifies them with replay
// protection, throttling and lockout, and resets them.
//
// TOTP seeds are sealed with the master key and leave the package only in
// the answer to the enrolment that created them; recovery codes are kept
// as hashes. Storage is behind Store and Tx (sqlstore implements both);
// every change commits with its system-log event in one directory
// transaction, so a person's factors, lockout counter and status move
// together.
package mfa

import (
	"time"
)

// Type is a factor type, as Okta names it.
type Type string

// Factor types.
const (
	TypeTOTP     Type = "token:software:totp"
	TypeWebAuthn Type = "webauthn"
)

// Status is a factor's status, as Okta names it.
type Status string

// Factor statuses.
const (
	PendingActivation Status = "PENDING_ACTIVATION"
	Active            Status = "ACTIVE"
)

// Factor providers, as Okta names them.
const (
	ProviderOkta   = "OKTA"   // Okta Verify's TOTP; any RFC 6238 app works
	ProviderGoogle = "GOOGLE" // Google Authenticator; any RFC 6238 app works
	ProviderFIDO   = "FIDO"   // WebAuthn
)

// Factor is one enrolled second factor of a person.
type Factor struct {
	ID       string
	UserID   string
	Type     Type
	Provider string
	Status   Status
	// Name is what the person sees: "Authenticator app", or the name
	// they gave a passkey.
	Name string
	// SealedSecret is the TOTP seed sealed by the master key ("" for
	// WebAuthn).
	SealedSecret string
	// LastStep is the last TOTP time step accepted: a code of that step
	// or an earlier one is refused as a replay.
	LastStep int64
	// Credential is the WebAuthn public key credential (nil for TOTP).
	Credential  *Credential
	Created     time.Time
	LastUpdated time.Time
	LastUsed    *time.Time
	// Expires ends a PENDING_ACTIVATION enrolment.
	Expires *time.Time
}

// Credential is a registered WebAuthn credential: its public key and what
// the authenticator said about itself.
type Credential struct {
	ID              []byte   `json:"id"`
	PublicKey       []byte   `json:"publicKey"`
	AttestationType string   `json:"attestationType,omitempty"`
	AAGUID          []byte   `json:"aaguid,omitempty"`
	SignCount       uint32   `json:"signCount"`
	CloneWarning    bool     `json:"cloneWarning,omitempty"`
	Transports      []string `json:"transports,omitempty"`
	UserPresent     bool     `json:"userPresent,omitempty"`
	UserVerified    bool     `json:"userVerified,omitempty"`
	BackupEligible  bool     `json:"backupEligible,omitempty"`
	BackupState     bool     `json:"backupState,omitempty"`
}

// Expired reports whether a pending enrolment can no longer be activated.
func (f *Factor) Expired(now time.Time) bool {
	return f.Status == PendingActivation && f.Expires != nil && !now.Before(*f.Expires)
}

// Label is a readable description of the factor's kind.
func (f *Factor) Label() string {
	switch f.Type {
	case TypeTOTP:
		if f.Provider == ProviderGoogle {
			return "Google Authenticator"
		}
		return "Authenticator app"
	case TypeWebAuthn:
		return "Passkey or security key"
	}
	return string(f.Type)
}

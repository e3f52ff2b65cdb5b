package mfa

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// Passkeys and security keys (WebAuthn, through go-webauthn). The relying
// party is Gatehouse's base URL: its host is the RP ID and the URL's
// origin the only origin accepted. A ceremony's challenge waits in the
// store (Ceremonies), so any node can finish what another began, and is
// used once.

// Ceremonies keeps WebAuthn challenges between the two halves of a
// ceremony (session.Store implements it).
type Ceremonies interface {
	PutPending(ctx context.Context, id string, body []byte, expires time.Time) error
	Pending(ctx context.Context, id string) ([]byte, error)
	DeletePending(ctx context.Context, id string) error
	Remember(ctx context.Context, key string, expires time.Time) (bool, error)
}

// CeremonyTTL bounds a WebAuthn ceremony.
const CeremonyTTL = 5 * time.Minute

// WebAuthn is the relying party.
type WebAuthn struct {
	wa   *webauthn.WebAuthn
	rpID string
}

// ErrNoRelyingParty means the base URL cannot name a WebAuthn relying
// party: browsers accept only host names (not IP addresses) as RP IDs.
var ErrNoRelyingParty = errors.New("mfa: passkeys need a base URL whose host is a name, not an IP address")

// NewWebAuthn makes the relying party of baseURL.
func NewWebAuthn(baseURL, displayName string) (*WebAuthn, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return nil, ErrNoRelyingParty
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return nil, ErrNoRelyingParty
	}
	if displayName == "" {
		displayName = "Gatehouse"
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  host,
		RPDisplayName:         displayName,
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, err
	}
	return &WebAuthn{wa: wa, rpID: host}, nil
}

// RPID is the relying party's ID.
func (w *WebAuthn) RPID() string { return w.rpID }

// PasskeysOn reports whether WebAuthn passkeys and security keys can be
// used.
func (s *Service) PasskeysOn() bool { return s.WebAuthn != nil && s.Ceremonies != nil }

// waUser is a person as the relying party sees them.
type waUser struct {
	u     *directory.User
	creds []webauthn.Credential
}

func (p waUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p waUser) WebAuthnName() string                       { return p.u.Login() }
func (p waUser) WebAuthnDisplayName() string                { return p.u.DisplayName() }
func (p waUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

func toLibrary(c *Credential) webauthn.Credential {
	var tr []protocol.AuthenticatorTransport
	for _, t := range c.Transports {
		tr = append(tr, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType, Transport: tr,
		Flags:         webauthn.CredentialFlags{UserPresent: c.UserPresent, UserVerified: c.UserVerified, BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount, CloneWarning: c.CloneWarning},
	}
}

func fromLibrary(c *webauthn.Credential) *Credential {
	var tr []string
	for _, t := range c.Transport {
		tr = append(tr, string(t))
	}
	return &Credential{
		ID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType, AAGUID: c.Authenticator.AAGUID,
		SignCount: c.Authenticator.SignCount, CloneWarning: c.Authenticator.CloneWarning, Transports: tr,
		UserPresent: c.Flags.UserPresent, UserVerified: c.Flags.UserVerified, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
	}
}

// credentials returns the active WebAuthn factors and their credentials.
func credentials(fs []*Factor) ([]*Factor, []webauthn.Credential) {
	var out []*Factor
	var creds []webauthn.Credential
	for _, f := range fs {
		if f.Type == TypeWebAuthn && f.Status == Active && f.Credential != nil {
			out = append(out, f)
			creds = append(creds, toLibrary(f.Credential))
		}
	}
	return out, creds
}

func regKey(factorID string) string { return "webauthn-reg:" + factorID }
func loginKey(key string) string    { return "webauthn-login:" + key }

func errNoPasskeys() *errs.Error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: factorEnrollRequest",
		Fields: []errs.FieldError{{Field: "factorType", Message: "factorType: webauthn is not available: passkeys need Gatehouse's base URL to name a host, not an IP address."}}}
}

// errBadResponse is a WebAuthn answer that is not well formed or does not
// verify at registration; it is never shown with the library's detail.
func errBadResponse(field string) *errs.Error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: " + field,
		Fields: []errs.FieldError{{Field: field, Message: field + ": The passkey's answer could not be verified. Try again."}}}
}

// PasskeyName checks the name a person gives a passkey.
func PasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Passkey"
	}
	if utf8.RuneCountInString(name) > 64 || strings.ContainsAny(name, "\r\n\t") {
		return "", errs.InvalidFields("Api validation failed: name", errs.Field("name", "Give the passkey a name of up to 64 characters."))
	}
	return name, nil
}

// BeginPasskeyRegistration starts the registration of a passkey or
// security key named name: a PENDING_ACTIVATION factor and the options for
// navigator.credentials.create ({"publicKey": ...}), which exclude the
// person's existing credentials.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userIDOrLogin, name string) (*Factor, *protocol.CredentialCreation, error) {
	if !s.PasskeysOn() {
		return nil, nil, errNoPasskeys()
	}
	name, err := PasskeyName(name)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.Directory.User(ctx, userIDOrLogin)
	if err != nil {
		return nil, nil, err
	}
	if u.Status == directory.Deprovisioned {
		return nil, nil, &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the user's current status."}
	}
	existing, err := s.Store.Factors(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	_, creds := credentials(existing)
	var exclude []protocol.CredentialDescriptor
	for _, c := range creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sess, err := s.WebAuthn.wa.BeginRegistration(waUser{u: u, creds: creds}, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	exp := now.Add(CeremonyTTL)
	f := &Factor{ID: s.IDs.New(prefixWebAuthn), UserID: u.ID, Type: TypeWebAuthn, Provider: ProviderFIDO, Status: PendingActivation,
		Name: name, Created: now, LastUpdated: now, Expires: &exp}
	b, err := json.Marshal(sess)
	if err != nil {
		return nil, nil, err
	}
	// The challenge is stored before the factor: a factor never waits for
	// a challenge that is not there (and the store is not written inside
	// the directory transaction, which holds SQLite's one writer).
	if err := s.Ceremonies.PutPending(ctx, regKey(f.ID), b, exp); err != nil {
		return nil, nil, err
	}
	err = s.update(ctx, u.ID, func(tx txn, u *directory.User) error {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return err
		}
		// Stale unfinished registrations go.
		for _, x := range fs {
			if x.Type == TypeWebAuthn && x.Status == PendingActivation && x.Expired(now) {
				if err := tx.DeleteFactor(u.ID, x.ID); err != nil {
					return err
				}
			}
		}
		if err := tx.InsertFactor(f); err != nil {
			return err
		}
		return tx.Append(s.event(ctx, "user.mfa.factor.update", "Enroll factor for user (pending activation)", audit.Success, u, f))
	})
	if err != nil {
		return nil, nil, err
	}
	return f, creation, nil
}

// takeCeremony reads a ceremony and uses it up, once across every node.
func (s *Service) takeCeremony(ctx context.Context, key string) (*webauthn.SessionData, error) {
	b, err := s.Ceremonies.Pending(ctx, key)
	if err != nil {
		return nil, nil
	}
	var sess webauthn.SessionData
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, err
	}
	fresh, err := s.Ceremonies.Remember(ctx, "webauthn-used:"+sess.Challenge, s.now().Add(CeremonyTTL+time.Minute))
	if err != nil {
		return nil, err
	}
	_ = s.Ceremonies.DeletePending(ctx, key)
	if !fresh {
		return nil, nil
	}
	return &sess, nil
}

// ParseRegistration parses the browser's answer to
// navigator.credentials.create (the PublicKeyCredential as JSON).
func ParseRegistration(body []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(body) == 0 || len(body) > 64<<10 {
		return nil, errBadResponse("credential")
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, errBadResponse("credential")
	}
	return p, nil
}

// ParseRegistrationParts builds and parses a registration answer from the
// two values Okta's Factors API takes: attestation (the attestation object)
// and clientData (the client data JSON), each base64 or base64url.
func ParseRegistrationParts(attestation, clientData string) (*protocol.ParsedCredentialCreationData, error) {
	ao, err1 := decodeB64(attestation)
	cd, err2 := decodeB64(clientData)
	if err1 != nil || err2 != nil || len(ao) == 0 || len(cd) == 0 || len(ao) > 32<<10 || len(cd) > 8<<10 {
		return nil, errBadResponse("attestation")
	}
	ar := protocol.AuthenticatorAttestationResponse{AuthenticatorResponse: protocol.AuthenticatorResponse{ClientDataJSON: cd}, AttestationObject: ao}
	parsed, err := ar.Parse()
	if err != nil || parsed.AttestationObject.AuthData.AttData.CredentialID == nil {
		return nil, errBadResponse("attestation")
	}
	id := parsed.AttestationObject.AuthData.AttData.CredentialID
	ccr := protocol.CredentialCreationResponse{
		PublicKeyCredential: protocol.PublicKeyCredential{Credential: protocol.Credential{ID: base64.RawURLEncoding.EncodeToString(id), Type: string(protocol.PublicKeyCredentialType)}, RawID: id},
		AttestationResponse: ar,
	}
	p, err := ccr.Parse()
	if err != nil {
		return nil, errBadResponse("attestation")
	}
	return p, nil
}

// decodeB64 accepts base64url or standard base64, padded or not.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// FinishPasskeyRegistration verifies the authenticator's answer to a
// registration and activates the factor with its credential.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userIDOrLogin, factorID string, parsed *protocol.ParsedCredentialCreationData) (*Factor, error) {
	if !s.PasskeysOn() {
		return nil, errNoPasskeys()
	}
	u, err := s.Directory.User(ctx, userIDOrLogin)
	if err != nil {
		return nil, err
	}
	sess, err := s.takeCeremony(ctx, regKey(factorID))
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The registration of this passkey expired or was used. Start again.",
			Fields: []errs.FieldError{{Message: "The registration expired; start again."}}}
	}
	cred, err := s.WebAuthn.wa.CreateCredential(waUser{u: u}, *sess, parsed)
	if err != nil {
		return nil, errBadResponse("attestation")
	}
	var out *Factor
	err = s.update(ctx, u.ID, func(tx txn, u *directory.User) error {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return err
		}
		f := findFactor(fs, factorID)
		now := s.now()
		if f == nil || f.Type != TypeWebAuthn {
			return errFactorNotFound(factorID)
		}
		if f.Status != PendingActivation || f.Expired(now) {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This passkey registration is not pending any more. Start again."}
		}
		f.Credential = fromLibrary(cred)
		f.Status, f.LastUpdated, f.Expires = Active, now, nil
		if err := tx.UpdateFactor(f); err != nil {
			return err
		}
		out = f
		return tx.Append(s.event(ctx, "user.mfa.factor.activate", "Activate factor for user", audit.Success, u, f))
	})
	return out, err
}

// BeginPasskeyLogin starts a sign-in with a passkey or security key of the
// person (factorID "" allows any of theirs); key names the ceremony for
// its finish (one pending sign-in, or one factor of the API).
func (s *Service) BeginPasskeyLogin(ctx context.Context, userIDOrLogin, factorID, key string) (*protocol.CredentialAssertion, error) {
	if !s.PasskeysOn() {
		return nil, errNoPasskeys()
	}
	u, err := s.Directory.User(ctx, userIDOrLogin)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	fs, creds := credentials(all)
	if factorID != "" {
		fs, creds = nil, nil
		for _, f := range all {
			if f.ID == factorID && f.Type == TypeWebAuthn && f.Status == Active && f.Credential != nil {
				fs, creds = []*Factor{f}, []webauthn.Credential{toLibrary(f.Credential)}
			}
		}
	}
	if len(fs) == 0 {
		id := factorID
		if id == "" {
			id = "webauthn"
		}
		return nil, errFactorNotFound(id)
	}
	assertion, sess, err := s.WebAuthn.wa.BeginLogin(waUser{u: u, creds: creds})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(sess)
	if err != nil {
		return nil, err
	}
	// Asking again (the person cancelled the browser's prompt and pressed
	// the button once more) replaces the ceremony begun before.
	if err := s.Ceremonies.PutPending(ctx, loginKey(key), b, s.now().Add(CeremonyTTL)); err != nil {
		return nil, err
	}
	return assertion, nil
}

// recordAssertion stores what a validated assertion says about its passkey:
// a signature counter that did not rise marks it cloned (and fails the
// attempt); otherwise the counter, flags and time of use.
func recordAssertion(tx txn, f *Factor, cred *webauthn.Credential, now time.Time) (verifyOutcome, error) {
	if cred.Authenticator.CloneWarning {
		f.Credential.CloneWarning, f.LastUpdated = true, now
		return verifyOutcome{reason: ReasonCloned}, tx.UpdateFactor(f)
	}
	f.Credential.SignCount = cred.Authenticator.SignCount
	f.Credential.UserPresent, f.Credential.UserVerified = cred.Flags.UserPresent, cred.Flags.UserVerified
	f.Credential.BackupState = cred.Flags.BackupState
	f.LastUsed, f.LastUpdated = &now, now
	return verifyOutcome{ok: true}, tx.UpdateFactor(f)
}

// lockedPasskey reads a person's factors under lock and returns the active
// passkey whose credential id is rawID (nil when none) with the library
// credentials of all their active passkeys.
func lockedPasskey(tx txn, userID string, rawID []byte) (*Factor, []webauthn.Credential, error) {
	all, err := tx.FactorsForUpdate(userID)
	if err != nil {
		return nil, nil, err
	}
	fs, creds := credentials(all)
	for _, f := range fs {
		if string(f.Credential.ID) == string(rawID) {
			return f, creds, nil
		}
	}
	return nil, creds, nil
}

// ParseAssertion parses the browser's answer to navigator.credentials.get.
func ParseAssertion(body []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(body) == 0 || len(body) > 64<<10 {
		return nil, errBadResponse("credential")
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, errBadResponse("credential")
	}
	return p, nil
}

// ParseAssertionParts builds and parses an assertion from the values
// Okta's Factors API takes (clientData, authenticatorData, signatureData)
// for the credential of a factor.
func ParseAssertionParts(credentialID []byte, clientData, authenticatorData, signature string) (*protocol.ParsedCredentialAssertionData, error) {
	cd, err1 := decodeB64(clientData)
	ad, err2 := decodeB64(authenticatorData)
	sig, err3 := decodeB64(signature)
	if err1 != nil || err2 != nil || err3 != nil || len(cd) == 0 || len(ad) == 0 || len(sig) == 0 || len(credentialID) == 0 ||
		len(cd) > 8<<10 || len(ad) > 8<<10 || len(sig) > 1<<10 {
		return nil, errBadResponse("signatureData")
	}
	car := protocol.CredentialAssertionResponse{
		PublicKeyCredential: protocol.PublicKeyCredential{Credential: protocol.Credential{ID: base64.RawURLEncoding.EncodeToString(credentialID), Type: string(protocol.PublicKeyCredentialType)}, RawID: credentialID},
		AssertionResponse:   protocol.AuthenticatorAssertionResponse{AuthenticatorResponse: protocol.AuthenticatorResponse{ClientDataJSON: cd}, AuthenticatorData: ad, Signature: sig},
	}
	p, err := car.Parse()
	if err != nil {
		return nil, errBadResponse("signatureData")
	}
	return p, nil
}

// ReasonCloned refuses a passkey whose signature counter did not increase.
const ReasonCloned = "AUTHENTICATOR_CLONE_SUSPECTED"

func errCeremonyGone() *errs.Error {
	return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The passkey sign-in expired or was used. Try again.",
		Fields: []errs.FieldError{{Message: "The passkey sign-in expired; try again."}}}
}

// FinishPasskeyLogin verifies the authenticator's answer to the ceremony
// named key. A signature counter that does not increase marks the
// credential as possibly cloned and refuses it from then on. Failures
// count towards lockout.
func (s *Service) FinishPasskeyLogin(ctx context.Context, userIDOrLogin, key string, parsed *protocol.ParsedCredentialAssertionData) (*Factor, error) {
	if !s.PasskeysOn() {
		return nil, errNoPasskeys()
	}
	sess, err := s.takeCeremony(ctx, loginKey(key))
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, errCeremonyGone()
	}
	var used *Factor
	_, err = s.verify(ctx, userIDOrLogin, "webauthn", func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error) {
		f, creds, err := lockedPasskey(tx, u.ID, parsed.RawID)
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		if f == nil {
			return nil, verifyOutcome{reason: ReasonInvalid}, nil
		}
		if f.Credential.CloneWarning {
			return f, verifyOutcome{reason: ReasonCloned}, nil
		}
		cred, err := s.WebAuthn.wa.ValidateLogin(waUser{u: u, creds: creds}, *sess, parsed)
		if err != nil {
			return f, verifyOutcome{reason: ReasonInvalid}, nil
		}
		out, err := recordAssertion(tx, f, cred, now)
		if out.ok {
			used = f
		}
		return f, out, err
	})
	if err != nil {
		return nil, err
	}
	return used, nil
}

// Passwordless sign-in: a discoverable credential (a passkey the
// authenticator keeps with its user handle, which is the person's id) is
// asked for without a username, with user verification required, so the
// one ceremony proves possession and a PIN or biometric: two factors.

func signInKey(key string) string { return "webauthn-signin:" + key }

// ErrUnknownPasskey refuses a passwordless sign-in whose credential names
// no person (no or an unknown user handle). There is nobody to count the
// failure against; the caller logs it.
var ErrUnknownPasskey = &errs.Error{Kind: errs.Unauthorized, Code: "E0000004", Msg: "Authentication failed"}

// BeginPasskeySignIn starts a passwordless sign-in: options for
// navigator.credentials.get without allowed credentials (the browser
// offers the passkeys it has for Gatehouse) and with user verification
// required. key names the ceremony for its finish (one browser).
func (s *Service) BeginPasskeySignIn(ctx context.Context, key string) (*protocol.CredentialAssertion, error) {
	if !s.PasskeysOn() {
		return nil, errNoPasskeys()
	}
	assertion, sess, err := s.WebAuthn.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(sess)
	if err != nil {
		return nil, err
	}
	// A new ceremony of the same browser replaces the one it began before.
	if err := s.Ceremonies.PutPending(ctx, signInKey(key), b, s.now().Add(CeremonyTTL)); err != nil {
		return nil, err
	}
	return assertion, nil
}

// PasskeyOwner returns the person a passwordless assertion names by its
// user handle, or ErrUnknownPasskey. It checks nothing else: the caller
// uses it to attribute the attempt before FinishPasskeySignIn.
func (s *Service) PasskeyOwner(ctx context.Context, parsed *protocol.ParsedCredentialAssertionData) (*directory.User, error) {
	handle := string(parsed.Response.UserHandle)
	if handle == "" || len(handle) > 64 || !utf8.ValidString(handle) || strings.ContainsRune(handle, 0) {
		return nil, ErrUnknownPasskey
	}
	u, err := s.Directory.User(ctx, handle)
	if errs.Is(err, errs.NotFound) || (err == nil && u.ID != handle) {
		// Only the id is a user handle, never a login.
		return nil, ErrUnknownPasskey
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// FinishPasskeySignIn verifies the answer to the passwordless ceremony
// named key: the person is the one the credential's user handle names,
// the credential must be one of their active passkeys, the signature,
// challenge, origin, RP ID and user verification must verify, and the
// signature counter must grow. A person who cannot sign in (suspended,
// deprovisioned, locked out) is refused. Failures count towards the
// factor lockout; the attempt is logged as user.session.start and
// user.authentication.auth_via_mfa. Events are attributed with ctx until
// the person is known, then with as(person) (nil keeps ctx).
func (s *Service) FinishPasskeySignIn(ctx context.Context, key string, parsed *protocol.ParsedCredentialAssertionData, as func(*directory.User) context.Context) (*Factor, *directory.User, error) {
	if !s.PasskeysOn() {
		return nil, nil, errNoPasskeys()
	}
	sess, err := s.takeCeremony(ctx, signInKey(key))
	if err != nil {
		return nil, nil, err
	}
	if sess == nil {
		return nil, nil, errCeremonyGone()
	}
	owner, err := s.PasskeyOwner(ctx, parsed)
	if errors.Is(err, ErrUnknownPasskey) {
		ev := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Failure, audit.Target{ID: "unknown", Type: "User", AlternateID: "unknown"})
		ev.Outcome.Reason = "VERIFICATION_ERROR"
		raw := parsed.RawID
		if len(raw) > 255 {
			raw = raw[:255] // credential ids are at most 1023 bytes; the log keeps a prefix
		}
		ev.Debug = map[string]string{"authnMethod": "passkey", "credentialId": base64.RawURLEncoding.EncodeToString(raw)}
		if lerr := s.Directory.Update(ctx, func(tx directory.Tx) error { return tx.Append(ev) }); lerr != nil {
			return nil, nil, lerr
		}
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	if as != nil {
		ctx = as(owner)
	}
	var used *Factor
	who, err := s.attempt(ctx, owner.ID, "webauthn", kindSignIn, func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error) {
		f, creds, err := lockedPasskey(tx, u.ID, parsed.RawID)
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		if f == nil {
			return nil, verifyOutcome{reason: ReasonInvalid}, nil
		}
		if f.Credential.CloneWarning {
			return f, verifyOutcome{reason: ReasonCloned}, nil
		}
		owner := func(rawID, userHandle []byte) (webauthn.User, error) {
			if string(userHandle) != u.ID {
				return nil, errors.New("the user handle names another person")
			}
			return waUser{u: u, creds: creds}, nil
		}
		cred, err := s.WebAuthn.wa.ValidateDiscoverableLogin(owner, *sess, parsed)
		if err != nil || !cred.Flags.UserVerified {
			return f, verifyOutcome{reason: ReasonInvalid}, nil
		}
		out, err := recordAssertion(tx, f, cred, now)
		if out.ok {
			used = f
		}
		return f, out, err
	})
	if err != nil {
		return nil, who, err
	}
	return used, who, nil
}

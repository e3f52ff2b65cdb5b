package mfa

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Sealer seals TOTP seeds at rest (keys.Sealer implements it).
type Sealer interface {
	Seal(plaintext []byte, context string) (string, error)
	Open(sealed string, context string) ([]byte, error)
}

// ID prefixes of factors, in the style of Okta's.
const (
	prefixOktaTOTP   = ids.FactorTOTP
	prefixGoogleTOTP = ids.FactorGoogle
	prefixWebAuthn   = ids.FactorWebAuthn
)

// Service enrols, verifies and resets factors.
type Service struct {
	Directory directory.Store
	Store     Store
	Sealer    Sealer
	IDs       *ids.Source
	Now       func() time.Time
	Events    audit.Builder
	// LockoutAfter is how many consecutive failed verifications lock the
	// person out (as many failed passwords do); 10 when zero.
	LockoutAfter int
	// Issuer names Gatehouse in authenticator apps.
	Issuer string
	// EnrollTTL bounds how long an enrolment waits for activation; 15
	// minutes when zero.
	EnrollTTL time.Duration
	// WebAuthn is the passkey relying party and Ceremonies keeps its
	// challenges; passkeys are off when either is nil.
	WebAuthn   *WebAuthn
	Ceremonies Ceremonies
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) lockoutAfter() int {
	if s.LockoutAfter <= 0 {
		return 10
	}
	return s.LockoutAfter
}

func (s *Service) enrollTTL() time.Duration {
	if s.EnrollTTL <= 0 {
		return 15 * time.Minute
	}
	return s.EnrollTTL
}

// Failure is a refused verification. Reason is for the system log
// (INVALID_CREDENTIALS, PASSCODE_REPLAYED, LOCKED_OUT); the wrapped
// errs.Error is what the person or client is told.
type Failure struct {
	Reason string
	// Locked is set when the person is locked out: this failure locked
	// them, or they were locked already (Reason LOCKED_OUT).
	Locked bool
	err    *errs.Error
}

func (f *Failure) Error() string { return f.err.Error() }

// Unwrap returns the error shown to the caller.
func (f *Failure) Unwrap() error { return f.err }

// Failure reasons.
const (
	ReasonInvalid  = "INVALID_CREDENTIALS"
	ReasonReplayed = "PASSCODE_REPLAYED"
	ReasonLocked   = "LOCKED_OUT"
)

func errInvalidCode() *errs.Error {
	return &errs.Error{Kind: errs.Forbidden, Code: "E0000068", Msg: "Invalid Passcode/Answer",
		Fields: []errs.FieldError{{Message: "Your passcode doesn't match our records. Please try again."}}}
}

func errLocked() *errs.Error {
	return &errs.Error{Kind: errs.Forbidden, Code: "E0000069", Msg: "User Locked",
		Fields: []errs.FieldError{{Message: "Too many failed verifications. Your account is locked; contact your administrator."}}}
}

func errNotActive() *errs.Error {
	return &errs.Error{Kind: errs.Unauthorized, Code: "E0000004", Msg: "Authentication failed"}
}

func errFactorNotFound(id string) *errs.Error {
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + id + " (UserFactor)"}
}

// ReasonOf returns the log reason of a verification error, "" when err is
// not a refused verification.
func ReasonOf(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// LockedOut reports whether err is a refused verification after which the
// person is locked out (the one that locked them included).
func LockedOut(err error) bool {
	var f *Failure
	return errors.As(err, &f) && f.Locked
}

// txn is a directory transaction that also writes factors.
type txn interface {
	directory.Tx
	Tx
}

// update runs fn in a directory transaction with the person locked.
func (s *Service) update(ctx context.Context, userID string, fn func(tx txn, u *directory.User) error) error {
	return s.Directory.Update(ctx, func(dtx directory.Tx) error {
		tx, ok := dtx.(txn)
		if !ok {
			return errors.New("mfa: the directory transaction cannot write factors")
		}
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		return fn(tx, u)
	})
}

func target(u *directory.User) audit.Target {
	return audit.UserTarget(u.ID, u.Login(), u.DisplayName())
}

func (s *Service) event(ctx context.Context, typ, msg, outcome string, u *directory.User, f *Factor) audit.Event {
	ev := s.Events.New(ctx, typ, msg, outcome, target(u))
	if f != nil {
		ev.Debug = map[string]string{"factorId": f.ID, "factor": string(f.Type), "factorProvider": f.Provider}
	}
	return ev
}

// List returns a person's factors (pending enrolments that expired are left
// out) and the person.
func (s *Service) List(ctx context.Context, userIDOrLogin string) ([]*Factor, *directory.User, error) {
	u, err := s.Directory.User(ctx, userIDOrLogin)
	if err != nil {
		return nil, nil, err
	}
	fs, err := s.Store.Factors(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	out := fs[:0]
	for _, f := range fs {
		if !f.Expired(now) {
			out = append(out, f)
		}
	}
	return out, u, nil
}

// Get returns one factor of a person.
func (s *Service) Get(ctx context.Context, userIDOrLogin, factorID string) (*Factor, error) {
	u, err := s.Directory.User(ctx, userIDOrLogin)
	if err != nil {
		return nil, err
	}
	f, err := s.Store.Factor(ctx, u.ID, factorID)
	if errs.Is(err, errs.NotFound) || (err == nil && f.Expired(s.now())) {
		return nil, errFactorNotFound(factorID)
	}
	return f, err
}

// HasActive reports whether a person has an active factor.
func (s *Service) HasActive(ctx context.Context, userID string) (bool, error) {
	fs, err := s.Store.Factors(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, f := range fs {
		if f.Status == Active {
			return true, nil
		}
	}
	return false, nil
}

func sealContext(factorID string) string { return "mfa:" + factorID + ":totp" }

// EnrollTOTP starts the enrolment of an authenticator app (provider OKTA
// or GOOGLE): a PENDING_ACTIVATION factor with a new seed, activated by a
// first valid code. The returned enrolment carries the seed; it is never
// readable again. A pending enrolment of the same provider is replaced;
// an active one must be reset first.
func (s *Service) EnrollTOTP(ctx context.Context, userIDOrLogin, provider string) (*Factor, TOTPEnrollment, error) {
	prefix := prefixOktaTOTP
	switch provider {
	case "", ProviderOkta:
		provider = ProviderOkta
	case ProviderGoogle:
		prefix = prefixGoogleTOTP
	default:
		return nil, TOTPEnrollment{}, errs.InvalidFields("Api validation failed: factorEnrollRequest",
			errs.Field("provider", "provider: The factor provider must be OKTA or GOOGLE for token:software:totp."))
	}
	secret := make([]byte, totpSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, TOTPEnrollment{}, err
	}
	defer clear(secret)
	var out *Factor
	var enr TOTPEnrollment
	err := s.update(ctx, userIDOrLogin, func(tx txn, u *directory.User) error {
		if u.Status == directory.Deprovisioned {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the user's current status."}
		}
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.Type != TypeTOTP || f.Provider != provider {
				continue
			}
			if f.Status == Active {
				return errs.InvalidFields("Api validation failed: factorEnrollRequest",
					errs.Field("", "A factor of this type is already set up."))
			}
			if err := tx.DeleteFactor(u.ID, f.ID); err != nil {
				return err
			}
		}
		now := s.now()
		exp := now.Add(s.enrollTTL())
		f := &Factor{ID: s.IDs.New(prefix), UserID: u.ID, Type: TypeTOTP, Provider: provider, Status: PendingActivation,
			Name: "Authenticator app", Created: now, LastUpdated: now, Expires: &exp}
		if f.Provider == ProviderGoogle {
			f.Name = "Google Authenticator"
		}
		if f.SealedSecret, err = s.Sealer.Seal(secret, sealContext(f.ID)); err != nil {
			return err
		}
		account := u.Login()
		if enr, err = newTOTPEnrollment(s.issuer(), account, secret); err != nil {
			return err
		}
		if err := tx.InsertFactor(f); err != nil {
			return err
		}
		out = f
		return tx.Append(s.event(ctx, "user.mfa.factor.update", "Enroll factor for user (pending activation)", audit.Success, u, f))
	})
	if err != nil {
		return nil, TOTPEnrollment{}, err
	}
	return out, enr, nil
}

func (s *Service) issuer() string {
	if s.Issuer == "" {
		return "Gatehouse"
	}
	return s.Issuer
}

func findFactor(fs []*Factor, id string) *Factor {
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// ActivateTOTP activates a pending authenticator app with a code it shows:
// the proof that the person scanned the seed. The code's time step is
// used up, so it cannot also sign in. A wrong code is a failed
// verification like any other: it counts towards lockout, and a locked
// person cannot activate.
func (s *Service) ActivateTOTP(ctx context.Context, userIDOrLogin, factorID, code string) (*Factor, error) {
	var out *Factor
	_, err := s.attempt(ctx, userIDOrLogin, "totp", kindActivate, func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error) {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		f := findFactor(fs, factorID)
		if f == nil || f.Type != TypeTOTP {
			return nil, verifyOutcome{}, errFactorNotFound(factorID)
		}
		if f.Status == Active {
			return nil, verifyOutcome{}, &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The factor is already active."}
		}
		if f.Expired(now) {
			return nil, verifyOutcome{}, &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The enrollment of this factor expired. Enroll it again.",
				Fields: []errs.FieldError{{Message: "The enrollment expired; start again to get a new key."}}}
		}
		secret, err := s.Sealer.Open(f.SealedSecret, sealContext(f.ID))
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		defer clear(secret)
		step, ok := matchTOTP(secret, code, now)
		if !ok {
			return f, verifyOutcome{reason: ReasonInvalid}, nil
		}
		f.Status, f.LastStep, f.LastUpdated, f.LastUsed, f.Expires = Active, step, now, &now, nil
		if err := tx.UpdateFactor(f); err != nil {
			return nil, verifyOutcome{}, err
		}
		out = f
		return f, verifyOutcome{ok: true}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PendingTOTP returns the enrolment of an authenticator app that waits for
// activation, to show its QR code and key again; once the factor is
// active (or the enrolment expired) the seed is never readable.
func (s *Service) PendingTOTP(ctx context.Context, userIDOrLogin, factorID string) (TOTPEnrollment, error) {
	f, err := s.Get(ctx, userIDOrLogin, factorID)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if f.Type != TypeTOTP || f.Status != PendingActivation {
		return TOTPEnrollment{}, errFactorNotFound(factorID)
	}
	u, err := s.Directory.User(ctx, f.UserID)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	secret, err := s.Sealer.Open(f.SealedSecret, sealContext(f.ID))
	if err != nil {
		return TOTPEnrollment{}, err
	}
	defer clear(secret)
	return newTOTPEnrollment(s.issuer(), u.Login(), secret)
}

// bypassMessages describe the failures that look like an attempt to get
// around the factor rather than a mistake.
var bypassMessages = map[string]string{
	ReasonReplayed: "Attempt to bypass MFA: a used code was replayed",
	ReasonCloned:   "Attempt to bypass MFA: the authenticator's signature counter did not increase (possible cloned credential)",
}

// verifyOutcome is what a check inside a verification transaction decided.
type verifyOutcome struct {
	ok     bool
	reason string
}

// verify runs a verification of one person: the lockout check, the
// check itself, and the bookkeeping of success or failure with its events,
// committed together. check returns the factor it used (nil for a
// recovery code).
func (s *Service) verify(ctx context.Context, userIDOrLogin, method string, check checkFunc) (*directory.User, error) {
	return s.attempt(ctx, userIDOrLogin, method, kindVerify, check)
}

// checkFunc is the check of one attempt, inside its transaction.
type checkFunc func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error)

// attemptKind tells what an attempt proves and how it is logged.
type attemptKind int

const (
	// kindVerify is a second factor (user.authentication.auth_via_mfa).
	kindVerify attemptKind = iota
	// kindActivate is the first code of a new factor
	// (user.mfa.factor.activate); its success leaves the count of
	// failures as it is: it proves only the seed the caller was just
	// given, not one of the person's factors.
	kindActivate
	// kindSignIn is a passwordless sign-in with a passkey: a
	// verification that is also the whole sign-in, so it is logged as
	// user.session.start too, refuses people who cannot sign in
	// (without counting), and records the sign-in time.
	kindSignIn
)

// ReasonNotActive refuses a passkey sign-in of a person who cannot sign
// in (suspended, deprovisioned, not activated).
const ReasonNotActive = "USER_NOT_ACTIVE"

// attempt is verify for each kind of attempt: all share the count of
// consecutive failures and the lockout.
func (s *Service) attempt(ctx context.Context, userIDOrLogin, method string, kind attemptKind, check checkFunc) (*directory.User, error) {
	evType, evMsg := "user.authentication.auth_via_mfa", "Authentication of user via MFA"
	if kind == kindActivate {
		evType, evMsg = "user.mfa.factor.activate", "Activate factor for user"
	}
	var failure *Failure
	var who *directory.User
	err := s.update(ctx, userIDOrLogin, func(tx txn, u *directory.User) error {
		failure = nil
		who = u
		// fail logs a refusal (and, for a sign-in, its user.session.start).
		fail := func(f *Factor, reason string) error {
			ev := s.event(ctx, evType, evMsg, audit.Failure, u, f)
			if f == nil {
				ev.Debug = map[string]string{"factor": method}
			}
			ev.Outcome.Reason = reason
			if err := tx.Append(ev); err != nil {
				return err
			}
			if kind == kindSignIn {
				st := s.event(ctx, "user.session.start", "User login to Okta", audit.Failure, u, f)
				st.Outcome.Reason = reason
				return tx.Append(st)
			}
			return nil
		}
		if kind == kindSignIn && u.Status != directory.LockedOut && !directory.CanSignIn(u.Status) {
			failure = &Failure{Reason: ReasonNotActive, err: errNotActive()}
			return fail(nil, ReasonNotActive+": "+string(u.Status))
		}
		n, err := tx.FactorFailures(u.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if u.Status == directory.LockedOut || n >= s.lockoutAfter() {
			failure = &Failure{Reason: ReasonLocked, Locked: true, err: errLocked()}
			return fail(nil, ReasonLocked)
		}
		f, out, err := check(tx, u, now)
		if err != nil {
			return err
		}
		if out.ok {
			if kind != kindActivate {
				if err := tx.SetFactorFailures(u.ID, 0); err != nil {
					return err
				}
			}
			ev := s.event(ctx, evType, evMsg, audit.Success, u, f)
			if f == nil {
				ev.Debug = map[string]string{"factor": method}
			}
			if err := tx.Append(ev); err != nil {
				return err
			}
			if kind == kindSignIn {
				u.LastLogin = &now
				if err := tx.UpdateUser(u); err != nil {
					return err
				}
				st := s.event(ctx, "user.session.start", "User login to Okta", audit.Success, u, f)
				if st.Debug == nil {
					st.Debug = map[string]string{}
				}
				st.Debug["authnMethod"] = "passkey"
				return tx.Append(st)
			}
			return nil
		}
		n++
		if err := tx.SetFactorFailures(u.ID, n); err != nil {
			return err
		}
		failure = &Failure{Reason: out.reason, err: errInvalidCode()}
		if err := fail(f, out.reason); err != nil {
			return err
		}
		if msg := bypassMessages[out.reason]; msg != "" {
			if err := tx.Append(s.event(ctx, "user.mfa.attempt_bypass", msg, audit.Failure, u, f)); err != nil {
				return err
			}
		}
		if n >= s.lockoutAfter() && u.Status == directory.Active {
			failure.Locked = true
			u.Status, u.StatusChanged, u.LastUpdated = directory.LockedOut, &now, now
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			return tx.Append(s.Events.New(ctx, "user.account.lock", "Max sign in attempts exceeded", audit.Success, target(u)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return who, failure
	}
	return who, nil
}

// VerifyTOTP checks a code of an active authenticator app (factorID ""
// takes the person's first). Codes of the current time step and one step
// either side are accepted, each step once: a code whose step is not
// after the last accepted one is a replay. Failures count towards lockout.
func (s *Service) VerifyTOTP(ctx context.Context, userIDOrLogin, factorID, code string) (*Factor, error) {
	var used *Factor
	_, err := s.verify(ctx, userIDOrLogin, "totp", func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error) {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		var f *Factor
		for _, x := range fs {
			if x.Type == TypeTOTP && (x.ID == factorID || factorID == "" && x.Status == Active) {
				f = x
				break
			}
		}
		if f == nil {
			id := factorID
			if id == "" {
				id = "token:software:totp"
			}
			return nil, verifyOutcome{}, errFactorNotFound(id)
		}
		if f.Status != Active {
			return nil, verifyOutcome{}, &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The factor is not active. Activate it first."}
		}
		secret, err := s.Sealer.Open(f.SealedSecret, sealContext(f.ID))
		if err != nil {
			return nil, verifyOutcome{}, err
		}
		defer clear(secret)
		step, ok := matchTOTP(secret, code, now)
		switch {
		case !ok:
			return f, verifyOutcome{reason: ReasonInvalid}, nil
		case step <= f.LastStep:
			return f, verifyOutcome{reason: ReasonReplayed}, nil
		}
		f.LastStep, f.LastUsed, f.LastUpdated = step, &now, now
		used = f
		return f, verifyOutcome{ok: true}, tx.UpdateFactor(f)
	})
	if err != nil {
		return nil, err
	}
	return used, nil
}

// NewRecoveryCodes replaces a person's recovery codes with new ones and
// returns them: they are shown once and stored only as hashes. A person
// needs an active factor to have recovery codes.
func (s *Service) NewRecoveryCodes(ctx context.Context, userIDOrLogin string) ([]string, error) {
	var codes []string
	err := s.update(ctx, userIDOrLogin, func(tx txn, u *directory.User) error {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return err
		}
		active := false
		for _, f := range fs {
			active = active || f.Status == Active
		}
		if !active {
			return errs.IllegalStatef("Set up an authenticator app or a passkey before creating recovery codes.")
		}
		codes = make([]string, RecoveryCodeCount)
		hashes := make([]string, RecoveryCodeCount)
		for i := range codes {
			codes[i] = newRecoveryCode()
			n, _ := normalizeRecoveryCode(codes[i])
			hashes[i] = recoveryHash(u.ID, n)
		}
		if err := tx.ReplaceRecoveryCodes(u.ID, hashes, s.now()); err != nil {
			return err
		}
		ev := s.event(ctx, "user.mfa.factor.update", "Generate recovery codes for user", audit.Success, u, nil)
		ev.Debug = map[string]string{"factor": "recovery_code"}
		return tx.Append(ev)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RecoveryCodesLeft counts a person's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	return s.Store.RecoveryCodesLeft(ctx, userID)
}

// RedeemRecoveryCode uses up one recovery code as a second factor.
// Failures count towards lockout like wrong codes.
func (s *Service) RedeemRecoveryCode(ctx context.Context, userIDOrLogin, code string) error {
	_, err := s.verify(ctx, userIDOrLogin, "recovery_code", func(tx txn, u *directory.User, now time.Time) (*Factor, verifyOutcome, error) {
		n, ok := normalizeRecoveryCode(code)
		if !ok {
			return nil, verifyOutcome{reason: ReasonInvalid}, nil
		}
		used, err := tx.UseRecoveryCode(u.ID, recoveryHash(u.ID, n), now)
		if err != nil || !used {
			return nil, verifyOutcome{reason: ReasonInvalid}, err
		}
		return nil, verifyOutcome{ok: true}, nil
	})
	return err
}

// Reset removes one factor (Okta's unenroll, an administrator's "Reset").
// When no active factor remains, the recovery codes go too.
func (s *Service) Reset(ctx context.Context, userIDOrLogin, factorID string) error {
	return s.update(ctx, userIDOrLogin, func(tx txn, u *directory.User) error {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err != nil {
			return err
		}
		f := findFactor(fs, factorID)
		if f == nil {
			return errFactorNotFound(factorID)
		}
		if err := tx.DeleteFactor(u.ID, f.ID); err != nil {
			return err
		}
		remaining := false
		for _, x := range fs {
			remaining = remaining || (x.ID != f.ID && x.Status == Active)
		}
		if !remaining {
			if err := tx.ReplaceRecoveryCodes(u.ID, nil, s.now()); err != nil {
				return err
			}
		}
		return tx.Append(s.event(ctx, "user.mfa.factor.deactivate", "Reset factor for user", audit.Success, u, f))
	})
}

// ResetAll removes every factor and recovery code of a person and clears
// their count of failed verifications. It reports how many factors there
// were.
func (s *Service) ResetAll(ctx context.Context, userIDOrLogin string) (int, error) {
	var n int
	err := s.update(ctx, userIDOrLogin, func(tx txn, u *directory.User) error {
		var err error
		if n, err = tx.DeleteFactors(u.ID); err != nil {
			return err
		}
		if err := tx.SetFactorFailures(u.ID, 0); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "user.mfa.factor.reset_all", "Reset all factors for user", audit.Success, target(u)))
	})
	return n, err
}

// OnUserChange is the directory hook that clears the count of failed
// verifications when an administrator unlocks a person.
func (s *Service) OnUserChange(_ context.Context, dtx directory.Tx, before, after *directory.User) error {
	if before == nil || after == nil || before.Status != directory.LockedOut || after.Status == directory.LockedOut {
		return nil
	}
	tx, ok := dtx.(Tx)
	if !ok {
		return errors.New("mfa: the directory transaction cannot write factors")
	}
	return tx.SetFactorFailures(after.ID, 0)
}

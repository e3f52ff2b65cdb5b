package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// DummyVerifier spends the time of a real verification, so that an unknown
// login takes as long as a wrong password.
type DummyVerifier interface {
	VerifyDummy(ctx context.Context, password string) bool
}

// SignInFailure says why a sign-in failed. Only the system log sees the
// reason; the person is told the same thing in every case.
type SignInFailure struct {
	Reason string // UNKNOWN_USER, INVALID_CREDENTIALS, LOCKED_OUT, NOT_ACTIVE
}

func (f *SignInFailure) Error() string { return "sign-in failed: " + f.Reason }

// Authenticate checks a login and password. On success it resets the
// failure counter, records the sign-in and upgrades a legacy or weaker
// hash to the current argon2id parameters. Each failure counts towards
// lockout: after lockoutAfter consecutive failures the user is LOCKED_OUT.
// Every attempt is logged, in the same transaction as its effects.
func (s *Service) Authenticate(ctx context.Context, login, password string, lockoutAfter int) (*User, error) {
	// A login typed at the sign-in form is outside input: NUL and invalid
	// UTF-8 (which no login holds, and which PostgreSQL refuses in text)
	// become U+FFFD, so that such an attempt takes the unknown-user path
	// like any other and its event can be stored.
	login = strings.ToValidUTF8(strings.ReplaceAll(login, "\x00", "\uFFFD"), "\uFFFD")
	target := func(u *User) audit.Target {
		if u == nil {
			return audit.Target{ID: "unknown", Type: "User", AlternateID: login, DisplayName: login}
		}
		return audit.UserTarget(u.ID, u.Login(), u.DisplayName())
	}
	// The password is checked before the transaction, against the row as
	// read then: a hash takes tens of milliseconds, and on SQLite a write
	// transaction holds the database's one writer, so hashing inside it
	// would let only one sign-in (and no other write) proceed at a time.
	// The transaction then decides on the locked, current row; if its
	// hash is no longer the one checked (the password changed meanwhile),
	// it checks again there.
	checked, ok, rehash, err := s.verifyPassword(ctx, login, password)
	if err != nil {
		return nil, err
	}
	var newHash string
	if ok && rehash {
		if newHash, err = s.Hasher.Hash(ctx, password); err != nil {
			return nil, err
		}
	}
	var out *User
	var failure *SignInFailure
	err = s.Store.Update(ctx, func(tx Tx) error {
		failure = nil
		u, err := tx.UserForUpdate(login)
		if errs.Is(err, errs.NotFound) {
			failure = &SignInFailure{Reason: "UNKNOWN_USER"}
			ev := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Failure, target(nil))
			ev.Outcome.Reason = "VERIFICATION_ERROR"
			if err := tx.Append(ev); err != nil {
				return err
			}
			// The same statement as a wrong password's (it matches no
			// row): the two failures must not differ in time.
			return tx.CountFailedSignIn(login)
		}
		if err != nil {
			return err
		}
		ok, rehash := ok, rehash
		if u.Credentials.PasswordHash != checked {
			// Changed since it was read (rare): check the current one.
			ok, rehash = false, false
			if u.Credentials.HasPassword() {
				if ok, rehash, err = s.Hasher.Verify(ctx, u.Credentials.PasswordHash, password); err != nil {
					return err
				}
			}
			if ok && rehash {
				if newHash, err = s.Hasher.Hash(ctx, password); err != nil {
					return err
				}
			}
		}
		now := s.now()
		if u.Status == LockedOut {
			failure = &SignInFailure{Reason: "LOCKED_OUT"}
			ev := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Failure, target(u))
			ev.Outcome.Reason = "LOCKED_OUT"
			return tx.Append(ev)
		}
		if !ok {
			u.FailedLogins++
			failure = &SignInFailure{Reason: "INVALID_CREDENTIALS"}
			ev := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Failure, target(u))
			ev.Outcome.Reason = "INVALID_CREDENTIALS"
			if err := tx.Append(ev); err != nil {
				return err
			}
			if u.FailedLogins >= lockoutAfter && u.Status == Active {
				u.Status, u.StatusChanged = LockedOut, &now
				if err := tx.Append(s.Events.New(ctx, "user.account.lock", "Max sign in attempts exceeded", audit.Success, target(u))); err != nil {
					return err
				}
				return tx.UpdateUser(u)
			}
			// Only the counter changes: the statement an unknown login
			// runs too (a whole-row update would take longer). By the
			// user's own login, whatever they typed (an id, other case).
			return tx.CountFailedSignIn(u.Login())
		}
		if !CanSignIn(u.Status) {
			failure = &SignInFailure{Reason: "NOT_ACTIVE"}
			ev := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Failure, target(u))
			ev.Outcome.Reason = "USER_NOT_ACTIVE: " + string(u.Status)
			return tx.Append(ev)
		}
		u.FailedLogins = 0
		u.LastLogin = &now
		expired := false
		if u.Status == Active {
			pol, err := s.policy(ctx)
			if err != nil {
				return err
			}
			if pol.Expired(u.PasswordChanged, now) {
				// Older than the policy's maximum age: the person must
				// choose a new password before going on.
				u.Status, u.StatusChanged, expired = PasswordExpired, &now, true
			}
		}
		if rehash {
			u.Credentials.PasswordHash = newHash
		}
		if rehash || expired {
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
		} else if err := tx.RecordSignIn(u); err != nil {
			// The common case writes two columns, not the whole row
			// with its profile, credentials and indexes.
			return err
		}
		if expired {
			ev := s.Events.New(ctx, "user.account.expire_password", "Expire user password", audit.Success, target(u))
			ev.Outcome.Reason = "PASSWORD_MAX_AGE"
			if err := tx.Append(ev); err != nil {
				return err
			}
		}
		out = u
		return tx.Append(s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Success, target(u)))
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, errors.Join(ErrBadCredentials, failure)
	}
	return out, nil
}

// verifyPassword checks password against the stored hash of the user with
// this login (an unknown login, or one without a password, spends the time
// of a real check on a dummy hash). It returns the hash it checked ("" when
// none), whether the password matched, and whether the hash should be
// upgraded.
func (s *Service) verifyPassword(ctx context.Context, login, password string) (string, bool, bool, error) {
	hash, err := s.Store.PasswordHash(ctx, login)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return "", false, false, err
	}
	if hash != "" {
		ok, rehash, err := s.Hasher.Verify(ctx, hash, password)
		if errors.Is(err, credential.ErrPasswordTooLong) {
			// No stored password is that long: a wrong password, which
			// takes the time of the dummy hash an unknown login takes.
			if d, isDummy := s.Hasher.(DummyVerifier); isDummy {
				d.VerifyDummy(ctx, password)
			}
			return hash, false, false, nil
		}
		return hash, ok, rehash, err
	}
	if d, isDummy := s.Hasher.(DummyVerifier); isDummy {
		d.VerifyDummy(ctx, password)
	}
	return "", false, false, nil
}

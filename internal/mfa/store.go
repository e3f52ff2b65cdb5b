package mfa

import (
	"context"
	"time"
)

// Store reads factors outside a transaction.
type Store interface {
	// Factors lists a person's factors, oldest first.
	Factors(ctx context.Context, userID string) ([]*Factor, error)
	// Factor reads one factor of a person; errs.NotFound when there is none.
	Factor(ctx context.Context, userID, id string) (*Factor, error)
	// RecoveryCodesLeft counts a person's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
}

// Tx is what a directory transaction must also offer for factor changes to
// commit with the person's record and events.
type Tx interface {
	// FactorsForUpdate lists a person's factors inside the transaction.
	FactorsForUpdate(userID string) ([]*Factor, error)
	InsertFactor(f *Factor) error
	// UpdateFactor writes a factor's status, name, last step, credential,
	// times and expiry.
	UpdateFactor(f *Factor) error
	// DeleteFactor removes a factor; errs.NotFound when there is none.
	DeleteFactor(userID, id string) error
	// DeleteFactors removes every factor and recovery code of a person
	// and returns how many factors there were.
	DeleteFactors(userID string) (int, error)
	// ReplaceRecoveryCodes replaces a person's recovery codes by hashes.
	ReplaceRecoveryCodes(userID string, hashes []string, at time.Time) error
	// UseRecoveryCode marks an unused code as used; false when the hash is
	// unknown or the code was used already.
	UseRecoveryCode(userID, hash string, at time.Time) (bool, error)
	// FactorFailures reads the consecutive failed verifications of a person.
	FactorFailures(userID string) (int, error)
	SetFactorFailures(userID string, n int) error
}

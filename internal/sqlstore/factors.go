package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
)

// Factors returns the store of second factors.
func (db *DB) Factors() mfa.Store { return factorStore{db} }

type factorStore struct{ db *DB }

var _ mfa.Tx = (*Tx)(nil)

const factorCols = "id, user_id, type, provider, status, name, secret, last_step, credential, created, last_updated, last_used, expires"

func scanFactor(sc scanner) (*mfa.Factor, error) {
	var f mfa.Factor
	var typ, status, cred string
	var created, updated int64
	var used, expires sql.NullInt64
	if err := sc.Scan(&f.ID, &f.UserID, &typ, &f.Provider, &status, &f.Name, &f.SealedSecret, &f.LastStep, &cred, &created, &updated, &used, &expires); err != nil {
		return nil, err
	}
	f.Type, f.Status = mfa.Type(typ), mfa.Status(status)
	if cred != "" {
		f.Credential = &mfa.Credential{}
		if err := json.Unmarshal([]byte(cred), f.Credential); err != nil {
			return nil, fmt.Errorf("decode credential of factor %s: %w", f.ID, err)
		}
	}
	f.Created, f.LastUpdated, f.LastUsed, f.Expires = fromMs(created), fromMs(updated), fromNullMs(used), fromNullMs(expires)
	return &f, nil
}

func scanFactors(rows *sql.Rows, err error) ([]*mfa.Factor, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*mfa.Factor{}
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s factorStore) Factors(ctx context.Context, userID string) ([]*mfa.Factor, error) {
	return scanFactors(s.db.query(ctx, "SELECT "+factorCols+" FROM factors WHERE user_id = ? ORDER BY created, id", userID))
}

func (s factorStore) Factor(ctx context.Context, userID, id string) (*mfa.Factor, error) {
	f, err := scanFactor(s.db.queryRow(ctx, "SELECT "+factorCols+" FROM factors WHERE user_id = ? AND id = ?", userID, id))
	return f, notFound(err, id+" (UserFactor)")
}

func (s factorStore) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.db.queryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used IS NULL", userID).Scan(&n)
	return n, err
}

// FactorsForUpdate lists a person's factors inside a transaction.
func (t *Tx) FactorsForUpdate(userID string) ([]*mfa.Factor, error) {
	return scanFactors(t.query("SELECT "+factorCols+" FROM factors WHERE user_id = ? ORDER BY created, id"+t.forUpdate(), userID))
}

func factorRow(f *mfa.Factor) (credID any, cred string, err error) {
	if f.Credential == nil {
		return nil, "", nil
	}
	b, err := json.Marshal(f.Credential)
	if err != nil {
		return nil, "", err
	}
	return base64.RawURLEncoding.EncodeToString(f.Credential.ID), string(b), nil
}

// InsertFactor adds a factor; a WebAuthn credential registered already (to
// anyone) is a conflict.
func (t *Tx) InsertFactor(f *mfa.Factor) error {
	credID, cred, err := factorRow(f)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO factors (id, user_id, type, provider, status, name, secret, last_step, credential_id, credential, created, last_updated, last_used, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		f.ID, f.UserID, string(f.Type), f.Provider, string(f.Status), f.Name, f.SealedSecret, f.LastStep, credID, cred, ms(f.Created), ms(f.LastUpdated), msPtr(f.LastUsed), msPtr(f.Expires))
	if isUnique(err) {
		return errs.Conflictf("This passkey or security key is registered already.")
	}
	return err
}

// UpdateFactor writes a factor's changing fields.
func (t *Tx) UpdateFactor(f *mfa.Factor) error {
	credID, cred, err := factorRow(f)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE factors SET status = ?, name = ?, last_step = ?, credential_id = ?, credential = ?, last_updated = ?, last_used = ?, expires = ? WHERE id = ? AND user_id = ?",
		string(f.Status), f.Name, f.LastStep, credID, cred, ms(f.LastUpdated), msPtr(f.LastUsed), msPtr(f.Expires), f.ID, f.UserID)
	if isUnique(err) {
		return errs.Conflictf("This passkey or security key is registered already.")
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.NotFoundf("Not found: Resource not found: %s (UserFactor)", f.ID)
	}
	return nil
}

// DeleteFactor removes one factor.
func (t *Tx) DeleteFactor(userID, id string) error {
	res, err := t.exec("DELETE FROM factors WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Not found: Resource not found: %s (UserFactor)", id)
	}
	return nil
}

// DeleteFactors removes a person's factors and recovery codes.
func (t *Tx) DeleteFactors(userID string) (int, error) {
	res, err := t.exec("DELETE FROM factors WHERE user_id = ?", userID)
	if err != nil {
		return 0, err
	}
	if _, err := t.exec("DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReplaceRecoveryCodes replaces a person's recovery codes.
func (t *Tx) ReplaceRecoveryCodes(userID string, hashes []string, at time.Time) error {
	if _, err := t.exec("DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.exec("INSERT INTO recovery_codes (user_id, hash, created) VALUES (?, ?, ?)", userID, h, ms(at)); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode marks an unused code used.
func (t *Tx) UseRecoveryCode(userID, hash string, at time.Time) (bool, error) {
	res, err := t.exec("UPDATE recovery_codes SET used = ? WHERE user_id = ? AND hash = ? AND used IS NULL", ms(at), userID, hash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FactorFailures reads a person's consecutive failed verifications.
func (t *Tx) FactorFailures(userID string) (int, error) {
	var n int
	err := t.queryRow("SELECT failures FROM factor_failures WHERE user_id = ?", userID).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, err
}

// SetFactorFailures writes a person's consecutive failed verifications.
func (t *Tx) SetFactorFailures(userID string, n int) error {
	_, err := t.exec(`INSERT INTO factor_failures (user_id, failures) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures`, userID, n)
	return err
}

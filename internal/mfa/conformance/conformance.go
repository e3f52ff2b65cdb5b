// Package conformance is the test suite every implementation of mfa.Store
// and mfa.Tx (inside a directory transaction) must pass. sqlstore runs it
// on SQLite and PostgreSQL.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/mfa"
)

// Stores are the two sides the suite needs: the directory store whose
// transactions also implement mfa.Tx, and the factor reads.
type Stores struct {
	Directory directory.Store
	Factors   mfa.Store
}

// Run runs the suite; newStores returns empty stores for each subtest.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Run("FactorRoundTrip", func(t *testing.T) { testRoundTrip(t, newStores(t)) })
	t.Run("CredentialUnique", func(t *testing.T) { testCredentialUnique(t, newStores(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStores(t)) })
	t.Run("RecoveryCodesSingleUse", func(t *testing.T) { testRecoveryCodes(t, newStores(t)) })
	t.Run("Failures", func(t *testing.T) { testFailures(t, newStores(t)) })
	t.Run("RollbackLeavesNothing", func(t *testing.T) { testRollback(t, newStores(t)) })
	t.Run("UserDeletionRemovesFactors", func(t *testing.T) { testCascade(t, newStores(t)) })
}

var src = ids.NewSource(nil)

type txn interface {
	directory.Tx
	mfa.Tx
}

func update(t *testing.T, s Stores, fn func(tx txn) error) error {
	t.Helper()
	return s.Directory.Update(context.Background(), func(dtx directory.Tx) error {
		tx, ok := dtx.(txn)
		if !ok {
			t.Fatalf("the directory transaction %T does not implement mfa.Tx", dtx)
		}
		return fn(tx)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newUser(t *testing.T, s Stores, login string) *directory.User {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &directory.User{ID: src.New(ids.User), Status: directory.Active, Created: now, LastUpdated: now,
		Profile: directory.Profile{"login": login, "email": login, "firstName": "F", "lastName": "L"}}
	must(t, update(t, s, func(tx txn) error { return tx.InsertUser(u) }))
	return u
}

func totp(userID string, at time.Time) *mfa.Factor {
	exp := at.Add(15 * time.Minute)
	return &mfa.Factor{ID: src.New("ost"), UserID: userID, Type: mfa.TypeTOTP, Provider: mfa.ProviderOkta, Status: mfa.PendingActivation,
		Name: "Authenticator app", SealedSecret: "gh1.kid.sealed", Created: at, LastUpdated: at, Expires: &exp}
}

func passkey(userID string, credID []byte, at time.Time) *mfa.Factor {
	return &mfa.Factor{ID: src.New("fwf"), UserID: userID, Type: mfa.TypeWebAuthn, Provider: mfa.ProviderFIDO, Status: mfa.Active,
		Name: "Laptop", Created: at, LastUpdated: at,
		Credential: &mfa.Credential{ID: credID, PublicKey: []byte{0xa5, 1, 2}, AttestationType: "none", AAGUID: make([]byte, 16),
			SignCount: 7, Transports: []string{"internal"}, UserPresent: true, UserVerified: true, BackupEligible: true}}
}

func testRoundTrip(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newUser(t, s, "pat@example.com")
	at := time.Now().UTC().Truncate(time.Millisecond)
	a := totp(u.ID, at)
	b := passkey(u.ID, []byte("credential-1"), at.Add(time.Second))
	must(t, update(t, s, func(tx txn) error {
		if err := tx.InsertFactor(a); err != nil {
			return err
		}
		return tx.InsertFactor(b)
	}))
	fs, err := s.Factors.Factors(ctx, u.ID)
	must(t, err)
	if len(fs) != 2 || fs[0].ID != a.ID || fs[1].ID != b.ID {
		t.Fatalf("factors: %+v", fs)
	}
	g := fs[0]
	if g.Type != mfa.TypeTOTP || g.Provider != mfa.ProviderOkta || g.Status != mfa.PendingActivation || g.SealedSecret != a.SealedSecret ||
		g.Expires == nil || !g.Expires.Equal(*a.Expires) || !g.Created.Equal(at) || g.Credential != nil || g.LastUsed != nil {
		t.Fatalf("TOTP factor read back as %+v", g)
	}
	p := fs[1]
	if p.Credential == nil || !bytes.Equal(p.Credential.ID, []byte("credential-1")) || p.Credential.SignCount != 7 ||
		!p.Credential.UserVerified || !p.Credential.BackupEligible || len(p.Credential.Transports) != 1 {
		t.Fatalf("WebAuthn factor read back as %+v %+v", p, p.Credential)
	}
	// Update: activate the TOTP factor and bump the passkey counter.
	used := at.Add(time.Minute)
	a.Status, a.LastStep, a.LastUsed, a.Expires, a.LastUpdated = mfa.Active, 12345, &used, nil, used
	b.Credential.SignCount, b.Credential.CloneWarning = 9, true
	must(t, update(t, s, func(tx txn) error {
		if err := tx.UpdateFactor(a); err != nil {
			return err
		}
		return tx.UpdateFactor(b)
	}))
	g, err = s.Factors.Factor(ctx, u.ID, a.ID)
	must(t, err)
	if g.Status != mfa.Active || g.LastStep != 12345 || g.Expires != nil || g.LastUsed == nil || !g.LastUsed.Equal(used) {
		t.Fatalf("updated TOTP factor: %+v", g)
	}
	p, err = s.Factors.Factor(ctx, u.ID, b.ID)
	must(t, err)
	if p.Credential.SignCount != 9 || !p.Credential.CloneWarning {
		t.Fatalf("updated credential: %+v", p.Credential)
	}
	// Another person's id, or an unknown one, is not found.
	other := newUser(t, s, "lee@example.com")
	if _, err := s.Factors.Factor(ctx, other.ID, a.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another person's factor: %v", err)
	}
	if fs, err := s.Factors.Factors(ctx, other.ID); err != nil || len(fs) != 0 {
		t.Fatalf("another person's list: %v %v", fs, err)
	}
	// FactorsForUpdate sees the same.
	must(t, update(t, s, func(tx txn) error {
		fs, err := tx.FactorsForUpdate(u.ID)
		if err == nil && len(fs) != 2 {
			t.Errorf("FactorsForUpdate: %d factors", len(fs))
		}
		return err
	}))
	// Updating a factor that is not there is NotFound.
	ghost := totp(u.ID, at)
	if err := update(t, s, func(tx txn) error { return tx.UpdateFactor(ghost) }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("update of a missing factor: %v", err)
	}
}

func testCredentialUnique(t *testing.T, s Stores) {
	u := newUser(t, s, "pat@example.com")
	v := newUser(t, s, "lee@example.com")
	at := time.Now().UTC()
	must(t, update(t, s, func(tx txn) error { return tx.InsertFactor(passkey(u.ID, []byte("same"), at)) }))
	err := update(t, s, func(tx txn) error { return tx.InsertFactor(passkey(v.ID, []byte("same"), at)) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("a credential registered twice: %v", err)
	}
	// Several TOTP factors (no credential) coexist.
	must(t, update(t, s, func(tx txn) error {
		if err := tx.InsertFactor(totp(u.ID, at)); err != nil {
			return err
		}
		return tx.InsertFactor(totp(v.ID, at))
	}))
}

func testDelete(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newUser(t, s, "pat@example.com")
	at := time.Now().UTC()
	a, b := totp(u.ID, at), passkey(u.ID, []byte("c1"), at)
	must(t, update(t, s, func(tx txn) error {
		if err := tx.InsertFactor(a); err != nil {
			return err
		}
		if err := tx.InsertFactor(b); err != nil {
			return err
		}
		return tx.ReplaceRecoveryCodes(u.ID, []string{"h1", "h2"}, at)
	}))
	must(t, update(t, s, func(tx txn) error { return tx.DeleteFactor(u.ID, a.ID) }))
	if err := update(t, s, func(tx txn) error { return tx.DeleteFactor(u.ID, a.ID) }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	var n int
	must(t, update(t, s, func(tx txn) error {
		var err error
		n, err = tx.DeleteFactors(u.ID)
		return err
	}))
	if n != 1 {
		t.Fatalf("DeleteFactors removed %d", n)
	}
	fs, err := s.Factors.Factors(ctx, u.ID)
	must(t, err)
	left, err := s.Factors.RecoveryCodesLeft(ctx, u.ID)
	must(t, err)
	if len(fs) != 0 || left != 0 {
		t.Fatalf("after DeleteFactors: %d factors, %d codes", len(fs), left)
	}
}

func testRecoveryCodes(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newUser(t, s, "pat@example.com")
	at := time.Now().UTC()
	must(t, update(t, s, func(tx txn) error { return tx.ReplaceRecoveryCodes(u.ID, []string{"h1", "h2", "h3"}, at) }))
	left, err := s.Factors.RecoveryCodesLeft(ctx, u.ID)
	must(t, err)
	if left != 3 {
		t.Fatalf("left %d", left)
	}
	use := func(h string) bool {
		var ok bool
		must(t, update(t, s, func(tx txn) error {
			var err error
			ok, err = tx.UseRecoveryCode(u.ID, h, at)
			return err
		}))
		return ok
	}
	if !use("h1") || use("h1") || use("nope") {
		t.Fatal("a recovery code must be usable exactly once, and an unknown one never")
	}
	// Another person cannot use this person's hash.
	v := newUser(t, s, "lee@example.com")
	var ok bool
	must(t, update(t, s, func(tx txn) error {
		var err error
		ok, err = tx.UseRecoveryCode(v.ID, "h2", at)
		return err
	}))
	if ok {
		t.Fatal("another person used a code")
	}
	// Concurrent uses of one code: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Directory.Update(ctx, func(dtx directory.Tx) error {
				ok, err := dtx.(txn).UseRecoveryCode(u.ID, "h2", at)
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded", wins)
	}
	left, err = s.Factors.RecoveryCodesLeft(ctx, u.ID)
	must(t, err)
	if left != 1 {
		t.Fatalf("left %d, want 1", left)
	}
	// Replacing discards the old codes.
	must(t, update(t, s, func(tx txn) error { return tx.ReplaceRecoveryCodes(u.ID, []string{"n1"}, at) }))
	if use("h3") || !use("n1") {
		t.Fatal("replacement did not discard the old codes")
	}
}

func testFailures(t *testing.T, s Stores) {
	u := newUser(t, s, "pat@example.com")
	read := func() int {
		var n int
		must(t, update(t, s, func(tx txn) error {
			var err error
			n, err = tx.FactorFailures(u.ID)
			return err
		}))
		return n
	}
	if read() != 0 {
		t.Fatal("a new person has failures")
	}
	must(t, update(t, s, func(tx txn) error { return tx.SetFactorFailures(u.ID, 3) }))
	must(t, update(t, s, func(tx txn) error { return tx.SetFactorFailures(u.ID, 4) }))
	if n := read(); n != 4 {
		t.Fatalf("failures %d", n)
	}
}

func testRollback(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newUser(t, s, "pat@example.com")
	boom := errors.New("boom")
	err := update(t, s, func(tx txn) error {
		if err := tx.InsertFactor(totp(u.ID, time.Now().UTC())); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(u.ID, []string{"h"}, time.Now()); err != nil {
			return err
		}
		if err := tx.SetFactorFailures(u.ID, 5); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	fs, _ := s.Factors.Factors(ctx, u.ID)
	left, _ := s.Factors.RecoveryCodesLeft(ctx, u.ID)
	var n int
	must(t, update(t, s, func(tx txn) error {
		var err error
		n, err = tx.FactorFailures(u.ID)
		return err
	}))
	if len(fs) != 0 || left != 0 || n != 0 {
		t.Fatalf("rolled-back transaction left %d factors, %d codes, %d failures", len(fs), left, n)
	}
}

func testCascade(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newUser(t, s, "pat@example.com")
	f := passkey(u.ID, []byte("c"), time.Now().UTC())
	must(t, update(t, s, func(tx txn) error {
		if err := tx.InsertFactor(f); err != nil {
			return err
		}
		return tx.ReplaceRecoveryCodes(u.ID, []string{"h"}, time.Now())
	}))
	must(t, update(t, s, func(tx txn) error { return tx.DeleteUser(u.ID) }))
	if fs, err := s.Factors.Factors(ctx, u.ID); err != nil || len(fs) != 0 {
		t.Fatalf("factors of a deleted person: %v %v", fs, err)
	}
	// The credential ID is free again.
	v := newUser(t, s, "lee@example.com")
	must(t, update(t, s, func(tx txn) error { return tx.InsertFactor(passkey(v.ID, []byte("c"), time.Now().UTC())) }))
}

package mfa_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// clock is a controlled clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fakeHasher struct{}

func (fakeHasher) Hash(_ context.Context, pw string) (string, error) { return "h:" + pw, nil }
func (fakeHasher) Verify(_ context.Context, enc, pw string) (bool, bool, error) {
	return enc == "h:"+pw, false, nil
}

type world struct {
	db   *sqlstore.DB
	clk  *clock
	dir  *directory.Service
	mfa  *mfa.Service
	user *directory.User
}

// step0 is the start of a TOTP time step, so tests can place the clock
// exactly on step boundaries. It is near the real time because the store
// and the WebAuthn library expire pending state by the real clock.
var step0 = time.Now().UTC().Truncate(mfa.TOTPPeriod * time.Second)

func newWorld(t *testing.T, db *sqlstore.DB, lockout int) *world {
	t.Helper()
	mk, err := keys.NewMasterKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewSealer(nil, mk)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: step0}
	n := 0
	events := audit.Builder{Now: clk.Now, UUID: func() string { n++; return fmt.Sprintf("uuid-%d-%d", time.Now().UnixNano(), n) }}
	dir := &directory.Service{Store: db.Directory(), Hasher: fakeHasher{}, Policy: credential.DefaultPolicy(), IDs: ids.NewSource(nil), Now: clk.Now, Events: events}
	svc := &mfa.Service{Directory: db.Directory(), Store: db.Factors(), Sealer: sealer, IDs: ids.NewSource(nil), Now: clk.Now,
		Events: events, LockoutAfter: lockout, Issuer: "Gatehouse Test"}
	dir.OnChange = append(dir.OnChange, svc.OnUserChange)
	u, err := dir.CreateUser(context.Background(), directory.CreateUserInput{
		Profile:  directory.Profile{"login": "pat@example.com", "email": "pat@example.com", "firstName": "Pat", "lastName": "Lee"},
		Password: "Secret-Passw0rd-1", Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	return &world{db: db, clk: clk, dir: dir, mfa: svc, user: u}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := mfa.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled enrols and activates an authenticator app, ten minutes before
// step0, and returns its factor and seed.
func (w *world) enrolled(t *testing.T) (*mfa.Factor, string) {
	t.Helper()
	ctx := context.Background()
	w.clk.Set(step0.Add(-10 * time.Minute))
	f, enr, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderGoogle)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != mfa.PendingActivation || !strings.HasPrefix(f.ID, "uft") || len(f.ID) != ids.Length {
		t.Fatalf("enrolled factor %+v", f)
	}
	if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, f.ID, code(t, enr.SharedSecret, w.clk.Now())); err != nil {
		t.Fatalf("activate: %v", err)
	}
	w.clk.Set(step0)
	return f, enr.SharedSecret
}

func (w *world) events(t *testing.T, eventType string) []audit.Event {
	t.Helper()
	f, err := filter.Parse(`eventType eq "`+eventType+`"`, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := w.db.Events().Query(context.Background(), audit.Query{Filter: f, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func reason(err error) string {
	if err == nil {
		return "ok"
	}
	if r := mfa.ReasonOf(err); r != "" {
		return r
	}
	return "error: " + err.Error()
}

// TestTOTPWindow puts the clock on a step boundary and tries codes just
// inside and just outside the ±1 step window, and replays.
func TestTOTPWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		f, secret := w.enrolled(t)
		verify := func(at time.Time) string {
			_, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, secret, at))
			return reason(err)
		}
		const p = mfa.TOTPPeriod * time.Second
		// The clock reads the last millisecond of step k (step0 + 29.999 s).
		w.clk.Set(step0.Add(p - time.Millisecond))
		cases := []struct {
			name string
			at   time.Time
			want string
		}{
			{"two steps back (outside)", step0.Add(-2 * p), mfa.ReasonInvalid},
			{"two steps ahead (outside)", step0.Add(2 * p), mfa.ReasonInvalid},
			{"one step back (inside)", step0.Add(-p), "ok"},
			{"the same code again", step0.Add(-p), mfa.ReasonReplayed},
			{"current step", step0, "ok"},
			{"current step again", step0.Add(p - time.Millisecond), mfa.ReasonReplayed},
			{"one step ahead (inside)", step0.Add(p), "ok"},
			{"an older step after a newer one", step0, mfa.ReasonReplayed},
		}
		for _, c := range cases {
			if got := verify(c.at); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		// One millisecond later the clock is in step k+1: step k-1 is now
		// two steps back and refused even though it was fine a moment ago.
		w.clk.Set(step0.Add(p))
		if got := verify(step0.Add(-p)); got != mfa.ReasonInvalid {
			t.Errorf("step k-1 seen from step k+1: %s", got)
		}
		if got := verify(step0.Add(2 * p)); got != "ok" {
			t.Errorf("step k+2 seen from step k+1: %s", got)
		}
		// Malformed codes are wrong codes.
		for _, bad := range []string{"", "12345", "1234567", "abcdef", "12 34 5x"} {
			if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, bad); reason(err) != mfa.ReasonInvalid {
				t.Errorf("code %q: %s", bad, reason(err))
			}
		}
		// Each refusal is logged with its reason, replays also as a bypass attempt.
		var replays, invalid, ok int
		for _, ev := range w.events(t, "user.authentication.auth_via_mfa") {
			switch {
			case ev.Outcome.Result == audit.Success:
				ok++
			case ev.Outcome.Reason == mfa.ReasonReplayed:
				replays++
			case ev.Outcome.Reason == mfa.ReasonInvalid:
				invalid++
			}
			if ev.Debug["factorId"] != f.ID || ev.Target[0].ID != w.user.ID {
				t.Errorf("event without factor or person: %+v", ev)
			}
		}
		if ok != 4 || replays != 3 || invalid != 8 {
			t.Errorf("events: %d successes, %d replays, %d invalid", ok, replays, invalid)
		}
		if n := len(w.events(t, "user.mfa.attempt_bypass")); n != 3 {
			t.Errorf("%d bypass attempts logged, want 3", n)
		}
	})
}

// TestTOTPActivation: the activation code is used up, activation needs a
// valid code, an expired enrolment cannot be activated and changes nothing.
func TestTOTPActivation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		f, enr, err := w.mfa.EnrollTOTP(ctx, w.user.Login(), "")
		if err != nil {
			t.Fatal(err)
		}
		if f.Provider != mfa.ProviderOkta || !strings.HasPrefix(f.ID, "ost") || len(enr.SharedSecret) != 32 ||
			!strings.HasPrefix(enr.URL, "otpauth://totp/Gatehouse%20Test:pat@example.com?") {
			t.Fatalf("enrolment %+v %+v", f, enr)
		}
		png, err := enr.QRCode(200)
		if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
			t.Fatalf("QR code: %v %d bytes", err, len(png))
		}
		// Wrong code: refused, still pending.
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, f.ID, "000000"); !hasCode(err, "E0000068") {
			t.Fatalf("wrong activation code: %v", err)
		}
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, enr.SharedSecret, w.clk.Now())); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("verification of a pending factor: %v", err)
		}
		c := code(t, enr.SharedSecret, w.clk.Now())
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, f.ID, c); err != nil {
			t.Fatal(err)
		}
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, "", c); reason(err) != mfa.ReasonReplayed {
			t.Fatalf("the activation code signed in: %s", reason(err))
		}
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, f.ID, c); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("second activation: %v", err)
		}
		// A second app of the same provider must wait for a reset.
		if _, _, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderOkta); !errs.Is(err, errs.Invalid) {
			t.Fatalf("second enrolment: %v", err)
		}
		if _, _, err := w.mfa.EnrollTOTP(ctx, w.user.ID, "RSA"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown provider: %v", err)
		}
		var ok, failed int
		for _, ev := range w.events(t, "user.mfa.factor.activate") {
			switch {
			case ev.Outcome.Result == audit.Success:
				ok++
			case ev.Outcome.Result == audit.Failure && ev.Outcome.Reason == mfa.ReasonInvalid:
				failed++
			}
		}
		if ok != 1 || failed != 1 {
			t.Fatalf("activation events: %d successes, %d failures", ok, failed)
		}

		// Expired enrolment.
		g, genr, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderGoogle)
		if err != nil {
			t.Fatal(err)
		}
		w.clk.Set(w.clk.Now().Add(15*time.Minute + time.Second))
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, g.ID, code(t, genr.SharedSecret, w.clk.Now())); !errs.Is(err, errs.IllegalState) ||
			!strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired enrolment activated: %v", err)
		}
		stored, err := db.Factors().Factor(ctx, w.user.ID, g.ID)
		if err != nil || stored.Status != mfa.PendingActivation {
			t.Fatalf("the expired enrolment changed: %+v %v", stored, err)
		}
		if _, err := w.mfa.Get(ctx, w.user.ID, g.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("expired enrolment still readable: %v", err)
		}
		list, _, err := w.mfa.List(ctx, w.user.ID)
		if err != nil || len(list) != 1 || list[0].ID != f.ID {
			t.Fatalf("list after expiry: %v %v", list, err)
		}
		// Enrolling again replaces the stale enrolment.
		h, _, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderGoogle)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Factors().Factor(ctx, w.user.ID, g.ID); !errs.Is(err, errs.NotFound) || h.ID == g.ID {
			t.Fatalf("stale enrolment kept: %v", err)
		}
	})
}

func hasCode(err error, code string) bool {
	e, ok := errs.As(err)
	return ok && e.Code == code
}

// TestSeedSealed: the seed is stored sealed, bound to its factor, and never
// appears in the system log.
func TestSeedSealed(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	w := newWorld(t, db, 10)
	f, enr, err := w.mfa.EnrollTOTP(ctx, w.user.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Factors().Factor(ctx, w.user.ID, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.SealedSecret, "gh1.") || strings.Contains(stored.SealedSecret, enr.SharedSecret) {
		t.Fatalf("seed stored as %q", stored.SealedSecret)
	}
	evs, _, err := db.Events().Query(ctx, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(fmt.Sprintf("%+v", ev), enr.SharedSecret) {
			t.Fatalf("the seed is in event %s", ev.EventType)
		}
	}
	// A sealed seed moved to another factor's row does not open.
	mk, _ := keys.NewMasterKey([]byte("0123456789abcdef0123456789abcdef"))
	sealer, _ := keys.NewSealer(nil, mk)
	if _, err := sealer.Open(stored.SealedSecret, "mfa:"+f.ID+":totp"); err != nil {
		t.Fatalf("own context: %v", err)
	}
	if _, err := sealer.Open(stored.SealedSecret, "mfa:ostOTHER0000000000:totp"); err == nil {
		t.Fatal("the seed opened under another factor's context")
	}
}

// TestFactorLockout: consecutive wrong codes lock the person out as wrong
// passwords do; a right code then fails too; an unlock clears the count.
func TestFactorLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 3)
		f, secret := w.enrolled(t)
		for i := 0; i < 2; i++ {
			if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, "000000"); reason(err) != mfa.ReasonInvalid {
				t.Fatalf("attempt %d: %s", i, reason(err))
			}
		}
		// A success in between resets the count.
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, secret, w.clk.Now())); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, "999999"); reason(err) != mfa.ReasonInvalid {
				t.Fatalf("attempt %d: %s", i, reason(err))
			}
		}
		u, err := db.Directory().User(ctx, w.user.ID)
		if err != nil || u.Status != directory.LockedOut {
			t.Fatalf("after 3 wrong codes: %v %v", u.Status, err)
		}
		if n := len(w.events(t, "user.account.lock")); n != 1 {
			t.Fatalf("%d lock events", n)
		}
		w.clk.Set(w.clk.Now().Add(time.Minute))
		_, err = w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, secret, w.clk.Now()))
		if reason(err) != mfa.ReasonLocked || !hasCode(err, "E0000069") {
			t.Fatalf("right code while locked: %v", err)
		}
		codes, err := w.mfa.NewRecoveryCodes(ctx, w.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, codes[0]); reason(err) != mfa.ReasonLocked {
			t.Fatalf("recovery code while locked: %s", reason(err))
		}
		if _, err := w.dir.Transition(ctx, w.user.ID, directory.OpUnlock); err != nil {
			t.Fatal(err)
		}
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, secret, w.clk.Now())); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		// Wrong recovery codes count too.
		for i := 0; i < 3; i++ {
			if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, "aaaa-bbbb-cccc-dddd"); reason(err) != mfa.ReasonInvalid {
				t.Fatalf("wrong recovery code: %s", reason(err))
			}
		}
		if u, _ := db.Directory().User(ctx, w.user.ID); u.Status != directory.LockedOut {
			t.Fatalf("wrong recovery codes did not lock: %s", u.Status)
		}
	})
}

// TestActivationLockout: wrong activation codes count towards the same
// lockout as wrong verification codes; the code that reaches the limit
// locks the person; a right activation code is then refused and the
// factor stays pending; a right activation does not clear the count.
func TestActivationLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 4)
		f, secret := w.enrolled(t)
		// One wrong verification code, then wrong activation codes of a
		// second app: one count.
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, "000000"); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("wrong verification: %s", reason(err))
		}
		g, genr, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderOkta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, g.ID, "123456"); reason(err) != mfa.ReasonInvalid || !hasCode(err, "E0000068") || mfa.LockedOut(err) {
			t.Fatalf("wrong activation 1: %v", err)
		}
		for i := 2; i <= 3; i++ {
			_, err := w.mfa.ActivateTOTP(ctx, w.user.ID, g.ID, "654321")
			if reason(err) != mfa.ReasonInvalid || !hasCode(err, "E0000068") {
				t.Fatalf("wrong activation %d: %v", i, err)
			}
			if locked := mfa.LockedOut(err); locked != (i == 3) {
				t.Fatalf("wrong activation %d: locked %v", i, locked)
			}
		}
		u, err := db.Directory().User(ctx, w.user.ID)
		if err != nil || u.Status != directory.LockedOut {
			t.Fatalf("after 4 wrong codes (1 verification, 3 activations): %v %v", u.Status, err)
		}
		if n := len(w.events(t, "user.account.lock")); n != 1 {
			t.Fatalf("%d lock events", n)
		}
		// While locked, the right activation code and the right
		// verification code are refused, and nothing changes.
		_, err = w.mfa.ActivateTOTP(ctx, w.user.ID, g.ID, code(t, genr.SharedSecret, w.clk.Now()))
		if reason(err) != mfa.ReasonLocked || !hasCode(err, "E0000069") || !mfa.LockedOut(err) {
			t.Fatalf("right activation code while locked: %v", err)
		}
		if stored, err := db.Factors().Factor(ctx, w.user.ID, g.ID); err != nil || stored.Status != mfa.PendingActivation {
			t.Fatalf("the factor changed while locked: %+v %v", stored, err)
		}
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, code(t, secret, w.clk.Now())); reason(err) != mfa.ReasonLocked {
			t.Fatalf("right verification code while locked: %s", reason(err))
		}
		// An unlock clears the count: the right activation code works,
		// and does not reset the count of a later failure.
		if _, err := w.dir.Transition(ctx, w.user.ID, directory.OpUnlock); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, "111111"); reason(err) != mfa.ReasonInvalid {
				t.Fatalf("wrong code after unlock: %s", reason(err))
			}
		}
		if _, err := w.mfa.ActivateTOTP(ctx, w.user.ID, g.ID, code(t, genr.SharedSecret, w.clk.Now())); err != nil {
			t.Fatalf("activation after unlock: %v", err)
		}
		if _, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, "222222"); !mfa.LockedOut(err) {
			t.Fatalf("the activation cleared the count: %v", err)
		}
	})
}

// TestConcurrentCodeOnce: the same code submitted at once from many
// requests (or nodes) signs in once.
func TestConcurrentCodeOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 100)
		f, secret := w.enrolled(t)
		c := code(t, secret, w.clk.Now())
		var wg sync.WaitGroup
		var mu sync.Mutex
		results := map[string]int{}
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.mfa.VerifyTOTP(ctx, w.user.ID, f.ID, c)
				mu.Lock()
				results[reason(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if results["ok"] != 1 || results[mfa.ReasonReplayed] != 7 {
			t.Fatalf("results: %v", results)
		}
	})
}

// TestRecoveryCodes: shown once, stored hashed, single use.
func TestRecoveryCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		if _, err := w.mfa.NewRecoveryCodes(ctx, w.user.ID); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("codes without a factor: %v", err)
		}
		w.enrolled(t)
		codes, err := w.mfa.NewRecoveryCodes(ctx, w.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 19 || seen[c] {
				t.Fatalf("codes %v", codes)
			}
			seen[c] = true
		}
		if n, _ := w.mfa.RecoveryCodesLeft(ctx, w.user.ID); n != mfa.RecoveryCodeCount {
			t.Fatalf("left %d", n)
		}
		// Typed in capitals and without dashes, the code still works, once.
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
		if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, typed); err != nil {
			t.Fatal(err)
		}
		if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, codes[3]); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("code used twice: %s", reason(err))
		}
		if n, _ := w.mfa.RecoveryCodesLeft(ctx, w.user.ID); n != mfa.RecoveryCodeCount-1 {
			t.Fatalf("left %d", n)
		}
		// New codes replace the old ones.
		again, err := w.mfa.NewRecoveryCodes(ctx, w.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, codes[0]); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("an old code after regeneration: %s", reason(err))
		}
		if err := w.mfa.RedeemRecoveryCode(ctx, w.user.ID, again[0]); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReset: one factor, then all, each with its event; the last active
// factor takes the recovery codes with it.
func TestReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		f, _ := w.enrolled(t)
		if _, err := w.mfa.NewRecoveryCodes(ctx, w.user.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.mfa.Reset(ctx, w.user.ID, "ostUNKNOWN0000000000"); !hasCode(err, "E0000007") {
			t.Fatalf("unknown factor: %v", err)
		}
		if err := w.mfa.Reset(ctx, w.user.ID, f.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.mfa.RecoveryCodesLeft(ctx, w.user.ID); n != 0 {
			t.Fatalf("%d recovery codes outlived the last factor", n)
		}
		if active, _ := w.mfa.HasActive(ctx, w.user.ID); active {
			t.Fatal("still has an active factor")
		}
		w.enrolled(t)
		if _, _, err := w.mfa.EnrollTOTP(ctx, w.user.ID, mfa.ProviderOkta); err != nil {
			t.Fatal(err)
		}
		n, err := w.mfa.ResetAll(ctx, w.user.ID)
		if err != nil || n != 2 {
			t.Fatalf("reset all: %d %v", n, err)
		}
		if len(w.events(t, "user.mfa.factor.deactivate")) != 1 || len(w.events(t, "user.mfa.factor.reset_all")) != 1 {
			t.Fatal("reset events missing")
		}
		if _, _, err := w.mfa.List(ctx, "nobody@example.com"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("factors of an unknown person: %v", err)
		}
		if err := w.mfa.Reset(ctx, "nobody@example.com", f.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("reset for an unknown person: %v", err)
		}
	})
}

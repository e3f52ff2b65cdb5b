package mfa_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/mfa/passkeytest"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

const origin = "https://id.example.com"

func withPasskeys(t *testing.T, w *world) {
	t.Helper()
	wa, err := mfa.NewWebAuthn(origin, "Gatehouse Test")
	if err != nil {
		t.Fatal(err)
	}
	w.mfa.WebAuthn, w.mfa.Ceremonies = wa, w.db.Sessions()
}

func TestRelyingParty(t *testing.T) {
	for _, bad := range []string{"http://127.0.0.1:8080", "http://[::1]:9000", "not a url", ""} {
		if _, err := mfa.NewWebAuthn(bad, ""); err == nil {
			t.Errorf("relying party for %q", bad)
		}
	}
	for url, id := range map[string]string{"http://localhost:8080": "localhost", "https://id.example.com": "id.example.com"} {
		wa, err := mfa.NewWebAuthn(url, "")
		if err != nil || wa.RPID() != id {
			t.Errorf("%s: %v %v", url, wa, err)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// register runs a whole registration with a software authenticator.
func register(t *testing.T, w *world, a *passkeytest.Authenticator, name string) *mfa.Factor {
	t.Helper()
	ctx := context.Background()
	f, creation, err := w.mfa.BeginPasskeyRegistration(ctx, w.user.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.Create(mustJSON(t, creation), origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mfa.ParseRegistration(reg.JSON())
	if err != nil {
		t.Fatal(err)
	}
	done, err := w.mfa.FinishPasskeyRegistration(ctx, w.user.ID, f.ID, parsed)
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return done
}

func signIn(t *testing.T, w *world, a *passkeytest.Authenticator, key string) (*mfa.Factor, error) {
	t.Helper()
	ctx := context.Background()
	assertion, err := w.mfa.BeginPasskeyLogin(ctx, w.user.ID, "", key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Get(mustJSON(t, assertion), "id.example.com", origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mfa.ParseAssertion(got.JSON())
	if err != nil {
		t.Fatal(err)
	}
	return w.mfa.FinishPasskeyLogin(ctx, w.user.ID, key, parsed)
}

func TestPasskeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		withPasskeys(t, w)
		a := passkeytest.New()
		f := register(t, w, a, "Work laptop")
		if f.Status != mfa.Active || f.Name != "Work laptop" || f.Credential == nil || string(f.Credential.ID) != string(a.CredID) ||
			!strings.HasPrefix(f.ID, "fwf") || f.Provider != mfa.ProviderFIDO {
			t.Fatalf("registered %+v", f)
		}
		// The options of the next registration exclude this credential;
		// registering it again anyway is refused.
		g, creation, err := w.mfa.BeginPasskeyRegistration(ctx, w.user.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(mustJSON(t, creation)), base64.RawURLEncoding.EncodeToString(a.CredID)) || g.Name != "Passkey" {
			t.Fatalf("excludeCredentials: %s", mustJSON(t, creation))
		}
		reg, _ := a.Create(mustJSON(t, creation), origin)
		parsed, _ := mfa.ParseRegistration(reg.JSON())
		if _, err := w.mfa.FinishPasskeyRegistration(ctx, w.user.ID, g.ID, parsed); !errs.Is(err, errs.Conflict) {
			t.Fatalf("the same credential twice: %v", err)
		}

		// Sign-in: the counter moves; the answer cannot be replayed.
		used, err := signIn(t, w, a, "k1")
		if err != nil || used.ID != f.ID || used.Credential.SignCount != 1 || used.LastUsed == nil {
			t.Fatalf("sign-in: %v %+v", err, used)
		}
		assertion, _ := w.mfa.BeginPasskeyLogin(ctx, w.user.ID, "", "k2")
		got, _ := a.Get(mustJSON(t, assertion), "id.example.com", origin)
		p1, _ := mfa.ParseAssertion(got.JSON())
		if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "k2", p1); err != nil {
			t.Fatal(err)
		}
		p2, _ := mfa.ParseAssertion(got.JSON())
		if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "k2", p2); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("replayed ceremony: %v", err)
		}
		// An old answer given to a new ceremony (another challenge): refused.
		if _, err := w.mfa.BeginPasskeyLogin(ctx, w.user.ID, "", "k3"); err != nil {
			t.Fatal(err)
		}
		p3, _ := mfa.ParseAssertion(got.JSON())
		if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "k3", p3); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("an answer to another challenge: %s", reason(err))
		}
		// Another origin: refused.
		assertion, _ = w.mfa.BeginPasskeyLogin(ctx, w.user.ID, "", "k4")
		evil, _ := a.Get(mustJSON(t, assertion), "id.example.com", "https://id.example.com.evil.test")
		p4, _ := mfa.ParseAssertion(evil.JSON())
		if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "k4", p4); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("another origin: %s", reason(err))
		}
		// A key for another relying party: refused.
		assertion, _ = w.mfa.BeginPasskeyLogin(ctx, w.user.ID, "", "k5")
		other, _ := a.Get(mustJSON(t, assertion), "evil.test", origin)
		p5, _ := mfa.ParseAssertion(other.JSON())
		if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "k5", p5); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("another relying party: %s", reason(err))
		}
		// An unknown authenticator.
		if _, err := signIn(t, w, passkeytest.New(), "k6"); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("unknown credential: %s", reason(err))
		}

		// Clone detection: a counter that goes back refuses the credential,
		// now and later, and is logged as a bypass attempt.
		a.Counter = 1
		if _, err := signIn(t, w, a, "k7"); reason(err) != mfa.ReasonCloned {
			t.Fatalf("counter went back: %s", reason(err))
		}
		stored, _ := db.Factors().Factor(ctx, w.user.ID, f.ID)
		if !stored.Credential.CloneWarning {
			t.Fatal("clone warning not stored")
		}
		a.Counter = 1000
		if _, err := signIn(t, w, a, "k8"); reason(err) != mfa.ReasonCloned {
			t.Fatalf("after a clone warning: %s", reason(err))
		}
		if n := len(w.events(t, "user.mfa.attempt_bypass")); n != 2 {
			t.Fatalf("%d bypass events", n)
		}
		// Reset and register again.
		if err := w.mfa.Reset(ctx, w.user.ID, f.ID); err != nil {
			t.Fatal(err)
		}
		b := passkeytest.New()
		register(t, w, b, "Security key")
		if _, err := signIn(t, w, b, "k9"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPasskeyParts runs the ceremonies through the separate values of
// Okta's Factors API.
func TestPasskeyParts(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	w := newWorld(t, db, 10)
	withPasskeys(t, w)
	a := passkeytest.New()
	f, creation, err := w.mfa.BeginPasskeyRegistration(ctx, w.user.ID, "Key")
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := a.Create(mustJSON(t, creation.Response), origin)
	std := base64.StdEncoding
	parsed, err := mfa.ParseRegistrationParts(std.EncodeToString(reg.AttestationObject), base64.RawURLEncoding.EncodeToString(reg.ClientDataJSON))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.mfa.FinishPasskeyRegistration(ctx, w.user.ID, f.ID, parsed); err != nil {
		t.Fatal(err)
	}
	assertion, err := w.mfa.BeginPasskeyLogin(ctx, w.user.ID, f.ID, "api:"+f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := a.Get(mustJSON(t, assertion.Response), "id.example.com", origin)
	p, err := mfa.ParseAssertionParts(a.CredID, std.EncodeToString(got.ClientDataJSON), std.EncodeToString(got.AuthenticatorData), std.EncodeToString(got.Signature))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.mfa.FinishPasskeyLogin(ctx, w.user.ID, "api:"+f.ID, p); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][3]string{{"", "", ""}, {"!!", "AA", "AA"}, {"AA", "AA", "AA"}} {
		if _, err := mfa.ParseAssertionParts(a.CredID, bad[0], bad[1], bad[2]); !errs.Is(err, errs.Invalid) {
			t.Errorf("parts %v: %v", bad, err)
		}
	}
	if _, err := mfa.ParseRegistrationParts("AAAA", "e30"); !errs.Is(err, errs.Invalid) {
		t.Errorf("junk attestation: %v", err)
	}
}

// passwordless runs a passwordless sign-in ceremony named key with a
// software authenticator answering for rpID and origin.
func passwordless(t *testing.T, w *world, a *passkeytest.Authenticator, key, rpID, origin string) (*mfa.Factor, *directory.User, error) {
	t.Helper()
	ctx := context.Background()
	assertion, err := w.mfa.BeginPasskeySignIn(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Get(mustJSON(t, assertion), rpID, origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mfa.ParseAssertion(got.JSON())
	if err != nil {
		t.Fatal(err)
	}
	return w.mfa.FinishPasskeySignIn(ctx, key, parsed, nil)
}

// TestPasskeySignInWithoutUsername: the passwordless ceremony asks for
// user verification and names no credential; the person is found by the
// credential's user handle; every failure mode is refused: a replayed
// answer, an answer to another challenge, another origin or relying
// party, no user verification, an unknown credential or user handle, a
// counter that goes back, a suspended or locked-out person.
func TestPasskeySignInWithoutUsername(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db, 10)
		withPasskeys(t, w)
		a := passkeytest.New()
		f := register(t, w, a, "Phone")

		// The registration asks for a discoverable credential; the sign-in
		// for user verification, with no allowed credentials.
		_, creation, err := w.mfa.BeginPasskeyRegistration(ctx, w.user.ID, "x")
		if err != nil {
			t.Fatal(err)
		}
		if sel := creation.Response.AuthenticatorSelection; sel.ResidentKey != protocol.ResidentKeyRequirementPreferred && sel.ResidentKey != protocol.ResidentKeyRequirementRequired {
			t.Fatalf("registration's residentKey: %q", sel.ResidentKey)
		}
		opts, err := w.mfa.BeginPasskeySignIn(ctx, "probe")
		if err != nil {
			t.Fatal(err)
		}
		if opts.Response.UserVerification != protocol.VerificationRequired || len(opts.Response.AllowedCredentials) != 0 || opts.Response.RelyingPartyID != "id.example.com" {
			t.Fatalf("sign-in options: %s", mustJSON(t, opts))
		}

		used, who, err := passwordless(t, w, a, "b1", "id.example.com", origin)
		if err != nil || used.ID != f.ID || who.ID != w.user.ID || used.Credential.SignCount != a.Counter || !used.Credential.UserVerified {
			t.Fatalf("sign-in: %v %+v", err, used)
		}
		if u, _ := db.Directory().User(ctx, w.user.ID); u.LastLogin == nil {
			t.Fatal("no last sign-in time")
		}
		starts := w.events(t, "user.session.start")
		if len(starts) != 1 || starts[0].Outcome.Result != "SUCCESS" || starts[0].Debug["authnMethod"] != "passkey" || starts[0].Debug["factorId"] != f.ID {
			t.Fatalf("session start events: %+v", starts)
		}

		// The same answer twice: the ceremony is used up.
		assertion, _ := w.mfa.BeginPasskeySignIn(ctx, "b2")
		got, _ := a.Get(mustJSON(t, assertion), "id.example.com", origin)
		p1, _ := mfa.ParseAssertion(got.JSON())
		if _, _, err := w.mfa.FinishPasskeySignIn(ctx, "b2", p1, nil); err != nil {
			t.Fatal(err)
		}
		p2, _ := mfa.ParseAssertion(got.JSON())
		if _, _, err := w.mfa.FinishPasskeySignIn(ctx, "b2", p2, nil); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("replayed answer: %v", err)
		}
		// The old answer to a new ceremony (another challenge).
		if _, err := w.mfa.BeginPasskeySignIn(ctx, "b3"); err != nil {
			t.Fatal(err)
		}
		p3, _ := mfa.ParseAssertion(got.JSON())
		if _, _, err := w.mfa.FinishPasskeySignIn(ctx, "b3", p3, nil); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("answer to another challenge: %s", reason(err))
		}
		// A ceremony that was never begun.
		p4, _ := mfa.ParseAssertion(got.JSON())
		if _, _, err := w.mfa.FinishPasskeySignIn(ctx, "never", p4, nil); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("no ceremony: %v", err)
		}
		// Another origin, another relying party.
		if _, _, err := passwordless(t, w, a, "b5", "id.example.com", "https://id.example.com.evil.test"); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("another origin: %s", reason(err))
		}
		if _, _, err := passwordless(t, w, a, "b6", "evil.test", origin); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("another relying party: %s", reason(err))
		}
		// Without user verification: one factor only, refused.
		a.UserVerified = false
		if _, _, err := passwordless(t, w, a, "b7", "id.example.com", origin); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("no user verification: %s", reason(err))
		}
		a.UserVerified = true
		// A credential the person never registered, under their handle.
		stranger := passkeytest.New()
		stranger.SetUserHandle([]byte(w.user.ID))
		if _, _, err := passwordless(t, w, stranger, "b8", "id.example.com", origin); reason(err) != mfa.ReasonInvalid {
			t.Fatalf("unknown credential: %s", reason(err))
		}
		// No handle, a handle that names nobody, a login as the handle:
		// nobody to count against; logged as an unknown person.
		for i, h := range [][]byte{nil, []byte("00uNOPE0000000000000"), []byte(w.user.Login())} {
			a.SetUserHandle(h)
			if _, _, err := passwordless(t, w, a, "u"+string(rune('0'+i)), "id.example.com", origin); !errors.Is(err, mfa.ErrUnknownPasskey) {
				t.Fatalf("handle %q: %v", h, err)
			}
		}
		a.SetUserHandle([]byte(w.user.ID))
		unknown := 0
		for _, ev := range w.events(t, "user.session.start") {
			if len(ev.Target) > 0 && ev.Target[0].ID == "unknown" && ev.Outcome.Reason == "VERIFICATION_ERROR" {
				unknown++
			}
		}
		if unknown != 3 {
			t.Fatalf("%d unknown-person sign-in events", unknown)
		}

		// A suspended person: refused, not counted, logged.
		if _, err := w.dir.Transition(ctx, w.user.ID, directory.OpSuspend); err != nil {
			t.Fatal(err)
		}
		if _, _, err := passwordless(t, w, a, "s1", "id.example.com", origin); reason(err) != mfa.ReasonNotActive {
			t.Fatalf("suspended: %s", reason(err))
		}
		for _, typ := range []string{"user.authentication.auth_via_mfa", "user.session.start"} {
			n := 0
			for _, ev := range w.events(t, typ) {
				if ev.Outcome.Reason == "USER_NOT_ACTIVE: SUSPENDED" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d %s events of the suspended sign-in", n, typ)
			}
		}
		if _, err := w.dir.Transition(ctx, w.user.ID, directory.OpUnsuspend); err != nil {
			t.Fatal(err)
		}
		// Failures so far (challenge, origin, RP, UV, stranger: 5) count;
		// the suspended attempt did not. Five more lock the person out.
		for i := 0; i < 4; i++ {
			if _, _, err := passwordless(t, w, a, "l", "evil.test", origin); mfa.LockedOut(err) {
				t.Fatalf("locked after %d failures", 6+i)
			}
		}
		if _, _, err := passwordless(t, w, a, "l", "evil.test", origin); !mfa.LockedOut(err) {
			t.Fatalf("the tenth failure did not lock: %v", err)
		}
		// While locked, the right passkey is refused.
		if _, _, err := passwordless(t, w, a, "l2", "id.example.com", origin); reason(err) != mfa.ReasonLocked || !mfa.LockedOut(err) {
			t.Fatalf("locked: %s", reason(err))
		}
		if _, err := w.dir.Transition(ctx, w.user.ID, directory.OpUnlock); err != nil {
			t.Fatal(err)
		}
		// A counter that goes back: refused as a possible clone, then for good.
		a.Counter = 0
		if _, _, err := passwordless(t, w, a, "c1", "id.example.com", origin); reason(err) != mfa.ReasonCloned {
			t.Fatalf("counter went back: %s", reason(err))
		}
		a.Counter = 10000
		if _, _, err := passwordless(t, w, a, "c2", "id.example.com", origin); reason(err) != mfa.ReasonCloned {
			t.Fatalf("after a clone warning: %s", reason(err))
		}
	})
}

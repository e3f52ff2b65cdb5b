package mfa_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

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

package federation_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

type fakeHasher struct{}

func (fakeHasher) Hash(_ context.Context, pw string) (string, error) { return "h:" + pw, nil }
func (fakeHasher) Verify(_ context.Context, enc, pw string) (bool, bool, error) {
	return enc == "h:"+pw, false, nil
}

type discoverer struct{ err error }

func (d discoverer) Discover(context.Context, string) (federation.Endpoints, error) {
	return federation.Endpoints{Authorization: "https://op.example/auth", Token: "https://op.example/token", JWKS: "https://op.example/jwks"}, d.err
}

func newService(t testing.TB, db *sqlstore.DB) *federation.Service {
	mk, err := keys.NewMasterKey(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewSealer(nil, mk)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	events := audit.Builder{Now: time.Now, UUID: func() string { n++; return fmt.Sprintf("uuid-%d", n) }}
	dir := &directory.Service{Store: db.Directory(), Hasher: fakeHasher{}, Policy: credential.DefaultPolicy(), IDs: ids.NewSource(nil), Now: time.Now, Events: events}
	return &federation.Service{Store: db.IdPs(), Directory: dir, Sealer: sealer, Expr: expr.NewEngine(), Discover: discoverer{},
		IDs: ids.NewSource(nil), Now: time.Now, Events: events}
}

func claims(sub, email string, verified bool) federation.Claims {
	return federation.Claims{Subject: sub, Email: email, EmailVerified: verified,
		Raw: map[string]any{"sub": sub, "email": email, "email_verified": verified, "given_name": "Pat", "family_name": "Lee"}}
}

func reason(err error) string {
	var f *federation.Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestSignInDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s := newService(t, db)
		staff, err := s.Directory.CreateGroup(ctx, "Staff", "")
		if err != nil {
			t.Fatal(err)
		}
		mk := func(login string, groups ...string) *directory.User {
			u, err := s.Directory.CreateUser(ctx, directory.CreateUserInput{Profile: directory.Profile{"login": login, "email": login, "firstName": "A", "lastName": "B"},
				Password: "Secret-Passw0rd-1", Activate: true, GroupIDs: groups})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		member := mk("member@example.com", staff.ID)
		mk("outsider@example.com")
		susp := mk("susp@example.com")
		if _, err := s.Directory.Transition(ctx, susp.ID, directory.OpSuspend); err != nil {
			t.Fatal(err)
		}
		// Two people sharing one email address.
		for _, l := range []string{"twin1@example.com", "twin2@example.com"} {
			if _, err := s.Directory.CreateUser(ctx, directory.CreateUserInput{Profile: directory.Profile{"login": l, "email": "twins@example.com", "firstName": "T", "lastName": "W"}, Activate: true, Provider: true}); err != nil {
				t.Fatal(err)
			}
		}
		idp := func(mod func(*federation.IdP)) *federation.IdP {
			p := &federation.IdP{Type: federation.OIDC, Name: "Acme", Issuer: "https://login.acme.example", ClientID: "c1",
				Subject: federation.Subject{MatchType: federation.MatchEmail}}
			if mod != nil {
				mod(p)
			}
			out, err := s.Create(ctx, p, "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		auto := idp(nil)
		noLink := idp(func(p *federation.IdP) { p.AccountLink.Action = federation.ActionDisabled })
		filtered := idp(func(p *federation.IdP) { p.AccountLink.FilterGroups = []string{staff.ID} })
		noJIT := idp(func(p *federation.IdP) { p.Provisioning.Action = federation.ActionDisabled })
		byLogin := idp(func(p *federation.IdP) {
			p.Subject = federation.Subject{MatchType: federation.MatchUsername, UserNameTemplate: `String.substringBefore(idpuser.email, "@") + "@example.com"`}
		})
		badMap := idp(func(p *federation.IdP) {
			p.Provisioning.ProfileMapping = map[string]string{"login": "idpuser.nickname"}
		})
		inactive := idp(func(p *federation.IdP) { p.Status = federation.Inactive })

		cases := []struct {
			name    string
			idp     *federation.IdP
			c       federation.Claims
			reason  string
			outcome federation.Outcome
			login   string
		}{
			{"links by verified email", auto, claims("s1", "member@example.com", true), "", federation.NewLink, "member@example.com"},
			{"uses the link afterwards, whatever the email says", auto, claims("s1", "changed@example.com", false), "", federation.Returning, "member@example.com"},
			{"unverified email never links", auto, claims("s2", "outsider@example.com", false), federation.ReasonUnverifiedEmail, "", ""},
			{"no email", auto, claims("s2", "", true), federation.ReasonUnverifiedEmail, "", ""},
			{"linking turned off", noLink, claims("s3", "outsider@example.com", true), federation.ReasonLinkDisabled, "", ""},
			{"link filter excludes non-members", filtered, claims("s4", "outsider@example.com", true), federation.ReasonLinkFilter, "", ""},
			{"link filter admits members", filtered, claims("s5", "member@example.com", true), "", federation.NewLink, "member@example.com"},
			{"already linked to another subject", auto, claims("s6", "member@example.com", true), federation.ReasonAlreadyLinked, "", ""},
			{"ambiguous email", auto, claims("s7", "twins@example.com", true), federation.ReasonAmbiguous, "", ""},
			{"suspended person", auto, claims("s8", "susp@example.com", true), federation.ReasonNotActive, "", ""},
			{"unknown person, no JIT", noJIT, claims("s9", "nobody@example.com", true), federation.ReasonUnknownUser, "", ""},
			{"unknown person, JIT", auto, claims("s10", "fresh@example.com", true), "", federation.Created, "fresh@example.com"},
			{"match by username template", byLogin, claims("s11", "outsider@corp.example", true), "", federation.NewLink, "outsider@example.com"},
			{"mapping without a login", badMap, claims("s12", "other@example.com", true), federation.ReasonProvisioning, "", ""},
			{"inactive provider", inactive, claims("s13", "member@example.com", true), federation.ReasonInactiveIdP, "", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u, how, err := s.SignIn(ctx, c.idp, c.c)
				if got := reason(err); got != c.reason {
					t.Fatalf("reason %q, want %q", got, c.reason)
				}
				if c.reason != "" {
					return
				}
				if how != c.outcome || u.Login() != c.login {
					t.Fatalf("got %s %s, want %s %s", how, u.Login(), c.outcome, c.login)
				}
				l, err := s.Store.LinkBySubject(ctx, c.idp.ID, c.c.Subject)
				if err != nil || l.UserID != u.ID {
					t.Fatalf("link: %v %+v", err, l)
				}
				if _, ok := l.Profile["nonce"]; ok {
					t.Fatal("token claims kept in the link profile")
				}
			})
		}
		fresh, err := s.Directory.Store.User(ctx, "fresh@example.com")
		if err != nil || fresh.Credentials.Provider != "FEDERATION" || fresh.Profile.String("firstName") != "Pat" || fresh.Status != directory.Active {
			t.Fatalf("JIT user: %v %+v", err, fresh)
		}
		if links, _ := s.Store.UserLinks(ctx, member.ID); len(links) != 2 {
			t.Fatalf("member links: %d", len(links))
		}
		// Deleting a person removes their links.
		if _, err := s.Directory.Transition(ctx, fresh.ID, directory.OpDeactivate); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Directory.Delete(ctx, fresh.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.LinkBySubject(ctx, auto.ID, "s10"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("link outlived its person: %v", err)
		}
	})
}

func TestCreateSealsSecretAndValidates(t *testing.T) {
	ctx := context.Background()
	s := newService(t, storetest.SQLite(t))
	p, err := s.Create(ctx, &federation.IdP{Type: federation.Google, ClientID: "cid"}, "top-secret")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Google" || p.SealedSecret == "" || p.SealedSecret == "top-secret" || p.Subject.MatchType != federation.MatchUsername ||
		p.Provisioning.Action != federation.ActionAuto || p.Provisioning.ProfileMapping["login"] != "idpuser.email" {
		t.Fatalf("defaults: %+v", p)
	}
	if sec, err := s.ClientSecret(p); err != nil || sec != "top-secret" {
		t.Fatalf("open: %q %v", sec, err)
	}
	// The secret is bound to its provider: another provider cannot open it.
	other := *p
	other.ID = "0oiother"
	if _, err := s.ClientSecret(&other); err == nil {
		t.Fatal("secret opened under another provider")
	}
	// Replacing without a secret keeps it.
	q, err := s.Replace(ctx, p.ID, &federation.IdP{Type: federation.Google, ClientID: "cid2"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if sec, _ := s.ClientSecret(q); sec != "top-secret" || q.ClientID != "cid2" {
		t.Fatalf("replace kept %q %s", sec, q.ClientID)
	}
	s.Discover = discoverer{err: errors.New("connection refused")}
	_, err = s.Create(ctx, &federation.IdP{Type: federation.OIDC, Issuer: "https://op.example", ClientID: "c"}, "x")
	if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "protocol.issuer.url" {
		t.Fatalf("discovery failure: %v", err)
	}
	// Every problem is reported at once.
	_, err = s.Create(ctx, &federation.IdP{Type: "X", Scopes: []string{"email"}, Provisioning: federation.Provisioning{Action: "NOPE"}}, "")
	e, _ := errs.As(err)
	if e == nil || len(e.Fields) != 5 {
		t.Fatalf("want 5 field errors: %v", err)
	}
}

// BenchmarkSignInReturning measures the decision and transaction of a
// returning federated sign-in (link lookup, last sign-in, events) on SQLite.
func BenchmarkSignInReturning(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	s := newService(b, db)
	p, err := s.Create(ctx, &federation.IdP{Type: federation.Google, ClientID: "c"}, "s")
	if err != nil {
		b.Fatal(err)
	}
	c := claims("bench-1", "bench@example.com", true)
	if _, _, err := s.SignIn(ctx, p, c); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, how, err := s.SignIn(ctx, p, c); err != nil || how != federation.Returning {
			b.Fatal(how, err)
		}
	}
}

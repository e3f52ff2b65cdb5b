package directory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// gateHasher is a hasher whose every call waits until the test opens the
// gate, after saying that it started.
type gateHasher struct {
	started chan string
	gate    chan struct{}
}

func (h gateHasher) wait(what string) {
	h.started <- what
	<-h.gate
}

func (h gateHasher) Hash(_ context.Context, pw string) (string, error) {
	h.wait("hash")
	return "h:" + pw, nil
}

func (h gateHasher) Verify(_ context.Context, enc, pw string) (bool, bool, error) {
	h.wait("verify")
	return enc == "h:"+pw, false, nil
}

// TestNoWriteWaitsForAHash: while a password is being hashed (creating a
// user) or checked (a sign-in), other writes go through. On SQLite a write
// transaction holds the database's one writer, so a hash inside it would
// stop them all for its tens of milliseconds.
func TestNoWriteWaitsForAHash(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var db *sqlstore.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(t)
			} else {
				db = storetest.Postgres(t)
			}
			h := gateHasher{started: make(chan string, 4), gate: make(chan struct{})}
			src := ids.NewSource(nil)
			svc := &directory.Service{Store: db.Directory(), Hasher: h, Policy: credential.DefaultPolicy(), IDs: src, Now: time.Now,
				Events: audit.Builder{Now: time.Now, UUID: func() string { return src.New(ids.Event) }}}
			ctx := context.Background()
			profile := directory.Profile{"login": "ana@example.com", "email": "ana@example.com", "firstName": "Ana", "lastName": "Lee"}

			// otherWrite creates a group while the hasher is held.
			otherWrite := func(name string) {
				t.Helper()
				done := make(chan error, 1)
				go func() { _, err := svc.CreateGroup(ctx, name, ""); done <- err }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(5 * time.Second):
					close(h.gate) // let everything finish before failing
					t.Fatalf("creating group %s waited for the password hash", name)
				}
			}

			created := make(chan error, 1)
			go func() {
				_, err := svc.CreateUser(ctx, directory.CreateUserInput{Profile: profile, Password: "Correct-Horse-42", Activate: true})
				created <- err
			}()
			if got := <-h.started; got != "hash" {
				t.Fatalf("hasher call %q, want hash", got)
			}
			otherWrite("during-create")
			h.gate <- struct{}{}
			if err := <-created; err != nil {
				t.Fatal(err)
			}

			type result struct {
				u   *directory.User
				err error
			}
			signIn := func(password string) chan result {
				out := make(chan result, 1)
				go func() {
					u, err := svc.Authenticate(ctx, "ana@example.com", password, 10)
					out <- result{u, err}
				}()
				if got := <-h.started; got != "verify" {
					t.Fatalf("hasher call %q, want verify", got)
				}
				return out
			}
			good := signIn("Correct-Horse-42")
			otherWrite("during-sign-in")
			h.gate <- struct{}{}
			if r := <-good; r.err != nil || r.u == nil || r.u.LastLogin == nil {
				t.Fatalf("sign-in: %+v", r)
			}

			bad := signIn("wrong")
			otherWrite("during-failed-sign-in")
			h.gate <- struct{}{}
			if r := <-bad; !errors.Is(r.err, directory.ErrBadCredentials) {
				t.Fatalf("wrong password: %v", r.err)
			}
			u, err := db.Directory().User(ctx, "ana@example.com")
			if err != nil || u.FailedLogins != 1 || u.Status != directory.Active {
				t.Fatalf("after the failure: %+v %v", u, err)
			}

			// A change of password: the old one checked, the history, the
			// new hash; a write goes through during each of them.
			changed := make(chan error, 1)
			go func() {
				_, err := svc.ChangePassword(ctx, "ana@example.com", "Correct-Horse-42", "Battery-Staple-77")
				changed <- err
			}()
			calls := 0
		wait:
			for {
				select {
				case <-h.started:
					calls++
					if calls == 1 {
						// The user changes under the check: the change
						// of password starts again on the new version.
						if _, err := svc.UpdateProfile(ctx, "ana@example.com", directory.Profile{"title": "Agent"}, false); err != nil {
							t.Fatal(err)
						}
					} else {
						otherWrite(fmt.Sprintf("during-change-%d", calls))
					}
					h.gate <- struct{}{}
				case err := <-changed:
					if err != nil {
						t.Fatal(err)
					}
					break wait
				}
			}
			if calls < 4 {
				t.Fatalf("change of password made %d hasher calls, want the old one's check and the new hash, twice", calls)
			}
			if u, err := db.Directory().User(ctx, "ana@example.com"); err != nil || u.Credentials.PasswordHash != "h:Battery-Staple-77" || u.Profile.String("title") != "Agent" ||
				len(u.Credentials.PasswordHistory) == 0 || u.Credentials.PasswordHistory[0] != "h:Correct-Horse-42" {
				t.Fatalf("after the change: %+v %v", u, err)
			}
		})
	}
}

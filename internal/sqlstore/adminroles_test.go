package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// TestAdminRolesStore: on both databases a duplicate grant writes nothing,
// a revoke of a role not held is not found, and the last ACTIVE super
// administrator keeps the role, also when two revokes race.
func TestAdminRolesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		src := ids.NewSource(nil)
		now := time.Now().UTC().Truncate(time.Millisecond)
		b := audit.Builder{Now: time.Now, UUID: func() string { return src.New(ids.Event) }}
		user := func(login string, status directory.Status) string {
			u := &directory.User{ID: src.New(ids.User), Status: status, Created: now, LastUpdated: now, Profile: directory.Profile{"login": login}}
			if err := db.Directory().Update(ctx, func(tx directory.Tx) error { return tx.InsertUser(u) }); err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		events := func() int {
			evs, _, err := db.Events().Query(ctx, audit.Query{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}
		s := db.Tokens()
		grant := func(id, role string) error {
			return s.GrantRole(ctx, id, role, now, b.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success))
		}
		revoke := func(id, role string) error {
			return s.RevokeRole(ctx, id, role, b.New(ctx, "user.account.privilege.revoke", "Revoke user privilege", audit.Success))
		}
		a, bob, sus := user("a@example.com", directory.Active), user("b@example.com", directory.Active), user("s@example.com", directory.Suspended)

		if err := grant(a, adminrole.SuperAdmin); err != nil {
			t.Fatal(err)
		}
		n := events()
		if err := grant(a, adminrole.SuperAdmin); !errors.Is(err, adminrole.ErrAlreadyAssigned) {
			t.Fatalf("duplicate grant: %v", err)
		}
		if events() != n {
			t.Fatal("a duplicate grant was logged")
		}
		if err := revoke(a, adminrole.AppAdmin); !errs.Is(err, errs.NotFound) {
			t.Fatalf("revoke a role not held: %v", err)
		}
		if err := revoke(a, adminrole.SuperAdmin); !errors.Is(err, adminrole.ErrLastSuperAdmin) {
			t.Fatalf("revoke the last super admin: %v", err)
		}
		// A suspended super administrator does not count.
		if err := grant(sus, adminrole.SuperAdmin); err != nil {
			t.Fatal(err)
		}
		if err := revoke(a, adminrole.SuperAdmin); !errors.Is(err, adminrole.ErrLastSuperAdmin) {
			t.Fatalf("revoke with only a suspended other: %v", err)
		}
		if err := revoke(sus, adminrole.SuperAdmin); err != nil {
			t.Fatalf("revoke the suspended one: %v", err)
		}
		if events() != n+2 { // the grant to sus and its revoke
			t.Fatalf("refused revokes were logged")
		}
		// Two super administrators revoked at once: one of them stays.
		if err := grant(bob, adminrole.SuperAdmin); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, id := range []string{a, bob} {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = revoke(id, adminrole.SuperAdmin) }()
		}
		wg.Wait()
		if (results[0] == nil) == (results[1] == nil) {
			t.Fatalf("racing revokes: %v, %v", results[0], results[1])
		}
		for _, err := range results {
			if err != nil && !errors.Is(err, adminrole.ErrLastSuperAdmin) {
				t.Fatalf("racing revoke: %v", err)
			}
		}

		// Grants and the people holding roles, in pages.
		for _, id := range []string{a, bob} {
			if err := grant(id, adminrole.ReadOnlyAdmin); err != nil {
				t.Fatal(err)
			}
		}
		if err := grant(sus, adminrole.AppAdmin); err != nil {
			t.Fatal(err)
		}
		gs, err := s.RoleGrants(ctx, sus)
		if err != nil || len(gs) != 1 || gs[0].Role != adminrole.AppAdmin || !gs[0].Created.Equal(now) {
			t.Fatalf("grants: %v %+v", err, gs)
		}
		// A suspended person holds roles but acts with none.
		if acting, err := s.ActingRoles(ctx, sus); err != nil || len(acting) != 0 {
			t.Fatalf("acting roles of a suspended person: %v %v", err, acting)
		}
		if acting, err := s.ActingRoles(ctx, bob); err != nil || len(acting) == 0 {
			t.Fatalf("acting roles: %v %v", err, acting)
		}
		first, err := s.AdminUsers(ctx, "", 2)
		if err != nil || len(first) != 2 {
			t.Fatalf("first page: %v %v", err, first)
		}
		rest, err := s.AdminUsers(ctx, first[1], 2)
		if err != nil || len(rest) != 1 || rest[0] <= first[1] {
			t.Fatalf("second page: %v %v", err, rest)
		}
	})
}

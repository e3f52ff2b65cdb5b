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

// TestGroupAdminRolesStore: on both databases a group's roles are held by
// its members (with their own, each once), for as long as they are
// members; the people holding roles include them; and the rules of the
// last active super administrator hold for group revokes and for people
// leaving ACTIVE, also when two changes race.
func TestGroupAdminRolesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		src := ids.NewSource(nil)
		now := time.Now().UTC().Truncate(time.Millisecond)
		b := audit.Builder{Now: time.Now, UUID: func() string { return src.New(ids.Event) }}
		dir := db.Directory()
		user := func(login string) string {
			u := &directory.User{ID: src.New(ids.User), Status: directory.Active, Created: now, LastUpdated: now, Profile: directory.Profile{"login": login}}
			if err := dir.Update(ctx, func(tx directory.Tx) error { return tx.InsertUser(u) }); err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		group := func(name string, members ...string) string {
			g := &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: name, Created: now, LastUpdated: now, LastMembershipUpdated: now}
			if err := dir.Update(ctx, func(tx directory.Tx) error {
				if err := tx.InsertGroup(g); err != nil {
					return err
				}
				for _, m := range members {
					if _, err := tx.AddMember(g.ID, m, now); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return g.ID
		}
		s := db.Tokens()
		grantG := func(id, role string) error {
			return s.GrantGroupRole(ctx, id, role, now, b.New(ctx, "group.privilege.grant", "Grant group privilege", audit.Success))
		}
		revokeG := func(id, role string) error {
			return s.RevokeGroupRole(ctx, id, role, b.New(ctx, "group.privilege.revoke", "Revoke group privilege", audit.Success))
		}
		events := func() int {
			evs, _, err := db.Events().Query(ctx, audit.Query{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}
		// leave makes a person SUSPENDED in a transaction that runs the
		// lifecycle rule, as the directory's hook does.
		leave := func(id string) error {
			return dir.Update(ctx, func(tx directory.Tx) error {
				u, err := tx.UserForUpdate(id)
				if err != nil {
					return err
				}
				u.Status = directory.Suspended
				if err := tx.UpdateUser(u); err != nil {
					return err
				}
				return adminrole.CheckLeaves(tx.(adminrole.Tx), id)
			})
		}

		ann, bo, cy, out := user("ann@example.com"), user("bo@example.com"), user("cy@example.com"), user("out@example.com")
		apps := group("apps", ann, bo)
		if err := grantG("00gnosuch", adminrole.AppAdmin); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown group: %v", err)
		}
		if err := grantG(apps, adminrole.AppAdmin); err != nil {
			t.Fatal(err)
		}
		n := events()
		if err := grantG(apps, adminrole.AppAdmin); !errors.Is(err, adminrole.ErrAlreadyAssigned) || events() != n {
			t.Fatalf("duplicate group grant: %v", err)
		}
		if err := revokeG(apps, adminrole.ReadOnlyAdmin); !errs.Is(err, errs.NotFound) {
			t.Fatalf("revoke a role the group does not hold: %v", err)
		}
		// ann also holds APP_ADMIN in her own name, and READ_ONLY_ADMIN.
		for _, r := range []string{adminrole.AppAdmin, adminrole.ReadOnlyAdmin} {
			if err := s.GrantRole(ctx, ann, r, now, b.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success)); err != nil {
				t.Fatal(err)
			}
		}
		if roles, err := s.AdminRoles(ctx, ann); err != nil || len(roles) != 2 || roles[0] != adminrole.AppAdmin || roles[1] != adminrole.ReadOnlyAdmin {
			t.Fatalf("ann's roles: %v %v", err, roles)
		}
		if roles, err := s.AdminRoles(ctx, bo); err != nil || len(roles) != 1 || roles[0] != adminrole.AppAdmin {
			t.Fatalf("bo's roles through the group: %v %v", err, roles)
		}
		if roles, _ := s.AdminRoles(ctx, out); len(roles) != 0 {
			t.Fatalf("a non-member's roles: %v", roles)
		}
		gs, err := s.RoleGrants(ctx, ann)
		if err != nil || len(gs) != 3 || gs[0].GroupID != "" || gs[1].GroupID != "" || gs[2].GroupID != apps || gs[2].Role != adminrole.AppAdmin || !gs[2].Created.Equal(now) {
			t.Fatalf("ann's grants: %v %+v", err, gs)
		}
		if gs[2].ID() == gs[0].ID() || gs[2].ID() != adminrole.GroupAssignmentID(apps, adminrole.AppAdmin) {
			t.Fatalf("assignment ids: %+v", gs)
		}
		users, err := s.AdminUsers(ctx, "", 10)
		if err != nil || len(users) != 2 {
			t.Fatalf("people holding roles (ann once): %v %v", err, users)
		}
		// Leaving the group takes its role at once.
		if err := dir.Update(ctx, func(tx directory.Tx) error { _, err := tx.RemoveMember(apps, bo, now); return err }); err != nil {
			t.Fatal(err)
		}
		if roles, _ := s.AdminRoles(ctx, bo); len(roles) != 0 {
			t.Fatalf("bo's roles after leaving: %v", roles)
		}
		if acting, _ := s.ActingRoles(ctx, ann); len(acting) != 2 {
			t.Fatalf("ann's acting roles: %v", acting)
		}

		// Two groups hold SUPER_ADMIN and nobody holds it in their own
		// name: revoking both at once leaves one.
		g1, g2 := group("supers 1", bo), group("supers 2", cy)
		for _, g := range []string{g1, g2} {
			if err := grantG(g, adminrole.SuperAdmin); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, g := range []string{g1, g2} {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = revokeG(g, adminrole.SuperAdmin) }()
		}
		wg.Wait()
		if (results[0] == nil) == (results[1] == nil) {
			t.Fatalf("racing group revokes: %v, %v", results[0], results[1])
		}
		for _, err := range results {
			if err != nil && !errors.Is(err, adminrole.ErrLastSuperAdminGroup) {
				t.Fatalf("racing group revoke: %v", err)
			}
		}
		// The last holder through a group cannot leave ACTIVE either.
		last := bo
		if results[0] == nil {
			last = cy
		}
		if err := leave(last); !errors.Is(err, adminrole.ErrLastSuperAdminLeaves) {
			t.Fatalf("the last super admin (through a group) leaves: %v", err)
		}
		// ann and out hold it in their own name: they may not both leave
		// at once, and the group's holder does not count for them.
		for _, id := range []string{ann, out} {
			if err := s.GrantRole(ctx, id, adminrole.SuperAdmin, now, b.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success)); err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range []string{ann, out} {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = leave(id) }()
		}
		wg.Wait()
		if (results[0] == nil) == (results[1] == nil) {
			t.Fatalf("racing departures: %v, %v", results[0], results[1])
		}
		for _, err := range results {
			if err != nil && !errors.Is(err, adminrole.ErrLastSuperAdminLeaves) {
				t.Fatalf("racing departure: %v", err)
			}
		}
		// The group's holder may leave now.
		if err := leave(last); err != nil {
			t.Fatalf("a group-held super admin leaves while another holds it in their own name: %v", err)
		}
	})
}

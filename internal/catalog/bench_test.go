package catalog_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

// BenchmarkSigningKeys is what the SAML layer pays per response to get the
// signing key (two indexed reads on SQLite; parsing is cached).
func BenchmarkSigningKeys(b *testing.B) {
	e := newEnv(b)
	a, err := e.svc.CreateApp(context.Background(), catalog.AppInput{Name: "amazon_aws"}, catalog.CreateOptions{Activate: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := e.svc.SigningKeys(ctx, a.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssignment resolves a user's effective assignment through a
// group (SAML sign-in path): app, user, direct and group reads.
func BenchmarkAssignment(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	g := e.group(b, "Agents")
	u := e.user(b, "bench@example.com", g)
	a, err := e.svc.CreateApp(ctx, catalog.AppInput{Name: "amazon_connect"}, catalog.CreateOptions{Activate: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.svc.AssignGroup(ctx, a.ID, g.ID, catalog.AssignGroupInput{Profile: map[string]any{"samlRoles": []any{"Agent"}}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		as, err := e.svc.Assignment(ctx, a.ID, u.ID)
		if err != nil || as.Scope != catalog.ScopeGroup {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateUpdate measures a full app replacement: validation
// (expressions compiled, cached after the first time) and the write.
func BenchmarkValidateUpdate(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	a, err := e.svc.CreateApp(ctx, catalog.AppInput{Label: "Bench", SignOn: goodSignOn()}, catalog.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.svc.UpdateApp(ctx, a.ID, catalog.AppInput{SignOn: goodSignOn()}); err != nil {
			b.Fatal(err)
		}
	}
}

package awsapp

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// appsFailing is a catalog store whose App reads fail with err.
type appsFailing struct {
	catalog.Store
	err error
}

func (s appsFailing) App(context.Context, string) (*catalog.App, error) { return nil, s.err }

// TestConnectClientCredentialErrors: an app without API credentials fails
// its jobs at once (an administrator must enter them), but a failed read of
// the stored credentials is retried: it must not fail a job for good.
func TestConnectClientCredentialErrors(t *testing.T) {
	ctx := context.Background()
	a := &catalog.App{ID: "0oaapp", Name: Connect, Settings: catalog.Settings{App: map[string]any{
		"region": "eu-west-2", "instanceId": "11111111-2222-3333-4444-555555555555", "accountId": "123456789012"}}}
	if _, err := Settings(a); err != nil {
		t.Fatalf("test app settings: %v", err)
	}
	var perm *provisioning.PermanentError

	in := &Integration{Catalog: &catalog.Service{Store: appsFailing{err: errors.New("sql: statement is closed")}}}
	_, err := in.connectClient(ctx, a, ProvisioningSettings{})
	if err == nil || errors.As(err, &perm) {
		t.Fatalf("a failed read of the credentials: %v (permanent: %v)", err, errors.As(err, &perm))
	}

	in = &Integration{Catalog: &catalog.Service{Store: appsWith{a: a}}}
	_, err = in.connectClient(ctx, a, ProvisioningSettings{})
	if err == nil || !errors.As(err, &perm) {
		t.Fatalf("an app without credentials: %v, want a permanent failure", err)
	}
}

// appsWith is a catalog store that holds one app.
type appsWith struct {
	catalog.Store
	a *catalog.App
}

func (s appsWith) App(context.Context, string) (*catalog.App, error) { return s.a, nil }

// Package trustedorigin implements Okta's Trusted Origins: the web origins
// (scheme://host[:port]) an administrator trusts, each for CORS (a page on
// that origin may call the browser-facing endpoints, such as the
// Authentication API, from JavaScript) and for REDIRECT (Gatehouse may send
// the browser there after sign-in).
//
// The origins are few and read on the requests they govern, so the Cache
// keeps them in memory and checks at every use, with one read of a
// version counter that every change bumps in its own transaction, that
// they are current: a change made on one node governs every node's next
// answer.
package trustedorigin

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// Statuses, as Okta names them.
const (
	Active   = "ACTIVE"
	Inactive = "INACTIVE"
)

// Scope types, as Okta names them. Gatehouse implements CORS and REDIRECT;
// IFRAME_EMBED (framing Okta's pages) is refused, as Gatehouse's pages are
// never framed.
const (
	CORS        = "CORS"
	Redirect    = "REDIRECT"
	IframeEmbed = "IFRAME_EMBED"
)

// Origin is one trusted origin.
type Origin struct {
	ID     string
	Name   string
	Origin string // normalised: lower-case scheme and host, no default port
	Status string
	// Scopes lists the scope types, CORS before REDIRECT, each once.
	Scopes    []string
	Created   time.Time
	CreatedBy string
	Updated   time.Time
	UpdatedBy string
}

// Has reports whether the origin has the scope type.
func (o *Origin) Has(scope string) bool { return slices.Contains(o.Scopes, scope) }

// Store keeps trusted origins. sqlstore implements it on SQLite and
// PostgreSQL.
type Store interface {
	// TrustedOrigins lists every origin in id order (the order of
	// creation: ids are ordered by time).
	TrustedOrigins(ctx context.Context) ([]*Origin, error)
	// TrustedOrigin returns one origin (errs.NotFound when there is none).
	TrustedOrigin(ctx context.Context, id string) (*Origin, error)
	// TrustedOriginsVersion returns a counter that every committed
	// insert, update and delete increases.
	TrustedOriginsVersion(ctx context.Context) (int64, error)
	// UpdateTrustedOrigins runs fn in one transaction.
	UpdateTrustedOrigins(ctx context.Context, fn func(Tx) error) error
}

// Tx changes origins inside a transaction, with the events that record
// the changes. Insert, update and delete bump the version; an insert or
// update whose origin or name another origin has is refused with
// errs.Invalid.
type Tx interface {
	TrustedOriginForUpdate(id string) (*Origin, error)
	InsertTrustedOrigin(o *Origin) error
	UpdateTrustedOrigin(o *Origin) error
	DeleteTrustedOrigin(id string) error
	Append(ev audit.Event) error
}

// Event types, as Okta's System Log names them.
const (
	EventCreate     = "security.trusted_origin.create"
	EventUpdate     = "security.trusted_origin.update"
	EventDelete     = "security.trusted_origin.delete"
	EventActivate   = "security.trusted_origin.activate"
	EventDeactivate = "security.trusted_origin.deactivate"
)

// Target describes an origin as an event target.
func Target(o *Origin) audit.Target {
	return audit.Target{ID: o.ID, Type: "TrustedOrigin", AlternateID: o.Origin, DisplayName: o.Name}
}

package federation

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// Query selects providers for a list.
type Query struct {
	Q     string // prefix of the name
	Type  Type   // only this type, when set
	After string // cursor: the last id of the previous page
	Limit int
}

// Store keeps providers and links. Every write commits with its event.
type Store interface {
	IdP(ctx context.Context, id string) (*IdP, error)
	IdPs(ctx context.Context, q Query) ([]*IdP, error)
	// PutIdP inserts (create) or replaces a provider.
	PutIdP(ctx context.Context, p *IdP, create bool, ev audit.Event) error
	DeleteIdP(ctx context.Context, id string, ev audit.Event) error
	// LinkBySubject finds the link of a provider subject; errs.NotFound
	// when there is none.
	LinkBySubject(ctx context.Context, idpID, externalID string) (*Link, error)
	// Link finds a person's link to a provider; errs.NotFound when none.
	Link(ctx context.Context, idpID, userID string) (*Link, error)
	Links(ctx context.Context, idpID, after string, limit int) ([]*Link, error)
	UserLinks(ctx context.Context, userID string) ([]*Link, error)
	// DeleteLink removes a link; errs.NotFound when there is none.
	DeleteLink(ctx context.Context, idpID, userID string, ev audit.Event) error
	// Append writes an event that records no other change.
	Append(ctx context.Context, ev audit.Event) error
}

// LinkTx is what a directory transaction must also offer for a sign-in to
// write its link atomically with the person's last sign-in and events.
type LinkTx interface {
	PutLink(l *Link) error
}

// Sealer seals the client secret at rest.
type Sealer interface {
	Seal(plaintext []byte, context string) (string, error)
	Open(sealed string, context string) ([]byte, error)
}

// Discoverer reads an OpenID Connect provider's discovery document.
type Discoverer interface {
	Discover(ctx context.Context, issuer string) (Endpoints, error)
}

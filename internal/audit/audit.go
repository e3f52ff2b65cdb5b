// Package audit defines the system-log event, written in the same
// transaction as the change it records, and the query over the log. The
// event follows the shape of Okta's System Log so that existing log tooling
// reads it unchanged.
package audit

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/filter"
)

// Severity values.
const (
	Debug = "DEBUG"
	Info  = "INFO"
	Warn  = "WARN"
	Error = "ERROR"
)

// Outcome results.
const (
	Success = "SUCCESS"
	Failure = "FAILURE"
	Skipped = "SKIPPED"
	Allow   = "ALLOW"
	Deny    = "DENY"
	Unknown = "UNKNOWN"
)

// Actor is who performed the action.
type Actor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// Target is what the action touched.
type Target struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// Client is where the request came from.
type Client struct {
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
}

// Outcome is the result of the action.
type Outcome struct {
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
}

// Event is one system-log entry.
type Event struct {
	UUID           string            `json:"uuid"`
	Published      time.Time         `json:"published"`
	EventType      string            `json:"eventType"`
	Version        string            `json:"version"`
	Severity       string            `json:"severity"`
	DisplayMessage string            `json:"displayMessage"`
	Actor          Actor             `json:"actor"`
	Client         Client            `json:"client"`
	Outcome        Outcome           `json:"outcome"`
	Target         []Target          `json:"target"`
	TransactionID  string            `json:"transactionId"`
	Debug          map[string]string `json:"debugData,omitempty"`
}

// Query selects events. Filter uses the Okta filter grammar over eventType,
// severity, actor.id, actor.alternateId, target.id, outcome.result,
// client.ipAddress and displayMessage.
type Query struct {
	Since, Until time.Time
	Filter       filter.Expr
	Q            string // space-separated terms, all must appear
	Limit        int
	After        string // opaque cursor
	Descending   bool
	// Polling asks for commit order, in which a cursor never passes over
	// an event that commits later, and for the cursor after the last
	// returned event even when no more events follow yet (Okta's polling
	// requests, whose next link is always present); an empty page then
	// has no cursor. Without it events are in published order.
	Polling bool
}

// Request carries who is acting, from where, and the transaction id, for the
// events a request writes. It rides the request context; it is data, not a
// service.
type Request struct {
	Actor         Actor
	Client        Client
	TransactionID string
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// FromContext returns the request attached to ctx, or a system actor.
func FromContext(ctx context.Context) Request {
	if r, ok := ctx.Value(requestKey{}).(Request); ok {
		return r
	}
	return Request{Actor: Actor{ID: "system", Type: "SystemPrincipal", AlternateID: "system", DisplayName: "Gatehouse"}}
}

// UserTarget describes a user as an event target.
func UserTarget(id, login, name string) Target {
	return Target{ID: id, Type: "User", AlternateID: login, DisplayName: name}
}

// GroupTarget describes a group as an event target.
func GroupTarget(id, name string) Target {
	return Target{ID: id, Type: "UserGroup", AlternateID: "unknown", DisplayName: name}
}

// AppTarget describes an app instance as an event target.
func AppTarget(id, name, label string) Target {
	return Target{ID: id, Type: "AppInstance", AlternateID: label, DisplayName: name}
}

// Builder makes events with uuid and clock supplied.
type Builder struct {
	Now  func() time.Time
	UUID func() string
}

// New starts an event of the given type for the request in ctx.
func (b Builder) New(ctx context.Context, eventType, display string, outcome string, targets ...Target) Event {
	r := FromContext(ctx)
	sev := Info
	if outcome == Failure || outcome == Deny {
		sev = Warn
	}
	if targets == nil {
		targets = []Target{}
	}
	return Event{
		UUID:           b.UUID(),
		Published:      b.Now().UTC(),
		EventType:      eventType,
		Version:        "0",
		Severity:       sev,
		DisplayMessage: display,
		Actor:          r.Actor,
		Client:         r.Client,
		Outcome:        Outcome{Result: outcome},
		Target:         targets,
		TransactionID:  r.TransactionID,
	}
}

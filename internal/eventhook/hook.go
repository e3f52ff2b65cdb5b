// Package eventhook implements Okta's Event Hooks: an administrator
// registers an HTTPS endpoint and the System Log event types it wants,
// Gatehouse verifies that the endpoint answers its one-time challenge, and
// from then on every committed event of those types is POSTed to it,
// batched, in Okta's com.okta.event_hook payload.
//
// Delivery is durable: the transaction that inserts an event also
// enqueues, in the jobs table (internal/provisioning), a delivery job for
// each active, verified hook subscribed to the event's type (sqlstore asks
// the Registry, which holds the subscriptions in memory, so a transaction
// whose events no hook takes pays nothing). The provisioning runner then
// delivers the job with retries and backoff, and records a final failure
// in the System Log as event_hook.delivery. A crash loses nothing: the job
// is committed with its events, and a commit never waits for the network.
package eventhook

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// Statuses, as Okta names them.
const (
	Active     = "ACTIVE"
	Inactive   = "INACTIVE"
	Verified   = "VERIFIED"
	Unverified = "UNVERIFIED"
)

// Header is one extra request header sent with every call.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Hook is one registered event hook.
type Hook struct {
	ID                 string
	Name               string
	Description        *string
	Status             string
	VerificationStatus string
	URI                string
	Headers            []Header
	// AuthKey names the header that carries the secret (Okta's
	// authScheme of type HEADER); empty when the hook has none.
	AuthKey string
	// AuthSealed is the secret header value sealed by keys.Sealer with
	// the context SealContext(ID); it is never rendered.
	AuthSealed string
	Events     []string
	// Filter is Okta's events.filter: a condition per event type; nil
	// when the hook has none.
	Filter    *Filter
	CreatedBy string
	Created   time.Time
	Updated   time.Time
}

// FilterType is the one type of event hook filter Okta defines.
const FilterType = "EXPRESSION_LANGUAGE"

// Filter is an event hook's filter (Okta's EventHookFilters): events of a
// type that has a condition are delivered only when it is true; events of
// the other subscribed types are delivered as without a filter.
type Filter struct {
	Type string            `json:"type"`
	Map  []FilterCondition `json:"eventFilterMap"`
}

// FilterCondition is the condition of one event type (Okta's
// eventFilterMap item).
type FilterCondition struct {
	Event      string `json:"event"`
	Expression string `json:"expression"`
}

// Delivers reports whether the hook receives events: Okta delivers only to
// active, verified hooks.
func (h *Hook) Delivers() bool { return h.Status == Active && h.VerificationStatus == Verified }

// SealContext binds a hook's sealed secret to the hook.
func SealContext(id string) string { return "eventhook:" + id + ":authScheme" }

// Store keeps event hooks. sqlstore implements it on SQLite and
// PostgreSQL.
type Store interface {
	// EventHooks lists every hook, oldest first.
	EventHooks(ctx context.Context) ([]*Hook, error)
	// EventHook returns one hook (errs.NotFound when there is none).
	EventHook(ctx context.Context, id string) (*Hook, error)
	// UpdateEventHooks runs fn in one transaction.
	UpdateEventHooks(ctx context.Context, fn func(Tx) error) error
}

// Tx changes hooks inside a transaction, with the events that record the
// changes.
type Tx interface {
	EventHookForUpdate(id string) (*Hook, error)
	InsertEventHook(h *Hook) error
	UpdateEventHook(h *Hook) error
	DeleteEventHook(id string) error
	Append(ev audit.Event) error
}

// MaxHooks is the most hooks an org has, as Okta's limit of active,
// verified event hooks.
const MaxHooks = 25

// eligible lists the System Log event types Gatehouse writes that a hook
// may subscribe to (Okta's "event-hook-eligible" types among those
// Gatehouse emits). The event_hook.* events are left out, as Okta does:
// a failed delivery is recorded as event_hook.delivery, and a hook that
// took that event would feed its own failures back to itself.
var eligible = []string{
	"app.generic.unauth_app_access_attempt",
	"app.keys.delete",
	"app.keys.generate",
	"app.keys.rotate",
	"application.group_membership.add",
	"application.group_membership.remove",
	"application.group_membership.update",
	"application.lifecycle.activate",
	"application.lifecycle.create",
	"application.lifecycle.deactivate",
	"application.lifecycle.delete",
	"application.lifecycle.update",
	"application.policy.sign_on.update",
	"application.provision.settings.update",
	"application.provision.user.deactivate",
	"application.provision.user.push",
	"application.provision.user.push_profile",
	"application.provision.user.sync",
	"application.user_membership.add",
	"application.user_membership.change_username",
	"application.user_membership.remove",
	"application.user_membership.update",
	"group.lifecycle.create",
	"group.lifecycle.delete",
	"group.privilege.grant",
	"group.privilege.revoke",
	"group.profile.update",
	"group.user_membership.add",
	"group.user_membership.remove",
	"group.user_membership.rule.add_exclusion",
	"group.user_membership.rule.deactivated",
	"group.user_membership.rule.error",
	"group.user_membership.rule.evaluation",
	"group.user_membership.rule.invalidate",
	"policy.evaluate_sign_on",
	"policy.lifecycle.activate",
	"policy.lifecycle.create",
	"policy.lifecycle.deactivate",
	"policy.lifecycle.delete",
	"policy.lifecycle.update",
	"policy.rule.activate",
	"policy.rule.add",
	"policy.rule.deactivate",
	"policy.rule.delete",
	"policy.rule.update",
	"security.trusted_origin.activate",
	"security.trusted_origin.create",
	"security.trusted_origin.deactivate",
	"security.trusted_origin.delete",
	"security.trusted_origin.update",
	"system.api_token.create",
	"system.api_token.revoke",
	"system.email.delivery",
	"system.email.password_reset.sent_message",
	"system.idp.lifecycle.activate",
	"system.idp.lifecycle.create",
	"system.idp.lifecycle.deactivate",
	"system.idp.lifecycle.delete",
	"system.idp.lifecycle.update",
	"system.schema.user.update",
	"user.account.expire_password",
	"user.account.lock",
	"user.account.privilege.grant",
	"user.account.privilege.revoke",
	"user.account.reset_password",
	"user.account.unlock",
	"user.account.update_password",
	"user.account.update_profile",
	"user.authentication.auth_via_mfa",
	"user.authentication.sso",
	"user.identity_provider.link",
	"user.identity_provider.unlink",
	"user.lifecycle.activate",
	"user.lifecycle.create",
	"user.lifecycle.deactivate",
	"user.lifecycle.delete.completed",
	"user.lifecycle.reactivate",
	"user.lifecycle.suspend",
	"user.lifecycle.unsuspend",
	"user.mfa.attempt_bypass",
	"user.mfa.factor.activate",
	"user.mfa.factor.deactivate",
	"user.mfa.factor.reset_all",
	"user.mfa.factor.update",
	"user.session.clear",
	"user.session.end",
	"user.session.start",
}

// Eligible reports whether a hook may subscribe to the event type.
func Eligible(eventType string) bool {
	_, ok := slices.BinarySearch(eligible, eventType)
	return ok
}

// EligibleTypes returns the event types a hook may subscribe to, sorted.
func EligibleTypes() []string { return slices.Clone(eligible) }

// Event types of the hooks' own lifecycle, after Okta's.
const (
	EventCreated     = "event_hook.created"
	EventUpdated     = "event_hook.updated"
	EventActivated   = "event_hook.activated"
	EventDeactivated = "event_hook.deactivated"
	EventDeleted     = "event_hook.deleted"
	EventVerified    = "event_hook.verified"
	EventDelivery    = "event_hook.delivery"
)

// Target describes a hook as an event target.
func Target(h *Hook) audit.Target {
	return audit.Target{ID: h.ID, Type: "EventHook", AlternateID: h.URI, DisplayName: h.Name}
}

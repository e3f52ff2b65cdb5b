package eventhook

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Sealer seals and opens secrets (keys.Sealer).
type Sealer interface {
	Seal(plaintext []byte, context string) (string, error)
	Open(sealed string, context string) ([]byte, error)
}

// Service manages hooks: Okta's Event Hooks Management API.
type Service struct {
	Store    Store
	Sealer   Sealer
	Sender   *Sender
	Registry *Registry
	IDs      *ids.Source
	Now      func() time.Time
	Events   audit.Builder
	// AllowHTTP accepts http:// URIs (the event_hook_allow_http
	// setting); otherwise a hook's URI must be https.
	AllowHTTP bool
}

// Input is a hook as a create or replace request states it.
type Input struct {
	Name        string
	Description *string
	// EventsType is events.type (EVENT_TYPE); Events its items.
	EventsType string
	Events     []string
	// Filter is events.filter; nil for none.
	Filter         *Filter
	ChannelType    string
	ChannelVersion string
	Method         string
	URI            string
	Headers        []Header
	// Auth is true when the request has a channel.config.authScheme.
	Auth      bool
	AuthType  string
	AuthKey   string
	AuthValue *string
}

// reserved names headers a hook may not set: the request's own and the
// challenge.
var reserved = []string{"content-type", "content-length", "host", "transfer-encoding", "connection", "accept", "user-agent",
	"x-okta-verification-challenge", "te", "trailer", "upgrade", "expect", "keep-alive", "proxy-authorization"}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if c > 126 || c <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	return len(s) <= 4096 && !strings.ContainsAny(s, "\r\n\x00")
}

// validate checks in and returns every problem at once.
func (s *Service) validate(in *Input, old *Hook) error {
	var fe []errs.FieldError
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 255 {
		fe = append(fe, errs.Field("name", "name: required, at most 255 characters"))
	}
	if in.Description != nil && len(*in.Description) > 1024 {
		fe = append(fe, errs.Field("description", "description: at most 1024 characters"))
	}
	if in.EventsType != "EVENT_TYPE" {
		fe = append(fe, errs.Field("events.type", "events.type: must be EVENT_TYPE"))
	}
	if len(in.Events) == 0 {
		fe = append(fe, errs.Field("events.items", "events.items: at least one event type is required"))
	}
	var items []string
	for _, t := range in.Events {
		if !Eligible(t) {
			fe = append(fe, errs.Field("events.items", "events.items: %q is not an event type an event hook can subscribe to", t))
			continue
		}
		if !slices.Contains(items, t) {
			items = append(items, t)
		}
	}
	in.Events = items
	fe = append(fe, checkFilter(in, items)...)
	if in.ChannelType != "HTTP" {
		fe = append(fe, errs.Field("channel.type", "channel.type: must be HTTP"))
	}
	if in.ChannelVersion != "1.0.0" {
		fe = append(fe, errs.Field("channel.version", "channel.version: must be 1.0.0"))
	}
	if in.Method != "" && in.Method != "POST" {
		fe = append(fe, errs.Field("channel.config.method", "channel.config.method: must be POST"))
	}
	if msg := s.checkURI(in.URI); msg != "" {
		fe = append(fe, errs.Field("channel.config.uri", "channel.config.uri: %s", msg))
	}
	seen := map[string]bool{}
	if len(in.Headers) > 10 {
		fe = append(fe, errs.Field("channel.config.headers", "channel.config.headers: at most 10 headers"))
	}
	for _, h := range in.Headers {
		k := strings.ToLower(h.Key)
		switch {
		case !validHeaderName(h.Key):
			fe = append(fe, errs.Field("channel.config.headers", "channel.config.headers: %q is not a header name", h.Key))
		case slices.Contains(reserved, k):
			fe = append(fe, errs.Field("channel.config.headers", "channel.config.headers: %s is set by Gatehouse", h.Key))
		case seen[k]:
			fe = append(fe, errs.Field("channel.config.headers", "channel.config.headers: %s is given twice", h.Key))
		case !validHeaderValue(h.Value):
			fe = append(fe, errs.Field("channel.config.headers", "channel.config.headers: the value of %s holds a line break or is too long", h.Key))
		}
		seen[k] = true
	}
	if in.Auth {
		k := strings.ToLower(in.AuthKey)
		switch {
		case in.AuthType != "HEADER":
			fe = append(fe, errs.Field("channel.config.authScheme.type", "channel.config.authScheme.type: must be HEADER"))
		case !validHeaderName(in.AuthKey):
			fe = append(fe, errs.Field("channel.config.authScheme.key", "channel.config.authScheme.key: a header name is required"))
		case slices.Contains(reserved, k):
			fe = append(fe, errs.Field("channel.config.authScheme.key", "channel.config.authScheme.key: %s is set by Gatehouse", in.AuthKey))
		case seen[k]:
			fe = append(fe, errs.Field("channel.config.authScheme.key", "channel.config.authScheme.key: %s is also in headers", in.AuthKey))
		}
		switch {
		case in.AuthValue != nil && (*in.AuthValue == "" || !validHeaderValue(*in.AuthValue)):
			fe = append(fe, errs.Field("channel.config.authScheme.value", "channel.config.authScheme.value: required, one line"))
		case in.AuthValue == nil && (old == nil || old.AuthSealed == ""):
			fe = append(fe, errs.Field("channel.config.authScheme.value", "channel.config.authScheme.value: required"))
		case in.AuthValue == nil && (old.URI != in.URI || !strings.EqualFold(old.AuthKey, in.AuthKey)):
			// A replace may leave the secret out (it is never returned)
			// only while it goes to the same header of the same URI.
			fe = append(fe, errs.Field("channel.config.authScheme.value", "channel.config.authScheme.value: required (with a new uri or key, the secret must be given again)"))
		}
	}
	if len(fe) > 0 {
		return errs.InvalidFields("Api validation failed: eventHook", fe...)
	}
	return nil
}

// checkFilter checks events.filter: its type, one condition per subscribed
// event type, and each condition's expression (compiled, so that an error
// is reported with its position now and evaluation cannot fail later). An
// empty eventFilterMap is no filter.
func checkFilter(in *Input, items []string) []errs.FieldError {
	f := in.Filter
	if f == nil {
		return nil
	}
	var fe []errs.FieldError
	if f.Type != FilterType {
		fe = append(fe, errs.Field("events.filter", "events.filter.type: must be %s", FilterType))
	}
	if len(f.Map) == 0 {
		in.Filter = nil
		return fe
	}
	seen := map[string]bool{}
	for i, c := range f.Map {
		at := fmt.Sprintf("events.filter.eventFilterMap[%d]", i)
		switch {
		case !slices.Contains(items, c.Event):
			fe = append(fe, errs.Field("events.filter", "%s.event: %q is not one of events.items", at, c.Event))
		case seen[c.Event]:
			fe = append(fe, errs.Field("events.filter", "%s.event: %s has a condition already (one per event type)", at, c.Event))
		}
		seen[c.Event] = true
		if _, err := expr.CompileEventFilter(c.Expression); err != nil {
			fe = append(fe, errs.Field("events.filter", "%s.condition.expression: %s", at, err.Error()))
		}
	}
	return fe
}

// checkURI returns what is wrong with a hook's URI, or "".
func (s *Service) checkURI(raw string) string {
	if raw == "" || len(raw) > 1024 {
		return "an https URI of at most 1024 characters is required"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https URI"
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.AllowHTTP:
	case u.Scheme == "http":
		return "must be https (http is allowed only with the server setting event_hook_allow_http)"
	default:
		return "must be an https URI"
	}
	if u.User != nil {
		return "must not hold a user name or password (use authScheme)"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not have a fragment"
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && (ip.IsUnspecified() || ip.IsMulticast()) {
		return "must name a reachable host"
	}
	return ""
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) seal(id string, value *string) (string, error) {
	if value == nil {
		return "", nil
	}
	return s.Sealer.Seal([]byte(*value), SealContext(id))
}

// Check validates in as Create (id "") or Replace of the hook id would,
// changing nothing: the console adds what it says to its own form errors.
func (s *Service) Check(ctx context.Context, id string, in Input) error {
	var old *Hook
	if id != "" {
		h, err := s.Store.EventHook(ctx, id)
		if err != nil {
			return err
		}
		old = h
	}
	return s.validate(&in, old)
}

// Create registers a hook, ACTIVE and UNVERIFIED, as Okta does.
func (s *Service) Create(ctx context.Context, in Input) (*Hook, error) {
	if err := s.validate(&in, nil); err != nil {
		return nil, err
	}
	if all, err := s.Store.EventHooks(ctx); err != nil {
		return nil, err
	} else if len(all) >= MaxHooks {
		return nil, errs.InvalidFields("Api validation failed: eventHook", errs.Field("eventHook", "eventHook: an org has at most %d event hooks", MaxHooks))
	}
	now := s.now()
	h := &Hook{ID: s.IDs.New(ids.EventHook), Name: in.Name, Description: in.Description, Status: Active, VerificationStatus: Unverified,
		URI: in.URI, Headers: in.Headers, Events: in.Events, Filter: in.Filter, CreatedBy: audit.FromContext(ctx).Actor.ID, Created: now, Updated: now}
	if in.Auth {
		h.AuthKey = in.AuthKey
		sealed, err := s.seal(h.ID, in.AuthValue)
		if err != nil {
			return nil, err
		}
		h.AuthSealed = sealed
	}
	err := s.Store.UpdateEventHooks(ctx, func(tx Tx) error {
		if err := tx.InsertEventHook(h); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventCreated, "Create event hook", audit.Success, Target(h)))
	})
	if err != nil {
		return nil, err
	}
	return h, s.changed(ctx)
}

// changed reloads this node's subscriptions after a change.
func (s *Service) changed(ctx context.Context) error {
	if s.Registry == nil {
		return nil
	}
	return s.Registry.Refresh(context.WithoutCancel(ctx))
}

// Replace replaces a hook's settings; a change to its channel (URI,
// headers or secret) makes it UNVERIFIED again, as Okta does. Its status
// is kept.
func (s *Service) Replace(ctx context.Context, id string, in Input) (*Hook, error) {
	old, err := s.Store.EventHook(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.validate(&in, old); err != nil {
		return nil, err
	}
	var out *Hook
	err = s.Store.UpdateEventHooks(ctx, func(tx Tx) error {
		h, err := tx.EventHookForUpdate(id)
		if err != nil {
			return err
		}
		if h.URI != old.URI || h.AuthKey != old.AuthKey || h.AuthSealed != old.AuthSealed {
			return errs.Conflictf("The event hook changed while it was being replaced; reload and try again.")
		}
		channel := h.URI != in.URI || !slices.Equal(h.Headers, in.Headers) || !in.Auth && h.AuthKey != "" ||
			in.Auth && (!strings.EqualFold(h.AuthKey, in.AuthKey) || in.AuthValue != nil)
		h.Name, h.Description, h.URI, h.Headers, h.Events, h.Filter = in.Name, in.Description, in.URI, in.Headers, in.Events, in.Filter
		switch {
		case !in.Auth:
			h.AuthKey, h.AuthSealed = "", ""
		case in.AuthValue != nil:
			sealed, err := s.seal(h.ID, in.AuthValue)
			if err != nil {
				return err
			}
			h.AuthKey, h.AuthSealed = in.AuthKey, sealed
		default:
			h.AuthKey = in.AuthKey
		}
		if channel {
			h.VerificationStatus = Unverified
		}
		h.Updated = s.now()
		if err := tx.UpdateEventHook(h); err != nil {
			return err
		}
		out = h
		return tx.Append(s.Events.New(ctx, EventUpdated, "Update event hook", audit.Success, Target(h)))
	})
	if err != nil {
		return nil, err
	}
	return out, s.changed(ctx)
}

// SetStatus activates or deactivates a hook; setting the status it has
// changes nothing.
func (s *Service) SetStatus(ctx context.Context, id, status string) (*Hook, error) {
	var out *Hook
	changed := false
	err := s.Store.UpdateEventHooks(ctx, func(tx Tx) error {
		h, err := tx.EventHookForUpdate(id)
		if err != nil {
			return err
		}
		out = h
		if h.Status == status {
			return nil
		}
		h.Status, h.Updated, changed = status, s.now(), true
		if err := tx.UpdateEventHook(h); err != nil {
			return err
		}
		typ, msg := EventActivated, "Activate event hook"
		if status == Inactive {
			typ, msg = EventDeactivated, "Deactivate event hook"
		}
		return tx.Append(s.Events.New(ctx, typ, msg, audit.Success, Target(h)))
	})
	if err != nil || !changed {
		return out, err
	}
	return out, s.changed(ctx)
}

// Delete removes an INACTIVE hook (Okta's safety precaution: an active
// hook is refused). Its pending deliveries find no hook and end.
func (s *Service) Delete(ctx context.Context, id string) error {
	err := s.Store.UpdateEventHooks(ctx, func(tx Tx) error {
		h, err := tx.EventHookForUpdate(id)
		if err != nil {
			return err
		}
		if h.Status != Inactive {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000001",
				Msg:    "Api validation failed: eventHook",
				Fields: []errs.FieldError{errs.Field("status", "status: only an INACTIVE event hook can be deleted; deactivate it first")}}
		}
		if err := tx.DeleteEventHook(id); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventDeleted, "Delete event hook", audit.Success, Target(h)))
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Secret opens a hook's secret header value ("" when it has none).
func (s *Service) Secret(h *Hook) (string, error) {
	return openSecret(s.Sealer, h)
}

func openSecret(sealer Sealer, h *Hook) (string, error) {
	if h.AuthSealed == "" {
		return "", nil
	}
	b, err := sealer.Open(h.AuthSealed, SealContext(h.ID))
	if err != nil {
		return "", fmt.Errorf("open the secret of event hook %s: %w", h.ID, err)
	}
	return string(b), nil
}

// Verify sends the one-time verification request to the hook's URI (with
// one retry after a failure, as Okta) and marks the hook VERIFIED when the
// endpoint repeats the challenge. On failure the hook is unchanged and
// the error says why.
func (s *Service) Verify(ctx context.Context, id string) (*Hook, error) {
	h, err := s.Store.EventHook(ctx, id)
	if err != nil {
		return nil, err
	}
	secret, err := s.Secret(h)
	if err != nil {
		return nil, err
	}
	challenge := s.IDs.Secret(32)
	err = s.Sender.Challenge(ctx, h, secret, challenge)
	if err != nil && ctx.Err() == nil {
		var ce *CallError
		if !errors.As(err, &ce) || ce.Retryable() {
			err = s.Sender.Challenge(ctx, h, secret, challenge)
		}
	}
	if err != nil {
		return nil, &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: eventHook",
			Fields: []errs.FieldError{errs.Field("verification", "verification: the event hook's endpoint did not answer the verification request: %s", err.Error())}, Err: err}
	}
	var out *Hook
	err = s.Store.UpdateEventHooks(ctx, func(tx Tx) error {
		cur, err := tx.EventHookForUpdate(id)
		if err != nil {
			return err
		}
		if cur.URI != h.URI || cur.AuthSealed != h.AuthSealed || !slices.Equal(cur.Headers, h.Headers) {
			return errs.Conflictf("The event hook's channel changed while it was being verified; verify it again.")
		}
		out = cur
		if cur.VerificationStatus == Verified {
			return nil
		}
		cur.VerificationStatus, cur.Updated = Verified, s.now()
		if err := tx.UpdateEventHook(cur); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventVerified, "Verify event hook", audit.Success, Target(cur)))
	})
	if err != nil {
		return nil, err
	}
	return out, s.changed(ctx)
}

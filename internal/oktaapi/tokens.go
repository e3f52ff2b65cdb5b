package oktaapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
)

func (a *API) mountTokens(m *Mux) {
	m.Handle("GET /api/v1/api-tokens", WriteAccess, a.listTokens)
	m.Handle("POST /api/v1/api-tokens", WriteAccess, a.createToken)
	m.Handle("GET /api/v1/api-tokens/{id}", WriteAccess, a.getToken)
	m.Handle("DELETE /api/v1/api-tokens/{id}", WriteAccess, a.revokeToken)
	m.Handle("DELETE /api/v1/api-tokens/current", ReadAccess, a.revokeCurrent)
}

// TokenJSON renders a token without its value.
func (a *API) TokenJSON(t *sqlstore.APIToken) map[string]any {
	return map[string]any{
		"id":          t.ID,
		"name":        t.Name,
		"userId":      t.UserID,
		"clientName":  "Gatehouse",
		"tokenWindow": isoDuration(a.TokenWindow),
		"created":     Time(t.Created),
		"lastUpdated": Time(t.Created),
		"expiresAt":   TimePtr(a.tokenExpiry(t)),
		"_link":       map[string]any{"self": a.Href("/api/v1/api-tokens/%s", t.ID)},
	}
}

// TokenPrefix starts every API token value, so that secret scanners can
// recognise leaked tokens.
const TokenPrefix = "ghs_"

// NewToken makes a new token value, stores only its hash, and logs the
// creation. It serves both the API and the command line.
func NewToken(ctx context.Context, store Tokens, src *ids.Source, now time.Time, events audit.Builder, name, userID, role string) (string, *sqlstore.APIToken, error) {
	value := TokenPrefix + src.Secret(40)
	t := &sqlstore.APIToken{ID: src.New(ids.Token), Name: name, Hash: HashToken(value), UserID: userID, Role: role, Created: now.UTC().Truncate(time.Millisecond)}
	ev := events.New(ctx, "system.api_token.create", "Create API token", audit.Success,
		audit.Target{ID: t.ID, Type: "Token", AlternateID: name, DisplayName: name})
	if err := store.Create(ctx, t, ev); err != nil {
		return "", nil, err
	}
	return value, t, nil
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := DecodeStrict(r, &in, []string{"name", "role"}); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	var fe []errs.FieldError
	if in.Name == "" || len(in.Name) > 128 {
		fe = append(fe, errs.Field("name", "name: must be 1 to 128 characters"))
	}
	if in.Role == "" {
		in.Role = RoleSuperAdmin
	}
	switch in.Role {
	case RoleSuperAdmin, RoleReadOnlyAdmin, RoleAppAdmin:
	default:
		fe = append(fe, errs.Field("role", "role: must be SUPER_ADMIN, READ_ONLY_ADMIN or APP_ADMIN"))
	}
	if fe != nil {
		return errs.InvalidFields("Api validation failed: token", fe...)
	}
	p := PrincipalFrom(r.Context())
	value, tok, err := NewToken(r.Context(), a.Tokens, a.IDs, a.Now(), audit.Builder{Now: a.Now, UUID: func() string { return a.IDs.New(ids.Event) }}, in.Name, p.UserID, in.Role)
	if err != nil {
		return err
	}
	out := a.TokenJSON(tok)
	out["tokenValue"] = value
	return WriteJSON(w, out)
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		out[i] = a.TokenJSON(t)
	}
	return WriteJSON(w, out)
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Tokens.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.Revoked != nil {
		return errs.NotFoundf("Not found: Resource not found: %s (ApiToken)", t.ID)
	}
	return WriteJSON(w, a.TokenJSON(t))
}

func (a *API) revoke(r *http.Request, id string) error {
	ev := audit.Builder{Now: a.Now, UUID: func() string { return a.IDs.New(ids.Event) }}.New(r.Context(), "system.api_token.revoke", "Revoke API token", audit.Success,
		audit.Target{ID: id, Type: "Token", AlternateID: id, DisplayName: "API token"})
	return a.Tokens.Revoke(r.Context(), id, a.Now(), ev)
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.revoke(r, r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (a *API) revokeCurrent(w http.ResponseWriter, r *http.Request) error {
	if err := a.revoke(r, PrincipalFrom(r.Context()).TokenID); err != nil {
		return err
	}
	return NoContent(w)
}

// tokenExpiry is when a token stops working: TokenWindow after its last
// use (or its creation), or its fixed expiry if that comes first; nil for
// never.
func (a *API) tokenExpiry(t *sqlstore.APIToken) *time.Time {
	exp := t.ExpiresAt
	if a.TokenWindow > 0 {
		last := t.Created
		if t.LastUsed != nil && t.LastUsed.After(last) {
			last = *t.LastUsed
		}
		idle := last.Add(a.TokenWindow)
		if exp == nil || idle.Before(*exp) {
			exp = &idle
		}
	}
	return exp
}

// isoDuration renders a token window as an ISO-8601 duration ("P30D").
func isoDuration(d time.Duration) any {
	switch {
	case d <= 0:
		return nil
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("PT%dH", d/time.Hour)
	}
	return fmt.Sprintf("PT%dM", d/time.Minute)
}

package oktaapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/session"
)

// Sessions is what the API needs of the session store.
type Sessions interface {
	SessionByID(ctx context.Context, id string) (*session.Session, error)
	DeleteSessionByID(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	UserSessions(ctx context.Context, userID string) ([]*session.Session, error)
}

// SessionRefresher extends a session's idle timeout (session.Manager).
type SessionRefresher interface {
	Refresh(ctx context.Context, id string) (*session.Session, error)
}

// MountSessions registers Okta's Sessions API.
func (a *API) MountSessions(s Sessions, refresher SessionRefresher) func(m *Mux) {
	return func(m *Mux) {
		m.Handle("POST /api/v1/sessions/{id}/lifecycle/refresh", WriteAccess, func(w http.ResponseWriter, r *http.Request) error {
			x, err := refresher.Refresh(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			return WriteJSON(w, a.sessionJSON(r.Context(), x))
		})
		m.Handle("GET /api/v1/sessions/{id}", ReadAccess, func(w http.ResponseWriter, r *http.Request) error {
			x, err := s.SessionByID(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			return WriteJSON(w, a.sessionJSON(r.Context(), x))
		})
		m.Handle("DELETE /api/v1/sessions/{id}", WriteAccess, func(w http.ResponseWriter, r *http.Request) error {
			x, err := s.SessionByID(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := s.DeleteSessionByID(r.Context(), x.ID); err != nil {
				return err
			}
			a.logSessionEnd(r, x.UserID)
			return NoContent(w)
		})
		m.Handle("GET /api/v1/users/{id}/sessions", ReadAccess, func(w http.ResponseWriter, r *http.Request) error {
			u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			xs, err := s.UserSessions(r.Context(), u.ID)
			if err != nil {
				return err
			}
			out := make([]map[string]any, len(xs))
			for i, x := range xs {
				out[i] = a.sessionJSON(r.Context(), x)
			}
			return WriteJSON(w, out)
		})
		m.Handle("DELETE /api/v1/users/{id}/sessions", WriteAccess, func(w http.ResponseWriter, r *http.Request) error {
			u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			if _, err := s.DeleteUserSessions(r.Context(), u.ID); err != nil {
				return err
			}
			a.logSessionEnd(r, u.ID)
			return NoContent(w)
		})
	}
}

func (a *API) logSessionEnd(r *http.Request, userID string) {
	ev := audit.Builder{Now: a.Now, UUID: func() string { return a.IDs.New(ids.Event) }}.New(r.Context(), "user.session.clear", "Clear user session", audit.Success,
		audit.Target{ID: userID, Type: "User"})
	if l, ok := a.Events.(interface {
		Append(context.Context, audit.Event) error
	}); ok {
		_ = l.Append(r.Context(), ev)
	}
}

func (a *API) sessionJSON(ctx context.Context, x *session.Session) map[string]any {
	login := ""
	if u, err := a.Directory.Store.User(ctx, x.UserID); err == nil {
		login = u.Login()
	}
	var lastFactor, lastPassword any
	if !x.MFATime.IsZero() {
		lastFactor = Time(x.MFATime)
	}
	// Only a session that began with a password verified one (not one of
	// an external provider or a passkey alone).
	if slices.Contains(x.AMR, "pwd") {
		lastPassword = Time(x.AuthTime)
	}
	return map[string]any{
		"id":                       x.ID,
		"userId":                   x.UserID,
		"login":                    login,
		"createdAt":                Time(x.Created),
		"expiresAt":                Time(x.IdleExpires),
		"status":                   "ACTIVE",
		"lastPasswordVerification": lastPassword,
		"lastFactorVerification":   lastFactor,
		"amr":                      oktaAMR(x.AMR),
		"idp":                      map[string]any{"id": "00o000000000000000000", "type": "OKTA"},
		"mfaActive":                lastFactor != nil,
		"_links": map[string]any{
			"self":    a.Href("/api/v1/sessions/%s", x.ID),
			"refresh": map[string]any{"href": a.BaseURL + "/api/v1/sessions/" + x.ID + "/lifecycle/refresh", "hints": map[string]any{"allow": []string{"POST"}}},
			"user":    a.Href("/api/v1/users/%s", x.UserID),
		},
	}
}

// sessionAMR are the authentication methods a Session object may name
// (Okta's SessionAuthenticationMethod enum).
var sessionAMR = []string{"fpt", "geo", "hwk", "kba", "mca", "mfa", "otp", "pwd", "sc", "sms", "swk", "tel"}

// oktaAMR keeps the methods of a session that Okta's enum has: a passkey
// session also records RFC 8176's "user" and "pin", which a client typed
// on the enum (the Java SDK) cannot read.
func oktaAMR(amr []string) []string {
	out := make([]string, 0, len(amr))
	for _, m := range amr {
		if slices.Contains(sessionAMR, m) {
			out = append(out, m)
		}
	}
	return out
}

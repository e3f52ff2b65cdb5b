// Package session keeps browser sign-in sessions, the SSO requests that
// wait while a person signs in, the replay cache of request IDs, and the
// sign-in throttle. All of it lives in the store, so any number of nodes
// share it. The cookie carries a random value; the store keeps only its
// SHA-256 hash.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Session is a signed-in browser.
type Session struct {
	ID          string // public id, shown in the API; not the cookie value
	UserID      string
	Created     time.Time
	LastSeen    time.Time
	IdleExpires time.Time
	Expires     time.Time
	AuthTime    time.Time // last password verification
	// MFATime is when the session last verified a second factor (zero:
	// never).
	MFATime time.Time
	// IdleTimeout is this session's idle timeout; zero means the
	// manager's.
	IdleTimeout time.Duration
	AMR         []string
	IP          string
	UserAgent   string
	CSRF        string // per-session token embedded in forms
}

// Store persists sessions and the shared protocol state.
type Store interface {
	CreateSession(ctx context.Context, hash string, s *Session) error
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	SessionByID(ctx context.Context, id string) (*Session, error)
	TouchSession(ctx context.Context, hash string, lastSeen, idleExpires time.Time) error
	// TouchSessionByID is TouchSession for the session with this public id.
	TouchSessionByID(ctx context.Context, id string, lastSeen, idleExpires time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	DeleteSessionByID(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of the person and, in the
	// same transaction, gives the pending entry ClearedKey(userID) a new
	// random body, so that what was issued before (an Authentication API
	// sessionToken) can tell it must not start a session any more.
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	UserSessions(ctx context.Context, userID string) ([]*Session, error)
	// PutPending stores an SSO request that waits for sign-in, or
	// replaces the one stored under id.
	PutPending(ctx context.Context, id string, body []byte, expires time.Time) error
	// Pending reads a waiting SSO request; it stays until it expires or is taken.
	Pending(ctx context.Context, id string) ([]byte, error)
	DeletePending(ctx context.Context, id string) error
	// UpdatePending replaces the body of the live request stored under
	// id, in one statement; a request deleted or expired meanwhile stays
	// gone (errs.NotFound), so a step of a transaction that another
	// request ended cannot store it again.
	UpdatePending(ctx context.Context, id string, body []byte, expires time.Time) error
	// Remember records key until expires; it reports false when key was
	// already recorded and has not expired (a replay).
	Remember(ctx context.Context, key string, expires time.Time) (bool, error)
	// Hit counts one event for key in the fixed window containing now and
	// returns the count so far.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
}

// Manager creates and checks sessions.
type Manager struct {
	Store Store
	Now   func() time.Time
	IDs   *ids.Source
	Idle  time.Duration
	Max   time.Duration
}

// ClearedKey names the pending entry that DeleteUserSessions renews: its
// body changes at every clearing of the person's sessions (absent before
// the first).
func ClearedKey(userID string) string { return "sessions-cleared:" + userID }

// ClearedTTL is how long the entry of ClearedKey lives after a clearing:
// far longer than anything issued before it that it must outlive.
const ClearedTTL = 24 * time.Hour

// Hash is how a cookie value is stored.
func Hash(value string) string {
	s := sha256.Sum256([]byte(value))
	return hex.EncodeToString(s[:])
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start creates a new session for a user who just authenticated and
// returns the cookie value. A new value every time prevents fixation.
func (m *Manager) Start(ctx context.Context, userID string, amr []string, ip, ua string) (string, *Session, error) {
	return m.StartWith(ctx, userID, ip, ua, StartOptions{AMR: amr})
}

// StartOptions shape a new session.
type StartOptions struct {
	AMR []string
	// AuthTime is when the person last gave their first factor; zero
	// means now.
	AuthTime time.Time
	// MFATime is when they last gave a second factor (zero: not in this
	// session).
	MFATime time.Time
	// Idle and Max override the manager's timeouts when positive (a
	// session policy).
	Idle, Max time.Duration
	// Expires, when set, keeps the absolute end of a session being
	// replaced (a step-up must not extend it).
	Expires time.Time
}

// StartWith creates a new session with options and returns the cookie
// value.
func (m *Manager) StartWith(ctx context.Context, userID, ip, ua string, o StartOptions) (string, *Session, error) {
	now := m.Now().UTC().Truncate(time.Millisecond)
	idle, max := m.Idle, m.Max
	if o.Idle > 0 {
		idle = o.Idle
	}
	if o.Max > 0 {
		max = o.Max
	}
	exp := now.Add(max)
	if !o.Expires.IsZero() && o.Expires.Before(exp) {
		exp = o.Expires.UTC().Truncate(time.Millisecond)
	}
	idleExp := now.Add(idle)
	if idleExp.After(exp) {
		idleExp = exp
	}
	auth := now
	if !o.AuthTime.IsZero() {
		auth = o.AuthTime.UTC().Truncate(time.Millisecond)
	}
	value := random(32)
	s := &Session{
		ID: m.IDs.New(ids.Session), UserID: userID, Created: now, LastSeen: now,
		IdleExpires: idleExp, Expires: exp, AuthTime: auth, MFATime: o.MFATime.UTC().Truncate(time.Millisecond),
		AMR: o.AMR, IP: ip, UserAgent: truncate(ua, 512), CSRF: random(24),
	}
	if o.Idle > 0 {
		s.IdleTimeout = o.Idle
	}
	if err := m.Store.CreateSession(ctx, Hash(value), s); err != nil {
		return "", nil, err
	}
	return value, s, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ErrNoSession means the request carries no valid session.
var ErrNoSession = errs.New(errs.Unauthorized, "no valid session")

// Check returns the live session for a cookie value and slides its idle
// timeout (written at most once a minute).
func (m *Manager) Check(ctx context.Context, value string) (*Session, error) {
	if value == "" || len(value) > 100 {
		return nil, ErrNoSession
	}
	h := Hash(value)
	s, err := m.Store.SessionByHash(ctx, h)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, ErrNoSession
		}
		return nil, err
	}
	now := m.Now().UTC()
	if !now.Before(s.Expires) || !now.Before(s.IdleExpires) {
		_ = m.Store.DeleteSession(ctx, h)
		return nil, ErrNoSession
	}
	if now.Sub(s.LastSeen) > time.Minute {
		timeout := m.Idle
		if s.IdleTimeout > 0 {
			timeout = s.IdleTimeout
		}
		idle := now.Add(timeout)
		if idle.After(s.Expires) {
			idle = s.Expires
		}
		if err := m.Store.TouchSession(ctx, h, now, idle); err != nil {
			return nil, err
		}
		s.LastSeen, s.IdleExpires = now, idle
	}
	return s, nil
}

// Refresh extends the idle timeout of the session with this public id as
// activity would (Okta's refreshSession), up to its absolute expiry. An
// expired session is deleted and not found.
func (m *Manager) Refresh(ctx context.Context, id string) (*Session, error) {
	s, err := m.Store.SessionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := m.Now().UTC()
	if !now.Before(s.Expires) || !now.Before(s.IdleExpires) {
		_ = m.Store.DeleteSessionByID(ctx, s.ID)
		return nil, errs.NotFoundf("Not found: Resource not found: %s (Session)", id)
	}
	timeout := m.Idle
	if s.IdleTimeout > 0 {
		timeout = s.IdleTimeout
	}
	idle := now.Add(timeout)
	if idle.After(s.Expires) {
		idle = s.Expires
	}
	if err := m.Store.TouchSessionByID(ctx, s.ID, now, idle); err != nil {
		return nil, err
	}
	s.LastSeen, s.IdleExpires = now, idle
	return s, nil
}

// End deletes the session of a cookie value.
func (m *Manager) End(ctx context.Context, value string) error {
	if value == "" {
		return nil
	}
	return m.Store.DeleteSession(ctx, Hash(value))
}

package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/session"
)

// Sessions returns the session store.
func (db *DB) Sessions() session.Store { return sessStore{db} }

type sessStore struct{ db *DB }

const sessCols = "id, user_id, created, last_seen, idle_expires, expires, auth_time, amr, ip, user_agent, csrf, mfa_time, idle_ms"

func scanSession(sc scanner) (*session.Session, error) {
	var s session.Session
	var created, seen, idle, exp, auth, mfaTime, idleMs int64
	var amr string
	if err := sc.Scan(&s.ID, &s.UserID, &created, &seen, &idle, &exp, &auth, &amr, &s.IP, &s.UserAgent, &s.CSRF, &mfaTime, &idleMs); err != nil {
		return nil, err
	}
	s.Created, s.LastSeen, s.IdleExpires, s.Expires, s.AuthTime = fromMs(created), fromMs(seen), fromMs(idle), fromMs(exp), fromMs(auth)
	if mfaTime > 0 {
		s.MFATime = fromMs(mfaTime)
	}
	s.IdleTimeout = time.Duration(idleMs) * time.Millisecond
	if amr != "" {
		s.AMR = strings.Split(amr, " ")
	}
	return &s, nil
}

func (s sessStore) CreateSession(ctx context.Context, hash string, x *session.Session) error {
	var mfaTime int64
	if !x.MFATime.IsZero() {
		mfaTime = ms(x.MFATime)
	}
	_, err := s.db.exec(ctx, "INSERT INTO sessions (id_hash, "+sessCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		hash, x.ID, x.UserID, ms(x.Created), ms(x.LastSeen), ms(x.IdleExpires), ms(x.Expires), ms(x.AuthTime), strings.Join(x.AMR, " "), x.IP, x.UserAgent, x.CSRF,
		mfaTime, x.IdleTimeout.Milliseconds())
	return err
}

func (s sessStore) SessionByHash(ctx context.Context, hash string) (*session.Session, error) {
	x, err := scanSession(s.db.queryRow(ctx, "SELECT "+sessCols+" FROM sessions WHERE id_hash = ?", hash))
	return x, notFound(err, "(Session)")
}

func (s sessStore) SessionByID(ctx context.Context, id string) (*session.Session, error) {
	x, err := scanSession(s.db.queryRow(ctx, "SELECT "+sessCols+" FROM sessions WHERE id = ?", id))
	return x, notFound(err, id+" (Session)")
}

func (s sessStore) TouchSession(ctx context.Context, hash string, lastSeen, idle time.Time) error {
	_, err := s.db.exec(ctx, "UPDATE sessions SET last_seen = ?, idle_expires = ? WHERE id_hash = ?", ms(lastSeen), ms(idle), hash)
	return err
}

func (s sessStore) TouchSessionByID(ctx context.Context, id string, lastSeen, idle time.Time) error {
	_, err := s.db.exec(ctx, "UPDATE sessions SET last_seen = ?, idle_expires = ? WHERE id = ?", ms(lastSeen), ms(idle), id)
	return err
}

func (s sessStore) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.db.exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", hash)
	return err
}

func (s sessStore) DeleteSessionByID(ctx context.Context, id string) error {
	res, err := s.db.exec(ctx, "DELETE FROM sessions WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Not found: Resource not found: %s (Session)", id)
	}
	return nil
}

// DeleteUserSessions ends the person's sessions and renews the body of
// their session.ClearedKey entry (a new random value), in one transaction.
func (s sessStore) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(t *Tx) error {
		mark := make([]byte, 16)
		if _, err := rand.Read(mark); err != nil {
			return err
		}
		if _, err := t.exec("INSERT INTO sso_pending (id, body, expires) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, expires = excluded.expires",
			session.ClearedKey(userID), hex.EncodeToString(mark), ms(time.Now().Add(session.ClearedTTL))); err != nil {
			return err
		}
		res, err := t.exec("DELETE FROM sessions WHERE user_id = ?", userID)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}

func (s sessStore) UserSessions(ctx context.Context, userID string) ([]*session.Session, error) {
	rows, err := s.db.query(ctx, "SELECT "+sessCols+" FROM sessions WHERE user_id = ? ORDER BY created", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*session.Session{}
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s sessStore) PutPending(ctx context.Context, id string, body []byte, expires time.Time) error {
	_, err := s.db.exec(ctx, "INSERT INTO sso_pending (id, body, expires) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, expires = excluded.expires", id, string(body), ms(expires))
	return err
}

func (s sessStore) Pending(ctx context.Context, id string) ([]byte, error) {
	var body string
	var exp int64
	err := s.db.queryRow(ctx, "SELECT body, expires FROM sso_pending WHERE id = ?", id).Scan(&body, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && time.Now().UnixMilli() >= exp) {
		return nil, errs.NotFoundf("The sign-in request has expired; start again from the application.")
	}
	return []byte(body), err
}

func (s sessStore) DeletePending(ctx context.Context, id string) error {
	_, err := s.db.exec(ctx, "DELETE FROM sso_pending WHERE id = ? OR expires < ?", id, time.Now().UnixMilli())
	return err
}

func (s sessStore) UpdatePending(ctx context.Context, id string, body []byte, expires time.Time) error {
	res, err := s.db.exec(ctx, "UPDATE sso_pending SET body = ?, expires = ? WHERE id = ? AND expires > ?", string(body), ms(expires), id, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("The sign-in request has expired; start again from the application.")
	}
	return nil
}

func (s sessStore) Remember(ctx context.Context, key string, expires time.Time) (bool, error) {
	fresh := false
	err := s.db.InTx(ctx, func(t *Tx) error {
		now := time.Now().UnixMilli()
		if _, err := t.exec("DELETE FROM replay_cache WHERE key = ? AND expires < ?", key, now); err != nil {
			return err
		}
		res, err := t.exec("INSERT INTO replay_cache (key, expires) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, ms(expires))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		fresh = n == 1
		return nil
	})
	return fresh, err
}

func (s sessStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start := now.Truncate(window).UnixMilli()
	var hits int
	err := s.db.InTx(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO throttle (key, window_start, hits) VALUES (?, ?, 1)
			ON CONFLICT (key) DO UPDATE SET hits = CASE WHEN throttle.window_start = excluded.window_start THEN throttle.hits + 1 ELSE 1 END,
			window_start = excluded.window_start`, key, start)
		if err != nil {
			return err
		}
		return t.queryRow("SELECT hits FROM throttle WHERE key = ?", key).Scan(&hits)
	})
	return hits, err
}

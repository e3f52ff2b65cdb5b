package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/federation"
)

// IdPs returns the store of external identity providers and their links.
func (db *DB) IdPs() IdPStore { return IdPStore{db} }

// IdPStore implements federation.Store.
type IdPStore struct{ db *DB }

var _ federation.Store = IdPStore{}

const idpCols = "id, body, client_secret, status, created, last_updated"

func scanIdP(sc scanner) (*federation.IdP, error) {
	var id, body, secret, status string
	var created, updated int64
	if err := sc.Scan(&id, &body, &secret, &status, &created, &updated); err != nil {
		return nil, err
	}
	var p federation.IdP
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return nil, fmt.Errorf("decode identity provider %s: %w", id, err)
	}
	p.ID, p.SealedSecret, p.Status, p.Created, p.LastUpdated = id, secret, status, fromMs(created), fromMs(updated)
	return &p, nil
}

// IdP reads one provider.
func (s IdPStore) IdP(ctx context.Context, id string) (*federation.IdP, error) {
	p, err := scanIdP(s.db.queryRow(ctx, "SELECT "+idpCols+" FROM idps WHERE id = ?", id))
	return p, notFound(err, id+" (IdentityProvider)")
}

// IdPs lists providers by id.
func (s IdPStore) IdPs(ctx context.Context, q federation.Query) ([]*federation.IdP, error) {
	where, args := []string{"id > ?"}, []any{q.After}
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, string(q.Type))
	}
	if q.Q != "" {
		c, a := s.db.prefixCond("lower(name)", q.Q)
		where, args = append(where, c), append(args, a...)
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	rows, err := s.db.query(ctx, "SELECT "+idpCols+" FROM idps WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", append(args, q.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*federation.IdP{}
	for rows.Next() {
		p, err := scanIdP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PutIdP inserts or replaces a provider with its event.
func (s IdPStore) PutIdP(ctx context.Context, p *federation.IdP, create bool, ev audit.Event) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(t *Tx) error {
		if create {
			if _, err := t.exec("INSERT INTO idps (id, name, type, status, body, client_secret, created, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				p.ID, p.Name, string(p.Type), p.Status, string(body), p.SealedSecret, ms(p.Created), ms(p.LastUpdated)); err != nil {
				return err
			}
		} else {
			res, err := t.exec("UPDATE idps SET name = ?, type = ?, status = ?, body = ?, client_secret = ?, last_updated = ? WHERE id = ?",
				p.Name, string(p.Type), p.Status, string(body), p.SealedSecret, ms(p.LastUpdated), p.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("Not found: Resource not found: %s (IdentityProvider)", p.ID)
			}
		}
		return t.Append(ev)
	})
}

// DeleteIdP removes a provider and its links with its event.
func (s IdPStore) DeleteIdP(ctx context.Context, id string, ev audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error {
		if _, err := t.exec("DELETE FROM idp_links WHERE idp_id = ?", id); err != nil {
			return err
		}
		res, err := t.exec("DELETE FROM idps WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("Not found: Resource not found: %s (IdentityProvider)", id)
		}
		return t.Append(ev)
	})
}

const linkCols = "idp_id, user_id, external_id, profile, created, last_updated"

func scanLink(sc scanner) (*federation.Link, error) {
	var l federation.Link
	var profile string
	var created, updated int64
	if err := sc.Scan(&l.IdPID, &l.UserID, &l.ExternalID, &profile, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(profile), &l.Profile); err != nil {
		return nil, fmt.Errorf("decode link profile: %w", err)
	}
	l.Created, l.LastUpdated = fromMs(created), fromMs(updated)
	return &l, nil
}

func (s IdPStore) links(ctx context.Context, q string, args ...any) ([]*federation.Link, error) {
	rows, err := s.db.query(ctx, "SELECT "+linkCols+" FROM idp_links WHERE "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*federation.Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinkBySubject finds the link of a provider subject.
func (s IdPStore) LinkBySubject(ctx context.Context, idpID, externalID string) (*federation.Link, error) {
	l, err := scanLink(s.db.queryRow(ctx, "SELECT "+linkCols+" FROM idp_links WHERE idp_id = ? AND external_id = ?", idpID, externalID))
	return l, notFound(err, "(IdentityProviderUser)")
}

// Link finds a person's link to a provider.
func (s IdPStore) Link(ctx context.Context, idpID, userID string) (*federation.Link, error) {
	l, err := scanLink(s.db.queryRow(ctx, "SELECT "+linkCols+" FROM idp_links WHERE idp_id = ? AND user_id = ?", idpID, userID))
	return l, notFound(err, userID+" (IdentityProviderUser)")
}

// Links lists a provider's links by user id.
func (s IdPStore) Links(ctx context.Context, idpID, after string, limit int) ([]*federation.Link, error) {
	return s.links(ctx, "idp_id = ? AND user_id > ? ORDER BY user_id LIMIT ?", idpID, after, limit)
}

// UserLinks lists a person's links.
func (s IdPStore) UserLinks(ctx context.Context, userID string) ([]*federation.Link, error) {
	return s.links(ctx, "user_id = ? ORDER BY idp_id", userID)
}

// DeleteLink removes a link with its event.
func (s IdPStore) DeleteLink(ctx context.Context, idpID, userID string, ev audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error {
		res, err := t.exec("DELETE FROM idp_links WHERE idp_id = ? AND user_id = ?", idpID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("Not found: Resource not found: %s (IdentityProviderUser)", userID)
		}
		return t.Append(ev)
	})
}

// Append writes one event in its own transaction.
func (s IdPStore) Append(ctx context.Context, ev audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error { return t.Append(ev) })
}

// PutLink writes a link inside a transaction: a person's link to a
// provider is replaced; a subject linked to someone else is a Conflict.
func (t *Tx) PutLink(l *federation.Link) error {
	profile, err := json.Marshal(l.Profile)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO idp_links (idp_id, user_id, external_id, profile, created, last_updated) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (idp_id, user_id) DO UPDATE SET external_id = excluded.external_id, profile = excluded.profile, last_updated = excluded.last_updated`,
		l.IdPID, l.UserID, l.ExternalID, string(profile), ms(l.Created), ms(l.LastUpdated))
	if isUnique(err) {
		return &errs.Error{Kind: errs.Conflict, Msg: "This identity provider account is already linked to another user.", Err: err}
	}
	return err
}

package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
)

// TrustedOrigins returns the trusted origin store.
func (db *DB) TrustedOrigins() TrustedOriginStore { return TrustedOriginStore{db} }

// TrustedOriginStore implements trustedorigin.Store.
type TrustedOriginStore struct{ db *DB }

var _ trustedorigin.Store = TrustedOriginStore{}
var _ trustedorigin.Tx = (*Tx)(nil)

const originCols = "id, name, origin, status, scopes, created, created_by, last_updated, last_updated_by"

func scanOrigin(sc scanner) (*trustedorigin.Origin, error) {
	var o trustedorigin.Origin
	var scopes string
	var created, updated int64
	if err := sc.Scan(&o.ID, &o.Name, &o.Origin, &o.Status, &scopes, &created, &o.CreatedBy, &updated, &o.UpdatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &o.Scopes); err != nil {
		return nil, fmt.Errorf("decode trusted origin %s: %w", o.ID, err)
	}
	if o.Scopes == nil {
		o.Scopes = []string{}
	}
	o.Created, o.Updated = fromMs(created), fromMs(updated)
	return &o, nil
}

// TrustedOrigins lists every origin in id order.
func (s TrustedOriginStore) TrustedOrigins(ctx context.Context) ([]*trustedorigin.Origin, error) {
	rows, err := s.db.query(ctx, "SELECT "+originCols+" FROM trusted_origins ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*trustedorigin.Origin{}
	for rows.Next() {
		o, err := scanOrigin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// TrustedOrigin reads one origin.
func (s TrustedOriginStore) TrustedOrigin(ctx context.Context, id string) (*trustedorigin.Origin, error) {
	o, err := scanOrigin(s.db.queryRow(ctx, "SELECT "+originCols+" FROM trusted_origins WHERE id = ?", id))
	return o, notFound(err, id+" (TrustedOrigin)")
}

// TrustedOriginsVersion reads the counter every change bumps.
func (s TrustedOriginStore) TrustedOriginsVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.queryRow(ctx, "SELECT version FROM trusted_origins_version WHERE id = 1").Scan(&v)
	return v, err
}

// UpdateTrustedOrigins runs fn in one transaction.
func (s TrustedOriginStore) UpdateTrustedOrigins(ctx context.Context, fn func(trustedorigin.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

func (t *Tx) TrustedOriginForUpdate(id string) (*trustedorigin.Origin, error) {
	o, err := scanOrigin(t.queryRow("SELECT "+originCols+" FROM trusted_origins WHERE id = ?"+t.forUpdate(), id))
	return o, notFound(err, id+" (TrustedOrigin)")
}

func (t *Tx) bumpTrustedOrigins() error {
	_, err := t.exec("UPDATE trusted_origins_version SET version = version + 1 WHERE id = 1")
	return err
}

// duplicateOrigin is the error for an origin or name another origin has
// (a race the service's own check did not see).
func duplicateOrigin() error {
	return errs.InvalidFields("Api validation failed: trustedOrigin",
		errs.Field("origin", "origin: another trusted origin has this origin or name"))
}

func (t *Tx) InsertTrustedOrigin(o *trustedorigin.Origin) error {
	scopes, err := json.Marshal(o.Scopes)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO trusted_origins (id, name, name_key, origin, status, scopes, created, created_by, last_updated, last_updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		o.ID, o.Name, strings.ToLower(o.Name), o.Origin, o.Status, string(scopes), ms(o.Created), o.CreatedBy, ms(o.Updated), o.UpdatedBy)
	if isUnique(err) {
		return duplicateOrigin()
	}
	if err != nil {
		return err
	}
	return t.bumpTrustedOrigins()
}

func (t *Tx) UpdateTrustedOrigin(o *trustedorigin.Origin) error {
	scopes, err := json.Marshal(o.Scopes)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE trusted_origins SET name = ?, name_key = ?, origin = ?, status = ?, scopes = ?, last_updated = ?, last_updated_by = ? WHERE id = ?",
		o.Name, strings.ToLower(o.Name), o.Origin, o.Status, string(scopes), ms(o.Updated), o.UpdatedBy, o.ID)
	if isUnique(err) {
		return duplicateOrigin()
	}
	if err != nil {
		return err
	}
	if err := oneRow(res, o.ID+" (TrustedOrigin)"); err != nil {
		return err
	}
	return t.bumpTrustedOrigins()
}

func (t *Tx) DeleteTrustedOrigin(id string) error {
	res, err := t.exec("DELETE FROM trusted_origins WHERE id = ?", id)
	if err != nil {
		return err
	}
	if err := oneRow(res, id+" (TrustedOrigin)"); err != nil {
		return err
	}
	return t.bumpTrustedOrigins()
}

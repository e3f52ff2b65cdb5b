package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// AppData returns the store of per-app integration data.
func (db *DB) AppData() AppDataStore { return AppDataStore{db} }

// AppDataStore keeps one JSON document per app and kind.
type AppDataStore struct{ db *DB }

// Get reads a document; errs.NotFound when there is none.
func (s AppDataStore) Get(ctx context.Context, appID, kind string) ([]byte, time.Time, error) {
	var body string
	var updated int64
	err := s.db.queryRow(ctx, "SELECT body, updated FROM app_data WHERE app_id = ? AND kind = ?", appID, kind).Scan(&body, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, errs.NotFoundf("no %s data for app %s", kind, appID)
	}
	return []byte(body), fromMs(updated), err
}

// Put writes a document with its log event in one transaction.
func (s AppDataStore) Put(ctx context.Context, appID, kind string, body []byte, at time.Time, ev *audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error {
		if err := t.PutAppData(appID, kind, body, at); err != nil {
			return err
		}
		if ev != nil {
			return t.Append(*ev)
		}
		return nil
	})
}

// PutAppData writes a document inside a transaction.
func (t *Tx) PutAppData(appID, kind string, body []byte, at time.Time) error {
	_, err := t.exec(`INSERT INTO app_data (app_id, kind, body, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, kind) DO UPDATE SET body = excluded.body, updated = excluded.updated`, appID, kind, string(body), ms(at))
	return err
}

// AppData reads a document inside a transaction; nil when there is none.
func (t *Tx) AppData(appID, kind string) ([]byte, error) {
	var body string
	err := t.queryRow("SELECT body FROM app_data WHERE app_id = ? AND kind = ?", appID, kind).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return []byte(body), err
}

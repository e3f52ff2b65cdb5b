package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// EventHooks returns the event hook store.
func (db *DB) EventHooks() EventHookStore { return EventHookStore{db} }

// EventHookStore implements eventhook.Store.
type EventHookStore struct{ db *DB }

var _ eventhook.Store = EventHookStore{}
var _ eventhook.Tx = (*Tx)(nil)

// hookBody is the JSON document of a hook's settings.
type hookBody struct {
	Description *string            `json:"description"`
	URI         string             `json:"uri"`
	Headers     []eventhook.Header `json:"headers"`
	AuthKey     string             `json:"authKey,omitempty"`
	Events      []string           `json:"events"`
	CreatedBy   string             `json:"createdBy"`
}

// filterJSON renders a hook's filter for the filter column (” for none).
func filterJSON(f *eventhook.Filter) (string, error) {
	if f == nil {
		return "", nil
	}
	b, err := json.Marshal(f)
	return string(b), err
}

const hookCols = "id, name, status, verification_status, body, auth_value, filter, created, last_updated"

func scanHook(sc scanner) (*eventhook.Hook, error) {
	var h eventhook.Hook
	var body, filter string
	var created, updated int64
	if err := sc.Scan(&h.ID, &h.Name, &h.Status, &h.VerificationStatus, &body, &h.AuthSealed, &filter, &created, &updated); err != nil {
		return nil, err
	}
	if filter != "" {
		h.Filter = &eventhook.Filter{}
		if err := json.Unmarshal([]byte(filter), h.Filter); err != nil {
			return nil, fmt.Errorf("decode the filter of event hook %s: %w", h.ID, err)
		}
	}
	var b hookBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("decode event hook %s: %w", h.ID, err)
	}
	h.Description, h.URI, h.Headers, h.AuthKey, h.Events, h.CreatedBy = b.Description, b.URI, b.Headers, b.AuthKey, b.Events, b.CreatedBy
	if h.Headers == nil {
		h.Headers = []eventhook.Header{}
	}
	h.Created, h.Updated = fromMs(created), fromMs(updated)
	return &h, nil
}

func hookJSON(h *eventhook.Hook) (string, error) {
	b, err := json.Marshal(hookBody{Description: h.Description, URI: h.URI, Headers: h.Headers, AuthKey: h.AuthKey, Events: h.Events, CreatedBy: h.CreatedBy})
	return string(b), err
}

// EventHooks lists every hook, oldest first.
func (s EventHookStore) EventHooks(ctx context.Context) ([]*eventhook.Hook, error) {
	rows, err := s.db.query(ctx, "SELECT "+hookCols+" FROM event_hooks ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*eventhook.Hook{}
	for rows.Next() {
		h, err := scanHook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// EventHook reads one hook.
func (s EventHookStore) EventHook(ctx context.Context, id string) (*eventhook.Hook, error) {
	h, err := scanHook(s.db.queryRow(ctx, "SELECT "+hookCols+" FROM event_hooks WHERE id = ?", id))
	return h, notFound(err, id+" (EventHook)")
}

// UpdateEventHooks runs fn in one transaction.
func (s EventHookStore) UpdateEventHooks(ctx context.Context, fn func(eventhook.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

func (t *Tx) EventHookForUpdate(id string) (*eventhook.Hook, error) {
	h, err := scanHook(t.queryRow("SELECT "+hookCols+" FROM event_hooks WHERE id = ?"+t.forUpdate(), id))
	return h, notFound(err, id+" (EventHook)")
}

func (t *Tx) InsertEventHook(h *eventhook.Hook) error {
	body, err := hookJSON(h)
	if err != nil {
		return err
	}
	filter, err := filterJSON(h.Filter)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO event_hooks ("+hookCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		h.ID, h.Name, h.Status, h.VerificationStatus, body, h.AuthSealed, filter, ms(h.Created), ms(h.Updated))
	return err
}

func (t *Tx) UpdateEventHook(h *eventhook.Hook) error {
	body, err := hookJSON(h)
	if err != nil {
		return err
	}
	filter, err := filterJSON(h.Filter)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE event_hooks SET name = ?, status = ?, verification_status = ?, body = ?, auth_value = ?, filter = ?, last_updated = ? WHERE id = ?",
		h.Name, h.Status, h.VerificationStatus, body, h.AuthSealed, filter, ms(h.Updated), h.ID)
	if err != nil {
		return err
	}
	return oneRow(res, h.ID+" (EventHook)")
}

func (t *Tx) DeleteEventHook(id string) error {
	res, err := t.exec("DELETE FROM event_hooks WHERE id = ?", id)
	if err != nil {
		return err
	}
	return oneRow(res, id+" (EventHook)")
}

// EventTap sees every event a transaction writes (Tx.Append and
// Tx.AppendEvents, which the group-commit EventLog uses too) and enqueues
// the deliveries of those its subscribers take, in the same transaction,
// just before it commits (eventhook.Registry).
type EventTap interface {
	// Subscribers lists the subscribers that take the event (its type,
	// and their filters). It is called for every event written and must
	// read only memory; the event is passed by value so that it stays on
	// the writer's stack.
	Subscribers(ev audit.Event) []string
	// Enqueue adds the delivery of evs to a subscriber in tx.
	Enqueue(tx provisioning.Enqueuer, subscriber string, evs []audit.Event) error
}

type tapRef struct{ EventTap }

// SetEventTap makes tap see every event written from now on.
func (db *DB) SetEventTap(tap EventTap) { db.tap.Store(&tapRef{tap}) }

// tapped keeps an event for the subscribers of its type.
func (t *Tx) tapped(ev audit.Event) {
	ref := t.db.tap.Load()
	if ref == nil {
		return
	}
	for _, s := range ref.Subscribers(ev) {
		if t.hookEvents == nil {
			t.hookEvents = map[string][]audit.Event{}
			t.hookOrder = nil
		}
		if _, ok := t.hookEvents[s]; !ok {
			t.hookOrder = append(t.hookOrder, s)
		}
		t.hookEvents[s] = append(t.hookEvents[s], ev)
	}
}

// enqueueTapped enqueues the deliveries of the transaction's events, just
// before the commit.
func (t *Tx) enqueueTapped() error {
	if len(t.hookEvents) == 0 {
		return nil
	}
	ref := t.db.tap.Load()
	if ref == nil {
		return nil
	}
	for _, s := range t.hookOrder {
		if err := ref.Enqueue(t, s, t.hookEvents[s]); err != nil {
			return fmt.Errorf("enqueue event hook delivery: %w", err)
		}
	}
	return nil
}

// oneRow turns an update or delete that touched no row into NotFound.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(sql.ErrNoRows, what)
	}
	return nil
}

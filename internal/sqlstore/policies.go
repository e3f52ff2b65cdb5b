package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Policies returns the policy store.
func (db *DB) Policies() policy.Store { return policyStore{db} }

type policyStore struct{ db *DB }

var _ policy.Tx = (*Tx)(nil)

const policyCols = "id, type, name, status, priority, system, body, created, last_updated"
const ruleCols = "id, policy_id, name, status, priority, system, body, created, last_updated"

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanPolicy(sc scanner) (*policy.Policy, error) {
	var p policy.Policy
	var typ, body string
	var system int
	var created, updated int64
	if err := sc.Scan(&p.ID, &typ, &p.Name, &p.Status, &p.Priority, &system, &body, &created, &updated); err != nil {
		return nil, err
	}
	id, name, status := p.ID, p.Name, p.Status
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return nil, fmt.Errorf("decode policy %s: %w", id, err)
	}
	p.ID, p.Type, p.Name, p.Status, p.System, p.Created, p.LastUpdated = id, policy.Type(typ), name, status, system == 1, fromMs(created), fromMs(updated)
	return &p, nil
}

func scanRule(sc scanner) (*policy.Rule, error) {
	var r policy.Rule
	var body string
	var system int
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.PolicyID, &r.Name, &r.Status, &r.Priority, &system, &body, &created, &updated); err != nil {
		return nil, err
	}
	id, pid, name, status, prio := r.ID, r.PolicyID, r.Name, r.Status, r.Priority
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("decode policy rule %s: %w", id, err)
	}
	r.ID, r.PolicyID, r.Name, r.Status, r.Priority, r.System, r.Created, r.LastUpdated = id, pid, name, status, prio, system == 1, fromMs(created), fromMs(updated)
	return &r, nil
}

func scanRules(rows *sql.Rows, err error) ([]*policy.Rule, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*policy.Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s policyStore) Policies(ctx context.Context, t policy.Type) ([]*policy.Policy, error) {
	rows, err := s.db.query(ctx, "SELECT "+policyCols+" FROM policies WHERE type = ? ORDER BY priority, created, id", string(t))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*policy.Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s policyStore) Policy(ctx context.Context, id string) (*policy.Policy, error) {
	p, err := scanPolicy(s.db.queryRow(ctx, "SELECT "+policyCols+" FROM policies WHERE id = ?", id))
	return p, notFound(err, id+" (Policy)")
}

func (s policyStore) Rules(ctx context.Context, policyID string) ([]*policy.Rule, error) {
	return scanRules(s.db.query(ctx, "SELECT "+ruleCols+" FROM policy_rules WHERE policy_id = ? ORDER BY priority, id", policyID))
}

// AppRules reads an app's active access policy and its rules in one query.
func (s policyStore) AppRules(ctx context.Context, appID string) (string, []*policy.Rule, error) {
	rows, err := s.db.query(ctx, `SELECT ap.policy_id, r.id, r.policy_id, r.name, r.status, r.priority, r.system, r.body, r.created, r.last_updated
		FROM app_policies ap JOIN policies p ON p.id = ap.policy_id AND p.status = 'ACTIVE'
		LEFT JOIN policy_rules r ON r.policy_id = ap.policy_id
		WHERE ap.app_id = ? ORDER BY r.priority, r.id`, appID)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	pid := ""
	out := []*policy.Rule{}
	for rows.Next() {
		var id, rid, rpid, name, status, body sql.NullString
		var prio, system, created, updated sql.NullInt64
		if err := rows.Scan(&id, &rid, &rpid, &name, &status, &prio, &system, &body, &created, &updated); err != nil {
			return "", nil, err
		}
		pid = id.String
		if !rid.Valid {
			continue
		}
		r := policy.Rule{}
		if err := json.Unmarshal([]byte(body.String), &r); err != nil {
			return "", nil, fmt.Errorf("decode policy rule %s: %w", rid.String, err)
		}
		r.ID, r.PolicyID, r.Name, r.Status, r.Priority, r.System = rid.String, rpid.String, name.String, status.String, int(prio.Int64), system.Int64 == 1
		r.Created, r.LastUpdated = fromMs(created.Int64), fromMs(updated.Int64)
		out = append(out, &r)
	}
	return pid, out, rows.Err()
}

func (s policyStore) AppPolicy(ctx context.Context, appID string) (string, error) {
	var id string
	err := s.db.queryRow(ctx, "SELECT policy_id FROM app_policies WHERE app_id = ?", appID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (s policyStore) PolicyApps(ctx context.Context, policyID string) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT app_id FROM app_policies WHERE policy_id = ? ORDER BY app_id", policyID))
}

func (s policyStore) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.queryRow(ctx, "SELECT version FROM policy_version WHERE id = 1").Scan(&v)
	return v, err
}

// Bump increments the policy version in the transaction.
func (t *Tx) Bump() error {
	_, err := t.exec("UPDATE policy_version SET version = version + 1 WHERE id = 1")
	return err
}

func (s policyStore) Update(ctx context.Context, fn func(policy.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

func (s policyStore) Append(ctx context.Context, ev audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error { return t.Append(ev) })
}

// PolicyForUpdate reads a policy inside a transaction.
func (t *Tx) PolicyForUpdate(id string) (*policy.Policy, error) {
	p, err := scanPolicy(t.queryRow("SELECT "+policyCols+" FROM policies WHERE id = ?"+t.forUpdate(), id))
	return p, notFound(err, id+" (Policy)")
}

// InsertPolicy adds a policy.
func (t *Tx) InsertPolicy(p *policy.Policy) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO policies ("+policyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p.ID, string(p.Type), p.Name, p.Status, p.Priority, boolInt(p.System), string(body), ms(p.Created), ms(p.LastUpdated))
	if isUnique(err) {
		return errs.Conflictf("There is a default %s policy already.", p.Type)
	}
	return err
}

// UpdatePolicy writes a policy.
func (t *Tx) UpdatePolicy(p *policy.Policy) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE policies SET name = ?, status = ?, priority = ?, body = ?, last_updated = ? WHERE id = ?",
		p.Name, p.Status, p.Priority, string(body), ms(p.LastUpdated), p.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.NotFoundf("Not found: Resource not found: %s (Policy)", p.ID)
	}
	return nil
}

// DeletePolicy removes a policy with its rules and app assignments.
func (t *Tx) DeletePolicy(id string) error {
	for _, q := range []string{"DELETE FROM app_policies WHERE policy_id = ?", "DELETE FROM policy_rules WHERE policy_id = ?"} {
		if _, err := t.exec(q, id); err != nil {
			return err
		}
	}
	res, err := t.exec("DELETE FROM policies WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Not found: Resource not found: %s (Policy)", id)
	}
	return nil
}

// RulesForUpdate lists a policy's rules inside a transaction.
func (t *Tx) RulesForUpdate(policyID string) ([]*policy.Rule, error) {
	return scanRules(t.query("SELECT "+ruleCols+" FROM policy_rules WHERE policy_id = ? ORDER BY priority, id"+t.forUpdate(), policyID))
}

// InsertRule adds a rule.
func (t *Tx) InsertRule(r *policy.Rule) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO policy_rules ("+ruleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.PolicyID, r.Name, r.Status, r.Priority, boolInt(r.System), string(body), ms(r.Created), ms(r.LastUpdated))
	return err
}

// UpdateRule writes a rule.
func (t *Tx) UpdateRule(r *policy.Rule) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE policy_rules SET name = ?, status = ?, priority = ?, body = ?, last_updated = ? WHERE id = ? AND policy_id = ?",
		r.Name, r.Status, r.Priority, string(body), ms(r.LastUpdated), r.ID, r.PolicyID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.NotFoundf("Not found: Resource not found: %s (PolicyRule)", r.ID)
	}
	return nil
}

// DeleteRule removes a rule.
func (t *Tx) DeleteRule(policyID, id string) error {
	res, err := t.exec("DELETE FROM policy_rules WHERE id = ? AND policy_id = ?", id, policyID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Not found: Resource not found: %s (PolicyRule)", id)
	}
	return nil
}

// SetAppPolicy assigns an access policy to an app.
func (t *Tx) SetAppPolicy(appID, policyID string) error {
	_, err := t.exec(`INSERT INTO app_policies (app_id, policy_id) VALUES (?, ?)
		ON CONFLICT (app_id) DO UPDATE SET policy_id = excluded.policy_id`, appID, policyID)
	if err != nil && isForeignKey(err) {
		return errs.NotFoundf("Not found: Resource not found: %s (AppInstance)", appID)
	}
	return err
}

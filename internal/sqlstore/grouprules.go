package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/grouprule"
)

// GroupRules returns the group rule store.
func (db *DB) GroupRules() grouprule.Store { return groupRuleStore{db} }

type groupRuleStore struct{ db *DB }

var _ grouprule.Tx = (*Tx)(nil)

const groupRuleCols = "id, name, status, expression, body, eval_pending, eval_after, created, last_updated"

// groupRuleBody is the JSON of the body column.
type groupRuleBody struct {
	GroupIDs       []string `json:"groupIds"`
	ExcludeUserIDs []string `json:"excludeUserIds"`
}

func scanGroupRule(sc scanner) (*grouprule.Rule, error) {
	var r grouprule.Rule
	var status, body string
	var pending int
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.Name, &status, &r.Expression, &body, &pending, &r.EvalAfter, &created, &updated); err != nil {
		return nil, err
	}
	var b groupRuleBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("decode group rule %s: %w", r.ID, err)
	}
	r.Status, r.Evaluating, r.Created, r.LastUpdated = grouprule.Status(status), pending == 1, fromMs(created), fromMs(updated)
	r.GroupIDs, r.ExcludeUserIDs = nonNil(b.GroupIDs), nonNil(b.ExcludeUserIDs)
	return &r, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanGroupRules(rows *sql.Rows, err error) ([]*grouprule.Rule, error) {
	return scanAll(rows, err, scanGroupRule)
}

func groupRuleBodyJSON(r *grouprule.Rule) (string, error) {
	b, err := json.Marshal(groupRuleBody{GroupIDs: nonNil(r.GroupIDs), ExcludeUserIDs: nonNil(r.ExcludeUserIDs)})
	return string(b), err
}

func (s groupRuleStore) Rule(ctx context.Context, id string) (*grouprule.Rule, error) {
	r, err := scanGroupRule(s.db.queryRow(ctx, "SELECT "+groupRuleCols+" FROM group_rules WHERE id = ?", id))
	return r, notFound(err, id+" (GroupRule)")
}

func (s groupRuleStore) Rules(ctx context.Context, q grouprule.Query) ([]*grouprule.Rule, error) {
	var where []string
	var args []any
	if q.Search != "" {
		c, a := s.db.prefixCond("name_key", q.Search)
		where, args = append(where, c), append(args, a...)
	}
	if q.After != "" {
		where, args = append(where, "id > ?"), append(args, q.After)
	}
	stmt := "SELECT " + groupRuleCols + " FROM group_rules"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY id"
	if q.Limit > 0 {
		stmt += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return scanGroupRules(s.db.query(ctx, stmt, args...))
}

func (s groupRuleStore) Evaluating(ctx context.Context) ([]*grouprule.Rule, error) {
	return scanGroupRules(s.db.query(ctx, "SELECT "+groupRuleCols+" FROM group_rules WHERE status = 'ACTIVE' AND eval_pending = 1 ORDER BY id"))
}

func (s groupRuleStore) ManagedCount(ctx context.Context, ruleID string) (int, error) {
	var n int
	err := s.db.queryRow(ctx, "SELECT COUNT(*) FROM group_rule_members WHERE rule_id = ?", ruleID).Scan(&n)
	return n, err
}

func (s groupRuleStore) Update(ctx context.Context, fn func(grouprule.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

// GroupRuleForUpdate reads a rule inside a transaction.
func (t *Tx) GroupRuleForUpdate(id string) (*grouprule.Rule, error) {
	r, err := scanGroupRule(t.queryRow("SELECT "+groupRuleCols+" FROM group_rules WHERE id = ?"+t.forUpdate(), id))
	return r, notFound(err, id+" (GroupRule)")
}

func ruleNameTaken(err error, name string) error {
	if isUnique(err) {
		return errs.Conflictf("A group rule named %q exists already.", name)
	}
	return err
}

// AdminGroup reports whether the group holds an administrator role,
// locking its row until commit (GrantGroupRole takes the same lock), or
// errs.NotFound.
func (t *Tx) AdminGroup(groupID string) (bool, error) {
	var one int
	if err := t.queryRow("SELECT 1 FROM groups WHERE id = ?"+t.forUpdate(), groupID).Scan(&one); err != nil {
		return false, notFound(err, groupID+" (UserGroup)")
	}
	var admin bool
	err := t.queryRow("SELECT EXISTS (SELECT 1 FROM group_admin_roles WHERE group_id = ?)", groupID).Scan(&admin)
	return admin, err
}

// InsertGroupRule adds a rule and its target groups.
func (t *Tx) InsertGroupRule(r *grouprule.Rule) error {
	body, err := groupRuleBodyJSON(r)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO group_rules (id, name, name_key, status, expression, body, eval_pending, eval_after, created, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.Name, strings.ToLower(r.Name), string(r.Status), r.Expression, body, boolInt(r.Evaluating), r.EvalAfter, ms(r.Created), ms(r.LastUpdated))
	if err != nil {
		return ruleNameTaken(err, r.Name)
	}
	for _, g := range r.GroupIDs {
		if _, err := t.exec("INSERT INTO group_rule_targets (rule_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING", r.ID, g); err != nil {
			return err
		}
	}
	return nil
}

// UpdateGroupRule writes a rule; its target groups do not change.
func (t *Tx) UpdateGroupRule(r *grouprule.Rule) error {
	body, err := groupRuleBodyJSON(r)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE group_rules SET name = ?, name_key = ?, status = ?, expression = ?, body = ?, eval_pending = ?, eval_after = ?, last_updated = ? WHERE id = ?",
		r.Name, strings.ToLower(r.Name), string(r.Status), r.Expression, body, boolInt(r.Evaluating), r.EvalAfter, ms(r.LastUpdated), r.ID)
	if err != nil {
		return ruleNameTaken(err, r.Name)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.NotFoundf("Not found: Resource not found: %s (GroupRule)", r.ID)
	}
	return nil
}

// DeleteGroupRule removes a rule with its targets and managed records.
func (t *Tx) DeleteGroupRule(id string) error {
	for _, q := range []string{"DELETE FROM group_rule_members WHERE rule_id = ?", "DELETE FROM group_rule_targets WHERE rule_id = ?"} {
		if _, err := t.exec(q, id); err != nil {
			return err
		}
	}
	res, err := t.exec("DELETE FROM group_rules WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Not found: Resource not found: %s (GroupRule)", id)
	}
	return nil
}

// GroupRulesByStatus lists the rules of a status.
func (t *Tx) GroupRulesByStatus(s grouprule.Status) ([]*grouprule.Rule, error) {
	return scanGroupRules(t.query("SELECT "+groupRuleCols+" FROM group_rules WHERE status = ? ORDER BY id", string(s)))
}

// GroupRulesTargeting lists the rules that assign to a group.
func (t *Tx) GroupRulesTargeting(groupID string) ([]*grouprule.Rule, error) {
	return scanGroupRules(t.query("SELECT "+prefixed("r.", groupRuleCols)+" FROM group_rule_targets x JOIN group_rules r ON r.id = x.rule_id WHERE x.group_id = ? ORDER BY r.id", groupID))
}

// UserGroupsIn lists a person's groups inside the transaction.
func (t *Tx) UserGroupsIn(userID string) ([]*directory.Group, error) {
	rows, err := t.query("SELECT "+prefixed("g.", groupCols)+" FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.id", userID)
	return scanAll(rows, err, scanGroup)
}

// AddManaged records a rule's membership.
func (t *Tx) AddManaged(m grouprule.Managed) error {
	_, err := t.exec("INSERT INTO group_rule_members (rule_id, group_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", m.RuleID, m.GroupID, m.UserID)
	return err
}

// RemoveManaged forgets a rule's membership.
func (t *Tx) RemoveManaged(m grouprule.Managed) (bool, error) {
	res, err := t.exec("DELETE FROM group_rule_members WHERE rule_id = ? AND group_id = ? AND user_id = ?", m.RuleID, m.GroupID, m.UserID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ManagersOf lists the rules that manage a membership.
func (t *Tx) ManagersOf(groupID, userID string) ([]string, error) {
	return scanStrings(t.query("SELECT rule_id FROM group_rule_members WHERE group_id = ? AND user_id = ? ORDER BY rule_id", groupID, userID))
}

// ManagedByRule lists a page of a rule's memberships.
func (t *Tx) ManagedByRule(ruleID string, after grouprule.Managed, limit int) ([]grouprule.Managed, error) {
	rows, err := t.query(fmt.Sprintf(`SELECT group_id, user_id FROM group_rule_members
		WHERE rule_id = ? AND (group_id > ? OR (group_id = ? AND user_id > ?)) ORDER BY group_id, user_id LIMIT %d`, limit),
		ruleID, after.GroupID, after.GroupID, after.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []grouprule.Managed{}
	for rows.Next() {
		m := grouprule.Managed{RuleID: ruleID}
		if err := rows.Scan(&m.GroupID, &m.UserID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

const groupCols = `id, type, name, description, created, last_updated, last_membership_updated`

func scanGroup(sc scanner) (*directory.Group, error) {
	var g directory.Group
	var c, lu, lmu int64
	if err := sc.Scan(&g.ID, &g.Type, &g.Name, &g.Description, &c, &lu, &lmu); err != nil {
		return nil, err
	}
	g.Created, g.LastUpdated, g.LastMembershipUpdated = fromMs(c), fromMs(lu), fromMs(lmu)
	return &g, nil
}

func (db *DB) groups(ctx context.Context, stmt string, args ...any) ([]*directory.Group, error) {
	rows, err := db.query(ctx, stmt, args...)
	return scanAll(rows, err, scanGroup)
}

func (s dirStore) Group(ctx context.Context, id string) (*directory.Group, error) {
	g, err := scanGroup(s.db.queryRow(ctx, "SELECT "+groupCols+" FROM groups WHERE id = ?", id))
	return g, notFound(err, id+" (UserGroup)")
}

func (s dirStore) Groups(ctx context.Context, q directory.GroupQuery) ([]*directory.Group, error) {
	var where []string
	var args []any
	key := ""
	if q.SortBy != "" && q.SortBy != "id" {
		col, ok := s.db.groupColumn(q.SortBy)
		if !ok {
			return nil, &errs.Error{Kind: errs.Invalid, Code: "E0000031", Msg: "Invalid search criteria.",
				Fields: []errs.FieldError{{Field: "sortBy", Message: "sortBy: " + q.SortBy + " is not an attribute groups can be sorted by"}}}
		}
		key = col.expr
	}
	cmp, dir := ">", ""
	if q.SortDesc {
		cmp, dir = "<", " DESC"
	}
	if q.After != "" {
		if key == "" {
			where, args = append(where, "id "+cmp+" ?"), append(args, q.After)
		} else {
			// The cursor group's own key: the page continues after it.
			where = append(where, "("+key+", id) "+cmp+" ((SELECT "+key+" FROM groups WHERE id = ?), ?)")
			args = append(args, q.After, q.After)
		}
	}
	if q.Q != "" {
		c, a := s.db.prefixCond("name_key", q.Q)
		where, args = append(where, c), append(args, a...)
	}
	if q.Filter != nil {
		w, a, err := s.db.groupFilterSQL(q.Filter)
		if err != nil {
			return nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	stmt := "SELECT " + groupCols + " FROM groups"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	if key != "" {
		stmt += " ORDER BY " + key + dir + ", id" + dir + " LIMIT ?"
	} else {
		stmt += " ORDER BY id" + dir + " LIMIT ?"
	}
	return s.db.groups(ctx, stmt, append(args, q.Limit)...)
}

func (s dirStore) GroupMembers(ctx context.Context, groupID, after string, limit int) ([]*directory.User, error) {
	return s.db.users(ctx, "SELECT "+prefixed("u.", userCols)+" FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?", groupID, after, limit)
}

func (s dirStore) GroupMemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	return s.db.countByGroup(ctx, "group_members", groupIDs)
}

// maxCountIDs is the most group ids one counting query takes (a page of
// groups is at most 10,000); more are counted in further queries, well
// inside both databases' limits on bound parameters.
const maxCountIDs = 10000

// countByGroup counts the rows of table (group_members or app_groups,
// both keyed and indexed by group_id first) for each of the groups, with
// one GROUP BY query per maxCountIDs groups.
func (db *DB) countByGroup(ctx context.Context, table string, groupIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(groupIDs))
	for len(groupIDs) > 0 {
		chunk := groupIDs[:min(len(groupIDs), maxCountIDs)]
		groupIDs = groupIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.query(ctx, "SELECT group_id, COUNT(*) FROM "+table+" WHERE group_id IN "+inList(len(chunk))+" GROUP BY group_id", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s dirStore) UserGroups(ctx context.Context, userID string) ([]*directory.Group, error) {
	return s.db.groups(ctx, "SELECT "+prefixed("g.", groupCols)+" FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.id", userID)
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func (t *Tx) InsertGroup(g *directory.Group) error {
	_, err := t.exec("INSERT INTO groups (id, type, name, name_key, description, created, last_updated, last_membership_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		g.ID, g.Type, g.Name, strings.ToLower(g.Name), g.Description, ms(g.Created), ms(g.LastUpdated), ms(g.LastMembershipUpdated))
	return err
}

func (t *Tx) UpdateGroup(g *directory.Group) error {
	_, err := t.exec("UPDATE groups SET name = ?, name_key = ?, description = ?, last_updated = ?, last_membership_updated = ? WHERE id = ?",
		g.Name, strings.ToLower(g.Name), g.Description, ms(g.LastUpdated), ms(g.LastMembershipUpdated), g.ID)
	return err
}

func (t *Tx) LockGroupName(name, exceptID string) (bool, error) {
	key := strings.ToLower(name)
	if err := t.LockKey("group-name:" + key); err != nil {
		return false, err
	}
	var one int
	err := t.queryRow("SELECT 1 FROM groups WHERE name_key = ? AND id <> ? LIMIT 1", key, exceptID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (t *Tx) DeleteGroup(id string) error {
	_, err := t.exec("DELETE FROM groups WHERE id = ?", id)
	return err
}

func (t *Tx) GroupForUpdate(id string) (*directory.Group, error) {
	g, err := scanGroup(t.queryRow("SELECT "+groupCols+" FROM groups WHERE id = ?"+t.forUpdate(), id))
	return g, notFound(err, id+" (UserGroup)")
}

func (t *Tx) AddMember(groupID, userID string, at time.Time) (bool, error) {
	res, err := t.exec("INSERT INTO group_members (group_id, user_id, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", groupID, userID, ms(at))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *Tx) RemoveMember(groupID, userID string, at time.Time) (bool, error) {
	res, err := t.exec("DELETE FROM group_members WHERE group_id = ? AND user_id = ?", groupID, userID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

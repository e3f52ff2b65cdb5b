package sqlstore

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// column describes how an API attribute is stored.
type column struct {
	expr string
	kind colKind
}

type colKind int

const (
	colText      colKind = iota // compared as given
	colFoldText                 // compared case-insensitively; expr is already lower-cased
	colTime                     // milliseconds since the epoch; values are ISO-8601 strings
	colJSON                     // a JSON value (profile attribute)
	colTargetIDs                // the space-separated target ids of an event
	colConst                    // a constant string value
)

var jsonKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// jsonPath renders access to a member (or nested members) of a JSON text column.
func (db *DB) jsonPath(col string, path ...string) string {
	if db.dialect == Postgres {
		return fmt.Sprintf("(%s::jsonb #> '{%s}')", col, strings.Join(path, ","))
	}
	return fmt.Sprintf("json_extract(%s, '$.%s')", col, strings.Join(path, "."))
}

func (db *DB) jsonText(col string, path ...string) string {
	if db.dialect == Postgres {
		return fmt.Sprintf("(%s::jsonb #>> '{%s}')", col, strings.Join(path, ","))
	}
	return fmt.Sprintf("json_extract(%s, '$.%s')", col, strings.Join(path, "."))
}

func (db *DB) userColumn(attr string) (column, bool) {
	switch attr {
	case "id":
		return column{"id", colText}, true
	case "status":
		return column{"status", colText}, true
	case "created":
		return column{"created", colTime}, true
	case "lastUpdated":
		return column{"last_updated", colTime}, true
	case "activated":
		return column{"activated", colTime}, true
	case "statusChanged":
		return column{"status_changed", colTime}, true
	case "lastLogin":
		return column{"last_login", colTime}, true
	case "passwordChanged":
		return column{"password_changed", colTime}, true
	case "type.id":
		return column{"'otydefault0000000000'", colConst}, true
	case "profile.login":
		return column{db.searchKey(0, ""), colFoldText}, true
	case "profile.email":
		return column{db.searchKey(1, ""), colFoldText}, true
	case "profile.firstName":
		return column{db.searchKey(2, ""), colFoldText}, true
	case "profile.lastName":
		return column{db.searchKey(3, ""), colFoldText}, true
	}
	if name, ok := strings.CutPrefix(attr, "profile."); ok && jsonKey.MatchString(name) {
		return column{name, colJSON}, true
	}
	return column{}, false
}

func (db *DB) groupColumn(attr string) (column, bool) {
	switch attr {
	case "id":
		return column{"id", colText}, true
	case "type":
		return column{"type", colText}, true
	case "profile.name":
		return column{"name_key", colFoldText}, true
	case "profile.description":
		return column{"lower(description)", colFoldText}, true
	case "created":
		return column{"created", colTime}, true
	case "lastUpdated":
		return column{"last_updated", colTime}, true
	case "lastMembershipUpdated":
		return column{"last_membership_updated", colTime}, true
	}
	return column{}, false
}

func (db *DB) eventColumn(attr string) (column, bool) {
	switch attr {
	case "eventType":
		return column{"event_type", colText}, true
	case "severity":
		return column{"severity", colText}, true
	case "actor.id":
		return column{"actor_id", colText}, true
	case "outcome.result":
		return column{"outcome", colText}, true
	case "uuid":
		return column{"uuid", colText}, true
	case "published":
		return column{"published", colTime}, true
	case "target.id":
		return column{"target_ids", colTargetIDs}, true
	case "actor.alternateId":
		return column{db.jsonText("body", "actor", "alternateId"), colText}, true
	case "actor.displayName":
		return column{db.jsonText("body", "actor", "displayName"), colText}, true
	case "client.ipAddress":
		return column{db.jsonText("body", "client", "ipAddress"), colText}, true
	case "transaction.id":
		return column{db.jsonText("body", "transactionId"), colText}, true
	case "displayMessage":
		return column{db.jsonText("body", "displayMessage"), colText}, true
	}
	return column{}, false
}

func (db *DB) userFilterSQL(e filter.Expr) (string, []any, error) {
	return db.compileFilter(e, db.userColumn, "profile")
}

func (db *DB) groupFilterSQL(e filter.Expr) (string, []any, error) {
	return db.compileFilter(e, db.groupColumn, "")
}

func (db *DB) eventFilterSQL(e filter.Expr) (string, []any, error) {
	return db.compileFilter(e, db.eventColumn, "")
}

func badFilter(format string, args ...any) error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000031", Msg: "Invalid search criteria.",
		Fields: []errs.FieldError{{Field: "filter", Message: fmt.Sprintf(format, args...)}}}
}

var sqlOps = map[filter.Op]string{filter.OpEq: "=", filter.OpNe: "<>", filter.OpGt: ">", filter.OpGe: ">=", filter.OpLt: "<", filter.OpLe: "<="}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (db *DB) compileFilter(e filter.Expr, cols func(string) (column, bool), jsonCol string) (string, []any, error) {
	switch n := e.(type) {
	case *filter.Logical:
		l, la, err := db.compileFilter(n.Left, cols, jsonCol)
		if err != nil {
			return "", nil, err
		}
		r, ra, err := db.compileFilter(n.Right, cols, jsonCol)
		if err != nil {
			return "", nil, err
		}
		op := " AND "
		if n.Op == filter.Or {
			op = " OR "
		}
		return "(" + l + op + r + ")", append(la, ra...), nil
	case *filter.Not:
		x, xa, err := db.compileFilter(n.X, cols, jsonCol)
		if err != nil {
			return "", nil, err
		}
		return "(NOT " + x + ")", xa, nil
	case *filter.Present:
		c, ok := cols(n.Attr)
		if !ok {
			return "", nil, badFilter("%s: unknown attribute", n.Attr)
		}
		switch c.kind {
		case colJSON:
			return db.jsonPath(jsonCol, c.expr) + " IS NOT NULL", nil, nil
		case colConst:
			return "1 = 1", nil, nil
		case colTargetIDs:
			return "target_ids <> ' '", nil, nil
		}
		return c.expr + " IS NOT NULL", nil, nil
	case *filter.Compare:
		c, ok := cols(n.Attr)
		if !ok {
			return "", nil, badFilter("%s: unknown attribute", n.Attr)
		}
		return db.compileCompare(c, n, jsonCol)
	}
	return "", nil, badFilter("unsupported expression")
}

func (db *DB) compileCompare(c column, n *filter.Compare, jsonCol string) (string, []any, error) {
	v := n.Value
	switch c.kind {
	case colTargetIDs:
		if n.Op != filter.OpEq || v.Kind != filter.KindString {
			return "", nil, badFilter("%s: only eq with a string is supported", n.Attr)
		}
		return `seq IN (SELECT t_seq FROM event_targets WHERE target_id = ?)`, []any{v.Str}, nil
	case colTime:
		t, ok := v.Time()
		if !ok {
			if v.Kind == filter.KindNull && (n.Op == filter.OpEq || n.Op == filter.OpNe) {
				if n.Op == filter.OpEq {
					return c.expr + " IS NULL", nil, nil
				}
				return c.expr + " IS NOT NULL", nil, nil
			}
			return "", nil, badFilter("%s: %s is not a date such as \"2026-01-31T00:00:00.000Z\"", n.Attr, v.String())
		}
		op, ok := sqlOps[n.Op]
		if !ok {
			return "", nil, badFilter("%s: operator %s does not apply to dates", n.Attr, n.Op)
		}
		return c.expr + " " + op + " ?", []any{t.UnixMilli()}, nil
	case colJSON:
		return db.compileJSONCompare(c.expr, n, jsonCol)
	}
	// Text columns.
	if v.Kind == filter.KindNull {
		switch n.Op {
		case filter.OpEq:
			return c.expr + " IS NULL", nil, nil
		case filter.OpNe:
			return c.expr + " IS NOT NULL", nil, nil
		}
		return "", nil, badFilter("%s: null can only be compared with eq or ne", n.Attr)
	}
	if v.Kind != filter.KindString {
		return "", nil, badFilter("%s: expects a string value", n.Attr)
	}
	s := v.Str
	if c.kind == colFoldText {
		s = strings.ToLower(s)
	}
	expr := c.expr
	switch n.Op {
	case filter.OpSw:
		return expr + ` LIKE ? ESCAPE '\'`, []any{likeEscape(s) + "%"}, nil
	case filter.OpCo:
		return expr + ` LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(s) + "%"}, nil
	case filter.OpEw:
		return expr + ` LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(s)}, nil
	}
	op, ok := sqlOps[n.Op]
	if !ok {
		return "", nil, badFilter("%s: unsupported operator %s", n.Attr, n.Op)
	}
	return expr + " " + op + " ?", []any{s}, nil
}

func (db *DB) compileJSONCompare(key string, n *filter.Compare, jsonCol string) (string, []any, error) {
	v := n.Value
	text := db.jsonText(jsonCol, key)
	switch v.Kind {
	case filter.KindNull:
		switch n.Op {
		case filter.OpEq:
			return db.jsonPath(jsonCol, key) + " IS NULL", nil, nil
		case filter.OpNe:
			return db.jsonPath(jsonCol, key) + " IS NOT NULL", nil, nil
		}
		return "", nil, badFilter("profile.%s: null can only be compared with eq or ne", key)
	case filter.KindString:
		s := strings.ToLower(v.Str)
		lt := "lower(" + text + ")"
		switch n.Op {
		case filter.OpSw:
			return lt + ` LIKE ? ESCAPE '\'`, []any{likeEscape(s) + "%"}, nil
		case filter.OpCo:
			return lt + ` LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(s) + "%"}, nil
		case filter.OpEw:
			return lt + ` LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(s)}, nil
		}
		op, ok := sqlOps[n.Op]
		if !ok {
			return "", nil, badFilter("profile.%s: unsupported operator %s", key, n.Op)
		}
		return lt + " " + op + " ?", []any{s}, nil
	case filter.KindNumber, filter.KindBool:
		op, ok := sqlOps[n.Op]
		if !ok {
			return "", nil, badFilter("profile.%s: operator %s needs a string", key, n.Op)
		}
		lit := v.Str
		if v.Kind == filter.KindBool {
			lit = "false"
			if v.Bool {
				lit = "true"
			}
		}
		if db.dialect == Postgres {
			return db.jsonPath(jsonCol, key) + " " + op + " ?::jsonb", []any{lit}, nil
		}
		if v.Kind == filter.KindBool {
			b := 0
			if v.Bool {
				b = 1
			}
			return db.jsonPath(jsonCol, key) + " " + op + " ?", []any{b}, nil
		}
		f, _ := v.Float()
		return db.jsonPath(jsonCol, key) + " " + op + " ?", []any{f}, nil
	}
	return "", nil, badFilter("profile.%s: unsupported value", key)
}

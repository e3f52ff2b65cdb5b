package trustedorigin

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/filter"
)

// FilterOptions are what the list's filter takes: name, origin, status,
// type (a scope type the origin has) and id, with eq (and sw on name and
// origin), joined with and and or.
var FilterOptions = filter.Options{
	Attributes: map[string]filter.OpSet{
		"name":   filter.Ops(filter.OpEq, filter.OpSw),
		"origin": filter.Ops(filter.OpEq, filter.OpSw),
		"status": filter.Ops(filter.OpEq),
		"type":   filter.Ops(filter.OpEq),
		"id":     filter.Ops(filter.OpEq),
	},
	NoNot: true,
}

// Query selects a page of origins.
type Query struct {
	// Q matches a prefix of the name or of the origin (with or without
	// its scheme), case-insensitively.
	Q      string
	Filter filter.Expr
	// After is the id of the last origin of the previous page.
	After string
	// Limit is the page size; 0 means every origin.
	Limit int
}

// Select returns the page of all (in id order) that q selects, and the id
// to continue after ("" on the last page).
func Select(all []*Origin, q Query) ([]*Origin, string) {
	out := []*Origin{}
	qs := strings.ToLower(q.Q)
	for _, o := range all {
		if q.After != "" && o.ID <= q.After {
			continue
		}
		if qs != "" && !matchQ(o, qs) {
			continue
		}
		if q.Filter != nil && !match(o, q.Filter) {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, out[len(out)-1].ID
		}
		out = append(out, o)
	}
	return out, ""
}

func matchQ(o *Origin, q string) bool {
	origin := strings.ToLower(o.Origin)
	_, host, _ := strings.Cut(origin, "://")
	return strings.HasPrefix(strings.ToLower(o.Name), q) || strings.HasPrefix(origin, q) || strings.HasPrefix(host, q)
}

func match(o *Origin, e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Logical:
		if x.Op == filter.And {
			return match(o, x.Left) && match(o, x.Right)
		}
		return match(o, x.Left) || match(o, x.Right)
	case *filter.Compare:
		if x.Value.Kind != filter.KindString {
			return false
		}
		v := x.Value.Str
		var field string
		switch x.Attr {
		case "name":
			field = o.Name
		case "origin":
			field = o.Origin
			if n, msg := NormalizeOrigin(v); msg == "" && x.Op == filter.OpEq {
				v = n
			}
		case "status":
			field = o.Status
		case "id":
			field = o.ID
		case "type":
			return x.Op == filter.OpEq && o.Has(v)
		}
		if x.Op == filter.OpSw {
			return strings.HasPrefix(strings.ToLower(field), strings.ToLower(v))
		}
		return field == v
	}
	return false
}

// Cache holds the origins in memory. Every lookup reads the store's
// version (one small read) and reloads the origins only when it changed,
// so a change on any node governs the next lookup on every node.
type Cache struct {
	Store Store

	cur atomic.Pointer[snapshot]
	mu  sync.Mutex // serialises reloads
}

type snapshot struct {
	version int64
	all     []*Origin
	active  map[string]*Origin // ACTIVE origins by origin
}

// All returns every origin, current as of the call, in id order. The
// slice and its origins are shared: callers must not change them.
func (c *Cache) All(ctx context.Context) ([]*Origin, error) {
	s, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.all, nil
}

// Allows reports whether origin (a browser's Origin header, or the
// origin of a URL) is an ACTIVE trusted origin with the scope type.
func (c *Cache) Allows(ctx context.Context, origin, scope string) (bool, error) {
	n, msg := NormalizeOrigin(origin)
	if msg != "" {
		return false, nil
	}
	s, err := c.current(ctx)
	if err != nil {
		return false, err
	}
	o := s.active[n]
	return o != nil && o.Has(scope), nil
}

func (c *Cache) current(ctx context.Context) (*snapshot, error) {
	v, err := c.Store.TrustedOriginsVersion(ctx)
	if err != nil {
		return nil, err
	}
	if s := c.cur.Load(); s != nil && s.version == v {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.cur.Load(); s != nil && s.version >= v {
		return s, nil
	}
	// Read the version before the rows: a change committed in between
	// leaves an older version beside newer rows, and the next lookup
	// reloads again.
	all, err := c.Store.TrustedOrigins(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{version: v, all: all, active: map[string]*Origin{}}
	for _, o := range all {
		if o.Status == Active {
			s.active[o.Origin] = o
		}
	}
	c.cur.Store(s)
	return s, nil
}

package oktaapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/grouprule"
)

// GroupRules serves Okta's group rules API (/api/v1/groups/rules).
type GroupRules struct {
	API   *API
	Rules *grouprule.Service
}

// Mount registers the routes.
func (g *GroupRules) Mount(m *Mux) {
	m.Handle("GET /api/v1/groups/rules", ReadAccess, g.list)
	m.Handle("POST /api/v1/groups/rules", WriteAccess, g.create)
	m.Handle("GET /api/v1/groups/rules/{ruleId}", ReadAccess, g.get)
	m.Handle("PUT /api/v1/groups/rules/{ruleId}", WriteAccess, g.replace)
	m.Handle("DELETE /api/v1/groups/rules/{ruleId}", WriteAccess, g.delete)
	m.Handle("POST /api/v1/groups/rules/{ruleId}/lifecycle/{op}", WriteAccess, g.lifecycle)
}

// ruleJSONIn is Okta's GroupRule as a client sends it.
type ruleJSONIn struct {
	Type       *string `json:"type"`
	Name       string  `json:"name"`
	Conditions *struct {
		Expression *struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"expression"`
		People *struct {
			Users *struct {
				Exclude []string `json:"exclude"`
				Include []string `json:"include"`
			} `json:"users"`
			Groups *struct {
				Exclude []string `json:"exclude"`
				Include []string `json:"include"`
			} `json:"groups"`
		} `json:"people"`
	} `json:"conditions"`
	Actions *struct {
		AssignUserToGroups *struct {
			GroupIDs []string `json:"groupIds"`
		} `json:"assignUserToGroups"`
	} `json:"actions"`
}

// decodeRule reads a GroupRule body. The read-only members a client
// sends back from a GET (id, status, created, lastUpdated, _embedded,
// _links) are accepted and ignored, as Okta does; status is changed only
// by the lifecycle operations.
func decodeRule(r *http.Request) (grouprule.Input, error) {
	var b ruleJSONIn
	if err := DecodeStrict(r, &b, []string{"type", "name", "conditions", "actions"}, "id", "status", "created", "lastUpdated", "_embedded", "_links"); err != nil {
		return grouprule.Input{}, err
	}
	var fe []errs.FieldError
	if b.Type != nil && *b.Type != "group_rule" {
		fe = append(fe, errs.Field("type", "type: must be group_rule"))
	}
	in := grouprule.Input{Name: b.Name}
	if c := b.Conditions; c != nil {
		if c.Expression != nil {
			in.ExpressionType, in.Expression = c.Expression.Type, c.Expression.Value
			if in.ExpressionType == "" {
				// The SDKs send the expression's type; Okta defines one.
				in.ExpressionType = grouprule.ExpressionType
			}
		}
		if p := c.People; p != nil {
			if p.Users != nil {
				in.ExcludeUserIDs = p.Users.Exclude
				if len(p.Users.Include) > 0 {
					fe = append(fe, errs.Field("conditions.people.users.include", "conditions.people.users.include: is not supported; rules select people with the expression"))
				}
			}
			if p.Groups != nil {
				in.ExcludeGroupIDs = p.Groups.Exclude
				if len(p.Groups.Include) > 0 {
					fe = append(fe, errs.Field("conditions.people.groups.include", "conditions.people.groups.include: is not supported; use isMemberOfGroup in the expression"))
				}
			}
		}
	}
	if b.Actions != nil && b.Actions.AssignUserToGroups != nil {
		in.GroupIDs = b.Actions.AssignUserToGroups.GroupIDs
	}
	if fe != nil {
		return in, errs.InvalidFields("Api validation failed: groupRule", fe...)
	}
	return in, nil
}

// RuleJSON renders a rule as Okta does; names, when not nil, is
// _embedded.groupIdToGroupNameMap (expand=groupIdToGroupNameMap).
func RuleJSON(x *grouprule.Rule, names map[string]string) map[string]any {
	out := map[string]any{
		"type":        "group_rule",
		"id":          x.ID,
		"status":      string(x.Status),
		"name":        x.Name,
		"created":     Time(x.Created),
		"lastUpdated": Time(x.LastUpdated),
		"conditions": map[string]any{
			"people": map[string]any{
				"users":  map[string]any{"exclude": nonNilStrings(x.ExcludeUserIDs)},
				"groups": map[string]any{"exclude": []string{}},
			},
			"expression": map[string]any{"value": x.Expression, "type": grouprule.ExpressionType},
		},
		"actions": map[string]any{"assignUserToGroups": map[string]any{"groupIds": nonNilStrings(x.GroupIDs)}},
	}
	if names != nil {
		m := map[string]string{}
		for _, id := range x.GroupIDs {
			if n, ok := names[id]; ok {
				m[id] = n
			}
		}
		out["_embedded"] = map[string]any{"groupIdToGroupNameMap": m}
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// wantsNames reports whether expand asks for groupIdToGroupNameMap.
func wantsNames(r *http.Request) bool {
	for _, v := range r.URL.Query()["expand"] {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "groupIdToGroupNameMap" {
				return true
			}
		}
	}
	return false
}

// groupNames reads the names of the rules' target groups, each group
// once. A group that no longer exists has no name.
func (g *GroupRules) groupNames(ctx context.Context, rs []*grouprule.Rule) (map[string]string, error) {
	names := map[string]string{}
	for _, x := range rs {
		for _, id := range x.GroupIDs {
			if _, done := names[id]; done {
				continue
			}
			grp, err := g.API.Directory.Store.Group(ctx, id)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			names[id] = grp.Name
		}
	}
	return names, nil
}

func (g *GroupRules) render(ctx context.Context, r *http.Request, rs []*grouprule.Rule) ([]map[string]any, error) {
	var names map[string]string
	if wantsNames(r) {
		var err error
		if names, err = g.groupNames(ctx, rs); err != nil {
			return nil, err
		}
	}
	out := make([]map[string]any, len(rs))
	for i, x := range rs {
		out[i] = RuleJSON(x, names)
	}
	return out, nil
}

// list answers listGroupRules: pages of rules in id order (limit, default
// 50, at most 200; after), search keeping the rules whose name starts
// with it.
func (g *GroupRules) list(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 50, 200)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	rs, err := g.Rules.List(r.Context(), grouprule.Query{Search: qs.Get("search"), After: qs.Get("after"), Limit: limit + 1})
	if err != nil {
		return err
	}
	next := ""
	if len(rs) > limit {
		rs = rs[:limit]
		next = rs[limit-1].ID
	}
	out, err := g.render(r.Context(), r, rs)
	if err != nil {
		return err
	}
	g.API.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

func (g *GroupRules) one(w http.ResponseWriter, r *http.Request, x *grouprule.Rule) error {
	out, err := g.render(r.Context(), r, []*grouprule.Rule{x})
	if err != nil {
		return err
	}
	return WriteJSON(w, out[0])
}

// create answers createGroupRule: the rule, INACTIVE.
func (g *GroupRules) create(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeRule(r)
	if err != nil {
		return err
	}
	x, err := g.Rules.Create(r.Context(), in)
	if err != nil {
		return err
	}
	return g.one(w, r, x)
}

func (g *GroupRules) get(w http.ResponseWriter, r *http.Request) error {
	x, err := g.Rules.Get(r.Context(), r.PathValue("ruleId"))
	if err != nil {
		return err
	}
	return g.one(w, r, x)
}

// replace answers replaceGroupRule: only an INACTIVE rule, and never its
// target groups.
func (g *GroupRules) replace(w http.ResponseWriter, r *http.Request) error {
	if _, err := g.Rules.Get(r.Context(), r.PathValue("ruleId")); err != nil {
		return err
	}
	in, err := decodeRule(r)
	if err != nil {
		return err
	}
	x, err := g.Rules.Replace(r.Context(), r.PathValue("ruleId"), in)
	if err != nil {
		return err
	}
	return g.one(w, r, x)
}

// delete answers deleteGroupRule: 202, as Okta's spec says; removeUsers
// (default false) removes the memberships the rule made.
func (g *GroupRules) delete(w http.ResponseWriter, r *http.Request) error {
	remove, err := BoolParam(r.URL.Query(), "removeUsers", false)
	if err != nil {
		return err
	}
	if err := g.Rules.Delete(r.Context(), r.PathValue("ruleId"), remove); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// lifecycle answers activateGroupRule and deactivateGroupRule: 204.
func (g *GroupRules) lifecycle(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("ruleId")
	var err error
	switch r.PathValue("op") {
	case "activate":
		err = g.Rules.Activate(r.Context(), id)
	case "deactivate":
		err = g.Rules.Deactivate(r.Context(), id)
	default:
		return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
	}
	if err != nil {
		return err
	}
	return NoContent(w)
}

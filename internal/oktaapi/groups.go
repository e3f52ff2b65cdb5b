package oktaapi

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

func (a *API) mountGroups(m *Mux) {
	m.Handle("POST /api/v1/groups", WriteAccess, a.createGroup)
	m.Handle("GET /api/v1/groups", ReadAccess, a.listGroups)
	m.Handle("GET /api/v1/groups/{id}", ReadAccess, a.getGroup)
	// GET /api/v1/groups/{id}/<name> is one route: Okta's
	// /api/v1/groups/rules/{ruleId} has the same shape, and ServeMux
	// accepts the rules route beside this one but not beside a route per
	// name (neither /groups/rules/{ruleId} nor /groups/{id}/users would be
	// the more specific).
	m.Handle("GET /api/v1/groups/{id}/{sub}", ReadAccess, a.groupSub)
	m.HandleGroupSub("stats", a.getGroupStats)
	m.HandleGroupSub("users", a.groupUsers)
	m.Handle("PUT /api/v1/groups/{id}", WriteAccess, a.updateGroup)
	m.Handle("DELETE /api/v1/groups/{id}", WriteAccess, a.deleteGroup)
	m.Handle("PUT /api/v1/groups/{id}/users/{userId}", WriteAccess, a.addGroupUser)
	m.Handle("DELETE /api/v1/groups/{id}/users/{userId}", WriteAccess, a.removeGroupUser)
}

// HandleGroupSub registers the handler of GET /api/v1/groups/{id}/<name>
// (read access, as every group read).
func (m *Mux) HandleGroupSub(name string, h HandlerFunc) {
	if m.api.groupSubs == nil {
		m.api.groupSubs = map[string]HandlerFunc{}
	}
	m.api.groupSubs[name] = h
}

func (a *API) groupSub(w http.ResponseWriter, r *http.Request) error {
	if h, ok := a.groupSubs[r.PathValue("sub")]; ok {
		return h(w, r)
	}
	return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
}

// GroupJSON renders a group as Okta does.
func (a *API) GroupJSON(g *directory.Group) map[string]any {
	return map[string]any{
		"id":                    g.ID,
		"created":               Time(g.Created),
		"lastUpdated":           Time(g.LastUpdated),
		"lastMembershipUpdated": Time(g.LastMembershipUpdated),
		"objectClass":           []string{"okta:user_group"},
		"type":                  g.Type,
		"profile":               map[string]any{"name": g.Name, "description": g.Description},
		"_links": map[string]any{
			"logo":  []any{},
			"users": a.Href("/api/v1/groups/%s/users", g.ID),
			"apps":  a.Href("/api/v1/groups/%s/apps", g.ID),
		},
	}
}

// GroupAppCounter counts the apps each group is assigned to
// (catalog.Service and catalog.Store implement it).
type GroupAppCounter interface {
	GroupAppCounts(ctx context.Context, groupIDs []string) (map[string]int, error)
}

// groupExpand is the groups API's expand parameter: comma-separated values
// naming what to embed in _embedded. Okta's listGroups names "stats" and
// "app"; Okta answers getGroup's expand too, though its spec does not list
// the parameter there. Other values are ignored: the spec lists no 400 for
// listGroups, and clients in use send further values (user,
// groupPushMapping) to Okta.
type groupExpand struct {
	stats bool // _embedded.stats: usersCount, appsCount, groupPushMappingsCount, hasAdminPrivilege
}

func parseGroupExpand(r *http.Request) groupExpand {
	// "app" embeds nothing: _embedded.app is the app an APP_GROUP is
	// imported from, and every Gatehouse group is an OKTA_GROUP, sourced
	// from no app.
	return groupExpand{stats: Expands(r)["stats"]}
}

// groupStats are the counts behind _embedded.stats, read for a whole page
// of groups at once: one query for the members, one for the app
// assignments, however many groups the page has.
type groupStats struct{ users, apps map[string]int }

func (a *API) readGroupStats(ctx context.Context, gs []*directory.Group) (groupStats, error) {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	var st groupStats
	var err error
	if st.users, err = a.Directory.Store.GroupMemberCounts(ctx, ids); err != nil {
		return st, err
	}
	if a.GroupApps != nil {
		if st.apps, err = a.GroupApps.GroupAppCounts(ctx, ids); err != nil {
			return st, err
		}
	}
	return st, nil
}

// statsJSON renders a group's stats as Okta's _embedded.stats: the member
// count (every member, as GET /groups/{id}/users lists them), the apps the
// group is assigned to (as GET /groups/{id}/apps lists them), no group
// push mappings (Gatehouse pushes no groups) and no admin privilege (admin
// roles are given to people, never to groups).
func (a *API) statsJSON(g *directory.Group, st groupStats) map[string]any {
	return map[string]any{
		"usersCount":             st.users[g.ID],
		"appsCount":              st.apps[g.ID],
		"groupPushMappingsCount": 0,
		"hasAdminPrivilege":      false,
		"_links":                 map[string]any{"self": a.Href("/api/v1/groups/%s/stats", g.ID)},
	}
}

// groupsJSON renders a page of groups with what expand asks for.
func (a *API) groupsJSON(ctx context.Context, gs []*directory.Group, x groupExpand) ([]map[string]any, error) {
	out := make([]map[string]any, len(gs))
	var st groupStats
	if x.stats && len(gs) > 0 {
		var err error
		if st, err = a.readGroupStats(ctx, gs); err != nil {
			return nil, err
		}
	}
	for i, g := range gs {
		out[i] = a.GroupJSON(g)
		if x.stats {
			out[i]["_embedded"] = map[string]any{"stats": a.statsJSON(g, st)}
		}
	}
	return out, nil
}

type groupIn struct {
	Profile *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	} `json:"profile"`
}

var groupReadOnly = []string{"id", "created", "lastUpdated", "lastMembershipUpdated", "objectClass", "type", "_links", "_embedded"}

func (in groupIn) fields() (name, desc string, err error) {
	if in.Profile == nil || in.Profile.Name == nil {
		return "", "", errs.InvalidFields("Api validation failed: group", errs.Field("name", "name: The field cannot be left blank"))
	}
	if in.Profile.Description != nil {
		desc = *in.Profile.Description
	}
	return *in.Profile.Name, desc, nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in groupIn
	if err := DecodeStrict(r, &in, []string{"profile"}, groupReadOnly...); err != nil {
		return err
	}
	name, desc, err := in.fields()
	if err != nil {
		return err
	}
	g, err := a.Directory.CreateGroup(r.Context(), name, desc)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.GroupJSON(g))
}

// GroupFilterOptions are the attributes Okta's group `filter` and `search` accept.
var GroupFilterOptions = filter.Options{Attributes: map[string]filter.OpSet{
	"id":                    filter.Ops(filter.OpEq),
	"type":                  filter.Ops(filter.OpEq),
	"profile.name":          filter.Ops(filter.OpEq, filter.OpSw, filter.OpCo),
	"profile.description":   filter.Ops(filter.OpEq, filter.OpSw, filter.OpCo),
	"lastUpdated":           filter.Ops(filter.OpEq, filter.OpGt, filter.OpGe, filter.OpLt, filter.OpLe),
	"created":               filter.Ops(filter.OpEq, filter.OpGt, filter.OpGe, filter.OpLt, filter.OpLe),
	"lastMembershipUpdated": filter.Ops(filter.OpEq, filter.OpGt, filter.OpGe, filter.OpLt, filter.OpLe),
}}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	limit, err := Limit(r, 10000, 10000)
	if err != nil {
		return err
	}
	q := directory.GroupQuery{Q: qs.Get("q"), After: qs.Get("after"), Limit: limit + 1}
	// sortBy and sortOrder (asc, the default, or desc) order search
	// results only, as Okta's listGroups says; without sortBy, sortOrder
	// is ignored.
	if qs.Get("search") != "" && qs.Get("sortBy") != "" {
		q.SortBy = qs.Get("sortBy")
		var err error
		if q.SortDesc, err = sortDescending(qs); err != nil {
			return err
		}
	}
	for _, p := range []string{"filter", "search"} {
		if s := qs.Get(p); s != "" {
			f, err := filter.Parse(s, GroupFilterOptions)
			if err != nil {
				return searchError(p, err)
			}
			if q.Filter != nil {
				f = &filter.Logical{Op: filter.And, Left: q.Filter, Right: f}
			}
			q.Filter = f
		}
	}
	gs, err := a.Directory.Store.Groups(r.Context(), q)
	if err != nil {
		return err
	}
	next := ""
	if len(gs) > limit {
		gs = gs[:limit]
		next = gs[limit-1].ID
	}
	out, err := a.groupsJSON(r.Context(), gs, parseGroupExpand(r))
	if err != nil {
		return err
	}
	a.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := a.groupsJSON(r.Context(), []*directory.Group{g}, parseGroupExpand(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, out[0])
}

// getGroupStats answers what _embedded.stats._links.self names: the
// group's stats alone.
func (a *API) getGroupStats(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	gs := []*directory.Group{g}
	st, err := a.readGroupStats(r.Context(), gs)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.statsJSON(g, st))
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	var in groupIn
	if err := DecodeStrict(r, &in, []string{"profile"}, groupReadOnly...); err != nil {
		return err
	}
	name, desc, err := in.fields()
	if err != nil {
		return err
	}
	g, err := a.Directory.UpdateGroup(r.Context(), r.PathValue("id"), name, desc)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.GroupJSON(g))
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.Directory.DeleteGroup(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (a *API) groupUsers(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, err := Limit(r, 1000, 10000)
	if err != nil {
		return err
	}
	users, err := a.Directory.Store.GroupMembers(r.Context(), g.ID, r.URL.Query().Get("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	a.LinkHeaders(w, r, next)
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = a.UserJSON(u)
	}
	return WriteJSON(w, out)
}

func (a *API) addGroupUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.Directory.AddMember(r.Context(), r.PathValue("id"), r.PathValue("userId")); err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			return errs.NotFoundf("Not found: Resource not found: %s (UserGroup)", r.PathValue("id"))
		}
		return err
	}
	return NoContent(w)
}

func (a *API) removeGroupUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.Directory.RemoveMember(r.Context(), r.PathValue("id"), r.PathValue("userId")); err != nil {
		return err
	}
	return NoContent(w)
}

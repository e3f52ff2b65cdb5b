package oktaapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// mountRoles serves Okta's administrator role assignment API for users
// (RoleAssignmentAUser, RoleTarget for catalog apps, and the list of
// users with role assignments) over Gatehouse's three roles. Grants and
// revokes go through adminrole.Service, as the console's do.
func (a *API) mountRoles(m *Mux) {
	m.Handle("GET /api/v1/users/{id}/roles", ReadAccess, a.listUserRoles)
	m.Handle("POST /api/v1/users/{id}/roles", WriteAccess, a.assignUserRole)
	m.Handle("GET /api/v1/users/{id}/roles/{roleId}", ReadAccess, a.getUserRole)
	m.Handle("DELETE /api/v1/users/{id}/roles/{roleId}", WriteAccess, a.unassignUserRole)
	m.Handle("GET /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps", ReadAccess, a.listAppTargets)
	m.Handle("PUT /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps", WriteAccess, a.assignAllAppTargets)
	m.Handle("PUT /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps/{appName}", WriteAccess, a.assignAppTarget)
	m.Handle("DELETE /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps/{appName}", WriteAccess, a.unassignAppTarget)
	m.Handle("PUT /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps/{appName}/{appId}", WriteAccess, a.assignAppTarget)
	m.Handle("DELETE /api/v1/users/{id}/roles/{roleId}/targets/catalog/apps/{appName}/{appId}", WriteAccess, a.unassignAppTarget)
	m.Handle("GET /api/v1/iam/assignees/users", ReadAccess, a.listRoleAssignees)

	// A group's roles (RoleAssignmentBGroup): every member holds them.
	m.HandleGroupSub("roles", a.listGroupRoles)
	m.Handle("POST /api/v1/groups/{id}/roles", WriteAccess, a.assignGroupRole)
	m.Handle("GET /api/v1/groups/{id}/roles/{roleId}", ReadAccess, a.getGroupRole)
	m.Handle("DELETE /api/v1/groups/{id}/roles/{roleId}", WriteAccess, a.unassignGroupRole)
	m.Handle("GET /api/v1/groups/{id}/roles/{roleId}/targets/catalog/apps", ReadAccess, a.listAppTargets)
	m.Handle("PUT /api/v1/groups/{id}/roles/{roleId}/targets/catalog/apps/{appName}", WriteAccess, a.assignAppTarget)
	m.Handle("DELETE /api/v1/groups/{id}/roles/{roleId}/targets/catalog/apps/{appName}", WriteAccess, a.unassignAppTarget)
	m.Handle("PUT /api/v1/groups/{id}/roles/{roleId}/targets/catalog/apps/{appName}/{appId}", WriteAccess, a.assignAppTarget)
	m.Handle("DELETE /api/v1/groups/{id}/roles/{roleId}/targets/catalog/apps/{appName}/{appId}", WriteAccess, a.unassignAppTarget)
}

// RoleJSON renders a grant as Okta's Role object (a standard role
// assigned to a user, or to a group: assignmentType GROUP, the group as
// assignee, also in a member's list of roles).
func (a *API) RoleJSON(g adminrole.Grant) map[string]any {
	kind, assignee := "USER", a.Href("/api/v1/users/%s", g.UserID)
	if g.GroupID != "" {
		kind, assignee = "GROUP", a.Href("/api/v1/groups/%s", g.GroupID)
	}
	return map[string]any{
		"id":             g.ID(),
		"label":          adminrole.Label(g.Role),
		"type":           g.Role,
		"status":         "ACTIVE",
		"created":        Time(g.Created),
		"lastUpdated":    Time(g.Created),
		"assignmentType": kind,
		"_links":         map[string]any{"assignee": assignee},
	}
}

func (a *API) roleService() (*adminrole.Service, error) {
	if a.Admins == nil {
		return nil, errs.New(errs.Unavailable, "administrator roles are not available")
	}
	return a.Admins, nil
}

func (a *API) listUserRoles(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.roleService()
	if err != nil {
		return err
	}
	u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	gs, err := svc.Grants(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(gs))
	for i, g := range gs {
		out[i] = a.RoleJSON(g)
	}
	return WriteJSON(w, out)
}

func (a *API) assignUserRole(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.roleService()
	if err != nil {
		return err
	}
	role, err := roleType(r)
	if err != nil {
		return err
	}
	u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	g, err := svc.Grant(r.Context(), u, role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a.RoleJSON(g))
}

// roleType reads the body of a role assignment ({"type": ...}), one of
// Gatehouse's roles.
func roleType(r *http.Request) (string, error) {
	var in struct {
		Type string `json:"type"`
	}
	// role and resource-set come with type CUSTOM, which is refused below.
	if err := DecodeStrict(r, &in, []string{"type"}, "role", "resource-set"); err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Type) == "" {
		return "", errs.InvalidFields("Api validation failed: type",
			errs.Field("type", "type: The field cannot be left blank; use one of SUPER_ADMIN, APP_ADMIN, READ_ONLY_ADMIN"))
	}
	if !adminrole.Valid(in.Type) {
		return "", adminrole.InvalidRole(in.Type)
	}
	return in.Type, nil
}

func roleNotFound(id string) error {
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + id + " (Role)"}
}

// userRole finds the person of the path and their role assignment named
// roleId.
func (a *API) userRole(r *http.Request) (*adminrole.Service, *directory.User, adminrole.Grant, error) {
	svc, err := a.roleService()
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	gs, err := svc.Grants(r.Context(), u.ID)
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	id := r.PathValue("roleId")
	for _, g := range gs {
		if g.ID() == id {
			return svc, u, g, nil
		}
	}
	return nil, nil, adminrole.Grant{}, roleNotFound(id)
}

// groupRole finds the group of the path and its role assignment named
// roleId.
func (a *API) groupRole(r *http.Request) (*adminrole.Service, *directory.Group, adminrole.Grant, error) {
	svc, err := a.roleService()
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	gs, err := svc.GroupGrants(r.Context(), g.ID)
	if err != nil {
		return nil, nil, adminrole.Grant{}, err
	}
	id := r.PathValue("roleId")
	for _, gr := range gs {
		if gr.ID() == id {
			return svc, g, gr, nil
		}
	}
	return nil, nil, adminrole.Grant{}, roleNotFound(id)
}

func (a *API) listGroupRoles(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.roleService()
	if err != nil {
		return err
	}
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	gs, err := svc.GroupGrants(r.Context(), g.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(gs))
	for i, gr := range gs {
		out[i] = a.RoleJSON(gr)
	}
	return WriteJSON(w, out)
}

func (a *API) assignGroupRole(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.roleService()
	if err != nil {
		return err
	}
	role, err := roleType(r)
	if err != nil {
		return err
	}
	g, err := a.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	gr, err := svc.GrantGroup(r.Context(), g, role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a.RoleJSON(gr))
}

func (a *API) getGroupRole(w http.ResponseWriter, r *http.Request) error {
	_, _, gr, err := a.groupRole(r)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.RoleJSON(gr))
}

func (a *API) unassignGroupRole(w http.ResponseWriter, r *http.Request) error {
	svc, g, gr, err := a.groupRole(r)
	if err != nil {
		return err
	}
	if err := svc.RevokeGroup(r.Context(), g, gr.Role); err != nil {
		return err
	}
	return NoContent(w)
}

func (a *API) getUserRole(w http.ResponseWriter, r *http.Request) error {
	_, _, g, err := a.userRole(r)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.RoleJSON(g))
}

func (a *API) unassignUserRole(w http.ResponseWriter, r *http.Request) error {
	svc, u, g, err := a.userRole(r)
	if err != nil {
		return err
	}
	if g.GroupID != "" {
		// Okta revokes a role held through a group on the group only.
		return adminrole.ErrThroughGroup(g.GroupID)
	}
	if err := svc.Revoke(r.Context(), PrincipalFrom(r.Context()).UserID, u, g.Role); err != nil {
		return err
	}
	return NoContent(w)
}

// appAdminRole is the role assignment of a targets path (a user's or a
// group's), which must be an Application Administrator's (Okta's E0000091
// otherwise).
func (a *API) appAdminRole(r *http.Request) (adminrole.Grant, error) {
	var g adminrole.Grant
	var err error
	if strings.HasPrefix(r.URL.Path, "/api/v1/groups/") {
		_, _, g, err = a.groupRole(r)
	} else {
		_, _, g, err = a.userRole(r)
	}
	if err != nil {
		return g, err
	}
	if g.Role != adminrole.AppAdmin {
		return g, &errs.Error{Kind: errs.Invalid, Code: "E0000091", Msg: "The provided role type was not the same as required role type."}
	}
	return g, nil
}

// listAppTargets answers as Okta does for an APP_ADMIN role that is not
// limited to some apps: an empty list. Gatehouse's application
// administrators always administer every app.
func (a *API) listAppTargets(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.appAdminRole(r); err != nil {
		return err
	}
	if _, err := Limit(r, 20, 200); err != nil {
		return err
	}
	a.LinkHeaders(w, r, "")
	return WriteJSON(w, []any{})
}

// assignAllAppTargets is Okta's "assign all apps as target": what every
// Gatehouse application administrator already has, so nothing changes.
func (a *API) assignAllAppTargets(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.appAdminRole(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// assignAppTarget would limit the role to one catalog app or app
// instance; Gatehouse cannot limit an application administrator, so the
// request is refused and nothing changes.
func (a *API) assignAppTarget(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.appAdminRole(r); err != nil {
		return err
	}
	return errs.InvalidFields("Api validation failed: target",
		errs.Field("target", "target: Gatehouse's Application Administrator role covers every app and cannot be limited to some apps"))
}

// unassignAppTarget: an unlimited role has no app targets to remove.
func (a *API) unassignAppTarget(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.appAdminRole(r); err != nil {
		return err
	}
	name := r.PathValue("appName")
	if id := r.PathValue("appId"); id != "" {
		name += "/" + id
	}
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + name + " (CatalogApp target)"}
}

// listRoleAssignees lists the users who hold an admin role, in id order
// (Okta's listUsersWithRoleAssignments: limit, default 100, and after).
func (a *API) listRoleAssignees(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.roleService()
	if err != nil {
		return err
	}
	limit, err := Limit(r, 100, 1000)
	if err != nil {
		return err
	}
	ids, err := svc.Assignees(r.Context(), r.URL.Query().Get("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	value := make([]map[string]any, len(ids))
	for i, id := range ids {
		value[i] = map[string]any{
			"id": id,
			"_links": map[string]any{
				"self":  a.Href("/api/v1/users/%s", id),
				"roles": a.Href("/api/v1/users/%s/roles", id),
			},
		}
	}
	out := map[string]any{"value": value}
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		out["_links"] = map[string]any{"next": map[string]any{"href": a.BaseURL + r.URL.Path + "?" + q.Encode()}}
	}
	a.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

package oktaapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
)

func (h *Apps) mountAssignments(m *Mux) {
	m.Handle("GET /api/v1/apps/{id}/users", ReadAccess, h.listAppUsers)
	m.Handle("POST /api/v1/apps/{id}/users", AppAccess, h.assignUser)
	m.Handle("GET /api/v1/apps/{id}/users/{userId}", ReadAccess, h.getAppUser)
	m.Handle("POST /api/v1/apps/{id}/users/{userId}", AppAccess, h.updateAppUser)
	m.Handle("DELETE /api/v1/apps/{id}/users/{userId}", AppAccess, h.unassignUser)
	m.Handle("GET /api/v1/apps/{id}/groups", ReadAccess, h.listAppGroups)
	m.Handle("GET /api/v1/apps/{id}/groups/{groupId}", ReadAccess, h.getAppGroup)
	m.Handle("PUT /api/v1/apps/{id}/groups/{groupId}", AppAccess, h.assignGroup)
	m.Handle("PATCH /api/v1/apps/{id}/groups/{groupId}", AppAccess, h.patchGroup)
	m.Handle("DELETE /api/v1/apps/{id}/groups/{groupId}", AppAccess, h.unassignGroup)
	m.Handle("GET /api/v1/users/{id}/appLinks", ReadAccess, h.userAppLinks)
	m.HandleGroupSub("apps", h.listGroupApps)
}

// AppUserJSON renders an effective assignment as Okta's app user.
func (h *Apps) AppUserJSON(as *catalog.Assignment) map[string]any {
	links := map[string]any{
		"app":  h.API.Href("/api/v1/apps/%s", as.AppID),
		"user": h.API.Href("/api/v1/users/%s", as.UserID),
	}
	if as.Scope == catalog.ScopeGroup {
		links["group"] = h.API.Href("/api/v1/groups/%s", as.GroupID)
	}
	profile := as.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	out := map[string]any{
		"id":              as.UserID,
		"created":         Time(as.Created),
		"lastUpdated":     Time(as.LastUpdated),
		"scope":           string(as.Scope),
		"status":          as.Status,
		"statusChanged":   Time(as.StatusChanged),
		"passwordChanged": nil,
		"syncState":       as.SyncState,
		"credentials":     map[string]any{"userName": as.UserName},
		"profile":         profile,
		"_links":          links,
	}
	// externalId is a string in Okta's spec, not nullable, and set only
	// once the app's own id of the user is known (provisioning).
	setNonEmpty(out, "externalId", as.ExternalID)
	return out
}

// AppGroupJSON renders a group assignment as Okta does.
func (h *Apps) AppGroupJSON(g *catalog.GroupAssignment) map[string]any {
	profile := g.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	return map[string]any{
		"id":          g.GroupID,
		"lastUpdated": Time(g.LastUpdated),
		"priority":    g.Priority,
		"profile":     profile,
		"_links": map[string]any{
			"app":   h.API.Href("/api/v1/apps/%s", g.AppID),
			"self":  h.API.Href("/api/v1/apps/%s/groups/%s", g.AppID, g.GroupID),
			"group": h.API.Href("/api/v1/groups/%s", g.GroupID),
		},
	}
}

type appUserCredentialsIn struct {
	UserName *string        `json:"userName"`
	Password map[string]any `json:"password"`
}

type appUserIn struct {
	ID          string                `json:"id"`
	Scope       string                `json:"scope"`
	Credentials *appUserCredentialsIn `json:"credentials"`
	Profile     map[string]any        `json:"profile"`
}

var appUserReadOnly = []string{"externalId", "created", "lastUpdated", "lastSync", "passwordChanged", "status", "statusChanged", "syncState", "_links", "_embedded"}

func (in *appUserIn) input() (catalog.AssignUserInput, error) {
	if in.Scope != "" && in.Scope != string(catalog.ScopeUser) {
		return catalog.AssignUserInput{}, errs.InvalidFields("Api validation failed: scope", errs.Field("scope", "scope: only USER assignments are made here; assign groups with PUT /api/v1/apps/{id}/groups/{groupId}"))
	}
	out := catalog.AssignUserInput{Profile: in.Profile}
	if c := in.Credentials; c != nil {
		if c.Password != nil {
			// Okta's answer for credentials a sign-on scheme has no
			// place for (SAML apps keep no passwords).
			return out, &errs.Error{Kind: errs.Invalid, Code: "E0000041", Msg: "Credentials should not be set on this resource based on the scheme.",
				Fields: []errs.FieldError{{Message: "User level credentials should not be provided for this scheme."}}}
		}
		out.UserName = c.UserName
	}
	return out, nil
}

func (h *Apps) assignUser(w http.ResponseWriter, r *http.Request) error {
	var in appUserIn
	if err := DecodeStrict(r, &in, []string{"id", "scope", "credentials", "profile"}, appUserReadOnly...); err != nil {
		return err
	}
	if in.ID == "" {
		return errs.InvalidFields("Api validation failed: id", errs.Field("id", "id: The field cannot be left blank"))
	}
	ai, err := in.input()
	if err != nil {
		return err
	}
	as, err := h.Catalog.AssignUser(r.Context(), r.PathValue("id"), in.ID, ai)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppUserJSON(as))
}

func (h *Apps) updateAppUser(w http.ResponseWriter, r *http.Request) error {
	var in appUserIn
	if err := DecodeStrict(r, &in, []string{"id", "scope", "credentials", "profile"}, appUserReadOnly...); err != nil {
		return err
	}
	if in.ID != "" && in.ID != r.PathValue("userId") {
		return errs.InvalidFields("Api validation failed: id", errs.Field("id", "id: does not match the user in the path"))
	}
	in.Scope = ""
	ai, err := in.input()
	if err != nil {
		return err
	}
	as, err := h.Catalog.UpdateAppUser(r.Context(), r.PathValue("id"), r.PathValue("userId"), ai)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppUserJSON(as))
}

func (h *Apps) getAppUser(w http.ResponseWriter, r *http.Request) error {
	as, err := h.Catalog.Assignment(r.Context(), r.PathValue("id"), r.PathValue("userId"))
	if err != nil {
		return err
	}
	j, err := h.appUserExpanded(r, as, Expands(r)["user"])
	if err != nil {
		return err
	}
	return WriteJSON(w, j)
}

// appUserExpanded renders an app user, with the person's User object in
// _embedded.user for expand=user (Okta's listApplicationUsers and
// getApplicationUser). A person removed meanwhile embeds nothing.
func (h *Apps) appUserExpanded(r *http.Request, as *catalog.Assignment, withUser bool) (map[string]any, error) {
	j := h.AppUserJSON(as)
	if !withUser {
		return j, nil
	}
	u, err := h.API.Directory.Store.User(r.Context(), as.UserID)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return nil, err
	default:
		j["_embedded"] = map[string]any{"user": h.API.UserJSON(u)}
	}
	return j, nil
}

// appGroupExpanded renders a group assignment, with the Group object in
// _embedded.group for expand=group (Okta's
// listApplicationGroupAssignments and getApplicationGroupAssignment).
// expand=metadata (Okta's assignment metadata) embeds nothing: Gatehouse
// keeps none.
func (h *Apps) appGroupExpanded(r *http.Request, g *catalog.GroupAssignment, withGroup bool) (map[string]any, error) {
	j := h.AppGroupJSON(g)
	if !withGroup {
		return j, nil
	}
	grp, err := h.API.Directory.Store.Group(r.Context(), g.GroupID)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return nil, err
	default:
		j["_embedded"] = map[string]any{"group": h.API.GroupJSON(grp)}
	}
	return j, nil
}

func (h *Apps) unassignUser(w http.ResponseWriter, r *http.Request) error {
	if err := h.Catalog.UnassignUser(r.Context(), r.PathValue("id"), r.PathValue("userId")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *Apps) listAppUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 50, 500)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	list, err := h.Catalog.AppUsers(r.Context(), catalog.AppUserQuery{AppID: r.PathValue("id"), Q: qs.Get("q"), After: qs.Get("after"), Limit: limit + 1})
	if err != nil {
		return err
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].UserID
	}
	h.API.LinkHeaders(w, r, next)
	withUser := Expands(r)["user"]
	out := make([]map[string]any, len(list))
	for i, as := range list {
		if out[i], err = h.appUserExpanded(r, as, withUser); err != nil {
			return err
		}
	}
	return WriteJSON(w, out)
}

type appGroupIn struct {
	ID       string         `json:"id"`
	Priority *int           `json:"priority"`
	Profile  map[string]any `json:"profile"`
}

func (h *Apps) assignGroup(w http.ResponseWriter, r *http.Request) error {
	// The body is optional (assignGroupToApplication); the Go SDK sends
	// null for none.
	var in appGroupIn
	if err := DecodeOptional(r, &in, []string{"id", "priority", "profile"}, "lastUpdated", "_links", "_embedded"); err != nil {
		return err
	}
	if in.ID != "" && in.ID != r.PathValue("groupId") {
		return errs.InvalidFields("Api validation failed: id", errs.Field("id", "id: does not match the group in the path"))
	}
	g, err := h.Catalog.AssignGroup(r.Context(), r.PathValue("id"), r.PathValue("groupId"), catalog.AssignGroupInput{Priority: in.Priority, Profile: in.Profile})
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppGroupJSON(g))
}

// patchOp is one operation of Okta's updateGroupAssignmentToApplication,
// a JSON Patch subset: replace or remove.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// patchGroup updates an app's group assignment with Okta's JSON Patch
// operations (PATCH /api/v1/apps/{id}/groups/{groupId}): replace
// /priority (a whole number), replace /profile (an object), replace
// /profile/{attribute} (any value), remove /profile/{attribute} and
// remove /profile. The result is checked and written as PUT writes an
// assignment; a refused operation changes nothing. The group must be
// assigned already (404 otherwise).
func (h *Apps) patchGroup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, err := readBody(r)
	if err != nil {
		return err
	}
	var ops []patchOp
	if t := bytes.TrimSpace(b); len(t) > 0 && string(t) != "null" {
		if err := checkBodyText(b); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ops); err != nil {
			return Malformed(jsonProblem(err))
		}
	}
	a, err := h.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	cur, err := h.Catalog.Store.GroupAssignment(ctx, a.ID, r.PathValue("groupId"))
	if err != nil {
		return err
	}
	priority := cur.Priority
	profile := map[string]any{}
	for k, v := range cur.Profile {
		profile[k] = v
	}
	for i, op := range ops {
		bad := func(format string, args ...any) error {
			field := fmt.Sprintf("[%d]", i)
			return errs.InvalidFields("Api validation failed: "+op.Path, errs.Field(field, "%s: "+format, append([]any{field}, args...)...))
		}
		hasValue := len(bytes.TrimSpace(op.Value)) > 0
		switch {
		case op.Op != "replace" && op.Op != "remove":
			return bad("op must be replace or remove, not %q", op.Op)
		case op.Path == "/priority":
			if op.Op == "remove" {
				return bad("/priority cannot be removed")
			}
			var n int
			if err := json.Unmarshal(op.Value, &n); err != nil || !hasValue {
				return bad("/priority takes a whole number")
			}
			priority = n
		case op.Path == "/profile":
			if op.Op == "remove" {
				profile = map[string]any{}
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(op.Value, &m); err != nil || m == nil {
				return bad("/profile takes an object")
			}
			profile = m
		case strings.HasPrefix(op.Path, "/profile/") && len(op.Path) > len("/profile/"):
			attr := strings.NewReplacer("~1", "/", "~0", "~").Replace(strings.TrimPrefix(op.Path, "/profile/"))
			if strings.Contains(attr, "/") {
				return bad("only top-level profile attributes can be changed")
			}
			if op.Op == "remove" {
				delete(profile, attr)
				continue
			}
			var v any
			if err := json.Unmarshal(op.Value, &v); err != nil || !hasValue {
				return bad("replace needs a value")
			}
			profile[attr] = v
		default:
			return bad("path must be /priority, /profile or /profile/{attribute}")
		}
	}
	if len(ops) == 0 {
		return WriteJSON(w, h.AppGroupJSON(cur))
	}
	g, err := h.Catalog.AssignGroup(ctx, a.ID, cur.GroupID, catalog.AssignGroupInput{Priority: &priority, Profile: profile})
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppGroupJSON(g))
}

func (h *Apps) getAppGroup(w http.ResponseWriter, r *http.Request) error {
	a, err := h.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	g, err := h.Catalog.Store.GroupAssignment(r.Context(), a.ID, r.PathValue("groupId"))
	if err != nil {
		return err
	}
	j, err := h.appGroupExpanded(r, g, Expands(r)["group"])
	if err != nil {
		return err
	}
	return WriteJSON(w, j)
}

func (h *Apps) unassignGroup(w http.ResponseWriter, r *http.Request) error {
	if err := h.Catalog.UnassignGroup(r.Context(), r.PathValue("id"), r.PathValue("groupId")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *Apps) listAppGroups(w http.ResponseWriter, r *http.Request) error {
	a, err := h.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	// q keeps the groups whose name starts with it (Okta's startsWith
	// on the group name).
	qs := r.URL.Query()
	gs, err := h.Catalog.Store.GroupAssignments(r.Context(), a.ID, qs.Get("q"), qs.Get("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(gs) > limit {
		gs = gs[:limit]
		next = gs[limit-1].GroupID
	}
	h.API.LinkHeaders(w, r, next)
	withGroup := Expands(r)["group"]
	out := make([]map[string]any, len(gs))
	for i, g := range gs {
		if out[i], err = h.appGroupExpanded(r, g, withGroup); err != nil {
			return err
		}
	}
	return WriteJSON(w, out)
}

// listGroupApps lists the apps a group is assigned to (Okta's
// listAssignedApplicationsForGroup, what a group's _links.apps names), in
// app id order, paged with limit (default 20) and after.
func (h *Apps) listGroupApps(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	g, err := h.API.Directory.Store.Group(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	gas, err := h.Catalog.Store.GroupApps(ctx, g.ID, r.URL.Query().Get("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(gas) > limit {
		gas = gas[:limit]
		next = gas[limit-1].AppID
	}
	out := make([]map[string]any, 0, len(gas))
	for _, ga := range gas {
		a, err := h.Catalog.Store.App(ctx, ga.AppID)
		if errs.Is(err, errs.NotFound) {
			continue // deleted since the page was read
		}
		if err != nil {
			return err
		}
		out = append(out, h.AppJSON(a))
	}
	h.API.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

// userAppLinks lists a user's app links (Okta's GET /users/{id}/appLinks),
// what the dashboard shows: the ACTIVE apps the user has.
func (h *Apps) userAppLinks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := h.Catalog.Directory.User(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	apps, err := h.Catalog.AppsForUser(ctx, u.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(apps))
	for i, a := range apps {
		// No logoUrl (Gatehouse has no app logos) and no appAssignmentId
		// (assignments have no id of their own): Okta's spec types both as
		// strings, not nullable, so they are left out rather than null.
		out = append(out, map[string]any{
			"id":               a.ID + "_login",
			"label":            a.Label,
			"linkUrl":          h.API.BaseURL + a.LoginLinkPath(),
			"appName":          a.Name,
			"appInstanceId":    a.ID,
			"credentialsSetup": false,
			"hidden":           a.Visibility.Hide.Web || !a.Visibility.AppLinks["login"],
			"sortOrder":        i,
		})
	}
	return WriteJSON(w, out)
}

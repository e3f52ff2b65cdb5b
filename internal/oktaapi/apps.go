package oktaapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// Apps serves Okta's Apps API over the catalog: app instances, their
// signing keys, user and group assignments, users' app links, and the app
// catalog (a Gatehouse extension). Mount it through API.Extra.
type Apps struct {
	API     *API
	Catalog *catalog.Service
}

// Mount registers the routes.
func (h *Apps) Mount(m *Mux) {
	m.Handle("GET /api/v1/catalog/apps", ReadAccess, h.listTemplates)
	m.Handle("GET /api/v1/catalog/apps/{key}", ReadAccess, h.getTemplate)
	m.Handle("POST /api/v1/apps", AppAccess, h.createApp)
	m.Handle("GET /api/v1/apps", ReadAccess, h.listApps)
	m.Handle("GET /api/v1/apps/{id}", ReadAccess, h.getApp)
	m.Handle("PUT /api/v1/apps/{id}", AppAccess, h.replaceApp)
	m.Handle("DELETE /api/v1/apps/{id}", AppAccess, h.deleteApp)
	m.Handle("POST /api/v1/apps/{id}/lifecycle/{op}", AppAccess, h.appLifecycle)
	h.mountKeys(m)
	h.mountAssignments(m)
}

// AppJSON renders an app as Okta does. Write-only settings are null.
func (h *Apps) AppJSON(a *catalog.App) map[string]any {
	base := h.API.BaseURL
	tmpl := catalog.TemplateFor(a.Name)
	settingsApp := map[string]any{}
	for k, v := range a.Settings.App {
		settingsApp[k] = v
	}
	for _, f := range tmpl.Fields {
		if f.WriteOnly {
			settingsApp[f.Name] = nil
		}
	}
	so := a.Settings.SignOn
	if so.AcsEndpoints == nil {
		so.AcsEndpoints = []catalog.ACSEndpoint{}
	}
	if so.AttributeStatements == nil {
		so.AttributeStatements = []catalog.AttributeStatement{}
	}
	appLinks := map[string]bool{}
	for k, v := range a.Visibility.AppLinks {
		appLinks[k] = v
	}
	post := map[string]any{"allow": []string{"POST"}}
	links := map[string]any{
		"appLinks": []any{map[string]any{"name": "login", "href": base + a.LoginLinkPath(), "type": "text/html"}},
		"metadata": map[string]any{"href": base + "/api/v1/apps/" + a.ID + "/sso/saml/metadata", "type": "application/xml"},
		"users":    h.API.Href("/api/v1/apps/%s/users", a.ID),
		"groups":   h.API.Href("/api/v1/apps/%s/groups", a.ID),
		"self":     h.API.Href("/api/v1/apps/%s", a.ID),
		"logo":     []any{},
	}
	if a.Status == catalog.Active {
		links["deactivate"] = map[string]any{"href": base + "/api/v1/apps/" + a.ID + "/lifecycle/deactivate", "hints": post}
	} else {
		links["activate"] = map[string]any{"href": base + "/api/v1/apps/" + a.ID + "/lifecycle/activate", "hints": post}
	}
	// Okta's spec types errorRedirectUrl and loginRedirectUrl as
	// strings, not nullable: an unset one is left out.
	accessibility := map[string]any{"selfService": a.Accessibility.SelfService}
	setNonEmpty(accessibility, "errorRedirectUrl", a.Accessibility.ErrorRedirectURL)
	setNonEmpty(accessibility, "loginRedirectUrl", a.Accessibility.LoginRedirectURL)
	return map[string]any{
		"id":            a.ID,
		"name":          a.Name,
		"label":         a.Label,
		"status":        string(a.Status),
		"created":       Time(a.Created),
		"lastUpdated":   Time(a.LastUpdated),
		"signOnMode":    a.SignOnMode,
		"accessibility": accessibility,
		"visibility": map[string]any{
			"autoSubmitToolbar": a.Visibility.AutoSubmitToolbar,
			"hide":              map[string]any{"iOS": a.Visibility.Hide.IOS, "web": a.Visibility.Hide.Web},
			"appLinks":          appLinks,
		},
		"features": []string{},
		"credentials": map[string]any{
			"userNameTemplate": map[string]any{"template": a.Credentials.UserNameTemplate.Template, "type": a.Credentials.UserNameTemplate.Type},
			"signing":          map[string]any{"kid": a.Credentials.SigningKid},
		},
		"settings": map[string]any{
			"app":                settingsApp,
			"manualProvisioning": false,
			"implicitAssignment": false,
			"notes":              map[string]any{"admin": nullIfEmpty(a.Settings.Notes.Admin), "enduser": nullIfEmpty(a.Settings.Notes.EndUser)},
			"signOn":             so,
		},
		"_links": links,
	}
}

// setNonEmpty sets m[key] to s unless s is empty: for the members Okta's
// spec types as a string that is not nullable, which an unset value
// leaves out rather than sends as null.
func setNonEmpty(m map[string]any, key, s string) {
	if s != "" {
		m[key] = s
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// appIn is the body of POST and PUT /api/v1/apps.
type appIn struct {
	Name          string              `json:"name"`
	Label         string              `json:"label"`
	SignOnMode    string              `json:"signOnMode"`
	Visibility    *catalog.Visibility `json:"visibility"`
	Accessibility *struct {
		SelfService      bool    `json:"selfService"`
		ErrorRedirectURL *string `json:"errorRedirectUrl"`
		LoginRedirectURL *string `json:"loginRedirectUrl"`
	} `json:"accessibility"`
	Credentials *struct {
		UserNameTemplate *catalog.UserNameTemplate `json:"userNameTemplate"`
		Signing          *struct {
			Kid string `json:"kid"`
		} `json:"signing"`
	} `json:"credentials"`
	Settings *struct {
		App    map[string]any  `json:"app"`
		SignOn json.RawMessage `json:"signOn"`
		Notes  *struct {
			Admin   *string `json:"admin"`
			EndUser *string `json:"enduser"`
		} `json:"notes"`
	} `json:"settings"`
}

var (
	appMembers = []string{"name", "label", "signOnMode", "visibility", "accessibility", "credentials", "settings"}
	// read-only or unsupported members clients send back, accepted and dropped.
	appReadOnly = []string{"id", "created", "lastUpdated", "status", "features", "_links", "_embedded", "licensing", "profile", "orn", "universalLogout", "expressConfiguration"}
)

// signOnMembers are the settings.signOn members Gatehouse reads;
// signOnIgnored those it accepts and drops.
var (
	signOnMembers = jsonNames(catalog.SignOn{})
	signOnIgnored = []string{"inlineHooks", "participateSlo", "configuredAttributeStatements", "audienceOverride",
		"destinationOverride", "recipientOverride", "ssoAcsUrlOverride"}
)

// jsonNames lists the JSON member names of a struct's fields.
func jsonNames(v any) []string {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// decodeSignOn reads settings.signOn over base, so members the client
// leaves out keep base's values.
func decodeSignOn(raw json.RawMessage, base catalog.SignOn) (*catalog.SignOn, error) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, Malformed("settings.signOn must be a JSON object")
	}
	ok := map[string]bool{}
	for _, k := range signOnMembers {
		ok[k] = true
	}
	for _, k := range signOnIgnored {
		if _, present := m[k]; present {
			delete(m, k)
		}
		ok[k] = true
	}
	for k := range m {
		if !ok[k] {
			return nil, Malformed("Unrecognized field \"settings.signOn." + k + "\"")
		}
	}
	clean, _ := json.Marshal(m)
	so := base
	// Slices are replaced, not merged, by Unmarshal; start them empty.
	if _, ok := m["acsEndpoints"]; ok {
		so.AcsEndpoints = nil
	}
	if _, ok := m["attributeStatements"]; ok {
		so.AttributeStatements = nil
	}
	if err := json.Unmarshal(clean, &so); err != nil {
		return nil, Malformed("settings.signOn." + jsonProblem(err))
	}
	return &so, nil
}

func (in *appIn) input(base catalog.SignOn) (catalog.AppInput, error) {
	out := catalog.AppInput{Name: in.Name, Label: in.Label, SignOnMode: in.SignOnMode, Visibility: in.Visibility}
	if out.SignOnMode == "" {
		out.SignOnMode = catalog.SignOnModeSAML2
	}
	if acc := in.Accessibility; acc != nil {
		out.Accessibility = &catalog.Accessibility{SelfService: acc.SelfService}
		if acc.ErrorRedirectURL != nil {
			out.Accessibility.ErrorRedirectURL = *acc.ErrorRedirectURL
		}
		if acc.LoginRedirectURL != nil {
			out.Accessibility.LoginRedirectURL = *acc.LoginRedirectURL
		}
	}
	if c := in.Credentials; c != nil {
		out.UserNameTemplate = c.UserNameTemplate
		if c.Signing != nil {
			out.SigningKid = c.Signing.Kid
		}
	}
	if st := in.Settings; st != nil {
		out.SettingsApp = st.App
		so, err := decodeSignOn(st.SignOn, base)
		if err != nil {
			return out, err
		}
		out.SignOn = so
		if st.Notes != nil {
			out.Notes = &catalog.Notes{}
			if st.Notes.Admin != nil {
				out.Notes.Admin = *st.Notes.Admin
			}
			if st.Notes.EndUser != nil {
				out.Notes.EndUser = *st.Notes.EndUser
			}
		}
	}
	return out, nil
}

func baseSignOn(name string) catalog.SignOn {
	if t := catalog.TemplateByKey(name); t != nil {
		return t.DefaultSignOn
	}
	return catalog.TemplateFor("").DefaultSignOn
}

func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: " + name,
			Fields: []errs.FieldError{{Field: name, Message: name + ": must be a whole number"}}}
	}
	return n, nil
}

func (h *Apps) createApp(w http.ResponseWriter, r *http.Request) error {
	activate, err := BoolParam(r.URL.Query(), "activate", true)
	if err != nil {
		return err
	}
	bits, err := intParam(r, "keyBits", 0)
	if err != nil {
		return err
	}
	var in appIn
	if err := DecodeStrict(r, &in, appMembers, appReadOnly...); err != nil {
		return err
	}
	ai, err := in.input(baseSignOn(in.Name))
	if err != nil {
		return err
	}
	a, err := h.Catalog.CreateApp(r.Context(), ai, catalog.CreateOptions{Activate: activate, KeyBits: bits})
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppJSON(a))
}

func (h *Apps) getApp(w http.ResponseWriter, r *http.Request) error {
	a, err := h.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j := h.AppJSON(a)
	if uid := expandUser(r); uid != "" {
		if err := h.embedAppUser(r, j, a, uid); err != nil {
			return err
		}
	}
	return WriteJSON(w, j)
}

// expandUser is the user of expand=user/{userId} (Okta's getApplication
// and listApplications), or "".
func expandUser(r *http.Request) string {
	for x := range Expands(r) {
		if uid, ok := strings.CutPrefix(x, "user/"); ok && uid != "" {
			return uid
		}
	}
	return ""
}

// embedAppUser embeds in j._embedded.user the app user (assignment) of
// userID in app a, as GET /api/v1/apps/{id}/users/{userId} renders it;
// nothing when the user is unknown or not assigned.
func (h *Apps) embedAppUser(r *http.Request, j map[string]any, a *catalog.App, userID string) error {
	u, err := h.Catalog.Directory.User(r.Context(), userID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	as, err := h.Catalog.AssignmentOf(r.Context(), a, u)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	j["_embedded"] = map[string]any{"user": h.AppUserJSON(as)}
	return nil
}

func (h *Apps) replaceApp(w http.ResponseWriter, r *http.Request) error {
	cur, err := h.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in appIn
	if err := DecodeStrict(r, &in, appMembers, appReadOnly...); err != nil {
		return err
	}
	ai, err := in.input(catalog.TemplateFor(cur.Name).DefaultSignOn)
	if err != nil {
		return err
	}
	a, err := h.Catalog.UpdateApp(r.Context(), cur.ID, ai)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.AppJSON(a))
}

func (h *Apps) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := h.Catalog.DeleteApp(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *Apps) appLifecycle(w http.ResponseWriter, r *http.Request) error {
	var err error
	switch r.PathValue("op") {
	case "activate":
		err = h.Catalog.ActivateApp(r.Context(), r.PathValue("id"))
	case "deactivate":
		err = h.Catalog.DeactivateApp(r.Context(), r.PathValue("id"))
	default:
		return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
	}
	if err != nil {
		return err
	}
	return WriteJSON(w, map[string]any{})
}

// AppFilterOptions are what the apps list `filter` accepts: equality on
// id, status, name, user.id and group.id, joined with and.
var AppFilterOptions = filter.Options{Attributes: map[string]filter.OpSet{
	"id":       filter.Ops(filter.OpEq),
	"status":   filter.Ops(filter.OpEq),
	"name":     filter.Ops(filter.OpEq),
	"user.id":  filter.Ops(filter.OpEq),
	"group.id": filter.Ops(filter.OpEq),
}}

func appQueryFilter(e filter.Expr, q *catalog.AppQuery) error {
	switch x := e.(type) {
	case *filter.Logical:
		if x.Op != filter.And {
			return errs.Invalidf("only and may join app filter conditions")
		}
		if err := appQueryFilter(x.Left, q); err != nil {
			return err
		}
		return appQueryFilter(x.Right, q)
	case *filter.Compare:
		if x.Value.Kind != filter.KindString {
			return errs.Invalidf("%s must be compared with a string", x.Attr)
		}
		switch x.Attr {
		case "id":
			q.ID = x.Value.Str
		case "status":
			q.Status = catalog.Status(x.Value.Str)
		case "name":
			q.Name = x.Value.Str
		case "user.id":
			q.UserID = x.Value.Str
		case "group.id":
			q.GroupID = x.Value.Str
		}
		return nil
	}
	return errs.Invalidf("unsupported app filter")
}

func (h *Apps) listApps(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	q := catalog.AppQuery{Q: qs.Get("q"), After: qs.Get("after"), Limit: limit + 1}
	if f := qs.Get("filter"); f != "" {
		expr, err := filter.Parse(f, AppFilterOptions)
		if err != nil {
			return searchError("filter", err)
		}
		if err := appQueryFilter(expr, &q); err != nil {
			return searchError("filter", err)
		}
	}
	apps, err := h.Catalog.Store.Apps(r.Context(), q)
	if err != nil {
		return err
	}
	next := ""
	if len(apps) > limit {
		apps = apps[:limit]
		next = apps[limit-1].ID
	}
	h.API.LinkHeaders(w, r, next)
	// expand=user/{userId} goes with the filter user.id eq "{userId}"
	// (Okta's listApplications): each app, assigned to that user, embeds
	// the user's app user. Without that filter it embeds nothing.
	uid := expandUser(r)
	if uid != q.UserID {
		uid = ""
	}
	out := make([]map[string]any, len(apps))
	for i, a := range apps {
		out[i] = h.AppJSON(a)
		if uid != "" {
			if err := h.embedAppUser(r, out[i], a, uid); err != nil {
				return err
			}
		}
	}
	return WriteJSON(w, out)
}

// TemplateJSON renders a catalog entry with its settings schema.
func (h *Apps) TemplateJSON(t *catalog.Template) map[string]any {
	fields := make([]map[string]any, len(t.Fields))
	for i, f := range t.Fields {
		fm := map[string]any{"name": f.Name, "label": f.Label, "type": f.Type, "default": f.Default, "help": f.Help,
			"required": f.Required, "writeOnly": f.WriteOnly}
		if len(f.Enum) > 0 {
			fm["enum"] = f.Enum
		}
		fields[i] = fm
	}
	var name any
	if t.FixedName {
		name = t.Key
	}
	so := t.DefaultSignOn
	if so.AcsEndpoints == nil {
		so.AcsEndpoints = []catalog.ACSEndpoint{}
	}
	if so.AttributeStatements == nil {
		so.AttributeStatements = []catalog.AttributeStatement{}
	}
	return map[string]any{
		"key":         t.Key,
		"name":        name,
		"title":       t.Title,
		"displayName": nullIfEmpty(t.DefaultLabel),
		"description": t.Description,
		"signOnModes": t.SignOnModes,
		"settings":    map[string]any{"app": fields, "signOn": so},
		"_links": map[string]any{
			"self":   h.API.Href("/api/v1/catalog/apps/%s", t.Key),
			"create": map[string]any{"href": h.API.BaseURL + "/api/v1/apps", "hints": map[string]any{"allow": []string{"POST"}}},
		},
	}
}

func (h *Apps) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts := catalog.SearchTemplates(r.URL.Query().Get("q"))
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		out[i] = h.TemplateJSON(t)
	}
	return WriteJSON(w, out)
}

func (h *Apps) getTemplate(w http.ResponseWriter, r *http.Request) error {
	t := catalog.TemplateByKey(r.PathValue("key"))
	if t == nil {
		return errs.NotFoundf("Not found: Resource not found: %s (CatalogApp)", r.PathValue("key"))
	}
	return WriteJSON(w, h.TemplateJSON(t))
}

package console

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// RoleOptions lists the values an AWS app's assignment may choose for
// "Role" and "SAML User Roles" (the IAM roles imported with the app's API
// credentials). The AWS integration implements it.
type RoleOptions interface {
	RoleOptions(ctx context.Context, appID string) ([]string, error)
}

// noRoles is the default RoleOptions: nothing imported, so the form offers
// the values already chosen and free text.
type noRoles struct{}

func (noRoles) RoleOptions(context.Context, string) ([]string, error) { return nil, nil }

func (c *Console) roles() RoleOptions {
	if c.Roles == nil {
		return noRoles{}
	}
	return c.Roles
}

// ConnectProfiles lists the security and routing profile names of an
// Amazon Connect app's instance, for the pickers of assignments and of the
// app's provisioning defaults. The AWS integration implements it.
type ConnectProfiles interface {
	ConnectProfileOptions(ctx context.Context, appID string) (security, routing []string, err error)
}

// noProfiles is the default ConnectProfiles: nothing can be read.
type noProfiles struct{}

func (noProfiles) ConnectProfileOptions(context.Context, string) ([]string, []string, error) {
	return nil, nil, errs.IllegalStatef("Gatehouse cannot read Amazon Connect profiles here.")
}

func (c *Console) connectProfiles() ConnectProfiles {
	if c.Profiles == nil {
		return noProfiles{}
	}
	return c.Profiles
}

// isAWS reports whether an app's template has AWS role assignments.
func isAWS(a *catalog.App) bool {
	return a.Name == catalog.TemplateAWS || a.Name == catalog.TemplateConnect
}

type assignData struct {
	Heading   string
	AppLabel  string
	Target    string
	Action    string
	Back      string
	Fields    []Field
	Unclaimed []string
	Notice    string
}

func profileStrings(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// profileFieldsFor builds the assignment profile inputs of an app from the
// current profile (or, after a failed save, the form).
func (c *Console) profileFieldsFor(ctx context.Context, a *catalog.App, profile map[string]any, form url.Values) ([]Field, string, error) {
	if !isAWS(a) {
		return nil, "", nil
	}
	opts, err := c.roles().RoleOptions(ctx, a.ID)
	if err != nil {
		return nil, "", err
	}
	role := profileString(profile["role"])
	saml := profileStrings(profile["samlRoles"])
	if form != nil {
		role = strings.TrimSpace(form.Get("role"))
		saml = splitValues(form["samlRoles"])
	}
	var fields []Field
	notice := ""
	if len(opts) == 0 {
		notice = "No IAM roles are imported for this application yet, so the roles are typed in. Set up Provisioning (Access Key and Secret Key) and refresh the application data to choose from a list."
		fields = append(fields,
			Field{Name: "role", Label: "Role", Type: "text", Value: role, Help: "The IAM role name or ARN the person signs in with."},
			Field{Name: "samlRoles", Label: "SAML User Roles", Type: "textarea", Value: strings.Join(saml, "\n"), Help: "More roles the person may choose from at AWS sign-in, one per line."})
	} else {
		roleField := Field{Name: "role", Label: "Role", Type: "select", Options: []Option{{Value: "", Label: "(none)", Selected: role == ""}},
			Help: "The IAM role the person signs in with."}
		known := map[string]bool{}
		for _, o := range opts {
			known[o] = true
			roleField.Options = append(roleField.Options, Option{Value: o, Label: o, Selected: o == role})
		}
		if role != "" && !known[role] {
			roleField.Options = append(roleField.Options, Option{Value: role, Label: role + " (not imported)", Selected: true})
		}
		samlField := Field{Name: "samlRoles", Label: "SAML User Roles", Type: "multiselect",
			Help: "More roles the person may choose from at AWS sign-in. Hold Ctrl (Cmd on a Mac) to choose several."}
		chosen := map[string]bool{}
		for _, s := range saml {
			chosen[s] = true
		}
		for _, o := range opts {
			samlField.Options = append(samlField.Options, Option{Value: o, Label: o, Selected: chosen[o]})
		}
		for _, s := range saml {
			if !known[s] {
				samlField.Options = append(samlField.Options, Option{Value: s, Label: s + " (not imported)", Selected: true})
			}
		}
		fields = append(fields, roleField, samlField)
	}
	if a.Name == catalog.TemplateConnect {
		pf, pnotice := c.connectProfileFields(ctx, a, profile, form)
		fields = append(fields, pf...)
		if pnotice != "" {
			notice = strings.TrimSpace(notice + " " + pnotice)
		}
	}
	return fields, notice, nil
}

// connectProfileFields are the Connect security and routing profile
// pickers of an assignment, fed by the instance's profiles (free text,
// checked on save, when Gatehouse cannot read them).
func (c *Console) connectProfileFields(ctx context.Context, a *catalog.App, profile map[string]any, form url.Values) ([]Field, string) {
	sec := profileStrings(profile["connectSecurityProfiles"])
	routing := profileString(profile["connectRoutingProfile"])
	if form != nil {
		sec, routing = splitList(form["connectSecurityProfiles"]), strings.TrimSpace(form.Get("connectRoutingProfile"))
	}
	security, routings, err := c.connectProfiles().ConnectProfileOptions(ctx, a.ID)
	if err != nil || (len(security) == 0 && len(routings) == 0) {
		notice := "Gatehouse cannot read this Amazon Connect instance's profiles yet (set up the API integration under Provisioning), so Connect profiles are typed in."
		return []Field{
			{Name: "connectSecurityProfiles", Label: "Connect Security Profiles", Type: "text", Value: strings.Join(sec, ", "),
				Help: "Optional. Security profile names for the Connect user, separated by commas; empty uses the group's or the app's default."},
			{Name: "connectRoutingProfile", Label: "Connect Routing Profile", Type: "text", Value: routing,
				Help: "Optional. Routing profile name; empty uses the group's or the app's default."},
		}, notice
	}
	sf := multiChoice("connectSecurityProfiles", "Connect Security Profiles", sec, security,
		"Optional. The Connect user's security profiles; none chosen uses the group's or the app's default. Hold Ctrl (Cmd on a Mac) to choose several.")
	rf := choice("connectRoutingProfile", "Connect Routing Profile", routing, append([]string{""}, routings...)...)
	rf.Options[0].Label = "(group or app default)"
	for i := range rf.Options {
		if rf.Options[i].Value != "" && !containsFold(routings, rf.Options[i].Value) {
			rf.Options[i].Label += " (not in Connect)"
		}
	}
	rf.Help = "Optional. The Connect user's routing profile."
	return []Field{sf, rf}, ""
}

func containsFold(vs []string, v string) bool {
	for _, x := range vs {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// splitList reads a list input: several values, each possibly a comma
// separated list.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func splitValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

// profileFromForm applies the form's assignment fields to a copy of cur.
func profileFromForm(a *catalog.App, cur map[string]any, form url.Values) map[string]any {
	p := map[string]any{}
	for k, v := range cur {
		p[k] = v
	}
	if !isAWS(a) {
		return p
	}
	set := func(k string, v any, empty bool) {
		if empty {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	role := strings.TrimSpace(form.Get("role"))
	set("role", role, role == "")
	saml := splitValues(form["samlRoles"])
	arr := make([]any, len(saml))
	for i, s := range saml {
		arr[i] = s
	}
	set("samlRoles", arr, len(arr) == 0)
	if a.Name == catalog.TemplateConnect {
		var sec []any
		for _, s := range splitList(form["connectSecurityProfiles"]) {
			sec = append(sec, s)
		}
		set("connectSecurityProfiles", sec, len(sec) == 0)
		routing := strings.TrimSpace(form.Get("connectRoutingProfile"))
		set("connectRoutingProfile", routing, routing == "")
	}
	return p
}

// userAssignForm renders the assignment form of a person and an app.
func (c *Console) userAssignForm(w http.ResponseWriter, r *http.Request, rq *request, a *catalog.App, u *directory.User, action, back string, saveErr error) error {
	ctx := r.Context()
	cur := map[string]any{}
	userName := c.Catalog.UserName(a, u, nil)
	if as, err := c.Catalog.Assignment(ctx, a.ID, u.ID); err == nil {
		cur = as.Profile
		userName = as.UserName
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	var form url.Values
	if saveErr != nil {
		form = r.PostForm
		userName = form.Get("userName")
	}
	fields, notice, err := c.profileFieldsFor(ctx, a, cur, form)
	if err != nil {
		return err
	}
	un := Field{Name: "userName", Label: "User Name", Type: "text", Value: userName, Keys: []string{"credentials.userName"}, Autocomplete: "off",
		Help: "The person's username in " + a.Label + "."}
	if isAWS(a) {
		un.Help += " AWS receives it as the RoleSessionName."
		if a.Name == catalog.TemplateConnect {
			un.Help += " It must equal the person's Amazon Connect username."
		}
	}
	fields = append([]Field{un}, fields...)
	section, sub := "apps", ""
	if strings.HasPrefix(back, "/admin/people") {
		section, sub = "directory", "people"
	}
	d := assignData{Heading: "Assign " + a.Label + " to " + u.DisplayName(), AppLabel: a.Label, Target: u.DisplayName(),
		Action: action, Back: back, Fields: fields, Notice: notice}
	if saveErr != nil {
		summary, fe, ok := fieldErrors(saveErr)
		if !ok {
			return saveErr
		}
		d.Unclaimed = bind(d.Fields, fe)
		c.render(w, r, rq, http.StatusBadRequest, "admin_assign_form", "Assign "+a.Label, section, sub, d, withError(summary))
		return nil
	}
	c.render(w, r, rq, http.StatusOK, "admin_assign_form", "Assign "+a.Label, section, sub, d)
	return nil
}

// saveUserAssignment assigns (or updates) the app for the person from the form.
func (c *Console) saveUserAssignment(r *http.Request, a *catalog.App, u *directory.User) error {
	ctx := r.Context()
	cur := map[string]any{}
	if as, err := c.Catalog.Assignment(ctx, a.ID, u.ID); err == nil && as.Scope == catalog.ScopeUser {
		cur = as.Profile
	}
	in := catalog.AssignUserInput{Profile: profileFromForm(a, cur, r.PostForm)}
	name := strings.TrimSpace(r.PostFormValue("userName"))
	// The username stays computed from the app's template unless the admin
	// typed another. AWS apps always store it: it is the RoleSessionName
	// and the Connect username, which must not change behind the admin's
	// back when the template does.
	if name != "" && (isAWS(a) || name != c.Catalog.UserName(a, u, in.Profile)) {
		in.UserName = &name
	}
	_, err := c.Catalog.AssignUser(ctx, a.ID, u.ID, in)
	return err
}

type assignRow struct {
	Name, Detail string
	Link         string
	Assigned     bool
	AssignURL    string
}

type assignListData struct {
	Heading string
	Intro   string
	Search  Field
	Action  string
	Rows    []assignRow
	Pager   Pager
	Done    string
	Kind    string
}

// appRows pages the apps with search for an assignment list; assigned
// tells which already reach the target.
func (c *Console) appRows(ctx context.Context, q url.Values, path string, assignURL func(*catalog.App) string, assigned func(*catalog.App) bool) ([]assignRow, Pager, error) {
	after, trail := cursor(q)
	apps, err := c.Catalog.Store.Apps(ctx, catalog.AppQuery{Q: strings.TrimSpace(q.Get("q")), After: after, Limit: pageSize + 1})
	if err != nil {
		return nil, Pager{}, err
	}
	more := len(apps) > pageSize
	if more {
		apps = apps[:pageSize]
	}
	var rows []assignRow
	last := ""
	for _, a := range apps {
		rows = append(rows, assignRow{Name: a.Label, Detail: catalog.TemplateFor(a.Name).Title + " · " + string(a.Status), Link: "/admin/apps/" + a.ID,
			Assigned: assigned(a), AssignURL: assignURL(a)})
		last = a.ID
	}
	return rows, pager(path, q, after, trail, last, more), nil
}

func (c *Console) personAssignList(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	u, err := c.Directory.Store.User(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	has := map[string]bool{}
	mine, err := c.Catalog.Store.Apps(ctx, catalog.AppQuery{UserID: u.ID, Limit: 1000})
	if err != nil {
		return err
	}
	for _, a := range mine {
		has[a.ID] = true
	}
	path := "/admin/people/" + u.ID + "/assign"
	rows, pg, err := c.appRows(ctx, r.URL.Query(), path, func(a *catalog.App) string { return path + "/" + a.ID }, func(a *catalog.App) bool { return has[a.ID] })
	if err != nil {
		return err
	}
	d := assignListData{Heading: "Assign Applications to " + u.DisplayName(), Intro: "Choose Assign next to an application, fill in the assignment and choose Save and Go Back. Choose Done when finished.",
		Search: Field{Name: "q", Label: "Search applications", Type: "search", Value: r.URL.Query().Get("q")}, Action: path,
		Rows: rows, Pager: pg, Done: "/admin/people/" + u.ID, Kind: "application"}
	c.render(w, r, rq, http.StatusOK, "admin_assign_list", "Assign Applications", "directory", "people", d)
	return nil
}

// userAssignment is where a person's assignment form is reached from: the
// person's "Assign Applications" list or the app's "Assign to People" list.
type userAssignment struct {
	userParam, appParam string
	// back is the list the form returns to.
	back func(u *directory.User, a *catalog.App) string
	// self is the form's own path below back.
	self func(u *directory.User, a *catalog.App) string
}

var (
	personAssignment = userAssignment{userParam: "id", appParam: "appId",
		back: func(u *directory.User, _ *catalog.App) string { return "/admin/people/" + u.ID + "/assign" },
		self: func(_ *directory.User, a *catalog.App) string { return a.ID }}
	appPersonAssignment = userAssignment{userParam: "userId", appParam: "id",
		back: func(_ *directory.User, a *catalog.App) string { return "/admin/apps/" + a.ID + "/assign/people" },
		self: func(u *directory.User, _ *catalog.App) string { return u.ID }}
)

func (c *Console) loadAssignment(r *http.Request, ua userAssignment) (*directory.User, *catalog.App, error) {
	u, err := c.Directory.Store.User(r.Context(), r.PathValue(ua.userParam))
	if err != nil {
		return nil, nil, err
	}
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue(ua.appParam))
	if err != nil {
		return nil, nil, err
	}
	return u, a, nil
}

// assignmentForm shows a person's assignment to an app.
func (c *Console) assignmentForm(ua userAssignment) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		u, a, err := c.loadAssignment(r, ua)
		if err != nil {
			return err
		}
		back := ua.back(u, a)
		return c.userAssignForm(w, r, rq, a, u, back+"/"+ua.self(u, a), back, nil)
	}
}

// assignmentSave saves a person's assignment to an app.
func (c *Console) assignmentSave(ua userAssignment) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		u, a, err := c.loadAssignment(r, ua)
		if err != nil {
			return err
		}
		back := ua.back(u, a)
		if err := c.saveUserAssignment(r, a, u); err != nil {
			return c.userAssignForm(w, r, rq, a, u, back+"/"+ua.self(u, a), back, err)
		}
		return done(w, r, back, "assigned")
	}
}

func (c *Console) personUnassign(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Catalog.UnassignUser(r.Context(), r.PathValue("appId"), id); err != nil {
		return err
	}
	return done(w, r, "/admin/people/"+id, "unassigned")
}

// groupAssignForm renders the assignment form of a group and an app.
func (c *Console) groupAssignForm(w http.ResponseWriter, r *http.Request, rq *request, a *catalog.App, g *directory.Group, action, back string, saveErr error) error {
	ctx := r.Context()
	cur := map[string]any{}
	if ga, err := c.Catalog.Store.GroupAssignment(ctx, a.ID, g.ID); err == nil {
		cur = ga.Profile
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	var form url.Values
	if saveErr != nil {
		form = r.PostForm
	}
	fields, notice, err := c.profileFieldsFor(ctx, a, cur, form)
	if err != nil {
		return err
	}
	section, sub := "apps", ""
	if strings.HasPrefix(back, "/admin/groups") {
		section, sub = "directory", "groups"
	}
	d := assignData{Heading: "Assign " + a.Label + " to the group " + g.Name, AppLabel: a.Label, Target: g.Name, Action: action, Back: back, Fields: fields, Notice: notice}
	if saveErr != nil {
		summary, fe, ok := fieldErrors(saveErr)
		if !ok {
			return saveErr
		}
		d.Unclaimed = bind(d.Fields, fe)
		c.render(w, r, rq, http.StatusBadRequest, "admin_assign_form", "Assign "+a.Label, section, sub, d, withError(summary))
		return nil
	}
	c.render(w, r, rq, http.StatusOK, "admin_assign_form", "Assign "+a.Label, section, sub, d)
	return nil
}

func (c *Console) saveGroupAssignment(r *http.Request, a *catalog.App, g *directory.Group) error {
	ctx := r.Context()
	cur := map[string]any{}
	if ga, err := c.Catalog.Store.GroupAssignment(ctx, a.ID, g.ID); err == nil {
		cur = ga.Profile
	}
	_, err := c.Catalog.AssignGroup(ctx, a.ID, g.ID, catalog.AssignGroupInput{Profile: profileFromForm(a, cur, r.PostForm)})
	return err
}

// groupAppRow is one app assignment of a group.
type groupAppRow struct {
	ID, Label   string
	Status      catalog.Status
	Priority    int
	Assignments []string // the profile in words: "Role: Okta_Role", …
}

// profileLabels name the assignment attributes on the group page.
var profileLabels = []struct{ key, label string }{
	{"role", "Role"}, {"samlRoles", "SAML User Roles"},
	{"connectSecurityProfiles", "Connect Security Profiles"}, {"connectRoutingProfile", "Connect Routing Profile"},
}

// groupApps lists a group's app assignments with their priorities and
// profiles (at most 1,000; a group has far fewer).
func (c *Console) groupApps(ctx context.Context, groupID string) ([]groupAppRow, error) {
	var out []groupAppRow
	after := ""
	for range 5 {
		page, err := c.Catalog.Store.GroupApps(ctx, groupID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, ga := range page {
			a, err := c.Catalog.Store.App(ctx, ga.AppID)
			if err != nil {
				continue
			}
			row := groupAppRow{ID: a.ID, Label: a.Label, Status: a.Status, Priority: ga.Priority}
			for _, pl := range profileLabels {
				if v := profileStrings(ga.Profile[pl.key]); len(v) > 0 {
					row.Assignments = append(row.Assignments, pl.label+": "+strings.Join(v, ", "))
				}
			}
			out = append(out, row)
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].AppID
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Label) < strings.ToLower(out[j].Label) })
	return out, nil
}

func (c *Console) groupAssignList(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	g, err := c.Directory.Store.Group(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	path := "/admin/groups/" + g.ID + "/assign"
	rows, pg, err := c.appRows(ctx, r.URL.Query(), path, func(a *catalog.App) string { return path + "/" + a.ID }, func(a *catalog.App) bool {
		_, err := c.Catalog.Store.GroupAssignment(ctx, a.ID, g.ID)
		return err == nil
	})
	if err != nil {
		return err
	}
	d := assignListData{Heading: "Assign Applications to " + g.Name, Intro: "Every member of the group gets the applications assigned here.",
		Search: Field{Name: "q", Label: "Search applications", Type: "search", Value: r.URL.Query().Get("q")}, Action: path,
		Rows: rows, Pager: pg, Done: "/admin/groups/" + g.ID, Kind: "application"}
	c.render(w, r, rq, http.StatusOK, "admin_assign_list", "Assign Applications", "directory", "groups", d)
	return nil
}

func (c *Console) groupAssignPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, a, err := c.groupAndApp(r, "id", "appId")
	if err != nil {
		return err
	}
	back := "/admin/groups/" + g.ID + "/assign"
	return c.groupAssignForm(w, r, rq, a, g, back+"/"+a.ID, back, nil)
}

func (c *Console) groupAssignSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, a, err := c.groupAndApp(r, "id", "appId")
	if err != nil {
		return err
	}
	back := "/admin/groups/" + g.ID + "/assign"
	if err := c.saveGroupAssignment(r, a, g); err != nil {
		return c.groupAssignForm(w, r, rq, a, g, back+"/"+a.ID, back, err)
	}
	return done(w, r, back, "assigned")
}

func (c *Console) groupUnassign(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Catalog.UnassignGroup(r.Context(), r.PathValue("appId"), id); err != nil {
		return err
	}
	return done(w, r, "/admin/groups/"+id, "unassigned")
}

func (c *Console) groupAndApp(r *http.Request, groupParam, appParam string) (*directory.Group, *catalog.App, error) {
	g, err := c.Directory.Store.Group(r.Context(), r.PathValue(groupParam))
	if err != nil {
		return nil, nil, err
	}
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue(appParam))
	if err != nil {
		return nil, nil, err
	}
	return g, a, nil
}

// The application's Assignments tab and its pickers.

type appUserRow struct {
	UserID, Name, Login, UserName string
	Scope                         catalog.Scope
}

type appGroupRow struct {
	GroupID, Name string
	Priority      int
}

type assignmentsData struct {
	appHead
	Users  []appUserRow
	Pager  Pager
	Groups []appGroupRow
}

func (c *Console) appAssignments(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, trail := cursor(q)
	asgs, err := c.Catalog.AppUsers(ctx, catalog.AppUserQuery{AppID: a.ID, After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(asgs) > pageSize
	if more {
		asgs = asgs[:pageSize]
	}
	d := assignmentsData{appHead: c.head(a, "assignments")}
	last := ""
	for _, as := range asgs {
		row := appUserRow{UserID: as.UserID, UserName: as.UserName, Scope: as.Scope}
		if u, err := c.Directory.Store.User(ctx, as.UserID); err == nil {
			row.Name, row.Login = u.DisplayName(), u.Login()
		}
		d.Users = append(d.Users, row)
		last = as.UserID
	}
	d.Pager = pager("/admin/apps/"+a.ID+"/assignments", q, after, trail, last, more)
	gas, err := c.Catalog.Store.GroupAssignments(ctx, a.ID, "", "", 200)
	if err != nil {
		return err
	}
	for _, ga := range gas {
		row := appGroupRow{GroupID: ga.GroupID, Priority: ga.Priority, Name: ga.GroupID}
		if g, err := c.Directory.Store.Group(ctx, ga.GroupID); err == nil {
			row.Name = g.Name
		}
		d.Groups = append(d.Groups, row)
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_assignments", a.Label, "apps", "", d)
	return nil
}

func (c *Console) appAssignPeople(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, trail := cursor(q)
	users, err := c.Directory.Store.Users(ctx, directory.UserQuery{Q: strings.TrimSpace(q.Get("q")), After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(users) > pageSize
	if more {
		users = users[:pageSize]
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	has := map[string]bool{}
	direct, err := c.Catalog.Store.UserAssignments(ctx, a.ID, ids)
	if err != nil {
		return err
	}
	for _, d := range direct {
		has[d.UserID] = true
	}
	path := "/admin/apps/" + a.ID + "/assign/people"
	d := assignListData{Heading: "Assign " + a.Label + " to People", Intro: "Choose Assign next to a person, fill in the assignment and choose Save and Go Back. Choose Done when finished.",
		Search: Field{Name: "q", Label: "Search people", Type: "search", Value: q.Get("q")}, Action: path, Done: "/admin/apps/" + a.ID + "/assignments", Kind: "person"}
	last := ""
	for _, u := range users {
		d.Rows = append(d.Rows, assignRow{Name: u.DisplayName(), Detail: u.Login(), Link: "/admin/people/" + u.ID, Assigned: has[u.ID], AssignURL: path + "/" + u.ID})
		last = directory.Cursor(u)
	}
	d.Pager = pager(path, q, after, trail, last, more)
	c.render(w, r, rq, http.StatusOK, "admin_assign_list", "Assign to People", "apps", "", d)
	return nil
}

func (c *Console) appAssignGroups(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, trail := cursor(q)
	groups, err := c.Directory.Store.Groups(ctx, directory.GroupQuery{Q: strings.TrimSpace(q.Get("q")), After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(groups) > pageSize
	if more {
		groups = groups[:pageSize]
	}
	path := "/admin/apps/" + a.ID + "/assign/groups"
	d := assignListData{Heading: "Assign " + a.Label + " to Groups", Intro: "Every member of an assigned group gets the application.",
		Search: Field{Name: "q", Label: "Search groups", Type: "search", Value: q.Get("q")}, Action: path, Done: "/admin/apps/" + a.ID + "/assignments", Kind: "group"}
	last := ""
	for _, g := range groups {
		_, err := c.Catalog.Store.GroupAssignment(ctx, a.ID, g.ID)
		d.Rows = append(d.Rows, assignRow{Name: g.Name, Detail: g.Description, Link: "/admin/groups/" + g.ID, Assigned: err == nil, AssignURL: path + "/" + g.ID})
		last = g.ID
	}
	d.Pager = pager(path, q, after, trail, last, more)
	c.render(w, r, rq, http.StatusOK, "admin_assign_list", "Assign to Groups", "apps", "", d)
	return nil
}

func (c *Console) appAssignGroupForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, a, err := c.groupAndApp(r, "groupId", "id")
	if err != nil {
		return err
	}
	back := "/admin/apps/" + a.ID + "/assign/groups"
	return c.groupAssignForm(w, r, rq, a, g, back+"/"+g.ID, back, nil)
}

func (c *Console) appAssignGroupSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, a, err := c.groupAndApp(r, "groupId", "id")
	if err != nil {
		return err
	}
	back := "/admin/apps/" + a.ID + "/assign/groups"
	if err := c.saveGroupAssignment(r, a, g); err != nil {
		return c.groupAssignForm(w, r, rq, a, g, back+"/"+g.ID, back, err)
	}
	return done(w, r, back, "assigned")
}

func (c *Console) appUnassignPerson(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Catalog.UnassignUser(r.Context(), id, r.PathValue("userId")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/assignments", "unassigned")
}

func (c *Console) appUnassignGroup(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Catalog.UnassignGroup(r.Context(), id, r.PathValue("groupId")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/assignments", "unassigned")
}

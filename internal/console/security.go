package console

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

type tokenRow struct {
	ID, Name, Role, Owner, Created, LastUsed, Expires string
}

type tokensData struct {
	Tokens    []tokenRow
	New       []Field
	Unclaimed []string
	// Value is the new token, shown once.
	Value     string
	ValueName string
}

func tokenFields(name, role string) []Field {
	n := Field{Name: "name", Label: "Token name", Type: "text", Value: name, Required: true, Autocomplete: "off",
		Help: "What the token is for, such as the script or tool that uses it."}
	if role == "" {
		role = RoleReadOnlyAdmin
	}
	rf := choice("role", "Role", role, Roles...)
	rf.Help = "What the token may do with the API."
	return []Field{n, rf}
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, rq *request, status int, d tokensData, summary string) error {
	ctx := r.Context()
	ts, err := c.Tokens.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		row := tokenRow{ID: t.ID, Name: t.Name, Role: t.Role, Created: fmtTime(&t.Created), LastUsed: fmtTime(t.LastUsed), Expires: "Never"}
		if t.ExpiresAt != nil {
			row.Expires = fmtTime(t.ExpiresAt)
		}
		if t.UserID != "" {
			row.Owner = t.UserID
			if u, err := c.Directory.Store.User(ctx, t.UserID); err == nil {
				row.Owner = u.DisplayName()
			}
		}
		d.Tokens = append(d.Tokens, row)
	}
	if summary != "" {
		c.render(w, r, rq, status, "admin_tokens", "API Tokens", "security", "tokens", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_tokens", "API Tokens", "security", "tokens", d)
	return nil
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.tokensPage(w, r, rq, http.StatusOK, tokensData{New: tokenFields("", "")}, "")
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, rq *request) error {
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	var fe []errs.FieldError
	if name == "" || len(name) > 128 {
		fe = append(fe, errs.Field("name", "Enter a name of 1 to 128 characters."))
	}
	valid := false
	for _, ro := range Roles {
		valid = valid || ro == role
	}
	if !valid {
		fe = append(fe, errs.Field("role", "Choose one of the listed roles."))
	}
	if fe != nil {
		fields := tokenFields(name, role)
		_, fm, _ := fieldErrors(errs.InvalidFields("", fe...))
		unclaimed := bind(fields, fm)
		return c.tokensPage(w, r, rq, http.StatusBadRequest, tokensData{New: fields, Unclaimed: unclaimed}, "Fix the fields marked below.")
	}
	value, _, err := oktaapi.NewToken(r.Context(), c.Tokens, c.IDs, c.Now(), c.Audit, name, rq.user.ID, role)
	if err != nil {
		return err
	}
	return c.tokensPage(w, r, rq, http.StatusOK, tokensData{New: tokenFields("", ""), Value: value, ValueName: name}, "")
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	ev := c.Audit.New(r.Context(), "system.api_token.revoke", "Revoke API token", audit.Success,
		audit.Target{ID: id, Type: "Token", AlternateID: id, DisplayName: "API token"})
	if err := c.Tokens.Revoke(r.Context(), id, c.Now(), ev); err != nil {
		return err
	}
	return done(w, r, "/admin/security/api-tokens", "revoked")
}

// adminRole is one role a person holds: in their own name (revoked here)
// or through a group (GroupID set; revoked on the group).
type adminRole struct {
	Role               string
	GroupID, GroupName string
}

type adminRow struct {
	UserID, Name, Login string
	Roles               []adminRole
}

// groupAdminRow is a group that holds roles: every member holds them.
type groupAdminRow struct {
	GroupID, Name string
	Roles         []string
}

type adminsData struct {
	// FromLog says the list was found through the role grants in the
	// System Log (each checked against the current roles).
	FromLog   bool
	Admins    []adminRow
	Groups    []groupAdminRow
	Lookup    Field
	Found     *adminRow
	Grant     []Field
	Unclaimed []string
}

// maxAdminRows bounds the people the Administrators page lists.
const maxAdminRows = 1000

func grantFields(username, role string) []Field {
	u := Field{Name: "username", Label: "Username", Type: "text", Value: username, Required: true, Autocomplete: "off"}
	if role == "" {
		role = RoleReadOnlyAdmin
	}
	rf := choice("role", "Role", role, Roles...)
	rf.Help = "Super Administrator changes everything; Application Administrator changes applications and their assignments; Read-only Administrator sees everything and changes nothing."
	return []Field{u, rf}
}

// groupName names a group for the page (its id when it cannot be read).
func (c *Console) groupName(ctx context.Context, names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	names[id] = id
	if g, err := c.Directory.Store.Group(ctx, id); err == nil {
		names[id] = g.Name
	}
	return names[id]
}

// adminRow is a person's row: the roles they hold in their own name and
// through their groups.
func (c *Console) adminRowOf(ctx context.Context, names map[string]string, u *directory.User) (*adminRow, error) {
	row := &adminRow{UserID: u.ID, Name: u.DisplayName(), Login: u.Login()}
	if c.AdminRoles == nil {
		roles, err := c.Admins.AdminRoles(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			row.Roles = append(row.Roles, adminRole{Role: r})
		}
		return row, nil
	}
	gs, err := c.AdminRoles.Grants(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		ar := adminRole{Role: g.Role, GroupID: g.GroupID}
		if g.GroupID != "" {
			ar.GroupName = c.groupName(ctx, names, g.GroupID)
		}
		row.Roles = append(row.Roles, ar)
	}
	return row, nil
}

func (c *Console) adminsPage(w http.ResponseWriter, r *http.Request, rq *request, status int, d adminsData, summary string) error {
	ctx := r.Context()
	names := map[string]string{}
	if c.AdminRoles != nil {
		// Everyone who holds a role, in their own name or through a
		// group, as Okta's Administrators page lists them.
		ids, err := c.AdminRoles.Assignees(ctx, "", maxAdminRows)
		if err != nil {
			return err
		}
		for _, id := range ids {
			u, err := c.Directory.Store.User(ctx, id)
			if err != nil {
				return err
			}
			row, err := c.adminRowOf(ctx, names, u)
			if err != nil {
				return err
			}
			d.Admins = append(d.Admins, *row)
		}
		gs, err := c.AdminRoles.AllGroupGrants(ctx)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if n := len(d.Groups); n == 0 || d.Groups[n-1].GroupID != g.GroupID {
				d.Groups = append(d.Groups, groupAdminRow{GroupID: g.GroupID, Name: c.groupName(ctx, names, g.GroupID)})
			}
			d.Groups[len(d.Groups)-1].Roles = append(d.Groups[len(d.Groups)-1].Roles, g.Role)
		}
		sort.Slice(d.Groups, func(i, j int) bool { return d.Groups[i].Name < d.Groups[j].Name })
	} else {
		var grants []AdminGrant
		var err error
		if l, ok := c.Admins.(AdminLister); ok {
			grants, err = l.AdminGrants(ctx)
		} else {
			grants, err = c.grantsFromLog(ctx)
			d.FromLog = true
		}
		if err != nil {
			return err
		}
		by := map[string]*adminRow{}
		for _, g := range grants {
			row := by[g.UserID]
			if row == nil {
				row = &adminRow{UserID: g.UserID, Name: g.UserID}
				if u, err := c.Directory.Store.User(ctx, g.UserID); err == nil {
					row.Name, row.Login = u.DisplayName(), u.Login()
				}
				by[g.UserID] = row
			}
			row.Roles = append(row.Roles, adminRole{Role: g.Role})
		}
		for _, row := range by {
			d.Admins = append(d.Admins, *row)
		}
	}
	sort.Slice(d.Admins, func(i, j int) bool { return d.Admins[i].Name < d.Admins[j].Name })
	lookup := strings.TrimSpace(r.URL.Query().Get("lookup"))
	d.Lookup = Field{Name: "lookup", Label: "Look up a person by username", Type: "search", Value: lookup}
	if lookup != "" {
		if u, err := c.Directory.Store.User(ctx, lookup); err == nil {
			if d.Found, err = c.adminRowOf(ctx, names, u); err != nil {
				return err
			}
		} else if errs.Is(err, errs.NotFound) {
			d.Lookup.Error = "No person has this username."
		} else {
			return err
		}
	}
	if d.Grant == nil {
		d.Grant = grantFields(lookup, "")
	}
	if summary != "" {
		c.render(w, r, rq, status, "admin_admins", "Administrators", "security", "admins", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_admins", "Administrators", "security", "admins", d)
	return nil
}

func (c *Console) administrators(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.adminsPage(w, r, rq, http.StatusOK, adminsData{}, "")
}

func validRole(role string) bool {
	for _, ro := range Roles {
		if ro == role {
			return true
		}
	}
	return false
}

func (c *Console) grantRole(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	login, role := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("role")
	var fe []errs.FieldError
	if !validRole(role) {
		fe = append(fe, errs.Field("role", "Choose one of the listed roles."))
	}
	var u *directory.User
	if login == "" {
		fe = append(fe, errs.Field("username", "Enter a username."))
	} else if found, err := c.Directory.Store.User(ctx, login); errs.Is(err, errs.NotFound) {
		fe = append(fe, errs.Field("username", "No person has the username %q.", login))
	} else if err != nil {
		return err
	} else {
		u, login = found, found.Login()
	}
	if fe != nil {
		fields := grantFields(login, role)
		_, fm, _ := fieldErrors(errs.InvalidFields("", fe...))
		unclaimed := bind(fields, fm)
		return c.adminsPage(w, r, rq, http.StatusBadRequest, adminsData{Grant: fields, Unclaimed: unclaimed}, "Fix the fields marked below.")
	}
	if _, err := c.AdminRoles.Grant(ctx, u, role); err != nil {
		e, ok := errs.As(err)
		if !ok || (e.Kind != errs.Invalid && e.Kind != errs.Conflict) {
			return err
		}
		fields := grantFields(login, role)
		if e.Kind == errs.Conflict {
			fields[1].Error = u.DisplayName() + " already holds this role."
		} else {
			for _, f := range e.Fields {
				fields[0].Error = strings.TrimPrefix(f.Message, f.Field+": ")
			}
		}
		return c.adminsPage(w, r, rq, http.StatusBadRequest, adminsData{Grant: fields}, "Fix the fields marked below.")
	}
	return done(w, r, "/admin/security/administrators?lookup="+urlQuery(login), "granted")
}

func (c *Console) revokeRole(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	u, err := c.Directory.Store.User(ctx, r.PostFormValue("userId"))
	if err != nil {
		return err
	}
	role := r.PostFormValue("role")
	if !validRole(role) {
		return errs.Invalidf("There is no role %q.", role)
	}
	if err := c.AdminRoles.Revoke(ctx, rq.user.ID, u, role); err != nil {
		return err
	}
	return done(w, r, "/admin/security/administrators?lookup="+urlQuery(u.Login()), "revoked")
}

// maxGrantEvents bounds the System Log scan for role grants.
const maxGrantEvents = 2000

// grantsFromLog finds the people who hold an admin role: every grant is
// logged with the person as target, so the grant events name every
// candidate, and the stored roles say who still holds which.
func (c *Console) grantsFromLog(ctx context.Context) ([]AdminGrant, error) {
	q := audit.Query{Filter: &filter.Compare{Attr: "eventType", Op: filter.OpEq, Value: filter.StringValue("user.account.privilege.grant")}, Limit: 200, Descending: true}
	seen := map[string]bool{}
	var out []AdminGrant
	for scanned := 0; scanned < maxGrantEvents; {
		evs, next, err := c.Events.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		scanned += len(evs)
		for _, ev := range evs {
			for _, t := range ev.Target {
				if t.Type != "User" || t.ID == "" || seen[t.ID] {
					continue
				}
				seen[t.ID] = true
				roles, err := c.Admins.AdminRoles(ctx, t.ID)
				if err != nil {
					return nil, err
				}
				for _, r := range roles {
					out = append(out, AdminGrant{UserID: t.ID, Role: r})
				}
			}
		}
		if next == "" {
			break
		}
		q.After = next
	}
	return out, nil
}

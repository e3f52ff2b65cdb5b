package console

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/recovery"
)

// pageSize is the length of every paged list.
const pageSize = 50

// personRow is one person in a list.
type personRow struct {
	ID, Name, Login, Email string
	Status                 directory.Status
}

func rowOf(u *directory.User) personRow {
	return personRow{ID: u.ID, Name: u.DisplayName(), Login: u.Login(), Email: u.Profile.String("email"), Status: u.Status}
}

type peopleData struct {
	Q         string
	Status    string
	Search    Field
	State     Field
	People    []personRow
	Pager     Pager
	Unclaimed []string
}

// personStatuses are the People list's status filter, with the words the
// console uses for each status.
var personStatuses = []struct {
	Status directory.Status
	Label  string
}{
	{directory.Active, "Active"},
	{directory.Provisioned, "Pending user action"},
	{directory.Staged, "Staged"},
	{directory.Recovery, "Password reset"},
	{directory.PasswordExpired, "Password expired"},
	{directory.LockedOut, "Locked out"},
	{directory.Suspended, "Suspended"},
	{directory.Deprovisioned, "Deactivated"},
}

func statusField(v string) Field {
	f := Field{Name: "status", Label: "Status", Type: "select", Options: []Option{{Value: "", Label: "All statuses", Selected: v == ""}}}
	for _, s := range personStatuses {
		f.Options = append(f.Options, Option{Value: string(s.Status), Label: s.Label, Selected: v == string(s.Status)})
	}
	return f
}

func (c *Console) people(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	after, trail := cursor(q)
	search := strings.TrimSpace(q.Get("q"))
	status := q.Get("status")
	d := peopleData{Q: search, Status: status, Search: Field{Name: "q", Label: "Search people", Type: "search", Value: search,
		Help: "The start of a username, email, first or last name."}, State: statusField(status)}
	uq := directory.UserQuery{Q: search, After: after, Limit: pageSize + 1, IncludeDeprovisioned: true}
	if status != "" {
		known := false
		for _, s := range personStatuses {
			known = known || string(s.Status) == status
		}
		if !known {
			fields := []Field{d.State}
			d.Unclaimed = bind(fields, map[string]string{"status": "Choose one of the listed statuses."})
			d.State = fields[0]
			c.render(w, r, rq, http.StatusBadRequest, "admin_people", "People", "directory", "people", d, withError("Check the filters."))
			return nil
		}
		// The (status, id) index pages a status without OFFSET.
		uq.Filter = &filter.Compare{Attr: "status", Op: filter.OpEq, Value: filter.StringValue(status)}
	}
	users, err := c.Directory.Store.Users(r.Context(), uq)
	if err != nil {
		return err
	}
	more := len(users) > pageSize
	if more {
		users = users[:pageSize]
	}
	last := ""
	for _, u := range users {
		d.People = append(d.People, rowOf(u))
		last = directory.Cursor(u)
	}
	d.Pager = pager("/admin/people", q, after, trail, last, more)
	c.render(w, r, rq, http.StatusOK, "admin_people", "People", "directory", "people", d)
	return nil
}

type newPersonData struct {
	Fields    []Field
	Unclaimed []string
}

func newPersonFields(r *http.Request) []Field {
	v := r.PostFormValue
	first := text("firstName", "First name", v("firstName"))
	first.Required, first.Autocomplete = true, "off"
	last := text("lastName", "Last name", v("lastName"))
	last.Required, last.Autocomplete = true, "off"
	user := Field{Name: "login", Label: "Username", Type: "email", Value: v("login"), Required: true, Autocomplete: "off",
		Help: "In the form of an email address; the person signs in with it."}
	email := Field{Name: "email", Label: "Primary email", Type: "email", Value: v("email"), Required: true, Autocomplete: "off"}
	pw := Field{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password",
		Help: "Optional. Without one, the person stays Pending user action until given a password."}
	act := checkbox("activate", "Activate now", r.Method == http.MethodGet || v("activate") == "true")
	return []Field{first, last, user, email, pw, act}
}

func (c *Console) newPersonPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	c.render(w, r, rq, http.StatusOK, "admin_person_new", "Add Person", "directory", "people", newPersonData{Fields: newPersonFields(r)})
	return nil
}

func (c *Console) createPerson(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := r.PostFormValue
	profile := directory.Profile{}
	for _, k := range []string{"firstName", "lastName", "login", "email"} {
		profile[k] = strings.TrimSpace(v(k))
	}
	u, err := c.Directory.CreateUser(r.Context(), directory.CreateUserInput{Profile: profile, Password: v("password"), Activate: v("activate") == "true"})
	if err != nil {
		summary, fe, ok := fieldErrors(policyError(err))
		if !ok {
			return err
		}
		fields := newPersonFields(r)
		d := newPersonData{Fields: fields}
		d.Unclaimed = bind(fields, fe)
		c.render(w, r, rq, http.StatusBadRequest, "admin_person_new", "Add Person", "directory", "people", d, withError(summary))
		return nil
	}
	return done(w, r, "/admin/people/"+u.ID, "created")
}

// policyError turns a password policy failure into a field error.
func policyError(err error) error {
	var pe *credential.PolicyError
	if errors.As(err, &pe) {
		return errs.InvalidFields("The password does not meet the requirements.", errs.Field("password", "%s", pe.Error()))
	}
	if errors.Is(err, credential.ErrPasswordTooLong) {
		return errs.InvalidFields("The password is too long.", errs.Field("password", "Use at most 1024 bytes."))
	}
	return err
}

// lifecycleOps are the person page's lifecycle buttons, in order.
var lifecycleOps = []struct {
	Op    directory.Operation
	Label string
	Flash string
	// Confirm asks before the button acts.
	Confirm string
}{
	{directory.OpActivate, "Activate", "activated", ""},
	{directory.OpSuspend, "Suspend", "suspended", "Suspend this person? They cannot sign in until unsuspended."},
	{directory.OpUnsuspend, "Unsuspend", "unsuspended", ""},
	{directory.OpUnlock, "Unlock", "unlocked", ""},
	{directory.OpResetPassword, "Reset Password", "reset", "Reset this person's password? They must set a new one at their next sign-in."},
	{directory.OpDeactivate, "Deactivate", "deactivated", "Deactivate this person? They lose access to every application."},
}

type lifecycleButton struct {
	Op, Label, Confirm string
	Danger             bool
}

type personApp struct {
	ID, Label, Name, UserName string
	Status                    catalog.Status
	Scope                     catalog.Scope
	Direct                    bool
}

type personData struct {
	User      personRow
	Created   string
	LastLogin string
	Buttons   []lifecycleButton
	CanDelete bool
	Fields    []Field
	Unclaimed []string
	Password  Field
	Groups    []*directory.Group
	Apps      []personApp
	Roles     []string
	IdPLinks  []personLink
	// Factors are the person's second factors (nil without MFA).
	Factors      []factorRow
	MFA          bool
	RecoveryLeft int
}

type factorRow struct {
	ID, Name, Kind, Status, Created, LastUsed string
	Cloned                                    bool
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "Never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// profileFields are the editable profile attributes of the person page.
var profileFields = []struct{ Name, Label, Type string }{
	{"login", "Username", "email"},
	{"firstName", "First name", "text"},
	{"lastName", "Last name", "text"},
	{"email", "Primary email", "email"},
	{"secondEmail", "Secondary email", "email"},
	{"mobilePhone", "Mobile phone", "text"},
	{"title", "Title", "text"},
	{"department", "Department", "text"},
}

func (c *Console) personFields(u *directory.User, schema *directory.Schema, form func(string) string) []Field {
	var out []Field
	val := func(name string) string {
		if form != nil {
			return form(name)
		}
		return profileString(u.Profile[name])
	}
	for _, p := range profileFields {
		f := Field{Name: "profile." + p.Name, Label: p.Label, Type: p.Type, Value: val(p.Name), Keys: []string{p.Name}, Autocomplete: "off"}
		if form != nil {
			f.Value = form("profile." + p.Name)
		}
		out = append(out, f)
	}
	if schema != nil {
		for _, a := range schema.Custom {
			f := Field{Name: "profile." + a.Name, Label: a.Title, Type: "text", Keys: []string{a.Name}, Help: a.Description}
			if form != nil {
				f.Value = form("profile." + a.Name)
			} else {
				f.Value = profileString(u.Profile[a.Name])
			}
			switch a.Type {
			case directory.TypeBoolean:
				f.Type = "checkbox"
				f.Checked = f.Value == "true"
			case directory.TypeNumber, directory.TypeInteger:
				f.Type = "number"
			case directory.TypeArray:
				f.Help = strings.TrimSpace(f.Help + " Separate values with commas.")
			}
			out = append(out, f)
		}
	}
	return out
}

func profileString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = profileString(e)
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

func (c *Console) personPage(r *http.Request, rq *request, u *directory.User, fields []Field) (personData, error) {
	ctx := r.Context()
	d := personData{User: rowOf(u), Created: fmtTime(&u.Created), LastLogin: fmtTime(u.LastLogin), Fields: fields}
	hasPw := u.Credentials.HasPassword() || u.Credentials.Provider == "FEDERATION"
	for _, op := range lifecycleOps {
		if _, err := directory.Next(u.Status, op.Op, hasPw); err != nil {
			continue
		}
		if op.Op == directory.OpActivate && u.Status == directory.Provisioned && !hasPw {
			continue // activation would change nothing; set a password instead
		}
		d.Buttons = append(d.Buttons, lifecycleButton{Op: string(op.Op), Label: op.Label, Confirm: op.Confirm, Danger: op.Op == directory.OpDeactivate})
	}
	d.CanDelete = u.Status == directory.Deprovisioned
	d.Password = Field{Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password"}
	groups, err := c.Directory.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return d, err
	}
	d.Groups = groups
	apps, err := c.Catalog.Store.Apps(ctx, catalog.AppQuery{UserID: u.ID, Limit: 200})
	if err != nil {
		return d, err
	}
	for _, a := range apps {
		pa := personApp{ID: a.ID, Label: a.Label, Name: a.Name, Status: a.Status}
		if as, err := c.Catalog.Assignment(ctx, a.ID, u.ID); err == nil {
			pa.UserName, pa.Scope, pa.Direct = as.UserName, as.Scope, as.Scope == catalog.ScopeUser
		}
		d.Apps = append(d.Apps, pa)
	}
	if d.Roles, err = c.Admins.AdminRoles(ctx, u.ID); err != nil {
		return d, err
	}
	if c.MFA != nil {
		d.MFA = true
		fs, _, err := c.MFA.List(ctx, u.ID)
		if err != nil {
			return d, err
		}
		for _, f := range fs {
			created := f.Created
			d.Factors = append(d.Factors, factorRow{ID: f.ID, Name: f.Name, Kind: f.Label(), Status: string(f.Status),
				Created: fmtTime(&created), LastUsed: fmtTime(f.LastUsed), Cloned: f.Credential != nil && f.Credential.CloneWarning})
		}
		if d.RecoveryLeft, err = c.MFA.RecoveryCodesLeft(ctx, u.ID); err != nil {
			return d, err
		}
	}
	if d.IdPLinks, err = c.personLinks(ctx, u.ID); err != nil {
		return d, err
	}
	return d, nil
}

func (c *Console) resetFactor(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.MFA == nil {
		return errs.NotFoundf("Second factors are not available.")
	}
	u, err := c.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.MFA.Reset(r.Context(), u.ID, r.PathValue("fid")); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("%s has no such factor; it may have been reset already.", u.DisplayName())
		}
		return err
	}
	return done(w, r, "/admin/people/"+u.ID+"#factors", "factorreset")
}

func (c *Console) resetFactors(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.MFA == nil {
		return errs.NotFoundf("Second factors are not available.")
	}
	u, err := c.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := c.MFA.ResetAll(r.Context(), u.ID); err != nil {
		return err
	}
	return done(w, r, "/admin/people/"+u.ID+"#factors", "factorsreset")
}

func (c *Console) person(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, err := c.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	schema, err := c.Directory.Store.Schema(r.Context())
	if err != nil {
		return err
	}
	d, err := c.personPage(r, rq, u, c.personFields(u, schema, nil))
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "admin_person", u.DisplayName(), "directory", "people", d)
	return nil
}

func (c *Console) updatePerson(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	u, err := c.Directory.Store.User(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	schema, err := c.Directory.Store.Schema(ctx)
	if err != nil {
		return err
	}
	p := directory.Profile{}
	for _, f := range profileFields {
		if v := strings.TrimSpace(r.PostFormValue("profile." + f.Name)); v != "" {
			p[f.Name] = v
		} else {
			p[f.Name] = nil
		}
	}
	var fe []errs.FieldError
	for _, a := range schema.Custom {
		raw := strings.TrimSpace(r.PostFormValue("profile." + a.Name))
		v, msg := formValue(a, raw)
		if msg != "" {
			fe = append(fe, errs.Field(a.Name, "%s", msg))
			continue
		}
		p[a.Name] = v
	}
	if fe == nil {
		if _, err = c.Directory.UpdateProfile(ctx, u.ID, p, false); err == nil {
			return done(w, r, "/admin/people/"+u.ID, "saved")
		}
	} else {
		err = errs.InvalidFields("Api validation failed: profile", fe...)
	}
	summary, fm, ok := fieldErrors(err)
	if !ok {
		return err
	}
	fields := c.personFields(u, schema, r.PostFormValue)
	unclaimed := bind(fields, fm)
	d, err := c.personPage(r, rq, u, fields)
	if err != nil {
		return err
	}
	d.Unclaimed = unclaimed
	c.render(w, r, rq, http.StatusBadRequest, "admin_person", u.DisplayName(), "directory", "people", d, withError(summary))
	return nil
}

// formValue converts a form value to a custom attribute's type; "" clears.
func formValue(a directory.Attribute, raw string) (any, string) {
	if raw == "" {
		if a.Type == directory.TypeBoolean {
			return false, ""
		}
		return nil, ""
	}
	switch a.Type {
	case directory.TypeBoolean:
		return raw == "true", ""
	case directory.TypeNumber, directory.TypeInteger:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, a.Title + " must be a number."
		}
		return n, ""
	case directory.TypeArray:
		var out []any
		for _, part := range strings.Split(raw, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if a.ItemsType == directory.TypeString {
				out = append(out, part)
				continue
			}
			n, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return nil, a.Title + " takes numbers separated by commas."
			}
			out = append(out, n)
		}
		return out, ""
	}
	return raw, ""
}

func (c *Console) lifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	op := directory.Operation(r.PathValue("op"))
	flash := ""
	for _, o := range lifecycleOps {
		if o.Op == op {
			flash = o.Flash
		}
	}
	if flash == "" {
		return errs.NotFoundf("There is no lifecycle action %q.", op)
	}
	if r.PathValue("id") == rq.user.ID && (op == directory.OpSuspend || op == directory.OpDeactivate) {
		return errs.IllegalStatef("You cannot suspend or deactivate yourself.")
	}
	var also func(tx directory.Tx, u *directory.User) error
	if op == directory.OpResetPassword && c.Emails != nil && c.Emails.Enabled() {
		// The reset link is mailed; the job commits with the reset.
		flash = "resetmail"
		also = func(tx directory.Tx, u *directory.User) error {
			return c.Emails.EnqueueIn(tx, recovery.KindPasswordReset, u.ID)
		}
	}
	u, err := c.Directory.TransitionWith(r.Context(), r.PathValue("id"), op, also)
	if err != nil {
		return err
	}
	return done(w, r, "/admin/people/"+u.ID, flash)
}

func (c *Console) setPassword(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	u, err := c.Directory.Store.User(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err = c.Directory.SetPassword(ctx, u.ID, r.PostFormValue("password")); err == nil {
		return done(w, r, "/admin/people/"+u.ID, "password")
	}
	summary, fm, ok := fieldErrors(policyError(err))
	if !ok {
		return err
	}
	if m, ok := fm["newPassword"]; ok {
		fm["password"] = m
		delete(fm, "newPassword")
	}
	schema, err := c.Directory.Store.Schema(ctx)
	if err != nil {
		return err
	}
	d, err := c.personPage(r, rq, u, c.personFields(u, schema, nil))
	if err != nil {
		return err
	}
	pw := []Field{d.Password}
	d.Unclaimed = bind(pw, fm)
	d.Password = pw[0]
	c.render(w, r, rq, http.StatusBadRequest, "admin_person", u.DisplayName(), "directory", "people", d, withError(summary))
	return nil
}

func (c *Console) deletePerson(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, err := c.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.Status != directory.Deprovisioned {
		return errs.IllegalStatef("Deactivate %s before deleting them.", u.DisplayName())
	}
	if u.ID == rq.user.ID {
		return errs.IllegalStatef("You cannot delete yourself.")
	}
	if _, err := c.Directory.Delete(r.Context(), u.ID); err != nil {
		return err
	}
	return done(w, r, "/admin/people", "deleted")
}

// sortedGroups orders groups by name for display.
func sortedGroups(gs []*directory.Group) []*directory.Group {
	sort.Slice(gs, func(i, j int) bool { return strings.ToLower(gs[i].Name) < strings.ToLower(gs[j].Name) })
	return gs
}

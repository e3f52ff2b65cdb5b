// Package console serves the server-rendered admin console under /admin:
// the directory (people, groups, profile editor), applications (catalog,
// general and SAML sign-on settings, signing keys, provisioning,
// assignments), event hooks (Workflow), the system log, API tokens and
// administrators.
//
// Only people with an admin role reach it. SUPER_ADMIN changes everything,
// APP_ADMIN changes applications and their assignments only, and
// READ_ONLY_ADMIN sees every page without the forms; every POST checks the
// session's CSRF token and the role again, so a hidden form is never the
// only guard.
package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/grouprule"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Admin roles, as stored in admin_roles.
const (
	RoleSuperAdmin    = oktaapi.RoleSuperAdmin
	RoleAppAdmin      = oktaapi.RoleAppAdmin
	RoleReadOnlyAdmin = oktaapi.RoleReadOnlyAdmin
)

// Roles are the admin roles the console grants, in the order it lists them.
var Roles = adminrole.Types

// Admins reads the admin roles of people (sqlstore.TokenStore and
// adminrole.Service implement it).
type Admins interface {
	AdminRoles(ctx context.Context, userID string) ([]string, error)
}

// AdminGrant is one role of one person.
type AdminGrant struct {
	UserID string
	Role   string
}

// AdminLister lists every admin role grant. Admins may implement it; the
// Administrators page then lists everyone, otherwise it looks people up by
// username.
type AdminLister interface {
	AdminGrants(ctx context.Context) ([]AdminGrant, error)
}

// Events reads the system log (sqlstore.EventStore implements it).
type Events interface {
	Query(ctx context.Context, q audit.Query) ([]audit.Event, string, error)
}

// Console is the admin console surface.
type Console struct {
	BaseURL   string
	Login     *login.Surface
	Directory *directory.Service
	Catalog   *catalog.Service
	Admins    Admins
	// AdminRoles grants and revokes admin roles, with the same rules and
	// events as the management API's role assignments.
	AdminRoles *adminrole.Service
	Tokens     oktaapi.Tokens
	Events     Events
	// Roles feeds the "Role" and "SAML User Roles" choices of AWS
	// assignments; nil offers free text.
	Roles RoleOptions
	// Profiles feeds the Connect security and routing profile choices; nil
	// offers free text.
	Profiles ConnectProfiles
	// Provisioning runs the "Provisioning" tab; nil shows that provisioning
	// is not available.
	Provisioning Provisioning
	// GroupRules are Okta's group rules (Directory → Groups → Rules).
	GroupRules *grouprule.Service
	// EventHooks runs Workflow → Event Hooks; nil hides them.
	EventHooks *eventhook.Service
	// Policies are the sign-on and password policies; nil hides them.
	Policies *policy.Service
	// MFA lists and resets people's second factors; nil hides them.
	MFA *mfa.Service
	// IdPs runs Security → Identity Providers and the links on a person's
	// page; nil hides them.
	IdPs *federation.Service
	// TrustedOrigins runs Security → Trusted Origins; nil hides it.
	TrustedOrigins *trustedorigin.Service
	// Emails mails the link of "Reset Password" when email is configured.
	Emails interface {
		Enabled() bool
		EnqueueIn(tx any, kind, userID string) error
	}
	IDs   *ids.Source
	Now   func() time.Time
	Audit audit.Builder
	Log   *slog.Logger

	pages map[string]*template.Template
}

// New parses the console's templates (admin_*.html of templates, with
// layout.html) and returns the console with c's dependencies.
func New(c Console, templates fs.FS) (*Console, error) {
	pages, err := parsePages(templates)
	if err != nil {
		return nil, err
	}
	c.pages = pages
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &c, nil
}

// sharedFile holds the partials every admin page uses.
const sharedFile = "admin_shared.html"

func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(fsys, "layout.html")
	if err != nil {
		return nil, err
	}
	shared, err := fs.ReadFile(fsys, sharedFile)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "admin_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == sharedFile {
			continue
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		// Only the functions web.ParsePages also defines: the shared page
		// set parses these files too.
		t := template.New("layout").Funcs(template.FuncMap{
			"fieldError": func(pg web.Page, field string) string { return pg.FieldErrors[field] },
			"join":       strings.Join,
		})
		for _, src := range []struct{ name, text string }{{"layout.html", string(layout)}, {sharedFile, string(shared)}, {n, string(body)}} {
			if _, err := t.Parse(src.text); err != nil {
				return nil, fmt.Errorf("console template %s: %w", src.name, err)
			}
		}
		out[strings.TrimSuffix(n, ".html")] = t
	}
	return out, nil
}

// perms says what the signed-in admin may change.
type perms struct {
	Directory bool // people, groups, profile editor
	Apps      bool // applications, keys, provisioning and assignments
	Security  bool // API tokens and administrators
}

// Any reports whether the admin may change anything at all.
func (p perms) Any() bool { return p.Directory || p.Apps || p.Security }

func permsFor(roles []string) perms {
	var p perms
	for _, r := range roles {
		switch r {
		case RoleSuperAdmin:
			p = perms{Directory: true, Apps: true, Security: true}
			return p
		case RoleAppAdmin:
			p.Apps = true
		}
	}
	return p
}

// area names what a POST changes.
type area int

const (
	areaDirectory area = iota + 1
	areaApps
	areaSecurity
)

func (a area) String() string {
	switch a {
	case areaDirectory:
		return "the directory"
	case areaApps:
		return "applications"
	case areaSecurity:
		return "security settings"
	}
	return "this"
}

func (p perms) may(a area) bool {
	switch a {
	case areaDirectory:
		return p.Directory
	case areaApps:
		return p.Apps
	case areaSecurity:
		return p.Security
	}
	return false
}

// request is a signed-in admin's request.
type request struct {
	sess  *session.Session
	user  *directory.User
	roles []string
	can   perms
}

// handler serves an admin page; an error it returns is rendered as a page.
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

// Mount registers the console's routes.
func (c *Console) Mount(mux *http.ServeMux) {
	for _, rt := range c.routes() {
		if rt.area == 0 {
			mux.HandleFunc("GET "+rt.pattern, c.wrap(0, rt.h))
		} else {
			mux.HandleFunc("POST "+rt.pattern, c.wrap(rt.area, rt.h))
		}
	}
}

type route struct {
	pattern string
	area    area // 0 for GET pages
	h       handler
}

func (c *Console) routes() []route {
	return []route{
		{"/admin", 0, c.dashboard},
		{"/admin/{$}", 0, c.dashboard},
		// Directory: people.
		{"/admin/people", 0, c.people},
		{"/admin/people/new", 0, c.newPersonPage},
		{"/admin/people/new", areaDirectory, c.createPerson},
		{"/admin/people/{id}", 0, c.person},
		{"/admin/people/{id}/profile", areaDirectory, c.updatePerson},
		{"/admin/people/{id}/lifecycle/{op}", areaDirectory, c.lifecycle},
		{"/admin/people/{id}/password", areaDirectory, c.setPassword},
		{"/admin/people/{id}/delete", areaDirectory, c.deletePerson},
		{"/admin/people/{id}/factors/reset", areaDirectory, c.resetFactors},
		{"/admin/people/{id}/factors/{fid}/reset", areaDirectory, c.resetFactor},
		{"/admin/people/{id}/assign", 0, c.personAssignList},
		{"/admin/people/{id}/assign/{appId}", 0, c.assignmentForm(personAssignment)},
		{"/admin/people/{id}/assign/{appId}", areaApps, c.assignmentSave(personAssignment)},
		{"/admin/people/{id}/unassign/{appId}", areaApps, c.personUnassign},
		// Directory: groups.
		{"/admin/groups", 0, c.groups},
		{"/admin/groups", areaDirectory, c.createGroup},
		{"/admin/groups/{id}", 0, c.group},
		{"/admin/groups/{id}", areaDirectory, c.updateGroup},
		{"/admin/groups/{id}/delete", areaDirectory, c.deleteGroup},
		{"/admin/groups/{id}/members", areaDirectory, c.addMember},
		{"/admin/groups/{id}/members/{userId}/remove", areaDirectory, c.removeMember},
		{"/admin/groups/{id}/assign", 0, c.groupAssignList},
		{"/admin/groups/{id}/assign/{appId}", 0, c.groupAssignPage},
		{"/admin/groups/{id}/assign/{appId}", areaApps, c.groupAssignSave},
		{"/admin/groups/{id}/unassign/{appId}", areaApps, c.groupUnassign},
		// Directory: group rules.
		{ruleBase, 0, c.groupRules},
		{ruleBase, areaDirectory, c.createGroupRule},
		{ruleBase + "/{id}", 0, c.groupRule},
		{ruleBase + "/{id}", areaDirectory, c.saveGroupRule},
		{ruleBase + "/{id}/lifecycle/{op}", areaDirectory, c.groupRuleLifecycle},
		{ruleBase + "/{id}/delete", areaDirectory, c.deleteGroupRule},
		// Directory: profile editor.
		{"/admin/profile-editor", 0, c.schema},
		{"/admin/profile-editor", areaDirectory, c.addAttribute},
		{"/admin/profile-editor/{name}/remove", areaDirectory, c.removeAttribute},
		// Applications.
		{"/admin/apps", 0, c.apps},
		{"/admin/apps/catalog", 0, c.catalogPage},
		{"/admin/apps/new", 0, c.newAppPage},
		{"/admin/apps/new", areaApps, c.createApp},
		{"/admin/apps/{id}", 0, c.appGeneral},
		{"/admin/apps/{id}/general", areaApps, c.saveGeneral},
		{"/admin/apps/{id}/lifecycle/{op}", areaApps, c.appLifecycle},
		{"/admin/apps/{id}/delete", areaApps, c.deleteApp},
		{"/admin/apps/{id}/signon", 0, c.appSignOn},
		{"/admin/apps/{id}/signon", areaApps, c.saveSignOn},
		{"/admin/apps/{id}/keys/generate", areaApps, c.generateKey},
		{"/admin/apps/{id}/keys/{kid}/activate", areaApps, c.activateKey},
		{"/admin/apps/{id}/keys/{kid}/delete", areaApps, c.deleteKey},
		{"/admin/apps/{id}/provisioning", 0, c.provisioningPage},
		{"/admin/apps/{id}/provisioning", areaApps, c.provisioningIntegration},
		{"/admin/apps/{id}/provisioning/to-app", 0, c.provisioningToApp},
		{"/admin/apps/{id}/provisioning/to-app", areaApps, c.provisioningFeatures},
		{"/admin/apps/{id}/provisioning/mappings", areaApps, c.provisioningMappings},
		{"/admin/apps/{id}/provisioning/defaults", areaApps, c.provisioningDefaults},
		{"/admin/apps/{id}/provisioning/status", 0, c.provisioningStatus},
		{"/admin/apps/{id}/provisioning/progress", 0, c.provisioningProgress},
		{"/admin/apps/{id}/provisioning/push", areaApps, c.provisioningPush},
		{"/admin/apps/{id}/provisioning/tasks/{taskId}/retry", areaApps, c.provisioningRetryTask},
		{"/admin/apps/{id}/provisioning/{action}", areaApps, c.provisioningAction},
		{"/admin/apps/{id}/assignments", 0, c.appAssignments},
		{"/admin/apps/{id}/assign/people", 0, c.appAssignPeople},
		{"/admin/apps/{id}/assign/people/{userId}", 0, c.assignmentForm(appPersonAssignment)},
		{"/admin/apps/{id}/assign/people/{userId}", areaApps, c.assignmentSave(appPersonAssignment)},
		{"/admin/apps/{id}/assign/groups", 0, c.appAssignGroups},
		{"/admin/apps/{id}/assign/groups/{groupId}", 0, c.appAssignGroupForm},
		{"/admin/apps/{id}/assign/groups/{groupId}", areaApps, c.appAssignGroupSave},
		{"/admin/apps/{id}/unassign/people/{userId}", areaApps, c.appUnassignPerson},
		{"/admin/apps/{id}/unassign/groups/{groupId}", areaApps, c.appUnassignGroup},
		// Workflow: event hooks.
		{hookBase, 0, c.eventHooks},
		{hookBase, areaSecurity, c.createEventHook},
		{hookBase + "/{id}", 0, c.eventHook},
		{hookBase + "/{id}", areaSecurity, c.saveEventHook},
		{hookBase + "/{id}/verify", areaSecurity, c.verifyEventHook},
		{hookBase + "/{id}/lifecycle/{op}", areaSecurity, c.eventHookLifecycle},
		{hookBase + "/{id}/delete", areaSecurity, c.deleteEventHook},
		// Reports.
		{"/admin/reports/system-log", 0, c.systemLog},
		// Security.
		{"/admin/security/api-tokens", 0, c.tokens},
		{"/admin/security/api-tokens", areaSecurity, c.createToken},
		{"/admin/security/api-tokens/{id}/revoke", areaSecurity, c.revokeToken},
		{"/admin/security/session-policy", 0, c.sessionPolicy},
		{"/admin/security/session-policy/rules", areaSecurity, c.addSessionRule},
		{"/admin/security/session-policy/rules/{rid}", 0, c.sessionRule},
		{"/admin/security/session-policy/rules/{rid}", areaSecurity, c.saveSessionRule},
		{"/admin/security/session-policy/rules/{rid}/delete", areaSecurity, c.deleteSessionRule},
		{"/admin/security/password-policy", 0, c.passwordPolicy},
		{"/admin/security/password-policy", areaSecurity, c.savePasswordPolicy},
		{"/admin/security/app-sign-on-rules", 0, c.appRulesList},
		{"/admin/apps/{id}/signon-rules", 0, c.appRules},
		{"/admin/apps/{id}/signon-rules", areaApps, c.addAppRule},
		{"/admin/apps/{id}/signon-rules/everyone-else", areaApps, c.saveAppCatchAll},
		{"/admin/apps/{id}/signon-rules/rules/{rid}", 0, c.appRule},
		{"/admin/apps/{id}/signon-rules/rules/{rid}", areaApps, c.saveAppRule},
		{"/admin/apps/{id}/signon-rules/rules/{rid}/delete", areaApps, c.deleteAppRule},
		{"/admin/security/administrators", 0, c.administrators},
		{"/admin/security/administrators/grant", areaSecurity, c.grantRole},
		{"/admin/security/administrators/revoke", areaSecurity, c.revokeRole},
		{idpBase, 0, c.idps},
		{idpBase + "/new", 0, c.newIdPPage},
		{idpBase + "/new", areaSecurity, c.createIdP},
		{idpBase + "/{id}", 0, c.idp},
		{idpBase + "/{id}", areaSecurity, c.saveIdP},
		{idpBase + "/{id}/lifecycle/{op}", areaSecurity, c.idpLifecycle},
		{idpBase + "/{id}/delete", areaSecurity, c.deleteIdP},
		{"/admin/people/{id}/idps/{idpId}/unlink", areaDirectory, c.unlinkIdP},
		{originBase, 0, c.trustedOrigins},
		{originBase, areaSecurity, c.createTrustedOrigin},
		{originBase + "/{id}", 0, c.trustedOrigin},
		{originBase + "/{id}", areaSecurity, c.saveTrustedOrigin},
		{originBase + "/{id}/lifecycle/{op}", areaSecurity, c.trustedOriginLifecycle},
		{originBase + "/{id}/delete", areaSecurity, c.deleteTrustedOrigin},
	}
}

// maxForm bounds every admin form body.
const maxForm = 256 << 10

func (c *Console) wrap(a area, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, u, err := c.Login.Current(r)
		if err != nil {
			c.Login.RedirectToSignIn(w, r, r.URL.RequestURI())
			return
		}
		roles, err := c.Admins.AdminRoles(r.Context(), u.ID)
		if err != nil {
			web.Logger(r.Context(), c.Log).Error("admin roles", "err", err)
			c.Login.Message(w, r, http.StatusInternalServerError, "Admin", "The admin console is unavailable right now. Try again in a moment.", "")
			return
		}
		if len(roles) == 0 {
			c.Login.Message(w, r, http.StatusForbidden, "Admin", "You need an administrator role to use the admin console.", "Ask a super administrator to grant you one.")
			return
		}
		rq := &request{sess: sess, user: u, roles: roles, can: permsFor(roles)}
		ctx := audit.WithRequest(r.Context(), audit.Request{
			Actor:         audit.Actor{ID: u.ID, Type: "User", AlternateID: u.Login(), DisplayName: u.DisplayName()},
			Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
			TransactionID: web.RequestID(r.Context()),
		})
		r = r.WithContext(ctx)
		if a != 0 {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			parse := r.ParseForm
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				// Forms with a file input (certificates); the whole body is
				// bounded, so everything stays in memory.
				parse = func() error { return r.ParseMultipartForm(maxForm) }
			}
			if err := parse(); err != nil {
				c.message(w, r, rq, http.StatusRequestEntityTooLarge, "Form too large", "The form is larger than Gatehouse accepts.")
				return
			}
			if err := c.Login.CheckCSRF(r, sess); err != nil {
				c.message(w, r, rq, http.StatusForbidden, "Not allowed", err.Error())
				return
			}
			if !rq.can.may(a) {
				c.message(w, r, rq, http.StatusForbidden, "Not allowed",
					fmt.Sprintf("Your administrator role (%s) cannot make changes to %s.", strings.Join(roles, ", "), a))
				return
			}
		}
		if err := h(w, r, rq); err != nil {
			c.fail(w, r, rq, err)
		}
	}
}

// fail renders an error no form could show.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		web.Logger(r.Context(), c.Log).Error("admin console", "path", r.URL.Path, "err", err)
		c.message(w, r, rq, http.StatusInternalServerError, "Something went wrong", "Gatehouse could not complete this request. Try again in a moment.")
		return
	}
	status := http.StatusBadRequest
	title := "Cannot do that"
	switch e.Kind {
	case errs.NotFound:
		status, title = http.StatusNotFound, "Not found"
	case errs.Forbidden:
		status, title = http.StatusForbidden, "Not allowed"
	case errs.Conflict:
		status = http.StatusConflict
	case errs.Unavailable:
		status, title = http.StatusServiceUnavailable, "Unavailable"
	case errs.RateLimited:
		status = http.StatusTooManyRequests
	}
	msg := e.Msg
	for _, f := range e.Fields {
		msg += " " + f.Message
	}
	c.message(w, r, rq, status, title, msg)
}

func (c *Console) message(w http.ResponseWriter, r *http.Request, rq *request, status int, title, msg string) {
	back := r.Referer()
	if !strings.HasPrefix(back, c.BaseURL+"/admin") {
		back = "/admin"
	} else {
		back = strings.TrimPrefix(back, c.BaseURL)
	}
	c.render(w, r, rq, status, "admin_message", title, "", "", map[string]string{"Message": msg, "Back": back})
}

// view is what every admin page receives as web.Page.Data.
type view struct {
	Section string
	Sub     string
	Can     perms
	Roles   string
	// Flash is the outcome of the previous action.
	Flash    string
	FlashErr string
	P        any
}

// render writes an admin page inside the shared layout.
func (c *Console) render(w http.ResponseWriter, r *http.Request, rq *request, status int, name, title, section, sub string, data any, opts ...func(*web.Page)) {
	t, ok := c.pages[name]
	if !ok {
		http.Error(w, "page not found: "+name, http.StatusInternalServerError)
		return
	}
	v := view{Section: section, Sub: sub, Can: rq.can, Roles: strings.Join(rq.roles, ", "), P: data}
	if f := flashes[r.URL.Query().Get("ok")]; f != "" && r.Method == http.MethodGet {
		v.Flash = f
	}
	p := web.Page{Title: title, Nav: "admin", User: rq.user, IsAdmin: true, CSRF: rq.sess.CSRF, Data: v}
	for _, o := range opts {
		o(&p)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		web.Logger(r.Context(), c.Log).Error("render admin page", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", web.CSP)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// withError sets the page's error summary.
func withError(msg string) func(*web.Page) { return func(p *web.Page) { p.Error = msg } }

// flashes are the outcomes an action redirect may announce (?ok=...); a
// fixed table, so a link cannot put words on an admin page.
var flashes = map[string]string{
	"created":      "Created.",
	"saved":        "Saved.",
	"deleted":      "Deleted.",
	"activated":    "Activated.",
	"deactivated":  "Deactivated.",
	"suspended":    "Suspended.",
	"unsuspended":  "Unsuspended.",
	"unlocked":     "Unlocked.",
	"reset":        "The password was reset; the person must set a new one.",
	"resetmail":    "The password was reset; a link to choose a new one was emailed to the person.",
	"password":     "The password was set.",
	"assigned":     "The application was assigned.",
	"unassigned":   "The assignment was removed.",
	"added":        "Added.",
	"removed":      "Removed.",
	"key":          "A new signing certificate was generated. It is published in the metadata; make it active when the service provider trusts it.",
	"keyactive":    "The signing certificate is now active.",
	"revoked":      "Revoked.",
	"granted":      "The role was granted.",
	"refreshed":    "Application data was refreshed.",
	"retried":      "Failed provisioning tasks were queued again.",
	"unlinked":     "The link to the identity provider was removed.",
	"retried1":     "The task was queued again.",
	"pushed":       "Gatehouse queued the changes that bring the application in line.",
	"mappings":     "The attribute mappings were saved.",
	"provisioning": "Provisioning settings were saved.",
	"factorreset":  "The factor was reset. The person can set it up again.",
	"rule":         "The rule was added.",
	"factorsreset": "All factors and recovery codes were reset.",
	"verified":     "The endpoint answered the verification request: the event hook is verified.",
}

// done redirects after a successful action, announcing it.
func done(w http.ResponseWriter, r *http.Request, path, flash string) error {
	path, frag, hasFrag := strings.Cut(path, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if flash != "" {
		path += sep + "ok=" + flash
	}
	if hasFrag {
		path += "#" + frag
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/federation"
)

// Security → Identity Providers: the external identity providers people
// sign in with (Google, LinkedIn, any OpenID Connect provider), through the
// same validation as /api/v1/idps (package federation). The client secret
// is write-only: the form never shows it, and an empty field keeps it.

const idpBase = "/admin/security/identity-providers"

// CallbackPath is the redirect URI path every provider must allow; the
// console shows it with the base URL.
const CallbackPath = "/oauth2/v1/authorize/callback"

type idpRow struct {
	ID, Name, Type, Status, Button string
}

type idpListData struct {
	Providers []idpRow
}

func (c *Console) idps(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	ps, err := c.IdPs.Store.IdPs(r.Context(), federation.Query{Limit: 200})
	if err != nil {
		return err
	}
	var d idpListData
	for _, p := range ps {
		d.Providers = append(d.Providers, idpRow{ID: p.ID, Name: p.Name, Type: typeLabel(p.Type), Status: p.Status, Button: p.ButtonLabel()})
	}
	c.render(w, r, rq, http.StatusOK, "admin_idps", "Identity Providers", "security", "idps", d)
	return nil
}

func typeLabel(t federation.Type) string {
	if t == federation.OIDC {
		return "OpenID Connect"
	}
	return t.Label()
}

// Linking choices: how an unlinked provider account finds its person.
var linkChoices = []Option{
	{Value: "EMAIL", Label: "Verified email address"},
	{Value: "USERNAME", Label: "Username (from the username template)"},
	{Value: "USERNAME_OR_EMAIL", Label: "Username or verified email address"},
	{Value: "NONE", Label: "Never link automatically"},
}

// mappedAttributes get one input each; others go in "Other attributes".
var mappedAttributes = []struct{ Name, Label string }{
	{"login", "Username"}, {"email", "Primary email"}, {"firstName", "First name"}, {"lastName", "Last name"},
}

type idpFormData struct {
	New         bool
	ID          string
	Type        string
	TypeLabel   string
	Status      string
	Active      bool
	RedirectURI string
	Setup       string // where to register the client, per type
	Provider    []Field
	Linking     []Field
	JIT         []Field
	Unclaimed   []string
	Action      string
}

func setupHint(t federation.Type) string {
	switch t {
	case federation.Google:
		return "In Google Cloud Console, APIs & Services → Credentials, create an OAuth client ID of type Web application and add the redirect URI below to its Authorized redirect URIs."
	case federation.LinkedIn:
		return "In the LinkedIn Developer Portal, add the product Sign In with LinkedIn using OpenID Connect to your app and add the redirect URI below under Auth → Authorized redirect URLs."
	}
	return "Register Gatehouse at the provider as a confidential client (authorization code flow) with the redirect URI below."
}

// idpForm builds the form's fields from a provider (p) or from the
// submitted form (form, when not nil).
func (c *Console) idpForm(ctx context.Context, typ federation.Type, p *federation.IdP, form url.Values, isNew bool) (idpFormData, error) {
	if p == nil {
		p = &federation.IdP{Type: typ, Name: typ.Label(), Scopes: []string{"openid", "email", "profile"},
			Provisioning: federation.Provisioning{Action: federation.ActionAuto, ProfileMapping: federation.DefaultMapping()},
			AccountLink:  federation.AccountLink{Action: federation.ActionAuto},
			Subject:      federation.Subject{MatchType: federation.MatchEmail, UserNameTemplate: "idpuser.email"}}
		if typ == federation.OIDC {
			p.Name = ""
		}
	}
	val := func(name, current string) string {
		if form != nil {
			return form.Get(name)
		}
		return current
	}
	d := idpFormData{New: isNew, ID: p.ID, Type: string(typ), TypeLabel: typeLabel(typ), Status: p.Status, Active: p.Status == federation.Active,
		RedirectURI: strings.TrimRight(c.BaseURL, "/") + CallbackPath, Setup: setupHint(typ)}
	d.Action = idpBase + "/" + p.ID
	if isNew {
		d.Action = idpBase + "/new?type=" + string(typ)
	}
	name := Field{Name: "name", Label: "Name", Type: "text", Value: val("name", p.Name), Required: true, Autocomplete: "off",
		Help: "Shown on the sign-in button: “Sign in with " + p.Type.Label() + "”."}
	if typ == federation.OIDC {
		name.Help = "Shown on the sign-in button as “Sign in with <name>”."
	}
	fields := []Field{name}
	if typ == federation.OIDC {
		fields = append(fields, Field{Name: "protocol.issuer.url", Label: "Issuer or discovery URL", Type: "url", Value: val("protocol.issuer.url", p.Issuer),
			Required: true, Autocomplete: "off", Placeholder: "https://login.example.com",
			Help: "The provider's issuer, or its /.well-known/openid-configuration address; Gatehouse reads the endpoints from the discovery document when you save."})
	}
	fields = append(fields,
		Field{Name: "protocol.credentials.client.client_id", Label: "Client ID", Type: "text", Value: val("protocol.credentials.client.client_id", p.ClientID), Required: true, Autocomplete: "off"},
		Field{Name: "protocol.credentials.client.client_secret", Label: "Client secret", Type: "password", Required: isNew, Autocomplete: "new-password",
			Help: secretHelp(isNew)},
		Field{Name: "protocol.scopes", Label: "Scopes", Type: "text", Value: val("protocol.scopes", strings.Join(p.Scopes, " ")), Autocomplete: "off",
			Help: "Separated by spaces; must include openid. Usually openid email profile."},
	)
	d.Provider = fields

	rule := p.Subject.MatchType
	if p.AccountLink.Action == federation.ActionDisabled {
		rule = "NONE"
	}
	link := Field{Name: "link", Label: "Link to an existing person by", Type: "select", Value: val("link", rule),
		Keys: []string{"policy.subject.matchType", "policy.accountLink.action"},
		Help: "An email address the provider has not verified never links."}
	for _, o := range linkChoices {
		o.Selected = o.Value == link.Value
		link.Options = append(link.Options, o)
	}
	tmpl := Field{Name: "policy.subject.userNameTemplate.template", Label: "Username template", Type: "text",
		Value: val("policy.subject.userNameTemplate.template", p.Subject.UserNameTemplate), Autocomplete: "off",
		Help: "An expression over the provider's claims, such as idpuser.email; matched against usernames when linking by username."}
	d.Linking = []Field{link, tmpl}

	jit := checkbox("jit", "Create people who are not in the directory yet (just in time)", p.Provisioning.Action == federation.ActionAuto)
	if form != nil {
		jit.Checked = form.Get("jit") == "true"
	}
	jit.Keys = []string{"policy.provisioning.action"}
	jit.Help = "Off: someone the provider knows but Gatehouse does not is refused with a page that says so."
	jitFields := []Field{jit}
	mapping := p.Provisioning.ProfileMapping
	var other []string
	known := map[string]bool{}
	for _, a := range mappedAttributes {
		known[a.Name] = true
		key := "policy.provisioning.profileMapping." + a.Name
		f := Field{Name: key, Label: a.Label + " from", Type: "text", Value: val(key, mapping[a.Name]), Autocomplete: "off"}
		if a.Name == "login" {
			f.Required = true
			f.Keys = []string{"policy.provisioning.profileMapping"}
		}
		jitFields = append(jitFields, f)
	}
	for k, v := range mapping {
		if !known[k] {
			other = append(other, k+" = "+v)
		}
	}
	sort.Strings(other)
	jitFields = append(jitFields, Field{Name: "mappingOther", Label: "Other attributes", Type: "textarea", Value: val("mappingOther", strings.Join(other, "\n")),
		Help: "One per line: attribute = expression, for example title = idpuser.job_title."})
	groups := Field{Name: "policy.provisioning.groups.assignments", Label: "Add created people to these groups", Type: "multiselect",
		Help: "Hold Ctrl (or ⌘) to choose several."}
	chosen := map[string]bool{}
	if form != nil {
		for _, g := range form["policy.provisioning.groups.assignments"] {
			chosen[g] = true
		}
	} else {
		for _, g := range p.Provisioning.Groups {
			chosen[g] = true
		}
	}
	gs, err := c.Directory.Store.Groups(ctx, directory.GroupQuery{Limit: 500})
	if err != nil {
		return d, err
	}
	for _, g := range sortedGroups(gs) {
		groups.Options = append(groups.Options, Option{Value: g.ID, Label: g.Name, Selected: chosen[g.ID]})
	}
	d.JIT = append(jitFields, groups)
	return d, nil
}

func secretHelp(isNew bool) string {
	if isNew {
		return "Stored encrypted; it is never shown again."
	}
	return "Leave empty to keep the current secret; it is stored encrypted and never shown."
}

// idpFromForm reads the provider settings of the form over base (the
// stored provider, or a new one of type typ).
func idpFromForm(r *http.Request, typ federation.Type, base *federation.IdP) (*federation.IdP, string, []errs.FieldError) {
	v := r.PostFormValue
	p := &federation.IdP{Type: typ, Status: federation.Active}
	if base != nil {
		*p = *base
	}
	p.Name = strings.TrimSpace(v("name"))
	if typ == federation.OIDC {
		iss := strings.TrimSpace(v("protocol.issuer.url"))
		p.Issuer = strings.TrimSuffix(strings.TrimRight(iss, "/"), "/.well-known/openid-configuration")
	}
	p.ClientID = strings.TrimSpace(v("protocol.credentials.client.client_id"))
	p.Scopes = strings.Fields(v("protocol.scopes"))
	var fe []errs.FieldError
	switch rule := v("link"); rule {
	case "NONE":
		p.AccountLink.Action = federation.ActionDisabled
		if p.Subject.MatchType == "" {
			p.Subject.MatchType = federation.MatchEmail
		}
	case federation.MatchEmail, federation.MatchUsername, federation.MatchUsernameOrEmail:
		p.AccountLink.Action = federation.ActionAuto
		p.Subject.MatchType = rule
	default:
		fe = append(fe, errs.Field("link", "Choose one of the listed rules."))
	}
	p.Subject.UserNameTemplate = strings.TrimSpace(v("policy.subject.userNameTemplate.template"))
	p.Provisioning.Action = federation.ActionDisabled
	if v("jit") == "true" {
		p.Provisioning.Action = federation.ActionAuto
	}
	mapping := map[string]string{}
	for _, a := range mappedAttributes {
		if e := strings.TrimSpace(v("policy.provisioning.profileMapping." + a.Name)); e != "" {
			mapping[a.Name] = e
		}
	}
	for i, line := range strings.Split(v("mappingOther"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		attr, expr, ok := strings.Cut(line, "=")
		attr, expr = strings.TrimSpace(attr), strings.TrimSpace(expr)
		if !ok || attr == "" || expr == "" || strings.ContainsAny(attr, " \t.") {
			fe = append(fe, errs.Field("mappingOther", "Line %d: write attribute = expression.", i+1))
			continue
		}
		mapping[attr] = expr
	}
	// All empty: federation fills in the default mapping.
	p.Provisioning.ProfileMapping = mapping
	p.Provisioning.Groups = r.PostForm["policy.provisioning.groups.assignments"]
	return p, v("protocol.credentials.client.client_secret"), fe
}

func (c *Console) renderIdPForm(w http.ResponseWriter, r *http.Request, rq *request, status int, d idpFormData, summary string) {
	title := "Add " + d.TypeLabel + " identity provider"
	if !d.New {
		title = "Identity provider"
	}
	if summary != "" {
		c.render(w, r, rq, status, "admin_idp", title, "security", "idps", d, withError(summary))
		return
	}
	c.render(w, r, rq, status, "admin_idp", title, "security", "idps", d)
}

func newType(r *http.Request) (federation.Type, error) {
	t := federation.Type(strings.ToUpper(r.URL.Query().Get("type")))
	switch t {
	case federation.Google, federation.LinkedIn, federation.OIDC:
		return t, nil
	}
	return "", errs.NotFoundf("There is no identity provider type %q; choose Google, LinkedIn or OpenID Connect.", r.URL.Query().Get("type"))
}

func (c *Console) newIdPPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	t, err := newType(r)
	if err != nil {
		return err
	}
	d, err := c.idpForm(r.Context(), t, nil, nil, true)
	if err != nil {
		return err
	}
	c.renderIdPForm(w, r, rq, http.StatusOK, d, "")
	return nil
}

// withFormErrors adds the provider's own problems to those of the form,
// so that every problem is reported at once.
func (c *Console) withFormErrors(ctx context.Context, p *federation.IdP, secret string, create bool, fe []errs.FieldError) error {
	if e, ok := errs.As(c.IdPs.Validate(ctx, p, secret, create)); ok && e.Kind == errs.Invalid {
		fe = append(fe, e.Fields...)
	}
	return errs.InvalidFields("", fe...)
}

// idpFormError shows the form again with each error beside its field.
func (c *Console) idpFormError(w http.ResponseWriter, r *http.Request, rq *request, typ federation.Type, base *federation.IdP, isNew bool, err error) error {
	summary, fm, ok := fieldErrors(err)
	if !ok {
		return err
	}
	d, ferr := c.idpForm(r.Context(), typ, base, r.PostForm, isNew)
	if ferr != nil {
		return ferr
	}
	all := append(append(append([]Field{}, d.Provider...), d.Linking...), d.JIT...)
	d.Unclaimed = bind(all, fm)
	n1, n2 := len(d.Provider), len(d.Linking)
	d.Provider, d.Linking, d.JIT = all[:n1], all[n1:n1+n2], all[n1+n2:]
	c.renderIdPForm(w, r, rq, http.StatusBadRequest, d, summary)
	return nil
}

func (c *Console) createIdP(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	t, err := newType(r)
	if err != nil {
		return err
	}
	p, secret, fe := idpFromForm(r, t, nil)
	if fe != nil {
		return c.idpFormError(w, r, rq, t, nil, true, c.withFormErrors(r.Context(), p, secret, true, fe))
	}
	created, err := c.IdPs.Create(r.Context(), p, secret)
	if err != nil {
		return c.idpFormError(w, r, rq, t, nil, true, err)
	}
	return done(w, r, idpBase+"/"+created.ID, "created")
}

func (c *Console) idp(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	p, err := c.IdPs.Store.IdP(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.idpForm(r.Context(), p.Type, p, nil, false)
	if err != nil {
		return err
	}
	c.renderIdPForm(w, r, rq, http.StatusOK, d, "")
	return nil
}

func (c *Console) saveIdP(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	old, err := c.IdPs.Store.IdP(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	p, secret, fe := idpFromForm(r, old.Type, old)
	if fe != nil {
		return c.idpFormError(w, r, rq, old.Type, old, false, c.withFormErrors(r.Context(), p, secret, false, fe))
	}
	if _, err := c.IdPs.Replace(r.Context(), old.ID, p, secret); err != nil {
		return c.idpFormError(w, r, rq, old.Type, old, false, err)
	}
	return done(w, r, idpBase+"/"+old.ID, "saved")
}

func (c *Console) idpLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	status, flash := federation.Active, "activated"
	switch r.PathValue("op") {
	case "activate":
	case "deactivate":
		status, flash = federation.Inactive, "deactivated"
	default:
		return errs.NotFoundf("There is no lifecycle action %q.", r.PathValue("op"))
	}
	p, err := c.IdPs.SetStatus(r.Context(), r.PathValue("id"), status)
	if err != nil {
		return err
	}
	return done(w, r, idpBase+"/"+p.ID, flash)
}

func (c *Console) deleteIdP(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	if err := c.IdPs.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return done(w, r, idpBase, "deleted")
}

// personLink is one provider a person is linked to, for the person page.
type personLink struct {
	IdPID, IdP, Type, ExternalID, Linked string
}

func (c *Console) personLinks(ctx context.Context, userID string) ([]personLink, error) {
	if c.IdPs == nil {
		return nil, nil
	}
	ls, err := c.IdPs.Store.UserLinks(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []personLink
	for _, l := range ls {
		pl := personLink{IdPID: l.IdPID, IdP: l.IdPID, ExternalID: l.ExternalID, Linked: fmtTime(&l.Created)}
		if p, err := c.IdPs.Store.IdP(ctx, l.IdPID); err == nil {
			pl.IdP, pl.Type = p.Name, typeLabel(p.Type)
		}
		out = append(out, pl)
	}
	return out, nil
}

func (c *Console) unlinkIdP(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.IdPs == nil {
		return errs.NotFoundf("Identity providers are not available.")
	}
	uid := r.PathValue("id")
	if err := c.IdPs.Unlink(r.Context(), r.PathValue("idpId"), uid); err != nil {
		return err
	}
	return done(w, r, fmt.Sprintf("/admin/people/%s#idps", uid), "unlinked")
}

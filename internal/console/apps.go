package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// appHead is the heading and tabs of an application's pages.
type appHead struct {
	App      *catalog.App
	Template string
	Tab      string
}

// Active reports whether the app is active.
func (h appHead) Active() bool { return h.App.Status == catalog.Active }

func (c *Console) head(a *catalog.App, tab string) appHead {
	return appHead{App: a, Template: catalog.TemplateFor(a.Name).Title, Tab: tab}
}

type appRow struct {
	ID, Label, Template string
	Status              catalog.Status
}

type appsData struct {
	Q      string
	Search Field
	Apps   []appRow
	Pager  Pager
}

func (c *Console) apps(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	after, trail := cursor(q)
	search := strings.TrimSpace(q.Get("q"))
	apps, err := c.Catalog.Store.Apps(r.Context(), catalog.AppQuery{Q: search, After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(apps) > pageSize
	if more {
		apps = apps[:pageSize]
	}
	d := appsData{Q: search, Search: Field{Name: "q", Label: "Search applications", Type: "search", Value: search}}
	last := ""
	for _, a := range apps {
		d.Apps = append(d.Apps, appRow{ID: a.ID, Label: a.Label, Template: catalog.TemplateFor(a.Name).Title, Status: a.Status})
		last = a.ID
	}
	d.Pager = pager("/admin/apps", q, after, trail, last, more)
	c.render(w, r, rq, http.StatusOK, "admin_apps", "Applications", "apps", "", d)
	return nil
}

type catalogEntry struct {
	Key, Title, Description string
}

type catalogData struct {
	Q       string
	Search  Field
	Entries []catalogEntry
}

func (c *Console) catalogPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := catalogData{Q: q, Search: Field{Name: "q", Label: "Search the catalog", Type: "search", Value: q, Placeholder: "Amazon"}}
	for _, t := range catalog.SearchTemplates(q) {
		d.Entries = append(d.Entries, catalogEntry{Key: t.Key, Title: t.Title, Description: t.Description})
	}
	c.render(w, r, rq, http.StatusOK, "admin_catalog", "Browse App Catalog", "apps", "", d)
	return nil
}

type newAppData struct {
	Key       string
	Title     string
	Fields    []Field
	Unclaimed []string
}

// generalFields are the "General Settings" of an app of template t.
func generalFields(t *catalog.Template, label, loginURL string, hideWeb, hideIOS bool) []Field {
	lf := Field{Name: "label", Label: "Application Label", Type: "text", Value: label, Required: true, Autocomplete: "off",
		Help: "The name people see on their dashboard tile."}
	out := []Field{lf}
	if f, ok := t.Field("loginURL"); ok {
		out = append(out, Field{Name: "settings.app.loginURL", Label: f.Label, Type: "url", Value: loginURL, Keys: []string{"loginURL"}, Help: f.Help})
	}
	out = append(out,
		checkbox("hideWeb", "Do not display application icon to users", hideWeb),
		checkbox("hideIOS", "Do not display application icon in the mobile app", hideIOS))
	return out
}

// creationSettings are the settings.app fields a new app of a template
// asks for besides the general ones (Amazon Connect needs its instance).
func creationSettings(t *catalog.Template) []string {
	if t.Key == catalog.TemplateConnect {
		return []string{"region", "instanceId"}
	}
	return nil
}

// settingField is the input of one settings.app field.
func settingField(f catalog.Field, value string) Field {
	name := "settings.app." + f.Name
	fd := Field{Name: name, Label: f.Label, Type: "text", Value: value, Help: f.Help, Keys: []string{f.Name}, Required: f.Required}
	switch {
	case f.Type == catalog.FieldBoolean:
		fd.Type, fd.Checked = "checkbox", value == "true"
	case f.Type == catalog.FieldInteger:
		fd.Type = "number"
	case len(f.Enum) > 0:
		fd = choice(name, f.Label, value, f.Enum...)
		fd.Help, fd.Keys = f.Help, []string{f.Name}
	}
	return fd
}

// settingValue converts a form value of a settings.app field.
func settingValue(f catalog.Field, raw string) (any, string) {
	switch f.Type {
	case catalog.FieldBoolean:
		return raw == "true", ""
	case catalog.FieldInteger:
		if raw == "" {
			return nil, ""
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, "Enter a whole number."
		}
		return n, ""
	}
	return nullable(raw), ""
}

// newAppForm builds the creation form: the general fields, the template's
// creation settings, and any other setting a failed attempt complained
// about, so that every message has its input.
func newAppForm(t *catalog.Template, form func(string) string, fe map[string]string) []Field {
	label, loginURL := t.DefaultLabel, profileString(t.DefaultSettings()["loginURL"])
	hideWeb, hideIOS := false, false
	if form != nil {
		label, loginURL = form("label"), form("settings.app.loginURL")
		hideWeb, hideIOS = form("hideWeb") == "true", form("hideIOS") == "true"
	}
	fields := generalFields(t, label, loginURL, hideWeb, hideIOS)
	general := fields[:len(fields)-2]
	hides := fields[len(fields)-2:]
	names := creationSettings(t)
	for k := range fe {
		if n, ok := strings.CutPrefix(k, "settings.app."); ok && n != "loginURL" {
			dup := false
			for _, e := range names {
				dup = dup || e == n
			}
			if !dup {
				names = append(names, n)
			}
		}
	}
	out := append([]Field{}, general...)
	for _, n := range names {
		f, ok := t.Field(n)
		if !ok || f.WriteOnly {
			continue
		}
		v := profileString(t.DefaultSettings()[n])
		if form != nil {
			v = form("settings.app." + n)
		}
		out = append(out, settingField(f, v))
	}
	return append(out, hides...)
}

func (c *Console) newAppPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	key := r.URL.Query().Get("template")
	t := catalog.TemplateByKey(key)
	if t == nil {
		return errs.NotFoundf("There is no %q in the app catalog.", key)
	}
	d := newAppData{Key: t.Key, Title: t.Title, Fields: newAppForm(t, nil, nil)}
	c.render(w, r, rq, http.StatusOK, "admin_app_new", "Add "+t.Title, "apps", "", d)
	return nil
}

func (c *Console) createApp(w http.ResponseWriter, r *http.Request, rq *request) error {
	key := r.PostFormValue("template")
	t := catalog.TemplateByKey(key)
	if t == nil {
		return errs.NotFoundf("There is no %q in the app catalog.", key)
	}
	form := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	in := catalog.AppInput{Name: t.Key, Label: form("label"),
		Visibility: &catalog.Visibility{Hide: catalog.Hide{Web: form("hideWeb") == "true", IOS: form("hideIOS") == "true"}, AppLinks: map[string]bool{t.LinkID: true}}}
	var bad []errs.FieldError
	for _, f := range t.Fields {
		if f.WriteOnly {
			continue
		}
		if _, posted := r.PostForm["settings.app."+f.Name]; !posted {
			continue // not on the form: the template default stays
		}
		v, msg := settingValue(f, form("settings.app."+f.Name))
		if msg != "" {
			bad = append(bad, errs.Field("settings.app."+f.Name, "%s", msg))
			continue
		}
		if in.SettingsApp == nil {
			in.SettingsApp = map[string]any{}
		}
		in.SettingsApp[f.Name] = v
	}
	if rs := connectRelayState(form("settings.app.region"), form("settings.app.instanceId")); rs != "" && t.Key == catalog.TemplateConnect {
		so := t.DefaultSignOn
		so.DefaultRelayState = rs
		in.SignOn = &so
	}
	var err error
	if bad != nil {
		err = errs.InvalidFields("Api validation failed: app", bad...)
	} else {
		var a *catalog.App
		if a, err = c.Catalog.CreateApp(r.Context(), in, catalog.CreateOptions{Activate: true}); err == nil {
			return done(w, r, "/admin/apps/"+a.ID, "created")
		}
	}
	summary, fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	d := newAppData{Key: t.Key, Title: t.Title, Fields: newAppForm(t, form, fe)}
	d.Unclaimed = bind(d.Fields, fe)
	c.render(w, r, rq, http.StatusBadRequest, "admin_app_new", "Add "+t.Title, "apps", "", d, withError(summary))
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type generalData struct {
	appHead
	Fields    []Field
	Unclaimed []string
	Links     appLinks
}

// appLinks are the addresses an admin copies into the service provider.
type appLinks struct {
	SSO, EntityID, Metadata, Dashboard string
}

func (c *Console) links(a *catalog.App) appLinks {
	return appLinks{SSO: c.BaseURL + a.SSOPath(), EntityID: a.EntityID(c.BaseURL), Metadata: c.BaseURL + a.MetadataPath(), Dashboard: c.BaseURL + a.LoginLinkPath()}
}

func (c *Console) generalPage(w http.ResponseWriter, r *http.Request, rq *request, a *catalog.App, fields []Field, err error) error {
	d := generalData{appHead: c.head(a, "general"), Fields: fields, Links: c.links(a)}
	if err != nil {
		summary, fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		d.Unclaimed = bind(d.Fields, fe)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_general", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_general", a.Label, "apps", "", d)
	return nil
}

func (c *Console) appGeneral(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	t := catalog.TemplateFor(a.Name)
	return c.generalPage(w, r, rq, a, generalFields(t, a.Label, profileString(a.Settings.App["loginURL"]), a.Visibility.Hide.Web, a.Visibility.Hide.IOS), nil)
}

func (c *Console) saveGeneral(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	t := catalog.TemplateFor(a.Name)
	label := strings.TrimSpace(r.PostFormValue("label"))
	loginURL := strings.TrimSpace(r.PostFormValue("settings.app.loginURL"))
	hideWeb, hideIOS := r.PostFormValue("hideWeb") == "true", r.PostFormValue("hideIOS") == "true"
	vis := a.Visibility
	vis.Hide = catalog.Hide{Web: hideWeb, IOS: hideIOS}
	in := catalog.AppInput{Label: label, Visibility: &vis}
	if _, ok := t.Field("loginURL"); ok {
		in.SettingsApp = map[string]any{"loginURL": nullable(loginURL)}
	}
	if label == "" {
		err = errs.InvalidFields("Api validation failed: app", errs.Field("label", "The field cannot be left blank"))
	} else if _, err = c.Catalog.UpdateApp(ctx, a.ID, in); err == nil {
		return done(w, r, "/admin/apps/"+a.ID, "saved")
	}
	return c.generalPage(w, r, rq, a, generalFields(t, label, loginURL, hideWeb, hideIOS), err)
}

func (c *Console) appLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	var err error
	flash := ""
	switch r.PathValue("op") {
	case "activate":
		err, flash = c.Catalog.ActivateApp(r.Context(), id), "activated"
	case "deactivate":
		err, flash = c.Catalog.DeactivateApp(r.Context(), id), "deactivated"
	default:
		return errs.NotFoundf("There is no lifecycle action %q.", r.PathValue("op"))
	}
	if err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id, flash)
}

func (c *Console) deleteApp(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.Catalog.DeleteApp(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps", "deleted")
}

package console

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Security → Trusted Origins (Okta's Security → API → Trusted Origins):
// the web origins whose pages may call the Authentication API from the
// browser (CORS) and that a browser may be sent to after signing in
// (Redirect), through the same validation and events as
// /api/v1/trustedOrigins. Only a super administrator changes them.

const originBase = "/admin/security/trusted-origins"

type originRow struct {
	ID, Name, Origin, Status, Scopes string
}

type originsData struct {
	Origins   []originRow
	New       []Field
	Unclaimed []string
}

type originData struct {
	ID, Status string
	Active     bool
	Fields     []Field
	Unclaimed  []string
}

func originFields(name, origin string, cors, redirect bool) []Field {
	n := Field{Name: "name", Label: "Name", Type: "text", Value: name, Required: true, Autocomplete: "off"}
	o := Field{Name: "origin", Label: "Origin URL", Type: "text", Value: origin, Required: true, Autocomplete: "off", Placeholder: "https://app.example.com",
		Help: "scheme://host[:port], without a path: http, https, ftp, ionic or capacitor."}
	cf := checkbox("scopes.cors", "CORS: pages on this origin may call the Authentication API and /api/v1/sessions/me from the browser", cors)
	cf.Keys = []string{"scopes"}
	rf := checkbox("scopes.redirect", "Redirect: the browser may be sent to this origin after signing in", redirect)
	return []Field{n, o, cf, rf}
}

func originInput(r *http.Request) trustedorigin.Input {
	in := trustedorigin.Input{Name: r.PostFormValue("name"), Origin: r.PostFormValue("origin")}
	if r.PostFormValue("scopes.cors") == "true" {
		in.Scopes = append(in.Scopes, trustedorigin.Scope{Type: trustedorigin.CORS})
	}
	if r.PostFormValue("scopes.redirect") == "true" {
		in.Scopes = append(in.Scopes, trustedorigin.Scope{Type: trustedorigin.Redirect})
	}
	return in
}

func scopeLabel(o *trustedorigin.Origin) string {
	s := ""
	for _, t := range o.Scopes {
		if s != "" {
			s += ", "
		}
		if t == trustedorigin.CORS {
			s += "CORS"
		} else {
			s += "Redirect"
		}
	}
	return s
}

func (c *Console) originsPage(w http.ResponseWriter, r *http.Request, rq *request, status int, d originsData, summary string) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	all, err := c.TrustedOrigins.Store.TrustedOrigins(r.Context())
	if err != nil {
		return err
	}
	for _, o := range all {
		d.Origins = append(d.Origins, originRow{ID: o.ID, Name: o.Name, Origin: o.Origin, Status: o.Status, Scopes: scopeLabel(o)})
	}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_trusted_origins", "Trusted Origins", "security", "origins", d, opts...)
	return nil
}

func (c *Console) trustedOrigins(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.originsPage(w, r, rq, http.StatusOK, originsData{New: originFields("", "", true, true)}, "")
}

func (c *Console) createTrustedOrigin(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	in := originInput(r)
	_, err := c.TrustedOrigins.Create(r.Context(), in)
	if summary, fm, ok := fieldErrors(err); ok {
		fields := originFields(r.PostFormValue("name"), r.PostFormValue("origin"), r.PostFormValue("scopes.cors") == "true", r.PostFormValue("scopes.redirect") == "true")
		unclaimed := bind(fields, fm)
		return c.originsPage(w, r, rq, http.StatusBadRequest, originsData{New: fields, Unclaimed: unclaimed}, summary)
	}
	if err != nil {
		return err
	}
	return done(w, r, originBase, "created")
}

func (c *Console) originPage(w http.ResponseWriter, r *http.Request, rq *request, status int, o *trustedorigin.Origin, fields []Field, unclaimed []string, summary string) {
	d := originData{ID: o.ID, Status: o.Status, Active: o.Status == trustedorigin.Active, Fields: fields, Unclaimed: unclaimed}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_trusted_origin", o.Name, "security", "origins", d, opts...)
}

func (c *Console) trustedOrigin(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	o, err := c.TrustedOrigins.Store.TrustedOrigin(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	c.originPage(w, r, rq, http.StatusOK, o, originFields(o.Name, o.Origin, o.Has(trustedorigin.CORS), o.Has(trustedorigin.Redirect)), nil, "")
	return nil
}

func (c *Console) saveTrustedOrigin(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	id := r.PathValue("id")
	_, err := c.TrustedOrigins.Replace(r.Context(), id, originInput(r))
	if summary, fm, ok := fieldErrors(err); ok {
		o, gerr := c.TrustedOrigins.Store.TrustedOrigin(r.Context(), id)
		if gerr != nil {
			return gerr
		}
		fields := originFields(r.PostFormValue("name"), r.PostFormValue("origin"), r.PostFormValue("scopes.cors") == "true", r.PostFormValue("scopes.redirect") == "true")
		unclaimed := bind(fields, fm)
		c.originPage(w, r, rq, http.StatusBadRequest, o, fields, unclaimed, summary)
		return nil
	}
	if err != nil {
		return err
	}
	return done(w, r, originBase+"/"+id, "saved")
}

func (c *Console) trustedOriginLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	status, flash := trustedorigin.Active, "activated"
	switch r.PathValue("op") {
	case "activate":
	case "deactivate":
		status, flash = trustedorigin.Inactive, "deactivated"
	default:
		return errs.NotFoundf("No such action.")
	}
	id := r.PathValue("id")
	if _, err := c.TrustedOrigins.SetStatus(r.Context(), id, status); err != nil {
		return err
	}
	return done(w, r, originBase+"/"+id, flash)
}

func (c *Console) deleteTrustedOrigin(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.TrustedOrigins == nil {
		return errs.NotFoundf("Trusted origins are not available.")
	}
	if err := c.TrustedOrigins.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return done(w, r, originBase, "deleted")
}

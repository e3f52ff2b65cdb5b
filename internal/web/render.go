package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Page is what every page template receives.
type Page struct {
	Title   string
	Nav     string
	User    interface{ DisplayName() string }
	IsAdmin bool
	CSRF    string
	Error   string
	// FieldErrors maps a form field to the message shown beside it.
	FieldErrors map[string]string
	Data        any
}

// Pages renders page templates inside the shared layout.
type Pages struct {
	pages map[string]*template.Template
}

// ParsePages parses layout.html with each other template of fsys.
func ParsePages(fsys fs.FS, funcs template.FuncMap) (*Pages, error) {
	layout, err := fs.ReadFile(fsys, "layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	base := template.FuncMap{
		"fieldError": func(pg Page, field string) string { return pg.FieldErrors[field] },
		"join":       strings.Join,
	}
	for k, v := range funcs {
		base[k] = v
	}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(base).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("layout: %w", err)
		}
		if _, err := t.Parse(string(body)); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		p.pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return p, nil
}

// CSP is the Content-Security-Policy of every page: no inline script or
// style, forms post only to this origin.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Render writes page name with status. formAction, when set, adds an origin
// the page's form may post to (the SAML POST binding).
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data Page, formAction ...string) {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "page not found: "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	csp := CSP
	if len(formAction) > 0 {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(formAction, " "), 1)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

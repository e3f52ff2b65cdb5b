package oktaapi

import (
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
)

// TrustedOrigins serves /api/v1/trustedOrigins: Okta's Trusted Origins
// API. Reads need any admin role, changes a super administrator.
type TrustedOrigins struct {
	API     *API
	Service *trustedorigin.Service
	Cache   *trustedorigin.Cache
}

// Mount registers the routes.
func (h *TrustedOrigins) Mount(m *Mux) {
	m.Handle("GET /api/v1/trustedOrigins", ReadAccess, h.list)
	m.Handle("POST /api/v1/trustedOrigins", WriteAccess, h.create)
	m.Handle("GET /api/v1/trustedOrigins/{id}", ReadAccess, h.get)
	m.Handle("PUT /api/v1/trustedOrigins/{id}", WriteAccess, h.replace)
	m.Handle("DELETE /api/v1/trustedOrigins/{id}", WriteAccess, h.remove)
	m.Handle("POST /api/v1/trustedOrigins/{id}/lifecycle/activate", WriteAccess, h.lifecycle(trustedorigin.Active))
	m.Handle("POST /api/v1/trustedOrigins/{id}/lifecycle/deactivate", WriteAccess, h.lifecycle(trustedorigin.Inactive))
}

type trustedOriginBody struct {
	Name   string `json:"name"`
	Origin string `json:"origin"`
	Scopes []struct {
		Type            string   `json:"type"`
		AllowedOktaApps []string `json:"allowedOktaApps"`
	} `json:"scopes"`
}

var trustedOriginMembers = []string{"name", "origin", "scopes"}
var trustedOriginIgnored = []string{"id", "status", "created", "createdBy", "lastUpdated", "lastUpdatedBy", "_links"}

func decodeTrustedOrigin(r *http.Request) (trustedorigin.Input, error) {
	var b trustedOriginBody
	if err := DecodeStrict(r, &b, trustedOriginMembers, trustedOriginIgnored...); err != nil {
		return trustedorigin.Input{}, err
	}
	in := trustedorigin.Input{Name: b.Name, Origin: b.Origin}
	for _, s := range b.Scopes {
		in.Scopes = append(in.Scopes, trustedorigin.Scope{Type: s.Type, AllowedOktaApps: s.AllowedOktaApps})
	}
	return in, nil
}

// TrustedOriginJSON renders an origin as Okta does.
func (h *TrustedOrigins) TrustedOriginJSON(o *trustedorigin.Origin) map[string]any {
	a := h.API
	self := "/api/v1/trustedOrigins/" + o.ID
	links := map[string]any{
		"self": map[string]any{"href": a.BaseURL + self, "hints": map[string]any{"allow": []string{"GET", "PUT", "DELETE"}}},
	}
	if o.Status == trustedorigin.Active {
		links["deactivate"] = map[string]any{"href": a.BaseURL + self + "/lifecycle/deactivate", "hints": map[string]any{"allow": []string{"POST"}}}
	} else {
		links["activate"] = map[string]any{"href": a.BaseURL + self + "/lifecycle/activate", "hints": map[string]any{"allow": []string{"POST"}}}
	}
	scopes := make([]map[string]any, 0, len(o.Scopes))
	for _, s := range o.Scopes {
		scopes = append(scopes, map[string]any{"type": s, "allowedOktaApps": []string{}})
	}
	return map[string]any{
		"id":            o.ID,
		"name":          o.Name,
		"origin":        o.Origin,
		"scopes":        scopes,
		"status":        o.Status,
		"created":       Time(o.Created),
		"createdBy":     nullIfEmpty(o.CreatedBy),
		"lastUpdated":   Time(o.Updated),
		"lastUpdatedBy": nullIfEmpty(o.UpdatedBy),
		"_links":        links,
	}
}

// list answers Okta's List Trusted Origins: q, filter, after and limit
// (default -1: every origin, as Okta's spec; otherwise 1 to 200).
func (h *TrustedOrigins) list(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	q := trustedorigin.Query{Q: qs.Get("q"), After: qs.Get("after")}
	if s := qs.Get("limit"); s != "" && s != "-1" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: limit",
				Fields: []errs.FieldError{{Field: "limit", Message: "limit: must be -1 (every trusted origin) or a number between 1 and 200"}}}
		}
		q.Limit = n
	}
	if f := qs.Get("filter"); f != "" {
		expr, err := filter.Parse(f, trustedorigin.FilterOptions)
		if err != nil {
			return searchError("filter", err)
		}
		q.Filter = expr
	}
	all, err := h.Cache.All(r.Context())
	if err != nil {
		return err
	}
	page, next := trustedorigin.Select(all, q)
	h.API.LinkHeaders(w, r, next)
	out := make([]map[string]any, len(page))
	for i, o := range page {
		out[i] = h.TrustedOriginJSON(o)
	}
	return WriteJSON(w, out)
}

func (h *TrustedOrigins) create(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeTrustedOrigin(r)
	if err != nil {
		return err
	}
	o, err := h.Service.Create(r.Context(), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.TrustedOriginJSON(o))
}

func (h *TrustedOrigins) get(w http.ResponseWriter, r *http.Request) error {
	o, err := h.Service.Store.TrustedOrigin(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, h.TrustedOriginJSON(o))
}

func (h *TrustedOrigins) replace(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeTrustedOrigin(r)
	if err != nil {
		return err
	}
	o, err := h.Service.Replace(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.TrustedOriginJSON(o))
}

func (h *TrustedOrigins) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.Service.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *TrustedOrigins) lifecycle(status string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := h.Service.SetStatus(r.Context(), r.PathValue("id"), status)
		if err != nil {
			return err
		}
		return WriteJSON(w, h.TrustedOriginJSON(o))
	}
}

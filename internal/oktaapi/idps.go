package oktaapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/federation"
)

// IdPs serves /api/v1/idps: external identity providers (GOOGLE,
// LINKEDIN, OIDC) and the people linked to them. The client secret is
// write-only: it is sealed at rest and never rendered.
type IdPs struct {
	API     *API
	Service *federation.Service
}

// Mount registers the routes.
func (h *IdPs) Mount(m *Mux) {
	m.Handle("GET /api/v1/idps", ReadAccess, h.list)
	m.Handle("POST /api/v1/idps", WriteAccess, h.create)
	m.Handle("GET /api/v1/idps/{id}", ReadAccess, h.get)
	m.Handle("PUT /api/v1/idps/{id}", WriteAccess, h.replace)
	m.Handle("DELETE /api/v1/idps/{id}", WriteAccess, h.remove)
	m.Handle("POST /api/v1/idps/{id}/lifecycle/activate", WriteAccess, h.lifecycle(federation.Active))
	m.Handle("POST /api/v1/idps/{id}/lifecycle/deactivate", WriteAccess, h.lifecycle(federation.Inactive))
	m.Handle("GET /api/v1/idps/{id}/users", ReadAccess, h.listUsers)
	m.Handle("GET /api/v1/idps/{id}/users/{userId}", ReadAccess, h.getUser)
	m.Handle("POST /api/v1/idps/{id}/users/{userId}", WriteAccess, h.link)
	m.Handle("DELETE /api/v1/idps/{id}/users/{userId}", WriteAccess, h.unlink)
	m.Handle("GET /api/v1/users/{id}/idps", ReadAccess, h.userIdPs)
}

// idpBody is the accepted request body, in Okta's shape.
type idpBody struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Protocol struct {
		Type   string   `json:"type"`
		Scopes []string `json:"scopes"`
		Issuer *struct {
			URL string `json:"url"`
		} `json:"issuer"`
		Credentials struct {
			Client struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			} `json:"client"`
		} `json:"credentials"`
	} `json:"protocol"`
	Policy struct {
		Provisioning struct {
			Action string `json:"action"`
			Groups *struct {
				Action      string   `json:"action"`
				Assignments []string `json:"assignments"`
			} `json:"groups"`
			ProfileMapping map[string]string `json:"profileMapping"`
		} `json:"provisioning"`
		AccountLink struct {
			Action string `json:"action"`
			Filter *struct {
				Groups *struct {
					Include []string `json:"include"`
				} `json:"groups"`
			} `json:"filter"`
		} `json:"accountLink"`
		Subject struct {
			UserNameTemplate *struct {
				Template string `json:"template"`
			} `json:"userNameTemplate"`
			MatchType string `json:"matchType"`
		} `json:"subject"`
		MaxClockSkew int64 `json:"maxClockSkew"`
	} `json:"policy"`
}

var idpMembers = []string{"type", "name", "status", "protocol", "policy"}
var idpIgnored = []string{"id", "created", "lastUpdated", "_links", "issuerMode", "properties"}

func decodeIdP(r *http.Request) (*federation.IdP, string, error) {
	var b idpBody
	if err := DecodeStrict(r, &b, idpMembers, idpIgnored...); err != nil {
		return nil, "", err
	}
	switch strings.ToUpper(b.Protocol.Type) {
	case "", "OIDC", "OAUTH2":
	default:
		return nil, "", errs.InvalidFields("Api validation failed: identityProvider",
			errs.Field("protocol.type", "protocol.type: %q is not supported; Gatehouse federates with OpenID Connect (OIDC)", b.Protocol.Type))
	}
	p := &federation.IdP{
		Type: federation.Type(strings.ToUpper(b.Type)), Name: b.Name, Status: b.Status,
		ClientID: b.Protocol.Credentials.Client.ClientID, Scopes: b.Protocol.Scopes,
		MaxClockSkew: time.Duration(b.Policy.MaxClockSkew) * time.Millisecond,
	}
	if b.Protocol.Issuer != nil {
		p.Issuer = b.Protocol.Issuer.URL
	}
	pv := b.Policy.Provisioning
	p.Provisioning = federation.Provisioning{Action: pv.Action, ProfileMapping: pv.ProfileMapping}
	if pv.Groups != nil && strings.EqualFold(pv.Groups.Action, "ASSIGN") {
		p.Provisioning.Groups = pv.Groups.Assignments
	}
	p.AccountLink.Action = b.Policy.AccountLink.Action
	if f := b.Policy.AccountLink.Filter; f != nil && f.Groups != nil {
		p.AccountLink.FilterGroups = f.Groups.Include
	}
	p.Subject.MatchType = b.Policy.Subject.MatchType
	if t := b.Policy.Subject.UserNameTemplate; t != nil {
		p.Subject.UserNameTemplate = t.Template
	}
	return p, b.Protocol.Credentials.Client.ClientSecret, nil
}

// IdPJSON renders a provider as Okta does, without the client secret.
func (h *IdPs) IdPJSON(p *federation.IdP) map[string]any {
	a := h.API
	endpoints := map[string]any{}
	if p.Endpoints.Authorization != "" {
		endpoints["authorization"] = map[string]any{"url": p.Endpoints.Authorization, "binding": "HTTP-REDIRECT"}
	}
	if p.Endpoints.Token != "" {
		endpoints["token"] = map[string]any{"url": p.Endpoints.Token, "binding": "HTTP-POST"}
	}
	if p.Endpoints.UserInfo != "" {
		endpoints["userInfo"] = map[string]any{"url": p.Endpoints.UserInfo, "binding": "HTTP-REDIRECT"}
	}
	if p.Endpoints.JWKS != "" {
		endpoints["jwks"] = map[string]any{"url": p.Endpoints.JWKS, "binding": "HTTP-REDIRECT"}
	}
	protocol := map[string]any{
		"type":        "OIDC",
		"endpoints":   endpoints,
		"scopes":      p.Scopes,
		"credentials": map[string]any{"client": map[string]any{"client_id": p.ClientID}},
	}
	issuer := p.Issuer
	if issuer == "" {
		issuer = federation.WellKnownIssuer(p.Type)
	}
	protocol["issuer"] = map[string]any{"url": issuer}
	groups := map[string]any{"action": "NONE"}
	if len(p.Provisioning.Groups) > 0 {
		groups = map[string]any{"action": "ASSIGN", "assignments": p.Provisioning.Groups}
	}
	var filter any
	if len(p.AccountLink.FilterGroups) > 0 {
		filter = map[string]any{"groups": map[string]any{"include": p.AccountLink.FilterGroups}}
	}
	return map[string]any{
		"id":          p.ID,
		"type":        string(p.Type),
		"issuerMode":  "ORG_URL",
		"name":        p.Name,
		"status":      p.Status,
		"created":     Time(p.Created),
		"lastUpdated": Time(p.LastUpdated),
		"protocol":    protocol,
		"policy": map[string]any{
			"provisioning": map[string]any{
				"action":         p.Provisioning.Action,
				"profileMaster":  false,
				"groups":         groups,
				"profileMapping": p.Provisioning.ProfileMapping,
				"conditions": map[string]any{
					"deprovisioned": map[string]any{"action": "NONE"},
					"suspended":     map[string]any{"action": "NONE"},
				},
			},
			"accountLink": map[string]any{"action": p.AccountLink.Action, "filter": filter},
			"subject": map[string]any{
				"userNameTemplate": map[string]any{"template": p.Subject.UserNameTemplate},
				"filter":           nil,
				"matchType":        p.Subject.MatchType,
			},
			"maxClockSkew": p.MaxClockSkew.Milliseconds(),
		},
		"_links": map[string]any{
			"authorize":         map[string]any{"href": a.BaseURL + "/sso/idps/" + p.ID + "/start", "hints": map[string]any{"allow": []string{"GET"}}},
			"clientRedirectUri": map[string]any{"href": a.BaseURL + "/oauth2/v1/authorize/callback", "hints": map[string]any{"allow": []string{"GET"}}},
			"users":             a.Href("/api/v1/idps/%s/users", p.ID),
		},
	}
}

func (h *IdPs) list(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ps, err := h.Service.Store.IdPs(r.Context(), federation.Query{Q: q.Get("q"), Type: federation.Type(strings.ToUpper(q.Get("type"))), After: q.Get("after"), Limit: limit + 1})
	if err != nil {
		return err
	}
	next := ""
	if len(ps) > limit {
		ps = ps[:limit]
		next = ps[limit-1].ID
	}
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, h.IdPJSON(p))
	}
	h.API.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

func (h *IdPs) create(w http.ResponseWriter, r *http.Request) error {
	p, secret, err := decodeIdP(r)
	if err != nil {
		return err
	}
	if p.Status == "" {
		p.Status = federation.Active
	}
	if r.URL.Query().Get("activate") == "false" {
		p.Status = federation.Inactive
	}
	created, err := h.Service.Create(r.Context(), p, secret)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.IdPJSON(created))
}

func (h *IdPs) get(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Service.Store.IdP(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, h.IdPJSON(p))
}

func (h *IdPs) replace(w http.ResponseWriter, r *http.Request) error {
	p, secret, err := decodeIdP(r)
	if err != nil {
		return err
	}
	out, err := h.Service.Replace(r.Context(), r.PathValue("id"), p, secret)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.IdPJSON(out))
}

func (h *IdPs) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.Service.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *IdPs) lifecycle(status string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.Service.SetStatus(r.Context(), r.PathValue("id"), status)
		if err != nil {
			return err
		}
		return WriteJSON(w, h.IdPJSON(p))
	}
}

// IdPUserJSON renders a link as Okta's IdentityProviderApplicationUser.
func (h *IdPs) IdPUserJSON(l *federation.Link) map[string]any {
	profile := l.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	return map[string]any{
		"id":          l.UserID,
		"externalId":  l.ExternalID,
		"created":     Time(l.Created),
		"lastUpdated": Time(l.LastUpdated),
		"profile":     profile,
		"_links": map[string]any{
			"self": h.API.Href("/api/v1/idps/%s/users/%s", l.IdPID, l.UserID),
			"idp":  h.API.Href("/api/v1/idps/%s", l.IdPID),
			"user": h.API.Href("/api/v1/users/%s", l.UserID),
		},
	}
}

func (h *IdPs) listUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := h.Service.Store.IdP(r.Context(), id); err != nil {
		return err
	}
	ls, err := h.Service.Store.Links(r.Context(), id, r.URL.Query().Get("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(ls) > limit {
		ls = ls[:limit]
		next = ls[limit-1].UserID
	}
	out := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, h.IdPUserJSON(l))
	}
	h.API.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

func (h *IdPs) userID(r *http.Request) (string, error) {
	u, err := h.API.Directory.Store.User(r.Context(), r.PathValue("userId"))
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func (h *IdPs) getUser(w http.ResponseWriter, r *http.Request) error {
	uid, err := h.userID(r)
	if err != nil {
		return err
	}
	l, err := h.Service.Store.Link(r.Context(), r.PathValue("id"), uid)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.IdPUserJSON(l))
}

func (h *IdPs) link(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ExternalID string `json:"externalId"`
	}
	if err := DecodeStrict(r, &body, []string{"externalId"}); err != nil {
		return err
	}
	uid, err := h.userID(r)
	if err != nil {
		return err
	}
	l, err := h.Service.Link(r.Context(), r.PathValue("id"), uid, body.ExternalID)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.IdPUserJSON(l))
}

func (h *IdPs) unlink(w http.ResponseWriter, r *http.Request) error {
	uid, err := h.userID(r)
	if err != nil {
		return err
	}
	if err := h.Service.Unlink(r.Context(), r.PathValue("id"), uid); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *IdPs) userIdPs(w http.ResponseWriter, r *http.Request) error {
	u, err := h.API.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ls, err := h.Service.Store.UserLinks(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		p, err := h.Service.Store.IdP(r.Context(), l.IdPID)
		if err != nil {
			return err
		}
		out = append(out, h.IdPJSON(p))
	}
	return WriteJSON(w, out)
}

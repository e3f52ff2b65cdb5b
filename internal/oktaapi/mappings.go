package oktaapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Profile mappings in Okta's shape (/api/v1/mappings). Gatehouse has one
// mapping per Amazon Connect app, from the Gatehouse user (the default user
// type) to the app's Connect users: its properties are the app's attribute
// mappings, keyed by Connect attribute (FirstName, LastName, Email,
// SecondaryEmail, Mobile). A mapping's id is derived from its app's id, so
// it needs no storage of its own.

// DefaultUserTypeID is the id of the one user type, as user objects show it.
const DefaultUserTypeID = "otydefault0000000000"

const mappingPrefix = "prm"

// MappingID is the id of an app's profile mapping.
func MappingID(appID string) string { return mappingPrefix + strings.TrimPrefix(appID, ids.App) }

// appOfMapping returns the app id of a mapping id, or "".
func appOfMapping(id string) string {
	if !strings.HasPrefix(id, mappingPrefix) || len(id) != ids.Length {
		return ""
	}
	return ids.App + strings.TrimPrefix(id, mappingPrefix)
}

// Mappings serves /api/v1/mappings.
type Mappings struct {
	API         *API
	Integration *awsapp.Integration
}

// Mount registers the routes.
func (h *Mappings) Mount(m *Mux) {
	m.Handle("GET /api/v1/mappings", ReadAccess, h.list)
	m.Handle("GET /api/v1/mappings/{mappingId}", ReadAccess, h.get)
	m.Handle("POST /api/v1/mappings/{mappingId}", AppAccess, h.update)
}

func (h *Mappings) notFound(id string) error {
	return errs.NotFoundf("Not found: Resource not found: %s (ProfileMapping)", id)
}

// end is a mapping's source or target; selfPath "" links only the schema
// (Okta's user source without user types).
func (h *Mappings) end(typ, id, name, selfPath, schemaPath string) map[string]any {
	links := map[string]any{"schema": h.API.Href("%s", schemaPath)}
	if selfPath != "" {
		links["self"] = h.API.Href("%s", selfPath)
	}
	return map[string]any{"id": id, "name": name, "type": typ, "_links": links}
}

func (h *Mappings) summary(a *catalog.App) map[string]any {
	id := MappingID(a.ID)
	return map[string]any{
		"id":     id,
		"source": h.end("user", DefaultUserTypeID, "user", "", "/api/v1/meta/schemas/user/default"),
		"target": h.end("appuser", a.ID, a.Name, "/api/v1/apps/"+a.ID, "/api/v1/meta/schemas/apps/"+a.ID+"/default"),
		"_links": map[string]any{"self": h.API.Href("/api/v1/mappings/%s", id)},
	}
}

func (h *Mappings) full(r *http.Request, a *catalog.App) (map[string]any, error) {
	p, err := h.Integration.Provisioning(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	props := map[string]any{}
	for _, attr := range awsapp.MappedAttributes {
		if e := p.Mappings[attr]; e != "" {
			props[attr] = map[string]any{"expression": e, "pushStatus": p.PushStatus(attr)}
		}
	}
	m := h.summary(a)
	m["properties"] = props
	return m, nil
}

// mappingApp loads the Connect app of a mapping id.
func (h *Mappings) mappingApp(r *http.Request) (*catalog.App, error) {
	id := r.PathValue("mappingId")
	appID := appOfMapping(id)
	if appID == "" {
		return nil, h.notFound(id)
	}
	a, err := h.Integration.Catalog.Store.App(r.Context(), appID)
	if errs.Is(err, errs.NotFound) || (err == nil && a.Name != awsapp.Connect) {
		return nil, h.notFound(id)
	}
	return a, err
}

// list pages the mappings, in app id order; sourceId and targetId select.
func (h *Mappings) list(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	source, target := q.Get("sourceId"), q.Get("targetId")
	after := ""
	if v := q.Get("after"); v != "" {
		if after = appOfMapping(v); after == "" {
			return &errs.Error{Kind: errs.Invalid, Code: "E0000054", Msg: "Invalid pagination properties."}
		}
	}
	out := []map[string]any{}
	next := ""
	// Mappings go from the user type to Connect apps: a source other than
	// the user type, or a target that is not a Connect app, selects none.
	if source == "" || source == DefaultUserTypeID {
		if target != "" {
			a, err := h.Integration.Catalog.Store.App(r.Context(), target)
			if err == nil && a.Name == awsapp.Connect && (after == "" || a.ID > after) {
				out = append(out, h.summary(a))
			} else if err != nil && !errs.Is(err, errs.NotFound) {
				return err
			}
		} else {
			apps, err := h.Integration.Catalog.Store.Apps(r.Context(), catalog.AppQuery{Name: awsapp.Connect, After: after, Limit: limit + 1})
			if err != nil {
				return err
			}
			if len(apps) > limit {
				apps = apps[:limit]
				next = MappingID(apps[limit-1].ID)
			}
			for _, a := range apps {
				out = append(out, h.summary(a))
			}
		}
	}
	h.API.LinkHeaders(w, r, next)
	return WriteJSON(w, out)
}

func (h *Mappings) get(w http.ResponseWriter, r *http.Request) error {
	a, err := h.mappingApp(r)
	if err != nil {
		return err
	}
	m, err := h.full(r, a)
	if err != nil {
		return err
	}
	return WriteJSON(w, m)
}

// update adds, changes or removes (a null property) attribute mappings.
func (h *Mappings) update(w http.ResponseWriter, r *http.Request) error {
	a, err := h.mappingApp(r)
	if err != nil {
		return err
	}
	var body struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := DecodeStrict(r, &body, []string{"properties"}); err != nil {
		return err
	}
	if body.Properties == nil {
		return errs.InvalidFields("Api validation failed: properties", errs.Field("properties", "properties: The field cannot be left blank"))
	}
	p, err := h.Integration.Provisioning(r.Context(), a.ID)
	if err != nil {
		return err
	}
	mappings := map[string]string{}
	for k, v := range p.Mappings {
		mappings[k] = v
	}
	push := map[string]string{}
	for _, attr := range awsapp.MappedAttributes {
		push[attr] = p.PushStatus(attr)
	}
	fe := applyMappingUpdate(body.Properties, mappings, push)
	if fe != nil {
		return errs.InvalidFields("Api validation failed: mapping", fe...)
	}
	p.Mappings, p.DontPush = mappings, nil
	for _, attr := range awsapp.MappedAttributes {
		if push[attr] == awsapp.DontPush && mappings[attr] != "" {
			p.DontPush = append(p.DontPush, attr)
		}
	}
	if err := h.Integration.SaveProvisioning(r.Context(), a.ID, p); err != nil {
		return mappingFields(err)
	}
	m, err := h.full(r, a)
	if err != nil {
		return err
	}
	return WriteJSON(w, m)
}

// applyMappingUpdate applies the properties of a mapping update to the
// expressions and push statuses by attribute: an object sets, null
// removes. It returns the problems, one field each.
func applyMappingUpdate(props map[string]json.RawMessage, mappings, push map[string]string) []errs.FieldError {
	var fe []errs.FieldError
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := props[name]
		f := "properties." + name
		if !isMappedAttr(name) {
			fe = append(fe, errs.Field(f, "%s: %s is not an attribute of the target (%s)", f, name, strings.Join(awsapp.MappedAttributes, ", ")))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			delete(mappings, name)
			continue
		}
		var prop struct {
			Expression *string `json:"expression"`
			PushStatus *string `json:"pushStatus"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&prop); err != nil {
			fe = append(fe, errs.Field(f, "%s: must be an object with expression and pushStatus", f))
			continue
		}
		if prop.Expression == nil || strings.TrimSpace(*prop.Expression) == "" {
			fe = append(fe, errs.Field(f+".expression", "%s.expression: The field cannot be left blank", f))
			continue
		}
		mappings[name] = *prop.Expression
		if prop.PushStatus != nil {
			switch *prop.PushStatus {
			case awsapp.Push, awsapp.DontPush:
				push[name] = *prop.PushStatus
			default:
				fe = append(fe, errs.Field(f+".pushStatus", "%s.pushStatus: must be PUSH or DONT_PUSH", f))
			}
		}
	}
	return fe
}

func isMappedAttr(name string) bool {
	for _, a := range awsapp.MappedAttributes {
		if a == name {
			return true
		}
	}
	return false
}

// mappingFields renames the provisioning settings' field errors
// (mappings.FirstName) to the mapping's (properties.FirstName.expression).
func mappingFields(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return err
	}
	out := *e
	out.Msg = "Api validation failed: mapping"
	out.Fields = nil
	for _, f := range e.Fields {
		if attr, ok := strings.CutPrefix(f.Field, "mappings."); ok {
			name := "properties." + attr + ".expression"
			out.Fields = append(out.Fields, errs.FieldError{Field: name, Message: fmt.Sprintf("%s: %s", name, f.Message)})
			continue
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

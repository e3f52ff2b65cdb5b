package oktaapi

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

func (a *API) mountSchema(m *Mux) {
	m.Handle("GET /api/v1/meta/schemas/user/default", ReadAccess, a.getSchema)
	m.Handle("POST /api/v1/meta/schemas/user/default", WriteAccess, a.updateSchema)
}

var baseTitles = map[string]string{
	"login": "Username", "email": "Primary email", "firstName": "First name", "lastName": "Last name",
	"middleName": "Middle name", "secondEmail": "Secondary email", "displayName": "Display name",
	"nickName": "Nickname", "mobilePhone": "Mobile phone", "primaryPhone": "Primary phone",
	"title": "Title", "department": "Department", "division": "Division", "organization": "Organization",
	"employeeNumber": "Employee number", "costCenter": "Cost center", "manager": "Manager",
	"managerId": "ManagerId", "locale": "Locale", "timezone": "Time zone", "preferredLanguage": "Preferred language",
	"userType": "User type", "streetAddress": "Street address", "city": "City", "state": "State",
	"zipCode": "Zip code", "postalAddress": "Postal Address", "countryCode": "Country code",
	"honorificPrefix": "Honorific prefix", "honorificSuffix": "Honorific suffix", "profileUrl": "Profile Url",
}

func (a *API) schemaJSON(sc *directory.Schema) map[string]any {
	base := map[string]any{}
	for _, n := range directory.BaseAttributes {
		p := map[string]any{"title": baseTitles[n], "type": "string", "mutability": "READ_WRITE", "scope": "NONE",
			"permissions": []any{map[string]any{"principal": "SELF", "action": "READ_WRITE"}}}
		switch n {
		case "login":
			p["required"], p["unique"], p["minLength"], p["maxLength"] = true, "UNIQUE_VALIDATED", 5, 100
			p["pattern"] = ".+"
		case "email":
			p["required"], p["format"] = true, "email"
		case "firstName", "lastName":
			p["required"], p["minLength"], p["maxLength"] = true, 1, 50
		case "secondEmail":
			p["format"] = "email"
		}
		base[n] = p
	}
	custom := map[string]any{}
	var required []string
	for _, c := range sc.Custom {
		p := map[string]any{"title": c.Title, "type": c.Type, "mutability": "READ_WRITE", "scope": "NONE",
			"permissions": []any{map[string]any{"principal": "SELF", "action": "READ_ONLY"}}, "master": map[string]any{"type": "PROFILE_MASTER"}}
		if c.Description != "" {
			p["description"] = c.Description
		}
		if c.Type == directory.TypeArray {
			p["items"] = map[string]any{"type": c.ItemsType}
		}
		if c.Required {
			p["required"] = true
			required = append(required, c.Name)
		}
		if c.Unique {
			p["unique"] = "UNIQUE_VALIDATED"
		} else {
			p["unique"] = "NOT_UNIQUE"
		}
		if c.MinLength != nil {
			p["minLength"] = *c.MinLength
		}
		if c.MaxLength != nil {
			p["maxLength"] = *c.MaxLength
		}
		if len(c.Enum) > 0 {
			p["enum"] = c.Enum
		}
		custom[c.Name] = p
	}
	sort.Strings(required)
	if required == nil {
		required = []string{}
	}
	return map[string]any{
		"id":      a.BaseURL + "/meta/schemas/user/default",
		"$schema": "http://json-schema.org/draft-04/schema#",
		"name":    "user",
		"title":   "User",
		"type":    "object",
		"definitions": map[string]any{
			"base":   map[string]any{"id": "#base", "type": "object", "properties": base, "required": []string{"login", "firstName", "lastName", "email"}},
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": custom, "required": required},
		},
		"properties": map[string]any{"profile": map[string]any{"allOf": []any{
			map[string]any{"$ref": "#/definitions/custom"}, map[string]any{"$ref": "#/definitions/base"}}}},
		"_links": map[string]any{"self": a.Href("/api/v1/meta/schemas/user/default")},
	}
}

func (a *API) getSchema(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.Directory.Store.Schema(r.Context())
	if err != nil {
		return err
	}
	return WriteJSON(w, a.schemaJSON(sc))
}

type schemaProp struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Type        string `json:"type"`
	Items       *struct {
		Type string `json:"type"`
	} `json:"items"`
	Required  bool   `json:"required"`
	Unique    string `json:"unique"`
	MinLength *int   `json:"minLength"`
	MaxLength *int   `json:"maxLength"`
	Enum      []any  `json:"enum"`
}

func (a *API) updateSchema(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Definitions struct {
			Custom struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"custom"`
			Base json.RawMessage `json:"base"`
		} `json:"definitions"`
	}
	if err := DecodeStrict(r, &in, nil); err != nil {
		return err
	}
	if len(in.Definitions.Base) > 0 && string(in.Definitions.Base) != "null" {
		return errs.InvalidFields("Api validation failed: base", errs.Field("base", "Base attributes cannot be changed."))
	}
	var set []directory.Attribute
	var remove []string
	names := make([]string, 0, len(in.Definitions.Custom.Properties))
	for n := range in.Definitions.Custom.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		raw := in.Definitions.Custom.Properties[n]
		if string(raw) == "null" {
			remove = append(remove, n)
			continue
		}
		var p schemaProp
		if err := json.Unmarshal(raw, &p); err != nil {
			return Malformed(n + ": " + jsonProblem(err))
		}
		at := directory.Attribute{Name: n, Title: p.Title, Description: p.Description, Type: p.Type, Required: p.Required,
			Unique: p.Unique == "UNIQUE_VALIDATED", MinLength: p.MinLength, MaxLength: p.MaxLength, Enum: p.Enum}
		if p.Items != nil {
			at.ItemsType = p.Items.Type
		}
		set = append(set, at)
	}
	sc, err := a.Directory.SaveSchema(r.Context(), set, remove)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.schemaJSON(sc))
}

package directory

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// Attribute types a custom attribute may have.
const (
	TypeString  = "string"
	TypeBoolean = "boolean"
	TypeNumber  = "number"
	TypeInteger = "integer"
	TypeArray   = "array"
)

// Attribute describes one profile attribute.
type Attribute struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"`
	ItemsType   string `json:"itemsType,omitempty"` // for arrays
	Required    bool   `json:"required"`
	Unique      bool   `json:"unique"`
	MinLength   *int   `json:"minLength,omitempty"`
	MaxLength   *int   `json:"maxLength,omitempty"`
	Enum        []any  `json:"enum,omitempty"`
}

// Schema is the user profile schema: the fixed base attributes and the
// custom attributes an administrator declared.
type Schema struct {
	Custom []Attribute `json:"custom"`
}

// CustomAttribute returns the custom attribute named name.
func (s *Schema) CustomAttribute(name string) (Attribute, bool) {
	for _, a := range s.Custom {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// UniqueAttributes lists the attributes whose values must be unique, login aside.
func (s *Schema) UniqueAttributes() []string {
	var out []string
	for _, a := range s.Custom {
		if a.Unique {
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// ValidateAttribute checks a custom attribute definition.
func ValidateAttribute(a Attribute) []errs.FieldError {
	var fe []errs.FieldError
	if !attrName.MatchString(a.Name) {
		fe = append(fe, errs.Field(a.Name, "Attribute names start with a letter and contain only letters, digits and underscores (at most 64)."))
	}
	if IsBaseAttribute(a.Name) {
		fe = append(fe, errs.Field(a.Name, "A base attribute with this name already exists."))
	}
	switch a.Type {
	case TypeString, TypeBoolean, TypeNumber, TypeInteger:
	case TypeArray:
		switch a.ItemsType {
		case TypeString, TypeNumber, TypeInteger:
		default:
			fe = append(fe, errs.Field(a.Name, "Array attributes need items of type string, number or integer."))
		}
	default:
		fe = append(fe, errs.Field(a.Name, "Type must be one of string, boolean, number, integer, array."))
	}
	if strings.TrimSpace(a.Title) == "" {
		fe = append(fe, errs.Field(a.Name, "A title is required."))
	}
	if a.Unique && a.Type != TypeString && a.Type != TypeInteger && a.Type != TypeNumber {
		fe = append(fe, errs.Field(a.Name, "Only string and number attributes can be unique."))
	}
	return fe
}

// Normalize validates a profile against the schema and returns a copy with
// numbers normalised (JSON numbers arrive as float64). Every problem is
// reported at once.
func (s *Schema) Normalize(p Profile) (Profile, error) {
	out := Profile{}
	var fe []errs.FieldError
	for k, v := range p {
		if v == nil {
			continue // null clears an attribute
		}
		if IsBaseAttribute(k) {
			str, ok := v.(string)
			if !ok {
				fe = append(fe, errs.Field(k, "Property %s must be a string.", k))
				continue
			}
			if len(str) > 1024 {
				fe = append(fe, errs.Field(k, "%s: must be at most 1024 characters.", k))
				continue
			}
			if strings.ContainsRune(str, 0) {
				fe = append(fe, errs.Field(k, nulMessage, k))
				continue
			}
			out[k] = str
			continue
		}
		a, ok := s.CustomAttribute(k)
		if !ok {
			fe = append(fe, errs.Field(k, "Property name '%s' is not defined in profile", k))
			continue
		}
		nv, msg := coerce(a, v)
		if msg == "" && hasNUL(nv) {
			msg = fmt.Sprintf(nulMessage, k)
		}
		if msg != "" {
			fe = append(fe, errs.Field(k, "%s", msg))
			continue
		}
		out[k] = nv
	}
	// Required attributes.
	for _, r := range []string{"login", "email", "firstName", "lastName"} {
		if strings.TrimSpace(out.String(r)) == "" {
			fe = append(fe, errs.Field(r, "%s: The field cannot be left blank", r))
		}
	}
	for _, a := range s.Custom {
		if a.Required {
			if _, ok := out[a.Name]; !ok {
				fe = append(fe, errs.Field(a.Name, "%s: The field cannot be left blank", a.Name))
			}
		}
	}
	if l := out.String("login"); l != "" && !validEmail(l) {
		fe = append(fe, errs.Field("login", "login: Username must be in the form of an email address"))
	}
	for _, k := range []string{"email", "secondEmail"} {
		if e := out.String(k); e != "" && !validEmail(e) {
			fe = append(fe, errs.Field(k, "%s: Does not match required pattern", k))
		}
	}
	if len(fe) > 0 {
		sort.Slice(fe, func(i, j int) bool { return fe[i].Field < fe[j].Field })
		return nil, &errs.Error{Kind: errs.Invalid, Msg: "Api validation failed: newUser", Fields: fe}
	}
	return out, nil
}

// nulMessage refuses the NUL character (U+0000): no profile needs it, and
// PostgreSQL cannot store it in text, nor read a JSON profile that holds it
// (one such profile would break every profile search there).
const nulMessage = "%s: must not contain the NUL character (U+0000)"

// hasNUL reports whether a string value, or a string in an array value,
// holds U+0000.
func hasNUL(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.ContainsRune(t, 0)
	case []any:
		for _, it := range t {
			if hasNUL(it) {
				return true
			}
		}
	}
	return false
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at:], ".") && !strings.HasSuffix(s, ".")
}

func coerce(a Attribute, v any) (any, string) {
	switch a.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Sprintf("%s: must be a string", a.Name)
		}
		if a.MinLength != nil && len([]rune(s)) < *a.MinLength {
			return nil, fmt.Sprintf("%s: must be at least %d characters", a.Name, *a.MinLength)
		}
		if a.MaxLength != nil && len([]rune(s)) > *a.MaxLength {
			return nil, fmt.Sprintf("%s: must be at most %d characters", a.Name, *a.MaxLength)
		}
		if len(a.Enum) > 0 && !inEnum(a.Enum, s) {
			return nil, fmt.Sprintf("%s: Does not match any of the allowed values", a.Name)
		}
		return s, ""
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Sprintf("%s: must be a boolean", a.Name)
		}
		return b, ""
	case TypeNumber:
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Sprintf("%s: must be a number", a.Name)
		}
		return f, ""
	case TypeInteger:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Sprintf("%s: must be an integer", a.Name)
		}
		return f, ""
	case TypeArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Sprintf("%s: must be an array", a.Name)
		}
		out := make([]any, 0, len(arr))
		for _, it := range arr {
			nv, msg := coerce(Attribute{Name: a.Name, Type: a.ItemsType}, it)
			if msg != "" {
				return nil, msg
			}
			out = append(out, nv)
		}
		return out, ""
	}
	return nil, fmt.Sprintf("%s: unsupported type", a.Name)
}

func inEnum(enum []any, s string) bool {
	for _, e := range enum {
		if es, ok := e.(string); ok && es == s {
			return true
		}
	}
	return false
}

// UniqueKey renders an attribute value for uniqueness checks (case-insensitive
// for strings, as Okta compares logins).
func UniqueKey(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return "", false
		}
		return strings.ToLower(t), true
	case float64:
		return fmt.Sprintf("%g", t), true
	}
	return "", false
}

package console

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

type schemaData struct {
	Base      []string
	Custom    []directory.Attribute
	New       []Field
	Unclaimed []string
}

var attrTypes = []string{directory.TypeString, directory.TypeBoolean, directory.TypeNumber, directory.TypeInteger, directory.TypeArray}

func attributeFields(form func(string) string) []Field {
	v := func(k string) string {
		if form == nil {
			return ""
		}
		return form(k)
	}
	name := Field{Name: "name", Label: "Variable name", Type: "text", Value: v("name"), Required: true, Autocomplete: "off",
		Help: "Starts with a letter; letters, digits and underscores. Used in expressions as user.<name>."}
	title := Field{Name: "title", Label: "Display name", Type: "text", Value: v("title"), Required: true}
	typ := choice("type", "Data type", v("type"), attrTypes...)
	items := choice("itemsType", "Array item type", v("itemsType"), directory.TypeString, directory.TypeNumber, directory.TypeInteger)
	items.Help = "Only for the array data type."
	desc := text("description", "Description", v("description"))
	return []Field{name, title, typ, items, desc,
		checkbox("required", "Required", v("required") == "true"),
		checkbox("unique", "Unique", v("unique") == "true")}
}

func (c *Console) schemaPage(w http.ResponseWriter, r *http.Request, rq *request, status int, fields []Field, unclaimed []string, summary string) error {
	sc, err := c.Directory.Store.Schema(r.Context())
	if err != nil {
		return err
	}
	d := schemaData{Base: directory.BaseAttributes, Custom: sc.Custom, New: fields, Unclaimed: unclaimed}
	if summary != "" {
		c.render(w, r, rq, status, "admin_schema", "Profile Editor", "directory", "profile", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_schema", "Profile Editor", "directory", "profile", d)
	return nil
}

func (c *Console) schema(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.schemaPage(w, r, rq, http.StatusOK, attributeFields(nil), nil, "")
}

func (c *Console) addAttribute(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	a := directory.Attribute{Name: v("name"), Title: v("title"), Description: v("description"), Type: v("type"),
		Required: v("required") == "true", Unique: v("unique") == "true"}
	if a.Type == directory.TypeArray {
		a.ItemsType = v("itemsType")
	}
	sc, err := c.Directory.Store.Schema(r.Context())
	if err != nil {
		return err
	}
	if _, exists := sc.CustomAttribute(a.Name); exists {
		err = errs.InvalidFields("Api validation failed: schema", errs.Field("name", "A custom attribute named %s already exists.", a.Name))
	} else if _, err = c.Directory.SaveSchema(r.Context(), []directory.Attribute{a}, nil); err == nil {
		return done(w, r, "/admin/profile-editor", "added")
	}
	summary, fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	fields := attributeFields(v)
	// The directory names every problem after the attribute; place each
	// message by what it is about.
	placed := map[string]string{}
	for k, m := range fe {
		for _, part := range splitSentences(m) {
			key := "name"
			low := strings.ToLower(part)
			switch {
			case k == "name":
			case strings.Contains(low, "title"):
				key = "title"
			case strings.Contains(low, "array"):
				key = "itemsType"
			case strings.Contains(low, "type must"):
				key = "type"
			case strings.Contains(low, "unique"):
				key = "unique"
			}
			placed[key] = strings.TrimSpace(placed[key] + " " + part)
		}
	}
	unclaimed := bind(fields, placed)
	return c.schemaPage(w, r, rq, http.StatusBadRequest, fields, unclaimed, summary)
}

// splitSentences splits joined field messages back into sentences.
func splitSentences(s string) []string {
	var out []string
	for _, p := range strings.SplitAfter(s, ". ") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Console) removeAttribute(w http.ResponseWriter, r *http.Request, rq *request) error {
	name := r.PathValue("name")
	sc, err := c.Directory.Store.Schema(r.Context())
	if err != nil {
		return err
	}
	if _, ok := sc.CustomAttribute(name); !ok {
		return errs.NotFoundf("There is no custom attribute %q.", name)
	}
	if _, err := c.Directory.SaveSchema(r.Context(), nil, []string{name}); err != nil {
		return err
	}
	return done(w, r, "/admin/profile-editor", "removed")
}

package console

import (
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// Field is one labelled form input, rendered by the "field" template.
type Field struct {
	// Name is the form name; ID the element id (derived from Name).
	Name  string
	ID    string
	Label string
	// Type is text, email, password, number, url, search, checkbox,
	// select, multiselect or textarea.
	Type         string
	Value        string
	Checked      bool
	Options      []Option
	Help         string
	Error        string
	Required     bool
	Placeholder  string
	Autocomplete string
	// Keys are the error field names (errs.FieldError.Field) shown beside
	// this input; Name is always one of them.
	Keys []string
}

// Option is a choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func fieldID(name string) string { return "f-" + idUnsafe.ReplaceAllString(name, "-") }

// HintID and ErrorID are the ids aria-describedby refers to.
func (f Field) HintID() string  { return f.elementID() + "-hint" }
func (f Field) ErrorID() string { return f.elementID() + "-error" }

func (f Field) elementID() string {
	if f.ID != "" {
		return f.ID
	}
	return fieldID(f.Name)
}

// ElementID is the input's id.
func (f Field) ElementID() string { return f.elementID() }

// DescribedBy is the input's aria-describedby: its error, then its hint.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, f.ErrorID())
	}
	if f.Help != "" {
		ids = append(ids, f.HintID())
	}
	return strings.Join(ids, " ")
}

// IsCheckbox, IsSelect, IsMulti and IsTextarea pick the input's markup.
func (f Field) IsCheckbox() bool { return f.Type == "checkbox" }
func (f Field) IsSelect() bool   { return f.Type == "select" }
func (f Field) IsMulti() bool    { return f.Type == "multiselect" }
func (f Field) IsTextarea() bool { return f.Type == "textarea" }

// InputType is the type attribute of a plain input.
func (f Field) InputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

func text(name, label, value string) Field {
	return Field{Name: name, Label: label, Type: "text", Value: value}
}

func checkbox(name, label string, checked bool) Field {
	return Field{Name: name, Label: label, Type: "checkbox", Checked: checked}
}

func choice(name, label, value string, values ...string) Field {
	f := Field{Name: name, Label: label, Type: "select", Value: value}
	seen := false
	for _, v := range values {
		f.Options = append(f.Options, Option{Value: v, Label: v, Selected: v == value})
		seen = seen || v == value
	}
	if !seen && value != "" {
		f.Options = append([]Option{{Value: value, Label: value, Selected: true}}, f.Options...)
	}
	return f
}

// fieldErrors splits an error into the messages of named fields and a
// summary. ok is false for errors that are not about the input.
func fieldErrors(err error) (summary string, fields map[string]string, ok bool) {
	e, isErr := errs.As(err)
	if !isErr {
		return "", nil, false
	}
	switch e.Kind {
	case errs.Invalid, errs.Conflict, errs.IllegalState, errs.Forbidden:
	default:
		return "", nil, false
	}
	fields = map[string]string{}
	for _, f := range e.Fields {
		k := normalizeKey(f.Field)
		if prev := fields[k]; prev != "" {
			fields[k] = prev + " " + f.Message
		} else {
			fields[k] = f.Message
		}
	}
	summary = e.Msg
	if len(e.Fields) > 0 {
		summary = "Fix the fields marked below."
	}
	return summary, fields, true
}

var indexSuffix = regexp.MustCompile(`\[\d+\]$`)

// normalizeKey drops array indexes and the "profile." prefix of
// assignment profile fields.
func normalizeKey(k string) string {
	k = indexSuffix.ReplaceAllString(k, "")
	return strings.TrimPrefix(k, "profile.")
}

// bind puts each error beside its field and returns the messages no field
// claimed, so that none is lost.
func bind(fields []Field, fe map[string]string) []string {
	used := map[string]bool{}
	for i := range fields {
		keys := append([]string{fields[i].Name}, fields[i].Keys...)
		var msgs []string
		for _, k := range keys {
			if m, ok := fe[normalizeKey(k)]; ok && !used[normalizeKey(k)] {
				msgs = append(msgs, m)
				used[normalizeKey(k)] = true
			}
		}
		if len(msgs) > 0 {
			fields[i].Error = strings.Join(msgs, " ")
		}
	}
	var rest []string
	for k, m := range fe {
		if !used[k] {
			rest = append(rest, k+": "+m)
		}
	}
	sort.Strings(rest)
	return rest
}

// Pager holds the links of a cursor-paged list. Lists move forward with
// the id of the last row ("after") and remember the cursors of earlier
// pages ("trail"), so Previous needs no OFFSET.
type Pager struct {
	Next  string
	Prev  string
	First string
}

// maxTrail bounds the remembered cursors; further back, Previous starts
// from the first page.
const maxTrail = 40

// pager builds the links of a page shown at cursor after (reached through
// trail) whose last row has id last; more says whether rows follow.
func pager(path string, q url.Values, after string, trail []string, last string, more bool) Pager {
	var p Pager
	link := func(after string, trail []string) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "after" && k != "trail" && k != "ok" {
				v[k] = vs
			}
		}
		if after != "" {
			v.Set("after", after)
		}
		if len(trail) > 0 {
			v.Set("trail", strings.Join(trail, ","))
		}
		if enc := v.Encode(); enc != "" {
			return path + "?" + enc
		}
		return path
	}
	if more && last != "" {
		next := append(append([]string{}, trail...), after)
		if len(next) > maxTrail {
			next = next[len(next)-maxTrail:]
		}
		if after == "" {
			next = nil
		}
		p.Next = link(last, next)
	}
	if after != "" {
		p.First = link("", nil)
		if n := len(trail); n > 0 {
			p.Prev = link(trail[n-1], trail[:n-1])
		} else {
			p.Prev = p.First
		}
	}
	return p
}

// cursor reads after and trail of a list request.
func cursor(q url.Values) (after string, trail []string) {
	after = q.Get("after")
	if t := q.Get("trail"); t != "" && after != "" {
		trail = strings.Split(t, ",")
		if len(trail) > maxTrail {
			trail = trail[len(trail)-maxTrail:]
		}
	}
	return after, trail
}

func urlQuery(s string) string { return url.QueryEscape(s) }

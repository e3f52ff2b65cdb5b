package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"
)

// Templates renders messages from a file system holding, per message
// name, NAME.txt (a text/template that defines "subject" and whose body is
// the plain-text part) and NAME.html (an html/template, the HTML part).
type Templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// ParseTemplates parses every *.txt and *.html of fsys.
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	txts, err := fs.Glob(fsys, "*.txt")
	if err != nil {
		return nil, err
	}
	for _, f := range txts {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(path.Base(f), ".txt")
		tt, err := texttemplate.New(name).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", f, err)
		}
		if tt.Lookup("subject") == nil {
			return nil, fmt.Errorf("mail template %s: no {{define \"subject\"}}", f)
		}
		t.text[name] = tt
		hb, err := fs.ReadFile(fsys, name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name+".html", err)
		}
		ht, err := htmltemplate.New(name).Option("missingkey=error").Parse(string(hb))
		if err != nil {
			return nil, fmt.Errorf("mail template %s.html: %w", name, err)
		}
		t.html[name] = ht
	}
	return t, nil
}

// Render builds message name for to with data.
func (t *Templates) Render(name string, to string, data any) (Message, error) {
	tt, ok := t.text[name]
	if !ok {
		return Message{}, fmt.Errorf("mail: no template %q", name)
	}
	addr, err := ParseAddress(to)
	if err != nil {
		return Message{}, err
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", data); err != nil {
		return Message{}, fmt.Errorf("mail template %s subject: %w", name, err)
	}
	if err := tt.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail template %s: %w", name, err)
	}
	if err := t.html[name].Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail template %s.html: %w", name, err)
	}
	return Message{To: addr, Subject: strings.Join(strings.Fields(subj.String()), " "), Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}

// Package ui holds Gatehouse's embedded page templates and static files
// (stylesheet, icons, the few small scripts) and the email templates. It exposes them as file
// systems; internal/web renders the templates.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed templates static email
var files embed.FS

// Templates is the file system of page templates (*.html).
func Templates() fs.FS {
	sub, err := fs.Sub(files, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// Static is the file system of static assets.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Emails is the file system of email templates: NAME.txt (subject and
// plain-text body) and NAME.html for each message.
func Emails() fs.FS {
	sub, err := fs.Sub(files, "email")
	if err != nil {
		panic(err)
	}
	return sub
}

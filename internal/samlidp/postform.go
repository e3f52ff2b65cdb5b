package samlidp

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"strings"
)

// AutoSubmitJS is the content of the external script that auto-submits the
// HTTP-POST form (serve it, for example, at /static/autosubmit.js with
// Content-Type text/javascript). The page itself carries no inline script,
// so a Content-Security-Policy of script-src 'self' holds.
const AutoSubmitJS = `(function () {
  "use strict";
  function go() {
    var f = document.querySelector("form[data-saml-autosubmit]");
    if (!f) { return; }
    var b = f.querySelector("button");
    if (b) { b.disabled = true; }
    f.submit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", go);
  } else {
    go();
  }
})();
`

// PostForm is an HTTP-POST binding message to deliver through the browser.
type PostForm struct {
	// URL is the form action: an ACS or SLO endpoint. It is checked with
	// ValidateACSURL again here.
	URL string
	// AllowLoopbackHTTP permits http://localhost targets (development).
	AllowLoopbackHTTP bool
	// MessageParam is "SAMLResponse" or "SAMLRequest".
	MessageParam string
	// Message is the base64-encoded SAML message.
	Message string
	// RelayState is echoed when not empty.
	RelayState string
	// ScriptPath is the path of the external auto-submit script (content:
	// AutoSubmitJS), for example "/static/autosubmit.js". It must be a
	// same-origin absolute path.
	ScriptPath string
}

// The page is written by hand rather than through html/template: every
// value goes through html.EscapeString, which is all a double-quoted
// attribute needs, and the template's reflection over a 10 KB base64
// message was a few per cent of a single sign-on's CPU.
const (
	postFormHead = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex\">\n" +
		"<title>Continue to the application</title>\n<script src=\""
	postFormTail = "<noscript><p>JavaScript is off. Press Continue to finish signing in.</p></noscript>\n" +
		"<button type=\"submit\">Continue</button>\n</form>\n</body>\n</html>\n"
)

// RenderPostForm returns the HTML page that posts the message to f.URL.
// Serve it with Cache-Control: no-store. It refuses any URL that is not
// absolute https (or loopback http when allowed) and any script path that is
// not a same-origin absolute path.
func RenderPostForm(f PostForm) ([]byte, error) {
	if err := ValidateACSURL(f.URL, f.AllowLoopbackHTTP); err != nil {
		return nil, fmt.Errorf("samlidp: refusing to post to this URL: %w", err)
	}
	if f.MessageParam != "SAMLResponse" && f.MessageParam != "SAMLRequest" {
		return nil, fmt.Errorf("samlidp: message parameter %q is neither SAMLResponse nor SAMLRequest", f.MessageParam)
	}
	if f.Message == "" {
		return nil, errors.New("samlidp: empty SAML message")
	}
	if !strings.HasPrefix(f.ScriptPath, "/") || strings.HasPrefix(f.ScriptPath, "//") ||
		strings.ContainsAny(f.ScriptPath, "\\\"'<> \t\r\n") {
		return nil, fmt.Errorf("samlidp: script path %q must be a same-origin absolute path", f.ScriptPath)
	}
	var b bytes.Buffer
	b.Grow(len(postFormHead) + len(postFormTail) + len(f.Message) + len(f.URL) + len(f.RelayState) + len(f.ScriptPath) + 200)
	b.WriteString(postFormHead)
	b.WriteString(html.EscapeString(f.ScriptPath))
	b.WriteString("\" defer></script>\n</head>\n<body>\n<form method=\"post\" action=\"")
	b.WriteString(html.EscapeString(f.URL)) // already validated: https or loopback http only
	b.WriteString("\" data-saml-autosubmit>\n<input type=\"hidden\" name=\"")
	b.WriteString(f.MessageParam) // one of two constants, checked above
	b.WriteString("\" value=\"")
	b.WriteString(html.EscapeString(f.Message))
	b.WriteString("\">\n")
	if f.RelayState != "" {
		b.WriteString("<input type=\"hidden\" name=\"RelayState\" value=\"")
		b.WriteString(html.EscapeString(f.RelayState))
		b.WriteString("\">\n")
	}
	b.WriteString(postFormTail)
	return b.Bytes(), nil
}

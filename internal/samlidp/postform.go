package samlidp

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
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

var postFormTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>Continue to the application</title>
<script src="{{.ScriptPath}}" defer></script>
</head>
<body>
<form method="post" action="{{.URL}}" data-saml-autosubmit>
<input type="hidden" name="{{.MessageParam}}" value="{{.Message}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>JavaScript is off. Press Continue to finish signing in.</p></noscript>
<button type="submit">Continue</button>
</form>
</body>
</html>
`))

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
	data := struct {
		URL          template.URL // already validated: https or loopback http only
		MessageParam string
		Message      string
		RelayState   string
		ScriptPath   string
	}{template.URL(f.URL), f.MessageParam, f.Message, f.RelayState, f.ScriptPath}
	if err := postFormTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("samlidp: render form: %w", err)
	}
	return b.Bytes(), nil
}

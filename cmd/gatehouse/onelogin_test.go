package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// OneLogin's python3-saml toolkit (Debian's python3-onelogin-saml2, with
// python3-xmlsec and lxml) as the service provider: a widely deployed SP
// stack in another language that validates in strict mode — schema,
// Destination, Recipient, audience, InResponseTo, time conditions, both
// signatures — using only Gatehouse's published metadata. With
// GATEHOUSE_REQUIRE_OPENSAML=1 (set by scripts/test.sh, which installs the
// package) a missing toolkit fails the test instead of skipping it.

const (
	oneloginSPEntity = "https://sp.example.test/metadata"
	oneloginSLS      = "https://sp.example.test/saml/sls"
)

// onelogin runs one command of testdata/onelogin_sp.py.
type onelogin struct {
	t        *testing.T
	python   string
	settings map[string]any
}

func newOneLogin(t *testing.T, metadata string, signer spSigner) *onelogin {
	t.Helper()
	python := "/usr/bin/python3" // Debian's, which has the toolkit; not a python3 earlier on PATH
	if err := exec.Command(python, "-c", "import onelogin.saml2.auth, xmlsec").Run(); err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_OPENSAML") == "1" {
			t.Fatalf("python3-onelogin-saml2 is required (apt-get install -y python3-onelogin-saml2): %v", err)
		}
		t.Skipf("python3-onelogin-saml2 not installed: %v", err)
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(signer.key)})
	return &onelogin{t: t, python: python, settings: map[string]any{
		"idp_metadata": metadata, "sp_entity_id": oneloginSPEntity, "acs": spACS, "sls": oneloginSLS,
		"sp_cert": base64.StdEncoding.EncodeToString(signer.cert), "sp_key": string(key),
	}}
}

func (o *onelogin) run(cmd map[string]any) map[string]any {
	o.t.Helper()
	cmd["settings"] = o.settings
	in, _ := json.Marshal(cmd)
	c := exec.Command(o.python, filepath.Join("testdata", "onelogin_sp.py"))
	c.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		o.t.Fatalf("onelogin %s: %v\n%s", cmd["op"], err, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		o.t.Fatalf("onelogin %s answered %q: %v", cmd["op"], out, err)
	}
	return res
}

func noErrors(t *testing.T, what string, res map[string]any) {
	t.Helper()
	if errs, _ := res["errors"].([]any); len(errs) > 0 {
		t.Fatalf("%s: OneLogin refused: %v (%v)", what, errs, res["reason"])
	}
}

func TestOneLoginPythonSP(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "lin@example.com", "Secret-Passw0rd")
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"sp-support"}}`)
	ts.call(t, "PUT", "/api/v1/groups/"+g.body["id"].(string)+"/users/"+u.ID, ts.token, "")
	// Single logout needs the SP's signing certificate (its LogoutRequests
	// must be signed); AuthnRequests may still come unsigned.
	signer := newSPSigner(t)
	appID, _ := ts.newSAMLApp(t, "Helpdesk", `,"spCertificate":{"x5c":["`+base64.StdEncoding.EncodeToString(signer.cert)+`"]},"slo":{"enabled":true,"logoutUrl":"`+oneloginSLS+`"}`)
	ts.assign(t, appID, u.ID)
	md := ts.call(t, "GET", "/api/v1/apps/"+appID+"/sso/saml/metadata", ts.token, "")
	if md.status != 200 {
		t.Fatalf("metadata: %d", md.status)
	}
	sp := newOneLogin(t, md.raw, signer)
	b := newBrowser(t, ts.srv.URL)

	// SP-initiated over HTTP-Redirect, the toolkit's own AuthnRequest.
	login := sp.run(map[string]any{"op": "login", "relay_state": "https://sp.example.test/tickets/42"})
	resp, body := b.follow(b.get(login["url"].(string)))
	if !strings.Contains(body, "Sign In") {
		t.Fatalf("expected the sign-in page, got %d", resp.StatusCode)
	}
	_, body = b.follow(b.signIn("lin@example.com", "Secret-Passw0rd", resp.Request.URL.Query().Get("next")))
	action, samlResponse, relay := samlPost(t, body)
	if action != spACS || relay != "https://sp.example.test/tickets/42" {
		t.Fatalf("form posts to %s with RelayState %q", action, relay)
	}
	acs := sp.run(map[string]any{"op": "acs", "request_id": login["request_id"], "post": map[string]string{"SAMLResponse": samlResponse, "RelayState": relay}})
	noErrors(t, "SP-initiated response", acs)
	if acs["authenticated"] != true || acs["nameid"] != "lin@example.com" || acs["nameid_format"] != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" {
		t.Fatalf("OneLogin saw %v", acs)
	}
	attrs := acs["attributes"].(map[string]any)
	if first(attrs["email"]) != "lin@example.com" || first(attrs["displayName"]) != "Pat Doe" || first(attrs["groups"]) != "sp-support" {
		t.Fatalf("attributes %v", attrs)
	}
	if ctx, _ := acs["authn_contexts"].([]any); len(ctx) != 1 || ctx[0] != "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport" {
		t.Fatalf("authn contexts %v", acs["authn_contexts"])
	}
	sessionIndex, _ := acs["session_index"].(string)
	if sessionIndex == "" {
		t.Fatal("no SessionIndex")
	}

	// The same response for another request ID is refused (InResponseTo),
	// and a tampered one fails the signature check: the SP can say no.
	if res := sp.run(map[string]any{"op": "acs", "request_id": "ONELOGIN_other", "post": map[string]string{"SAMLResponse": samlResponse}}); res["authenticated"] == true {
		t.Fatal("OneLogin accepted a response for another request")
	}
	tampered := tamperBase64XML(t, samlResponse, "lin@example.com", "root@example.com")
	if res := sp.run(map[string]any{"op": "acs", "post": map[string]string{"SAMLResponse": tampered}}); res["authenticated"] == true {
		t.Fatal("OneLogin accepted a tampered response")
	}

	// IdP-initiated from the dashboard link: no InResponseTo, default relay state.
	apps := ts.call(t, "GET", "/api/v1/apps/"+appID, ts.token, "")
	link := apps.body["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	_, body = b.follow(b.get(link))
	_, samlResponse, relay = samlPost(t, body)
	if relay != "https://sp.example.test/home" {
		t.Fatalf("IdP-initiated RelayState %q", relay)
	}
	noErrors(t, "IdP-initiated response", sp.run(map[string]any{"op": "acs", "post": map[string]string{"SAMLResponse": samlResponse, "RelayState": relay}}))

	// The toolkit's default LogoutRequest is unsigned
	// (security.logoutRequestSigned is false), which SAML Profiles 4.4.4.1
	// does not allow over a browser binding ("The requester MUST
	// authenticate itself to the responder ... by signing the
	// <LogoutRequest> message or using a binding-specific mechanism"):
	// Gatehouse refuses it and the session stays.
	unsignedLogout := sp.run(map[string]any{"op": "logout", "name_id": "lin@example.com", "session_index": sessionIndex})
	if r, body := b.get(unsignedLogout["url"].(string)); r.StatusCode != 400 || !strings.Contains(body, "must be signed") {
		t.Fatalf("an unsigned LogoutRequest: %d %.300s", r.StatusCode, body)
	}
	if r, _ := b.get("/app/UserHome"); r.StatusCode != 200 {
		t.Fatalf("an unsigned LogoutRequest ended the session: dashboard %d", r.StatusCode)
	}

	// SP-initiated single logout over HTTP-Redirect: the toolkit's signed
	// LogoutRequest, Gatehouse's signed LogoutResponse, checked by the toolkit.
	logout := sp.run(map[string]any{"op": "logout", "name_id": "lin@example.com", "session_index": sessionIndex, "sign": true})
	resp, _ = b.get(logout["url"].(string))
	if resp.StatusCode != 302 && resp.StatusCode != 303 {
		t.Fatalf("SLO answered %d, want a redirect to the SP", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Scheme+"://"+back.Host+back.Path != oneloginSLS {
		t.Fatalf("LogoutResponse sent to %q", resp.Header.Get("Location"))
	}
	get := map[string]string{}
	for k, v := range back.Query() {
		get[k] = v[0]
	}
	if get["Signature"] == "" {
		t.Fatal("the LogoutResponse is not signed")
	}
	noErrors(t, "LogoutResponse", sp.run(map[string]any{"op": "sls", "request_id": logout["request_id"], "get": get}))
	if r, _ := b.get("/app/UserHome"); r.StatusCode != 302 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("after SLO the dashboard answered %d %s; the Gatehouse session should be gone", r.StatusCode, r.Header.Get("Location"))
	}
}

func first(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return nil
}

// tamperBase64XML replaces one string in a base64-encoded XML message.
func tamperBase64XML(t *testing.T, b64, from, to string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), from) {
		t.Fatalf("%q not in the message", from)
	}
	return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1)))
}

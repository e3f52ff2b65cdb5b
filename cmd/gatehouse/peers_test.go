package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Two more independent SAML service providers as peers of Gatehouse's IdP,
// each a Python SP driven line by line over stdin/stdout (one process per
// test, so that the SP keeps its own state — outstanding requests,
// sessions — as a real SP does):
//
//   - PySAML2 (Debian's python3-pysaml2; XML-DSig and XML-Enc by the xmlsec1
//     command), testdata/pysaml2_sp.py;
//   - Lasso (Debian's python3-lasso, the C library behind Apache
//     mod_auth_mellon; libxml2 and xmlsec), testdata/lasso_sp.py.
//
// Each SP reads Gatehouse's public per-app metadata URL itself and runs
// the same story against a real server: SP-initiated sign-in over
// HTTP-Redirect and HTTP-POST with signed AuthnRequests (while the app
// requires them) and unsigned ones, IdP-initiated sign-in with a RelayState,
// encrypted assertions (AES-256-GCM, the default, and AES-256-CBC), and
// SP-initiated single logout over HTTP-Redirect and HTTP-POST whose signed
// LogoutResponse the SP verifies, and an IsPassive refusal. Every step
// asserts what the SP concluded. With GATEHOUSE_REQUIRE_PYSAML2=1 or
// GATEHOUSE_REQUIRE_LASSO=1 (set by scripts/test.sh, which installs the
// packages) a missing library fails the test instead of skipping it.
//
// Where the peers' defaults differ from what the test configures:
//
//   - PySAML2 signs with rsa-sha1 unless told otherwise (saml2.xmldsig
//     sig_default); the SP is set to RSA-SHA256, because Gatehouse accepts
//     SHA-1 only with legacy_crypto (SAML does not require SHA-1).
//   - PySAML2 and OneLogin's toolkit send unsigned LogoutRequests by default
//     (logout_requests_signed, logoutRequestSigned). SAML Profiles 4.4.4.1
//     has the requester of a LogoutRequest authenticate itself, by signing
//     it or by a binding-specific mechanism, and HTTP-Redirect and HTTP-POST
//     have none (the browser carries the message): the peers are wrong
//     there. Gatehouse accepted them; it now refuses them, and the test
//     checks that an unsigned LogoutRequest leaves the session alone.
//   - PySAML2 does not check the query signature of an HTTP-Redirect
//     LogoutResponse in parse_logout_request_response; its SP must call
//     sigver.verify_redirect_signature, which pysaml2_sp.py does.
//   - mod_auth_mellon checks the subject confirmation, the conditions and
//     the InResponseTo itself around Lasso (which checks signatures and
//     decrypts), and drops its own session after a LogoutResponse (Lasso's
//     session still holds the assertion then); lasso_sp.py does the same.

const (
	peerSPEntity = "https://sp.example.test/metadata" // the audience of newSAMLApp
	peerSLS      = "https://sp.example.test/saml/sls"
)

// peerSP is one running SP script.
type peerSP struct {
	t    *testing.T
	name string
	in   *json.Encoder
	out  *bufio.Scanner
}

func startPeerSP(t *testing.T, name, script, importCheck, requireEnv string) *peerSP {
	t.Helper()
	python := "/usr/bin/python3" // Debian's, which has the packages; not a python3 earlier on PATH
	if out, err := exec.Command(python, "-c", importCheck).CombinedOutput(); err != nil {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s is required (%s=1): %v\n%s", name, requireEnv, err, out)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	c := exec.Command(python, filepath.Join("testdata", script))
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := c.Wait(); err != nil {
			t.Errorf("%s exited: %v\n%s", name, err, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	return &peerSP{t: t, name: name, in: json.NewEncoder(stdin), out: sc}
}

// call sends one command and returns the SP's answer.
func (p *peerSP) call(cmd map[string]any) map[string]any {
	p.t.Helper()
	if err := p.in.Encode(cmd); err != nil {
		p.t.Fatalf("%s %s: %v", p.name, cmd["op"], err)
	}
	if !p.out.Scan() {
		p.t.Fatalf("%s %s: no answer (%v)", p.name, cmd["op"], p.out.Err())
	}
	var res map[string]any
	if err := json.Unmarshal(p.out.Bytes(), &res); err != nil {
		p.t.Fatalf("%s %s answered %q: %v", p.name, cmd["op"], p.out.Bytes(), err)
	}
	return res
}

// must is call for a command that has to succeed.
func (p *peerSP) must(cmd map[string]any) map[string]any {
	p.t.Helper()
	res := p.call(cmd)
	if e, ok := res["error"]; ok {
		p.t.Fatalf("%s %s refused: %v\n%v", p.name, cmd["op"], e, res["trace"])
	}
	return res
}

// writePEM writes a key pair of s as PEM files and returns their paths.
func writePEM(t *testing.T, dir, name string, s spSigner) (key, cert string) {
	t.Helper()
	key, cert = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt")
	kb := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.key)})
	cb := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert})
	if err := os.WriteFile(key, kb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, cb, 0o600); err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// updateSignOn changes an app's settings.signOn through the API (GET,
// change, PUT).
func (ts *testServer) updateSignOn(t *testing.T, appID string, change func(so map[string]any)) {
	t.Helper()
	app := ts.call(t, "GET", "/api/v1/apps/"+appID, ts.token, "").body
	change(app["settings"].(map[string]any)["signOn"].(map[string]any))
	if r := ts.call(t, "PUT", "/api/v1/apps/"+appID, ts.token, mustJSONString(t, app)); r.status != 200 {
		t.Fatalf("update app: %d %s", r.status, r.raw)
	}
}

func TestPySAML2SP(t *testing.T) {
	runPeerSP(t, startPeerSP(t, "PySAML2 (python3-pysaml2)", "pysaml2_sp.py",
		"import saml2.client, saml2.sigver", "GATEHOUSE_REQUIRE_PYSAML2"))
}

func TestLassoSP(t *testing.T) {
	runPeerSP(t, startPeerSP(t, "Lasso (python3-lasso)", "lasso_sp.py",
		"import lasso", "GATEHOUSE_REQUIRE_LASSO"))
}

// runPeerSP is the story every peer SP goes through.
func runPeerSP(t *testing.T, sp *peerSP) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "kim@example.com", "Secret-Passw0rd")
	// A last name beyond ASCII, with XML's special characters, must reach
	// the SP as it is.
	if r := ts.call(t, "POST", "/api/v1/users/"+u.ID, ts.token, `{"profile":{"lastName":"Ørsted & <Søn> \"Æ\""}}`); r.status != 200 {
		t.Fatalf("rename: %d %s", r.status, r.raw)
	}
	g := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"sp-ops"}}`)
	ts.call(t, "PUT", "/api/v1/groups/"+g.body["id"].(string)+"/users/"+u.ID, ts.token, "")
	signer, enc := newSPSigner(t), newSPSigner(t)
	appID, _ := ts.newSAMLApp(t, "Peer SP", signer.signOn()+`,"slo":{"enabled":true,"logoutUrl":"`+peerSLS+`"}`)
	ts.assign(t, appID, u.ID)
	a, err := ts.catalog.Store.App(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, cert := writePEM(t, dir, "signing", signer)
	encKey, encCert := writePEM(t, dir, "encryption", enc)
	md := sp.must(map[string]any{"op": "init", "metadata_url": ts.srv.URL + a.MetadataPath(),
		"sp_entity_id": peerSPEntity, "acs": spACS, "sls": peerSLS,
		"key": key, "cert": cert, "enc_key": encKey, "enc_cert": encCert})
	if md["idp"] != a.EntityID(ts.srv.URL) || md["want_authn_requests_signed"] != true {
		t.Fatalf("%s read the metadata as %v", sp.name, md)
	}
	b := newBrowser(t, ts.srv.URL)
	signedIn := false

	// checkSignIn asserts what the SP concluded from a response.
	checkSignIn := func(what string, acs map[string]any, requestID string) {
		t.Helper()
		if acs["authenticated"] != true || acs["nameid"] != "kim@example.com" ||
			acs["nameid_format"] != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" || acs["in_response_to"] != requestID {
			t.Fatalf("%s: %s concluded %v", what, sp.name, acs)
		}
		attrs, _ := acs["attributes"].(map[string]any)
		if first(attrs["email"]) != "kim@example.com" || first(attrs["displayName"]) != `Pat Ørsted & <Søn> "Æ"` || first(attrs["groups"]) != "sp-ops" {
			t.Fatalf("%s: %s saw attributes %v", what, sp.name, attrs)
		}
		if ctx, _ := acs["authn_contexts"].([]any); len(ctx) != 1 || ctx[0] != "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport" {
			t.Fatalf("%s: authentication contexts %v", what, acs["authn_contexts"])
		}
		if acs["issuer"] != md["idp"] || acs["session_index"] == "" || acs["session_index"] == nil {
			t.Fatalf("%s: issuer %v, SessionIndex %v", what, acs["issuer"], acs["session_index"])
		}
	}
	// spInitiated runs one SP-initiated sign-in and returns the SP's
	// conclusion and the raw Response.
	spInitiated := func(what, binding string, sign bool) (map[string]any, string) {
		t.Helper()
		relay := "peer-" + binding + "-" + map[bool]string{true: "signed", false: "unsigned"}[sign]
		// Each request asks for the app's authentication context, exactly
		// (as mod_auth_mellon's MellonAuthnContextClassRef does).
		login := sp.must(map[string]any{"op": "login", "binding": binding, "sign": sign, "relay_state": relay,
			"authn_context": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"})
		reqID, _ := login["request_id"].(string)
		var r *http.Response
		var body string
		if binding == "redirect" {
			u := login["url"].(string)
			if q, _ := url.Parse(u); (q.Query().Get("Signature") != "") != sign {
				t.Fatalf("%s: %s's redirect URL %s", what, sp.name, u)
			}
			r, body = b.get(u)
		} else {
			form := url.Values{}
			for k, v := range login["form"].(map[string]any) {
				form.Set(k, v.(string))
			}
			if raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLRequest")); strings.Contains(string(raw), "SignatureValue") != sign {
				t.Fatalf("%s: %s's POST request %s", what, sp.name, raw)
			}
			r, body = b.post(login["action"].(string), form)
		}
		r, body = b.follow(r, body)
		if !signedIn {
			if !strings.Contains(body, "Sign In") {
				t.Fatalf("%s: expected the sign-in page, got %d %.400s", what, r.StatusCode, body)
			}
			r, body = b.follow(b.signIn("kim@example.com", "Secret-Passw0rd", r.Request.URL.Query().Get("next")))
			signedIn = true
		}
		if r.StatusCode != 200 || !strings.Contains(body, "SAMLResponse") {
			t.Fatalf("%s: Gatehouse answered %d %.600s", what, r.StatusCode, body)
		}
		action, samlResponse, rs := samlPost(t, body)
		if action != spACS || rs != relay {
			t.Fatalf("%s: form posts to %s with RelayState %q", what, action, rs)
		}
		acs := sp.must(map[string]any{"op": "acs", "SAMLResponse": samlResponse, "RelayState": rs})
		checkSignIn(what, acs, reqID)
		raw, _ := base64.StdEncoding.DecodeString(samlResponse)
		return acs, string(raw)
	}

	// While the app requires signed requests (and its metadata says so),
	// the SP's signed requests are verified and accepted over both
	// bindings, and an unsigned one is refused.
	_, raw := spInitiated("signed HTTP-Redirect", "redirect", true)
	// The SP can say no: a tampered copy fails its signature checks.
	tampered := base64.StdEncoding.EncodeToString([]byte(strings.Replace(raw, "kim@example.com", "root@example.com", -1)))
	if res := sp.call(map[string]any{"op": "acs", "SAMLResponse": tampered}); res["error"] == nil {
		t.Fatalf("%s accepted a tampered response: %v", sp.name, res)
	}
	spInitiated("signed HTTP-POST", "post", true)
	unsigned := sp.must(map[string]any{"op": "login", "binding": "redirect", "sign": false, "relay_state": "x"})
	if r, body := b.get(unsigned["url"].(string)); r.StatusCode != 400 || !strings.Contains(body, "refused") {
		t.Fatalf("an unsigned request to an app that requires signed ones: %d %.300s", r.StatusCode, body)
	}

	// Unsigned requests once the app no longer requires signatures.
	ts.updateSignOn(t, appID, func(so map[string]any) { so["samlSignedRequestEnabled"] = false })
	spInitiated("unsigned HTTP-Redirect", "redirect", false)
	spInitiated("unsigned HTTP-POST", "post", false)

	// IdP-initiated from the dashboard link with a RelayState: no
	// InResponseTo, the RelayState comes back as given.
	apps := ts.call(t, "GET", "/api/v1/apps/"+appID, ts.token, "")
	link := apps.body["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	_, body := b.follow(b.get(link + "?RelayState=peer-idp-state"))
	action, samlResponse, rs := samlPost(t, body)
	if action != spACS || rs != "peer-idp-state" {
		t.Fatalf("IdP-initiated: form posts to %s with RelayState %q", action, rs)
	}
	checkSignIn("IdP-initiated", sp.must(map[string]any{"op": "acs", "SAMLResponse": samlResponse, "RelayState": rs}), "")

	// Encrypted assertions, decrypted by the SP with its encryption key.
	for _, alg := range []struct{ setting, uri string }{
		{"AES256_GCM", "http://www.w3.org/2009/xmlenc11#aes256-gcm"},
		{"AES256_CBC", "http://www.w3.org/2001/04/xmlenc#aes256-cbc"},
	} {
		ts.updateSignOn(t, appID, func(so map[string]any) {
			so["assertionEncryption"] = map[string]any{"enabled": true, "encryptionAlgorithm": alg.setting,
				"keyTransportAlgorithm": "RSA_OAEP", "x5c": []string{base64.StdEncoding.EncodeToString(enc.cert)}}
		})
		acs, raw := spInitiated("encrypted "+alg.setting, "redirect", false)
		if !strings.Contains(raw, "EncryptedAssertion") || !strings.Contains(raw, alg.uri) || strings.Contains(raw, "kim@example.com") {
			t.Fatalf("%s: the response is not encrypted as asked: %.800s", alg.setting, raw)
		}
		if acs["encrypted"] != true {
			t.Fatalf("%s: %s did not see an encrypted assertion: %v", alg.setting, sp.name, acs)
		}
	}
	ts.updateSignOn(t, appID, func(so map[string]any) { so["assertionEncryption"] = map[string]any{"enabled": false} })

	// SP-initiated single logout over each binding for the last session:
	// the SP's signed LogoutRequest, Gatehouse's signed LogoutResponse
	// through the same binding, verified by the SP, which then ends its own
	// session; the Gatehouse session is gone too. A LogoutResponse whose
	// signature is broken is refused by the SP first.
	for _, binding := range []string{"redirect", "post"} {
		spInitiated("sign-in before "+binding+" logout", "redirect", false)
		if binding == "redirect" {
			// An unsigned LogoutRequest (PySAML2's default:
			// logout_requests_signed is off; Lasso always signs, so its
			// request loses SigAlg and Signature) is refused, because SAML
			// Profiles 4.4.4.1 has the requester authenticate itself and
			// over a browser binding only a signature does; the session
			// stays.
			unsigned := sp.must(map[string]any{"op": "logout", "binding": binding, "sign": false})
			if uu, _ := url.Parse(unsigned["url"].(string)); uu.Query().Has("Signature") {
				t.Fatalf("%s signed the LogoutRequest asked unsigned: %s", sp.name, uu)
			}
			if r, body := b.get(unsigned["url"].(string)); r.StatusCode != 400 || !strings.Contains(body, "must be signed") {
				t.Fatalf("an unsigned LogoutRequest: %d %.300s", r.StatusCode, body)
			}
			if r, _ := b.get("/app/UserHome"); r.StatusCode != 200 {
				t.Fatalf("an unsigned LogoutRequest ended the session: dashboard %d", r.StatusCode)
			}
		}
		logout := sp.must(map[string]any{"op": "logout", "binding": binding})
		var good, bad map[string]any
		if binding == "redirect" {
			lu, _ := url.Parse(logout["url"].(string))
			if lu.Query().Get("Signature") == "" {
				t.Fatalf("%s's LogoutRequest is not signed: %s", sp.name, lu)
			}
			resp, _ := b.get(logout["url"].(string))
			if resp.StatusCode != 302 {
				t.Fatalf("SLO answered %d, want a redirect to the SP", resp.StatusCode)
			}
			back, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || back.Scheme+"://"+back.Host+back.Path != peerSLS {
				t.Fatalf("LogoutResponse sent to %q", resp.Header.Get("Location"))
			}
			query := map[string]string{}
			for k, v := range back.Query() {
				query[k] = v[0]
			}
			good = map[string]any{"op": "sls", "query": query, "raw_query": back.RawQuery}
			sig, _ := base64.StdEncoding.DecodeString(query["Signature"])
			sig[10] ^= 1
			broken := map[string]string{}
			for k, v := range query {
				broken[k] = v
			}
			broken["Signature"] = base64.StdEncoding.EncodeToString(sig)
			bad = map[string]any{"op": "sls", "query": broken,
				"raw_query": strings.Replace(back.RawQuery, url.QueryEscape(query["Signature"]), url.QueryEscape(broken["Signature"]), 1)}
		} else {
			form := url.Values{}
			for k, v := range logout["form"].(map[string]any) {
				form.Set(k, v.(string))
			}
			if raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLRequest")); !strings.Contains(string(raw), "SignatureValue") {
				t.Fatalf("%s's LogoutRequest is not signed: %s", sp.name, raw)
			}
			_, body := b.post(logout["action"].(string), form)
			action, samlResponse, _ := samlPost(t, body)
			if action != peerSLS {
				t.Fatalf("LogoutResponse posted to %q", action)
			}
			good = map[string]any{"op": "sls", "post": map[string]string{"SAMLResponse": samlResponse}}
			raw, _ := base64.StdEncoding.DecodeString(samlResponse)
			i := strings.Index(string(raw), "<ds:SignatureValue>") + len("<ds:SignatureValue>") + 5
			if i < 30 {
				t.Fatalf("the LogoutResponse is not signed: %s", raw)
			}
			flipped := []byte(string(raw))
			flipped[i] = map[bool]byte{true: 'B', false: 'A'}[flipped[i] == 'A']
			bad = map[string]any{"op": "sls", "post": map[string]string{"SAMLResponse": base64.StdEncoding.EncodeToString(flipped)}}
		}
		if res := sp.call(bad); res["error"] == nil || res["signature_verified"] != false {
			t.Fatalf("%s accepted a %s LogoutResponse whose signature does not verify: %v", sp.name, binding, res)
		}
		res := sp.must(good)
		if res["status"] != "urn:oasis:names:tc:SAML:2.0:status:Success" || res["signature_verified"] != true ||
			res["in_response_to"] != logout["request_id"] || res["logged_in"] != false {
			t.Fatalf("%s concluded from the %s LogoutResponse: %v", sp.name, binding, res)
		}
		if r, _ := b.get("/app/UserHome"); r.StatusCode != 302 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("after %s SLO the dashboard answered %d %s; the Gatehouse session should be gone", binding, r.StatusCode, r.Header.Get("Location"))
		}
		signedIn = false
	}

	// IsPassive with no Gatehouse session: a signed error Response with
	// Responder/NoPassive answering the request (Core 3.4.1.4), which the
	// SP takes as a refusal, not a sign-in.
	passive := sp.must(map[string]any{"op": "login", "binding": "redirect", "sign": true, "relay_state": "peer-passive", "is_passive": true})
	_, body = b.follow(b.get(passive["url"].(string)))
	action, samlResponse, rs = samlPost(t, body)
	if action != spACS || rs != "peer-passive" {
		t.Fatalf("IsPassive: form posts to %s with RelayState %q", action, rs)
	}
	res := sp.call(map[string]any{"op": "acs", "SAMLResponse": samlResponse, "RelayState": rs})
	if res["authenticated"] == true || res["status_error"] != "StatusNoPassive" && res["sub_status"] != "urn:oasis:names:tc:SAML:2.0:status:NoPassive" {
		t.Fatalf("IsPassive: %s concluded %v", sp.name, res)
	}
	if res["sub_status"] != nil && (res["status"] != "urn:oasis:names:tc:SAML:2.0:status:Responder" || res["in_response_to"] != passive["request_id"]) {
		t.Fatalf("IsPassive: %s read the error Response as %v", sp.name, res)
	}

	// An exact RequestedAuthnContext for a class Gatehouse cannot assert
	// (Smartcard): a signed Requester/NoAuthnContext Response at once
	// (Core 3.3.2.2.1), which the SP takes as a refusal.
	smart := sp.must(map[string]any{"op": "login", "binding": "redirect", "sign": true, "relay_state": "peer-smartcard",
		"authn_context": "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"})
	_, body = b.follow(b.get(smart["url"].(string)))
	action, samlResponse, rs = samlPost(t, body)
	if action != spACS || rs != "peer-smartcard" {
		t.Fatalf("Smartcard: form posts to %s with RelayState %q", action, rs)
	}
	res = sp.call(map[string]any{"op": "acs", "SAMLResponse": samlResponse, "RelayState": rs})
	if res["authenticated"] == true || res["status_error"] != "StatusNoAuthnContext" && res["sub_status"] != "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext" {
		t.Fatalf("Smartcard: %s concluded %v", sp.name, res)
	}
	if res["sub_status"] != nil && (res["status"] != "urn:oasis:names:tc:SAML:2.0:status:Requester" || res["in_response_to"] != smart["request_id"]) {
		t.Fatalf("Smartcard: %s read the error Response as %v", sp.name, res)
	}
}

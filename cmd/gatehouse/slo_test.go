package main

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// unsignedRedirect is the HTTP-Redirect binding URL of doc without a
// signature: DEFLATE, base64, query parameter (saml-bindings 3.4.4.1).
func unsignedRedirect(t testing.TB, endpoint, param string, doc *etree.Document) string {
	t.Helper()
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write(raw)
	fw.Close()
	return endpoint + "?" + url.Values{param: {base64.StdEncoding.EncodeToString(buf.Bytes())}}.Encode()
}

// TestLogoutRequestSessionIndex: a LogoutRequest ends the sessions it
// names by SessionIndex only when it is signed and each named session
// belongs to the person its NameID names at the app. An unsigned request
// (an app without an SP certificate), or a signed one naming someone
// else's session, leaves that session alone; the logout itself still
// answers with a LogoutResponse.
func TestLogoutRequestSessionIndex(t *testing.T) {
	ts := newTestServer(t, false)
	signer := newSPSigner(t)
	slo := `,"slo":{"enabled":true,"logoutUrl":"https://sp.example.test/slo"}`
	signedApp, _ := ts.newSAMLApp(t, "Signed", signer.signOn()+slo)
	plainApp, _ := ts.newSAMLApp(t, "Plain", slo)
	const pw = "Secret-Passw0rd"
	ana, bob := ts.createUser(t, "ana@example.com", pw), ts.createUser(t, "bob@example.com", pw)
	for _, app := range []string{signedApp, plainApp} {
		ts.assign(t, app, ana.ID)
		ts.assign(t, app, bob.ID)
	}
	sessionOf := func(userID string) string {
		t.Helper()
		b := newBrowser(t, ts.srv.URL)
		if resp, _ := b.signIn(map[string]string{ana.ID: "ana@example.com", bob.ID: "bob@example.com"}[userID], pw, "/app/UserHome"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		r := ts.call(t, "GET", "/api/v1/users/"+userID+"/sessions", ts.token, "")
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.raw), &list); err != nil || len(list) == 0 {
			t.Fatalf("sessions of %s: %d %s", userID, r.status, r.raw)
		}
		return list[len(list)-1]["id"].(string)
	}
	alive := func(id string) bool {
		t.Helper()
		r := ts.call(t, "GET", "/api/v1/sessions/"+id, ts.token, "")
		if r.status != 200 && r.status != 404 {
			t.Fatalf("session %s: %d %s", id, r.status, r.raw)
		}
		return r.status == 200
	}
	anaSess, bobSess := sessionOf(ana.ID), sessionOf(bob.ID)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(u string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://sp.example.test/slo?SAMLResponse=") {
			t.Fatalf("LogoutRequest: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	plain := ts.gosamlSP(t, plainApp)
	plain.IdentityProviderSLOURL = strings.Replace(plain.IdentityProviderSSOURL, "/sso/saml", "/slo/saml", 1)
	signed := signer.sp(t, ts, signedApp)

	// Unsigned, naming Bob and his session: answered, Bob still signed in.
	doc, err := plain.BuildLogoutRequestDocumentNoSig("bob@example.com", bobSess)
	if err != nil {
		t.Fatal(err)
	}
	send(unsignedRedirect(t, plain.IdentityProviderSLOURL, "SAMLRequest", doc))
	if !alive(bobSess) {
		t.Fatal("an unsigned LogoutRequest ended the session it named")
	}

	// Signed, naming Ana but carrying Bob's session: Bob still signed in.
	if doc, err = signed.BuildLogoutRequestDocumentNoSig("ana@example.com", bobSess); err != nil {
		t.Fatal(err)
	}
	var u string
	if u, err = signed.BuildLogoutURLRedirect("", doc); err != nil {
		t.Fatal(err)
	}
	send(u)
	if !alive(bobSess) || !alive(anaSess) {
		t.Fatalf("a signed LogoutRequest for Ana with Bob's SessionIndex ended a session (bob %v, ana %v)", alive(bobSess), alive(anaSess))
	}

	// Signed, naming Bob and his session: that session ends, Ana's stays.
	if doc, err = signed.BuildLogoutRequestDocumentNoSig("bob@example.com", bobSess); err != nil {
		t.Fatal(err)
	}
	if u, err = signed.BuildLogoutURLRedirect("", doc); err != nil {
		t.Fatal(err)
	}
	send(u)
	if alive(bobSess) {
		t.Fatal("a signed LogoutRequest for Bob's session left it alive")
	}
	if !alive(anaSess) {
		t.Fatal("Bob's logout ended Ana's session")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

// submitMultipart posts form (and files by field name) as
// multipart/form-data, the way the Sign On form is sent, with the CSRF
// token of page.
func (b *browser) submitMultipart(page, path string, form url.Values, files map[string][]byte) (int, string, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	form.Set("csrf", formCSRF(b.t, page))
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for k, content := range files {
		fw, _ := mw.CreateFormFile(k, "cert.pem")
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.abs(path), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, body := b.do(req)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// TestConsoleSignOnSecurity: the Sign On tab edits assertion encryption
// (certificate uploaded or pasted, algorithms), single logout, signed
// requests with the SP certificate, and other requestable SSO URLs; every
// mistake is refused beside its field by the apps API's own validation,
// and nothing is saved.
func TestConsoleSignOnSecurity(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	app, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Label: "Wiki", SignOn: &catalog.SignOn{SSOAcsURL: "https://wiki.example.com/acs", Audience: "urn:wiki",
		SubjectNameIDTemplate: "${user.userName}", SubjectNameIDFormat: catalog.NameIDUnspecified, ResponseSigned: true, AssertionSigned: true,
		SignatureAlgorithm: "RSA_SHA256", DigestAlgorithm: "SHA256"}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	path := "/admin/apps/" + app.ID + "/signon"
	so := b.page(path, 200)
	for _, want := range []string{`enctype="multipart/form-data"`, ">Assertion Encryption<", ">Encryption Algorithm<", ">Key Transport Algorithm<",
		">Encryption Certificate<", ">Upload Encryption Certificate<", ">Enable Single Logout<", ">Single Logout URL<", ">SP Issuer for Single Logout<",
		">Signed Requests<", ">Signature Certificate<", ">Allow this app to request other SSO URLs<", ">Other SSO URL 1: URL<"} {
		if !strings.Contains(so, want) {
			t.Errorf("Sign On lacks %s", want)
		}
	}
	checkLabels(t, path, so)
	encCert, spCert, weak := selfSigned(t, 2048), selfSigned(t, 2048), selfSigned(t, 1024)
	pemOf := func(b64 string) []byte {
		der, _ := base64.StdEncoding.DecodeString(b64)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	const pre = "settings.signOn."
	base := formValues(so, path)
	stored := func() catalog.SignOn {
		a, err := ts.catalog.Store.App(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Settings.SignOn
	}
	before := stored()

	// Mistakes, each beside its field, nothing saved.
	for _, c := range []struct {
		name  string
		set   map[string]string
		files map[string][]byte
		field string
		want  string
	}{
		{"encryption without a certificate", map[string]string{pre + "assertionEncryption.enabled": "true"}, nil, pre + "assertionEncryption.x5c", "certificate is required"},
		{"RSA_15", map[string]string{pre + "assertionEncryption.enabled": "true", pre + "assertionEncryption.keyTransportAlgorithm": "RSA_15",
			pre + "assertionEncryption.x5c": string(pemOf(encCert))}, nil, pre + "assertionEncryption.keyTransportAlgorithm", "RSA_15 is refused"},
		{"pasted text that is no PEM", map[string]string{pre + "assertionEncryption.x5c": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}, nil,
			pre + "assertionEncryption.x5c", "No PEM CERTIFICATE block"},
		{"uploaded weak key", nil, map[string][]byte{pre + "spCertificate.x5c.file": pemOf(weak)}, pre + "spCertificate.x5c", "1024 bits"},
		{"uploaded garbage", nil, map[string][]byte{pre + "spCertificate.x5c.file": []byte("hello")}, pre + "spCertificate.x5c", "not"},
		{"single logout without a URL", map[string]string{pre + "slo.enabled": "true"}, nil, pre + "slo.logoutUrl", "blank"},
		{"single logout to http", map[string]string{pre + "slo.enabled": "true", pre + "slo.logoutUrl": "http://wiki.example.com/slo"}, nil, pre + "slo.logoutUrl", "https"},
		{"single logout without the signature certificate", map[string]string{pre + "slo.enabled": "true", pre + "slo.logoutUrl": "https://wiki.example.com/slo"}, nil,
			pre + "slo.enabled", "logout requests must be signed"},
		{"signed requests without a certificate", map[string]string{pre + "samlSignedRequestEnabled": "true"}, nil, pre + "samlSignedRequestEnabled", "spCertificate"},
		{"two SSO URLs with one index", map[string]string{pre + "acsEndpoints[0].url": "https://wiki.example.com/acs2", pre + "acsEndpoints[0].index": "1",
			pre + "acsEndpoints[1].url": "https://wiki.example.com/acs3", pre + "acsEndpoints[1].index": "1"}, nil, pre + "acsEndpoints[1].index", "used by another endpoint"},
		{"an SSO URL with a script", map[string]string{pre + "acsEndpoints[0].url": "javascript:alert(1)"}, nil, pre + "acsEndpoints[0].url", "not allowed"},
		{"an index that is no number", map[string]string{pre + "acsEndpoints[0].url": "https://wiki.example.com/acs2", pre + "acsEndpoints[0].index": "two"}, nil,
			pre + "acsEndpoints[0].index", "whole number"},
	} {
		form := url.Values{}
		for k, v := range base {
			form[k] = append([]string(nil), v...)
		}
		for k, v := range c.set {
			form.Set(k, v)
		}
		code, _, page := b.submitMultipart(so, path, form, c.files)
		if code != 400 {
			t.Errorf("%s: %d", c.name, code)
			continue
		}
		if msg := fieldError(t, page, c.field); !strings.Contains(msg, c.want) {
			t.Errorf("%s: beside %s: %q (want %q)", c.name, c.field, msg, c.want)
		}
	}
	if after := stored(); after.AssertionEncryption.Enabled || after.SLO.Enabled || after.SAMLSignedRequestEnabled || len(after.AcsEndpoints) != len(before.AcsEndpoints) ||
		len(after.SPCertificate.X5C) != 0 || len(after.AssertionEncryption.X5C) != 0 {
		t.Fatalf("a refused form changed the app: %+v", after)
	}

	// A good save: encryption with a pasted certificate, SLO and signed
	// requests with an uploaded one, two more SSO URLs.
	form := url.Values{}
	for k, v := range base {
		form[k] = v
	}
	form.Set(pre+"assertionEncryption.enabled", "true")
	form.Set(pre+"assertionEncryption.encryptionAlgorithm", "AES128_GCM")
	form.Set(pre+"assertionEncryption.keyTransportAlgorithm", "RSA_OAEP")
	form.Set(pre+"assertionEncryption.x5c", string(pemOf(encCert)))
	form.Set(pre+"slo.enabled", "true")
	form.Set(pre+"slo.logoutUrl", "https://wiki.example.com/slo")
	form.Set(pre+"slo.issuer", "urn:wiki:slo")
	form.Set(pre+"samlSignedRequestEnabled", "true")
	form.Set(pre+"allowMultipleAcsEndpoints", "true")
	form.Set(pre+"acsEndpoints[0].url", "https://wiki.example.com/acs2")
	form.Set(pre+"acsEndpoints[0].index", "1")
	form.Set(pre+"acsEndpoints[1].url", "https://wiki.example.com/acs3")
	form.Set(pre+"acsEndpoints[1].index", "")
	code, loc, _ := b.submitMultipart(so, path, form, map[string][]byte{pre + "spCertificate.x5c.file": pemOf(spCert)})
	if code != 303 || loc != path+"?ok=saved" {
		t.Fatalf("good save: %d %s", code, loc)
	}
	got := stored()
	ae := got.AssertionEncryption
	if !ae.Enabled || ae.EncryptionAlgorithm != "AES128_GCM" || ae.KeyTransportAlgorithm != "RSA_OAEP" || len(ae.X5C) != 1 || ae.X5C[0] != encCert {
		t.Fatalf("assertion encryption: %+v", ae)
	}
	if !got.SLO.Enabled || got.SLO.LogoutURL != "https://wiki.example.com/slo" || got.SLO.Issuer != "urn:wiki:slo" || !got.SAMLSignedRequestEnabled ||
		len(got.SPCertificate.X5C) != 1 || got.SPCertificate.X5C[0] != spCert {
		t.Fatalf("SLO and signed requests: %+v %+v", got.SLO, got.SPCertificate)
	}
	if !got.AllowMultipleAcsEndpoints || len(got.AcsEndpoints) != 2 || got.AcsEndpoints[0] != (catalog.ACSEndpoint{URL: "https://wiki.example.com/acs2", Index: 1}) ||
		got.AcsEndpoints[1] != (catalog.ACSEndpoint{URL: "https://wiki.example.com/acs3", Index: 0}) {
		t.Fatalf("ACS endpoints: %+v", got.AcsEndpoints)
	}
	// The page shows the stored certificates; saving again with empty
	// certificate inputs keeps them; "Remove" drops one.
	so = b.page(path, 200)
	if !strings.Contains(so, "Stored encryption certificate: CN=sp") || !strings.Contains(so, "Stored signature certificate: CN=sp") {
		t.Fatal("stored certificates not described")
	}
	again := formValues(so, path)
	if code, _, _ := b.submitMultipart(so, path, again, nil); code != 303 {
		t.Fatalf("save again: %d", code)
	}
	if got := stored(); len(got.AssertionEncryption.X5C) != 1 || len(got.SPCertificate.X5C) != 1 || len(got.AcsEndpoints) != 2 {
		t.Fatalf("a plain save lost settings: %+v", got)
	}
	again.Set(pre+"assertionEncryption.enabled", "")
	again.Set(pre+"assertionEncryption.x5c.remove", "true")
	if code, _, _ := b.submitMultipart(so, path, again, nil); code != 303 {
		t.Fatalf("remove the encryption certificate: %d", code)
	}
	if got := stored(); got.AssertionEncryption.Enabled || len(got.AssertionEncryption.X5C) != 0 || len(got.SPCertificate.X5C) != 1 {
		t.Fatalf("after removing: %+v", got)
	}
	// The SP's metadata endpoints now use what was set: a signed request is
	// required (the metadata says so).
	if _, md := b.get(app.MetadataPath()); !strings.Contains(md, `WantAuthnRequestsSigned="true"`) {
		t.Fatal("metadata does not ask for signed requests")
	}
}

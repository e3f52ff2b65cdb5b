package main

import (
	"encoding/json"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"
)

// TestKeyRollover: generate the next key (published next to the active one),
// let the SP refresh metadata, switch, retire the old key. An SP that
// refreshed its metadata keeps accepting responses at every step.
func TestKeyRollover(t *testing.T) {
	ts := newTestServer(t, false)
	u := ts.createUser(t, "ro@example.com", "Secret-Passw0rd")
	appID, app := ts.newSAMLApp(t, "Rolling", "")
	ts.assign(t, appID, u.ID)
	oldKid := app["credentials"].(map[string]any)["signing"].(map[string]any)["kid"].(string)
	link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
	b := newBrowser(t, ts.srv.URL)
	b.signIn("ro@example.com", "Secret-Passw0rd", "/")
	respond := func() string {
		_, body := b.get(link)
		_, r, _ := samlPost(t, body)
		return r
	}
	stale := ts.gosamlSP(t, appID) // refreshed metadata before the rollover only
	if _, err := stale.RetrieveAssertionInfo(respond()); err != nil {
		t.Fatalf("before rollover: %v", err)
	}

	// 1. The next key is generated and published beside the active one.
	r := ts.call(t, "POST", "/api/v1/apps/"+appID+"/credentials/keys/generate?validityYears=1", ts.token, "")
	if r.status != 201 && r.status != 200 {
		t.Fatalf("generate: %d %s", r.status, r.raw)
	}
	newKid := r.body["kid"].(string)
	refreshed := ts.gosamlSP(t, appID)
	if n := len(refreshed.IDPCertificateStore.(*dsig.MemoryX509CertificateStore).Roots); n != 2 {
		t.Fatalf("metadata publishes %d certificates during rollover, want 2", n)
	}
	if _, err := refreshed.RetrieveAssertionInfo(respond()); err != nil {
		t.Fatalf("after generate: %v", err)
	}

	// 2. Switch: responses are now signed with the new key.
	app["credentials"].(map[string]any)["signing"] = map[string]any{"kid": newKid}
	r = ts.call(t, "PUT", "/api/v1/apps/"+appID, ts.token, mustJSONString(t, app))
	if r.status != 200 {
		t.Fatalf("switch key: %d %s", r.status, r.raw)
	}
	resp := respond()
	if _, err := refreshed.RetrieveAssertionInfo(resp); err != nil {
		t.Fatalf("refreshed SP rejects the new key: %v", err)
	}
	if _, err := stale.RetrieveAssertionInfo(resp); err == nil {
		t.Fatal("an SP that never saw the new certificate accepted a response signed with it")
	}

	// 3. Retire the old key: it leaves the metadata; the active key cannot be deleted.
	if r := ts.call(t, "DELETE", "/api/v1/apps/"+appID+"/credentials/keys/"+newKid, ts.token, ""); r.status < 400 {
		t.Fatalf("deleting the active key: %d", r.status)
	}
	if r := ts.call(t, "DELETE", "/api/v1/apps/"+appID+"/credentials/keys/"+oldKid, ts.token, ""); r.status != 204 {
		t.Fatalf("retire old key: %d %s", r.status, r.raw)
	}
	after := ts.gosamlSP(t, appID)
	if n := len(after.IDPCertificateStore.(*dsig.MemoryX509CertificateStore).Roots); n != 1 {
		t.Fatalf("metadata after retirement has %d certificates", n)
	}
	if _, err := refreshed.RetrieveAssertionInfo(respond()); err != nil {
		t.Fatalf("after retirement: %v", err)
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

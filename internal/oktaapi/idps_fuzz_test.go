package oktaapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeIdP feeds arbitrary /api/v1/idps bodies to the decoder: it
// never panics, never sets the sealed secret itself, and what it accepts
// renders as JSON without any client_secret member.
func FuzzDecodeIdP(f *testing.F) {
	f.Add(`{"type":"GOOGLE","name":"Google","protocol":{"type":"OIDC","scopes":["openid","email"],"credentials":{"client":{"client_id":"a","client_secret":"SECRET-1"}}},"policy":{"provisioning":{"action":"AUTO","groups":{"action":"ASSIGN","assignments":["00g1"]}},"accountLink":{"action":"AUTO","filter":{"groups":{"include":["00g2"]}}},"subject":{"userNameTemplate":{"template":"idpuser.email"},"matchType":"EMAIL"},"maxClockSkew":120000}}`)
	f.Add(`{"type":"OIDC","protocol":{"issuer":{"url":"https://op.example"},"credentials":{"client":{"client_secret":"SECRET-1"}}}}`)
	f.Add(`{"type":"LINKEDIN","protocol":{"type":"OAUTH2"},"policy":{"accountLink":{"filter":null}}}`)
	f.Add(`{"protocol":{"type":"SAML2"}}`)
	f.Add(`{"policy":{"maxClockSkew":"x"}}`)
	f.Add(`{"unknown":1}`)
	f.Add(`null`)
	f.Add(`[]`)
	h := &IdPs{API: &API{BaseURL: "https://gatehouse.example"}}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/v1/idps", strings.NewReader(body))
		p, _, err := decodeIdP(r)
		if err != nil {
			return
		}
		if p.SealedSecret != "" {
			t.Fatal("decoder set the sealed secret")
		}
		b, err := json.Marshal(h.IdPJSON(p))
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if strings.Contains(string(b), "client_secret") {
			t.Fatalf("secret rendered: %s", b)
		}
	})
}

// Package oidctest runs a small but real OpenID Connect provider on
// loopback for tests: discovery, an authorization endpoint that approves a
// configured person at once, a token endpoint that checks the client, the
// redirect URI, single use of codes and PKCE (S256), and ID tokens signed
// RS256 with a key published in its JWKS. Knobs make it misbehave the way
// real providers can (wrong audience, expired or foreign-signed tokens,
// downtime) so that the relying party's checks are exercised.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Provider is a running OpenID Connect provider.
type Provider struct {
	Server       *httptest.Server
	Issuer       string
	ClientID     string
	ClientSecret string

	key, other *rsa.PrivateKey

	mu sync.Mutex
	// User holds the claims of the person the provider signs in (sub,
	// email, email_verified, given_name, family_name, ...).
	user  map[string]any
	codes map[string]*grant
	// knobs
	audience  string
	expired   bool
	foreign   bool
	down      bool
	noIDToken bool
	nonce     string
	// Tokens counts successful token responses.
	Tokens int
}

type grant struct {
	clientID, redirect, challenge, nonce string
	user                                 map[string]any
	used                                 bool
}

// Start runs a provider whose issuer is the server URL plus path (for
// example "/oauth", the shape of LinkedIn's issuer), for one client.
func Start(path, clientID, clientSecret string, user map[string]any) *Provider {
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, user: user, codes: map[string]*grant{}}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if p.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	p.Server = httptest.NewServer(p.guard(mux))
	p.Issuer = p.Server.URL + path
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET "+path+"/authorize", p.authorize)
	mux.HandleFunc("POST "+path+"/token", p.token)
	mux.HandleFunc("GET "+path+"/jwks", p.jwks)
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.Server.Close() }

// SetUser replaces the person the provider signs in.
func (p *Provider) SetUser(claims map[string]any) { p.mu.Lock(); p.user = claims; p.mu.Unlock() }

// SetAudience makes ID tokens name another audience ("" restores).
func (p *Provider) SetAudience(aud string) { p.mu.Lock(); p.audience = aud; p.mu.Unlock() }

// SetExpired makes ID tokens already expired.
func (p *Provider) SetExpired(v bool) { p.mu.Lock(); p.expired = v; p.mu.Unlock() }

// SetForeignKey signs ID tokens with a key the JWKS does not publish.
func (p *Provider) SetForeignKey(v bool) { p.mu.Lock(); p.foreign = v; p.mu.Unlock() }

// SetDown makes every endpoint answer 503.
func (p *Provider) SetDown(v bool) { p.mu.Lock(); p.down = v; p.mu.Unlock() }

// SetNonce makes ID tokens carry this nonce instead of the requested one.
func (p *Provider) SetNonce(v string) { p.mu.Lock(); p.nonce = v; p.mu.Unlock() }

// Reset restores honest behaviour.
func (p *Provider) Reset() {
	p.mu.Lock()
	p.audience, p.expired, p.foreign, p.down, p.noIDToken, p.nonce = "", false, false, false, false, ""
	p.mu.Unlock()
}

func (p *Provider) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "given_name", "family_name", "name"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID {
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if _, err := url.Parse(redirect); err != nil || redirect == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randomString()
	p.mu.Lock()
	p.codes[code] = &grant{clientID: p.ClientID, redirect: redirect, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), user: p.user}
	p.mu.Unlock()
	u, _ := url.Parse(redirect)
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		tokenError(w, 401, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, 400, "unsupported_grant_type")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.codes[r.PostForm.Get("code")]
	if g == nil || g.used || g.redirect != r.PostForm.Get("redirect_uri") {
		tokenError(w, 400, "invalid_grant")
		return
	}
	g.used = true
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, 400, "invalid_grant")
		return
	}
	now := time.Now()
	claims := map[string]any{}
	for k, v := range g.user {
		claims[k] = v
	}
	claims["iss"] = p.Issuer
	claims["aud"] = p.ClientID
	if p.audience != "" {
		claims["aud"] = p.audience
	}
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	if p.expired {
		claims["iat"] = now.Add(-2 * time.Hour).Unix()
		claims["exp"] = now.Add(-time.Hour).Unix()
	}
	claims["nonce"] = g.nonce
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	key := p.key
	if p.foreign {
		key = p.other
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tokenError(w, 500, "server_error")
		return
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		tokenError(w, 500, "server_error")
		return
	}
	idToken, _ := obj.CompactSerialize()
	p.Tokens++
	writeJSON(w, 200, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

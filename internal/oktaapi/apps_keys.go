package oktaapi

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

func (h *Apps) mountKeys(m *Mux) {
	m.Handle("GET /api/v1/apps/{id}/credentials/keys", ReadAccess, h.listKeys)
	m.Handle("POST /api/v1/apps/{id}/credentials/keys/generate", AppAccess, h.generateKey)
	m.Handle("GET /api/v1/apps/{id}/credentials/keys/{kid}", ReadAccess, h.getKey)
	m.Handle("DELETE /api/v1/apps/{id}/credentials/keys/{kid}", AppAccess, h.deleteKey)
}

// KeyJSON renders a signing key as the JSON Web Key Okta's keys API
// returns: the certificate in x5c, its SHA-256 thumbprint, the public
// modulus and exponent, and status ACTIVE for the key in use.
func (h *Apps) KeyJSON(a *catalog.App, k *catalog.KeyRecord) map[string]any {
	sum := sha256.Sum256(k.Certificate)
	out := map[string]any{
		"kid":         k.Kid,
		"kty":         "RSA",
		"use":         "sig",
		"alg":         "RS256",
		"x5c":         []string{base64.StdEncoding.EncodeToString(k.Certificate)},
		"x5t#S256":    base64.RawURLEncoding.EncodeToString(sum[:]),
		"created":     Time(k.Created),
		"lastUpdated": Time(k.Created),
		"expiresAt":   Time(k.ExpiresAt),
		"status":      catalog.KeyStatus(a, k.Kid),
		"_links":      map[string]any{"self": h.API.Href("/api/v1/apps/%s/credentials/keys/%s", a.ID, k.Kid)},
	}
	if c, err := x509.ParseCertificate(k.Certificate); err == nil {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok {
			out["n"] = base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
			out["e"] = base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
		}
	}
	return out
}

func (h *Apps) listKeys(w http.ResponseWriter, r *http.Request) error {
	a, recs, err := h.Catalog.Keys(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(recs))
	for i, k := range recs {
		out[i] = h.KeyJSON(a, k)
	}
	return WriteJSON(w, out)
}

func (h *Apps) getKey(w http.ResponseWriter, r *http.Request) error {
	a, k, err := h.Catalog.Key(r.Context(), r.PathValue("id"), r.PathValue("kid"))
	if err != nil {
		return err
	}
	return WriteJSON(w, h.KeyJSON(a, k))
}

func (h *Apps) generateKey(w http.ResponseWriter, r *http.Request) error {
	years, err := intParam(r, "validityYears", 1)
	if err != nil {
		return err
	}
	bits, err := intParam(r, "keyBits", 0)
	if err != nil {
		return err
	}
	k, err := h.Catalog.GenerateKey(r.Context(), r.PathValue("id"), years, bits)
	if err != nil {
		return err
	}
	a, err := h.Catalog.Store.App(r.Context(), k.AppID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.API.BaseURL+"/api/v1/apps/"+a.ID+"/credentials/keys/"+k.Kid)
	return writeJSON(w, http.StatusCreated, h.KeyJSON(a, k))
}

func (h *Apps) deleteKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.Catalog.DeleteKey(r.Context(), r.PathValue("id"), r.PathValue("kid")); err != nil {
		return err
	}
	return NoContent(w)
}

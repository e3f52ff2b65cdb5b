package oktaapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Factors serves Okta's Factors API under /api/v1/users/{id}/factors:
// list, catalog, enroll, activate, verify and reset, for authenticator
// apps (token:software:totp, providers OKTA and GOOGLE) and WebAuthn.
type Factors struct {
	API *API
	MFA *mfa.Service
	// Pending keeps the one-time QR code links of enrolments.
	Pending session.Store
}

// Mount registers the routes.
func (f *Factors) Mount(m *Mux) {
	m.Handle("GET /api/v1/users/{id}/factors", ReadAccess, f.list)
	m.Handle("GET /api/v1/users/{id}/factors/catalog", ReadAccess, f.catalog)
	m.Handle("POST /api/v1/users/{id}/factors", WriteAccess, f.enroll)
	m.Handle("GET /api/v1/users/{id}/factors/{fid}", ReadAccess, f.get)
	m.Handle("DELETE /api/v1/users/{id}/factors/{fid}", WriteAccess, f.reset)
	m.Handle("POST /api/v1/users/{id}/factors/{fid}/lifecycle/activate", WriteAccess, f.activate)
	m.Handle("POST /api/v1/users/{id}/factors/{fid}/verify", WriteAccess, f.verify)
	m.Handle("POST /api/v1/users/{id}/lifecycle/reset_factors", WriteAccess, f.resetAll)
	// The QR code link is opened in a browser, without the API token:
	// its unguessable, short-lived token is the credential.
	m.mux.HandleFunc("GET /api/v1/users/{id}/factors/{fid}/qr/{token}", f.qr)
}

func link(href string, methods ...string) map[string]any {
	l := map[string]any{"href": href}
	if len(methods) > 0 {
		l["hints"] = map[string]any{"allow": methods}
	}
	return l
}

func vendorName(f *mfa.Factor) string {
	if f.Provider == mfa.ProviderGoogle {
		return "GOOGLE"
	}
	if f.Type == mfa.TypeWebAuthn {
		return "FIDO"
	}
	return "OKTA"
}

// factorJSON renders a factor as Okta does. A TOTP seed is never part of
// it; only the enrolment answer embeds the activation.
func (f *Factors) factorJSON(x *mfa.Factor, login string) map[string]any {
	base := f.API.BaseURL + "/api/v1/users/" + x.UserID + "/factors/" + x.ID
	links := map[string]any{
		"self": link(base, "GET", "DELETE"),
		"user": link(f.API.BaseURL+"/api/v1/users/"+x.UserID, "GET"),
	}
	if x.Status == mfa.Active {
		links["verify"] = link(base+"/verify", "POST")
	} else {
		links["activate"] = link(base+"/lifecycle/activate", "POST")
	}
	profile := map[string]any{}
	switch x.Type {
	case mfa.TypeTOTP:
		profile["credentialId"] = login
	case mfa.TypeWebAuthn:
		profile["authenticatorName"] = x.Name
		if x.Credential != nil {
			profile["credentialId"] = b64url(x.Credential.ID)
		}
	}
	return map[string]any{
		"id":          x.ID,
		"factorType":  string(x.Type),
		"provider":    x.Provider,
		"vendorName":  vendorName(x),
		"status":      string(x.Status),
		"created":     Time(x.Created),
		"lastUpdated": Time(x.LastUpdated),
		"profile":     profile,
		"_links":      links,
	}
}

func (f *Factors) list(w http.ResponseWriter, r *http.Request) error {
	fs, u, err := f.MFA.List(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(fs))
	for _, x := range fs {
		out = append(out, f.factorJSON(x, u.Login()))
	}
	return WriteJSON(w, out)
}

func (f *Factors) get(w http.ResponseWriter, r *http.Request) error {
	x, err := f.MFA.Get(r.Context(), r.PathValue("id"), r.PathValue("fid"))
	if err != nil {
		return err
	}
	u, err := f.API.Directory.Store.User(r.Context(), x.UserID)
	if err != nil {
		return err
	}
	return WriteJSON(w, f.factorJSON(x, u.Login()))
}

// catalog lists the factors a person can enroll, with their state.
func (f *Factors) catalog(w http.ResponseWriter, r *http.Request) error {
	fs, u, err := f.MFA.List(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	type entry struct{ typ, provider, vendor string }
	entries := []entry{{string(mfa.TypeTOTP), mfa.ProviderOkta, "OKTA"}, {string(mfa.TypeTOTP), mfa.ProviderGoogle, "GOOGLE"}}
	if f.MFA.PasskeysOn() {
		entries = append(entries, entry{string(mfa.TypeWebAuthn), mfa.ProviderFIDO, "FIDO"})
	}
	out := []map[string]any{}
	for _, e := range entries {
		status := "NOT_SETUP"
		for _, x := range fs {
			if string(x.Type) == e.typ && x.Provider == e.provider {
				if x.Status == mfa.Active || status == "NOT_SETUP" {
					status = string(x.Status)
				}
			}
		}
		out = append(out, map[string]any{
			"factorType": e.typ, "provider": e.provider, "vendorName": e.vendor, "status": status, "enrollment": "OPTIONAL",
			"_links": map[string]any{"enroll": link(f.API.BaseURL+"/api/v1/users/"+u.ID+"/factors", "POST")},
		})
	}
	return WriteJSON(w, out)
}

func enrollInvalid(field, msg string) error {
	return errs.InvalidFields("Api validation failed: factorEnrollRequest", errs.Field(field, "%s", msg))
}

func (f *Factors) enroll(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FactorType string                     `json:"factorType"`
		Provider   string                     `json:"provider"`
		Profile    map[string]json.RawMessage `json:"profile"`
	}
	if err := DecodeStrict(r, &in, []string{"factorType", "provider", "profile"}, "id", "status", "created", "lastUpdated", "vendorName", "_links", "_embedded"); err != nil {
		return err
	}
	for k := range in.Profile {
		switch k {
		case "credentialId", "authenticatorName":
		default:
			return enrollInvalid("profile."+k, "profile."+k+": Gatehouse generates the factor's secret; uploading "+k+" is not supported.")
		}
	}
	ctx := r.Context()
	switch mfa.Type(in.FactorType) {
	case mfa.TypeTOTP:
		x, enr, err := f.MFA.EnrollTOTP(ctx, r.PathValue("id"), in.Provider)
		if err != nil {
			return err
		}
		u, err := f.API.Directory.Store.User(ctx, x.UserID)
		if err != nil {
			return err
		}
		token := web.NewID(24)
		b, _ := json.Marshal(qrTicket{UserID: x.UserID, FactorID: x.ID})
		if err := f.Pending.PutPending(ctx, qrKey(token), b, *x.Expires); err != nil {
			return err
		}
		out := f.factorJSON(x, u.Login())
		out["_embedded"] = map[string]any{"activation": map[string]any{
			"timeStep":     mfa.TOTPPeriod,
			"sharedSecret": enr.SharedSecret,
			"encoding":     "base32",
			"keyLength":    mfa.TOTPDigits,
			"_links": map[string]any{"qrcode": map[string]any{
				"href": f.API.BaseURL + "/api/v1/users/" + x.UserID + "/factors/" + x.ID + "/qr/" + token, "type": "image/png"}},
		}}
		return WriteJSON(w, out)
	case mfa.TypeWebAuthn:
		return f.enrollWebAuthn(w, r, in.Provider, in.Profile)
	case "":
		return enrollInvalid("factorType", "factorType: The field cannot be left blank")
	}
	return enrollInvalid("factorType", "factorType: "+in.FactorType+" is not a factor type Gatehouse supports (token:software:totp, webauthn).")
}

type qrTicket struct {
	UserID   string `json:"userId"`
	FactorID string `json:"factorId"`
}

func qrKey(token string) string { return "factor-qr:" + session.Hash(token) }

// qr serves the QR code of a pending enrolment to whoever holds its link.
func (f *Factors) qr(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if token == "" || len(token) > 100 {
		http.NotFound(w, r)
		return
	}
	b, err := f.Pending.Pending(r.Context(), qrKey(token))
	var t qrTicket
	if err != nil || json.Unmarshal(b, &t) != nil || t.UserID != r.PathValue("id") || t.FactorID != r.PathValue("fid") {
		http.NotFound(w, r)
		return
	}
	enr, err := f.MFA.PendingTOTP(r.Context(), t.UserID, t.FactorID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	png, err := enr.QRCode(240)
	if err != nil {
		web.Logger(r.Context(), f.API.Log).Error("factor QR code", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
}

type passCodeIn struct {
	PassCode string `json:"passCode"`
	// WebAuthn activation and verification.
	Attestation       string `json:"attestation"`
	ClientData        string `json:"clientData"`
	AuthenticatorData string `json:"authenticatorData"`
	SignatureData     string `json:"signatureData"`
}

// decodePassCode reads the body of activate and verify; no body (or
// null, as SDKs send for none) is an empty request.
func decodePassCode(r *http.Request) (passCodeIn, error) {
	var in passCodeIn
	err := DecodeOptional(r, &in, []string{"passCode", "attestation", "clientData", "authenticatorData", "signatureData"}, "stateToken", "nextPassCode")
	return in, err
}

func (f *Factors) activate(w http.ResponseWriter, r *http.Request) error {
	in, err := decodePassCode(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	x, err := f.MFA.Get(ctx, r.PathValue("id"), r.PathValue("fid"))
	if err != nil {
		return err
	}
	if x.Type == mfa.TypeWebAuthn {
		return f.activateWebAuthn(w, r, x, in)
	}
	if in.PassCode == "" {
		return errs.InvalidFields("Api validation failed: passCode", errs.Field("passCode", "passCode: The field cannot be left blank"))
	}
	x, err = f.MFA.ActivateTOTP(ctx, x.UserID, x.ID, in.PassCode)
	if err != nil {
		return err
	}
	u, err := f.API.Directory.Store.User(ctx, x.UserID)
	if err != nil {
		return err
	}
	return WriteJSON(w, f.factorJSON(x, u.Login()))
}

func (f *Factors) verify(w http.ResponseWriter, r *http.Request) error {
	in, err := decodePassCode(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	x, err := f.MFA.Get(ctx, r.PathValue("id"), r.PathValue("fid"))
	if err != nil {
		return err
	}
	if x.Type == mfa.TypeWebAuthn {
		return f.verifyWebAuthn(w, r, x, in)
	}
	if in.PassCode == "" {
		return errs.InvalidFields("Api validation failed: passCode", errs.Field("passCode", "passCode: The field cannot be left blank"))
	}
	if _, err := f.MFA.VerifyTOTP(ctx, x.UserID, x.ID, in.PassCode); err != nil {
		return err
	}
	return WriteJSON(w, map[string]any{"factorResult": "SUCCESS"})
}

func (f *Factors) reset(w http.ResponseWriter, r *http.Request) error {
	if err := f.MFA.Reset(r.Context(), r.PathValue("id"), r.PathValue("fid")); err != nil {
		return err
	}
	return NoContent(w)
}

func (f *Factors) resetAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.MFA.ResetAll(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return WriteJSON(w, map[string]any{})
}

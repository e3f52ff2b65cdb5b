package oktaapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The part of Okta's Authentication API that Gatehouse serves: forgot
// password with the EMAIL factor. It needs no API token (the person calls
// it before signing in) and answers the same whether or not the username
// exists, as Okta does.

// MountAuthn registers POST /api/v1/authn/recovery/password.
func (a *API) MountAuthn(m *Mux) {
	m.Handle("POST /api/v1/authn/recovery/password", PublicAccess, a.recoverPassword)
}

func (a *API) recoverPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username   string `json:"username"`
		FactorType string `json:"factorType"`
		RelayState string `json:"relayState"`
	}
	if err := DecodeStrict(r, &in, []string{"username", "factorType", "relayState"}); err != nil {
		return err
	}
	var fe []errs.FieldError
	if strings.TrimSpace(in.Username) == "" {
		fe = append(fe, errs.Field("username", "username: required"))
	}
	switch strings.ToUpper(in.FactorType) {
	case "EMAIL":
	case "":
		fe = append(fe, errs.Field("factorType", "factorType: required; Gatehouse recovers passwords with EMAIL"))
	default:
		fe = append(fe, errs.Field("factorType", "factorType: %q is not available; Gatehouse recovers passwords with EMAIL", in.FactorType))
	}
	if len(in.RelayState) > 2048 {
		fe = append(fe, errs.Field("relayState", "relayState: at most 2048 characters"))
	}
	if a.Emails == nil || !a.Emails.Enabled() {
		fe = append(fe, errs.Field("factorType", "factorType: EMAIL recovery is not available: email delivery is not configured on this server"))
	}
	if len(fe) > 0 {
		return errs.InvalidFields("Api validation failed: recoveryRequest", fe...)
	}
	if err := a.Emails.Request(r.Context(), in.Username, web.ClientIP(r)); err != nil {
		e, ok := errs.As(err)
		switch {
		case ok && e.Kind == errs.RateLimited:
			return &errs.Error{Kind: errs.RateLimited, Code: "E0000047", Msg: "API call exceeded rate limit due to too many requests."}
		case ok && e.Kind == errs.Invalid:
			return errs.InvalidFields("Api validation failed: recoveryRequest", errs.Field("username", "username: %s", e.Msg))
		}
		// Logged, then answered like every other request.
		web.Logger(r.Context(), a.Log).Error("password recovery", "err", err)
	}
	out := map[string]any{
		"status":       "RECOVERY_CHALLENGE",
		"factorResult": "WAITING",
		"factorType":   "EMAIL",
		"recoveryType": "PASSWORD",
	}
	if in.RelayState != "" {
		out["relayState"] = in.RelayState
	}
	return WriteJSON(w, out)
}

package oktaapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
)

// Okta's classic Authentication API (primary authentication, factor
// verification, cancel, change of an expired password) and the
// cookie-authenticated /api/v1/sessions/me. The steps themselves are the
// sign-in form's (package login); this file reads Okta's requests and
// writes Okta's transaction objects.

// SignIn is what the Authentication API needs of the sign-in surface
// (login.Surface).
type SignIn interface {
	AuthnPrimary(r *http.Request, username, password, relayState string) (*login.AuthnResult, error)
	AuthnState(r *http.Request, stateToken string) (*login.AuthnResult, error)
	AuthnVerify(r *http.Request, stateToken, factorID, passCode string) (*login.AuthnResult, error)
	AuthnCancel(r *http.Request, stateToken string) (string, error)
	AuthnChangePassword(r *http.Request, stateToken, oldPassword, newPassword string) (*login.AuthnResult, error)
	AuthnEnroll(r *http.Request, stateToken, factorType, provider string) (*login.AuthnResult, error)
	AuthnActivate(r *http.Request, stateToken, factorID, passCode string) (*login.AuthnResult, error)
	// Current is the browser session of the request's cookie.
	Current(r *http.Request) (*session.Session, *directory.User, error)
	EndCurrent(w http.ResponseWriter, r *http.Request) error
}

// Authn serves the Authentication API and /api/v1/sessions/me.
type Authn struct {
	API       *API
	SignIn    SignIn
	Refresher SessionRefresher
}

// authnBodyLimit bounds an Authentication API body, as the sign-in form's.
const authnBodyLimit = 16 << 10

// Mount registers the routes (none needs an API token).
func (a *Authn) Mount(m *Mux) {
	m.Handle("POST /api/v1/authn", PublicAccess, a.primary)
	m.Handle("POST /api/v1/authn/introspect", PublicAccess, a.introspect)
	m.Handle("POST /api/v1/authn/factors/{factorId}/verify", PublicAccess, a.verify)
	m.Handle("POST /api/v1/authn/factors", PublicAccess, a.enroll)
	m.Handle("POST /api/v1/authn/factors/{factorId}/lifecycle/activate", PublicAccess, a.activate)
	m.Handle("POST /api/v1/authn/cancel", PublicAccess, a.cancel)
	m.Handle("POST /api/v1/authn/credentials/change_password", PublicAccess, a.changePassword)
	m.Handle("GET /api/v1/sessions/me", PublicAccess, a.me)
	m.Handle("DELETE /api/v1/sessions/me", PublicAccess, a.endMe)
	m.Handle("POST /api/v1/sessions/me/lifecycle/refresh", PublicAccess, a.refreshMe)
}

func (a *Authn) decode(w http.ResponseWriter, r *http.Request, dst any, allowed ...string) error {
	r.Body = http.MaxBytesReader(w, r.Body, authnBodyLimit)
	return DecodeStrict(r, dst, allowed)
}

// answer writes a transaction, or returns its error with Retry-After for
// the throttle.
func (a *Authn) answer(w http.ResponseWriter, res *login.AuthnResult, err error) error {
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.RateLimited {
			w.Header().Set("Retry-After", "60")
		}
		return err
	}
	return WriteJSON(w, a.transactionJSON(res))
}

func (a *Authn) primary(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username   *string         `json:"username"`
		Password   *string         `json:"password"`
		StateToken string          `json:"stateToken"`
		RelayState string          `json:"relayState"`
		Options    json.RawMessage `json:"options"`
		Context    json.RawMessage `json:"context"`
	}
	if err := a.decode(w, r, &in, "username", "password", "stateToken", "relayState", "options", "context", "audience"); err != nil {
		return err
	}
	if in.StateToken != "" && in.Username == nil && in.Password == nil {
		res, err := a.SignIn.AuthnState(r, in.StateToken)
		return a.answer(w, res, err)
	}
	if err := checkOptions(in.Options); err != nil {
		return err
	}
	var fe []errs.FieldError
	if in.Username == nil || strings.TrimSpace(*in.Username) == "" {
		fe = append(fe, errs.Field("username", "username: required"))
	}
	if in.Password == nil || *in.Password == "" {
		fe = append(fe, errs.Field("password", "password: required"))
	}
	if len(in.RelayState) > 2048 {
		fe = append(fe, errs.Field("relayState", "relayState: at most 2048 characters"))
	}
	if len(fe) > 0 {
		return errs.InvalidFields("Api validation failed: authRequest", fe...)
	}
	res, err := a.SignIn.AuthnPrimary(r, *in.Username, *in.Password, in.RelayState)
	return a.answer(w, res, err)
}

// checkOptions accepts Okta's options object: multiOptionalFactorEnroll
// and warnBeforePasswordExpired (booleans; Gatehouse offers no optional
// enrolment and no password warning, so neither changes the answer).
func checkOptions(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return Malformed("options: must be an object")
	}
	for k, v := range o {
		switch k {
		case "multiOptionalFactorEnroll", "warnBeforePasswordExpired":
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return Malformed("options." + k + ": must be true or false")
			}
		default:
			return Malformed("options: unrecognized field " + k)
		}
	}
	return nil
}

func (a *Authn) introspect(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken string `json:"stateToken"`
	}
	if err := a.decode(w, r, &in, "stateToken"); err != nil {
		return err
	}
	res, err := a.SignIn.AuthnState(r, in.StateToken)
	return a.answer(w, res, err)
}

func (a *Authn) verify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken string `json:"stateToken"`
		PassCode   string `json:"passCode"`
	}
	if err := a.decode(w, r, &in, "stateToken", "passCode", "answer"); err != nil {
		return err
	}
	res, err := a.SignIn.AuthnVerify(r, in.StateToken, r.PathValue("factorId"), in.PassCode)
	return a.answer(w, res, err)
}

func (a *Authn) enroll(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken string `json:"stateToken"`
		FactorType string `json:"factorType"`
		Provider   string `json:"provider"`
	}
	if err := a.decode(w, r, &in, "stateToken", "factorType", "provider", "profile"); err != nil {
		return err
	}
	res, err := a.SignIn.AuthnEnroll(r, in.StateToken, in.FactorType, in.Provider)
	return a.answer(w, res, err)
}

func (a *Authn) activate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken string `json:"stateToken"`
		PassCode   string `json:"passCode"`
	}
	if err := a.decode(w, r, &in, "stateToken", "passCode"); err != nil {
		return err
	}
	res, err := a.SignIn.AuthnActivate(r, in.StateToken, r.PathValue("factorId"), in.PassCode)
	return a.answer(w, res, err)
}

func (a *Authn) cancel(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken string `json:"stateToken"`
	}
	if err := a.decode(w, r, &in, "stateToken"); err != nil {
		return err
	}
	relay, err := a.SignIn.AuthnCancel(r, in.StateToken)
	if err != nil {
		return err
	}
	out := map[string]any{}
	if relay != "" {
		out["relayState"] = relay
	}
	return WriteJSON(w, out)
}

func (a *Authn) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		StateToken  string `json:"stateToken"`
		OldPassword string `json:"oldPassword"`
		NewPassword string `json:"newPassword"`
	}
	if err := a.decode(w, r, &in, "stateToken", "oldPassword", "newPassword"); err != nil {
		return err
	}
	res, err := a.SignIn.AuthnChangePassword(r, in.StateToken, in.OldPassword, in.NewPassword)
	return a.answer(w, res, err)
}

// noSession is Okta's answer to /api/v1/sessions/me without a session.
var noSession = &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: me (Session)"}

func (a *Authn) current(r *http.Request) (*session.Session, error) {
	sess, _, err := a.SignIn.Current(r)
	if errors.Is(err, session.ErrNoSession) {
		return nil, noSession
	}
	return sess, err
}

func (a *Authn) me(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.current(r)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.API.sessionJSON(r.Context(), sess))
}

func (a *Authn) endMe(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.current(r)
	if err != nil {
		return err
	}
	if err := a.SignIn.EndCurrent(w, r); err != nil {
		return err
	}
	a.API.logSessionEnd(r, sess.UserID)
	return NoContent(w)
}

func (a *Authn) refreshMe(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.current(r)
	if err != nil {
		return err
	}
	x, err := a.Refresher.Refresh(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.API.sessionJSON(r.Context(), x))
}

// transactionJSON is Okta's authentication transaction object.
func (a *Authn) transactionJSON(res *login.AuthnResult) map[string]any {
	out := map[string]any{"status": res.Status}
	if !res.ExpiresAt.IsZero() {
		out["expiresAt"] = Time(res.ExpiresAt)
	}
	if res.StateToken != "" {
		out["stateToken"] = res.StateToken
	}
	if res.SessionToken != "" {
		out["sessionToken"] = res.SessionToken
	}
	if res.RelayState != "" {
		out["relayState"] = res.RelayState
	}
	embedded := map[string]any{}
	if res.User != nil {
		embedded["user"] = authnUserJSON(res.User)
	}
	links := map[string]any{}
	if res.StateToken != "" {
		links["cancel"] = link(a.API.BaseURL+"/api/v1/authn/cancel", "POST")
	}
	switch res.Status {
	case login.AuthnMFARequired:
		fs := make([]map[string]any, len(res.Factors))
		for i, f := range res.Factors {
			fs[i] = a.authnFactorJSON(f, res.User)
		}
		embedded["factors"] = fs
		embedded["policy"] = map[string]any{"allowRememberDevice": false, "rememberDeviceLifetimeInMinutes": 0, "rememberDeviceByDefault": false, "factorsPolicyInfo": map[string]any{}}
	case login.AuthnMFAChallenge:
		embedded["factor"] = a.authnFactorJSON(res.Factor, res.User)
		out["factorResult"] = "CHALLENGE"
		verify := link(a.API.BaseURL+"/api/v1/authn/factors/"+res.Factor.ID+"/verify", "POST")
		links["next"] = withName(verify, "verify")
	case login.AuthnMFAEnroll:
		// What can be set up here: an authenticator app (passkeys are
		// set up in a browser, at /login).
		enroll := map[string]any{"enroll": link(a.API.BaseURL+"/api/v1/authn/factors", "POST")}
		embedded["factors"] = []map[string]any{
			{"factorType": string(mfa.TypeTOTP), "provider": mfa.ProviderOkta, "vendorName": "OKTA", "status": "NOT_SETUP", "enrollment": "REQUIRED", "_links": enroll},
			{"factorType": string(mfa.TypeTOTP), "provider": mfa.ProviderGoogle, "vendorName": "GOOGLE", "status": "NOT_SETUP", "enrollment": "REQUIRED", "_links": enroll},
		}
	case login.AuthnEnrollActivate:
		f := a.authnFactorJSON(res.Factor, res.User)
		delete(f, "_links")
		f["_embedded"] = map[string]any{"activation": map[string]any{
			"timeStep": mfa.TOTPPeriod, "sharedSecret": res.Activation.SharedSecret, "encoding": "base32", "keyLength": len(res.Activation.SharedSecret),
		}}
		embedded["factor"] = f
		out["factorResult"] = "WAITING"
		links["next"] = withName(link(a.API.BaseURL+"/api/v1/authn/factors/"+res.Factor.ID+"/lifecycle/activate", "POST"), "activate")
	case login.AuthnPasswordExpired:
		links["next"] = withName(link(a.API.BaseURL+"/api/v1/authn/credentials/change_password", "POST"), "changePassword")
	}
	if len(embedded) > 0 {
		out["_embedded"] = embedded
	}
	if len(links) > 0 {
		out["_links"] = links
	}
	return out
}

func withName(l map[string]any, name string) map[string]any {
	l["name"] = name
	return l
}

// authnUserJSON is the user of a transaction, as Okta embeds it.
func authnUserJSON(u *directory.User) map[string]any {
	str := func(k, def string) string {
		if v, ok := u.Profile[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	return map[string]any{
		"id":              u.ID,
		"passwordChanged": TimePtr(u.PasswordChanged),
		"profile": map[string]any{
			"login":     u.Login(),
			"firstName": str("firstName", ""),
			"lastName":  str("lastName", ""),
			"locale":    str("locale", "en_US"),
			"timeZone":  str("timeZone", "UTC"),
		},
	}
}

// authnFactorJSON is a factor of a transaction, with its verify link.
func (a *Authn) authnFactorJSON(f *mfa.Factor, u *directory.User) map[string]any {
	profile := map[string]any{}
	switch f.Type {
	case mfa.TypeTOTP:
		if u != nil {
			profile["credentialId"] = u.Login()
		}
	case mfa.TypeWebAuthn:
		profile["authenticatorName"] = f.Name
		if f.Credential != nil {
			profile["credentialId"] = b64url(f.Credential.ID)
		}
	}
	return map[string]any{
		"id":         f.ID,
		"factorType": string(f.Type),
		"provider":   f.Provider,
		"vendorName": vendorName(f),
		"profile":    profile,
		"_links": map[string]any{
			"verify": link(a.API.BaseURL+"/api/v1/authn/factors/"+f.ID+"/verify", "POST"),
		},
	}
}

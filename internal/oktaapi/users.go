package oktaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/recovery"
	"github.com/gatehouse/gatehouse/internal/session"
)

func (a *API) mountUsers(m *Mux) {
	m.Handle("POST /api/v1/users", WriteAccess, a.createUser)
	m.Handle("GET /api/v1/users", ReadAccess, a.listUsers)
	m.Handle("GET /api/v1/users/{id}", ReadAccess, a.getUser)
	m.Handle("POST /api/v1/users/{id}", WriteAccess, a.updateUser(false))
	m.Handle("PUT /api/v1/users/{id}", WriteAccess, a.updateUser(true))
	m.Handle("DELETE /api/v1/users/{id}", WriteAccess, a.deleteUser)
	m.Handle("POST /api/v1/users/{id}/lifecycle/{op}", WriteAccess, a.lifecycle)
	m.Handle("POST /api/v1/users/{id}/credentials/change_password", WriteAccess, a.changePassword)
	m.Handle("GET /api/v1/users/{id}/groups", ReadAccess, a.userGroups)
}

// UserJSON renders a user as Okta does.
func (a *API) UserJSON(u *directory.User) map[string]any {
	creds := map[string]any{
		"provider": map[string]any{"type": "OKTA", "name": "OKTA"},
	}
	if u.Credentials.Provider == "FEDERATION" {
		creds["provider"] = map[string]any{"type": "FEDERATION", "name": "FEDERATION"}
	}
	if u.Credentials.HasPassword() {
		creds["password"] = map[string]any{}
	}
	if u.Credentials.RecoveryQuestion != "" {
		creds["recovery_question"] = map[string]any{"question": u.Credentials.RecoveryQuestion}
	}
	profile := map[string]any{}
	for k, v := range u.Profile {
		profile[k] = v
	}
	for _, k := range []string{"login", "email", "firstName", "lastName", "mobilePhone", "secondEmail"} {
		if _, ok := profile[k]; !ok {
			profile[k] = nil
		}
	}
	links := map[string]any{"self": a.Href("/api/v1/users/%s", u.ID)}
	switch u.Status {
	case directory.Staged, directory.Deprovisioned:
		links["activate"] = a.Href("/api/v1/users/%s/lifecycle/activate", u.ID)
	case directory.Provisioned:
		links["reactivate"] = a.Href("/api/v1/users/%s/lifecycle/reactivate", u.ID)
	case directory.Active:
		links["suspend"] = a.Href("/api/v1/users/%s/lifecycle/suspend", u.ID)
		links["resetPassword"] = a.Href("/api/v1/users/%s/lifecycle/reset_password", u.ID)
		links["expirePassword"] = a.Href("/api/v1/users/%s/lifecycle/expire_password", u.ID)
		links["changePassword"] = a.Href("/api/v1/users/%s/credentials/change_password", u.ID)
	case directory.Suspended:
		links["unsuspend"] = a.Href("/api/v1/users/%s/lifecycle/unsuspend", u.ID)
	case directory.LockedOut:
		links["unlock"] = a.Href("/api/v1/users/%s/lifecycle/unlock", u.ID)
	}
	if u.Status != directory.Deprovisioned {
		links["deactivate"] = a.Href("/api/v1/users/%s/lifecycle/deactivate", u.ID)
	}
	return map[string]any{
		"id":                    u.ID,
		"status":                string(u.Status),
		"created":               Time(u.Created),
		"activated":             TimePtr(u.Activated),
		"statusChanged":         TimePtr(u.StatusChanged),
		"lastLogin":             TimePtr(u.LastLogin),
		"lastUpdated":           Time(u.LastUpdated),
		"passwordChanged":       TimePtr(u.PasswordChanged),
		"transitioningToStatus": nil,
		"type":                  map[string]any{"id": DefaultUserTypeID},
		"profile":               profile,
		"credentials":           creds,
		"_links":                links,
	}
}

type passwordIn struct {
	Value *string                  `json:"value"`
	Hash  *credential.ImportedHash `json:"hash"`
	Hook  json.RawMessage          `json:"hook"`
}

type credentialsIn struct {
	Password         *passwordIn `json:"password"`
	RecoveryQuestion *struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"recovery_question"`
	Provider json.RawMessage `json:"provider"`
}

type userIn struct {
	Profile     map[string]any  `json:"profile"`
	Credentials *credentialsIn  `json:"credentials"`
	GroupIDs    []string        `json:"groupIds"`
	Type        json.RawMessage `json:"type"`
	RealmID     json.RawMessage `json:"realmId"`
}

// checkTypeAndRealm refuses what Gatehouse does not have rather than
// ignoring it: a user type other than the one default type, and a realm.
// The default type's id (what user objects show) and a null realmId are
// accepted, so a user read and sent back is.
func (in *userIn) checkTypeAndRealm() error {
	if t := bytes.TrimSpace(in.Type); len(t) > 0 && string(t) != "null" {
		var typ struct {
			ID *string `json:"id"`
		}
		if err := json.Unmarshal(t, &typ); err != nil {
			return Malformed("type: " + jsonProblem(err))
		}
		if typ.ID != nil && *typ.ID != DefaultUserTypeID {
			return errs.InvalidFields("Api validation failed: type",
				errs.Field("type.id", "type.id: no user type has this id; the only user type is %s", DefaultUserTypeID))
		}
	}
	if t := bytes.TrimSpace(in.RealmID); len(t) > 0 && string(t) != "null" {
		return errs.InvalidFields("Api validation failed: realmId", errs.Field("realmId", "realmId: realms are not supported"))
	}
	return nil
}

// checkUpdateCredentials refuses, on an update, the credentials Gatehouse
// sets only when a user is created (an imported hash, a hook) and a
// change of the recovery question, rather than ignoring them; the
// credentials a user object shows (password {}, the provider, the
// question it has), sent back with it, are accepted.
func (a *API) checkUpdateCredentials(r *http.Request, id string, c *credentialsIn) error {
	if c == nil {
		return nil
	}
	if pw := c.Password; pw != nil && (pw.Hash != nil || pw.Hook != nil) {
		return errs.InvalidFields("Api validation failed: password",
			errs.Field("credentials.password", "credentials.password: a password hash or hook is accepted only when the user is created"))
	}
	if rq := c.RecoveryQuestion; rq != nil {
		u, err := a.Directory.Store.User(r.Context(), id)
		if err != nil {
			return err
		}
		if rq.Answer != "" || rq.Question != u.Credentials.RecoveryQuestion {
			return errs.InvalidFields("Api validation failed: recovery_question",
				errs.Field("credentials.recovery_question", "credentials.recovery_question: changing the recovery question is not supported"))
		}
	}
	return nil
}

// read-only members clients send back when replacing a user.
var userReadOnly = []string{"id", "status", "created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged", "transitioningToStatus", "_links", "_embedded"}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	activate, err := BoolParam(q, "activate", true)
	if err != nil {
		return err
	}
	provider, err := BoolParam(q, "provider", false)
	if err != nil {
		return err
	}
	// nextLogin has one value (the spec's enum): changePassword.
	if nl := q.Get("nextLogin"); nl != "" && nl != "changePassword" {
		return errs.InvalidFields("Api validation failed: nextLogin", errs.Field("nextLogin", "nextLogin: must be changePassword"))
	}
	var in userIn
	if err := DecodeStrict(r, &in, []string{"profile", "credentials", "groupIds", "type", "realmId"}); err != nil {
		return err
	}
	if in.Profile == nil {
		return errs.InvalidFields("Api validation failed: newUser", errs.Field("profile", "profile: The field cannot be left blank"))
	}
	if err := in.checkTypeAndRealm(); err != nil {
		return err
	}
	ci := directory.CreateUserInput{Profile: in.Profile, GroupIDs: in.GroupIDs, Activate: activate, Provider: provider,
		ChangePasswordAtNextLogin: q.Get("nextLogin") == "changePassword"}
	if c := in.Credentials; c != nil {
		if c.Password != nil {
			if c.Password.Hook != nil {
				return errs.InvalidFields("Api validation failed: password", errs.Field("password", "Password import inline hooks are not supported."))
			}
			if c.Password.Value != nil {
				ci.Password = *c.Password.Value
			}
			if c.Password.Hash != nil {
				if err := c.Password.Hash.Validate(); err != nil {
					return importError(err)
				}
				ci.ImportedHash = c.Password.Hash
			}
		}
		if c.RecoveryQuestion != nil {
			ci.RecoveryQuestion, ci.RecoveryAnswer = c.RecoveryQuestion.Question, c.RecoveryQuestion.Answer
		}
	}
	if ci.ChangePasswordAtNextLogin {
		// Okta's two refusals of nextLogin=changePassword, checked in
		// this order: the user must be activated, and have a password to
		// expire.
		nextLoginError := func(code, msg string) error {
			return &errs.Error{Kind: errs.Invalid, Code: code, Msg: msg, Fields: []errs.FieldError{{Message: msg}}}
		}
		if !activate {
			return nextLoginError("E0000125", "Could not create user. To create a user and expire their password immediately, `activate` must be true.")
		}
		if ci.Password == "" && ci.ImportedHash == nil {
			return nextLoginError("E0000124", "Could not create user. To create a user and expire their password immediately, a password must be specified.")
		}
	}
	u, err := a.Directory.CreateUser(r.Context(), ci)
	if err != nil {
		return policyError(err)
	}
	return WriteJSON(w, a.UserJSON(u))
}

func importError(err error) error {
	var ve *credential.ValidationError
	e := errs.InvalidFields("Api validation failed: password")
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			e.Fields = append(e.Fields, errs.Field("password.hash."+f.Field, "%s", f.Message))
		}
	} else {
		e.Fields = append(e.Fields, errs.Field("password.hash", "%s", err.Error()))
	}
	return e
}

// policyError turns a password policy failure into Okta's validation error.
func policyError(err error) error {
	var pe *credential.PolicyError
	if errors.As(err, &pe) {
		return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: password",
			Fields: []errs.FieldError{{Field: "password", Message: "password: " + pe.Error()}}}
	}
	return err
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "me" {
		// Okta's current user: for an API token, the administrator who
		// owns it. A token made by `gatehouse token create` has none, and
		// `me` then names nobody (never a person whose login is "me").
		p := PrincipalFrom(r.Context())
		if p.UserID == "" {
			return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: me (User)"}
		}
		id = p.UserID
	}
	u, err := a.Directory.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, a.UserJSON(u))
}

// UserFilterOptions are the attributes and operators Okta's `filter`
// parameter accepts on /api/v1/users.
var UserFilterOptions = filter.Options{
	Attributes: map[string]filter.OpSet{
		"status":            filter.Ops(filter.OpEq),
		"lastUpdated":       filter.Ops(filter.OpEq, filter.OpGt, filter.OpGe, filter.OpLt, filter.OpLe),
		"id":                filter.Ops(filter.OpEq),
		"profile.login":     filter.Ops(filter.OpEq),
		"profile.email":     filter.Ops(filter.OpEq),
		"profile.firstName": filter.Ops(filter.OpEq),
		"profile.lastName":  filter.Ops(filter.OpEq),
	},
}

// userSearchOps are the operators of the users list's `search`: Okta's
// eq, sw, the comparisons and pr, without ne ("The ne (not equal)
// operator isn't supported") or ew; co only on userSearchContains.
var userSearchOps = filter.AllOps &^ filter.Ops(filter.OpNe, filter.OpEw, filter.OpCo)

// userSearchContains are the attributes Okta's search takes co on.
var userSearchContains = userSearchOps | filter.Ops(filter.OpCo)

// UserSearchOptions are those of the `search` parameter: any profile
// attribute and the top-level properties.
var UserSearchOptions = filter.Options{
	Attributes: map[string]filter.OpSet{
		"id": userSearchOps, "status": userSearchOps, "created": userSearchOps, "activated": userSearchOps,
		"statusChanged": userSearchOps, "lastUpdated": userSearchOps, "lastLogin": userSearchOps,
		"passwordChanged": userSearchOps, "type.id": userSearchOps,
		"profile.firstName": userSearchContains, "profile.lastName": userSearchContains,
		"profile.email": userSearchContains, "profile.login": userSearchContains,
	},
	Prefixes: map[string]filter.OpSet{"profile.": userSearchOps},
}

func searchError(param string, err error) error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000031", Msg: "Invalid search criteria.",
		Fields: []errs.FieldError{{Field: param, Message: param + ": " + strings.TrimPrefix(err.Error(), "filter: ")}}}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	// Okta's default page is 200 users, 10 with q.
	def := 200
	if qs.Get("q") != "" {
		def = 10
	}
	limit, err := Limit(r, def, 200)
	if err != nil {
		return err
	}
	fields, err := parseUserFields(qs.Get("fields"))
	if err != nil {
		return err
	}
	q := directory.UserQuery{Q: qs.Get("q"), After: qs.Get("after"), Limit: limit + 1}
	if f := qs.Get("filter"); f != "" {
		if q.Filter, err = filter.Parse(f, UserFilterOptions); err != nil {
			return searchError("filter", err)
		}
	}
	if s := qs.Get("search"); s != "" {
		if q.Search, err = filter.Parse(s, UserSearchOptions); err != nil {
			return searchError("search", err)
		}
		// Okta sorts search results only; sortOrder is asc or desc.
		q.SortBy = qs.Get("sortBy")
		if q.SortDesc, err = sortDescending(qs); err != nil {
			return err
		}
	}
	users, err := a.Directory.Store.Users(r.Context(), q)
	if err != nil {
		return err
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		next = directory.Cursor(users[limit-1])
	}
	a.LinkHeaders(w, r, next)
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = fields.project(a.UserJSON(u))
	}
	return WriteJSON(w, out)
}

// userFields is the fields parameter of the users list (Okta's field
// projection): the top-level members to keep, and the profile attributes
// to keep when it names them with profile:(...). nil keeps everything.
type userFields struct {
	top     map[string]bool
	profile map[string]bool // nil: the whole profile (when top has it)
}

// parseUserFields reads a comma-separated list of top-level member names
// and at most one profile:(name, ...) directive, such as
// "status,profile:(firstName, city)". Names a user does not have are
// ignored; a list that does not parse is refused.
func parseUserFields(s string) (*userFields, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	bad := func(why string) error {
		return errs.InvalidFields("Api validation failed: fields", errs.Field("fields", "fields: %s", why))
	}
	f := &userFields{top: map[string]bool{}}
	rest := s
	for {
		rest = strings.TrimLeft(rest, " ")
		var item string
		if i := strings.IndexAny(rest, ",("); i >= 0 && rest[i] == '(' {
			j := strings.IndexByte(rest, ')')
			if j < i {
				return nil, bad("a ( is not closed")
			}
			item, rest = rest[:j+1], rest[j+1:]
			if t := strings.TrimLeft(rest, " "); t != "" && t[0] != ',' {
				return nil, bad("a ) must end an item")
			}
		} else if i >= 0 {
			item, rest = rest[:i], rest[i:]
		} else {
			item, rest = rest, ""
		}
		item = strings.TrimSpace(item)
		if strings.ContainsAny(item, ")") && !strings.Contains(item, "(") {
			return nil, bad("a ) is not opened")
		}
		if name, attrs, ok := strings.Cut(item, "("); ok {
			if strings.TrimSpace(name) != "profile:" {
				return nil, bad("only profile takes a list of attributes, as profile:(firstName, lastName)")
			}
			f.top["profile"] = true
			if f.profile == nil {
				f.profile = map[string]bool{}
			}
			for _, at := range strings.Split(strings.TrimSuffix(attrs, ")"), ",") {
				if at = strings.TrimSpace(at); at != "" {
					f.profile[at] = true
				}
			}
		} else if item == "" {
			return nil, bad("a name is missing")
		} else {
			f.top[item] = true
		}
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return f, nil
		}
		rest = rest[1:] // the comma
		if strings.TrimSpace(rest) == "" {
			return nil, bad("a name is missing")
		}
	}
}

// project keeps what the fields ask for of a rendered user, and its id
// always (as Okta's projection does).
func (f *userFields) project(u map[string]any) map[string]any {
	if f == nil {
		return u
	}
	out := map[string]any{"id": u["id"]}
	for k := range f.top {
		v, ok := u[k]
		if !ok {
			continue
		}
		if k == "profile" && f.profile != nil {
			full, _ := v.(map[string]any)
			p := map[string]any{}
			for at := range f.profile {
				if x, ok := full[at]; ok {
					p[at] = x
				}
			}
			v = p
		}
		out[k] = v
	}
	return out
}

func (a *API) updateUser(replace bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in userIn
		if err := DecodeStrict(r, &in, []string{"profile", "credentials", "type", "realmId"}, userReadOnly...); err != nil {
			return err
		}
		ctx := r.Context()
		id := r.PathValue("id")
		if replace && in.Profile == nil {
			return errs.InvalidFields("Api validation failed: profile", errs.Field("profile", "profile: The field cannot be left blank"))
		}
		if err := in.checkTypeAndRealm(); err != nil {
			return err
		}
		if err := a.checkUpdateCredentials(r, id, in.Credentials); err != nil {
			return err
		}
		if in.Credentials != nil && in.Credentials.Password != nil && in.Credentials.Password.Value != nil {
			// Okta's strict=true checks the password history too (Okta's
			// minimum age is always 0 here); by default an administrator's
			// password meets the complexity rules only.
			strict, err := BoolParam(r.URL.Query(), "strict", false)
			if err != nil {
				return err
			}
			// Profile and password change together, or neither does.
			var u *directory.User
			if in.Profile != nil {
				u, err = a.Directory.UpdateProfileAndPassword(ctx, id, in.Profile, replace, *in.Credentials.Password.Value, strict)
			} else {
				u, err = a.Directory.AdminSetPassword(ctx, id, *in.Credentials.Password.Value, strict)
			}
			if err != nil {
				return policyError(err)
			}
			return WriteJSON(w, a.UserJSON(u))
		}
		var u *directory.User
		var err error
		if in.Profile != nil {
			u, err = a.Directory.UpdateProfile(ctx, id, in.Profile, replace)
		} else {
			u, err = a.Directory.Store.User(ctx, id)
		}
		if err != nil {
			return err
		}
		return WriteJSON(w, a.UserJSON(u))
	}
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Directory.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (a *API) lifecycle(w http.ResponseWriter, r *http.Request) error {
	op := directory.Operation(r.PathValue("op"))
	q := r.URL.Query()
	switch op {
	case directory.OpActivate, directory.OpReactivate, directory.OpDeactivate, directory.OpSuspend,
		directory.OpUnsuspend, directory.OpUnlock, directory.OpExpirePassword, directory.OpResetPassword:
	case opExpireWithTempPassword:
		// The management API's own operation for it (Okta's
		// expirePasswordAndGetTemporaryPassword), with revokeSessions.
		return a.expireWithTempPassword(w, r, "revokeSessions")
	default:
		return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
	}
	if op == directory.OpExpirePassword {
		temp, err := BoolParam(q, "tempPassword", false)
		if err != nil {
			return err
		}
		if temp {
			// The older form of the same operation (no revokeSessions).
			return a.expireWithTempPassword(w, r, "")
		}
	}
	// sendEmail defaults to true, except for reactivate, whose default
	// is false (Okta's reactivateUser).
	sendEmail, err := BoolParam(q, "sendEmail", op != directory.OpReactivate)
	if err != nil {
		return err
	}
	revoke := false
	if op == directory.OpResetPassword {
		if revoke, err = a.revokeSessionsParam(q); err != nil {
			return err
		}
	}
	// With sendEmail=true the email job commits with the change; without
	// email delivery the change is refused rather than done silently.
	var also func(tx directory.Tx, u *directory.User) error
	email := func(kind string) func(tx directory.Tx, u *directory.User) error {
		return func(tx directory.Tx, u *directory.User) error {
			if kind == recovery.KindActivation && u.Status != directory.Provisioned {
				return nil // active at once: no link to send
			}
			if a.Emails == nil || !a.Emails.Enabled() {
				return errs.InvalidFields("Api validation failed: sendEmail",
					errs.Field("sendEmail", "sendEmail: email delivery is not configured on this server (smtp_host); use sendEmail=false to receive the link in the response"))
			}
			return a.Emails.EnqueueIn(tx, kind, u.ID)
		}
	}
	if sendEmail {
		switch op {
		case directory.OpActivate, directory.OpReactivate:
			also = email(recovery.KindActivation)
		case directory.OpResetPassword:
			also = email(recovery.KindPasswordReset)
		}
	}
	u, err := a.Directory.TransitionWith(r.Context(), r.PathValue("id"), op, also)
	if err != nil {
		return err
	}
	if revoke {
		if err := a.revokeSessions(r, u.ID); err != nil {
			return err
		}
	}
	switch op {
	case directory.OpActivate, directory.OpReactivate:
		if !sendEmail && u.Status == directory.Provisioned && a.OneTime != nil {
			tok, err := a.OneTime.Issue(r.Context(), session.PurposeActivation, u.ID, recovery.DefaultActivationTTL)
			if err != nil {
				return err
			}
			return WriteJSON(w, map[string]any{"activationToken": tok, "activationUrl": a.BaseURL + recovery.ActivationPath + tok})
		}
		return WriteJSON(w, map[string]any{})
	case directory.OpExpirePassword:
		return WriteJSON(w, a.UserJSON(u))
	case directory.OpResetPassword:
		if !sendEmail && a.OneTime != nil {
			ttl := a.ResetTTL
			if ttl <= 0 {
				ttl = time.Hour
			}
			tok, err := a.OneTime.Issue(r.Context(), session.PurposeReset, u.ID, ttl)
			if err != nil {
				return err
			}
			return WriteJSON(w, map[string]any{"resetPasswordUrl": a.BaseURL + recovery.ResetPath + tok})
		}
		return WriteJSON(w, map[string]any{})
	}
	return WriteJSON(w, map[string]any{})
}

// opExpireWithTempPassword is Okta's expire_password_with_temp_password.
const opExpireWithTempPassword = "expire_password_with_temp_password"

// expireWithTempPassword expires the password and answers the temporary
// one ({"tempPassword": ...}). revokeParam names the query parameter that
// asks to end the person's sessions too ("" when the form has none).
func (a *API) expireWithTempPassword(w http.ResponseWriter, r *http.Request, revokeParam string) error {
	revoke := false
	if revokeParam != "" {
		var err error
		if revoke, err = a.revokeSessionsParam(r.URL.Query()); err != nil {
			return err
		}
	}
	u, pw, err := a.Directory.ExpireWithTempPassword(r.Context(), r.PathValue("id"))
	if err != nil {
		return policyError(err)
	}
	if revoke {
		if err := a.revokeSessions(r, u.ID); err != nil {
			return err
		}
	}
	return WriteJSON(w, map[string]any{"tempPassword": pw})
}

// revokeSessionsParam reads Okta's revokeSessions query parameter
// (default false); true is refused, before anything changes, when this
// API has no session store to end sessions in.
func (a *API) revokeSessionsParam(q url.Values) (bool, error) {
	revoke, err := BoolParam(q, "revokeSessions", false)
	if err != nil {
		return false, err
	}
	if revoke && a.UserSessions == nil {
		return false, errs.InvalidFields("Api validation failed: revokeSessions",
			errs.Field("revokeSessions", "revokeSessions: sessions cannot be revoked on this server"))
	}
	return revoke, nil
}

// revokeSessions ends every sign-in session of a person (after the change
// that asked for it committed) and logs it as DELETE
// /api/v1/users/{id}/sessions does.
func (a *API) revokeSessions(r *http.Request, userID string) error {
	if _, err := a.UserSessions.DeleteUserSessions(r.Context(), userID); err != nil {
		return err
	}
	a.logSessionEnd(r, userID)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		OldPassword struct {
			Value string `json:"value"`
		} `json:"oldPassword"`
		NewPassword struct {
			Value string `json:"value"`
		} `json:"newPassword"`
		RevokeSessions bool `json:"revokeSessions"`
	}
	if err := DecodeStrict(r, &in, []string{"oldPassword", "newPassword", "revokeSessions"}); err != nil {
		return err
	}
	if in.RevokeSessions && a.UserSessions == nil {
		return errs.InvalidFields("Api validation failed: revokeSessions",
			errs.Field("revokeSessions", "revokeSessions: sessions cannot be revoked on this server"))
	}
	u, err := a.Directory.ChangePassword(r.Context(), r.PathValue("id"), in.OldPassword.Value, in.NewPassword.Value)
	if err != nil {
		return policyError(err)
	}
	// Okta keeps the caller's own session; an API token has none, so
	// every session of the person ends.
	if in.RevokeSessions {
		if err := a.revokeSessions(r, u.ID); err != nil {
			return err
		}
	}
	return WriteJSON(w, map[string]any{
		"password": map[string]any{},
		"provider": map[string]any{"type": "OKTA", "name": "OKTA"},
		"_links":   map[string]any{"self": a.Href("/api/v1/users/%s", u.ID)},
	})
}

// userGroups lists a person's groups in id order, paged as Okta's
// listUserGroups is: limit 1 to 200 (default 20) and after.
func (a *API) userGroups(w http.ResponseWriter, r *http.Request) error {
	u, err := a.Directory.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, err := Limit(r, 20, 200)
	if err != nil {
		return err
	}
	all, err := a.Directory.Store.UserGroups(r.Context(), u.ID)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	gs := make([]*directory.Group, 0, min(len(all), limit))
	next := ""
	for _, g := range all {
		if g.ID <= after {
			continue
		}
		if len(gs) == limit {
			next = gs[limit-1].ID
			break
		}
		gs = append(gs, g)
	}
	a.LinkHeaders(w, r, next)
	out := make([]map[string]any, len(gs))
	for i, g := range gs {
		out[i] = a.GroupJSON(g)
	}
	return WriteJSON(w, out)
}

// sortDescending reads sortOrder: asc (the default) or desc.
func sortDescending(qs url.Values) (bool, error) {
	switch strings.ToLower(qs.Get("sortOrder")) {
	case "", "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, errs.InvalidFields("Api validation failed: sortOrder", errs.Field("sortOrder", "sortOrder: must be asc or desc"))
}

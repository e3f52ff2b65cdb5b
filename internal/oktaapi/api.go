// Package oktaapi serves Gatehouse's management API under /api/v1 in the
// shape of Okta's: the same paths, JSON objects, SSWS token
// authentication, Link-header pagination, rate-limit headers and error
// objects, so that the official Okta SDKs and existing scripts work
// against it.
package oktaapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Admin roles, as Okta names them.
const (
	RoleSuperAdmin    = adminrole.SuperAdmin
	RoleReadOnlyAdmin = adminrole.ReadOnlyAdmin
	RoleAppAdmin      = adminrole.AppAdmin
)

// Tokens is what the API needs of the token store.
type Tokens interface {
	ByHash(ctx context.Context, hash string) (*sqlstore.APIToken, error)
	Get(ctx context.Context, id string) (*sqlstore.APIToken, error)
	List(ctx context.Context) ([]*sqlstore.APIToken, error)
	Create(ctx context.Context, t *sqlstore.APIToken, ev audit.Event) error
	Revoke(ctx context.Context, id string, at time.Time, ev audit.Event) error
	Touch(ctx context.Context, id string, at time.Time) error
}

// Events is what the API needs of the system log.
type Events interface {
	Query(ctx context.Context, q audit.Query) ([]audit.Event, string, error)
}

// API serves /api/v1.
type API struct {
	Directory *directory.Service
	Tokens    Tokens
	// Admins holds the administrator roles: the role assignment API, and
	// the roles a token's owner holds now (a token never does more than
	// its owner may; nil refuses every token that has an owner).
	Admins       *adminrole.Service
	Events       Events
	BaseURL      string
	Now          func() time.Time
	IDs          *ids.Source
	Log          *slog.Logger
	Limiter      *Limiter
	MaxBodyBytes int64
	// TokenWindow is how long an unused API token stays valid; each use
	// extends it (Okta's tokenWindow, 30 days). Zero: tokens never expire.
	TokenWindow time.Duration
	// OneTime issues activation and password-reset links.
	OneTime *session.OneTime
	// ResetTTL is the lifetime of a reset link returned with
	// sendEmail=false (one hour when zero).
	ResetTTL time.Duration
	// Emails sends activation and reset links (sendEmail=true) and serves
	// the Authentication API's password recovery; nil means no email.
	Emails Emails
	// UserSessions ends a person's sign-in sessions for the operations
	// that take revokeSessions; nil refuses revokeSessions=true.
	UserSessions interface {
		DeleteUserSessions(ctx context.Context, userID string) (int, error)
	}
	// GroupApps counts the app assignments of groups for the groups API's
	// expand=stats (appsCount); nil counts none.
	GroupApps GroupAppCounter
	// Extra mounts further /api/v1 routes (apps, idps, ...) with the same
	// authentication, error rendering and limits.
	Extra []func(m *Mux)

	// groupSubs are the handlers of GET /api/v1/groups/{id}/<name>.
	groupSubs map[string]HandlerFunc
}

// Emails enqueues the emails of package recovery.
type Emails interface {
	Enabled() bool
	// EnqueueIn enqueues an email job of kind in tx, the transaction of
	// the lifecycle change that asks for it.
	EnqueueIn(tx any, kind, userID string) error
	Request(ctx context.Context, identifier, ip string) error
}

// Principal is the authenticated caller.
type Principal struct {
	TokenID string
	UserID  string
	Role    string
}

type principalKey struct{}

// PrincipalFrom returns the caller of an authenticated request.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// HandlerFunc is an API handler that returns its error for the adapter to
// render in Okta's shape.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Access is what a route requires of the caller.
type Access int

// Access levels.
const (
	ReadAccess  Access = iota // any admin
	AppAccess                 // super admin or app admin
	WriteAccess               // super admin
	// PublicAccess needs no token: Okta's Authentication API, which the
	// person calls before signing in.
	PublicAccess
)

// Mux registers API routes.
type Mux struct {
	api *API
	mux *http.ServeMux
}

// Handle registers a route with the access it needs.
func (m *Mux) Handle(pattern string, access Access, h HandlerFunc) {
	m.mux.Handle(pattern, m.api.wrap(access, h))
}

// Mount registers the API on mux.
func (a *API) Mount(mux *http.ServeMux) {
	m := &Mux{api: a, mux: mux}
	a.mountUsers(m)
	a.mountGroups(m)
	a.mountLogs(m)
	a.mountTokens(m)
	a.mountSchema(m)
	a.mountRoles(m)
	for _, f := range a.Extra {
		f(m)
	}
	mux.Handle("/api/v1/", a.wrap(ReadAccess, func(w http.ResponseWriter, r *http.Request) error {
		if allow := otherMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000022", Msg: "The endpoint does not support the provided HTTP method"}
		}
		return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
	}))
}

// Guard answers Okta's 404 E0000008 for a /api/v1/ path that is not
// clean (an empty segment, such as an empty id in /api/v1/users//groups,
// or a . or .. segment): ServeMux would redirect it to another path, which
// names another resource (/api/v1/users/groups), while Okta answers 404.
func (a *API) Guard(next http.Handler) http.Handler {
	notFound := a.PathNotFound()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/api/v1/") && !cleanPath(p) {
			notFound.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath reports whether ServeMux takes p as it is: path.Clean leaves
// it alone, but for a trailing slash.
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// PathNotFound answers every request with Okta's 404 E0000008: what a
// listener that does not serve the management API says.
func (a *API) PathNotFound() http.Handler {
	return a.wrap(PublicAccess, func(w http.ResponseWriter, r *http.Request) error {
		return &errs.Error{Kind: errs.NotFound, Code: "E0000008", Msg: "The requested path was not found"}
	})
}

// IsManagement reports whether a path belongs to the token-authenticated
// management API, as opposed to Okta's Authentication API (/api/v1/authn),
// which people call before they sign in, and the browser's own session
// (/api/v1/sessions/me, authenticated by its cookie).
func IsManagement(path string) bool {
	for _, public := range []string{"/api/v1/authn", "/api/v1/sessions/me"} {
		if path == public || strings.HasPrefix(path, public+"/") {
			return false
		}
	}
	return strings.HasPrefix(path, "/api/v1/")
}

// otherMethods lists the methods an API path does have when the request's
// method has no route there (Okta answers 405 E0000022, not 404).
func otherMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/api/v1/" {
			allow = append(allow, m)
		}
	}
	return allow
}

func allowed(role string, access Access, method string) bool {
	switch role {
	case RoleSuperAdmin:
		return true
	case RoleAppAdmin:
		return access == AppAccess || method == http.MethodGet || method == http.MethodHead
	case RoleReadOnlyAdmin:
		return method == http.MethodGet || method == http.MethodHead
	}
	return false
}

// HashToken is how API token values are stored.
func HashToken(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

func (a *API) wrap(access Access, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache, no-store")
		err := a.serve(access, h, w, r)
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

func (a *API) serve(access Access, h HandlerFunc, w http.ResponseWriter, r *http.Request) error {
	if err := checkURLText(r); err != nil {
		return err
	}
	if access == PublicAccess {
		ctx := audit.WithRequest(r.Context(), audit.Request{
			Actor:         audit.Actor{ID: "unknown", Type: "User", AlternateID: "unknown", DisplayName: "unknown"},
			Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
			TransactionID: web.RequestID(r.Context()),
		})
		if r.Body != nil && a.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, a.MaxBodyBytes)
		}
		return h(w, r.WithContext(ctx))
	}
	auth := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "SSWS") || strings.TrimSpace(value) == "" {
		return &errs.Error{Kind: errs.Unauthorized, Code: "E0000011", Msg: "Invalid token provided"}
	}
	tok, err := a.Tokens.ByHash(r.Context(), HashToken(strings.TrimSpace(value)))
	now := a.Now()
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			return &errs.Error{Kind: errs.Unauthorized, Code: "E0000011", Msg: "Invalid token provided"}
		}
		return err
	}
	if exp := a.tokenExpiry(tok); tok.Revoked != nil || (exp != nil && now.After(*exp)) {
		return &errs.Error{Kind: errs.Unauthorized, Code: "E0000011", Msg: "Invalid token provided"}
	}
	if a.Limiter != nil {
		limit, remaining, reset, ok := a.Limiter.Take(tok.ID, now)
		h := w.Header()
		h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
		if !ok {
			return &errs.Error{Kind: errs.RateLimited, Code: "E0000047", Msg: "API call exceeded rate limit due to too many requests."}
		}
	}
	role, err := a.tokenRole(r.Context(), tok)
	if err != nil {
		return err
	}
	if !allowed(role, access, r.Method) {
		return &errs.Error{Kind: errs.Forbidden, Code: "E0000006", Msg: "You do not have permission to perform the requested action"}
	}
	_ = a.Tokens.Touch(r.Context(), tok.ID, now)
	ctx := context.WithValue(r.Context(), principalKey{}, Principal{TokenID: tok.ID, UserID: tok.UserID, Role: role})
	actor := audit.Actor{ID: tok.UserID, Type: "User", AlternateID: "api-token:" + tok.Name, DisplayName: tok.Name}
	if tok.UserID == "" {
		actor = audit.Actor{ID: tok.ID, Type: "PublicClientApp", AlternateID: "api-token:" + tok.Name, DisplayName: tok.Name}
	}
	ctx = audit.WithRequest(ctx, audit.Request{
		Actor:         actor,
		Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
		TransactionID: web.RequestID(r.Context()),
	})
	if r.Body != nil && a.MaxBodyBytes > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, a.MaxBodyBytes)
	}
	return h(w, r.WithContext(ctx))
}

// tokenRole is what a token may do now: its own role, but never more than
// its owner's highest role at this moment, so that a person who loses a
// role loses it on their tokens at once (and one who holds no role any
// more, or is suspended or deactivated, has tokens that can do nothing). A token without an owner (made
// by `gatehouse token create`) has its own role.
func (a *API) tokenRole(ctx context.Context, tok *sqlstore.APIToken) (string, error) {
	if tok.UserID == "" {
		return tok.Role, nil
	}
	if a.Admins == nil {
		return "", nil
	}
	owner, err := a.Admins.ActingRole(ctx, tok.UserID)
	if err != nil {
		return "", err
	}
	if adminrole.Rank(owner) < adminrole.Rank(tok.Role) {
		return owner, nil
	}
	return tok.Role, nil
}

// errorBody is Okta's error object.
type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

var codeStatus = map[string]int{
	"E0000001": 400, "E0000003": 400, "E0000004": 401, "E0000005": 403, "E0000006": 403,
	"E0000007": 404, "E0000008": 404, "E0000009": 500, "E0000011": 401, "E0000014": 403,
	"E0000015": 401, "E0000016": 403, "E0000022": 405, "E0000031": 400, "E0000032": 403,
	"E0000038": 403, "E0000047": 429, "E0000054": 400, "E0000112": 409, "E0000013": 409,
	"E0000074": 400, "E0000002": 400, "E0000030": 400,
	"E0000090": 409, "E0000091": 400,
	"E0000046": 403, "E0000056": 403, "E0000068": 403, "E0000069": 403, "E0000079": 403,
}

var kindCode = map[errs.Kind]string{
	errs.Invalid: "E0000001", errs.NotFound: "E0000007", errs.Conflict: "E0000001",
	errs.Forbidden: "E0000006", errs.Unauthorized: "E0000011", errs.IllegalState: "E0000038",
	errs.TooLarge: "E0000003", errs.RateLimited: "E0000047", errs.Unavailable: "E0000009",
	errs.Internal: "E0000009",
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &errs.Error{Kind: errs.TooLarge, Code: "E0000003", Msg: fmt.Sprintf("The request body was not well-formed. The body is larger than %d bytes.", mbe.Limit)}
	}
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		web.Logger(r.Context(), a.Log).Error("api error", "err", err)
		e = &errs.Error{Kind: errs.Internal, Msg: "Internal Server Error"}
	}
	code := e.Code
	if code == "" {
		code = kindCode[e.Kind]
	}
	status := codeStatus[code]
	if status == 0 {
		status = 400
	}
	switch e.Kind {
	case errs.TooLarge:
		status = http.StatusRequestEntityTooLarge
	case errs.Conflict:
		if e.Code == "" {
			status = http.StatusConflict
		}
	}
	body := errorBody{ErrorCode: code, ErrorSummary: e.Msg, ErrorLink: code, ErrorID: "oae" + web.NewID(16), ErrorCauses: []errorCause{}}
	if body.ErrorSummary == "" {
		body.ErrorSummary = e.Kind.String()
	}
	for _, f := range e.Fields {
		msg := f.Message
		// Okta's causes read "field: message"; keep messages that already
		// name their field as they are.
		if f.Field != "" && !strings.Contains(msg, f.Field) {
			msg = f.Field + ": " + msg
		}
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: msg})
	}
	if e.Kind == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `SSWS realm="Gatehouse"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteJSON writes v with status 200.
func WriteJSON(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusOK, v) }

// NoContent answers 204.
func NoContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Malformed is the error for a body that is not the JSON expected.
func Malformed(detail string) error {
	e := &errs.Error{Kind: errs.Invalid, Code: "E0000003", Msg: "The request body was not well-formed."}
	if detail != "" {
		e.Fields = []errs.FieldError{{Field: "body", Message: detail}}
	}
	return e
}

// DecodeStrict decodes a JSON object body into dst after checking that its
// top-level members are all in allowed (members in ignored are accepted and
// dropped). An empty allowed list accepts any members.
func DecodeStrict(r *http.Request, dst any, allowed []string, ignored ...string) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeObject(b, dst, allowed, ignored)
}

// DecodeOptional decodes an optional JSON object body as DecodeStrict
// does; an empty body or JSON null (what the SDKs send for an optional
// body left unset) is no body, and dst is left as it is.
func DecodeOptional(r *http.Request, dst any, allowed []string, ignored ...string) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || string(t) == "null" {
		return nil
	}
	return decodeObject(b, dst, allowed, ignored)
}

// readBody reads the request body; a body over the server's limit keeps
// its *http.MaxBytesError, any other failure is a malformed request.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, Malformed("")
	}
	return b, nil
}

func decodeObject(b []byte, dst any, allowed, ignored []string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Malformed(jsonProblem(err))
	}
	if raw == nil {
		return Malformed("the body must be a JSON object")
	}
	if allowed != nil {
		ok := map[string]bool{}
		for _, k := range allowed {
			ok[k] = true
		}
		for _, k := range ignored {
			ok[k] = true
		}
		for k := range raw {
			if !ok[k] {
				return Malformed(fmt.Sprintf("Unrecognized field %q", k))
			}
		}
	}
	if err := checkBodyText(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return Malformed(jsonProblem(err))
	}
	return nil
}

// nulMessage is what text holding U+0000 gets: no stored value may hold
// it (PostgreSQL refuses it in text and jsonb), so it is refused at the
// door, beside its field.
const nulMessage = "must not contain the NUL character (U+0000)"

// checkURLText refuses NUL and invalid UTF-8 in the path and the query:
// a path naming such a resource names none (404), a parameter holding
// such text is invalid (400, beside the parameter).
func checkURLText(r *http.Request) error {
	if p := r.URL.Path; strings.ContainsRune(p, 0) || !utf8.ValidString(p) {
		return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found"}
	}
	q := r.URL.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) || !utf8.ValidString(k) || !utf8.ValidString(v) {
				return errs.InvalidFields("Api validation failed: "+k, errs.Field(k, "%s: %s and must be valid UTF-8", k, nulMessage))
			}
		}
	}
	return nil
}

// checkBodyText refuses a JSON body in which any member name or string
// value holds U+0000 (written \u0000), naming the first such field.
func checkBodyText(b []byte) error {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return nil // the only way JSON text can carry U+0000
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return Malformed(jsonProblem(err))
	}
	if field := nulField(v, ""); field != "" {
		return errs.InvalidFields("Api validation failed: "+field, errs.Field(field, "%s: %s", field, nulMessage))
	}
	return nil
}

// nulField returns the dotted path of the first member name or string
// holding U+0000 in a decoded JSON value, or "".
func nulField(v any, at string) string {
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return at
		}
	case []any:
		for i, e := range x {
			if f := nulField(e, fmt.Sprintf("%s[%d]", at, i)); f != "" {
				return f
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if strings.ContainsRune(k, 0) {
				return join(strings.ReplaceAll(k, "\x00", "\uFFFD"))
			}
			if f := nulField(x[k], join(k)); f != "" {
				return f
			}
		}
	}
	return ""
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: expected %s, got %s", te.Field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	}
	return "invalid JSON"
}

// Limit parses the limit parameter: def when absent, an error outside 1..max.
func Limit(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: limit",
			Fields: []errs.FieldError{{Field: "limit", Message: fmt.Sprintf("limit: must be a number between 1 and %d", max)}}}
	}
	return n, nil
}

// LinkHeaders writes Okta's self and next links for a list, carrying the
// request's query parameters into the next page.
func (a *API) LinkHeaders(w http.ResponseWriter, r *http.Request, next string) {
	self := a.BaseURL + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		w.Header().Add("Link", "<"+a.BaseURL+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
}

// Href builds an absolute link.
func (a *API) Href(path string, args ...any) map[string]any {
	return map[string]any{"href": a.BaseURL + fmt.Sprintf(path, args...)}
}

// Time renders a timestamp as Okta does.
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// TimePtr renders an optional timestamp (null when absent).
func TimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Time(*t)
}

// Expands returns the values of the expand query parameter, which Okta
// takes comma-separated (and repeated). Values a resource does not know are
// ignored, as Okta's spec lists no 400 for them.
func Expands(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["expand"] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out[part] = true
			}
		}
	}
	return out
}

// BoolParam parses an optional boolean query parameter.
func BoolParam(q url.Values, name string, def bool) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: " + name,
			Fields: []errs.FieldError{{Field: name, Message: name + ": must be true or false"}}}
	}
	return b, nil
}

package oktaapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/web"
)

// OriginChecker reports whether an origin is an ACTIVE trusted origin with
// a scope type (trustedorigin.Cache).
type OriginChecker interface {
	Allows(ctx context.Context, origin, scope string) (bool, error)
}

// CORS paths: the endpoints Okta marks as CORS-enabled that Gatehouse
// serves to browsers, the Authentication API and the browser's own
// session. The management API (SSWS tokens), the console and the forms are
// never CORS-enabled.
var corsPrefixes = []string{"/api/v1/authn", "/api/v1/sessions/me"}

// CORSAllowHeaders are the request headers a trusted page may send: those
// okta-auth-js sends. Authorization is not among them: Okta refuses CORS
// for API tokens.
const CORSAllowHeaders = "Accept, Content-Type, X-Okta-User-Agent-Extended, X-Requested-With, X-Device-Fingerprint"

// CORSAllowMethods are the methods of the CORS-enabled endpoints.
const CORSAllowMethods = "GET, POST, DELETE, OPTIONS"

// CORSExposeHeaders are the response headers a trusted page may read.
const CORSExposeHeaders = "X-Okta-Request-Id, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset, Retry-After"

// IsCORSPath reports whether a path is CORS-enabled.
func IsCORSPath(path string) bool {
	for _, p := range corsPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// CORS answers browsers' cross-origin requests to the CORS-enabled paths:
// for an Origin that is an ACTIVE trusted origin with the CORS scope, a
// preflight (OPTIONS with Access-Control-Request-Method) is answered 204
// with the allowed methods and headers, and every other request gets
// Access-Control-Allow-Origin (the origin), Access-Control-Allow-Credentials
// and the exposed headers. A preflight from any other origin, or one that
// asks to send Authorization, is refused (403, no allow headers); a
// request from another origin, or with an SSWS token, gets no CORS
// headers, so the browser keeps the answer from the page. Requests without
// an Origin header (CLI tools, same-origin GETs) cost nothing.
func CORS(next http.Handler, origins OriginChecker, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !IsCORSPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		trusted := false
		if origin != "" && origin != "null" {
			ok, err := origins.Allows(r.Context(), origin, trustedorigin.CORS)
			if err != nil {
				web.Logger(r.Context(), log).Warn("trusted origins: lookup failed; no CORS headers", "err", err)
			}
			trusted = ok && err == nil
		}
		if preflight {
			if !trusted || asksFor(r.Header.Get("Access-Control-Request-Headers"), "authorization") ||
				!asksFor(CORSAllowMethods, r.Header.Get("Access-Control-Request-Method")) {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", CORSAllowMethods)
			h.Set("Access-Control-Allow-Headers", CORSAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if trusted && !hasSSWS(r) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", CORSExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

func hasSSWS(r *http.Request) bool {
	scheme, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return strings.EqualFold(scheme, "SSWS")
}

// asksFor reports whether a comma-separated header list names h.
func asksFor(list, h string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(x), h) {
			return true
		}
	}
	return false
}

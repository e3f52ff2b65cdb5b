package sso

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/samlidp"
)

// slo handles an SP-initiated LogoutRequest (HTTP-Redirect or HTTP-POST):
// it ends the person's Gatehouse session and answers with a signed
// LogoutResponse through the same binding.
func (s *Surface) slo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.appByPath(ctx, r.PathValue("name"), r.PathValue("key"))
	if err != nil {
		s.page(w, r, http.StatusNotFound, "App not found", "This sign-out address does not belong to any application.")
		return
	}
	in := s.intake(a)
	var req *samlidp.LogoutRequest
	var sp *samlidp.ServiceProvider
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 512<<10)
		if err := r.ParseForm(); err != nil {
			s.page(w, r, http.StatusBadRequest, "Sign-out request refused", "The sign-out request is too large or malformed.")
			return
		}
		req, sp, err = in.ParsePostLogoutRequest(r.PostForm)
	} else {
		req, sp, err = in.ParseRedirectLogoutRequest(r.URL.RawQuery)
	}
	if err == nil && !sp.SLO.Enabled {
		err = errors.New("single logout is not enabled for this app")
	}
	if err != nil {
		s.refuse(ctx, a, "", err)
		s.page(w, r, http.StatusBadRequest, "Sign-out request refused", requestProblem(err))
		return
	}
	if req.Signed {
		fresh, err := s.Sessions.Remember(ctx, replayKey("logout", a, req.ReplayKey()), req.ReplayExpiresAt)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !fresh {
			s.page(w, r, http.StatusBadRequest, "Sign-out request refused", "This sign-out request was already used.")
			return
		}
	}
	// End the browser's session, and any session the request names.
	if c, err := r.Cookie(s.Login.CookieName()); err == nil {
		if sess, err := s.Login.Sessions.Check(ctx, c.Value); err == nil {
			_ = s.Login.Sessions.End(ctx, c.Value)
			ev := s.Events.New(ctx, "user.session.end", "User logout from Okta", audit.Success, audit.AppTarget(a.ID, a.Name, a.Label),
				audit.Target{ID: sess.UserID, Type: "User"})
			_ = s.Log.Append(ctx, ev)
		}
	}
	// Sessions named by SessionIndex (other browsers of the person) end
	// only when the SP has authenticated the request by signing it
	// (saml-profiles 4.4.4.1), and only if each is a session of the
	// person the NameID names at this app (saml-core 3.7.3.2): an unsigned
	// request, or one naming another person's session, cannot end it.
	if req.Signed {
		for _, idx := range req.SessionIndexes {
			x, err := s.Sessions.SessionByID(ctx, idx)
			if err != nil || !s.isNameIDOf(ctx, a, x.UserID, req.NameID) {
				continue
			}
			if err := s.Sessions.DeleteSessionByID(ctx, x.ID); err == nil {
				ev := s.Events.New(ctx, "user.session.end", "User logout from Okta", audit.Success, audit.AppTarget(a.ID, a.Name, a.Label),
					audit.Target{ID: x.UserID, Type: "User"})
				_ = s.Log.Append(ctx, ev)
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.Login.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: !s.loopback(), SameSite: http.SameSiteLaxMode})
	idp, err := s.idp(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := samlidp.LogoutResponseInput{SP: sp, InResponseTo: req.ID}
	if req.Binding == samlidp.BindingHTTPRedirect {
		u, err := idp.LogoutResponseRedirectURL(out, req.RelayState)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	xml, target, err := idp.BuildLogoutResponse(out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.post(w, r, target, "SAMLResponse", xml, req.RelayState)
}

// isNameIDOf reports whether nameID is the NameID the app's assertions
// give the person userID (who must still be assigned to the app).
func (s *Surface) isNameIDOf(ctx context.Context, a *catalog.App, userID, nameID string) bool {
	u, err := s.Directory.Store.User(ctx, userID)
	if err != nil {
		return false
	}
	asg, err := s.Catalog.AssignmentOf(ctx, a, u)
	if err != nil {
		return false
	}
	groups, err := s.Directory.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return false
	}
	env, _ := s.expressionEnv(a, u, asg, groups)
	got, err := s.nameID(a, asg, env)
	return err == nil && got == nameID
}

package trustedorigin

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Service manages trusted origins: Okta's Trusted Origins API.
type Service struct {
	Store  Store
	IDs    *ids.Source
	Now    func() time.Time
	Events audit.Builder
}

// Scope is one scope of a request.
type Scope struct {
	Type            string
	AllowedOktaApps []string
}

// Input is an origin as a create or replace request states it.
type Input struct {
	Name   string
	Origin string
	Scopes []Scope
}

// Schemes are the origin schemes Okta documents for trusted origins:
// HTTP, HTTPS, FTP, Ionic 2 (ionic://) and Capacitor (capacitor://).
var Schemes = []string{"http", "https", "ftp", "ionic", "capacitor"}

const validationFailed = "Api validation failed: trustedOrigin"

// NormalizeOrigin checks that raw is an origin, scheme://host[:port] with
// one of Schemes, no user info, path (but a lone "/"), query or fragment,
// and returns it with its scheme and host in lower case and without the
// scheme's default port (the form a browser's Origin header has). The
// message says what is wrong otherwise.
func NormalizeOrigin(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "origin: required"
	}
	if len(raw) > 1024 || strings.ContainsAny(raw, " \t\r\n\\\x00") {
		return "", "origin: must be a URL of the form scheme://host[:port]"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return "", "origin: must be a URL of the form scheme://host[:port]"
	}
	scheme := strings.ToLower(u.Scheme)
	if !slices.Contains(Schemes, scheme) {
		return "", "origin: the scheme must be http, https, ftp, ionic or capacitor"
	}
	switch {
	case u.User != nil:
		return "", "origin: must not hold a user name or password"
	case u.Path != "" && u.Path != "/":
		return "", "origin: must not have a path"
	case u.RawQuery != "" || u.ForceQuery:
		return "", "origin: must not have a query"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", "origin: must not have a fragment"
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.HasSuffix(u.Host, ":") {
		return "", "origin: must be a URL of the form scheme://host[:port]"
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", "origin: the port must be a number from 1 to 65535"
		}
		port = strconv.Itoa(n)
		if scheme == "http" && n == 80 || scheme == "https" && n == 443 || scheme == "ftp" && n == 21 {
			port = ""
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, ""
}

// validate checks in against the other origins and returns every problem
// at once; it normalises in.Origin and returns the scope types.
func validate(in *Input, others []*Origin, self string) ([]string, error) {
	var fe []errs.FieldError
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fe = append(fe, errs.Field("name", "name: required"))
	case len(in.Name) > 255:
		fe = append(fe, errs.Field("name", "name: at most 255 characters"))
	}
	origin, msg := NormalizeOrigin(in.Origin)
	if msg != "" {
		fe = append(fe, errs.Field("origin", "%s", msg))
	} else {
		in.Origin = origin
	}
	for _, o := range others {
		if o.ID == self {
			continue
		}
		if msg == "" && o.Origin == origin {
			fe = append(fe, errs.Field("origin", "origin: %s is already a trusted origin (%s)", origin, o.Name))
		}
		if in.Name != "" && strings.EqualFold(o.Name, in.Name) {
			fe = append(fe, errs.Field("name", "name: another trusted origin is named %s", o.Name))
		}
	}
	var types []string
	if len(in.Scopes) == 0 {
		fe = append(fe, errs.Field("scopes", "scopes: at least one scope (CORS or REDIRECT) is required"))
	}
	for _, sc := range in.Scopes {
		switch sc.Type {
		case CORS, Redirect:
			if len(sc.AllowedOktaApps) > 0 {
				fe = append(fe, errs.Field("scopes", "scopes: allowedOktaApps applies only to IFRAME_EMBED"))
			}
			if !slices.Contains(types, sc.Type) {
				types = append(types, sc.Type)
			}
		case IframeEmbed:
			fe = append(fe, errs.Field("scopes", "scopes: IFRAME_EMBED is not supported: Gatehouse's pages cannot be embedded in frames"))
		case "":
			fe = append(fe, errs.Field("scopes", "scopes: every scope needs a type (CORS or REDIRECT)"))
		default:
			fe = append(fe, errs.Field("scopes", "scopes: %s is not a scope type (CORS or REDIRECT)", sc.Type))
		}
	}
	if len(fe) > 0 {
		return nil, errs.InvalidFields(validationFailed, fe...)
	}
	// CORS before REDIRECT, as Okta lists them.
	slices.SortFunc(types, func(a, b string) int { return strings.Compare(a, b) })
	return types, nil
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func actorID(ctx context.Context) string { return audit.FromContext(ctx).Actor.ID }

// Create adds an ACTIVE origin, as Okta does.
func (s *Service) Create(ctx context.Context, in Input) (*Origin, error) {
	all, err := s.Store.TrustedOrigins(ctx)
	if err != nil {
		return nil, err
	}
	types, err := validate(&in, all, "")
	if err != nil {
		return nil, err
	}
	now, by := s.now(), actorID(ctx)
	o := &Origin{ID: s.IDs.NewOrdered(ids.TrustedOrigin, now), Name: in.Name, Origin: in.Origin, Status: Active, Scopes: types,
		Created: now, CreatedBy: by, Updated: now, UpdatedBy: by}
	err = s.Store.UpdateTrustedOrigins(ctx, func(tx Tx) error {
		if err := tx.InsertTrustedOrigin(o); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventCreate, "Create trusted origin", audit.Success, Target(o)))
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Replace replaces an origin's name, origin and scopes; its status is kept.
func (s *Service) Replace(ctx context.Context, id string, in Input) (*Origin, error) {
	if _, err := s.Store.TrustedOrigin(ctx, id); err != nil {
		return nil, err
	}
	all, err := s.Store.TrustedOrigins(ctx)
	if err != nil {
		return nil, err
	}
	types, err := validate(&in, all, id)
	if err != nil {
		return nil, err
	}
	var out *Origin
	err = s.Store.UpdateTrustedOrigins(ctx, func(tx Tx) error {
		o, err := tx.TrustedOriginForUpdate(id)
		if err != nil {
			return err
		}
		o.Name, o.Origin, o.Scopes, o.Updated, o.UpdatedBy = in.Name, in.Origin, types, s.now(), actorID(ctx)
		if err := tx.UpdateTrustedOrigin(o); err != nil {
			return err
		}
		out = o
		return tx.Append(s.Events.New(ctx, EventUpdate, "Update trusted origin", audit.Success, Target(o)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetStatus activates or deactivates an origin; setting the status it has
// changes nothing.
func (s *Service) SetStatus(ctx context.Context, id, status string) (*Origin, error) {
	var out *Origin
	err := s.Store.UpdateTrustedOrigins(ctx, func(tx Tx) error {
		o, err := tx.TrustedOriginForUpdate(id)
		if err != nil {
			return err
		}
		out = o
		if o.Status == status {
			return nil
		}
		o.Status, o.Updated, o.UpdatedBy = status, s.now(), actorID(ctx)
		if err := tx.UpdateTrustedOrigin(o); err != nil {
			return err
		}
		typ, msg := EventActivate, "Activate trusted origin"
		if status == Inactive {
			typ, msg = EventDeactivate, "Deactivate trusted origin"
		}
		return tx.Append(s.Events.New(ctx, typ, msg, audit.Success, Target(o)))
	})
	return out, err
}

// Delete removes an origin, active or not (as Okta).
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.Store.UpdateTrustedOrigins(ctx, func(tx Tx) error {
		o, err := tx.TrustedOriginForUpdate(id)
		if err != nil {
			return err
		}
		if err := tx.DeleteTrustedOrigin(id); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventDelete, "Delete trusted origin", audit.Success, Target(o)))
	})
}

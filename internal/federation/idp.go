// Package federation holds the external identity providers people sign in
// with (Google, LinkedIn, any OpenID Connect provider): their settings,
// the links between a provider's subject and a Gatehouse person, and the
// decision taken at each federated sign-in (use the link, link to an
// existing person by verified email or login, create the person just in
// time, or refuse). It knows nothing of HTTP or of the OpenID Connect wire
// protocol; package oidclogin does that and hands over verified claims.
package federation

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Type is the kind of identity provider, as Okta names it.
type Type string

// Supported provider types.
const (
	Google   Type = "GOOGLE"
	LinkedIn Type = "LINKEDIN"
	OIDC     Type = "OIDC"
)

// WellKnownIssuer is the fixed issuer of a social provider type; "" for
// OIDC, whose issuer is configured.
func WellKnownIssuer(t Type) string {
	switch t {
	case Google:
		return "https://accounts.google.com"
	case LinkedIn:
		return "https://www.linkedin.com/oauth"
	}
	return ""
}

// Label is the provider's name on a sign-in button.
func (t Type) Label() string {
	switch t {
	case Google:
		return "Google"
	case LinkedIn:
		return "LinkedIn"
	}
	return "OpenID Connect"
}

// Status of a provider.
const (
	Active   = "ACTIVE"
	Inactive = "INACTIVE"
)

// Actions of the provisioning and account-link policies.
const (
	ActionAuto     = "AUTO"
	ActionDisabled = "DISABLED"
)

// Subject match types: how an unlinked provider account is matched to an
// existing person.
const (
	MatchUsername        = "USERNAME"
	MatchEmail           = "EMAIL"
	MatchUsernameOrEmail = "USERNAME_OR_EMAIL"
)

// Endpoints are the provider's OpenID Connect endpoints, as discovered.
type Endpoints struct {
	Authorization string `json:"authorization,omitempty"`
	Token         string `json:"token,omitempty"`
	UserInfo      string `json:"userInfo,omitempty"`
	JWKS          string `json:"jwks,omitempty"`
}

// IdP is one configured identity provider.
type IdP struct {
	ID          string    `json:"id"`
	Type        Type      `json:"type"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	// Issuer is the configured issuer URL of an OIDC provider; social
	// types use WellKnownIssuer (or a test override).
	Issuer    string    `json:"issuer,omitempty"`
	Endpoints Endpoints `json:"endpoints"`
	ClientID  string    `json:"clientId"`
	// SealedSecret is the client secret sealed with keys.Sealer. It is
	// never rendered.
	SealedSecret string   `json:"-"`
	Scopes       []string `json:"scopes"`
	// MaxClockSkew is the tolerated clock difference for ID tokens.
	MaxClockSkew time.Duration `json:"maxClockSkew"`

	Provisioning Provisioning `json:"provisioning"`
	AccountLink  AccountLink  `json:"accountLink"`
	Subject      Subject      `json:"subject"`
}

// Provisioning says what happens to someone the provider knows and
// Gatehouse does not.
type Provisioning struct {
	Action string `json:"action"` // AUTO: create just in time; DISABLED: refuse
	// Groups are the ids of the groups a created person joins.
	Groups []string `json:"groups,omitempty"`
	// ProfileMapping maps a Gatehouse profile attribute to an expression
	// over the provider's claims (idpuser.email, idpuser.given_name, ...).
	ProfileMapping map[string]string `json:"profileMapping,omitempty"`
}

// AccountLink says whether an unlinked provider account may be linked to
// an existing person, and which people may be.
type AccountLink struct {
	Action string `json:"action"` // AUTO or DISABLED
	// FilterGroups, when set, limits automatic linking to members of these
	// groups.
	FilterGroups []string `json:"filterGroups,omitempty"`
}

// Subject says how a provider account is matched to a person.
type Subject struct {
	// UserNameTemplate computes the provider username (matched against
	// the login), for example idpuser.email.
	UserNameTemplate string `json:"userNameTemplate"`
	MatchType        string `json:"matchType"`
}

// IssuerURL is the issuer the provider's ID tokens must name, given the
// overrides of social issuers (tests run a local provider as "Google").
func (p *IdP) IssuerURL(overrides map[Type]string) string {
	if p.Type == OIDC {
		return p.Issuer
	}
	if v := overrides[p.Type]; v != "" {
		return v
	}
	return WellKnownIssuer(p.Type)
}

// ButtonLabel is the text of the provider's sign-in button.
func (p *IdP) ButtonLabel() string {
	if p.Type == OIDC {
		return "Sign in with " + p.Name
	}
	return "Sign in with " + p.Type.Label()
}

// DefaultMapping is the profile mapping used when none is configured.
func DefaultMapping() map[string]string {
	return map[string]string{
		"login":     "idpuser.email",
		"email":     "idpuser.email",
		"firstName": "idpuser.given_name",
		"lastName":  "idpuser.family_name",
	}
}

// Link ties a provider's subject to a person.
type Link struct {
	IdPID       string
	UserID      string
	ExternalID  string // the provider's sub
	Profile     map[string]any
	Created     time.Time
	LastUpdated time.Time
}

// checkIssuerURL accepts an absolute https URL, or http on a loopback
// host (a provider running beside Gatehouse, in tests).
func checkIssuerURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "must be an absolute https URL without query or fragment, for example https://login.example.com"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		h := u.Hostname()
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return ""
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return ""
		}
		return "must use https (http is accepted only on a loopback address)"
	}
	return "must be an absolute https URL, for example https://login.example.com"
}

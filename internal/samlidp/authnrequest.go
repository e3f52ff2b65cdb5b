package samlidp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// NameIDPolicy is the NameIDPolicy of an AuthnRequest.
type NameIDPolicy struct {
	Format          string
	SPNameQualifier string
	AllowCreate     bool
}

// RequestedAuthnContext is the RequestedAuthnContext of an AuthnRequest
// (class references only: a request naming AuthnContextDeclRef elements
// has no ClassRefs, and no declaration is ever satisfied).
type RequestedAuthnContext struct {
	// Comparison is exact (default), minimum, maximum or better.
	Comparison string `json:"comparison"`
	// ClassRefs are in the requester's order of preference.
	ClassRefs []string `json:"classRefs,omitempty"`
}

// MaxRequestedClassRefs bounds the AuthnContextClassRef elements of one
// RequestedAuthnContext.
const MaxRequestedClassRefs = 32

// AuthnRequest is an authenticated, parsed SAML AuthnRequest. Every value
// was read from the signature-verified element when Signed is true.
type AuthnRequest struct {
	ID              string
	Issuer          string
	IssueInstant    time.Time
	Destination     string
	ACSURL          string
	ACSIndex        *int
	ProtocolBinding string
	ForceAuthn      bool
	IsPassive       bool
	NameIDPolicy    *NameIDPolicy
	// RequestedAuthnContext is nil when absent.
	RequestedAuthnContext *RequestedAuthnContext
	// Signed reports a verified signature (query signature for Redirect,
	// enveloped XML signature for POST) with a registered SP certificate.
	Signed bool
	// Binding is BindingHTTPRedirect or BindingHTTPPost.
	Binding    string
	RelayState string
	// ReplayExpiresAt is how long the replay cache must remember ReplayKey:
	// after it the request is refused as stale anyway (IssueInstant + skew).
	ReplayExpiresAt time.Time
}

// ReplayKey identifies the request in the (shared) replay cache.
func (r *AuthnRequest) ReplayKey() string { return r.Issuer + "\x00" + r.ID }

// ParseRedirectRequest parses an HTTP-Redirect binding AuthnRequest from the
// raw (undecoded) query string exactly as received, for example
// r.URL.RawQuery. It returns the request and the SP it comes from, or a
// *RequestError.
func (in *Intake) ParseRedirectRequest(rawQuery string) (*AuthnRequest, *ServiceProvider, error) {
	p, xmlBytes, err := decodeRedirect(rawQuery)
	if err != nil {
		return nil, nil, err
	}
	msg, err := in.readMessage(BindingHTTPRedirect, xmlBytes, p, p.decoded["RelayState"], "AuthnRequest")
	if err != nil {
		return nil, nil, err
	}
	return in.authnRequest(msg, BindingHTTPRedirect)
}

// ParsePostRequest parses an HTTP-POST binding AuthnRequest from the posted
// form (r.PostForm after ParseForm with a body size limit).
func (in *Intake) ParsePostRequest(form url.Values) (*AuthnRequest, *ServiceProvider, error) {
	xmlBytes, relay, err := decodePost(form)
	if err != nil {
		return nil, nil, err
	}
	msg, err := in.readMessage(BindingHTTPPost, xmlBytes, nil, relay, "AuthnRequest")
	if err != nil {
		return nil, nil, err
	}
	return in.authnRequest(msg, BindingHTTPPost)
}

func (in *Intake) authnRequest(msg *inbound, binding string) (*AuthnRequest, *ServiceProvider, error) {
	root, sp := msg.root, msg.sp
	if err := sp.CheckIssuer(msg.issuer, false); err != nil {
		return nil, nil, err
	}
	ii, _ := parseTime(root.SelectAttrValue("IssueInstant", ""))
	r := &AuthnRequest{
		ID:              root.SelectAttrValue("ID", ""),
		Issuer:          msg.issuer,
		IssueInstant:    ii,
		Destination:     root.SelectAttrValue("Destination", ""),
		ACSURL:          root.SelectAttrValue("AssertionConsumerServiceURL", ""),
		ProtocolBinding: root.SelectAttrValue("ProtocolBinding", ""),
		Signed:          msg.signed,
		Binding:         binding,
		RelayState:      msg.relayState,
		ReplayExpiresAt: ii.Add(in.skew()),
	}
	var err error
	if r.ForceAuthn, err = boolAttr(root, "ForceAuthn"); err != nil {
		return nil, nil, requesterErr("ForceAuthn is not a boolean", err)
	}
	if r.IsPassive, err = boolAttr(root, "IsPassive"); err != nil {
		return nil, nil, requesterErr("IsPassive is not a boolean", err)
	}
	if v := root.SelectAttr("AssertionConsumerServiceIndex"); v != nil {
		idx, err := strconv.ParseUint(v.Value, 10, 16)
		if err != nil {
			return nil, nil, requesterErr("AssertionConsumerServiceIndex is not an unsigned short", err)
		}
		i := int(idx)
		r.ACSIndex = &i
	}
	if pol, err := optionalChild(root, NSProtocol, "NameIDPolicy"); err != nil {
		return nil, nil, requesterErr("the request is malformed", err)
	} else if pol != nil {
		allow, err := boolAttr(pol, "AllowCreate")
		if err != nil {
			return nil, nil, requesterErr("AllowCreate is not a boolean", err)
		}
		r.NameIDPolicy = &NameIDPolicy{
			Format:          pol.SelectAttrValue("Format", ""),
			SPNameQualifier: pol.SelectAttrValue("SPNameQualifier", ""),
			AllowCreate:     allow,
		}
	}
	if rac, err := optionalChild(root, NSProtocol, "RequestedAuthnContext"); err != nil {
		return nil, nil, requesterErr("the request is malformed", err)
	} else if rac != nil {
		c := &RequestedAuthnContext{Comparison: rac.SelectAttrValue("Comparison", "exact")}
		switch c.Comparison {
		case "exact", "minimum", "maximum", "better":
		default:
			return nil, nil, requesterErr("RequestedAuthnContext Comparison is not valid", nil)
		}
		refs := childElements(rac, NSAssertion, "AuthnContextClassRef")
		if len(refs) > MaxRequestedClassRefs {
			return nil, nil, requesterErr("RequestedAuthnContext lists too many classes", nil)
		}
		for _, ref := range refs {
			t, err := textOf(ref)
			if err != nil {
				return nil, nil, requesterErr("the request is malformed", err)
			}
			if t = strings.TrimSpace(t); len(t) > MaxURLLength {
				return nil, nil, requesterErr("an AuthnContextClassRef is too long", nil)
			}
			c.ClassRefs = append(c.ClassRefs, t)
		}
		r.RequestedAuthnContext = c
	}
	for _, u := range []string{r.ACSURL, r.Destination} {
		if len(u) > MaxURLLength {
			return nil, nil, requesterErr("a URL in the request is too long", nil)
		}
	}
	return r, sp, nil
}

func boolAttr(el *etree.Element, name string) (bool, error) {
	a := el.SelectAttr(name)
	if a == nil {
		return false, nil
	}
	switch a.Value {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q", name, a.Value)
}

// CheckNameIDPolicy returns the NameID format to use for req: the SP's
// configured format, accepting a requested Format only when it is that
// format or unspecified. Anything else is a Respondable
// Requester/InvalidNameIDPolicy error.
func (sp *ServiceProvider) CheckNameIDPolicy(req *AuthnRequest) (string, error) {
	f := sp.nameIDFormat()
	if req == nil || req.NameIDPolicy == nil {
		return f, nil
	}
	switch req.NameIDPolicy.Format {
	case "", NameIDFormatUnspecified, f:
		return f, nil
	}
	return "", &RequestError{Status: StatusRequester, SubStatus: StatusInvalidNameIDPolicy,
		Msg: "the requested NameID format is not available for this application", Respondable: true,
		Err: errors.New(req.NameIDPolicy.Format)}
}

// RequiresFreshLogin reports whether req demands re-authentication even
// with a live session: ForceAuthn is set and the app honours it.
func (sp *ServiceProvider) RequiresFreshLogin(req *AuthnRequest) bool {
	return req != nil && req.ForceAuthn && sp.HonorForceAuthn
}

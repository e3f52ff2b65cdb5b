package samlidp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// MaxURLLength caps ACS, logout and SSO URLs.
const MaxURLLength = 2048

// ValidateACSURL accepts only an absolute https URL with a host, no
// userinfo, no fragment and no white space or control characters. With
// allowLoopbackHTTP, http://localhost, http://127.0.0.1 and http://[::1]
// (any port) are accepted too, for development. javascript:, data:,
// vbscript:, relative and protocol-relative URLs are refused. It is applied
// when an SP is configured or its metadata uploaded, and again right before
// a form is rendered.
func ValidateACSURL(raw string, allowLoopbackHTTP bool) error {
	if raw == "" {
		return errors.New("URL is empty")
	}
	if len(raw) > MaxURLLength {
		return fmt.Errorf("URL longer than %d bytes", MaxURLLength)
	}
	for _, r := range raw {
		if r <= 0x20 || r == 0x7f || r == '\\' || r > 0x7e {
			return errors.New("URL contains white space, control, backslash or non-ASCII characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL does not parse: %w", err)
	}
	if u.Opaque != "" || u.Host == "" || !strings.HasPrefix(raw, u.Scheme+"://") {
		return errors.New("URL is not absolute")
	}
	if u.User != nil {
		return errors.New("URL must not contain user information")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("URL must not contain a fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowLoopbackHTTP || !isLoopbackHost(u.Hostname()) {
			return errors.New("URL must use https")
		}
	default:
		return fmt.Errorf("URL scheme %q is not allowed (https only)", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("URL has no host")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isRegisteredACS reports whether u is byte-for-byte one of the SP's ACS
// URLs.
func (sp *ServiceProvider) isRegisteredACS(u string) bool {
	if u == sp.ACSURL {
		return true
	}
	for _, e := range sp.ACSEndpoints {
		if e.URL == u {
			return true
		}
	}
	return false
}

// ResolveACS picks the ACS URL a response to req goes to. With no request
// (IdP-initiated SSO) or no ACS in the request it is the default ACSURL. An
// AssertionConsumerServiceURL is honoured only when it is byte-for-byte
// equal to a registered ACS (no normalisation of case, percent-encoding,
// ports, trailing slashes or anything else); an
// AssertionConsumerServiceIndex only when an endpoint has that index. Giving
// both, naming another binding than HTTP-POST, or naming an unknown ACS is an
// error that must not be answered with a SAML response (Respondable=false),
// except the binding case, which is answered at the default ACS.
func (sp *ServiceProvider) ResolveACS(req *AuthnRequest) (string, error) {
	var acs string
	switch {
	case req == nil:
		acs = sp.ACSURL
	case req.ACSURL != "" && req.ACSIndex != nil:
		return "", requesterErr("the request names both an ACS URL and an ACS index", nil)
	case req.ACSURL != "":
		if !sp.isRegisteredACS(req.ACSURL) {
			return "", requesterErr("the requested assertion consumer service URL is not registered for this application", nil)
		}
		acs = req.ACSURL
	case req.ACSIndex != nil:
		for _, e := range sp.ACSEndpoints {
			if e.Index == *req.ACSIndex {
				acs = e.URL
				break
			}
		}
		if acs == "" {
			return "", requesterErr(fmt.Sprintf("no assertion consumer service has index %d", *req.ACSIndex), nil)
		}
	default:
		acs = sp.ACSURL
	}
	if err := ValidateACSURL(acs, sp.AllowLoopbackHTTP); err != nil {
		return "", requesterErr("the assertion consumer service URL is not allowed", err)
	}
	if req != nil && req.ProtocolBinding != "" && req.ProtocolBinding != BindingHTTPPost {
		return acs, &RequestError{Status: StatusRequester, SubStatus: StatusUnsupportedBinding,
			Msg: "only the HTTP-POST binding is supported for responses", Respondable: true}
	}
	return acs, nil
}

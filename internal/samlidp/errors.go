package samlidp

import "fmt"

// SAML status codes (top level and second level).
const (
	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"

	StatusNoPassive           = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusRequestDenied       = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusAuthnFailed         = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusNoAuthnContext      = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusUnsupportedBinding  = "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding"
	StatusRequestUnsupported  = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
	StatusPartialLogout       = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
)

// RequestError is returned by every intake function. Msg is safe to show to
// the user; Err (possibly nil) is the internal cause for logs and never
// contains message bodies or keys.
//
// Respondable tells the HTTP layer whether it may answer with a SAML error
// Response (BuildErrorResponse with Status/SubStatus) to the ACS the request
// resolved to: that is the case only when the request was authenticated as
// far as its SP requires (signature, issuer) and its ACS is registered.
// Otherwise (malformed, unknown issuer, bad signature, unregistered ACS...)
// render an HTML error page and send nothing to the SP.
type RequestError struct {
	Status      string
	SubStatus   string
	Msg         string
	Err         error
	Respondable bool
}

func (e *RequestError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("samlidp: %s: %v", e.Msg, e.Err)
	}
	return "samlidp: " + e.Msg
}

func (e *RequestError) Unwrap() error { return e.Err }

func requesterErr(msg string, err error) *RequestError {
	return &RequestError{Status: StatusRequester, Msg: msg, Err: err}
}

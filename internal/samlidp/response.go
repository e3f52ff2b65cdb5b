package samlidp

import (
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
)

// Attribute is one SAML attribute of the AttributeStatement. Every value is
// emitted as xsi:type="xs:string".
type Attribute struct {
	Name string
	// NameFormat defaults to ...:attrname-format:unspecified.
	NameFormat   string
	FriendlyName string
	Values       []string
}

// ResponseInput is everything one successful Response needs besides the
// IdP identity.
type ResponseInput struct {
	SP *ServiceProvider
	// ACSURL is where the response is posted: the result of ResolveACS for
	// SP-initiated SSO; empty means SP.ACSURL (IdP-initiated).
	ACSURL string
	// InResponseTo is the AuthnRequest ID for SP-initiated SSO, empty for
	// IdP-initiated.
	InResponseTo string
	// NameID is the subject (the app username). NameIDFormat overrides
	// SP.NameIDFormat (for example from an accepted NameIDPolicy).
	NameID       string
	NameIDFormat string
	// SessionIndex identifies the IdP session for SLO; empty means a random
	// value.
	SessionIndex string
	// AuthnInstant is when the user authenticated; zero means now.
	AuthnInstant time.Time
	// SessionNotOnOrAfter, when set, caps the SP session.
	SessionNotOnOrAfter time.Time
	// AuthnContextClassRef overrides SP.AuthnContextClassRef.
	AuthnContextClassRef string
	Attributes           []Attribute
}

// ErrorResponseInput describes a SAML error Response.
type ErrorResponseInput struct {
	SP           *ServiceProvider
	ACSURL       string
	InResponseTo string
	// Status is StatusRequester or StatusResponder (default Responder).
	Status string
	// SubStatus is an optional second-level code such as StatusNoPassive.
	SubStatus string
	// Message is an optional StatusMessage; it is sent to the SP, so keep
	// it generic.
	Message string
}

// resolvedTargets returns the ACS URL, Destination and Recipient for a
// response to sp, checking the ACS is registered and safe.
func resolvedTargets(sp *ServiceProvider, acs string) (acsURL, destination, recipient string, err error) {
	if acs == "" {
		acs = sp.ACSURL
	}
	if !sp.isRegisteredACS(acs) {
		return "", "", "", fmt.Errorf("samlidp: ACS %q is not registered for %s", acs, sp.EntityID)
	}
	if err := ValidateACSURL(acs, sp.AllowLoopbackHTTP); err != nil {
		return "", "", "", fmt.Errorf("samlidp: ACS: %w", err)
	}
	destination, recipient = acs, acs
	if acs == sp.ACSURL {
		if sp.Destination != "" {
			destination = sp.Destination
		}
		if sp.Recipient != "" {
			recipient = sp.Recipient
		}
	}
	return acs, destination, recipient, nil
}

func checkText(field, v string) error {
	if !validXMLString(v) {
		return fmt.Errorf("samlidp: %s contains characters XML cannot carry", field)
	}
	return nil
}

// BuildResponse returns the XML of a successful SAML 2.0 Response (UTF-8,
// with an XML declaration): Issuer, Status Success and exactly one Assertion
// (Issuer, Subject/NameID with one bearer SubjectConfirmation, Conditions
// with AudienceRestriction, AuthnStatement, AttributeStatement), signed as
// the SP asks (assertion first, then, after optional encryption, the
// Response). Base64-encode it for the HTTP-POST form.
func (idp *IdP) BuildResponse(in ResponseInput) ([]byte, error) {
	sp := in.SP
	if sp == nil {
		return nil, errors.New("samlidp: BuildResponse without a service provider")
	}
	if err := sp.Validate(); err != nil {
		return nil, err
	}
	acs, destination, recipient, err := resolvedTargets(sp, in.ACSURL)
	if err != nil {
		return nil, err
	}
	_ = acs
	if in.NameID == "" {
		return nil, errors.New("samlidp: empty NameID")
	}
	nameIDFormat := in.NameIDFormat
	if nameIDFormat == "" {
		nameIDFormat = sp.nameIDFormat()
	}
	classRef := in.AuthnContextClassRef
	if classRef == "" {
		classRef = sp.authnContextClassRef()
	}
	for field, v := range map[string]string{"NameID": in.NameID, "NameID format": nameIDFormat, "InResponseTo": in.InResponseTo,
		"SessionIndex": in.SessionIndex, "AuthnContextClassRef": classRef, "audience": sp.EntityID} {
		if err := checkText(field, v); err != nil {
			return nil, err
		}
	}
	for _, a := range in.Attributes {
		if a.Name == "" {
			return nil, errors.New("samlidp: attribute without a name")
		}
		for _, v := range append([]string{a.Name, a.NameFormat, a.FriendlyName}, a.Values...) {
			if err := checkText("attribute "+a.Name, v); err != nil {
				return nil, err
			}
		}
	}

	now := idp.now().UTC()
	respID, err := idp.newID()
	if err != nil {
		return nil, err
	}
	assertionID, err := idp.newID()
	if err != nil {
		return nil, err
	}
	sessionIndex := in.SessionIndex
	if sessionIndex == "" {
		if sessionIndex, err = idp.newID(); err != nil {
			return nil, err
		}
	}
	authnInstant := in.AuthnInstant
	if authnInstant.IsZero() {
		authnInstant = now
	}
	notOnOrAfter := now.Add(sp.assertionLifetime())
	alg := sp.signatureAlgorithm()

	resp := idp.responseRoot(respID, destination, in.InResponseTo, now)
	status := resp.CreateElement("saml2p:Status")
	status.CreateElement("saml2p:StatusCode").CreateAttr("Value", StatusSuccess)

	a := etree.NewElement("saml2:Assertion")
	a.CreateAttr("xmlns:saml2", NSAssertion)
	a.CreateAttr("xmlns:xs", NSXS)
	a.CreateAttr("ID", assertionID)
	a.CreateAttr("IssueInstant", formatTime(now))
	a.CreateAttr("Version", "2.0")
	iss := a.CreateElement("saml2:Issuer")
	iss.CreateAttr("Format", NameIDFormatEntity)
	iss.SetText(idp.entityID)

	subject := a.CreateElement("saml2:Subject")
	nameID := subject.CreateElement("saml2:NameID")
	nameID.CreateAttr("Format", nameIDFormat)
	nameID.SetText(in.NameID)
	sc := subject.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", ConfirmationMethodBearer)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	if in.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", in.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", formatTime(notOnOrAfter))
	scd.CreateAttr("Recipient", recipient)

	cond := a.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", formatTime(now.Add(-NotBeforeSkew)))
	cond.CreateAttr("NotOnOrAfter", formatTime(notOnOrAfter))
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(sp.EntityID)

	as := a.CreateElement("saml2:AuthnStatement")
	as.CreateAttr("AuthnInstant", formatTime(authnInstant))
	as.CreateAttr("SessionIndex", sessionIndex)
	if !in.SessionNotOnOrAfter.IsZero() {
		as.CreateAttr("SessionNotOnOrAfter", formatTime(in.SessionNotOnOrAfter))
	}
	as.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(classRef)

	if len(in.Attributes) > 0 {
		st := a.CreateElement("saml2:AttributeStatement")
		for _, attr := range in.Attributes {
			ae := st.CreateElement("saml2:Attribute")
			ae.CreateAttr("Name", attr.Name)
			nf := attr.NameFormat
			if nf == "" {
				nf = AttrNameFormatUnspecified
			}
			ae.CreateAttr("NameFormat", nf)
			if attr.FriendlyName != "" {
				ae.CreateAttr("FriendlyName", attr.FriendlyName)
			}
			for _, v := range attr.Values {
				av := ae.CreateElement("saml2:AttributeValue")
				av.CreateAttr("xmlns:xsi", NSXSI)
				av.CreateAttr("xsi:type", "xs:string")
				av.SetText(v)
			}
		}
	}

	if sp.AssertionSigned {
		if err := idp.signEnveloped(a, alg); err != nil {
			return nil, err
		}
	}
	if sp.Encryption.Enabled {
		enc, err := idp.encryptAssertion(a, sp)
		if err != nil {
			return nil, err
		}
		resp.AddChild(enc)
	} else {
		resp.AddChild(a)
	}
	if sp.ResponseSigned {
		if err := idp.signEnveloped(resp, alg); err != nil {
			return nil, err
		}
	}
	return serialize(resp, true)
}

func (idp *IdP) responseRoot(id, destination, inResponseTo string, now time.Time) *etree.Element {
	resp := etree.NewElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", NSProtocol)
	resp.CreateAttr("xmlns:xs", NSXS)
	resp.CreateAttr("Destination", destination)
	resp.CreateAttr("ID", id)
	if inResponseTo != "" {
		resp.CreateAttr("InResponseTo", inResponseTo)
	}
	resp.CreateAttr("IssueInstant", formatTime(now))
	resp.CreateAttr("Version", "2.0")
	iss := resp.CreateElement("saml2:Issuer")
	iss.CreateAttr("xmlns:saml2", NSAssertion)
	iss.CreateAttr("Format", NameIDFormatEntity)
	iss.SetText(idp.entityID)
	return resp
}

// BuildErrorResponse returns a signed Response carrying a non-success
// status and no assertion, for SP-initiated requests that cannot be
// satisfied (for example IsPassive without a session: Requester/NoPassive).
// Only send it to an ACS that ResolveACS accepted.
func (idp *IdP) BuildErrorResponse(in ErrorResponseInput) ([]byte, error) {
	sp := in.SP
	if sp == nil {
		return nil, errors.New("samlidp: BuildErrorResponse without a service provider")
	}
	_, destination, _, err := resolvedTargets(sp, in.ACSURL)
	if err != nil {
		return nil, err
	}
	top := in.Status
	if top == "" {
		top = StatusResponder
	}
	switch top {
	case StatusRequester, StatusResponder, StatusVersionMismatch:
	default:
		return nil, fmt.Errorf("samlidp: %q is not a top-level error status", top)
	}
	for field, v := range map[string]string{"InResponseTo": in.InResponseTo, "status message": in.Message, "sub-status": in.SubStatus} {
		if err := checkText(field, v); err != nil {
			return nil, err
		}
	}
	alg := sp.signatureAlgorithm()
	if alg == RSASHA1 && !sp.AllowLegacy {
		return nil, errors.New("samlidp: RSA_SHA1 requires the legacy option")
	}
	now := idp.now().UTC()
	id, err := idp.newID()
	if err != nil {
		return nil, err
	}
	resp := idp.responseRoot(id, destination, in.InResponseTo, now)
	status := resp.CreateElement("saml2p:Status")
	code := status.CreateElement("saml2p:StatusCode")
	code.CreateAttr("Value", top)
	if in.SubStatus != "" {
		code.CreateElement("saml2p:StatusCode").CreateAttr("Value", in.SubStatus)
	}
	if in.Message != "" {
		status.CreateElement("saml2p:StatusMessage").SetText(in.Message)
	}
	if err := idp.signEnveloped(resp, alg); err != nil {
		return nil, err
	}
	return serialize(resp, true)
}

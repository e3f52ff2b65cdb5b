package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// LogoutRequest is an authenticated, parsed SAML LogoutRequest.
type LogoutRequest struct {
	ID              string
	Issuer          string
	IssueInstant    time.Time
	Destination     string
	NotOnOrAfter    time.Time
	Reason          string
	NameID          string
	NameIDFormat    string
	SPNameQualifier string
	SessionIndexes  []string
	Signed          bool
	Binding         string
	RelayState      string
	ReplayExpiresAt time.Time
}

// ReplayKey identifies the request in the replay cache.
func (r *LogoutRequest) ReplayKey() string { return r.Issuer + "\x00" + r.ID }

// ParseRedirectLogoutRequest parses an HTTP-Redirect LogoutRequest from the
// raw query string. The SP must have SLO enabled.
func (in *Intake) ParseRedirectLogoutRequest(rawQuery string) (*LogoutRequest, *ServiceProvider, error) {
	p, xmlBytes, err := decodeRedirect(rawQuery)
	if err != nil {
		return nil, nil, err
	}
	msg, err := in.readMessage(BindingHTTPRedirect, xmlBytes, p, p.decoded["RelayState"], "LogoutRequest")
	if err != nil {
		return nil, nil, err
	}
	return in.logoutRequest(msg, BindingHTTPRedirect)
}

// ParsePostLogoutRequest parses an HTTP-POST LogoutRequest from the form.
func (in *Intake) ParsePostLogoutRequest(form url.Values) (*LogoutRequest, *ServiceProvider, error) {
	xmlBytes, relay, err := decodePost(form)
	if err != nil {
		return nil, nil, err
	}
	msg, err := in.readMessage(BindingHTTPPost, xmlBytes, nil, relay, "LogoutRequest")
	if err != nil {
		return nil, nil, err
	}
	return in.logoutRequest(msg, BindingHTTPPost)
}

func (in *Intake) logoutRequest(msg *inbound, binding string) (*LogoutRequest, *ServiceProvider, error) {
	root, sp := msg.root, msg.sp
	if !sp.SLO.Enabled {
		return nil, nil, requesterErr("single logout is not enabled for this application", nil)
	}
	// "The requester MUST authenticate itself to the responder and ensure
	// message integrity, either by signing the <LogoutRequest> message or
	// using a binding-specific mechanism" (SAML Profiles 4.4.4.1). Over the
	// front-channel bindings nothing but the signature authenticates the
	// SP (the browser carries the message), so an unsigned LogoutRequest
	// is refused whatever samlSignedRequestEnabled says: otherwise any web
	// page could end a person's session.
	if !msg.signed {
		return nil, nil, requesterErr("logout requests must be signed by the application", nil)
	}
	if err := sp.CheckIssuer(msg.issuer, true); err != nil {
		return nil, nil, err
	}
	ii, _ := parseTime(root.SelectAttrValue("IssueInstant", ""))
	r := &LogoutRequest{
		ID:              root.SelectAttrValue("ID", ""),
		Issuer:          msg.issuer,
		IssueInstant:    ii,
		Destination:     root.SelectAttrValue("Destination", ""),
		Reason:          root.SelectAttrValue("Reason", ""),
		Signed:          msg.signed,
		Binding:         binding,
		RelayState:      msg.relayState,
		ReplayExpiresAt: ii.Add(in.skew()),
	}
	if v := root.SelectAttrValue("NotOnOrAfter", ""); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, nil, requesterErr("NotOnOrAfter is not a valid time", err)
		}
		if !in.now().Before(t) {
			return nil, nil, requesterErr("the logout request has expired", nil)
		}
		r.NotOnOrAfter = t
	}
	if len(childElements(root, NSAssertion, "EncryptedID")) > 0 || len(childElements(root, NSAssertion, "BaseID")) > 0 {
		return nil, nil, requesterErr("only a plain NameID is supported in logout requests", nil)
	}
	ids := childElements(root, NSAssertion, "NameID")
	if len(ids) != 1 {
		return nil, nil, requesterErr("the logout request must carry exactly one NameID", nil)
	}
	t, err := textOf(ids[0])
	if err != nil {
		return nil, nil, requesterErr("the logout request is malformed", err)
	}
	r.NameID = strings.TrimSpace(t)
	r.NameIDFormat = ids[0].SelectAttrValue("Format", "")
	r.SPNameQualifier = ids[0].SelectAttrValue("SPNameQualifier", "")
	for _, si := range childElements(root, NSProtocol, "SessionIndex") {
		t, err := textOf(si)
		if err != nil {
			return nil, nil, requesterErr("the logout request is malformed", err)
		}
		r.SessionIndexes = append(r.SessionIndexes, strings.TrimSpace(t))
	}
	return r, sp, nil
}

// LogoutResponseInput describes a LogoutResponse to an SP.
type LogoutResponseInput struct {
	SP           *ServiceProvider
	InResponseTo string
	// Status defaults to StatusSuccess; SubStatus is optional.
	Status    string
	SubStatus string
}

func (idp *IdP) logoutResponseElement(in LogoutResponseInput) (*etree.Element, string, error) {
	sp := in.SP
	if sp == nil || !sp.SLO.Enabled {
		return nil, "", errors.New("samlidp: SP has no single logout configured")
	}
	if err := ValidateACSURL(sp.SLO.LogoutURL, sp.AllowLoopbackHTTP); err != nil {
		return nil, "", fmt.Errorf("samlidp: SLO logout URL: %w", err)
	}
	status := in.Status
	if status == "" {
		status = StatusSuccess
	}
	for field, v := range map[string]string{"InResponseTo": in.InResponseTo, "status": status, "sub-status": in.SubStatus} {
		if err := checkText(field, v); err != nil {
			return nil, "", err
		}
	}
	id, err := idp.newID()
	if err != nil {
		return nil, "", err
	}
	now := idp.now().UTC()
	resp := etree.NewElement("saml2p:LogoutResponse")
	resp.CreateAttr("xmlns:saml2p", NSProtocol)
	resp.CreateAttr("Destination", sp.SLO.LogoutURL)
	resp.CreateAttr("ID", id)
	if in.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", in.InResponseTo)
	}
	resp.CreateAttr("IssueInstant", formatTime(now))
	resp.CreateAttr("Version", "2.0")
	iss := resp.CreateElement("saml2:Issuer")
	iss.CreateAttr("xmlns:saml2", NSAssertion)
	iss.CreateAttr("Format", NameIDFormatEntity)
	iss.SetText(idp.entityID)
	code := resp.CreateElement("saml2p:Status").CreateElement("saml2p:StatusCode")
	code.CreateAttr("Value", status)
	if in.SubStatus != "" {
		code.CreateElement("saml2p:StatusCode").CreateAttr("Value", in.SubStatus)
	}
	return resp, sp.SLO.LogoutURL, nil
}

// BuildLogoutResponse returns a LogoutResponse for the HTTP-POST binding,
// signed (enveloped, exclusive C14N) with the SP's signature algorithm, and
// the URL to post it to (SP.SLO.LogoutURL).
func (idp *IdP) BuildLogoutResponse(in LogoutResponseInput) (xml []byte, postURL string, err error) {
	resp, dest, err := idp.logoutResponseElement(in)
	if err != nil {
		return nil, "", err
	}
	alg := in.SP.signatureAlgorithm()
	if alg == RSASHA1 && !in.SP.AllowLegacy {
		return nil, "", errors.New("samlidp: RSA_SHA1 requires the legacy option")
	}
	if err := idp.signEnveloped(resp, alg); err != nil {
		return nil, "", err
	}
	out, err := serialize(resp, true)
	return out, dest, err
}

// LogoutResponseRedirectURL returns the SP.SLO.LogoutURL with an
// HTTP-Redirect binding LogoutResponse: SAMLResponse (DEFLATE + base64),
// RelayState when not empty, SigAlg and a Signature over exactly those
// encoded parameters (Bindings §3.4.4.1). The XML itself is not signed.
func (idp *IdP) LogoutResponseRedirectURL(in LogoutResponseInput, relayState string) (string, error) {
	resp, dest, err := idp.logoutResponseElement(in)
	if err != nil {
		return "", err
	}
	xmlBytes, err := serialize(resp, false)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := fw.Write(xmlBytes); err != nil {
		return "", err
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	alg := in.SP.signatureAlgorithm()
	sigAlg, h := AlgRSASHA256, crypto.SHA256
	if alg == RSASHA1 {
		if !in.SP.AllowLegacy {
			return "", errors.New("samlidp: RSA_SHA1 requires the legacy option")
		}
		sigAlg, h = AlgRSASHA1, crypto.SHA1
	}
	q := "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(sigAlg)
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum([]byte(q))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(q))
		digest = d[:]
	}
	sig, err := idp.signer.Sign(idp.rand, digest, h)
	if err != nil {
		return "", fmt.Errorf("samlidp: sign logout response: %w", err)
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	sep := "?"
	if strings.Contains(dest, "?") {
		sep = "&"
	}
	return dest + sep + q, nil
}

package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// MaxRelayStateLength caps the RelayState accepted with a request. The
// bindings suggest 80 bytes, but an Amazon Connect federation URL is longer,
// so the cap is generous; RelayState is echoed opaquely, never followed.
const MaxRelayStateLength = 1024

// DefaultMaxClockSkew is the default tolerance for IssueInstant.
const DefaultMaxClockSkew = 3 * time.Minute

// Intake parses and authenticates messages that service providers send to
// the IdP. The zero value is not usable: Lookup and Destinations are
// required.
type Intake struct {
	// Lookup returns the SP registered under the message Issuer, or
	// (nil, nil) when there is none. For LogoutRequests the issuer may be
	// the SP's SLO issuer.
	Lookup func(issuer string) (*ServiceProvider, error)
	// Destinations are the accepted values of the Destination attribute
	// (this IdP's SSO and SLO URLs, byte-equal). A message with any other
	// Destination is rejected; a signed message must carry one.
	Destinations []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxClockSkew bounds |now - IssueInstant|; 0 means 3 minutes.
	MaxClockSkew time.Duration
}

func (in *Intake) now() time.Time {
	if in.Now == nil {
		return time.Now().UTC()
	}
	return in.Now().UTC()
}

func (in *Intake) skew() time.Duration {
	if in.MaxClockSkew <= 0 {
		return DefaultMaxClockSkew
	}
	return in.MaxClockSkew
}

// inbound is a decoded, strictly parsed, authenticated message.
type inbound struct {
	root       *etree.Element // the verified element when signed by XML-DSig
	sp         *ServiceProvider
	issuer     string
	signed     bool
	relayState string
}

// redirectParams holds the raw (still URL-encoded) and decoded values of an
// HTTP-Redirect binding query.
type redirectParams struct {
	raw     map[string]string
	decoded map[string]string
}

var redirectParamNames = []string{"SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"}

// parseRedirectQuery splits the query on '&' only, keeping each value's raw
// bytes exactly as received (needed for signature verification). Repeated
// SAML parameters are an error.
func parseRedirectQuery(rawQuery string) (*redirectParams, error) {
	if len(rawQuery) > 4*MaxEncodedSize {
		return nil, errors.New("query string too long")
	}
	p := &redirectParams{raw: map[string]string{}, decoded: map[string]string{}}
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("bad query parameter name: %w", err)
		}
		known := false
		for _, n := range redirectParamNames {
			known = known || n == key
		}
		if !known {
			continue
		}
		if _, dup := p.raw[key]; dup {
			return nil, fmt.Errorf("parameter %s repeated", key)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s is not URL-encoded correctly: %w", key, err)
		}
		p.raw[key] = v
		p.decoded[key] = val
	}
	return p, nil
}

// decodeBase64 decodes standard base64 after removing white space (line
// breaks are common in the POST binding). The encoded size is capped.
func decodeBase64(s string) ([]byte, error) {
	if len(s) > MaxEncodedSize+MaxEncodedSize/16 {
		return nil, fmt.Errorf("encoded message exceeds %d bytes", MaxEncodedSize)
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if len(s) > MaxEncodedSize {
		return nil, fmt.Errorf("encoded message exceeds %d bytes", MaxEncodedSize)
	}
	if s == "" {
		return nil, errors.New("empty message")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("message is not valid base64")
	}
	return b, nil
}

// inflate decompresses raw DEFLATE (RFC 1951) data, failing once the output
// would exceed MaxInflatedSize; memory stays bounded by that limit.
func inflate(data []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(data))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxInflatedSize+1))
	if err != nil {
		return nil, fmt.Errorf("message is not valid DEFLATE data: %w", err)
	}
	if len(out) > MaxInflatedSize {
		return nil, fmt.Errorf("inflated message exceeds %d bytes", MaxInflatedSize)
	}
	return out, nil
}

// signatureHash maps an XML-DSig signature method to a hash, refusing SHA-1
// unless allowLegacy.
func signatureHash(alg string, allowLegacy bool) (crypto.Hash, error) {
	switch alg {
	case AlgRSASHA256:
		return crypto.SHA256, nil
	case AlgRSASHA512:
		return crypto.SHA512, nil
	case AlgRSASHA1:
		if allowLegacy {
			return crypto.SHA1, nil
		}
		return 0, errors.New("rsa-sha1 signatures are not accepted")
	default:
		return 0, fmt.Errorf("signature algorithm %q is not accepted", alg)
	}
}

// verifyRedirectSignature checks the detached signature of an HTTP-Redirect
// message (Bindings §3.4.4.1): the signed octets are
// "<msg>=<raw>[&RelayState=<raw>]&SigAlg=<raw>" built from the parameter
// values exactly as received, verified with the SP's registered
// certificates only.
func verifyRedirectSignature(p *redirectParams, msgParam string, certs []*x509.Certificate, allowLegacy bool, now time.Time) error {
	if _, ok := p.raw["SigAlg"]; !ok {
		return errors.New("Signature without SigAlg")
	}
	h, err := signatureHash(p.decoded["SigAlg"], allowLegacy)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(p.decoded["Signature"])
	if err != nil || len(sig) == 0 {
		return errors.New("Signature is not valid base64")
	}
	var signed strings.Builder
	signed.WriteString(msgParam + "=" + p.raw[msgParam])
	if rs, ok := p.raw["RelayState"]; ok {
		signed.WriteString("&RelayState=" + rs)
	}
	signed.WriteString("&SigAlg=" + p.raw["SigAlg"])
	var digest []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(signed.String()))
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(signed.String()))
		digest = d[:]
	case crypto.SHA1:
		d := sha1.Sum([]byte(signed.String()))
		digest = d[:]
	}
	for _, c := range certs {
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || now.Before(c.NotBefore) || now.After(c.NotAfter) {
			continue
		}
		if rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil {
			return nil
		}
	}
	return errors.New("signature does not verify with any registered SP certificate")
}

var acceptedC14N = map[string]bool{
	AlgExcC14N: true,
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315": true,
	"http://www.w3.org/2006/12/xml-c14n11":            true,
}

// checkSignatureShape enforces the invariants that defeat signature
// wrapping before goxmldsig runs: exactly one ds:Signature in the whole
// document, an enveloped child of the root placed right after Issuer, with
// one SignedInfo holding exactly one Reference whose URI is "#" + the root
// ID, accepted transforms and algorithms only, and no ID value used twice.
func checkSignatureShape(root *etree.Element, allowLegacy bool) error {
	var sigs []*etree.Element
	ids := map[string]bool{}
	err := allElements(root, func(el *etree.Element) error {
		if el.Tag == "Signature" && el.NamespaceURI() == NSDSig {
			sigs = append(sigs, el)
		}
		for _, a := range el.Attr {
			if a.Space == "" && (a.Key == "ID" || a.Key == "Id" || a.Key == "id") {
				if ids[a.Value] {
					return fmt.Errorf("ID %q used twice", a.Value)
				}
				ids[a.Value] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(sigs) != 1 {
		return fmt.Errorf("expected exactly one Signature, found %d", len(sigs))
	}
	sig := sigs[0]
	if sig.Parent() != root {
		return errors.New("Signature is not an enveloped child of the message")
	}
	kids := root.ChildElements()
	want := 0
	if len(kids) > 0 && kids[0].Tag == "Issuer" && kids[0].NamespaceURI() == NSAssertion {
		want = 1
	}
	if len(kids) <= want || kids[want] != sig {
		return errors.New("Signature is not placed right after Issuer")
	}
	rootID := root.SelectAttrValue("ID", "")
	if rootID == "" {
		return errors.New("signed message has no ID")
	}
	signedInfos := childElements(sig, NSDSig, "SignedInfo")
	if len(signedInfos) != 1 {
		return errors.New("Signature must have exactly one SignedInfo")
	}
	si := signedInfos[0]
	c14n := childElements(si, NSDSig, "CanonicalizationMethod")
	if len(c14n) != 1 || !acceptedC14N[c14n[0].SelectAttrValue("Algorithm", "")] {
		return errors.New("canonicalization method not accepted")
	}
	sm := childElements(si, NSDSig, "SignatureMethod")
	if len(sm) != 1 {
		return errors.New("Signature must have exactly one SignatureMethod")
	}
	if _, err := signatureHash(sm[0].SelectAttrValue("Algorithm", ""), allowLegacy); err != nil {
		return err
	}
	refs := childElements(si, NSDSig, "Reference")
	if len(refs) != 1 || len(si.ChildElements()) != 3 {
		return errors.New("SignedInfo must hold exactly one Reference")
	}
	ref := refs[0]
	if ref.SelectAttrValue("URI", "") != "#"+rootID {
		return errors.New("the signature does not reference the message itself")
	}
	if ts, err := optionalChild(ref, NSDSig, "Transforms"); err != nil {
		return err
	} else if ts != nil {
		for _, t := range ts.ChildElements() {
			alg := t.SelectAttrValue("Algorithm", "")
			if t.Tag != "Transform" || (alg != AlgEnveloped && !acceptedC14N[alg]) || len(t.ChildElements()) > 1 {
				return fmt.Errorf("transform %q not accepted", alg)
			}
		}
	}
	dm := childElements(ref, NSDSig, "DigestMethod")
	if len(dm) != 1 {
		return errors.New("Reference must have exactly one DigestMethod")
	}
	switch dm[0].SelectAttrValue("Algorithm", "") {
	case AlgDigestSHA256, AlgDigestSHA512:
	case AlgDigestSHA1:
		if !allowLegacy {
			return errors.New("SHA-1 digests are not accepted")
		}
	default:
		return errors.New("digest algorithm not accepted")
	}
	return nil
}

// verifyPostSignature verifies the enveloped XML signature of root with the
// SP certificates (KeyInfo is removed first, so it is ignored) and returns
// the element goxmldsig verified; the caller must read the message only
// from that element.
func verifyPostSignature(root *etree.Element, certs []*x509.Certificate, allowLegacy bool, now time.Time) (*etree.Element, error) {
	if err := checkSignatureShape(root, allowLegacy); err != nil {
		return nil, err
	}
	work := root.Copy()
	for _, s := range childElements(work, NSDSig, "Signature") {
		for _, ki := range childElements(s, NSDSig, "KeyInfo") {
			s.RemoveChild(ki)
		}
	}
	var lastErr error = errors.New("no SP signing certificate registered")
	for _, c := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.Clock = dsig.NewFakeClockAt(now)
		verified, err := vc.Validate(work)
		if err != nil {
			lastErr = err
			continue
		}
		if verified.Tag != root.Tag || verified.NamespaceURI() != root.NamespaceURI() ||
			verified.SelectAttrValue("ID", "") != root.SelectAttrValue("ID", "") {
			return nil, errors.New("verified element is not the message root")
		}
		return verified, nil
	}
	return nil, fmt.Errorf("signature does not verify with any registered SP certificate: %w", lastErr)
}

// readMessage runs the common intake for both bindings: decode, strict
// parse, root check, SP lookup by Issuer, signature verification and
// Destination/IssueInstant checks. rootName is "AuthnRequest" or
// "LogoutRequest".
func (in *Intake) readMessage(binding string, xmlBytes []byte, redirect *redirectParams, relayState string, rootName string) (*inbound, error) {
	if in.Lookup == nil {
		return nil, errors.New("samlidp: Intake.Lookup is nil")
	}
	root, err := parseStrict(xmlBytes, strictOptions{maxBytes: MaxInflatedSize})
	if err != nil {
		return nil, requesterErr("the SAML message is malformed", err)
	}
	if root.Tag != rootName || root.NamespaceURI() != NSProtocol {
		return nil, requesterErr("the SAML message is not a "+rootName, nil)
	}
	issuer, err := readIssuer(root)
	if err != nil {
		return nil, requesterErr("the SAML message has no usable Issuer", err)
	}
	sp, err := in.Lookup(issuer)
	if err != nil {
		return nil, &RequestError{Status: StatusResponder, Msg: "the application could not be loaded", Err: err}
	}
	if sp == nil {
		return nil, requesterErr("the SAML message comes from an unknown service provider", fmt.Errorf("issuer %q", issuer))
	}
	if len(relayState) > MaxRelayStateLength {
		return nil, requesterErr("the RelayState is too long", fmt.Errorf("%d bytes", len(relayState)))
	}
	msg := &inbound{root: root, sp: sp, issuer: issuer, relayState: relayState}
	now := in.now()

	switch binding {
	case BindingHTTPRedirect:
		if _, ok := redirect.raw["Signature"]; ok && len(sp.SigningCertificates) > 0 {
			if err := verifyRedirectSignature(redirect, "SAMLRequest", sp.SigningCertificates, sp.AllowLegacy, now); err != nil {
				return nil, requesterErr("the SAML message signature is not valid", err)
			}
			msg.signed = true
		}
	case BindingHTTPPost:
		hasSig := false
		_ = allElements(root, func(el *etree.Element) error {
			if el.Tag == "Signature" && el.NamespaceURI() == NSDSig {
				hasSig = true
			}
			return nil
		})
		if hasSig && len(sp.SigningCertificates) > 0 {
			verified, err := verifyPostSignature(root, sp.SigningCertificates, sp.AllowLegacy, now)
			if err != nil {
				return nil, requesterErr("the SAML message signature is not valid", err)
			}
			vIssuer, err := readIssuer(verified)
			if err != nil || vIssuer != issuer {
				return nil, requesterErr("the signed Issuer differs", err)
			}
			msg.root = verified
			msg.signed = true
		}
	}
	if sp.RequireSignedRequests && !msg.signed {
		return nil, requesterErr("this application requires signed SAML requests", nil)
	}
	if v := msg.root.SelectAttrValue("Version", ""); v != "2.0" {
		return nil, &RequestError{Status: StatusVersionMismatch, Msg: "only SAML 2.0 is supported"}
	}
	id := msg.root.SelectAttrValue("ID", "")
	if !validID(id) {
		return nil, requesterErr("the SAML message ID is missing or invalid", nil)
	}
	dest := msg.root.SelectAttrValue("Destination", "")
	if dest == "" && msg.signed {
		return nil, requesterErr("a signed SAML message must name its Destination", nil)
	}
	if dest != "" && !in.acceptedDestination(dest) {
		return nil, requesterErr("the SAML message was sent to another destination", fmt.Errorf("destination %q", dest))
	}
	ii, err := parseTime(msg.root.SelectAttrValue("IssueInstant", ""))
	if err != nil {
		return nil, requesterErr("the SAML message has no valid IssueInstant", err)
	}
	if err := CheckIssueInstant(ii, now, in.skew()); err != nil {
		return nil, requesterErr("the SAML message is too old or from the future", err)
	}
	return msg, nil
}

func (in *Intake) acceptedDestination(d string) bool {
	for _, x := range in.Destinations {
		if x == d {
			return true
		}
	}
	return false
}

// readIssuer returns the text of the single saml:Issuer child of root.
func readIssuer(root *etree.Element) (string, error) {
	iss := childElements(root, NSAssertion, "Issuer")
	if len(iss) != 1 {
		return "", fmt.Errorf("expected one Issuer, found %d", len(iss))
	}
	if f := iss[0].SelectAttrValue("Format", ""); f != "" && f != NameIDFormatEntity {
		return "", fmt.Errorf("Issuer format %q is not entity", f)
	}
	v, err := textOf(iss[0])
	if err != nil {
		return "", err
	}
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 1024 {
		return "", errors.New("Issuer is empty or too long")
	}
	return v, nil
}

// validID accepts an xs:ID-like value: a letter or '_' then name characters,
// at most 256 bytes.
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i, r := range id {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// parseTime parses an xs:dateTime in UTC as SAML requires.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t.UTC(), nil
}

// CheckIssueInstant fails when issueInstant is more than skew away from now
// in either direction.
func CheckIssueInstant(issueInstant, now time.Time, skew time.Duration) error {
	if issueInstant.Before(now.Add(-skew)) {
		return fmt.Errorf("IssueInstant %s is more than %s in the past", formatTime(issueInstant), skew)
	}
	if issueInstant.After(now.Add(skew)) {
		return fmt.Errorf("IssueInstant %s is more than %s in the future", formatTime(issueInstant), skew)
	}
	return nil
}

// CheckIssuer fails unless issuer is byte-equal to the SP entity ID (or,
// for logout, its SLO issuer).
func (sp *ServiceProvider) CheckIssuer(issuer string, logout bool) error {
	if issuer == sp.EntityID || (logout && issuer == sp.sloIssuer()) {
		return nil
	}
	return requesterErr("the Issuer does not match the application", fmt.Errorf("issuer %q", issuer))
}

// decodeRedirect extracts and inflates the SAMLRequest of a Redirect query.
func decodeRedirect(rawQuery string) (*redirectParams, []byte, error) {
	p, err := parseRedirectQuery(rawQuery)
	if err != nil {
		return nil, nil, requesterErr("the SAML request URL is malformed", err)
	}
	v, ok := p.decoded["SAMLRequest"]
	if !ok {
		return nil, nil, requesterErr("the SAML request URL has no SAMLRequest", nil)
	}
	if _, ok := p.raw["SigAlg"]; ok {
		if _, ok := p.raw["Signature"]; !ok {
			return nil, nil, requesterErr("the SAML request has SigAlg but no Signature", nil)
		}
	}
	// A '+' sent unencoded has become a space; base64 never has spaces.
	raw, err := decodeBase64(strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return nil, nil, requesterErr("the SAML request is not valid base64", err)
	}
	xmlBytes, err := inflate(raw)
	if err != nil {
		return nil, nil, requesterErr("the SAML request is not valid DEFLATE data", err)
	}
	return p, xmlBytes, nil
}

// decodePost extracts the base64 SAMLRequest of a POST form.
func decodePost(form url.Values) ([]byte, string, error) {
	vals := form["SAMLRequest"]
	if len(vals) != 1 {
		return nil, "", requesterErr("the form must carry exactly one SAMLRequest", nil)
	}
	if len(form["RelayState"]) > 1 {
		return nil, "", requesterErr("the form carries RelayState twice", nil)
	}
	xmlBytes, err := decodeBase64(vals[0])
	if err != nil {
		return nil, "", requesterErr("the SAML request is not valid base64", err)
	}
	return xmlBytes, form.Get("RelayState"), nil
}

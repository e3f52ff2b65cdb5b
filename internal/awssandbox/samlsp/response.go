package samlsp

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Kind classifies why a SAML response was refused, so the caller can answer
// with the matching AWS error.
type Kind int

// Kinds of refusal.
const (
	KindMalformed   Kind = iota + 1 // not base64, not XML, not a SAML 2.0 Response, wrong shape
	KindStatus                      // the IdP reported a non-Success status
	KindIssuer                      // the Issuer is not the provider's entityID
	KindSignature                   // missing or invalid signature
	KindUnsupported                 // a valid feature the sandbox does not implement (encrypted assertions)
)

// Error is a refusal with its kind.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func refuse(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the Kind of err, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Attribute names AWS reads.
const (
	AttrRole            = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrSourceIdentity  = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	AttrPrincipalTag    = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
)

// Assertion is what a verified response says. Every field is read from the
// bytes covered by a verified signature.
type Assertion struct {
	ResponseIssuer  string
	Issuer          string
	Destination     string
	ResponseSigned  bool
	AssertionSigned bool

	ID           string
	IssueInstant time.Time

	NameID          string
	NameIDFormat    string
	HasSubject      bool
	Confirmations   int       // number of SubjectConfirmation elements
	BearerMethod    bool      // the confirmation's Method is bearer
	Recipient       string    // SubjectConfirmationData@Recipient
	SubjectNotAfter time.Time // SubjectConfirmationData@NotOnOrAfter (zero if absent)

	NotBefore    time.Time // Conditions@NotBefore
	NotOnOrAfter time.Time // Conditions@NotOnOrAfter
	Audiences    []string

	AuthnInstant        time.Time
	SessionNotOnOrAfter time.Time

	Attributes map[string][]string
}

// MaxResponseChars is the STS limit on the base64 SAMLAssertion.
const MaxResponseChars = 100000

// Decode base64-decodes a SAMLResponse form value (whitespace tolerated, as
// browsers post line-wrapped values) and checks it is well-formed XML whose
// root is a SAML 2.0 Response.
func Decode(b64 string) (*etree.Element, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, refuse(KindMalformed, "The SAML response is not valid base64")
	}
	if err := CheckXML(raw); err != nil {
		return nil, refuse(KindMalformed, "The SAML response is not acceptable XML: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, refuse(KindMalformed, "The SAML response is not XML: %v", err)
	}
	root := doc.Root()
	if root == nil || !is(root, NSProtocol, "Response") {
		return nil, refuse(KindMalformed, "The SAML response is not a SAML 2.0 Response")
	}
	if root.SelectAttrValue("Version", "") != "2.0" {
		return nil, refuse(KindMalformed, "The SAML response is not SAML 2.0")
	}
	return root, nil
}

// Verify checks a base64 SAMLResponse against a provider's metadata: the
// response must be a successful SAML 2.0 Response with exactly one
// (unencrypted) Assertion, its Issuer must be an entityID in the metadata,
// the Assertion must carry a valid enveloped signature made with one of that
// entity's metadata certificates (KeyInfo in the message is never trusted),
// and a Response signature, when present, must be valid too. Time windows,
// Recipient and attributes are the caller's to judge.
func Verify(b64 string, md *Metadata) (*Assertion, error) {
	root, err := Decode(b64)
	if err != nil {
		return nil, err
	}
	status := ""
	if st := child(root, NSProtocol, "Status"); st != nil {
		if sc := child(st, NSProtocol, "StatusCode"); sc != nil {
			status = sc.SelectAttrValue("Value", "")
		}
	}
	if status != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		return nil, refuse(KindStatus, "The identity provider returned status %q", status)
	}
	if len(children(root, NSAssertion, "EncryptedAssertion")) > 0 {
		return nil, refuse(KindUnsupported, "Encrypted assertions are not supported by the sandbox")
	}
	as := children(root, NSAssertion, "Assertion")
	if len(as) != 1 {
		return nil, refuse(KindMalformed, "The SAML response must contain exactly one Assertion, found %d", len(as))
	}
	if n := countDescendants(root, NSAssertion, "Assertion"); n != 1 {
		return nil, refuse(KindMalformed, "The SAML response must contain exactly one Assertion, found %d", n)
	}
	respIssuer := text(child(root, NSAssertion, "Issuer"))
	issuer := text(child(as[0], NSAssertion, "Issuer"))
	if issuer == "" {
		return nil, refuse(KindMalformed, "The Assertion has no Issuer")
	}
	ent, ok := md.Entity(issuer)
	if !ok || (respIssuer != "" && respIssuer != issuer) {
		return nil, refuse(KindIssuer, "Issuer not present in specified provider")
	}

	out := &Assertion{ResponseIssuer: respIssuer, Issuer: issuer, Destination: root.SelectAttrValue("Destination", "")}
	assertion := as[0]
	if child(root, NSDSig, "Signature") != nil {
		verified, err := validate(root, ent.Certs)
		if err != nil {
			return nil, refuse(KindSignature, "Response signature invalid")
		}
		out.ResponseSigned = true
		vs := children(verified, NSAssertion, "Assertion")
		if len(vs) != 1 {
			return nil, refuse(KindMalformed, "The signed Response must contain exactly one Assertion")
		}
		assertion = vs[0]
		out.Destination = verified.SelectAttrValue("Destination", "")
	}
	if child(assertion, NSDSig, "Signature") == nil {
		return nil, refuse(KindSignature, "Response signature invalid")
	}
	verified, err := validate(assertion, ent.Certs)
	if err != nil {
		return nil, refuse(KindSignature, "Response signature invalid")
	}
	out.AssertionSigned = true
	if err := readAssertion(verified, out); err != nil {
		return nil, err
	}
	if out.Issuer != issuer {
		return nil, refuse(KindIssuer, "Issuer not present in specified provider")
	}
	return out, nil
}

// validate verifies the enveloped signature that is a direct child of el with
// each certificate in turn. KeyInfo is removed first so only the metadata
// certificates are ever used.
func validate(el *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	// Carry namespace declarations inherited from ancestors (an Assertion
	// may rely on prefixes declared on the Response) into the element.
	nsctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(nsctx, el)
	if err != nil {
		return nil, err
	}
	var last error = errors.New("no certificates")
	for _, cert := range certs {
		c := detached.Copy()
		for _, sig := range children(c, NSDSig, "Signature") {
			for _, ki := range children(sig, NSDSig, "KeyInfo") {
				sig.RemoveChild(ki)
			}
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		// IAM trusts the certificate because it is in the uploaded metadata;
		// the sandbox does not judge its validity period (see docs).
		ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore.Add(time.Second))
		v, err := ctx.Validate(c)
		if err == nil {
			if v.SelectAttrValue("ID", "") != el.SelectAttrValue("ID", "") || v.Tag != el.Tag {
				return nil, errors.New("signed element differs")
			}
			return v, nil
		}
		last = err
	}
	return nil, last
}

func readAssertion(a *etree.Element, out *Assertion) error {
	out.ID = a.SelectAttrValue("ID", "")
	if a.SelectAttrValue("Version", "") != "2.0" {
		return refuse(KindMalformed, "The Assertion is not SAML 2.0")
	}
	var err error
	if out.IssueInstant, err = timeAttr(a, "IssueInstant", true); err != nil {
		return err
	}
	out.Issuer = text(child(a, NSAssertion, "Issuer"))
	if subj := child(a, NSAssertion, "Subject"); subj != nil {
		out.HasSubject = true
		if n := child(subj, NSAssertion, "NameID"); n != nil {
			out.NameID = text(n)
			out.NameIDFormat = n.SelectAttrValue("Format", "")
		}
		confs := children(subj, NSAssertion, "SubjectConfirmation")
		out.Confirmations = len(confs)
		if len(confs) > 0 {
			out.BearerMethod = confs[0].SelectAttrValue("Method", "") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
			if d := child(confs[0], NSAssertion, "SubjectConfirmationData"); d != nil {
				out.Recipient = d.SelectAttrValue("Recipient", "")
				if out.SubjectNotAfter, err = timeAttr(d, "NotOnOrAfter", false); err != nil {
					return err
				}
			}
		}
	}
	if c := child(a, NSAssertion, "Conditions"); c != nil {
		if out.NotBefore, err = timeAttr(c, "NotBefore", false); err != nil {
			return err
		}
		if out.NotOnOrAfter, err = timeAttr(c, "NotOnOrAfter", false); err != nil {
			return err
		}
		for _, ar := range children(c, NSAssertion, "AudienceRestriction") {
			for _, au := range children(ar, NSAssertion, "Audience") {
				out.Audiences = append(out.Audiences, text(au))
			}
		}
	}
	if as := child(a, NSAssertion, "AuthnStatement"); as != nil {
		if out.AuthnInstant, err = timeAttr(as, "AuthnInstant", false); err != nil {
			return err
		}
		if out.SessionNotOnOrAfter, err = timeAttr(as, "SessionNotOnOrAfter", false); err != nil {
			return err
		}
	}
	out.Attributes = map[string][]string{}
	for _, st := range children(a, NSAssertion, "AttributeStatement") {
		for _, at := range children(st, NSAssertion, "Attribute") {
			name := at.SelectAttrValue("Name", "")
			for _, v := range children(at, NSAssertion, "AttributeValue") {
				out.Attributes[name] = append(out.Attributes[name], text(v))
			}
		}
	}
	return nil
}

func timeAttr(el *etree.Element, name string, required bool) (time.Time, error) {
	v := el.SelectAttrValue(name, "")
	if v == "" {
		if required {
			return time.Time{}, refuse(KindMalformed, "%s is missing on %s", name, el.Tag)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, refuse(KindMalformed, "%s on %s is not an xs:dateTime", name, el.Tag)
	}
	return t.UTC(), nil
}

func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

func child(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	cs := children(el, ns, local)
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}

func countDescendants(el *etree.Element, ns, local string) int {
	n := 0
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			n++
		}
		n += countDescendants(c, ns, local)
	}
	return n
}

// text returns all character data directly inside el, trimmed.
func text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// PeekAttribute returns the values of an attribute from an unverified
// response tree. Use it only to pick which provider to verify with.
func PeekAttribute(root *etree.Element, name string) []string {
	var out []string
	for _, a := range children(root, NSAssertion, "Assertion") {
		for _, st := range children(a, NSAssertion, "AttributeStatement") {
			for _, at := range children(st, NSAssertion, "Attribute") {
				if at.SelectAttrValue("Name", "") != name {
					continue
				}
				for _, v := range children(at, NSAssertion, "AttributeValue") {
					out = append(out, text(v))
				}
			}
		}
	}
	return out
}

package awssandbox

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/iampolicy"
	"github.com/gatehouse/gatehouse/internal/awssandbox/samlsp"
)

// AWS's documented STS wording.
const (
	msgRedeemWindow     = "Token must be redeemed within 5 minutes of issuance"
	msgNotAuthorized    = "Not authorized to perform sts:AssumeRoleWithSAML"
	msgSessionNameMiss  = "RoleSessionName is required in AuthnResponse"
	msgSessionNameBad   = "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
	msgSignatureInvalid = "Response signature invalid"
	msgIssuer           = "Issuer not present in specified provider"
	msgNoProvider       = "Specified provider doesn't exist."
	msgDurationTooLong  = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	globalSignIn        = "https://signin.aws.amazon.com/saml"
)

// redeemWindow is how long after IssueInstant STS accepts an assertion.
const redeemWindow = 5 * time.Minute

// clockSkew is the tolerance the sandbox grants for IdP clocks running ahead.
const clockSkew = 5 * time.Minute

var (
	reSessionName    = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reRegionalSignIn = regexp.MustCompile(`^https://[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d\.signin\.aws\.amazon\.com/saml$`)
)

func (s *Sandbox) stsActions() map[string]queryHandler {
	return map[string]queryHandler{
		"GetCallerIdentity":  s.stsGetCallerIdentity,
		"AssumeRoleWithSAML": nil, // served unsigned; see serveQuery
	}
}

func (s *Sandbox) stsGetCallerIdentity(c *credential, _ url.Values, _ *http.Request) (any, *apiError) {
	type result struct {
		XMLName xml.Name `xml:"GetCallerIdentityResult"`
		Arn     string   `xml:"Arn"`
		UserID  string   `xml:"UserId"`
		Account string   `xml:"Account"`
	}
	if c.session != nil {
		return result{Arn: c.session.assumedArn(s.accountID), UserID: c.session.userID(), Account: s.accountID}, nil
	}
	return result{Arn: s.adminUser, UserID: s.adminID, Account: s.accountID}, nil
}

// signInAudience maps a SubjectConfirmationData Recipient to the SAML:aud
// value AWS would evaluate, and reports whether it is an AWS sign-in
// endpoint. The sandbox's own /saml stands for the global endpoint.
func signInAudience(recipient, host string) (string, bool) {
	switch {
	case recipient == globalSignIn, recipient == "https://signin.aws.amazon.com/static/saml",
		recipient == "https://signin.amazonaws.cn/saml", recipient == "https://signin.amazonaws-us-gov.com/saml",
		reRegionalSignIn.MatchString(recipient):
		return recipient, true
	}
	u, err := url.Parse(recipient)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && sameHost(u.Host, host) && u.User == nil &&
		(u.Path == "/saml" || u.Path == "/static/saml") && u.RawQuery == "" && u.Fragment == "" {
		return globalSignIn, true
	}
	return "", false
}

// sameHost reports whether a URL host names the sandbox serving the request:
// the same host:port, or loopback names for the same port (localhost,
// 127.0.0.1 and ::1 are one machine).
func sameHost(urlHost, reqHost string) bool {
	if reqHost == "" {
		return false
	}
	if strings.EqualFold(urlHost, reqHost) {
		return true
	}
	uh, up, err1 := net.SplitHostPort(urlHost)
	rh, rp, err2 := net.SplitHostPort(reqHost)
	return err1 == nil && err2 == nil && up == rp && isLoopback(uh) && isLoopback(rh)
}

func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// rolePair is one value of the Role attribute.
type rolePair struct {
	RoleArn     string
	ProviderArn string
}

// parseRolePairs reads "role,provider" values in either order.
func parseRolePairs(values []string) []rolePair {
	var out []rolePair
	for _, v := range values {
		a, b, ok := strings.Cut(v, ",")
		if !ok {
			continue
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		switch {
		case strings.Contains(a, ":role/") && strings.Contains(b, ":saml-provider/"):
			out = append(out, rolePair{a, b})
		case strings.Contains(b, ":role/") && strings.Contains(a, ":saml-provider/"):
			out = append(out, rolePair{b, a})
		}
	}
	return out
}

type assumeInput struct {
	roleArn, principalArn, assertion string
	duration                         int  // DurationSeconds, 0 = default
	console                          bool // sign-in: SessionDuration governs, role maximum does not
	host                             string
}

type assumeOutput struct {
	cred           *credential
	session        *roleSession
	assertion      *samlsp.Assertion
	audience       string
	subjectType    string
	nameQualifier  string
	sourceIdentity string
}

func stsErr(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg, Sender: status < 500}
}

// verifyAssertion checks the SAML response against a provider: signature,
// issuer, subject confirmation, recipient, audience and time windows.
func (s *Sandbox) verifyAssertion(pr *samlProvider, b64, host string) (*samlsp.Assertion, string, *apiError) {
	a, err := samlsp.Verify(b64, pr.md)
	if err != nil {
		switch samlsp.KindOf(err) {
		case samlsp.KindIssuer:
			return nil, "", stsErr(400, "InvalidIdentityToken", msgIssuer)
		case samlsp.KindSignature:
			return nil, "", stsErr(400, "InvalidIdentityToken", msgSignatureInvalid)
		case samlsp.KindStatus:
			return nil, "", stsErr(403, "IDPRejectedClaim", "The identity provider did not authenticate the user: "+err.Error())
		default:
			return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: "+err.Error())
		}
	}
	if !a.HasSubject || a.NameID == "" {
		return nil, "", stsErr(403, "AccessDenied", msgNotAuthorized)
	}
	if a.Confirmations != 1 || !a.BearerMethod || a.Recipient == "" || a.SubjectNotAfter.IsZero() {
		return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: exactly one bearer SubjectConfirmation with Recipient and NotOnOrAfter is required")
	}
	aud, ok := signInAudience(a.Recipient, host)
	if !ok {
		return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: Recipient "+a.Recipient+" is not an AWS sign-in endpoint")
	}
	if a.Destination != "" {
		if _, ok := signInAudience(a.Destination, host); !ok {
			return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: Destination "+a.Destination+" is not an AWS sign-in endpoint")
		}
	}
	if len(a.Audiences) > 0 {
		found := false
		for _, au := range a.Audiences {
			if _, isSignIn := signInAudience(au, host); au == "urn:amazon:webservices" || isSignIn {
				found = true
			}
		}
		if !found {
			return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: the assertion's Audience is not urn:amazon:webservices")
		}
	}
	now := s.now().UTC()
	switch {
	case now.Sub(a.IssueInstant) > redeemWindow,
		!now.Before(a.SubjectNotAfter),
		!a.NotOnOrAfter.IsZero() && !now.Before(a.NotOnOrAfter):
		return nil, "", stsErr(400, "ExpiredTokenException", msgRedeemWindow)
	case a.IssueInstant.Sub(now) > clockSkew, !a.NotBefore.IsZero() && a.NotBefore.Sub(now) > clockSkew:
		return nil, "", stsErr(400, "InvalidIdentityToken", "Invalid SAML response: the assertion is not yet valid")
	}
	return a, aud, nil
}

// assumeRoleWithSAML is AssumeRoleWithSAML as STS and AWS sign-in perform it.
func (s *Sandbox) assumeRoleWithSAML(in assumeInput) (*assumeOutput, *apiError) {
	s.mu.Lock()
	pr := s.providerByArn(in.principalArn)
	s.mu.Unlock()
	if pr == nil {
		return nil, stsErr(400, "InvalidIdentityToken", msgNoProvider)
	}
	a, aud, aerr := s.verifyAssertion(pr, in.assertion, in.host)
	if aerr != nil {
		return nil, aerr
	}
	found := false
	for _, rp := range parseRolePairs(a.Attributes[samlsp.AttrRole]) {
		if rp.RoleArn == in.roleArn && rp.ProviderArn == in.principalArn {
			found = true
		}
	}
	if !found {
		return nil, stsErr(403, "AccessDenied", msgNotAuthorized)
	}
	names := a.Attributes[samlsp.AttrRoleSessionName]
	if len(names) == 0 {
		return nil, stsErr(400, "InvalidIdentityToken", msgSessionNameMiss)
	}
	if len(names) != 1 || !reSessionName.MatchString(names[0]) {
		return nil, stsErr(400, "InvalidIdentityToken", msgSessionNameBad)
	}
	sessionName := names[0]
	sessionDuration := 0
	if v := a.Attributes[samlsp.AttrSessionDuration]; len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		if len(v) != 1 || err != nil || n < 900 || n > 43200 {
			return nil, stsErr(400, "InvalidIdentityToken", "SessionDuration in AuthnResponse must be an integer from 900 to 43200")
		}
		sessionDuration = n
	}
	sourceIdentity := ""
	if v := a.Attributes[samlsp.AttrSourceIdentity]; len(v) > 0 {
		if len(v) != 1 || !reSessionName.MatchString(v[0]) || strings.HasPrefix(strings.ToLower(v[0]), "aws:") {
			return nil, stsErr(400, "InvalidIdentityToken", "Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and must not start with aws:")
		}
		sourceIdentity = v[0]
	}
	hasTags := false
	for k := range a.Attributes {
		hasTags = hasTags || strings.HasPrefix(k, samlsp.AttrPrincipalTag)
	}

	roleName := in.roleArn[strings.LastIndex(in.roleArn, "/")+1:]
	s.mu.Lock()
	ro := s.roles[strings.ToLower(roleName)]
	s.mu.Unlock()
	if ro == nil || ro.arn != in.roleArn {
		return nil, stsErr(403, "AccessDenied", msgNotAuthorized)
	}
	providerName := pr.name
	nameQualifier := nameQualifierOf(a.Issuer, s.accountID, providerName)
	subjectType := subjectTypeOf(a.NameIDFormat)
	ctx := map[string][]string{
		"saml:aud": {aud}, "saml:sub": {a.NameID}, "saml:sub_type": {subjectType}, "saml:iss": {a.Issuer},
		"saml:namequalifier": {nameQualifier}, "saml:doc": {s.accountID + "/" + providerName},
	}
	for k, v := range a.Attributes {
		if strings.HasPrefix(k, "urn:oid:") || strings.HasPrefix(k, "http://schemas.") {
			ctx["saml:"+k] = v
		}
	}
	actions := []string{"sts:AssumeRoleWithSAML"}
	if hasTags {
		actions = append(actions, "sts:TagSession")
	}
	if sourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, act := range actions {
		req := iampolicy.Request{PrincipalType: "Federated", Principal: pr.arn, Action: act, Context: ctx}
		if iampolicy.Evaluate(req, ro.trust) != iampolicy.Allow {
			return nil, stsErr(403, "AccessDenied", msgNotAuthorized)
		}
	}

	now := s.now().UTC()
	var dur time.Duration
	if in.console {
		dur = time.Hour
		if sessionDuration > 0 {
			dur = time.Duration(sessionDuration) * time.Second
		}
	} else {
		if in.duration > ro.maxSession {
			return nil, stsErr(400, "ValidationError", msgDurationTooLong)
		}
		dur = time.Hour
		if in.duration > 0 {
			dur = time.Duration(in.duration) * time.Second
		}
		if sessionDuration > 0 && time.Duration(sessionDuration)*time.Second < dur {
			dur = time.Duration(sessionDuration) * time.Second
		}
	}
	expires := now.Add(dur)
	if !a.SessionNotOnOrAfter.IsZero() && a.SessionNotOnOrAfter.Before(expires) {
		expires = a.SessionNotOnOrAfter
	}
	expires = expires.Truncate(time.Second)
	sess := &roleSession{roleName: ro.name, roleArn: ro.arn, roleID: ro.id, sessionName: sessionName,
		providerArn: pr.arn, nameID: a.NameID, expires: expires}
	akid, _ := s.randomID("ASIA", 16)
	secret, _ := s.randomSecret()
	token := base64.StdEncoding.EncodeToString(s.readRandom(96))
	cred := &credential{accessKeyID: akid, secret: secret, sessionToken: token, expires: expires, session: sess}
	s.mu.Lock()
	s.keys[akid] = cred
	s.mu.Unlock()
	return &assumeOutput{cred: cred, session: sess, assertion: a, audience: aud, subjectType: subjectType,
		nameQualifier: nameQualifier, sourceIdentity: sourceIdentity}, nil
}

// nameQualifierOf is BASE64(SHA1(Issuer + AccountId + "/" + ProviderName)),
// as the STS API reference defines NameQualifier.
func nameQualifierOf(issuer, account, provider string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + provider))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// subjectTypeOf shortens SAML 2.0 and 1.1 NameID format URNs as STS does.
func subjectTypeOf(format string) string {
	for _, p := range []string{"urn:oasis:names:tc:SAML:2.0:nameid-format:", "urn:oasis:names:tc:SAML:1.1:nameid-format:"} {
		if t, ok := strings.CutPrefix(format, p); ok {
			return t
		}
	}
	if format == "" {
		return "unspecified"
	}
	return format
}

func (s *Sandbox) stsAssumeRoleWithSAML(p url.Values, r *http.Request) (any, *apiError) {
	roleArn, aerr := required(p, "RoleArn", "roleArn")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(roleArn, "roleArn", 20, 2048); aerr != nil {
		return nil, aerr
	}
	principalArn, aerr := required(p, "PrincipalArn", "principalArn")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(principalArn, "principalArn", 20, 2048); aerr != nil {
		return nil, aerr
	}
	assertion, aerr := required(p, "SAMLAssertion", "sAMLAssertion")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(assertion, "sAMLAssertion", 4, samlsp.MaxResponseChars); aerr != nil {
		return nil, aerr
	}
	duration, aerr := intParam(p, "DurationSeconds", "durationSeconds", 900, 43200, 0)
	if aerr != nil {
		return nil, aerr
	}
	if pol := p.Get("Policy"); pol != "" {
		if aerr := lengthBetween(pol, "policy", 1, 2048); aerr != nil {
			return nil, aerr
		}
		if _, err := iampolicy.Parse(pol); err != nil {
			return nil, stsErr(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.")
		}
	}
	out, aerr := s.assumeRoleWithSAML(assumeInput{roleArn: roleArn, principalArn: principalArn, assertion: assertion, duration: duration, host: r.Host})
	if aerr != nil {
		return nil, aerr
	}
	type credsXML struct {
		AccessKeyID     string  `xml:"AccessKeyId"`
		SecretAccessKey string  `xml:"SecretAccessKey"`
		SessionToken    string  `xml:"SessionToken"`
		Expiration      awsTime `xml:"Expiration"`
	}
	type userXML struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	type result struct {
		XMLName        xml.Name `xml:"AssumeRoleWithSAMLResult"`
		Issuer         string   `xml:"Issuer"`
		AssumedRole    userXML  `xml:"AssumedRoleUser"`
		Credentials    credsXML `xml:"Credentials"`
		Audience       string   `xml:"Audience"`
		SubjectType    string   `xml:"SubjectType"`
		NameQualifier  string   `xml:"NameQualifier"`
		SourceIdentity string   `xml:"SourceIdentity,omitempty"`
		Subject        string   `xml:"Subject"`
	}
	c := out.cred
	return result{
		Issuer:        out.assertion.Issuer,
		AssumedRole:   userXML{out.session.assumedArn(s.accountID), out.session.userID()},
		Credentials:   credsXML{c.accessKeyID, c.secret, c.sessionToken, awsTime(c.expires)},
		Audience:      out.audience,
		SubjectType:   out.subjectType,
		NameQualifier: out.nameQualifier, SourceIdentity: out.sourceIdentity,
		Subject: out.assertion.NameID,
	}, nil
}

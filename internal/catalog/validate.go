package catalog

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
)

// Limits on app settings.
const (
	MaxLabelLen          = 100
	MaxURLLen            = 2048
	MaxRelayStateLen     = 2048
	MaxRegexLen          = 1024
	MaxAttributeNameLen  = 512
	MaxStatements        = 100
	MaxStatementValues   = 20
	MaxACSEndpoints      = 100
	MaxCertificates      = 10
	MinAssertionLifetime = 60
	MaxAssertionLifetime = 86400
)

var nameIDFormats = []string{NameIDUnspecified, NameIDEmail, NameIDX509, NameIDPersistent, NameIDTransient}

var authnContexts = []string{
	AuthnContextPasswordProtectedTransport,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
	"urn:federation:authentication:windows",
	"oasis:names:tc:SAML:2.0:ac:classes:Kerberos",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos",
}

var attrNamespaces = []string{
	"urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
	"urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
	"urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// problems collects field errors.
type problems []errs.FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, errs.Field(field, "%s: %s", field, fmt.Sprintf(format, args...)))
}

// checkURL reports what is wrong with a URL the IdP sends users or
// assertions to: it must be absolute https (http only for localhost and
// 127.0.0.1), with a host, no credentials, no fragment and no white space.
// The string is never rewritten.
func checkURL(raw string) string {
	if raw == "" {
		return "The field cannot be left blank"
	}
	if len(raw) > MaxURLLen {
		return fmt.Sprintf("must be at most %d characters", MaxURLLen)
	}
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain white space or control characters"
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid URL"
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "https":
	case "http":
		h := strings.ToLower(u.Hostname())
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return "must use https (http is allowed only for localhost and 127.0.0.1)"
		}
	case "":
		return "must be an absolute https URL"
	default:
		return fmt.Sprintf("the %s: scheme is not allowed; use https", scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return "must be an absolute https URL with a host"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment (#)"
	}
	return ""
}

func checkText(p *problems, field, v string, max int, required bool) {
	switch {
	case v == "" && required:
		p.add(field, "The field cannot be left blank")
	case utf8.RuneCountInString(v) > max:
		p.add(field, "must be at most %d characters", max)
	case !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) }) >= 0:
		p.add(field, "must not contain control characters")
	}
}

// compile compiles an expression or template, reporting its error with
// the position in the message.
func compile(p *problems, eng *expr.Engine, field, src string, template bool) {
	var err error
	if template {
		_, err = eng.CompileTemplate(src)
	} else {
		_, err = eng.Compile(src)
	}
	if err != nil {
		p.add(field, "invalid expression: %v", err)
	}
}

// checkCerts parses base64 DER certificates and requires RSA keys of at
// least minBits.
func checkCerts(p *problems, field string, x5c []string, minBits int) []*x509.Certificate {
	if len(x5c) > MaxCertificates {
		p.add(field, "at most %d certificates", MaxCertificates)
		return nil
	}
	var out []*x509.Certificate
	for i, s := range x5c {
		f := fmt.Sprintf("%s[%d]", field, i)
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			p.add(f, "is not base64 (x5c holds base64 DER certificates)")
			continue
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			p.add(f, "is not an X.509 certificate: %v", err)
			continue
		}
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			p.add(f, "has a %s key; only RSA is supported", c.PublicKeyAlgorithm)
			continue
		}
		if pub.N.BitLen() < minBits {
			p.add(f, "has an RSA key of %d bits; at least %d are required", pub.N.BitLen(), minBits)
			continue
		}
		out = append(out, c)
	}
	return out
}

// validateApp checks everything about an app that does not need the store
// and returns every problem at once.
func (s *Service) validateApp(a *App, tmpl *Template) error {
	var p problems
	legacy := s.Config.AllowLegacyCrypto
	label := strings.TrimSpace(a.Label)
	if label == "" {
		p.add("label", "The field cannot be left blank")
	} else {
		checkText(&p, "label", a.Label, MaxLabelLen, true)
	}
	if a.SignOnMode != SignOnModeSAML2 {
		p.add("signOnMode", "%q is not supported; Gatehouse apps use SAML_2_0", a.SignOnMode)
	}
	ut := a.Credentials.UserNameTemplate
	switch ut.Type {
	case UserNameNone, UserNameBuiltIn, UserNameCustom:
	default:
		p.add("credentials.userNameTemplate.type", "must be NONE, BUILT_IN or CUSTOM")
	}
	if ut.Template != "" {
		compile(&p, s.Expr, "credentials.userNameTemplate.template", ut.Template, false)
	} else if ut.Type != UserNameNone {
		p.add("credentials.userNameTemplate.template", "The field cannot be left blank")
	}
	checkText(&p, "settings.notes.admin", a.Settings.Notes.Admin, 4000, false)
	checkText(&p, "settings.notes.enduser", a.Settings.Notes.EndUser, 4000, false)
	s.validateSettingsApp(&p, a, tmpl)
	s.validateSignOn(&p, &a.Settings.SignOn, legacy)
	if len(p) > 0 {
		return errs.InvalidFields("Api validation failed: app", p...)
	}
	return nil
}

func (s *Service) validateSettingsApp(p *problems, a *App, tmpl *Template) {
	for k, v := range a.Settings.App {
		field := "settings.app." + k
		f, ok := tmpl.Field(k)
		if !ok {
			p.add(field, "is not a setting of %s apps", tmpl.Title)
			continue
		}
		if v == nil {
			if f.Required {
				p.add(field, "The field cannot be left blank")
			}
			continue
		}
		switch f.Type {
		case FieldString:
			sv, ok := v.(string)
			if !ok {
				p.add(field, "must be a string")
				continue
			}
			checkText(p, field, sv, 4096, f.Required)
			if len(f.Enum) > 0 && !oneOf(sv, f.Enum) {
				p.add(field, "must be one of %s", strings.Join(f.Enum, ", "))
			}
		case FieldBoolean:
			if _, ok := v.(bool); !ok {
				p.add(field, "must be true or false")
			}
		case FieldInteger:
			switch n := v.(type) {
			case int, int64:
			case float64:
				if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
					p.add(field, "must be a whole number")
				} else {
					a.Settings.App[k] = int64(n)
				}
			default:
				p.add(field, "must be a whole number")
			}
		}
	}
	for _, f := range tmpl.Fields {
		if _, ok := a.Settings.App[f.Name]; !ok && f.Required && !f.WriteOnly {
			p.add("settings.app."+f.Name, "The field cannot be left blank")
		}
	}
}

func (s *Service) validateSignOn(p *problems, so *SignOn, legacy bool) {
	const pre = "settings.signOn."
	minBits := 2048
	if legacy {
		minBits = 1024
	}
	if m := checkURL(so.SSOAcsURL); m != "" {
		p.add(pre+"ssoAcsUrl", "%s", m)
	}
	for name, v := range map[string]string{"recipient": so.Recipient, "destination": so.Destination} {
		if m := checkURL(v); m != "" {
			p.add(pre+name, "%s", m)
		}
	}
	checkText(p, pre+"audience", so.Audience, 1024, true)
	checkText(p, pre+"defaultRelayState", so.DefaultRelayState, MaxRelayStateLen, false)
	checkText(p, pre+"spIssuer", so.SPIssuer, 1024, false)
	if !so.ResponseSigned && !so.AssertionSigned {
		p.add(pre+"assertionSigned", "at least one of responseSigned and assertionSigned must be true")
	}
	switch so.SignatureAlgorithm {
	case "RSA_SHA256":
	case "RSA_SHA1":
		if !legacy {
			p.add(pre+"signatureAlgorithm", "RSA_SHA1 is refused; use RSA_SHA256 (SHA-1 needs the legacy_crypto setting)")
		}
	default:
		p.add(pre+"signatureAlgorithm", "must be RSA_SHA256")
	}
	switch so.DigestAlgorithm {
	case "SHA256":
		if so.SignatureAlgorithm == "RSA_SHA1" {
			p.add(pre+"digestAlgorithm", "must match the signature algorithm (SHA1 with RSA_SHA1)")
		}
	case "SHA1":
		if !legacy {
			p.add(pre+"digestAlgorithm", "SHA1 is refused; use SHA256 (SHA-1 needs the legacy_crypto setting)")
		} else if so.SignatureAlgorithm != "RSA_SHA1" {
			p.add(pre+"digestAlgorithm", "must match the signature algorithm (SHA256 with RSA_SHA256)")
		}
	default:
		p.add(pre+"digestAlgorithm", "must be SHA256")
	}
	if !oneOf(so.SubjectNameIDFormat, nameIDFormats) {
		p.add(pre+"subjectNameIdFormat", "must be one of %s", strings.Join(nameIDFormats, ", "))
	}
	if so.SubjectNameIDTemplate == "" {
		p.add(pre+"subjectNameIdTemplate", "The field cannot be left blank")
	} else {
		compile(p, s.Expr, pre+"subjectNameIdTemplate", so.SubjectNameIDTemplate, false)
	}
	if so.IdPIssuer != "" {
		compile(p, s.Expr, pre+"idpIssuer", so.IdPIssuer, true)
	}
	if so.AuthnContextClassRef != "" && !oneOf(so.AuthnContextClassRef, authnContexts) {
		p.add(pre+"authnContextClassRef", "must be one of %s", strings.Join(authnContexts, ", "))
	}
	if n := so.SAMLAssertionLifetimeSeconds; n != 0 && (n < MinAssertionLifetime || n > MaxAssertionLifetime) {
		p.add(pre+"samlAssertionLifetimeSeconds", "must be between %d and %d", MinAssertionLifetime, MaxAssertionLifetime)
	}
	if len(so.AcsEndpoints) > MaxACSEndpoints {
		p.add(pre+"acsEndpoints", "at most %d endpoints", MaxACSEndpoints)
	} else {
		seen := map[int]bool{}
		for i, e := range so.AcsEndpoints {
			f := fmt.Sprintf("%sacsEndpoints[%d]", pre, i)
			if m := checkURL(e.URL); m != "" {
				p.add(f+".url", "%s", m)
			}
			if e.Index < 0 {
				p.add(f+".index", "must not be negative")
			} else if seen[e.Index] {
				p.add(f+".index", "index %d is used by another endpoint", e.Index)
			}
			seen[e.Index] = true
		}
	}
	if len(so.AttributeStatements) > MaxStatements {
		p.add(pre+"attributeStatements", "at most %d statements", MaxStatements)
	} else {
		names := map[string]bool{}
		for i, st := range so.AttributeStatements {
			s.validateStatement(p, fmt.Sprintf("%sattributeStatements[%d]", pre, i), st, names)
		}
	}
	ae := so.AssertionEncryption
	if ae.Enabled {
		f := pre + "assertionEncryption."
		switch ae.EncryptionAlgorithm {
		case "AES128_CBC", "AES256_CBC", "AES128_GCM", "AES256_GCM":
		default:
			p.add(f+"encryptionAlgorithm", "must be AES128_CBC, AES256_CBC, AES128_GCM or AES256_GCM")
		}
		switch ae.KeyTransportAlgorithm {
		case "RSA_OAEP":
		case "RSA_15":
			if !legacy {
				p.add(f+"keyTransportAlgorithm", "RSA_15 is refused; use RSA_OAEP (RSA_15 needs the legacy_crypto setting)")
			}
		default:
			p.add(f+"keyTransportAlgorithm", "must be RSA_OAEP")
		}
		if len(ae.X5C) == 0 {
			p.add(f+"x5c", "an encryption certificate is required when assertion encryption is enabled")
		}
	}
	checkCerts(p, pre+"assertionEncryption.x5c", ae.X5C, minBits)
	checkCerts(p, pre+"spCertificate.x5c", so.SPCertificate.X5C, minBits)
	if so.SAMLSignedRequestEnabled && len(so.SPCertificate.X5C) == 0 {
		p.add(pre+"samlSignedRequestEnabled", "signed requests need the service provider's signing certificate in spCertificate.x5c")
	}
	if so.SLO.Enabled {
		if m := checkURL(so.SLO.LogoutURL); m != "" {
			p.add(pre+"slo.logoutUrl", "%s", m)
		}
		if len(so.SPCertificate.X5C) == 0 {
			p.add(pre+"slo.enabled", "single logout needs the service provider's signing certificate in spCertificate.x5c: logout requests must be signed")
		}
	}
	checkText(p, pre+"slo.issuer", so.SLO.Issuer, 1024, false)
}

func (s *Service) validateStatement(p *problems, f string, st AttributeStatement, names map[string]bool) {
	checkText(p, f+".name", st.Name, MaxAttributeNameLen, true)
	if st.Name != "" {
		if names[st.Name] {
			p.add(f+".name", "attribute %q is already defined by another statement", st.Name)
		}
		names[st.Name] = true
	}
	if st.Namespace != "" && !oneOf(st.Namespace, attrNamespaces) {
		p.add(f+".namespace", "must be one of %s", strings.Join(attrNamespaces, ", "))
	}
	switch st.Type {
	case StatementExpression, "":
		if len(st.Values) == 0 {
			p.add(f+".values", "at least one value is required")
		}
		if len(st.Values) > MaxStatementValues {
			p.add(f+".values", "at most %d values", MaxStatementValues)
			return
		}
		for j, v := range st.Values {
			vf := fmt.Sprintf("%s.values[%d]", f, j)
			if v == "" {
				p.add(vf, "The field cannot be left blank")
				continue
			}
			compile(p, s.Expr, vf, v, false)
		}
	case StatementGroup:
		switch st.FilterType {
		case FilterStartsWith, FilterEquals, FilterContains:
			checkText(p, f+".filterValue", st.FilterValue, 1024, true)
		case FilterRegex:
			if st.FilterValue == "" {
				p.add(f+".filterValue", "The field cannot be left blank")
			} else if len(st.FilterValue) > MaxRegexLen {
				p.add(f+".filterValue", "must be at most %d characters", MaxRegexLen)
			} else if _, err := regexp.Compile(st.FilterValue); err != nil {
				p.add(f+".filterValue", "invalid regular expression: %v", err)
			}
		default:
			p.add(f+".filterType", "must be STARTS_WITH, EQUALS, CONTAINS or REGEX")
		}
	default:
		p.add(f+".type", "must be EXPRESSION or GROUP")
	}
}

// CompileGroupFilter returns a matcher for a GROUP attribute statement:
// the group names it selects. REGEX filters must match the whole name, as
// in Okta.
func CompileGroupFilter(st AttributeStatement) (func(groupName string) bool, error) {
	v := st.FilterValue
	switch st.FilterType {
	case FilterStartsWith:
		return func(g string) bool { return strings.HasPrefix(g, v) }, nil
	case FilterEquals:
		return func(g string) bool { return g == v }, nil
	case FilterContains:
		return func(g string) bool { return strings.Contains(g, v) }, nil
	case FilterRegex:
		if len(v) > MaxRegexLen {
			return nil, fmt.Errorf("catalog: group filter longer than %d characters", MaxRegexLen)
		}
		re, err := regexp.Compile(`^(?:` + v + `)$`)
		if err != nil {
			return nil, fmt.Errorf("catalog: group filter: %w", err)
		}
		return re.MatchString, nil
	}
	return nil, fmt.Errorf("catalog: unknown group filter type %q", st.FilterType)
}

package aws

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AWS SAML attribute names (case-sensitive) and name formats.
const (
	AttrRole              = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName   = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration   = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrPrincipalTag      = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:" // + tag key
	AttrTransitiveTagKeys = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	AttrSourceIdentity    = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"

	NameFormatURI   = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	NameFormatBasic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// Attribute is one SAML attribute with its values (each an xs:string).
type Attribute struct {
	Name       string
	NameFormat string
	Values     []string
}

// AttributeInput is what the AWS attributes of one assertion are built from.
type AttributeInput struct {
	Settings Settings
	Connect  bool       // apply the Amazon Connect username rules to RoleSessionName
	Pairs    []RolePair // from Entitlements
	// UserName is the app username (credentials.userName): the
	// RoleSessionName, and for Connect the Connect username.
	UserName string
	// PrincipalTags become PrincipalTag:{Key} attributes (the roles' trust
	// policies must allow sts:TagSession).
	PrincipalTags map[string]string
	// TransitiveTagKeys must be keys of PrincipalTags.
	TransitiveTagKeys []string
	// SourceIdentity, when set, becomes the SourceIdentity attribute (the
	// trust policies must allow sts:SetSourceIdentity).
	SourceIdentity string
}

// SessionNameError says a RoleSessionName (or SourceIdentity) value breaks
// an AWS or Amazon Connect rule. Rule is written for the person who can fix
// it.
type SessionNameError struct {
	Attribute string // "RoleSessionName" or "SourceIdentity"
	Value     string
	Rule      string
}

func (e *SessionNameError) Error() string {
	return fmt.Sprintf("aws: invalid %s %q: %s", e.Attribute, e.Value, e.Rule)
}

// AttributeError says an optional attribute passed by the caller (tags) is
// not acceptable to AWS.
type AttributeError struct {
	Attribute string
	Problem   string
}

func (e *AttributeError) Error() string { return "aws: attribute " + e.Attribute + ": " + e.Problem }

var (
	reSessionName        = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reConnectUsername    = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)
	reTagKey             = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	reTagValue           = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	maxSessionTags       = 50
	sessionNameRule      = "AWS requires 2 to 64 characters from letters, digits and + = , . @ _ - (no spaces)"
	connectUsernameRule  = "Amazon Connect requires a username of 2 to 64 characters from letters, digits and . _ @ - (no spaces, no + = ,)"
	connectEmailRule     = "Amazon Connect allows @ only in an email address such as agent@example.com"
	sourceIdentityPrefix = "SourceIdentity must not start with aws:"
)

// CheckRoleSessionName validates a RoleSessionName value; with connect it
// also applies the Amazon Connect username rules (the Connect username must
// equal the RoleSessionName).
func CheckRoleSessionName(v string, connect bool) error {
	if !reSessionName.MatchString(v) {
		return &SessionNameError{Attribute: "RoleSessionName", Value: v, Rule: sessionNameRule}
	}
	if connect {
		return CheckConnectUsername(v)
	}
	return nil
}

// CheckConnectUsername applies Amazon Connect's rules for usernames of SAML
// instances: 2-64 characters from [A-Za-z0-9._@-], and @ only in an email
// address shape.
func CheckConnectUsername(v string) error {
	if !reConnectUsername.MatchString(v) {
		return &SessionNameError{Attribute: "RoleSessionName", Value: v, Rule: connectUsernameRule}
	}
	if strings.Contains(v, "@") && !emailShaped(v) {
		return &SessionNameError{Attribute: "RoleSessionName", Value: v, Rule: connectEmailRule}
	}
	return nil
}

// emailShaped: one @, a non-empty local part, a domain with a dot that
// neither starts nor ends with a dot and has no empty label.
func emailShaped(v string) bool {
	local, domain, _ := strings.Cut(v, "@")
	return strings.Count(v, "@") == 1 && local != "" && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..") &&
		!strings.HasPrefix(local, ".") && !strings.HasSuffix(local, ".")
}

// CheckSourceIdentity validates a SourceIdentity value.
func CheckSourceIdentity(v string) error {
	if strings.HasPrefix(strings.ToLower(v), "aws:") {
		return &SessionNameError{Attribute: "SourceIdentity", Value: v, Rule: sourceIdentityPrefix}
	}
	if !reSessionName.MatchString(v) {
		return &SessionNameError{Attribute: "SourceIdentity", Value: v, Rule: sessionNameRule}
	}
	return nil
}

// Attributes builds the AWS attributes of an assertion, in this order: Role
// (uri name format, one value per pair), RoleSessionName, SessionDuration,
// PrincipalTag:{Key} (sorted by key), TransitiveTagKeys, SourceIdentity (all
// basic name format). It returns *NoRolesError without pairs,
// *SessionNameError for an unusable username or source identity, and
// *AttributeError for bad tags.
func Attributes(in AttributeInput) ([]Attribute, error) {
	if len(in.Pairs) == 0 {
		return nil, &NoRolesError{}
	}
	if err := CheckRoleSessionName(in.UserName, in.Connect); err != nil {
		return nil, err
	}
	d := in.Settings.SessionDuration
	if d == 0 {
		d = DefaultSessionDuration
	}
	if d < MinSessionDuration || d > MaxSessionDuration {
		return nil, &AttributeError{Attribute: "SessionDuration", Problem: fmt.Sprintf("%d is outside %d-%d seconds", d, MinSessionDuration, MaxSessionDuration)}
	}
	roles := make([]string, len(in.Pairs))
	for i, p := range in.Pairs {
		roles[i] = p.String()
	}
	out := []Attribute{
		{Name: AttrRole, NameFormat: NameFormatURI, Values: roles},
		{Name: AttrRoleSessionName, NameFormat: NameFormatBasic, Values: []string{in.UserName}},
		{Name: AttrSessionDuration, NameFormat: NameFormatBasic, Values: []string{strconv.Itoa(d)}},
	}
	if len(in.PrincipalTags) > maxSessionTags {
		return nil, &AttributeError{Attribute: "PrincipalTag", Problem: fmt.Sprintf("%d session tags; AWS allows at most %d", len(in.PrincipalTags), maxSessionTags)}
	}
	keys := make([]string, 0, len(in.PrincipalTags))
	for k := range in.PrincipalTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lower := map[string]string{}
	for _, k := range keys {
		v := in.PrincipalTags[k]
		if !reTagKey.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, &AttributeError{Attribute: "PrincipalTag:" + k, Problem: "tag keys are 1-128 letters, digits, spaces and _ . : / = + - @, not starting with aws:"}
		}
		if prev, dup := lower[strings.ToLower(k)]; dup {
			return nil, &AttributeError{Attribute: "PrincipalTag:" + k, Problem: "tag keys are case-insensitive in AWS; " + prev + " and " + k + " collide"}
		}
		lower[strings.ToLower(k)] = k
		if !utf8.ValidString(v) || !reTagValue.MatchString(v) {
			return nil, &AttributeError{Attribute: "PrincipalTag:" + k, Problem: "tag values are at most 256 letters, digits, spaces and _ . : / = + - @"}
		}
		out = append(out, Attribute{Name: AttrPrincipalTag + k, NameFormat: NameFormatBasic, Values: []string{v}})
	}
	if len(in.TransitiveTagKeys) > 0 {
		var vals []string
		seen := map[string]bool{}
		for _, k := range in.TransitiveTagKeys {
			if _, ok := in.PrincipalTags[k]; !ok {
				return nil, &AttributeError{Attribute: "TransitiveTagKeys", Problem: "key " + k + " is not one of the PrincipalTag keys"}
			}
			if !seen[k] {
				seen[k] = true
				vals = append(vals, k)
			}
		}
		out = append(out, Attribute{Name: AttrTransitiveTagKeys, NameFormat: NameFormatBasic, Values: vals})
	}
	if in.SourceIdentity != "" {
		if err := CheckSourceIdentity(in.SourceIdentity); err != nil {
			return nil, err
		}
		out = append(out, Attribute{Name: AttrSourceIdentity, NameFormat: NameFormatBasic, Values: []string{in.SourceIdentity}})
	}
	return out, nil
}

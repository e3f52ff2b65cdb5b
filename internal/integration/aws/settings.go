package aws

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// FieldError names a settings or assignment field and says what to do about
// it. It is the transport-neutral errs.FieldError.
type FieldError = errs.FieldError

// Environment types (settings.app awsEnvironmentType). "aws.amazon" is
// Okta's value; the China and GovCloud values are Gatehouse's choice (Okta's
// own values for them are not published).
const (
	EnvAWS      = "aws.amazon"
	EnvChina    = "aws.amazon.cn"
	EnvGovCloud = "aws.amazon.gov"
)

// Partitions of ARNs.
const (
	PartitionAWS      = "aws"
	PartitionChina    = "aws-cn"
	PartitionGovCloud = "aws-us-gov"
)

// Sign-in endpoint choices (settings.app signInEndpoint).
const (
	SignInGlobal   = "global"
	SignInRegional = "regional"
)

// Session duration bounds (seconds) of the SessionDuration attribute, and the
// default Okta uses.
const (
	MinSessionDuration     = 900
	MaxSessionDuration     = 43200
	DefaultSessionDuration = 3600
)

// Settings is the settings.app object of the amazon_aws and amazon_connect
// apps, parsed. Field comments give the settings.app key.
type Settings struct {
	EnvironmentType      string   // awsEnvironmentType; default aws.amazon
	IdentityProviderArns []string // identityProviderArn, comma-separated: one IAM SAML provider per account
	SessionDuration      int      // sessionDuration, seconds; default 3600
	JoinAllRoles         bool     // joinAllRoles
	UseGroupMapping      bool     // useGroupMapping
	AppFilter            string   // appFilter; default "okta"
	GroupFilter          string   // groupFilter, Okta syntax with (?{{accountid}}…) and (?{{role}}…)
	RoleValuePattern     string   // roleValuePattern with ${accountid} and ${role}
	OverrideACSURL       string   // overrideAcsURL
	LoginURL             string   // loginURL
	SignInEndpoint       string   // signInEndpoint: global (default) or regional
	SignInRegion         string   // signInRegion, for the regional endpoint
	AccountIDs           []string // accountID ("Connected Accounts IDs"), comma-separated
	AccessKeyID          string   // accessKey
	// SecretKey is the secretKey as submitted (write-only). The caller seals
	// it, stores only the sealed form and clears this field; it is never
	// rendered back.
	SecretKey           string
	WebSSOAllowedClient string // webSSOAllowedClient

	// Amazon Connect.
	Region      string // region of the instance
	InstanceID  string // instanceId
	Destination string // destination: a Connect page path such as /ccp-v2
}

// settingKeys are the settings.app keys ParseSettings reads.
var settingKeys = []string{"awsEnvironmentType", "identityProviderArn", "sessionDuration", "joinAllRoles",
	"useGroupMapping", "appFilter", "groupFilter", "roleValuePattern", "overrideAcsURL", "loginURL",
	"signInEndpoint", "signInRegion", "accountID", "accessKey", "secretKey", "webSSOAllowedClient",
	"region", "instanceId", "destination"}

// ParseSettings reads a settings.app object as decoded from JSON (strings,
// float64 or json-like numbers, booleans, null, string arrays). Unknown keys
// (such as Okta's secretKeyEnc) are ignored. Missing keys get defaults. A
// value of the wrong type is reported as an *errs.Error of kind Invalid with
// one field per problem; the value ranges are checked by Validate.
func ParseSettings(m map[string]any) (Settings, error) {
	s := Settings{EnvironmentType: EnvAWS, SessionDuration: DefaultSessionDuration, AppFilter: "okta", SignInEndpoint: SignInGlobal}
	var bad []FieldError
	str := func(key string, dst *string) {
		v, ok := m[key]
		if !ok || v == nil {
			return
		}
		sv, ok := v.(string)
		if !ok {
			bad = append(bad, errs.Field(key, "must be text"))
			return
		}
		*dst = strings.TrimSpace(sv)
	}
	boolean := func(key string, dst *bool) {
		v, ok := m[key]
		if !ok || v == nil {
			return
		}
		switch b := v.(type) {
		case bool:
			*dst = b
		case string:
			pb, err := strconv.ParseBool(strings.TrimSpace(b))
			if err != nil {
				bad = append(bad, errs.Field(key, "must be true or false"))
				return
			}
			*dst = pb
		default:
			bad = append(bad, errs.Field(key, "must be true or false"))
		}
	}
	list := func(key string, dst *[]string) {
		v, ok := m[key]
		if !ok || v == nil {
			return
		}
		var parts []string
		switch l := v.(type) {
		case string:
			parts = strings.Split(l, ",")
		case []string:
			parts = l
		case []any:
			for _, e := range l {
				es, ok := e.(string)
				if !ok {
					bad = append(bad, errs.Field(key, "must be text, or a list of text"))
					return
				}
				parts = append(parts, es)
			}
		default:
			bad = append(bad, errs.Field(key, "must be text, or a list of text"))
			return
		}
		*dst = nil
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				*dst = append(*dst, p)
			}
		}
	}
	str("awsEnvironmentType", &s.EnvironmentType)
	if s.EnvironmentType == "" {
		s.EnvironmentType = EnvAWS
	}
	list("identityProviderArn", &s.IdentityProviderArns)
	if v, ok := m["sessionDuration"]; ok && v != nil {
		d, err := parseInt(v)
		if err != nil {
			bad = append(bad, errs.Field("sessionDuration", "must be a whole number of seconds between %d and %d", MinSessionDuration, MaxSessionDuration))
		} else {
			s.SessionDuration = d
		}
	}
	boolean("joinAllRoles", &s.JoinAllRoles)
	boolean("useGroupMapping", &s.UseGroupMapping)
	str("appFilter", &s.AppFilter)
	str("groupFilter", &s.GroupFilter)
	str("roleValuePattern", &s.RoleValuePattern)
	str("overrideAcsURL", &s.OverrideACSURL)
	str("loginURL", &s.LoginURL)
	str("signInEndpoint", &s.SignInEndpoint)
	if s.SignInEndpoint == "" {
		s.SignInEndpoint = SignInGlobal
	}
	str("signInRegion", &s.SignInRegion)
	list("accountID", &s.AccountIDs)
	str("accessKey", &s.AccessKeyID)
	str("secretKey", &s.SecretKey)
	str("webSSOAllowedClient", &s.WebSSOAllowedClient)
	str("region", &s.Region)
	str("instanceId", &s.InstanceID)
	str("destination", &s.Destination)
	if len(bad) > 0 {
		return s, errs.InvalidFields("The AWS settings have values of the wrong type.", bad...)
	}
	return s, nil
}

// Map renders s as a settings.app object (the inverse of ParseSettings),
// without the write-only secretKey. Lists are joined with commas, as Okta
// stores them.
func (s Settings) Map() map[string]any {
	m := map[string]any{
		"awsEnvironmentType": s.EnvironmentType, "identityProviderArn": nullable(strings.Join(s.IdentityProviderArns, ",")),
		"sessionDuration": s.SessionDuration, "joinAllRoles": s.JoinAllRoles, "useGroupMapping": s.UseGroupMapping,
		"appFilter": nullable(s.AppFilter), "groupFilter": nullable(s.GroupFilter), "roleValuePattern": nullable(s.RoleValuePattern),
		"overrideAcsURL": nullable(s.OverrideACSURL), "loginURL": nullable(s.LoginURL), "signInEndpoint": s.SignInEndpoint,
		"signInRegion": nullable(s.SignInRegion), "accountID": nullable(strings.Join(s.AccountIDs, ",")),
		"accessKey": nullable(s.AccessKeyID), "secretKey": nil, "webSSOAllowedClient": nullable(s.WebSSOAllowedClient),
		"region": nullable(s.Region), "instanceId": nullable(s.InstanceID), "destination": nullable(s.Destination),
	}
	return m
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func parseInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int32:
		return int(n), nil
	case int64:
		if n > math.MaxInt32 || n < math.MinInt32 {
			return 0, fmt.Errorf("out of range")
		}
		return int(n), nil
	case float64:
		if n != math.Trunc(n) || n > math.MaxInt32 || n < math.MinInt32 {
			return 0, fmt.Errorf("not a whole number")
		}
		return int(n), nil
	case string:
		return strconv.Atoi(strings.TrimSpace(n))
	case interface{ String() string }: // json.Number
		return strconv.Atoi(n.String())
	}
	return 0, fmt.Errorf("not a number")
}

// Partition returns the ARN partition of an environment type ("" when the
// type is unknown).
func Partition(environmentType string) string {
	switch environmentType {
	case EnvAWS, "":
		return PartitionAWS
	case EnvChina:
		return PartitionChina
	case EnvGovCloud:
		return PartitionGovCloud
	}
	return ""
}

// APIRegion is the region Gatehouse signs AWS API calls for: the Connect
// region when set, else the partition's home region of IAM.
func APIRegion(s Settings) string {
	if s.Region != "" {
		return s.Region
	}
	switch Partition(s.EnvironmentType) {
	case PartitionChina:
		return "cn-north-1"
	case PartitionGovCloud:
		return "us-gov-west-1"
	}
	return "us-east-1"
}

var (
	reProviderArn = regexp.MustCompile(`^arn:([a-z-]+):iam::(\d{12}):saml-provider/([\w+=,.@-]{1,128})$`)
	reRoleArn     = regexp.MustCompile(`^arn:([a-z-]+):iam::(\d{12}):role/((?:[\x21-\x7E]*/)?)([\w+=,.@-]{1,64})$`)
	reAccountID   = regexp.MustCompile(`^\d{12}$`)
	reRegion      = regexp.MustCompile(`^([a-z]{2})(-gov|-iso[a-z]?)?-([a-z]+)-(\d{1,2})$`)
	reUUID        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// reAccessKey is the shape of an AWS access key id: AKIA for long-term
	// keys, ASIA for temporary ones. The sandbox issues keys of the same shape.
	reAccessKey = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	reAppFilter = regexp.MustCompile(`^[a-z_]+$`)
	reClientID  = regexp.MustCompile(`^[\x21-\x7E]{1,255}$`)
)

// awsRegionPrefixes are the geographic prefixes of commercial AWS regions.
var awsRegionPrefixes = map[string]bool{"af": true, "ap": true, "ca": true, "eu": true, "il": true, "me": true, "mx": true, "sa": true, "us": true}

// ProviderArn is a parsed IAM SAML provider ARN.
type ProviderArn struct {
	Partition, AccountID, Name string
}

// ParseProviderArn parses arn:<partition>:iam::<12 digits>:saml-provider/<name>.
func ParseProviderArn(s string) (ProviderArn, error) {
	m := reProviderArn.FindStringSubmatch(s)
	if m == nil {
		return ProviderArn{}, fmt.Errorf("%q is not an IAM SAML provider ARN (arn:aws:iam::<12-digit account>:saml-provider/<name>, name of 1-128 characters from letters, digits and +=,.@_-)", s)
	}
	switch m[1] {
	case PartitionAWS, PartitionChina, PartitionGovCloud:
	default:
		return ProviderArn{}, fmt.Errorf("%q has partition %q; use aws, aws-cn or aws-us-gov", s, m[1])
	}
	return ProviderArn{Partition: m[1], AccountID: m[2], Name: m[3]}, nil
}

// RoleArnParts is a parsed IAM role ARN.
type RoleArnParts struct {
	Partition, AccountID, Path, Name string
}

// ParseRoleArn parses arn:<partition>:iam::<12 digits>:role/[path/]<name>.
func ParseRoleArn(s string) (RoleArnParts, error) {
	m := reRoleArn.FindStringSubmatch(s)
	if m == nil {
		return RoleArnParts{}, fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)", s)
	}
	switch m[1] {
	case PartitionAWS, PartitionChina, PartitionGovCloud:
	default:
		return RoleArnParts{}, fmt.Errorf("%q has partition %q; use aws, aws-cn or aws-us-gov", s, m[1])
	}
	return RoleArnParts{Partition: m[1], AccountID: m[2], Path: "/" + m[3], Name: m[4]}, nil
}

// CheckRegion reports whether region is a region code of the partition
// (pattern and known prefixes: cn- for aws-cn, us-gov- for aws-us-gov, the
// commercial geographic prefixes for aws).
func CheckRegion(region, partition string) error {
	m := reRegion.FindStringSubmatch(region)
	if m == nil {
		return fmt.Errorf("%q is not an AWS region code; use a code such as us-east-1, eu-west-2, cn-north-1 or us-gov-west-1", region)
	}
	var regionPartition string
	switch {
	case m[1] == "cn" && m[2] == "":
		regionPartition = PartitionChina
	case m[1] == "us" && m[2] == "-gov":
		regionPartition = PartitionGovCloud
	case m[2] == "" && awsRegionPrefixes[m[1]]:
		regionPartition = PartitionAWS
	default:
		return fmt.Errorf("%q is not a region of the AWS, AWS China or AWS GovCloud (US) partitions", region)
	}
	if partition != "" && regionPartition != partition {
		return fmt.Errorf("%q is a region of partition %s, but the AWS Environment uses partition %s; pick a region of that environment", region, regionPartition, partition)
	}
	return nil
}

// Validate checks every setting and reports every problem at once; nil means
// the settings are usable. connect selects the Amazon Connect rules (region
// and instance ID required, destination allowed).
func Validate(s Settings, connect bool) []FieldError {
	var out []FieldError
	add := func(field, format string, args ...any) { out = append(out, errs.Field(field, format, args...)) }

	partition := Partition(s.EnvironmentType)
	if partition == "" {
		add("awsEnvironmentType", "Unknown AWS Environment %q; use %s (AWS), %s (AWS China) or %s (AWS GovCloud US).", s.EnvironmentType, EnvAWS, EnvChina, EnvGovCloud)
	}

	// No identityProviderArn is fine while the app is being set up: the IAM
	// provider is created from this app's metadata, then its ARN pasted
	// here. Sign-in refuses (NoProviderError) until it is set.
	accounts := map[string]string{}
	for _, a := range s.IdentityProviderArns {
		p, err := ParseProviderArn(a)
		if err != nil {
			add("identityProviderArn", "%v.", err)
			continue
		}
		if partition != "" && p.Partition != partition {
			add("identityProviderArn", "%s is in partition %s, but the AWS Environment %s uses %s; fix the ARN or the AWS Environment.", a, p.Partition, s.EnvironmentType, partition)
		}
		if prev, dup := accounts[p.AccountID]; dup {
			add("identityProviderArn", "%s and %s are both in account %s; give one identity provider ARN per AWS account.", prev, a, p.AccountID)
			continue
		}
		accounts[p.AccountID] = a
	}

	if s.SessionDuration < MinSessionDuration || s.SessionDuration > MaxSessionDuration {
		add("sessionDuration", "Session Duration must be a whole number of seconds from %d (15 minutes) to %d (12 hours); got %d.", MinSessionDuration, MaxSessionDuration, s.SessionDuration)
	}

	for _, id := range s.AccountIDs {
		if !reAccountID.MatchString(id) {
			add("accountID", "%q is not an AWS account ID; use 12 digits, several separated by commas.", id)
		}
	}

	if s.UseGroupMapping {
		out = append(out, validateGroupMapping(s, partition)...)
	}
	if s.AppFilter != "" {
		for _, f := range strings.Split(s.AppFilter, ",") {
			if f = strings.TrimSpace(f); !reAppFilter.MatchString(f) {
				add("appFilter", "%q is not a group source; use a comma-separated list such as okta.", f)
			}
		}
	}

	if s.OverrideACSURL != "" {
		if err := checkURL(s.OverrideACSURL, true); err != nil {
			add("overrideAcsURL", "ACS URL %v.", err)
		}
	}
	if s.LoginURL != "" {
		if err := checkURL(s.LoginURL, false); err != nil {
			add("loginURL", "Login URL %v.", err)
		}
	}

	switch s.SignInEndpoint {
	case SignInGlobal, "":
		if s.SignInRegion != "" {
			if err := CheckRegion(s.SignInRegion, partition); err != nil {
				add("signInRegion", "%v.", err)
			}
		}
	case SignInRegional:
		if partition != PartitionAWS && partition != "" {
			add("signInEndpoint", "Regional AWS sign-in endpoints exist only in the AWS partition; choose global for %s.", s.EnvironmentType)
		} else if s.SignInRegion == "" {
			add("signInRegion", "Choose the region of the regional sign-in endpoint https://<region>.signin.aws.amazon.com/saml, e.g. us-east-1.")
		} else if err := CheckRegion(s.SignInRegion, partition); err != nil {
			add("signInRegion", "%v.", err)
		} else if connect && s.Region != "" && s.SignInRegion != s.Region {
			add("signInRegion", "With a regional sign-in endpoint, sign in through the Connect instance's region %s, or AWS may not redirect to the instance.", s.Region)
		}
	default:
		add("signInEndpoint", "Sign-in endpoint must be global or regional; got %q.", s.SignInEndpoint)
	}

	if s.AccessKeyID != "" && !reAccessKey.MatchString(s.AccessKeyID) {
		add("accessKey", "Access Key must be an AWS access key ID: AKIA (or ASIA) followed by 16 capital letters or digits.")
	}
	if s.SecretKey != "" && s.AccessKeyID == "" {
		add("accessKey", "Paste the Access Key that belongs to the Secret Key.")
	}
	if s.SecretKey != "" && (len(s.SecretKey) < 16 || len(s.SecretKey) > 128 || strings.ContainsAny(s.SecretKey, " \t\r\n")) {
		add("secretKey", "Secret Key must be the 40-character secret access key shown when the access key was created.")
	}
	if s.WebSSOAllowedClient != "" && !reClientID.MatchString(s.WebSSOAllowedClient) {
		add("webSSOAllowedClient", "Allowed web SSO client must be an OIDC client ID without spaces (at most 255 characters).")
	}

	if connect {
		switch {
		case s.Region == "":
			add("region", "Enter the AWS region of the Amazon Connect instance, e.g. us-east-1.")
		default:
			if err := CheckRegion(s.Region, partition); err != nil {
				add("region", "%v.", err)
			}
		}
		switch {
		case s.InstanceID == "":
			add("instanceId", "Enter the Amazon Connect instance ID (the UUID at the end of the instance ARN).")
		case !reUUID.MatchString(s.InstanceID):
			add("instanceId", "%q is not an Amazon Connect instance ID; copy the UUID (such as 2fb42df9-78a2-2e74-d572-c8af67ed289b) from the end of the instance ARN.", s.InstanceID)
		}
		if s.Destination != "" {
			if err := checkDestination(s.Destination); err != nil {
				add("destination", "%v.", err)
			}
		}
	} else {
		if s.Region != "" {
			if err := CheckRegion(s.Region, partition); err != nil {
				add("region", "%v.", err)
			}
		}
		if s.InstanceID != "" {
			add("instanceId", "Instance ID applies to Amazon Connect apps only; clear it.")
		}
		if s.Destination != "" {
			add("destination", "Destination applies to Amazon Connect apps only; clear it.")
		}
	}
	return out
}

// checkURL requires an absolute https URL. For the ACS URL plain http is
// allowed on loopback hosts, where the Gatehouse AWS sandbox listens.
func checkURL(raw string, allowLoopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute https URL such as https://signin.aws.amazon.com/saml")
	}
	if u.User != nil {
		return fmt.Errorf("must not contain a user name or password")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowLoopbackHTTP && isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("must be an absolute https URL (plain http only for a local sandbox on 127.0.0.1 or localhost)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkDestination accepts a Connect page path: starts with "/", no scheme
// or host, at most 256 characters, no control characters or spaces.
func checkDestination(d string) error {
	switch {
	case len(d) > 256:
		return fmt.Errorf("Destination must be at most 256 characters")
	case !strings.HasPrefix(d, "/") || strings.HasPrefix(d, "//") || strings.HasPrefix(d, "/\\"):
		return fmt.Errorf("Destination must be a path on the Connect instance starting with a single /, such as /ccp-v2 or /agent-app-v2")
	case strings.ContainsAny(d, " \\") || strings.ContainsFunc(d, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("Destination must not contain spaces, backslashes or control characters")
	case strings.Contains(d, "://"):
		return fmt.Errorf("Destination must be a path, not a URL: drop the scheme and host")
	}
	return nil
}

package catalog

import "strings"

// This file is the catalog of app templates. Integrations extend it: add a
// template to Templates, its settings.app fields to the field tables, and,
// when the settings need more than type checks, a SettingsValidator keyed
// by the template name in Service.SettingsValidators.

// Template names with fixed app names.
const (
	TemplateAWS     = "amazon_aws"
	TemplateConnect = "amazon_connect"
	// TemplateCustomSAML is the catalog key of custom SAML 2.0 apps. Their
	// app names are generated (<org>_<label>_<n>), never this.
	TemplateCustomSAML = "template_saml_2_0"
)

// AWS sign-in endpoint and audience, the defaults of the AWS templates.
const (
	AWSSignInACS   = "https://signin.aws.amazon.com/saml"
	AWSAudience    = "urn:amazon:webservices"
	AWSDefaultPage = "https://console.aws.amazon.com/ec2/home"
)

// Field types of settings.app fields.
const (
	FieldString  = "string"
	FieldBoolean = "boolean"
	FieldInteger = "integer"
)

// Field describes one settings.app field of a template.
type Field struct {
	Name     string
	Label    string
	Type     string
	Default  any // nil: null
	Help     string
	Required bool
	// Enum lists the allowed values of a string field (empty: any).
	Enum []string
	// WriteOnly fields are secrets: sealed at rest and never returned.
	WriteOnly bool
}

// Template is an entry of the app catalog.
type Template struct {
	// Key identifies the template in the catalog. For templates with a
	// fixed app name it is that name.
	Key string
	// Title is the catalog display name; DefaultLabel the label a new app
	// gets when none is given.
	Title        string
	DefaultLabel string
	Description  string
	// FixedName reports whether apps of this template are named Key;
	// otherwise names are generated.
	FixedName   bool
	SignOnModes []string
	Fields      []Field
	// DefaultSignOn is settings.signOn of a new app before the caller's
	// values are applied.
	DefaultSignOn SignOn
	// LinkID is the last part of the app's dashboard link
	// /home/<name>/<app id>/<link id>.
	LinkID string
}

// Field returns the field named name.
func (t *Template) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// DefaultSettings returns a fresh settings.app map with every non-secret
// field at its default.
func (t *Template) DefaultSettings() map[string]any {
	m := map[string]any{}
	for _, f := range t.Fields {
		if !f.WriteOnly {
			m[f.Name] = f.Default
		}
	}
	return m
}

// Templates returns the catalog, freshly built (callers may modify it).
func Templates() []*Template {
	return []*Template{customSAMLTemplate(), awsTemplate(), connectTemplate()}
}

// TemplateFor returns the template of an app name: the template with that
// fixed name, else the custom SAML template.
func TemplateFor(appName string) *Template {
	for _, t := range Templates() {
		if t.FixedName && t.Key == appName {
			return t
		}
	}
	return customSAMLTemplate()
}

// TemplateByKey returns the template with the given key, or nil.
func TemplateByKey(key string) *Template {
	for _, t := range Templates() {
		if t.Key == key {
			return t
		}
	}
	return nil
}

// SearchTemplates returns the templates whose key, title or default label
// contains q (case-insensitive); all of them for an empty q.
func SearchTemplates(q string) []*Template {
	q = strings.ToLower(strings.TrimSpace(q))
	var out []*Template
	for _, t := range Templates() {
		if q == "" || strings.Contains(strings.ToLower(t.Key), q) || strings.Contains(strings.ToLower(t.Title), q) ||
			strings.Contains(strings.ToLower(t.DefaultLabel), q) {
			out = append(out, t)
		}
	}
	return out
}

func customSAMLTemplate() *Template {
	return &Template{
		Key:          TemplateCustomSAML,
		Title:        "Custom SAML 2.0",
		DefaultLabel: "",
		Description:  "Any service provider that accepts SAML 2.0: enter its ACS URL and audience, choose what is signed and which attributes are sent.",
		SignOnModes:  []string{SignOnModeSAML2},
		LinkID:       "login",
		DefaultSignOn: SignOn{
			IdPIssuer:             DefaultIdPIssuer,
			SubjectNameIDTemplate: "${user.userName}",
			SubjectNameIDFormat:   NameIDUnspecified,
			ResponseSigned:        true,
			AssertionSigned:       true,
			SignatureAlgorithm:    "RSA_SHA256",
			DigestAlgorithm:       "SHA256",
			HonorForceAuthn:       true,
			AuthnContextClassRef:  AuthnContextPasswordProtectedTransport,
		},
	}
}

func awsSignOn() SignOn {
	return SignOn{
		SSOAcsURL:             AWSSignInACS,
		Recipient:             AWSSignInACS,
		Destination:           AWSSignInACS,
		Audience:              AWSAudience,
		IdPIssuer:             DefaultIdPIssuer,
		SubjectNameIDTemplate: "${user.userName}",
		SubjectNameIDFormat:   NameIDUnspecified,
		ResponseSigned:        true,
		AssertionSigned:       true,
		SignatureAlgorithm:    "RSA_SHA256",
		DigestAlgorithm:       "SHA256",
		HonorForceAuthn:       false,
		AuthnContextClassRef:  AuthnContextPasswordProtectedTransport,
	}
}

// awsFields are the settings.app fields shared by the AWS templates (Okta's
// "AWS Account Federation" names and defaults).
func awsFields() []Field {
	return []Field{
		{Name: "awsEnvironmentType", Label: "AWS Environment", Type: FieldString, Default: "aws.amazon",
			Help: "Which AWS partition the app signs in to; selects the AWS sign-in ACS URL."},
		{Name: "identityProviderArn", Label: "Identity Provider ARN", Type: FieldString,
			Help: "ARN of the IAM SAML provider that trusts Gatehouse, e.g. arn:aws:iam::123456789012:saml-provider/Gatehouse. Required for a single account."},
		{Name: "overrideAcsURL", Label: "ACS URL (optional)", Type: FieldString,
			Help: "Another AWS sign-in ACS, such as a regional https://<region>.signin.aws.amazon.com/saml."},
		{Name: "sessionDuration", Label: "Session Duration", Type: FieldInteger, Default: 3600,
			Help: "Seconds the AWS console session lasts (SessionDuration attribute, 900-43200)."},
		{Name: "joinAllRoles", Label: "Join all roles", Type: FieldBoolean, Default: false,
			Help: "Off: only the roles of the user's own assignment. On: the union of user and group assignment roles."},
		{Name: "useGroupMapping", Label: "Use Group Mapping", Type: FieldBoolean, Default: false,
			Help: "Derive roles from group names with Group Filter and Role Value Pattern instead of assignment profiles."},
		{Name: "appFilter", Label: "App Filter", Type: FieldString, Default: "okta",
			Help: "Comma-separated group sources considered for group mapping."},
		{Name: "groupFilter", Label: "Group Filter", Type: FieldString, Default: `aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`,
			Help: "Regular expression over group names with the named captures (?{{accountid}}...) and (?{{role}}...)."},
		{Name: "roleValuePattern", Label: "Role Value Pattern", Type: FieldString, Default: "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}",
			Help: "How a matched group becomes a provider,role pair; ${accountid} and ${role} are the captures."},
		{Name: "webSSOAllowedClient", Label: "Allowed web SSO client", Type: FieldString,
			Help: "OIDC client id allowed to use this app for CLI web SSO."},
		{Name: "loginURL", Label: "Login URL", Type: FieldString, Default: AWSDefaultPage,
			Help: "Page opened after a bookmark-style sign-in; not used by SAML."},
		{Name: "accountID", Label: "Connected Accounts IDs", Type: FieldString,
			Help: "Comma-separated AWS account ids whose roles are imported (optional)."},
		{Name: "accessKey", Label: "Access Key", Type: FieldString, WriteOnly: true,
			Help: "Access key id of an IAM user allowed iam:ListRoles and iam:ListAccountAliases, used only to import roles. Write-only."},
		{Name: "secretKey", Label: "Secret Key", Type: FieldString, WriteOnly: true,
			Help: "Secret access key of that IAM user. Write-only: stored encrypted and never returned."},
	}
}

func awsTemplate() *Template {
	return &Template{
		Key:           TemplateAWS,
		Title:         "Amazon Web Services",
		DefaultLabel:  "AWS Account Federation",
		Description:   "Sign in to the AWS console through IAM SAML federation, with roles from assignment profiles or group names.",
		FixedName:     true,
		SignOnModes:   []string{SignOnModeSAML2},
		Fields:        awsFields(),
		DefaultSignOn: awsSignOn(),
		LinkID:        "272",
	}
}

func connectTemplate() *Template {
	fields := append(awsFields(),
		Field{Name: "region", Label: "Region", Type: FieldString,
			Help: "AWS region of the Amazon Connect instance, e.g. eu-west-2."},
		Field{Name: "instanceId", Label: "Instance ID", Type: FieldString,
			Help: "Id of the Amazon Connect instance; with the region it gives the default relay state https://<region>.console.aws.amazon.com/connect/federate/<instance-id>."},
	)
	return &Template{
		Key:           TemplateConnect,
		Title:         "Amazon Connect",
		DefaultLabel:  "Amazon Connect",
		Description:   "Sign agents in to an Amazon Connect instance through AWS SAML federation; the app username is the Connect username.",
		FixedName:     true,
		SignOnModes:   []string{SignOnModeSAML2},
		Fields:        fields,
		DefaultSignOn: awsSignOn(),
		LinkID:        "login",
	}
}

package catalog

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"time"
)

// Status is an app's lifecycle status.
type Status string

// App statuses.
const (
	Active   Status = "ACTIVE"
	Inactive Status = "INACTIVE"
)

// SignOnModeSAML2 is the only sign-on mode Gatehouse implements.
const SignOnModeSAML2 = "SAML_2_0"

// User name template types (Okta credentials.userNameTemplate.type).
const (
	UserNameNone    = "NONE"
	UserNameBuiltIn = "BUILT_IN"
	UserNameCustom  = "CUSTOM"
)

// DefaultUserNameTemplate is Okta's default app username: the user's login.
const DefaultUserNameTemplate = "${source.login}"

// DefaultIdPIssuer is the default SAML issuer (entity ID) template:
// Gatehouse's base URL and the app's external key, the way Okta uses its
// org URL and the key. ${org.baseUrl} and ${org.externalKey} are replaced.
const DefaultIdPIssuer = "${org.baseUrl}/${org.externalKey}"

// NameID formats accepted in subjectNameIdFormat.
const (
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDX509        = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
)

// AuthnContextPasswordProtectedTransport is the default authentication
// context class.
const AuthnContextPasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

// App is an app instance.
type App struct {
	ID string
	// Name is the template name for catalog apps (amazon_aws,
	// amazon_connect) and a generated unique name for custom SAML apps.
	Name       string
	Label      string
	Status     Status
	SignOnMode string
	// ExternalKey (exk...) appears in the SSO URL and the default entity ID.
	ExternalKey   string
	Created       time.Time
	LastUpdated   time.Time
	Visibility    Visibility
	Accessibility Accessibility
	Credentials   Credentials
	Settings      Settings
	// Secrets are the sealed write-only settings.app values (accessKey,
	// secretKey), by key. They are never rendered; Service.AppSecret opens
	// one.
	Secrets map[string]string
	// Version increases with every write; used to detect lost updates.
	Version int64
}

// Visibility is Okta's visibility object.
type Visibility struct {
	AutoSubmitToolbar bool            `json:"autoSubmitToolbar"`
	Hide              Hide            `json:"hide"`
	AppLinks          map[string]bool `json:"appLinks"`
}

// Hide says where the app's tile is hidden.
type Hide struct {
	IOS bool `json:"iOS"`
	Web bool `json:"web"`
}

// Accessibility is Okta's accessibility object.
type Accessibility struct {
	SelfService      bool   `json:"selfService"`
	ErrorRedirectURL string `json:"errorRedirectUrl,omitempty"`
	LoginRedirectURL string `json:"loginRedirectUrl,omitempty"`
}

// Credentials are the app's username template and signing key choice.
type Credentials struct {
	UserNameTemplate UserNameTemplate `json:"userNameTemplate"`
	// SigningKid is the kid of the active signing key.
	SigningKid string `json:"signingKid"`
}

// UserNameTemplate computes app usernames (Okta credentials.userNameTemplate).
type UserNameTemplate struct {
	Template string `json:"template"`
	Type     string `json:"type"`
}

// Settings are settings.app, settings.signOn and settings.notes.
type Settings struct {
	// App holds the template-specific settings (settings.app), minus
	// write-only keys, which live sealed in App.Secrets.
	App    map[string]any `json:"app"`
	SignOn SignOn         `json:"signOn"`
	Notes  Notes          `json:"notes"`
}

// Notes are free text for admins and end users.
type Notes struct {
	Admin   string `json:"admin,omitempty"`
	EndUser string `json:"enduser,omitempty"`
}

// SignOn is settings.signOn of a SAML 2.0 app, with Okta's field names.
type SignOn struct {
	DefaultRelayState            string               `json:"defaultRelayState"`
	SSOAcsURL                    string               `json:"ssoAcsUrl"`
	IdPIssuer                    string               `json:"idpIssuer"`
	Audience                     string               `json:"audience"`
	Recipient                    string               `json:"recipient"`
	Destination                  string               `json:"destination"`
	SubjectNameIDTemplate        string               `json:"subjectNameIdTemplate"`
	SubjectNameIDFormat          string               `json:"subjectNameIdFormat"`
	ResponseSigned               bool                 `json:"responseSigned"`
	AssertionSigned              bool                 `json:"assertionSigned"`
	SignatureAlgorithm           string               `json:"signatureAlgorithm"`
	DigestAlgorithm              string               `json:"digestAlgorithm"`
	HonorForceAuthn              bool                 `json:"honorForceAuthn"`
	AuthnContextClassRef         string               `json:"authnContextClassRef"`
	SPIssuer                     string               `json:"spIssuer"`
	RequestCompressed            bool                 `json:"requestCompressed"`
	AllowMultipleAcsEndpoints    bool                 `json:"allowMultipleAcsEndpoints"`
	AcsEndpoints                 []ACSEndpoint        `json:"acsEndpoints"`
	AttributeStatements          []AttributeStatement `json:"attributeStatements"`
	AssertionEncryption          AssertionEncryption  `json:"assertionEncryption"`
	SPCertificate                SPCertificate        `json:"spCertificate"`
	SAMLSignedRequestEnabled     bool                 `json:"samlSignedRequestEnabled"`
	SLO                          SLO                  `json:"slo"`
	SAMLAssertionLifetimeSeconds int                  `json:"samlAssertionLifetimeSeconds"`
}

// ACSEndpoint is one more requestable assertion consumer service.
type ACSEndpoint struct {
	URL   string `json:"url"`
	Index int    `json:"index"`
}

// Attribute statement types.
const (
	StatementExpression = "EXPRESSION"
	StatementGroup      = "GROUP"
)

// Group attribute filter types.
const (
	FilterStartsWith = "STARTS_WITH"
	FilterEquals     = "EQUALS"
	FilterContains   = "CONTAINS"
	FilterRegex      = "REGEX"
)

// AttributeStatement is an EXPRESSION statement (Values are expressions)
// or a GROUP statement (the user's group names that pass the filter).
type AttributeStatement struct {
	Type        string   `json:"type"`
	Name        string   `json:"name"`
	Namespace   string   `json:"namespace"`
	Values      []string `json:"values,omitempty"`
	FilterType  string   `json:"filterType,omitempty"`
	FilterValue string   `json:"filterValue,omitempty"`
}

// AssertionEncryption is Okta's assertionEncryption.
type AssertionEncryption struct {
	Enabled               bool     `json:"enabled"`
	EncryptionAlgorithm   string   `json:"encryptionAlgorithm,omitempty"`
	KeyTransportAlgorithm string   `json:"keyTransportAlgorithm,omitempty"`
	X5C                   []string `json:"x5c,omitempty"`
}

// SPCertificate holds the SP's request-signing certificates.
type SPCertificate struct {
	X5C []string `json:"x5c,omitempty"`
}

// SLO is the single logout configuration.
type SLO struct {
	Enabled   bool   `json:"enabled"`
	Issuer    string `json:"issuer,omitempty"`
	LogoutURL string `json:"logoutUrl,omitempty"`
}

// EntityID is the IdP entity ID (SAML Issuer) of the app: idpIssuer with
// ${org.externalKey} replaced by the app's external key.
func (a *App) EntityID(baseURL string) string {
	iss := a.Settings.SignOn.IdPIssuer
	if iss == "" {
		iss = DefaultIdPIssuer
	}
	return strings.NewReplacer("${org.externalKey}", a.ExternalKey, "${org.baseUrl}", strings.TrimRight(baseURL, "/")).Replace(iss)
}

// SSOPath is the path of the app's IdP SSO endpoint.
func (a *App) SSOPath() string { return "/app/" + a.Name + "/" + a.ExternalKey + "/sso/saml" }

// LoginLinkPath is the path of the app's dashboard link
// (/home/<name>/<id>/<link id>), which starts IdP-initiated sign-in.
func (a *App) LoginLinkPath() string {
	return "/home/" + a.Name + "/" + a.ID + "/" + TemplateFor(a.Name).LinkID
}

// MetadataPath is the public path of the app's IdP metadata.
func (a *App) MetadataPath() string { return "/app/" + a.ExternalKey + "/sso/saml/metadata" }

// Key statuses, as the keys API shows them.
const (
	KeyActive   = "ACTIVE"
	KeyInactive = "INACTIVE"
)

// KeyRecord is a stored signing key of an app. The private key is sealed.
type KeyRecord struct {
	AppID string
	Kid   string
	// Certificate is the DER of the self-signed certificate.
	Certificate []byte
	// SealedKey is the PKCS#8 DER private key sealed with the context
	// "app:<appID>:key:<kid>".
	SealedKey string
	Bits      int
	Created   time.Time
	ExpiresAt time.Time
}

// SigningKey is a usable key: the parsed private key and its certificate.
type SigningKey struct {
	Kid         string
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
}

// Scope says how a user got an app.
type Scope string

// Assignment scopes.
const (
	ScopeUser  Scope = "USER"
	ScopeGroup Scope = "GROUP"
)

// Assignment is a user's assignment to an app. Stored assignments are
// direct (ScopeUser); effective assignments computed from a group carry
// ScopeGroup and the GroupID they come from.
type Assignment struct {
	AppID  string
	UserID string
	Scope  Scope
	// GroupID is the group the assignment comes from (ScopeGroup only).
	GroupID string
	// UserName is the app username. For a stored assignment an empty value
	// means "computed from the app's userNameTemplate"; the service always
	// returns it computed.
	UserName string
	// UserNameSet reports whether UserName was given explicitly.
	UserNameSet   bool
	Profile       map[string]any
	ExternalID    string
	Status        string
	SyncState     string
	Created       time.Time
	LastUpdated   time.Time
	StatusChanged time.Time
}

// GroupAssignment assigns an app to every member of a group. A lower
// Priority wins when a user gets the app through several groups.
type GroupAssignment struct {
	AppID       string
	GroupID     string
	Priority    int
	Profile     map[string]any
	LastUpdated time.Time
}

// GroupGrant is a group assignment that reaches one user.
type GroupGrant struct {
	UserID string
	GroupAssignment
}

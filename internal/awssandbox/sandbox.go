// Package awssandbox is a local stand-in, on loopback, for the parts of AWS
// that Okta-style SAML federation into Amazon Connect uses: IAM SAML
// providers and roles (query protocol), STS AssumeRoleWithSAML and
// GetCallerIdentity, the AWS sign-in SAML endpoint with its role picker and
// console session, and the Amazon Connect user-management API (restJson1)
// with its federation page. Every signed call is checked with the sandbox's
// own SigV4 verifier against keys it issued, so the unmodified AWS SDK for Go
// (or the AWS CLI) can be pointed at it with a base-endpoint override.
//
// It shares no SAML or signature code with Gatehouse's IdP: SAML responses are
// verified by package samlsp (goxmldsig plus its own parsing).
package awssandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/iampolicy"
	"github.com/gatehouse/gatehouse/internal/awssandbox/sigv4"
)

// Options configures a Sandbox. Zero values get defaults.
type Options struct {
	AccountID       string           // 12 digits; default 123456789012
	Region          string           // default us-east-1
	Clock           func() time.Time // default time.Now
	Random          io.Reader        // default crypto/rand.Reader
	AccessKeyID     string           // fixed credentials for the sandbox admin user (optional)
	SecretAccessKey string
	AccountAlias    string  // returned by ListAccountAliases when set
	InstanceID      string  // id of the pre-created Connect instance (default random UUID)
	InstanceAlias   string  // default "gatehouse-sandbox"
	ConnectRate     float64 // Connect API token refill per second, per account+region; default 2
	ConnectBurst    int     // bucket size; default 5
	HeavyThrottle   bool    // tests: 0.2 req/s, burst 1 (overrides rate and burst)
	UserQuota       int     // Connect users per instance; default 500
}

// Sandbox is the emulated AWS account. All state lives in memory behind mu.
type Sandbox struct {
	accountID, region string
	now               func() time.Time
	random            io.Reader

	mu        sync.Mutex
	adminUser string // IAM user ARN of the issued admin key
	adminID   string
	adminKey  string
	keys      map[string]*credential
	alias     string
	providers map[string]*samlProvider // by name
	roles     map[string]*role         // by name
	policies  map[string]*managedPolicy
	instances map[string]*instance
	instOrder []string
	sessions  map[string]*consoleSession
	calls     map[string]int
	throttled int
	bucket    tokenBucket
	quota     int
	feds      []Federation
}

// credential is an access key the sandbox issued.
type credential struct {
	accessKeyID  string
	secret       string
	sessionToken string    // empty for long-term keys
	expires      time.Time // zero for long-term keys
	session      *roleSession
}

// roleSession is the identity behind temporary credentials or a console
// session: one AssumeRoleWithSAML.
type roleSession struct {
	roleName    string
	roleArn     string
	roleID      string
	sessionName string
	providerArn string
	nameID      string
	expires     time.Time
}

func (s *roleSession) assumedArn(account string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + s.roleName + "/" + s.sessionName
}

func (s *roleSession) userID() string { return s.roleID + ":" + s.sessionName }

// New creates a sandbox with one Amazon Connect instance (SAML identity
// management) and an admin access key.
func New(o Options) (*Sandbox, error) {
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if len(o.AccountID) != 12 || strings.Trim(o.AccountID, "0123456789") != "" {
		return nil, fmt.Errorf("awssandbox: account id %q must be 12 digits", o.AccountID)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Reader
	}
	if o.ConnectRate == 0 {
		o.ConnectRate = 2
	}
	if o.ConnectBurst == 0 {
		o.ConnectBurst = 5
	}
	if o.HeavyThrottle {
		o.ConnectRate, o.ConnectBurst = 0.2, 1
	}
	if o.UserQuota == 0 {
		o.UserQuota = 500
	}
	if o.InstanceAlias == "" {
		o.InstanceAlias = "gatehouse-sandbox"
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return nil, fmt.Errorf("awssandbox: set both AccessKeyID and SecretAccessKey, or neither")
	}
	s := &Sandbox{
		accountID: o.AccountID, region: o.Region, now: o.Clock, random: o.Random,
		keys: map[string]*credential{}, alias: o.AccountAlias,
		providers: map[string]*samlProvider{}, roles: map[string]*role{}, policies: map[string]*managedPolicy{},
		instances: map[string]*instance{}, sessions: map[string]*consoleSession{}, calls: map[string]int{},
		quota: o.UserQuota,
	}
	s.bucket = tokenBucket{rate: o.ConnectRate, burst: float64(o.ConnectBurst), tokens: float64(o.ConnectBurst), last: s.now()}
	var err error
	key, secret := o.AccessKeyID, o.SecretAccessKey
	if key == "" {
		if key, err = s.randomID("AKIA", 16); err != nil {
			return nil, err
		}
		if secret, err = s.randomSecret(); err != nil {
			return nil, err
		}
	}
	if s.adminID, err = s.randomID("AIDA", 17); err != nil {
		return nil, err
	}
	s.adminKey = key
	s.adminUser = "arn:aws:iam::" + s.accountID + ":user/gatehouse-sandbox"
	s.keys[key] = &credential{accessKeyID: key, secret: secret}
	for arn, doc := range awsManagedPolicies {
		d, err := iampolicy.Parse(doc)
		if err != nil {
			return nil, fmt.Errorf("awssandbox: managed policy %s: %w", arn, err)
		}
		s.policies[arn] = &managedPolicy{arn: arn, name: arn[strings.LastIndex(arn, "/")+1:], doc: doc, parsed: d, awsManaged: true}
	}
	if _, err := s.createInstance(o.InstanceID, o.InstanceAlias); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler serves every emulated endpoint on one http.Handler.
func (s *Sandbox) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// maxBody bounds request bodies: a 10,000,000-character metadata document,
// form-encoded, fits.
const maxBody = 32 << 20

func (s *Sandbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/saml" || r.URL.Path == "/static/saml":
		if r.Header.Get("Authorization") == "" {
			if r.Method != http.MethodPost {
				s.renderError(w, http.StatusMethodNotAllowed, "AWS sign-in accepts SAML responses by HTTP POST only.", "MethodNotAllowed")
				return
			}
			s.serveSignIn(w, r)
			return
		}
	case strings.HasPrefix(r.URL.Path, "/connect/federate/"):
		s.serveFederate(w, r)
		return
	case r.URL.Path == "/console" || r.URL.Path == "/console/home":
		s.serveConsoleHome(w, r)
		return
	case r.URL.Path == "/logout":
		s.serveLogout(w, r)
		return
	case r.URL.Path == "/static/saml-metadata.xml":
		s.serveSPMetadata(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	authz := r.Header.Get("Authorization")
	service := ""
	if authz != "" {
		if a, err := sigv4.ParseAuthorization(authz); err == nil {
			service = a.Service
		} else if looksLikeQuery(r, body) {
			service = "iam" // answered with IncompleteSignature by authenticate
		} else {
			service = "connect"
		}
	}
	switch {
	case service == "connect":
		s.serveConnect(w, r, body)
	case service == "iam" || service == "sts":
		s.serveQuery(w, r, body, service)
	case service == "" && looksLikeQuery(r, body):
		s.serveQuery(w, r, body, "")
	case service == "" && r.Method == http.MethodGet && r.URL.Path == "/":
		s.serveIndex(w, r)
	case service == "" && isConnectPath(r.URL.Path):
		writeJSONError(w, &apiError{Status: 403, Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"})
	default:
		writeQueryError(w, "", &apiError{Status: 400, Code: "InvalidAction", Message: "The action or operation requested is invalid. Verify that the action is typed correctly."}, s.requestID())
	}
}

// apiError is an AWS error before it is rendered in a protocol's shape.
type apiError struct {
	Status  int
	Code    string
	Message string
	Sender  bool // query protocol <Type>: Sender (client) or Receiver
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func (s *Sandbox) count(op string) {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
}

func (s *Sandbox) readRandom(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.random, b); err != nil {
		panic(fmt.Sprintf("awssandbox: randomness source failed: %v", err))
	}
	return b
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func (s *Sandbox) randomID(prefix string, n int) (string, error) {
	b := s.readRandom(n)
	out := []byte(prefix)
	for _, c := range b {
		out = append(out, idAlphabet[int(c)%len(idAlphabet)])
	}
	return string(out), nil
}

func (s *Sandbox) randomSecret() (string, error) {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := s.readRandom(40)
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(b), nil
}

func (s *Sandbox) uuid() string {
	b := s.readRandom(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Sandbox) requestID() string { return s.uuid() }

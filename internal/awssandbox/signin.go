package awssandbox

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/iampolicy"
	"github.com/gatehouse/gatehouse/internal/awssandbox/samlsp"
)

// AWS's wording on sign-in and Connect federation failures.
const (
	MsgInvalidSAMLResponse = "Your request included an invalid SAML response. To logout, click here."
	MsgNotOnboarded        = "Access Denied. Your account has been authenticated, but has not been onboarded to this application."
	MsgFederationDenied    = "Access denied, Please contact your AWS account administrator for assistance."
)

const sessionCookie = "aws-sandbox-console"

type consoleSession struct {
	id      string
	role    *roleSession
	expires time.Time
}

// Federation records one successful Connect federation (browser or API).
type Federation struct {
	InstanceID string
	Username   string
	RoleArn    string
	At         time.Time
}

var reConsoleFederate = regexp.MustCompile(`^https://([a-z0-9-]+\.)?console\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)/connect/federate/([^/?#]+)/?$`)

// federateTarget maps a RelayState to the sandbox's federation page, or "".
func federateTarget(relay, host string) string {
	u, err := url.Parse(relay)
	if err != nil || relay == "" {
		return ""
	}
	id := ""
	if m := reConsoleFederate.FindStringSubmatch(u.Scheme + "://" + u.Host + u.Path); m != nil && u.User == nil {
		id = m[3]
	} else if (u.Host == host || (u.Host == "" && u.Scheme == "")) && strings.HasPrefix(u.Path, "/connect/federate/") &&
		!strings.HasPrefix(relay, "//") && u.User == nil {
		id = strings.TrimSuffix(strings.TrimPrefix(u.Path, "/connect/federate/"), "/")
		if strings.Contains(id, "/") || id == "" {
			return ""
		}
	}
	if id == "" {
		return ""
	}
	target := "/connect/federate/" + url.PathEscape(id)
	if d := u.Query().Get("destination"); d != "" {
		target += "?destination=" + url.QueryEscape(d)
	}
	return target
}

func (s *Sandbox) serveSignIn(w http.ResponseWriter, r *http.Request) {
	s.count("SignIn")
	if err := r.ParseForm(); err != nil {
		s.renderError(w, http.StatusBadRequest, MsgInvalidSAMLResponse, "")
		return
	}
	b64 := r.PostForm.Get("SAMLResponse")
	relay := r.PostForm.Get("RelayState")
	if b64 == "" || len(b64) > samlsp.MaxResponseChars {
		s.renderError(w, http.StatusBadRequest, MsgInvalidSAMLResponse, "")
		return
	}
	pairs, aerr := s.signInRoles(b64, r.Host)
	if aerr != nil {
		s.renderSTSError(w, aerr)
		return
	}
	var chosen rolePair
	switch pick := r.PostForm.Get("roleIndex"); {
	case pick != "":
		found := false
		for _, p := range pairs {
			if p.RoleArn == pick {
				chosen, found = p, true
			}
		}
		if !found {
			s.renderError(w, http.StatusBadRequest, MsgInvalidSAMLResponse, "")
			return
		}
	case len(pairs) == 1:
		chosen = pairs[0]
	default:
		s.renderRolePicker(w, b64, relay, pairs)
		return
	}
	out, aerr := s.assumeRoleWithSAML(assumeInput{roleArn: chosen.RoleArn, principalArn: chosen.ProviderArn, assertion: b64, console: true, host: r.Host})
	if aerr != nil {
		s.renderSTSError(w, aerr)
		return
	}
	id := s.uuid()
	s.mu.Lock()
	s.sessions[id] = &consoleSession{id: id, role: out.session, expires: out.session.expires}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Expires: out.session.expires})
	target := federateTarget(relay, r.Host)
	if target == "" {
		target = "/console/home"
		if relay != "" {
			target += "?relay=" + url.QueryEscape(relay)
		}
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// signInRoles verifies the response with the provider named in its Role
// values and returns the role pairs whose provider exists.
func (s *Sandbox) signInRoles(b64, host string) ([]rolePair, *apiError) {
	root, err := samlsp.Decode(b64)
	if err != nil {
		return nil, stsErr(400, "InvalidIdentityToken", "")
	}
	// The unverified Role values only choose which provider's metadata to
	// verify with; the pairs used are re-read from the verified assertion.
	var candidates []string
	for _, v := range samlsp.PeekAttribute(root, samlsp.AttrRole) {
		for _, p := range parseRolePairs([]string{v}) {
			candidates = append(candidates, p.ProviderArn)
		}
	}
	s.mu.Lock()
	var pr *samlProvider
	for _, arn := range candidates {
		if pr = s.providerByArn(arn); pr != nil {
			break
		}
	}
	s.mu.Unlock()
	if pr == nil {
		if len(candidates) == 0 {
			return nil, stsErr(400, "InvalidIdentityToken", "")
		}
		return nil, stsErr(400, "InvalidIdentityToken", msgNoProvider)
	}
	a, _, aerr := s.verifyAssertion(pr, b64, host)
	if aerr != nil {
		return nil, aerr
	}
	var pairs []rolePair
	s.mu.Lock()
	for _, p := range parseRolePairs(a.Attributes[samlsp.AttrRole]) {
		if s.providerByArn(p.ProviderArn) != nil {
			pairs = append(pairs, p)
		}
	}
	s.mu.Unlock()
	if len(pairs) == 0 {
		return nil, stsErr(400, "InvalidIdentityToken", "")
	}
	return pairs, nil
}

func (s *Sandbox) renderSTSError(w http.ResponseWriter, e *apiError) {
	if e.Message == "" {
		s.renderError(w, http.StatusBadRequest, MsgInvalidSAMLResponse, "")
		return
	}
	service := "AWSSecurityTokenService"
	code := e.Code
	msg := e.Message
	if msg == msgIssuer {
		service, code, msg = "AWSOpenIdDiscoveryService", "AuthSamlInvalidSamlResponseException", "Failed to assume role: "+msg
	}
	detail := msg + " (Service: " + service + "; Status Code: " + itoa(e.Status) + "; Error Code: " + code + "; Request ID: " + s.requestID() + ")"
	s.renderError(w, e.Status, detail, code)
}

func itoa(n int) string { return strconv.Itoa(n) }

type pageData struct {
	Title       string
	Message     string
	Code        string
	SAML        string
	Relay       string
	Roles       []rolePair
	Account     string
	RoleArn     string
	SessionName string
	Arn         string
	Expires     string
	Relayed     string
	Instance    *instanceView
	Info        *Info
}

type instanceView struct {
	ID, Alias, Username, Name, Destination, RoutingProfile string
	SecurityProfiles                                       []string
}

var pages = template.Must(template.New("layout").Parse(`{{define "top"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;margin:2rem;max-width:48rem}.box{border:1px solid #ccc;padding:1rem;border-radius:4px}.err{border-color:#d13212;color:#d13212}code{background:#f2f3f3;padding:0 .2rem}</style></head>
<body><p><small>Gatehouse AWS sandbox (a local stand-in for AWS)</small></p>{{end}}
{{define "bottom"}}</body></html>{{end}}
{{define "error"}}{{template "top" .}}<h1>{{.Title}}</h1><div class="box err" id="error" data-code="{{.Code}}">{{.Message}}</div><p><a href="/logout">Sign out</a></p>{{template "bottom" .}}{{end}}
{{define "picker"}}{{template "top" .}}<h1>Select a role:</h1>
<form id="saml_form" method="post" action="/saml"><input type="hidden" name="SAMLResponse" value="{{.SAML}}"><input type="hidden" name="RelayState" value="{{.Relay}}">
<fieldset><legend>Account: {{.Account}}</legend>{{range $i, $r := .Roles}}<div><input type="radio" name="roleIndex" id="role{{$i}}" value="{{$r.RoleArn}}"{{if eq $i 0}} checked{{end}}> <label for="role{{$i}}">{{$r.RoleArn}}</label></div>{{end}}</fieldset>
<p><button type="submit" id="signin_button">Sign in</button></p></form>{{template "bottom" .}}{{end}}
{{define "home"}}{{template "top" .}}<h1>AWS Management Console</h1><div class="box" id="console">
<p>Signed in as <strong id="assumed-arn">{{.Arn}}</strong></p>
<ul><li>Account: <code>{{.Account}}</code></li><li>Role: <code id="role-arn">{{.RoleArn}}</code></li><li>Session name: <code id="session-name">{{.SessionName}}</code></li><li>Session expires: {{.Expires}}</li></ul>
{{if .Relayed}}<p>The relay state <code id="relay">{{.Relayed}}</code> is not a page this sandbox serves.</p>{{end}}</div>
{{with .Instance}}<p><a id="connect-link" href="/connect/federate/{{.ID}}">Open Amazon Connect ({{.Alias}})</a></p>{{end}}
<p><a href="/logout">Sign out</a></p>{{template "bottom" .}}{{end}}
{{define "agent"}}{{template "top" .}}<h1>Amazon Connect Contact Control Panel</h1><div class="box" id="ccp">
<p>Signed in to Amazon Connect as <strong id="username">{{.Instance.Username}}</strong>{{if .Instance.Name}} ({{.Instance.Name}}){{end}}</p>
<ul><li>Instance: <code id="instance">{{.Instance.Alias}} ({{.Instance.ID}})</code></li>
<li>Security profiles: <span id="security-profiles">{{range $i, $p := .Instance.SecurityProfiles}}{{if $i}}, {{end}}{{$p}}{{end}}</span></li>
<li>Routing profile: <span id="routing-profile">{{.Instance.RoutingProfile}}</span></li>
{{if .Instance.Destination}}<li>Destination: <code id="destination">{{.Instance.Destination}}</code></li>{{end}}</ul></div>{{template "bottom" .}}{{end}}
{{define "index"}}{{template "top" .}}<h1>Gatehouse AWS sandbox</h1><ul>
<li>Account: <code>{{.Info.AccountID}}</code>, region <code>{{.Info.Region}}</code></li>
<li>AWS sign-in SAML endpoint (stands for https://signin.aws.amazon.com/saml): <code>{{.Info.SignInURL}}</code></li>
<li>Amazon Connect instance: <code>{{.Info.ConnectInstanceID}}</code></li></ul>{{template "bottom" .}}{{end}}`))

func (s *Sandbox) render(w http.ResponseWriter, status int, name string, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, d); err != nil {
		http.Error(w, "sandbox page template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (s *Sandbox) renderError(w http.ResponseWriter, status int, msg, code string) {
	s.render(w, status, "error", pageData{Title: "Error", Message: msg, Code: code})
}

func (s *Sandbox) renderRolePicker(w http.ResponseWriter, b64, relay string, pairs []rolePair) {
	s.render(w, http.StatusOK, "picker", pageData{Title: "Amazon Web Services Sign-In", SAML: b64, Relay: relay, Roles: pairs, Account: s.accountID})
}

// consoleSession returns the live console session of the request, if any.
func (s *Sandbox) consoleSessionOf(r *http.Request) *consoleSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.sessions[c.Value]
	if cs == nil {
		return nil
	}
	if !s.now().Before(cs.expires) {
		delete(s.sessions, c.Value)
		return nil
	}
	return cs
}

func (s *Sandbox) serveConsoleHome(w http.ResponseWriter, r *http.Request) {
	cs := s.consoleSessionOf(r)
	if cs == nil {
		s.renderError(w, http.StatusUnauthorized, "You are not signed in. Sign in through your identity provider.", "NotSignedIn")
		return
	}
	s.mu.Lock()
	in := s.instances[s.instOrder[0]]
	view := &instanceView{ID: in.id, Alias: in.alias}
	s.mu.Unlock()
	s.render(w, http.StatusOK, "home", pageData{Title: "AWS Management Console", Account: s.accountID, RoleArn: cs.role.roleArn, SessionName: cs.role.sessionName,
		Arn: cs.role.assumedArn(s.accountID), Expires: cs.expires.UTC().Format(time.RFC3339), Relayed: r.URL.Query().Get("relay"),
		Instance: view})
}

func (s *Sandbox) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	s.renderError(w, http.StatusOK, "You have signed out.", "SignedOut")
}

// serveFederate is https://<region>.console.aws.amazon.com/connect/federate/<id>:
// Connect calls GetFederationToken as the console session's role and admits
// the Connect user whose Username equals the RoleSessionName.
func (s *Sandbox) serveFederate(w http.ResponseWriter, r *http.Request) {
	s.count("Federate")
	id := strings.Trim(strings.TrimPrefix(r.URL.Path, "/connect/federate/"), "/")
	cs := s.consoleSessionOf(r)
	if cs == nil {
		s.renderError(w, http.StatusUnauthorized, "Session Expired", "SessionExpired")
		return
	}
	view, status, msg, code := s.federate(id, cs.role, r.URL.Query().Get("destination"))
	if view == nil {
		s.renderError(w, status, msg, code)
		return
	}
	s.render(w, http.StatusOK, "agent", pageData{Title: "Amazon Connect - " + view.Alias, Instance: view})
}

// federate decides a browser federation into instance id for a role session.
func (s *Sandbox) federate(id string, sess *roleSession, destination string) (*instanceView, int, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[id]
	if in == nil {
		return nil, http.StatusNotFound, "The Amazon Connect instance " + id + " does not exist.", "ResourceNotFoundException"
	}
	req := iampolicy.Request{Action: "connect:GetFederationToken", Resource: in.arn + "/user/" + sess.userID(),
		Context: map[string][]string{"aws:userid": {sess.userID()}, "connect:InstanceId": {in.id}}}
	if iampolicy.Evaluate(req, s.rolePolicyDocs(sess.roleName)...) != iampolicy.Allow {
		return nil, http.StatusForbidden, MsgFederationDenied, "AccessDenied"
	}
	u := in.userByName(sess.sessionName)
	if u == nil {
		return nil, http.StatusForbidden, MsgNotOnboarded, "NotOnboarded"
	}
	s.calls["GetFederationToken"]++
	s.feds = append(s.feds, Federation{InstanceID: in.id, Username: u.Username, RoleArn: sess.roleArn, At: s.now().UTC()})
	view := &instanceView{ID: in.id, Alias: in.alias, Username: u.Username, Destination: destination}
	if u.IdentityInfo != nil {
		view.Name = strings.TrimSpace(u.IdentityInfo.FirstName + " " + u.IdentityInfo.LastName)
	}
	for _, pid := range u.SecurityProfiles {
		if p := in.profile(in.secProfiles, pid); p != nil {
			view.SecurityProfiles = append(view.SecurityProfiles, p.name)
		}
	}
	if p := in.profile(in.routingProfiles, u.RoutingProfileID); p != nil {
		view.RoutingProfile = p.name
	}
	return view, http.StatusOK, "", ""
}

// serveSPMetadata serves AWS's service-provider metadata with the sandbox's
// sign-in URL as the AssertionConsumerService.
func (s *Sandbox) serveSPMetadata(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	acs := scheme + "://" + r.Host + "/saml"
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write([]byte(`<?xml version="1.0"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:amazon:webservices">
  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAssertionsSigned="true">
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>
    <AssertionConsumerService index="1" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + template.HTMLEscapeString(acs) + `"/>
    <AttributeConsumingService index="1">
      <ServiceName xml:lang="en">AWS Management Console Single Sign-On</ServiceName>
      <RequestedAttribute isRequired="true" Name="https://aws.amazon.com/SAML/Attributes/Role" FriendlyName="RoleEntitlement"/>
      <RequestedAttribute isRequired="true" Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName" FriendlyName="RoleSessionName"/>
    </AttributeConsumingService>
  </SPSSODescriptor>
</EntityDescriptor>
`))
}

func (s *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	info := s.Info(scheme + "://" + r.Host)
	s.render(w, http.StatusOK, "index", pageData{Title: "Gatehouse AWS sandbox", Info: &info})
}

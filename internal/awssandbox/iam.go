package awssandbox

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/iampolicy"
	"github.com/gatehouse/gatehouse/internal/awssandbox/samlsp"
)

type samlProvider struct {
	name, arn, uuid string
	doc             string
	md              *samlsp.Metadata
	created         time.Time
	validUntil      time.Time
	tags            []tag
	encryptionMode  string
}

type role struct {
	name, path, arn, id string
	trustDoc            string
	trust               *iampolicy.Document
	maxSession          int
	description         string
	created             time.Time
	inline              map[string]string // policy name → document
	attached            []string          // managed policy ARNs
	tags                []tag
}

type managedPolicy struct {
	arn, name, path, id string
	doc                 string
	parsed              *iampolicy.Document
	awsManaged          bool
	created             time.Time
}

// awsManagedPolicies are the AWS managed policies the sandbox knows, with
// documents reduced to what matters here.
var awsManagedPolicies = map[string]string{
	"arn:aws:iam::aws:policy/AdministratorAccess":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AmazonConnect_FullAccess":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"connect:*","Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AmazonConnectReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["connect:Describe*","connect:List*","connect:Get*","connect:Search*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/ReadOnlyAccess":              `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/IAMReadOnlyAccess":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`,
}

var (
	reProviderName = regexp.MustCompile(`^[\w._-]+$`)
	reRoleName     = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rePath         = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	rePolicyName   = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

func (s *Sandbox) iamActions() map[string]queryHandler {
	return map[string]queryHandler{
		"CreateSAMLProvider": s.iamCreateSAMLProvider,
		"GetSAMLProvider":    s.iamGetSAMLProvider,
		"UpdateSAMLProvider": s.iamUpdateSAMLProvider,
		"ListSAMLProviders":  s.iamListSAMLProviders,
		"DeleteSAMLProvider": s.iamDeleteSAMLProvider,
		"CreateRole":         s.iamCreateRole,
		"GetRole":            s.iamGetRole,
		"ListRoles":          s.iamListRoles,
		"DeleteRole":         s.iamDeleteRole,
		"PutRolePolicy":      s.iamPutRolePolicy,
		"DeleteRolePolicy":   s.iamDeleteRolePolicy,
		"ListRolePolicies":   s.iamListRolePolicies,
		"AttachRolePolicy":   s.iamAttachRolePolicy,
		"DetachRolePolicy":   s.iamDetachRolePolicy,
		"CreatePolicy":       s.iamCreatePolicy,
		"ListAccountAliases": s.iamListAccountAliases,
		"GetUser":            s.iamGetUser,
	}
}

func (s *Sandbox) providerArn(name string) string {
	return "arn:aws:iam::" + s.accountID + ":saml-provider/" + name
}

// providerByArn finds a provider; callers hold mu.
func (s *Sandbox) providerByArn(arn string) *samlProvider {
	prefix := "arn:aws:iam::" + s.accountID + ":saml-provider/"
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil
	}
	return s.providers[name]
}

func checkMetadata(doc string) (*samlsp.Metadata, *apiError) {
	if aerr := lengthBetween(doc, "sAMLMetadataDocument", 1000, 10000000); aerr != nil {
		return nil, aerr
	}
	md, err := samlsp.ParseMetadata(doc)
	if err != nil {
		return nil, &apiError{Status: 400, Code: "InvalidInput", Message: "Could not parse metadata", Sender: true}
	}
	return md, nil
}

func (s *Sandbox) iamCreateSAMLProvider(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	name, aerr := required(p, "Name", "name")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(name, "name", 1, 128); aerr != nil {
		return nil, aerr
	}
	if !reProviderName.MatchString(name) {
		return nil, validation(name, "name", `Member must satisfy regular expression pattern: [\w._-]+`)
	}
	doc, aerr := required(p, "SAMLMetadataDocument", "sAMLMetadataDocument")
	if aerr != nil {
		return nil, aerr
	}
	md, aerr := checkMetadata(doc)
	if aerr != nil {
		return nil, aerr
	}
	mode := p.Get("AssertionEncryptionMode")
	if mode != "" && mode != "Allowed" && mode != "Required" {
		return nil, validation(mode, "assertionEncryptionMode", "Member must satisfy enum value set: [Allowed, Required]")
	}
	if p.Get("AddPrivateKey") != "" {
		return nil, &apiError{Status: 400, Code: "InvalidInput", Sender: true, Message: "The Gatehouse AWS sandbox does not support assertion decryption keys"}
	}
	tags := tagsParam(p)
	if len(tags) > 50 {
		return nil, &apiError{Status: 409, Code: "LimitExceeded", Sender: true, Message: "Cannot exceed quota for TagsPerSAMLProvider: 50"}
	}
	now := s.now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.providers[name]; ok {
		return nil, &apiError{Status: 409, Code: "EntityAlreadyExists", Sender: true, Message: "SAMLProvider " + name + " already exists."}
	}
	if len(s.providers) >= 100 {
		return nil, &apiError{Status: 409, Code: "LimitExceeded", Sender: true, Message: "Cannot exceed quota for SAMLProvidersPerAccount: 100"}
	}
	pr := &samlProvider{name: name, arn: s.providerArn(name), uuid: s.uuid(), doc: doc, md: md, created: now, tags: tags, encryptionMode: mode}
	pr.validUntil = validUntil(md, now)
	s.providers[name] = pr
	type result struct {
		XMLName xml.Name `xml:"CreateSAMLProviderResult"`
		Arn     string   `xml:"SAMLProviderArn"`
		Tags    *tagList `xml:"Tags,omitempty"`
	}
	res := result{Arn: pr.arn}
	if len(tags) > 0 {
		res.Tags = &tagList{tags}
	}
	return res, nil
}

// validUntil is the metadata's validUntil, or 100 years after creation when
// the document has none (what IAM shows; see docs/aws-sandbox.md).
func validUntil(md *samlsp.Metadata, now time.Time) time.Time {
	if !md.ValidUntil.IsZero() {
		return md.ValidUntil
	}
	return now.AddDate(100, 0, 0)
}

func (s *Sandbox) lookupProvider(p url.Values) (*samlProvider, *apiError) {
	arn, aerr := required(p, "SAMLProviderArn", "sAMLProviderArn")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(arn, "sAMLProviderArn", 20, 2048); aerr != nil {
		return nil, aerr
	}
	pr := s.providerByArn(arn)
	if pr == nil {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "Manifest not found for arn " + arn}
	}
	return pr, nil
}

func (s *Sandbox) iamGetSAMLProvider(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, aerr := s.lookupProvider(p)
	if aerr != nil {
		return nil, aerr
	}
	type result struct {
		XMLName xml.Name `xml:"GetSAMLProviderResult"`
		UUID    string   `xml:"SAMLProviderUUID"`
		Doc     string   `xml:"SAMLMetadataDocument"`
		Created awsTime  `xml:"CreateDate"`
		Valid   awsTime  `xml:"ValidUntil"`
		Tags    *tagList `xml:"Tags,omitempty"`
		EncMode string   `xml:"AssertionEncryptionMode,omitempty"`
	}
	res := result{UUID: pr.uuid, Doc: pr.doc, Created: awsTime(pr.created), Valid: awsTime(pr.validUntil), EncMode: pr.encryptionMode}
	if len(pr.tags) > 0 {
		res.Tags = &tagList{pr.tags}
	}
	return res, nil
}

func (s *Sandbox) iamUpdateSAMLProvider(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	var md *samlsp.Metadata
	doc := p.Get("SAMLMetadataDocument")
	if doc != "" {
		var aerr *apiError
		if md, aerr = checkMetadata(doc); aerr != nil {
			return nil, aerr
		}
	}
	mode := p.Get("AssertionEncryptionMode")
	if mode != "" && mode != "Allowed" && mode != "Required" {
		return nil, validation(mode, "assertionEncryptionMode", "Member must satisfy enum value set: [Allowed, Required]")
	}
	if p.Get("AddPrivateKey") != "" {
		return nil, &apiError{Status: 400, Code: "InvalidInput", Sender: true, Message: "The Gatehouse AWS sandbox does not support assertion decryption keys"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, aerr := s.lookupProvider(p)
	if aerr != nil {
		return nil, aerr
	}
	if md != nil {
		pr.doc, pr.md = doc, md
		pr.validUntil = validUntil(md, s.now().UTC().Truncate(time.Second))
	}
	if mode != "" {
		pr.encryptionMode = mode
	}
	type result struct {
		XMLName xml.Name `xml:"UpdateSAMLProviderResult"`
		Arn     string   `xml:"SAMLProviderArn"`
	}
	return result{Arn: pr.arn}, nil
}

func (s *Sandbox) iamListSAMLProviders(_ *credential, _ url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type entry struct {
		Arn     string  `xml:"Arn"`
		Valid   awsTime `xml:"ValidUntil"`
		Created awsTime `xml:"CreateDate"`
	}
	type result struct {
		XMLName xml.Name `xml:"ListSAMLProvidersResult"`
		List    struct {
			Members []entry `xml:"member"`
		} `xml:"SAMLProviderList"`
	}
	var res result
	for _, name := range sortedKeys(s.providers) {
		pr := s.providers[name]
		res.List.Members = append(res.List.Members, entry{pr.arn, awsTime(pr.validUntil), awsTime(pr.created)})
	}
	return res, nil
}

func (s *Sandbox) iamDeleteSAMLProvider(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, aerr := s.lookupProvider(p)
	if aerr != nil {
		return nil, aerr
	}
	delete(s.providers, pr.name)
	return nil, nil
}

func (s *Sandbox) iamCreateRole(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	name, aerr := required(p, "RoleName", "roleName")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(name, "roleName", 1, 64); aerr != nil {
		return nil, aerr
	}
	if !reRoleName.MatchString(name) {
		return nil, validation(name, "roleName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	path := p.Get("Path")
	if path == "" {
		path = "/"
	}
	if aerr := lengthBetween(path, "path", 1, 512); aerr != nil {
		return nil, aerr
	}
	if !rePath.MatchString(path) {
		return nil, validation(path, "path", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	doc, aerr := required(p, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lengthBetween(doc, "assumeRolePolicyDocument", 1, 131072); aerr != nil {
		return nil, aerr
	}
	if len(doc) > 2048 {
		return nil, &apiError{Status: 409, Code: "LimitExceeded", Sender: true, Message: "Cannot exceed quota for ACLSizePerRole: 2048"}
	}
	trust, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, &apiError{Status: 400, Code: "MalformedPolicyDocument", Sender: true, Message: strings.TrimPrefix(err.Error(), iampolicy.ErrMalformed.Error()+": ")}
	}
	maxSession, aerr := intParam(p, "MaxSessionDuration", "maxSessionDuration", 3600, 43200, 3600)
	if aerr != nil {
		return nil, aerr
	}
	desc := p.Get("Description")
	if aerr := lengthBetween(desc, "description", 0, 1000); aerr != nil {
		return nil, aerr
	}
	id, _ := s.randomID("AROA", 17)
	now := s.now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.roles[strings.ToLower(name)]; ok {
		return nil, &apiError{Status: 409, Code: "EntityAlreadyExists", Sender: true, Message: "Role with name " + name + " already exists."}
	}
	ro := &role{name: name, path: path, arn: "arn:aws:iam::" + s.accountID + ":role" + path + name, id: id,
		trustDoc: doc, trust: trust, maxSession: maxSession, description: desc, created: now,
		inline: map[string]string{}, tags: tagsParam(p)}
	s.roles[strings.ToLower(name)] = ro
	type result struct {
		XMLName xml.Name `xml:"CreateRoleResult"`
		Role    roleXML  `xml:"Role"`
	}
	return result{Role: s.roleXML(ro)}, nil
}

type roleXML struct {
	Path       string   `xml:"Path"`
	RoleName   string   `xml:"RoleName"`
	RoleID     string   `xml:"RoleId"`
	Arn        string   `xml:"Arn"`
	CreateDate awsTime  `xml:"CreateDate"`
	Trust      string   `xml:"AssumeRolePolicyDocument"`
	Desc       string   `xml:"Description,omitempty"`
	MaxSession int      `xml:"MaxSessionDuration"`
	Tags       *tagList `xml:"Tags,omitempty"`
}

func (s *Sandbox) roleXML(r *role) roleXML {
	x := roleXML{Path: r.path, RoleName: r.name, RoleID: r.id, Arn: r.arn, CreateDate: awsTime(r.created),
		Trust: encodePolicy(r.trustDoc), Desc: r.description, MaxSession: r.maxSession}
	if len(r.tags) > 0 {
		x.Tags = &tagList{r.tags}
	}
	return x
}

func (s *Sandbox) lookupRole(p url.Values) (*role, *apiError) {
	name, aerr := required(p, "RoleName", "roleName")
	if aerr != nil {
		return nil, aerr
	}
	r := s.roles[strings.ToLower(name)]
	if r == nil {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "The role with name " + name + " cannot be found."}
	}
	return r, nil
}

func (s *Sandbox) iamGetRole(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	type result struct {
		XMLName xml.Name `xml:"GetRoleResult"`
		Role    roleXML  `xml:"Role"`
	}
	return result{Role: s.roleXML(r)}, nil
}

func (s *Sandbox) iamListRoles(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	maxItems, aerr := intParam(p, "MaxItems", "maxItems", 1, 1000, 100)
	if aerr != nil {
		return nil, aerr
	}
	prefix := p.Get("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	after := ""
	if m := p.Get("Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || len(b) == 0 {
			return nil, &apiError{Status: 400, Code: "InvalidInput", Sender: true, Message: "Invalid Marker."}
		}
		after = string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*role
	for _, r := range s.roles {
		if strings.HasPrefix(r.path, prefix) {
			all = append(all, r)
		}
	}
	sort.Slice(all, func(i, j int) bool { return strings.ToLower(all[i].name) < strings.ToLower(all[j].name) })
	type result struct {
		XMLName xml.Name `xml:"ListRolesResult"`
		Roles   struct {
			Members []roleXML `xml:"member"`
		} `xml:"Roles"`
		IsTruncated bool   `xml:"IsTruncated"`
		Marker      string `xml:"Marker,omitempty"`
	}
	var res result
	for _, r := range all {
		if after != "" && strings.ToLower(r.name) <= after {
			continue
		}
		if len(res.Roles.Members) == maxItems {
			res.IsTruncated = true
			last := res.Roles.Members[len(res.Roles.Members)-1].RoleName
			res.Marker = base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(last)))
			break
		}
		x := s.roleXML(r)
		x.Tags = nil // ListRoles does not return tags
		res.Roles.Members = append(res.Roles.Members, x)
	}
	return res, nil
}

func (s *Sandbox) iamDeleteRole(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	if len(r.inline) > 0 {
		return nil, &apiError{Status: 409, Code: "DeleteConflict", Sender: true, Message: "Cannot delete entity, must delete policies first."}
	}
	if len(r.attached) > 0 {
		return nil, &apiError{Status: 409, Code: "DeleteConflict", Sender: true, Message: "Cannot delete entity, must detach all policies first."}
	}
	delete(s.roles, strings.ToLower(r.name))
	return nil, nil
}

func parsePolicyParam(p url.Values, param, member string) (string, *iampolicy.Document, *apiError) {
	doc, aerr := required(p, param, member)
	if aerr != nil {
		return "", nil, aerr
	}
	d, err := iampolicy.Parse(doc)
	if err != nil {
		return "", nil, &apiError{Status: 400, Code: "MalformedPolicyDocument", Sender: true, Message: strings.TrimPrefix(err.Error(), iampolicy.ErrMalformed.Error()+": ")}
	}
	return doc, d, nil
}

func (s *Sandbox) iamPutRolePolicy(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	name, aerr := required(p, "PolicyName", "policyName")
	if aerr != nil {
		return nil, aerr
	}
	if !rePolicyName.MatchString(name) || len(name) > 128 {
		return nil, validation(name, "policyName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	doc, _, aerr := parsePolicyParam(p, "PolicyDocument", "policyDocument")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	r.inline[name] = doc
	return nil, nil
}

func (s *Sandbox) iamDeleteRolePolicy(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	name := p.Get("PolicyName")
	if _, ok := r.inline[name]; !ok {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "The role policy with name " + name + " cannot be found."}
	}
	delete(r.inline, name)
	return nil, nil
}

func (s *Sandbox) iamListRolePolicies(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	type result struct {
		XMLName xml.Name `xml:"ListRolePoliciesResult"`
		Names   struct {
			Members []string `xml:"member"`
		} `xml:"PolicyNames"`
		IsTruncated bool `xml:"IsTruncated"`
	}
	var res result
	res.Names.Members = sortedKeys(r.inline)
	return res, nil
}

func (s *Sandbox) iamAttachRolePolicy(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	arn, aerr := required(p, "PolicyArn", "policyArn")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := s.policies[arn]; !ok {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "Policy " + arn + " does not exist or is not attachable."}
	}
	for _, a := range r.attached {
		if a == arn {
			return nil, nil
		}
	}
	if len(r.attached) >= 10 {
		return nil, &apiError{Status: 409, Code: "LimitExceeded", Sender: true, Message: "Cannot exceed quota for PoliciesPerRole: 10"}
	}
	r.attached = append(r.attached, arn)
	return nil, nil
}

func (s *Sandbox) iamDetachRolePolicy(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	arn := p.Get("PolicyArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.lookupRole(p)
	if aerr != nil {
		return nil, aerr
	}
	for i, a := range r.attached {
		if a == arn {
			r.attached = append(r.attached[:i], r.attached[i+1:]...)
			return nil, nil
		}
	}
	return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "Policy " + arn + " was not found."}
}

func (s *Sandbox) iamCreatePolicy(_ *credential, p url.Values, _ *http.Request) (any, *apiError) {
	name, aerr := required(p, "PolicyName", "policyName")
	if aerr != nil {
		return nil, aerr
	}
	if !rePolicyName.MatchString(name) || len(name) > 128 {
		return nil, validation(name, "policyName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	path := p.Get("Path")
	if path == "" {
		path = "/"
	}
	if !rePath.MatchString(path) {
		return nil, validation(path, "path", `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	doc, d, aerr := parsePolicyParam(p, "PolicyDocument", "policyDocument")
	if aerr != nil {
		return nil, aerr
	}
	id, _ := s.randomID("ANPA", 17)
	now := s.now().UTC().Truncate(time.Second)
	arn := "arn:aws:iam::" + s.accountID + ":policy" + path + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[arn]; ok {
		return nil, &apiError{Status: 409, Code: "EntityAlreadyExists", Sender: true, Message: "A policy called " + name + " already exists. Duplicate names are not allowed."}
	}
	s.policies[arn] = &managedPolicy{arn: arn, name: name, path: path, id: id, doc: doc, parsed: d, created: now}
	type policyXML struct {
		PolicyName       string  `xml:"PolicyName"`
		PolicyID         string  `xml:"PolicyId"`
		Arn              string  `xml:"Arn"`
		Path             string  `xml:"Path"`
		DefaultVersionID string  `xml:"DefaultVersionId"`
		AttachmentCount  int     `xml:"AttachmentCount"`
		IsAttachable     bool    `xml:"IsAttachable"`
		CreateDate       awsTime `xml:"CreateDate"`
		UpdateDate       awsTime `xml:"UpdateDate"`
	}
	type result struct {
		XMLName xml.Name  `xml:"CreatePolicyResult"`
		Policy  policyXML `xml:"Policy"`
	}
	return result{Policy: policyXML{name, id, arn, path, "v1", 0, true, awsTime(now), awsTime(now)}}, nil
}

func (s *Sandbox) iamListAccountAliases(_ *credential, _ url.Values, _ *http.Request) (any, *apiError) {
	type result struct {
		XMLName xml.Name `xml:"ListAccountAliasesResult"`
		Aliases struct {
			Members []string `xml:"member"`
		} `xml:"AccountAliases"`
		IsTruncated bool `xml:"IsTruncated"`
	}
	var res result
	s.mu.Lock()
	if s.alias != "" {
		res.Aliases.Members = []string{s.alias}
	}
	s.mu.Unlock()
	return res, nil
}

func (s *Sandbox) iamGetUser(c *credential, p url.Values, _ *http.Request) (any, *apiError) {
	if c.session != nil && p.Get("UserName") == "" {
		return nil, &apiError{Status: 400, Code: "ValidationError", Sender: true, Message: "Must specify userName when calling with non-User credentials"}
	}
	if n := p.Get("UserName"); n != "" && n != "gatehouse-sandbox" {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Sender: true, Message: "The user with name " + n + " cannot be found."}
	}
	type userXML struct {
		Path       string  `xml:"Path"`
		UserName   string  `xml:"UserName"`
		UserID     string  `xml:"UserId"`
		Arn        string  `xml:"Arn"`
		CreateDate awsTime `xml:"CreateDate"`
	}
	type result struct {
		XMLName xml.Name `xml:"GetUserResult"`
		User    userXML  `xml:"User"`
	}
	return result{User: userXML{"/", "gatehouse-sandbox", s.adminID, s.adminUser, awsTime(time.Unix(0, 0))}}, nil
}

// rolePolicyDocs returns the parsed identity policies of a role; callers hold mu.
func (s *Sandbox) rolePolicyDocs(roleName string) []*iampolicy.Document {
	r := s.roles[strings.ToLower(roleName)]
	if r == nil {
		return nil
	}
	var docs []*iampolicy.Document
	for _, name := range sortedKeys(r.inline) {
		if d, err := iampolicy.Parse(r.inline[name]); err == nil {
			docs = append(docs, d)
		}
	}
	for _, arn := range r.attached {
		if mp := s.policies[arn]; mp != nil {
			docs = append(docs, mp.parsed)
		}
	}
	return docs
}

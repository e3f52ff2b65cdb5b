package awssandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type instance struct {
	id, arn, alias  string
	idm             string
	created         time.Time
	secProfiles     []*namedResource
	routingProfiles []*namedResource
	users           map[string]*connectUser
}

type namedResource struct {
	id, arn, name string
	modified      time.Time
}

type connectUser struct {
	ID               string            `json:"Id"`
	Arn              string            `json:"Arn"`
	Username         string            `json:"Username"`
	IdentityInfo     *identityInfo     `json:"IdentityInfo,omitempty"`
	PhoneConfig      *phoneConfig      `json:"PhoneConfig,omitempty"`
	DirectoryUserID  string            `json:"DirectoryUserId,omitempty"`
	SecurityProfiles []string          `json:"SecurityProfileIds"`
	RoutingProfileID string            `json:"RoutingProfileId"`
	HierarchyGroupID string            `json:"HierarchyGroupId,omitempty"`
	Tags             map[string]string `json:"Tags,omitempty"`
	LastModified     epoch             `json:"LastModifiedTime"`
	LastRegion       string            `json:"LastModifiedRegion"`
}

type identityInfo struct {
	FirstName      string `json:"FirstName,omitempty"`
	LastName       string `json:"LastName,omitempty"`
	Email          string `json:"Email,omitempty"`
	SecondaryEmail string `json:"SecondaryEmail,omitempty"`
	Mobile         string `json:"Mobile,omitempty"`
}

type phoneConfig struct {
	PhoneType                 string `json:"PhoneType"`
	AutoAccept                bool   `json:"AutoAccept"`
	AfterContactWorkTimeLimit int    `json:"AfterContactWorkTimeLimit"`
	DeskPhoneNumber           string `json:"DeskPhoneNumber,omitempty"`
	PersistentConnection      *bool  `json:"PersistentConnection,omitempty"`
}

// epoch serialises a timestamp as restJson1 does: epoch seconds.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', -1, 64)), nil
}

// Default security profiles of a new instance.
var defaultSecurityProfiles = []string{"Admin", "Agent", "CallCenterManager", "QualityAnalyst"}

const defaultRoutingProfile = "Basic Routing Profile"

func (s *Sandbox) createInstance(id, alias string) (*instance, error) {
	if id == "" {
		id = s.uuid()
	}
	now := s.now().UTC().Truncate(time.Second)
	in := &instance{id: id, alias: alias, idm: "SAML", created: now, users: map[string]*connectUser{},
		arn: "arn:aws:connect:" + s.region + ":" + s.accountID + ":instance/" + id}
	for _, name := range defaultSecurityProfiles {
		pid := s.uuid()
		in.secProfiles = append(in.secProfiles, &namedResource{id: pid, name: name, modified: now, arn: in.arn + "/security-profile/" + pid})
	}
	rid := s.uuid()
	in.routingProfiles = append(in.routingProfiles, &namedResource{id: rid, name: defaultRoutingProfile, modified: now, arn: in.arn + "/routing-profile/" + rid})
	s.instances[id] = in
	s.instOrder = append(s.instOrder, id)
	return in, nil
}

func (in *instance) profile(list []*namedResource, id string) *namedResource {
	for _, p := range list {
		if p.id == id || p.arn == id {
			return p
		}
	}
	return nil
}

func (in *instance) userByName(name string) *connectUser {
	for _, u := range in.users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

func isConnectPath(p string) bool {
	for _, prefix := range []string{"/instance", "/users", "/users-summary/", "/search-users", "/security-profiles-summary/", "/routing-profiles-summary/", "/user/federate/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func writeJSONError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.Message})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		_, _ = w.Write([]byte("{}"))
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

func badParam(msg string) *apiError {
	return &apiError{Status: 400, Code: "InvalidParameterException", Message: msg}
}

func badRequest(msg string) *apiError {
	return &apiError{Status: 400, Code: "InvalidRequestException", Message: msg}
}

func notFound(msg string) *apiError {
	return &apiError{Status: 404, Code: "ResourceNotFoundException", Message: msg}
}

// connectRoute is a matched Connect operation.
type connectRoute struct {
	op     string
	params []string
}

func matchConnect(method, path string) (connectRoute, bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	n := len(seg)
	switch {
	case method == "GET" && n == 1 && seg[0] == "instance":
		return connectRoute{"ListInstances", nil}, true
	case method == "GET" && n == 2 && seg[0] == "instance":
		return connectRoute{"DescribeInstance", seg[1:]}, true
	case method == "GET" && n == 2 && seg[0] == "security-profiles-summary":
		return connectRoute{"ListSecurityProfiles", seg[1:]}, true
	case method == "GET" && n == 2 && seg[0] == "routing-profiles-summary":
		return connectRoute{"ListRoutingProfiles", seg[1:]}, true
	case method == "PUT" && n == 2 && seg[0] == "users":
		return connectRoute{"CreateUser", seg[1:]}, true
	case method == "GET" && n == 3 && seg[0] == "users":
		return connectRoute{"DescribeUser", seg[1:]}, true
	case method == "DELETE" && n == 3 && seg[0] == "users":
		return connectRoute{"DeleteUser", seg[1:]}, true
	case method == "GET" && n == 2 && seg[0] == "users-summary":
		return connectRoute{"ListUsers", seg[1:]}, true
	case method == "POST" && n == 1 && seg[0] == "search-users":
		return connectRoute{"SearchUsers", nil}, true
	case method == "GET" && n == 3 && seg[0] == "user" && seg[1] == "federate":
		return connectRoute{"GetFederationToken", seg[2:]}, true
	case method == "POST" && n == 4 && seg[0] == "users":
		ops := map[string]string{"identity-info": "UpdateUserIdentityInfo", "security-profiles": "UpdateUserSecurityProfiles",
			"routing-profile": "UpdateUserRoutingProfile", "phone-config": "UpdateUserPhoneConfig", "hierarchy": "UpdateUserHierarchy"}
		if op, ok := ops[seg[3]]; ok {
			return connectRoute{op, seg[1:3]}, true
		}
	}
	return connectRoute{}, false
}

func (s *Sandbox) serveConnect(w http.ResponseWriter, r *http.Request, body []byte) {
	reqID := s.requestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	route, ok := matchConnect(r.Method, r.URL.EscapedPath())
	if !ok {
		s.count("UnknownOperation")
		writeJSONError(w, &apiError{Status: 404, Code: "UnknownOperationException", Message: "The requested operation is not recognized by the service."})
		return
	}
	s.count(route.op)
	c, aerr := s.authenticate(r, body, true)
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	if !s.takeToken() {
		writeJSONError(w, &apiError{Status: 429, Code: "ThrottlingException", Message: "Rate exceeded"})
		return
	}
	resource := "*"
	var extra map[string][]string
	if len(route.params) > 0 {
		resource = "arn:aws:connect:" + s.region + ":" + s.accountID + ":instance/" + route.params[0]
		extra = map[string][]string{"connect:InstanceId": {route.params[0]}}
		if route.op == "GetFederationToken" && c.session != nil {
			resource += "/user/" + c.session.userID()
		}
	}
	if aerr := s.authorize(c, "connect:"+route.op, resource, extra); aerr != nil {
		aerr.Code = "AccessDeniedException"
		writeJSONError(w, aerr)
		return
	}
	var res any
	switch route.op {
	case "ListInstances":
		res, aerr = s.connectListInstances(r)
	case "GetFederationToken":
		res, aerr = s.connectGetFederationToken(c, route.params[0])
	case "SearchUsers":
		res, aerr = s.connectSearchUsers(body)
	default:
		res, aerr = s.connectInstanceOp(route, r, body)
	}
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	writeJSON(w, res)
}

func pageParams(r *http.Request, def, max int) (int, int, *apiError) {
	n := def
	if v := r.URL.Query().Get("maxResults"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return 0, 0, badParam("1 validation error detected: Value '" + v + "' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to " + strconv.Itoa(max))
		}
	}
	start, aerr := decodeToken(r.URL.Query().Get("nextToken"))
	return n, start, aerr
}

func decodeToken(tok string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, badParam("The nextToken is not valid.")
	}
	v, ok := strings.CutPrefix(string(b), "o:")
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 0 {
		return 0, badParam("The nextToken is not valid.")
	}
	return n, nil
}

func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func page[T any](all []T, start, n int) ([]T, string) {
	if start > len(all) {
		start = len(all)
	}
	end := start + n
	if end >= len(all) {
		return all[start:], ""
	}
	return all[start:end], encodeToken(end)
}

type instanceJSON struct {
	ID                     string `json:"Id"`
	Arn                    string `json:"Arn"`
	IdentityManagementType string `json:"IdentityManagementType"`
	InstanceAlias          string `json:"InstanceAlias"`
	CreatedTime            epoch  `json:"CreatedTime"`
	ServiceRole            string `json:"ServiceRole"`
	InstanceStatus         string `json:"InstanceStatus"`
	InboundCallsEnabled    bool   `json:"InboundCallsEnabled"`
	OutboundCallsEnabled   bool   `json:"OutboundCallsEnabled"`
	InstanceAccessURL      string `json:"InstanceAccessUrl"`
}

func (s *Sandbox) instanceJSON(in *instance) instanceJSON {
	return instanceJSON{ID: in.id, Arn: in.arn, IdentityManagementType: in.idm, InstanceAlias: in.alias, CreatedTime: epoch(in.created),
		ServiceRole:    "arn:aws:iam::" + s.accountID + ":role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_sandbox",
		InstanceStatus: "ACTIVE", InboundCallsEnabled: true, OutboundCallsEnabled: true,
		InstanceAccessURL: "https://" + in.alias + ".my.connect.aws"}
}

func (s *Sandbox) connectListInstances(r *http.Request) (any, *apiError) {
	n, start, aerr := pageParams(r, 10, 10)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []instanceJSON
	for _, id := range s.instOrder {
		all = append(all, s.instanceJSON(s.instances[id]))
	}
	list, next := page(all, start, n)
	return withToken(map[string]any{"InstanceSummaryList": list}, next), nil
}

// withToken adds NextToken when there is a next page; AWS omits it otherwise.
func withToken(m map[string]any, next string) map[string]any {
	if next != "" {
		m["NextToken"] = next
	}
	return m
}

func (s *Sandbox) connectInstanceOp(route connectRoute, r *http.Request, body []byte) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[route.params[0]]
	if in == nil {
		return nil, notFound("Instance not found: " + route.params[0])
	}
	var u *connectUser
	if len(route.params) > 1 {
		if u = in.users[route.params[1]]; u == nil {
			return nil, notFound("User not found for id " + route.params[1])
		}
	}
	switch route.op {
	case "DescribeInstance":
		return map[string]any{"Instance": s.instanceJSON(in)}, nil
	case "ListSecurityProfiles", "ListRoutingProfiles":
		n, start, aerr := pageParams(r, 100, 1000)
		if aerr != nil {
			return nil, aerr
		}
		list, key := in.secProfiles, "SecurityProfileSummaryList"
		if route.op == "ListRoutingProfiles" {
			list, key = in.routingProfiles, "RoutingProfileSummaryList"
		}
		var all []map[string]any
		for _, p := range list {
			all = append(all, map[string]any{"Id": p.id, "Arn": p.arn, "Name": p.name, "LastModifiedTime": epoch(p.modified), "LastModifiedRegion": s.region})
		}
		items, next := page(all, start, n)
		return withToken(map[string]any{key: items}, next), nil
	case "CreateUser":
		return s.createUser(in, body)
	case "DescribeUser":
		return map[string]any{"User": u}, nil
	case "ListUsers":
		n, start, aerr := pageParams(r, 100, 1000)
		if aerr != nil {
			return nil, aerr
		}
		var all []map[string]any
		for _, x := range sortedUsers(in) {
			all = append(all, map[string]any{"Id": x.ID, "Arn": x.Arn, "Username": x.Username, "LastModifiedTime": x.LastModified, "LastModifiedRegion": x.LastRegion})
		}
		items, next := page(all, start, n)
		return withToken(map[string]any{"UserSummaryList": items}, next), nil
	case "DeleteUser":
		delete(in.users, u.ID)
		return nil, nil
	}
	return s.updateUser(in, u, route.op, body)
}

func sortedUsers(in *instance) []*connectUser {
	all := make([]*connectUser, 0, len(in.users))
	for _, u := range in.users {
		all = append(all, u)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Username < all[j].Username })
	return all
}

var (
	reSAMLUsername = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)
	reE164         = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
)

type createUserBody struct {
	Username           *string           `json:"Username"`
	Password           *string           `json:"Password"`
	IdentityInfo       *identityInfo     `json:"IdentityInfo"`
	PhoneConfig        *phoneConfig      `json:"PhoneConfig"`
	DirectoryUserID    *string           `json:"DirectoryUserId"`
	SecurityProfileIDs []string          `json:"SecurityProfileIds"`
	RoutingProfileID   *string           `json:"RoutingProfileId"`
	HierarchyGroupID   *string           `json:"HierarchyGroupId"`
	Tags               map[string]string `json:"Tags"`
}

func decodeBody(body []byte, v any) *apiError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Status: 400, Code: "SerializationException", Message: "Unable to parse the request body: " + err.Error()}
	}
	return nil
}

// checkUsername applies the SAML-instance Username rules.
func checkUsername(name string) *apiError {
	if !reSAMLUsername.MatchString(name) {
		return badParam("Username must be 2 to 64 characters from A-Z, a-z, 0-9, '.', '_', '-' and '@' for instances using SAML identity management.")
	}
	if strings.Contains(name, "@") {
		local, domain, _ := strings.Cut(name, "@")
		if local == "" || strings.Count(name, "@") != 1 || !strings.Contains(domain, ".") ||
			strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
			return badParam("Username can contain '@' only in an email address format, for example testuser@example.com.")
		}
	}
	return nil
}

func checkIdentity(in *instance, id *identityInfo) *apiError {
	if id == nil {
		id = &identityInfo{}
	}
	if len([]rune(id.FirstName)) > 100 || len([]rune(id.LastName)) > 100 {
		return badParam("FirstName and LastName must be at most 100 characters.")
	}
	if in.idm == "SAML" && (strings.TrimSpace(id.FirstName) == "" || strings.TrimSpace(id.LastName) == "") {
		return badParam("FirstName and LastName are required for instances using SAML identity management.")
	}
	for _, e := range []string{id.Email, id.SecondaryEmail} {
		if e == "" {
			continue
		}
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return badParam("Email address " + e + " is not valid.")
		}
	}
	if id.Mobile != "" && !reE164.MatchString(id.Mobile) {
		return badParam("Mobile must be an E.164 phone number.")
	}
	return nil
}

func checkPhone(p *phoneConfig) *apiError {
	if p == nil {
		return nil
	}
	switch p.PhoneType {
	case "SOFT_PHONE":
	case "DESK_PHONE":
		if p.DeskPhoneNumber == "" {
			return badParam("DeskPhoneNumber is required when PhoneType is DESK_PHONE.")
		}
	case "":
		return badParam("PhoneConfig.PhoneType is required.")
	default:
		return badParam("PhoneType must be SOFT_PHONE or DESK_PHONE.")
	}
	if p.DeskPhoneNumber != "" && !reE164.MatchString(p.DeskPhoneNumber) {
		return badParam("DeskPhoneNumber must be an E.164 phone number.")
	}
	if p.AfterContactWorkTimeLimit < 0 || p.AfterContactWorkTimeLimit > 2000000 {
		return badParam("AfterContactWorkTimeLimit must be between 0 and 2000000.")
	}
	return nil
}

func checkSecurityProfiles(in *instance, ids []string) *apiError {
	if len(ids) < 1 || len(ids) > 10 {
		return badParam("SecurityProfileIds must contain 1 to 10 security profile ids.")
	}
	for _, id := range ids {
		if in.profile(in.secProfiles, id) == nil {
			return badParam("Security profile " + id + " does not exist.")
		}
	}
	return nil
}

// createUser runs with mu held.
func (s *Sandbox) createUser(in *instance, body []byte) (any, *apiError) {
	var b createUserBody
	if aerr := decodeBody(body, &b); aerr != nil {
		return nil, aerr
	}
	if b.Username == nil {
		return nil, badParam("Username is required.")
	}
	if in.idm == "SAML" {
		if b.Password != nil {
			return nil, badRequest("Password is not allowed for instances using SAML identity management.")
		}
		if b.DirectoryUserID != nil {
			return nil, badRequest("DirectoryUserId is not allowed for instances using SAML identity management.")
		}
	}
	if aerr := checkUsername(*b.Username); aerr != nil {
		return nil, aerr
	}
	if aerr := checkIdentity(in, b.IdentityInfo); aerr != nil {
		return nil, aerr
	}
	if aerr := checkPhone(b.PhoneConfig); aerr != nil {
		return nil, aerr
	}
	if aerr := checkSecurityProfiles(in, b.SecurityProfileIDs); aerr != nil {
		return nil, aerr
	}
	if b.RoutingProfileID == nil || in.profile(in.routingProfiles, *b.RoutingProfileID) == nil {
		id := ""
		if b.RoutingProfileID != nil {
			id = *b.RoutingProfileID
		}
		return nil, badParam("Routing profile " + id + " does not exist.")
	}
	if b.HierarchyGroupID != nil {
		return nil, badParam("Hierarchy group " + *b.HierarchyGroupID + " does not exist.")
	}
	if len(b.Tags) > 50 {
		return nil, badParam("At most 50 tags are allowed.")
	}
	if in.userByName(*b.Username) != nil {
		return nil, &apiError{Status: 409, Code: "DuplicateResourceException", Message: "User with username " + *b.Username + " already exists."}
	}
	if len(in.users) >= s.quota {
		return nil, &apiError{Status: 429, Code: "LimitExceededException", Message: "The allowed limit for the resource has been exceeded: Users per instance (" + strconv.Itoa(s.quota) + ")."}
	}
	phone := b.PhoneConfig
	if phone == nil {
		phone = &phoneConfig{PhoneType: "SOFT_PHONE"}
	}
	id := s.uuid()
	u := &connectUser{ID: id, Arn: in.arn + "/agent/" + id, Username: *b.Username, IdentityInfo: b.IdentityInfo, PhoneConfig: phone,
		SecurityProfiles: append([]string(nil), b.SecurityProfileIDs...), RoutingProfileID: *b.RoutingProfileID,
		Tags: b.Tags, LastModified: epoch(s.now().UTC()), LastRegion: s.region}
	in.users[id] = u
	return map[string]string{"UserId": u.ID, "UserArn": u.Arn}, nil
}

// updateUser runs with mu held.
func (s *Sandbox) updateUser(in *instance, u *connectUser, op string, body []byte) (any, *apiError) {
	var b struct {
		IdentityInfo       *identityInfo `json:"IdentityInfo"`
		PhoneConfig        *phoneConfig  `json:"PhoneConfig"`
		SecurityProfileIDs []string      `json:"SecurityProfileIds"`
		RoutingProfileID   *string       `json:"RoutingProfileId"`
		HierarchyGroupID   *string       `json:"HierarchyGroupId"`
	}
	if aerr := decodeBody(body, &b); aerr != nil {
		return nil, aerr
	}
	switch op {
	case "UpdateUserIdentityInfo":
		if b.IdentityInfo == nil {
			return nil, badParam("IdentityInfo is required.")
		}
		if aerr := checkIdentity(in, b.IdentityInfo); aerr != nil {
			return nil, aerr
		}
		u.IdentityInfo = b.IdentityInfo
	case "UpdateUserSecurityProfiles":
		if aerr := checkSecurityProfiles(in, b.SecurityProfileIDs); aerr != nil {
			return nil, aerr
		}
		u.SecurityProfiles = append([]string(nil), b.SecurityProfileIDs...)
	case "UpdateUserRoutingProfile":
		if b.RoutingProfileID == nil || in.profile(in.routingProfiles, *b.RoutingProfileID) == nil {
			return nil, badParam("Routing profile does not exist.")
		}
		u.RoutingProfileID = *b.RoutingProfileID
	case "UpdateUserPhoneConfig":
		if b.PhoneConfig == nil {
			return nil, badParam("PhoneConfig is required.")
		}
		if aerr := checkPhone(b.PhoneConfig); aerr != nil {
			return nil, aerr
		}
		u.PhoneConfig = b.PhoneConfig
	case "UpdateUserHierarchy":
		if b.HierarchyGroupID != nil && *b.HierarchyGroupID != "" {
			return nil, badParam("Hierarchy group " + *b.HierarchyGroupID + " does not exist.")
		}
		u.HierarchyGroupID = ""
	}
	u.LastModified = epoch(s.now().UTC())
	u.LastRegion = s.region
	return nil, nil
}

// connectSearchUsers supports StringCondition filters on Username (and
// FirstName/LastName) with EXACT or CONTAINS, alone or under OrConditions /
// AndConditions.
func (s *Sandbox) connectSearchUsers(body []byte) (any, *apiError) {
	var b struct {
		InstanceID     *string         `json:"InstanceId"`
		MaxResults     *int            `json:"MaxResults"`
		NextToken      string          `json:"NextToken"`
		SearchCriteria *searchCriteria `json:"SearchCriteria"`
	}
	if aerr := decodeBody(body, &b); aerr != nil {
		return nil, aerr
	}
	if b.InstanceID == nil {
		return nil, badParam("InstanceId is required.")
	}
	n := 100
	if b.MaxResults != nil {
		if *b.MaxResults < 1 || *b.MaxResults > 500 {
			return nil, badParam("MaxResults must be between 1 and 500.")
		}
		n = *b.MaxResults
	}
	start, aerr := decodeToken(b.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[*b.InstanceID]
	if in == nil {
		return nil, notFound("Instance not found: " + *b.InstanceID)
	}
	var hits []map[string]any
	for _, u := range sortedUsers(in) {
		ok, aerr := b.SearchCriteria.match(u)
		if aerr != nil {
			return nil, aerr
		}
		if !ok {
			continue
		}
		hit := map[string]any{"Id": u.ID, "Arn": u.Arn, "Username": u.Username, "InstanceId": in.id,
			"SecurityProfileIds": u.SecurityProfiles, "RoutingProfileId": u.RoutingProfileID, "PhoneConfig": u.PhoneConfig}
		if u.IdentityInfo != nil {
			hit["IdentityInfo"] = map[string]string{"FirstName": u.IdentityInfo.FirstName, "LastName": u.IdentityInfo.LastName}
		}
		hits = append(hits, hit)
	}
	items, next := page(hits, start, n)
	return withToken(map[string]any{"Users": items, "ApproximateTotalCount": len(hits)}, next), nil
}

type searchCriteria struct {
	StringCondition *struct {
		FieldName      string `json:"FieldName"`
		Value          string `json:"Value"`
		ComparisonType string `json:"ComparisonType"`
	} `json:"StringCondition"`
	OrConditions  []*searchCriteria `json:"OrConditions"`
	AndConditions []*searchCriteria `json:"AndConditions"`
}

func (c *searchCriteria) match(u *connectUser) (bool, *apiError) {
	if c == nil {
		return true, nil
	}
	if sc := c.StringCondition; sc != nil {
		var field string
		switch strings.ToLower(sc.FieldName) {
		case "username":
			field = u.Username
		case "firstname":
			if u.IdentityInfo != nil {
				field = u.IdentityInfo.FirstName
			}
		case "lastname":
			if u.IdentityInfo != nil {
				field = u.IdentityInfo.LastName
			}
		default:
			return false, badParam("The sandbox supports SearchUsers on Username, FirstName and LastName only.")
		}
		switch sc.ComparisonType {
		case "EXACT":
			return field == sc.Value, nil
		case "CONTAINS":
			return strings.Contains(strings.ToLower(field), strings.ToLower(sc.Value)), nil
		case "STARTS_WITH":
			return strings.HasPrefix(strings.ToLower(field), strings.ToLower(sc.Value)), nil
		default:
			return false, badParam("ComparisonType must be STARTS_WITH, CONTAINS or EXACT.")
		}
	}
	if len(c.OrConditions) > 0 {
		for _, sub := range c.OrConditions {
			ok, aerr := sub.match(u)
			if aerr != nil || ok {
				return ok, aerr
			}
		}
		return false, nil
	}
	for _, sub := range c.AndConditions {
		ok, aerr := sub.match(u)
		if aerr != nil || !ok {
			return false, aerr
		}
	}
	return true, nil
}

// connectGetFederationToken is the API form of federation: the caller must be
// an assumed-role session whose name is a Connect username.
func (s *Sandbox) connectGetFederationToken(c *credential, instanceID string) (any, *apiError) {
	if c.session == nil {
		return nil, badRequest("Provided identity: Principal: " + s.adminUser + " User: " + s.adminID + " cannot be used for federation with Amazon Connect")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[instanceID]
	if in == nil {
		return nil, notFound("Instance not found: " + instanceID)
	}
	u := in.userByName(c.session.sessionName)
	if u == nil {
		return nil, &apiError{Status: 404, Code: "UserNotFoundException", Message: "No user found for " + c.session.sessionName}
	}
	now := s.now().UTC()
	s.feds = append(s.feds, Federation{InstanceID: in.id, Username: u.Username, RoleArn: c.session.roleArn, At: now})
	return map[string]any{
		"Credentials": map[string]any{
			"AccessToken": base64.RawURLEncoding.EncodeToString(s.readRandom(32)), "AccessTokenExpiration": epoch(now.Add(12 * time.Hour)),
			"RefreshToken": base64.RawURLEncoding.EncodeToString(s.readRandom(32)), "RefreshTokenExpiration": epoch(now.Add(30 * 24 * time.Hour)),
		},
		"SignInUrl": "/connect/federate/" + in.id, "UserArn": u.Arn, "UserId": u.ID,
	}, nil
}

package awssandbox

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox/iampolicy"
)

// XML namespaces of the query-protocol services.
const (
	nsIAM = "https://iam.amazonaws.com/doc/2010-05-08/"
	nsSTS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// looksLikeQuery reports whether r is an AWS query-protocol request
// (Action in the form body or the URL).
func looksLikeQuery(r *http.Request, body []byte) bool {
	if r.URL.Query().Get("Action") != "" {
		return true
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(body))
		return err == nil && v.Get("Action") != ""
	}
	return false
}

// queryParams merges the URL query and a form-encoded body.
func queryParams(r *http.Request, body []byte) (url.Values, error) {
	v := r.URL.Query()
	if r.Method == http.MethodPost && len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vals := range form {
			v[k] = append(v[k], vals...)
		}
	}
	return v, nil
}

type queryHandler func(c *credential, p url.Values, r *http.Request) (any, *apiError)

func (s *Sandbox) serveQuery(w http.ResponseWriter, r *http.Request, body []byte, service string) {
	reqID := s.requestID()
	p, err := queryParams(r, body)
	if err != nil {
		writeQueryError(w, "", &apiError{Status: 400, Code: "MalformedQueryString", Message: "The query string is malformed", Sender: true}, reqID)
		return
	}
	action := p.Get("Action")
	ns := nsIAM
	if service == "sts" || (service == "" && strings.HasPrefix(action, "AssumeRoleWith")) {
		ns = nsSTS
		service = "sts"
	}
	// Unsigned calls: only the STS operations AWS serves without credentials.
	if service == "" || r.Header.Get("Authorization") == "" {
		if action != "AssumeRoleWithSAML" {
			s.count(action)
			writeQueryError(w, ns, &apiError{Status: 403, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token", Sender: true}, reqID)
			return
		}
		s.count("AssumeRoleWithSAML")
		res, aerr := s.stsAssumeRoleWithSAML(p, r)
		s.writeQueryResult(w, ns, action, res, aerr, reqID)
		return
	}
	var table map[string]queryHandler
	version := "2010-05-08"
	if service == "sts" {
		table, version = s.stsActions(), "2011-06-15"
	} else {
		table = s.iamActions()
	}
	s.count(action)
	c, aerr := s.authenticate(r, body, false)
	if aerr != nil {
		writeQueryError(w, ns, aerr, reqID)
		return
	}
	h, ok := table[action]
	if !ok || action == "AssumeRoleWithSAML" {
		if ok {
			h = func(_ *credential, p url.Values, r *http.Request) (any, *apiError) {
				return s.stsAssumeRoleWithSAML(p, r)
			}
		} else {
			writeQueryError(w, ns, &apiError{Status: 400, Code: "InvalidAction", Message: "Could not find operation " + action + " for version " + version, Sender: true}, reqID)
			return
		}
	}
	if v := p.Get("Version"); v != "" && v != version {
		writeQueryError(w, ns, &apiError{Status: 400, Code: "InvalidAction", Message: "Could not find operation " + action + " for version " + v, Sender: true}, reqID)
		return
	}
	// GetCallerIdentity needs no permission; AssumeRoleWithSAML is authorised
	// by the role's trust policy, not by the caller.
	if aerr := s.authorize(c, service+":"+action, "*", nil); aerr != nil && action != "GetCallerIdentity" && action != "AssumeRoleWithSAML" {
		writeQueryError(w, ns, aerr, reqID)
		return
	}
	res, aerr := h(c, p, r)
	s.writeQueryResult(w, ns, action, res, aerr, reqID)
}

// authorize applies the identity policies of an assumed-role session; the
// admin user may do anything.
func (s *Sandbox) authorize(c *credential, action, resource string, extra map[string][]string) *apiError {
	if c.session == nil {
		return nil
	}
	s.mu.Lock()
	docs := s.rolePolicyDocs(c.session.roleName)
	s.mu.Unlock()
	cx := map[string][]string{"aws:userid": {c.session.userID()}}
	for k, v := range extra {
		cx[k] = v
	}
	req := iampolicy.Request{Action: action, Resource: resource, Context: cx}
	if iampolicy.Evaluate(req, docs...) != iampolicy.Allow {
		return &apiError{Status: 403, Code: "AccessDenied", Sender: true,
			Message: "User: " + c.session.assumedArn(s.accountID) + " is not authorized to perform: " + action + " on resource: " + resource}
	}
	return nil
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type queryEnvelope struct {
	XMLName  xml.Name
	Xmlns    string `xml:"xmlns,attr"`
	Result   any
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

func (s *Sandbox) writeQueryResult(w http.ResponseWriter, ns, action string, res any, aerr *apiError, reqID string) {
	if aerr != nil {
		writeQueryError(w, ns, aerr, reqID)
		return
	}
	env := queryEnvelope{XMLName: xml.Name{Local: action + "Response"}, Xmlns: ns, Result: res, Metadata: responseMetadata{reqID}}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(env); err != nil {
		writeQueryError(w, ns, &apiError{Status: 500, Code: "ServiceFailure", Message: "encode response: " + err.Error()}, reqID)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	_, _ = w.Write(b.Bytes())
}

type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, ns string, e *apiError, reqID string) {
	var q queryError
	q.Xmlns = ns
	q.Error.Type = "Sender"
	if e.Status >= 500 {
		q.Error.Type = "Receiver"
	}
	q.Error.Code, q.Error.Message, q.RequestID = e.Code, e.Message, reqID
	var b bytes.Buffer
	b.WriteString(xml.Header)
	_ = xml.NewEncoder(&b).Encode(q)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b.Bytes())
}

// validation builds AWS's "1 validation error detected" ValidationError.
func validation(value, member, constraint string) *apiError {
	v := "Value '" + value + "'"
	if value == "" {
		v = "Value null"
	}
	return &apiError{Status: 400, Code: "ValidationError", Sender: true,
		Message: "1 validation error detected: " + v + " at '" + member + "' failed to satisfy constraint: " + constraint}
}

func required(p url.Values, param, member string) (string, *apiError) {
	v := p.Get(param)
	if v == "" {
		return "", validation("", member, "Member must not be null")
	}
	return v, nil
}

func lengthBetween(v, member string, lo, hi int) *apiError {
	n := len([]rune(v))
	if n < lo {
		return validation(truncate(v, 64), member, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if n > hi {
		return validation(truncate(v, 64), member, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
	return nil
}

func intParam(p url.Values, param, member string, lo, hi, def int) (int, *apiError) {
	v := p.Get(param)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validation(v, member, "Member must be an integer")
	}
	if n < lo {
		return 0, validation(v, member, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if n > hi {
		return 0, validation(v, member, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return n, nil
}

// tagsParam reads Tags.member.N.Key / .Value.
func tagsParam(p url.Values) []tag {
	var out []tag
	for i := 1; ; i++ {
		k := p.Get("Tags.member." + strconv.Itoa(i) + ".Key")
		if k == "" {
			break
		}
		out = append(out, tag{Key: k, Value: p.Get("Tags.member." + strconv.Itoa(i) + ".Value")})
	}
	return out
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagList struct {
	Members []tag `xml:"member"`
}

// awsTime renders timestamps as IAM does (ISO 8601, UTC, seconds).
type awsTime time.Time

func (t awsTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// encodePolicy percent-encodes a policy document the way IAM returns
// AssumeRolePolicyDocument (RFC 3986: everything but unreserved characters).
func encodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Package iampolicy parses IAM policy documents and evaluates the subset of
// the IAM policy language the sandbox needs: Allow/Deny statements with
// Principal, Action/NotAction, Resource/NotResource (wildcards and policy
// variables) and String* / Bool / Null conditions, with explicit deny winning
// over allow and everything else implicitly denied.
package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by Parse errors (IAM: MalformedPolicyDocument).
var ErrMalformed = errors.New("malformed policy document")

// Document is a parsed policy.
type Document struct {
	Version    string
	Statements []Statement
}

// Statement is one policy statement. Lists are normalised from the JSON
// string-or-array forms.
type Statement struct {
	Sid          string
	Effect       string // Allow or Deny
	Principal    map[string][]string
	AnyPrincipal bool
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string // operator → key → values
}

type rawStatement struct {
	Sid         string                                `json:"Sid"`
	Effect      string                                `json:"Effect"`
	Principal   json.RawMessage                       `json:"Principal"`
	Action      json.RawMessage                       `json:"Action"`
	NotAction   json.RawMessage                       `json:"NotAction"`
	Resource    json.RawMessage                       `json:"Resource"`
	NotResource json.RawMessage                       `json:"NotResource"`
	Condition   map[string]map[string]json.RawMessage `json:"Condition"`
}

// Parse parses a policy document (JSON).
func Parse(doc string) (*Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("%w: This policy contains invalid Json", ErrMalformed)
	}
	if raw.Version != "" && raw.Version != "2012-10-17" && raw.Version != "2008-10-17" {
		return nil, fmt.Errorf("%w: The policy failed legacy parsing", ErrMalformed)
	}
	var stmts []rawStatement
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		var one rawStatement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, fmt.Errorf("%w: This policy contains invalid Json", ErrMalformed)
		}
		stmts = []rawStatement{one}
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return nil, fmt.Errorf("%w: Missing required field Statement", ErrMalformed)
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("%w: Missing required field Statement", ErrMalformed)
	}
	d := &Document{Version: raw.Version}
	for _, rs := range stmts {
		s := Statement{Sid: rs.Sid, Effect: rs.Effect}
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("%w: Invalid effect: %s", ErrMalformed, rs.Effect)
		}
		var err error
		if s.Action, err = strList(rs.Action); err != nil {
			return nil, err
		}
		if s.NotAction, err = strList(rs.NotAction); err != nil {
			return nil, err
		}
		if len(s.Action) == 0 && len(s.NotAction) == 0 {
			return nil, fmt.Errorf("%w: Policy statement must contain actions.", ErrMalformed)
		}
		if s.Resource, err = strList(rs.Resource); err != nil {
			return nil, err
		}
		if s.NotResource, err = strList(rs.NotResource); err != nil {
			return nil, err
		}
		if len(rs.Principal) > 0 {
			var star string
			if json.Unmarshal(rs.Principal, &star) == nil {
				if star != "*" {
					return nil, fmt.Errorf("%w: Invalid principal in policy", ErrMalformed)
				}
				s.AnyPrincipal = true
			} else {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(rs.Principal, &m); err != nil {
					return nil, fmt.Errorf("%w: Invalid principal in policy", ErrMalformed)
				}
				s.Principal = map[string][]string{}
				for k, v := range m {
					if s.Principal[k], err = strList(v); err != nil {
						return nil, err
					}
				}
			}
		}
		if len(rs.Condition) > 0 {
			s.Condition = map[string]map[string][]string{}
			for op, kv := range rs.Condition {
				s.Condition[op] = map[string][]string{}
				for k, v := range kv {
					vals, err := condValues(v)
					if err != nil {
						return nil, err
					}
					s.Condition[op][k] = vals
				}
			}
		}
		d.Statements = append(d.Statements, s)
	}
	return d, nil
}

func strList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("%w: This policy contains invalid Json", ErrMalformed)
	}
	return many, nil
}

// condValues accepts strings, numbers and booleans, alone or in a list.
func condValues(raw json.RawMessage) ([]string, error) {
	var vals []any
	if err := json.Unmarshal(raw, &vals); err != nil {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%w: This policy contains invalid Json", ErrMalformed)
		}
		vals = []any{one}
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case bool, float64:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, fmt.Errorf("%w: Invalid condition value", ErrMalformed)
		}
	}
	return out, nil
}

// Request is one authorization question.
type Request struct {
	PrincipalType string // "Federated", "AWS", "Service"; empty for identity policies
	Principal     string // e.g. the SAML provider ARN
	Action        string // e.g. "sts:AssumeRoleWithSAML"
	Resource      string // ARN; empty means "any resource" (trust policies)
	Context       map[string][]string
}

// Decision is the outcome of evaluation.
type Decision int

// Decisions.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Evaluate applies every statement of docs to req.
func Evaluate(req Request, docs ...*Document) Decision {
	ctx := map[string][]string{}
	for k, v := range req.Context {
		ctx[strings.ToLower(k)] = v
	}
	allowed := false
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			if !s.matches(req, ctx) {
				continue
			}
			if s.Effect == "Deny" {
				return ExplicitDeny
			}
			allowed = true
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

func (s Statement) matches(req Request, ctx map[string][]string) bool {
	if req.PrincipalType != "" && !s.AnyPrincipal {
		found := false
		for _, p := range s.Principal[req.PrincipalType] {
			if p == "*" || p == req.Principal {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if len(s.Action) > 0 && !anyMatch(s.Action, req.Action, true, ctx) {
		return false
	}
	if len(s.NotAction) > 0 && anyMatch(s.NotAction, req.Action, true, ctx) {
		return false
	}
	if req.Resource != "" {
		if len(s.Resource) > 0 && !anyMatch(s.Resource, req.Resource, false, ctx) {
			return false
		}
		if len(s.NotResource) > 0 && anyMatch(s.NotResource, req.Resource, false, ctx) {
			return false
		}
	}
	for op, kv := range s.Condition {
		for key, want := range kv {
			if !condition(op, ctx[strings.ToLower(key)], want) {
				return false
			}
		}
	}
	return true
}

func anyMatch(patterns []string, value string, fold bool, ctx map[string][]string) bool {
	for _, p := range patterns {
		p = substitute(p, ctx)
		if Match(p, value, fold) {
			return true
		}
	}
	return false
}

// substitute replaces ${key} policy variables with context values; an
// unknown variable makes the pattern unmatchable, as in IAM.
func substitute(p string, ctx map[string][]string) string {
	for {
		i := strings.Index(p, "${")
		if i < 0 {
			return p
		}
		j := strings.Index(p[i:], "}")
		if j < 0 {
			return p
		}
		key := strings.ToLower(p[i+2 : i+j])
		val := "\x00unresolved\x00"
		switch key {
		case "*", "?", "$":
			val = "\x00" + key // literal escapes; rare, never matched here
		default:
			if v := ctx[key]; len(v) == 1 {
				val = v[0]
			}
		}
		p = p[:i] + val + p[i+j+1:]
	}
}

// Match reports whether value matches an IAM wildcard pattern ('*' any run,
// '?' one character), case-insensitively when fold is set.
func Match(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	return wildcard(pattern, value)
}

func wildcard(p, v string) bool {
	// Iterative glob with backtracking on the last '*'.
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func condition(op string, have, want []string) bool {
	setOp := ""
	if a, b, ok := strings.Cut(op, ":"); ok {
		setOp, op = a, b
	}
	ifExists := false
	if o, ok := strings.CutSuffix(op, "IfExists"); ok {
		op, ifExists = o, true
	}
	if op == "Null" {
		isNull := len(have) == 0
		for _, w := range want {
			if (w == "true") == isNull {
				return true
			}
		}
		return false
	}
	if len(have) == 0 {
		if ifExists {
			return true
		}
		// Negated operators match when the key is absent.
		return strings.HasPrefix(op, "StringNot") || setOp == "ForAllValues"
	}
	one := func(h string) bool {
		switch op {
		case "StringEquals":
			return contains(want, func(w string) bool { return w == h })
		case "StringNotEquals":
			return !contains(want, func(w string) bool { return w == h })
		case "StringEqualsIgnoreCase":
			return contains(want, func(w string) bool { return strings.EqualFold(w, h) })
		case "StringNotEqualsIgnoreCase":
			return !contains(want, func(w string) bool { return strings.EqualFold(w, h) })
		case "StringLike":
			return contains(want, func(w string) bool { return wildcard(w, h) })
		case "StringNotLike":
			return !contains(want, func(w string) bool { return wildcard(w, h) })
		case "Bool":
			return contains(want, func(w string) bool { return strings.EqualFold(w, h) })
		case "ArnEquals", "ArnLike":
			return contains(want, func(w string) bool { return wildcard(w, h) })
		case "ArnNotEquals", "ArnNotLike":
			return !contains(want, func(w string) bool { return wildcard(w, h) })
		}
		return false // unknown operators never match: fail closed
	}
	if setOp == "ForAllValues" {
		for _, h := range have {
			if !one(h) {
				return false
			}
		}
		return true
	}
	for _, h := range have {
		if one(h) {
			return true
		}
	}
	return false
}

func contains(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

// ResourceMatches is Match for ARNs (case-sensitive), exported for callers
// that check resource patterns without a full request.
func ResourceMatches(pattern, arn string) bool { return wildcard(pattern, arn) }

package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// TrustStatement is the part of one trust-policy statement that decides
// whether SAML federation may assume the role.
type TrustStatement struct {
	Effect       string   // Allow or Deny
	Federated    []string // Principal.Federated
	Actions      []string // Action
	NotAction    bool     // the statement used NotAction: Actions lists the excluded actions
	HasCondition bool
}

// TrustPolicy is a parsed role trust policy (AssumeRolePolicyDocument).
type TrustPolicy struct {
	Statements []TrustStatement
}

// maxPolicyLen bounds the documents the parser accepts; IAM's own limit for
// trust policies is 4096 characters (2048 by default).
const maxPolicyLen = 131072

// ParseTrustPolicy parses a trust policy as IAM returns it (URL-encoded JSON)
// or as plain JSON. Statement may be an object or an array; Principal
// Federated and Action may be a string or an array of strings.
func ParseTrustPolicy(doc string) (TrustPolicy, error) {
	if len(doc) > maxPolicyLen {
		return TrustPolicy{}, fmt.Errorf("aws: trust policy of %d bytes is too large", len(doc))
	}
	trimmed := strings.TrimSpace(doc)
	if !strings.HasPrefix(trimmed, "{") {
		d, err := url.PathUnescape(trimmed)
		if err != nil {
			return TrustPolicy{}, fmt.Errorf("aws: trust policy is neither JSON nor URL-encoded JSON: %w", err)
		}
		trimmed = strings.TrimSpace(d)
	}
	var raw struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(trimmed), &raw); err != nil {
		return TrustPolicy{}, fmt.Errorf("aws: trust policy is not valid JSON: %w", err)
	}
	var stmts []json.RawMessage
	switch s := bytes.TrimSpace(raw.Statement); {
	case len(s) == 0 || string(s) == "null":
		return TrustPolicy{}, fmt.Errorf("aws: trust policy has no Statement")
	case s[0] == '[':
		if err := json.Unmarshal(s, &stmts); err != nil {
			return TrustPolicy{}, fmt.Errorf("aws: trust policy Statement: %w", err)
		}
	case s[0] == '{':
		stmts = []json.RawMessage{s}
	default:
		return TrustPolicy{}, fmt.Errorf("aws: trust policy Statement must be an object or an array")
	}
	var p TrustPolicy
	for i, s := range stmts {
		st, err := parseStatement(s)
		if err != nil {
			return TrustPolicy{}, fmt.Errorf("aws: trust policy statement %d: %w", i+1, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(b json.RawMessage) (TrustStatement, error) {
	var s struct {
		Effect    string          `json:"Effect"`
		Principal json.RawMessage `json:"Principal"`
		Action    json.RawMessage `json:"Action"`
		NotAction json.RawMessage `json:"NotAction"`
		Condition json.RawMessage `json:"Condition"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return TrustStatement{}, err
	}
	st := TrustStatement{Effect: s.Effect, HasCondition: len(s.Condition) > 0 && string(s.Condition) != "null" && string(s.Condition) != "{}"}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return TrustStatement{}, fmt.Errorf("Effect must be Allow or Deny")
	}
	var err error
	if len(s.Action) > 0 {
		if st.Actions, err = stringOrList(s.Action); err != nil {
			return TrustStatement{}, fmt.Errorf("Action: %w", err)
		}
	} else if len(s.NotAction) > 0 {
		st.NotAction = true
		if st.Actions, err = stringOrList(s.NotAction); err != nil {
			return TrustStatement{}, fmt.Errorf("NotAction: %w", err)
		}
	}
	if len(s.Principal) > 0 && s.Principal[0] == '{' {
		var pr map[string]json.RawMessage
		if err := json.Unmarshal(s.Principal, &pr); err != nil {
			return TrustStatement{}, fmt.Errorf("Principal: %w", err)
		}
		if f, ok := pr["Federated"]; ok {
			if st.Federated, err = stringOrList(f); err != nil {
				return TrustStatement{}, fmt.Errorf("Principal Federated: %w", err)
			}
		}
	}
	return st, nil
}

func stringOrList(b json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil, fmt.Errorf("must be a string or an array of strings")
	}
	return many, nil
}

// allowsSAML reports whether the statement's actions cover
// sts:AssumeRoleWithSAML.
func (s TrustStatement) allowsSAML() bool {
	match := false
	for _, a := range s.Actions {
		if wildcardMatch(strings.ToLower(a), "sts:assumerolewithsaml") {
			match = true
			break
		}
	}
	if s.NotAction {
		return !match
	}
	return match
}

// SAMLProviders lists the SAML provider ARNs the policy lets assume the role
// with sts:AssumeRoleWithSAML: federated principals of Allow statements whose
// actions cover it ("sts:AssumeRoleWithSAML", "sts:*", "*", other
// wildcards), minus those an unconditional Deny statement excludes. Only
// saml-provider ARNs are returned, in order of first appearance.
func (p TrustPolicy) SAMLProviders() []string {
	denied := map[string]bool{}
	for _, s := range p.Statements {
		if s.Effect == "Deny" && !s.HasCondition && s.allowsSAML() {
			for _, f := range s.Federated {
				denied[f] = true
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range p.Statements {
		if s.Effect != "Allow" || !s.allowsSAML() {
			continue
		}
		for _, f := range s.Federated {
			if denied[f] || seen[f] || !strings.Contains(f, ":saml-provider/") {
				continue
			}
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// wildcardMatch matches IAM action patterns: * any run, ? one character.
// It backtracks only to the last star, so it runs in O(len(pattern)·len(s)).
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

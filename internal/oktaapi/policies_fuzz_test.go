package oktaapi

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// FuzzPolicyJSON feeds arbitrary bodies to the policy and rule decoders of
// every policy type: they decode or refuse with an Invalid error (E0000001
// or E0000003), never panic.
func FuzzPolicyJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"ACCESS_POLICY","name":"Connect"}`,
		`{"name":"Default Policy","settings":{"password":{"complexity":{"minLength":12},"age":{"maxAgeDays":90,"historyCount":5}}}}`,
		`{"name":"MFA","conditions":{"people":{"groups":{"include":["00g1"]}}},"actions":{"appSignOn":{"access":"ALLOW","verificationMethod":{"type":"ASSURANCE","factorMode":"2FA","reauthenticateIn":"PT2H"}}}}`,
		`{"name":"Agents","actions":{"signon":{"access":"ALLOW","requireFactor":true,"factorPromptMode":"DEVICE","factorLifetime":10080,"session":{"maxSessionIdleMinutes":15,"maxSessionLifetimeMinutes":480}}}}`,
		`{"actions":{"signon":{"session":{"usePersistentCookie":true}}},"conditions":{"network":{"connection":"ZONE"}}}`,
		`{"x":1}`, `[]`, `{"name":` + "\x00",
	} {
		f.Add([]byte(s))
	}
	current := &policy.Policy{Type: policy.Password, System: true, Name: "Default Policy", Password: &policy.PasswordSettings{MinLength: 8}}
	f.Fuzz(func(t *testing.T, body []byte) {
		ok := func(what string, err error) {
			if err != nil && !errs.Is(err, errs.Invalid) {
				t.Fatalf("%s: %T %v", what, err, err)
			}
		}
		_, err := DecodePolicy(body, nil)
		ok("new policy", err)
		p, err := DecodePolicy(body, current)
		ok("password policy", err)
		if err == nil && p.Password == nil {
			t.Fatal("a password policy lost its settings")
		}
		for _, typ := range []policy.Type{policy.SignOn, policy.Access} {
			r, err := DecodeRule(body, typ)
			ok("rule", err)
			if err == nil && (r.RememberDevice < 0 || r.SessionIdle < 0 || r.SessionMax < 0 || r.Reauthenticate < 0) {
				t.Fatalf("negative duration decoded: %+v", r)
			}
		}
	})
}

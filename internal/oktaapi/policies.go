package oktaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Policies serves the subset of Okta's Policy API that Gatehouse
// implements: the default OKTA_SIGN_ON and PASSWORD policies and any number
// of ACCESS_POLICY policies, their rules, and the assignment of an access
// policy to an app. Settings Gatehouse does not implement are refused,
// never ignored: a rule must not look stricter than it is.
type Policies struct {
	API      *API
	Policies *policy.Service
	Catalog  *catalog.Service
}

// Mount registers the routes.
func (p *Policies) Mount(m *Mux) {
	m.Handle("GET /api/v1/policies", ReadAccess, p.list)
	m.Handle("POST /api/v1/policies", WriteAccess, p.create)
	m.Handle("GET /api/v1/policies/{id}", ReadAccess, p.get)
	m.Handle("PUT /api/v1/policies/{id}", WriteAccess, p.update)
	m.Handle("DELETE /api/v1/policies/{id}", WriteAccess, p.delete)
	m.Handle("GET /api/v1/policies/{id}/rules", ReadAccess, p.rules)
	m.Handle("POST /api/v1/policies/{id}/rules", WriteAccess, p.createRule)
	m.Handle("GET /api/v1/policies/{id}/rules/{ruleId}", ReadAccess, p.rule)
	m.Handle("PUT /api/v1/policies/{id}/rules/{ruleId}", WriteAccess, p.updateRule)
	m.Handle("DELETE /api/v1/policies/{id}/rules/{ruleId}", WriteAccess, p.deleteRule)
	m.Handle("POST /api/v1/policies/{id}/lifecycle/{op}", WriteAccess, p.lifecycle)
	m.Handle("POST /api/v1/policies/{id}/rules/{ruleId}/lifecycle/{op}", WriteAccess, p.ruleLifecycle)
	m.Handle("PUT /api/v1/apps/{appId}/policies/{policyId}", AppAccess, p.assignApp)
}

// lifecycleStatus maps a lifecycle operation to the status it sets.
func lifecycleStatus(op string) (string, error) {
	switch op {
	case "activate":
		return policy.StatusActive, nil
	case "deactivate":
		return policy.StatusInactive, nil
	}
	return "", &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: lifecycle/" + op + " (Operation)"}
}

// lifecycle activates or deactivates a policy; 204 as Okta answers.
func (p *Policies) lifecycle(w http.ResponseWriter, r *http.Request) error {
	status, err := lifecycleStatus(r.PathValue("op"))
	if err != nil {
		return err
	}
	if err := p.Policies.SetStatus(r.Context(), r.PathValue("id"), status); err != nil {
		return err
	}
	return NoContent(w)
}

// ruleLifecycle activates or deactivates a rule; 204 as Okta answers.
func (p *Policies) ruleLifecycle(w http.ResponseWriter, r *http.Request) error {
	status, err := lifecycleStatus(r.PathValue("op"))
	if err != nil {
		return err
	}
	if err := p.Policies.SetRuleStatus(r.Context(), r.PathValue("id"), r.PathValue("ruleId"), status); err != nil {
		return err
	}
	return NoContent(w)
}

func groupsJSON(g policy.Groups) map[string]any {
	in, ex := g.Include, g.Exclude
	if in == nil {
		in = []string{}
	}
	if ex == nil {
		ex = []string{}
	}
	return map[string]any{"include": in, "exclude": ex}
}

// PolicyJSON renders a policy as Okta does.
func (p *Policies) PolicyJSON(x *policy.Policy) map[string]any {
	self := p.API.BaseURL + "/api/v1/policies/" + x.ID
	out := map[string]any{
		"id": x.ID, "type": string(x.Type), "name": x.Name, "description": x.Description, "status": x.Status,
		"priority": x.Priority, "system": x.System, "created": Time(x.Created), "lastUpdated": Time(x.LastUpdated),
		"conditions": nil,
		"_links":     map[string]any{"self": link(self, "GET", "PUT", "DELETE")},
	}
	if x.Type != policy.Password {
		out["_links"].(map[string]any)["rules"] = link(self+"/rules", "GET", "POST")
	}
	switch x.Type {
	case policy.SignOn:
		out["conditions"] = map[string]any{"people": map[string]any{"groups": groupsJSON(x.Groups)}}
	case policy.Password:
		out["conditions"] = map[string]any{"people": map[string]any{"groups": groupsJSON(x.Groups)}, "authProvider": map[string]any{"provider": "OKTA"}}
		ps := policy.PasswordSettings{}
		if x.Password != nil {
			ps = *x.Password
		}
		attrs := ps.ExcludeAttributes
		if attrs == nil {
			attrs = []string{}
		}
		out["settings"] = map[string]any{"password": map[string]any{
			"complexity": map[string]any{"minLength": ps.MinLength, "minLowerCase": ps.MinLowerCase, "minUpperCase": ps.MinUpperCase,
				"minNumber": ps.MinNumber, "minSymbol": ps.MinSymbol, "excludeUsername": ps.ExcludeUsername, "excludeAttributes": attrs},
			"age": map[string]any{"maxAgeDays": ps.MaxAgeDays, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": ps.HistoryCount},
		}}
	}
	return out
}

func minutes(d time.Duration) int { return int(d / time.Minute) }

// RuleJSON renders a rule of a policy of type t as Okta does.
func (p *Policies) RuleJSON(t policy.Type, r *policy.Rule) map[string]any {
	self := p.API.BaseURL + "/api/v1/policies/" + r.PolicyID + "/rules/" + r.ID
	out := map[string]any{
		"id": r.ID, "type": t.RuleType(), "name": r.Name, "status": r.Status, "priority": r.Priority, "system": r.System,
		"created": Time(r.Created), "lastUpdated": Time(r.LastUpdated),
		"conditions": map[string]any{"people": map[string]any{"groups": groupsJSON(r.Groups)}},
		"_links":     map[string]any{"self": link(self, "GET", "PUT", "DELETE")},
	}
	switch t {
	case policy.SignOn:
		mode, lifetime := "ALWAYS", 0
		if r.RememberDevice > 0 {
			mode, lifetime = "DEVICE", minutes(r.RememberDevice)
		}
		signon := map[string]any{"access": r.Access, "requireFactor": r.RequireMFA, "factorPromptMode": mode, "rememberDeviceByDefault": false,
			"session": map[string]any{"usePersistentCookie": false, "maxSessionIdleMinutes": minutes(r.SessionIdle), "maxSessionLifetimeMinutes": minutes(r.SessionMax)}}
		if lifetime > 0 {
			signon["factorLifetime"] = lifetime
		}
		out["conditions"].(map[string]any)["network"] = map[string]any{"connection": "ANYWHERE"}
		out["actions"] = map[string]any{"signon": signon}
	case policy.Access:
		vm := map[string]any{"type": "ASSURANCE", "factorMode": "1FA", "constraints": []any{}}
		if r.RequireMFA {
			vm["factorMode"] = "2FA"
		}
		if r.Reauthenticate > 0 {
			vm["reauthenticateIn"] = policy.FormatDuration(r.Reauthenticate)
		}
		out["actions"] = map[string]any{"appSignOn": map[string]any{"access": r.Access, "verificationMethod": vm}}
	}
	return out
}

// strictJSON decodes body into dst, refusing members dst does not have
// with a validation error that names them: a setting Gatehouse does not
// implement is refused rather than silently dropped.
func strictJSON(body []byte, dst any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "json: unknown field ") {
			field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			return errs.InvalidFields("Api validation failed: "+what,
				errs.Field(field, "%s: Gatehouse does not implement this setting of Okta's %s", field, what))
		}
		return Malformed(jsonProblem(err))
	}
	if dec.More() {
		return Malformed("the body must be one JSON object")
	}
	return nil
}

func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, Malformed("")
	}
	if len(bytes.TrimSpace(b)) == 0 || bytes.TrimSpace(b)[0] != '{' {
		return nil, Malformed("the body must be a JSON object")
	}
	if err := checkBodyText(b); err != nil {
		return nil, err
	}
	return b, nil
}

type groupsIn struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

type idListIn struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

type peopleIn struct {
	Groups *groupsIn `json:"groups"`
	Users  *idListIn `json:"users"`
}

type conditionsIn struct {
	People  *peopleIn `json:"people"`
	Network *struct {
		Connection string   `json:"connection"`
		Include    []string `json:"include"`
		Exclude    []string `json:"exclude"`
	} `json:"network"`
	AuthProvider *struct {
		Provider string `json:"provider"`
	} `json:"authProvider"`
}

// groups reads the people condition; user lists are not implemented.
func (c *conditionsIn) groups(fe *[]errs.FieldError) policy.Groups {
	if c == nil {
		return policy.Groups{}
	}
	if c.Network != nil && (c.Network.Connection != "" && c.Network.Connection != "ANYWHERE" || len(c.Network.Include) > 0 || len(c.Network.Exclude) > 0) {
		*fe = append(*fe, errs.Field("conditions.network", "conditions.network: Gatehouse does not implement network zones; use ANYWHERE"))
	}
	if c.People == nil {
		return policy.Groups{}
	}
	if u := c.People.Users; u != nil && (len(u.Include) > 0 || len(u.Exclude) > 0) {
		*fe = append(*fe, errs.Field("conditions.people.users", "conditions.people.users: Gatehouse conditions rules on groups, not on people one by one"))
	}
	if c.People.Groups == nil {
		return policy.Groups{}
	}
	return policy.Groups{Include: c.People.Groups.Include, Exclude: c.People.Groups.Exclude}
}

type policyIn struct {
	ID          string        `json:"id"`
	Type        string        `json:"type"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Status      string        `json:"status"`
	Priority    int           `json:"priority"`
	System      bool          `json:"system"`
	Created     any           `json:"created"`
	LastUpdated any           `json:"lastUpdated"`
	Conditions  *conditionsIn `json:"conditions"`
	Links       any           `json:"_links"`
	Embedded    any           `json:"_embedded"`
	Settings    *struct {
		Password *struct {
			Complexity *struct {
				MinLength         *int     `json:"minLength"`
				MinLowerCase      *int     `json:"minLowerCase"`
				MinUpperCase      *int     `json:"minUpperCase"`
				MinNumber         *int     `json:"minNumber"`
				MinSymbol         *int     `json:"minSymbol"`
				ExcludeUsername   *bool    `json:"excludeUsername"`
				ExcludeAttributes []string `json:"excludeAttributes"`
				Dictionary        *struct {
					Common *struct {
						Exclude bool `json:"exclude"`
					} `json:"common"`
				} `json:"dictionary"`
			} `json:"complexity"`
			Age *struct {
				MaxAgeDays     *int `json:"maxAgeDays"`
				ExpireWarnDays int  `json:"expireWarnDays"`
				MinAgeMinutes  int  `json:"minAgeMinutes"`
				HistoryCount   *int `json:"historyCount"`
			} `json:"age"`
		} `json:"password"`
	} `json:"settings"`
}

// DecodePolicy reads a policy body in Okta's shape; current is the policy
// being replaced (nil when creating), whose settings fill what the body
// leaves out.
func DecodePolicy(body []byte, current *policy.Policy) (*policy.Policy, error) {
	var in policyIn
	if err := strictJSON(body, &in, "policy"); err != nil {
		return nil, err
	}
	var fe []errs.FieldError
	out := &policy.Policy{Type: policy.Type(in.Type), Name: in.Name, Description: in.Description, Status: in.Status}
	if current != nil {
		out.Groups = current.Groups
	}
	if in.Conditions != nil {
		g := in.Conditions.groups(&fe)
		if current == nil || current.Type != policy.Password && current.Type != policy.SignOn {
			if len(g.Include) > 0 || len(g.Exclude) > 0 {
				fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: put group conditions on the policy's rules"))
			}
		} else if current.System && (len(g.Include) > 0 || len(g.Exclude) > 0) {
			fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: the default policy applies to everyone"))
		}
		if ap := in.Conditions.AuthProvider; ap != nil && ap.Provider != "" && ap.Provider != "OKTA" {
			fe = append(fe, errs.Field("conditions.authProvider.provider", "conditions.authProvider.provider: only OKTA"))
		}
	}
	if in.Settings != nil && in.Settings.Password != nil {
		ps := policy.PasswordSettings{}
		if current != nil && current.Password != nil {
			ps = *current.Password
		}
		if c := in.Settings.Password.Complexity; c != nil {
			set := func(dst *int, v *int) {
				if v != nil {
					*dst = *v
				}
			}
			set(&ps.MinLength, c.MinLength)
			set(&ps.MinLowerCase, c.MinLowerCase)
			set(&ps.MinUpperCase, c.MinUpperCase)
			set(&ps.MinNumber, c.MinNumber)
			set(&ps.MinSymbol, c.MinSymbol)
			if c.ExcludeUsername != nil {
				ps.ExcludeUsername = *c.ExcludeUsername
			}
			if c.ExcludeAttributes != nil {
				ps.ExcludeAttributes = c.ExcludeAttributes
			}
			if c.Dictionary != nil && c.Dictionary.Common != nil && c.Dictionary.Common.Exclude {
				fe = append(fe, errs.Field("settings.password.complexity.dictionary", "settings.password.complexity.dictionary: Gatehouse has no dictionary of common passwords"))
			}
		}
		if a := in.Settings.Password.Age; a != nil {
			if a.MaxAgeDays != nil {
				ps.MaxAgeDays = *a.MaxAgeDays
			}
			if a.HistoryCount != nil {
				ps.HistoryCount = *a.HistoryCount
			}
			if a.ExpireWarnDays != 0 || a.MinAgeMinutes != 0 {
				fe = append(fe, errs.Field("settings.password.age", "settings.password.age: expireWarnDays and minAgeMinutes are not implemented; use 0"))
			}
		}
		out.Password = &ps
	} else if current != nil && current.Password != nil {
		ps := *current.Password
		out.Password = &ps
	}
	if fe != nil {
		return nil, errs.InvalidFields("Api validation failed: policy", fe...)
	}
	return out, nil
}

type ruleIn struct {
	ID          string        `json:"id"`
	Type        string        `json:"type"`
	Name        string        `json:"name"`
	Status      string        `json:"status"`
	Priority    int           `json:"priority"`
	System      bool          `json:"system"`
	Created     any           `json:"created"`
	LastUpdated any           `json:"lastUpdated"`
	Conditions  *conditionsIn `json:"conditions"`
	Links       any           `json:"_links"`
	Actions     *struct {
		Signon *struct {
			Access                  string `json:"access"`
			RequireFactor           bool   `json:"requireFactor"`
			FactorPromptMode        string `json:"factorPromptMode"`
			FactorLifetime          int    `json:"factorLifetime"`
			RememberDeviceByDefault bool   `json:"rememberDeviceByDefault"`
			Session                 *struct {
				UsePersistentCookie       bool `json:"usePersistentCookie"`
				MaxSessionIdleMinutes     int  `json:"maxSessionIdleMinutes"`
				MaxSessionLifetimeMinutes int  `json:"maxSessionLifetimeMinutes"`
			} `json:"session"`
		} `json:"signon"`
		AppSignOn *struct {
			Access             string `json:"access"`
			VerificationMethod *struct {
				Type             string `json:"type"`
				FactorMode       string `json:"factorMode"`
				ReauthenticateIn string `json:"reauthenticateIn"`
				Constraints      []any  `json:"constraints"`
			} `json:"verificationMethod"`
		} `json:"appSignOn"`
	} `json:"actions"`
}

// DecodeRule reads a rule body in Okta's shape for a policy of type t.
func DecodeRule(body []byte, t policy.Type) (*policy.Rule, error) {
	var in ruleIn
	if err := strictJSON(body, &in, "rule"); err != nil {
		return nil, err
	}
	var fe []errs.FieldError
	if in.Type != "" && in.Type != t.RuleType() {
		fe = append(fe, errs.Field("type", "type: the rules of a %s policy are %s", t, t.RuleType()))
	}
	out := &policy.Rule{Name: in.Name, Status: in.Status, Priority: in.Priority, Groups: in.Conditions.groups(&fe)}
	if in.Conditions != nil && in.Conditions.AuthProvider != nil {
		fe = append(fe, errs.Field("conditions.authProvider", "conditions.authProvider: belongs to password policies"))
	}
	switch t {
	case policy.SignOn:
		if in.Actions == nil || in.Actions.Signon == nil {
			fe = append(fe, errs.Field("actions.signon", "actions.signon: The field cannot be left blank"))
			break
		}
		if in.Actions.AppSignOn != nil {
			fe = append(fe, errs.Field("actions.appSignOn", "actions.appSignOn: belongs to ACCESS_POLICY rules"))
		}
		a := in.Actions.Signon
		out.Access, out.RequireMFA = a.Access, a.RequireFactor
		switch a.FactorPromptMode {
		case "", "ALWAYS", "SESSION":
			if a.FactorLifetime != 0 && a.FactorPromptMode == "" {
				fe = append(fe, errs.Field("actions.signon.factorLifetime", "actions.signon.factorLifetime: needs factorPromptMode DEVICE"))
			}
		case "DEVICE":
			if a.FactorLifetime <= 0 {
				fe = append(fe, errs.Field("actions.signon.factorLifetime", "actions.signon.factorLifetime: the minutes a device is remembered, needed with factorPromptMode DEVICE"))
			}
			out.RememberDevice = time.Duration(a.FactorLifetime) * time.Minute
		default:
			fe = append(fe, errs.Field("actions.signon.factorPromptMode", "actions.signon.factorPromptMode: must be ALWAYS, DEVICE or SESSION"))
		}
		if s := a.Session; s != nil {
			if s.UsePersistentCookie {
				fe = append(fe, errs.Field("actions.signon.session.usePersistentCookie", "actions.signon.session.usePersistentCookie: Gatehouse's session cookies end with the browser session; use false"))
			}
			if s.MaxSessionIdleMinutes < 0 || s.MaxSessionLifetimeMinutes < 0 {
				fe = append(fe, errs.Field("actions.signon.session", "actions.signon.session: minutes cannot be negative"))
			}
			out.SessionIdle = time.Duration(s.MaxSessionIdleMinutes) * time.Minute
			out.SessionMax = time.Duration(s.MaxSessionLifetimeMinutes) * time.Minute
		}
	case policy.Access:
		if in.Actions == nil || in.Actions.AppSignOn == nil {
			fe = append(fe, errs.Field("actions.appSignOn", "actions.appSignOn: The field cannot be left blank"))
			break
		}
		if in.Actions.Signon != nil {
			fe = append(fe, errs.Field("actions.signon", "actions.signon: belongs to OKTA_SIGN_ON rules"))
		}
		a := in.Actions.AppSignOn
		out.Access = a.Access
		if vm := a.VerificationMethod; vm != nil {
			if vm.Type != "" && vm.Type != "ASSURANCE" {
				fe = append(fe, errs.Field("actions.appSignOn.verificationMethod.type", "actions.appSignOn.verificationMethod.type: only ASSURANCE"))
			}
			switch vm.FactorMode {
			case "", "1FA":
			case "2FA":
				out.RequireMFA = true
			default:
				fe = append(fe, errs.Field("actions.appSignOn.verificationMethod.factorMode", "actions.appSignOn.verificationMethod.factorMode: must be 1FA or 2FA"))
			}
			if len(vm.Constraints) > 0 {
				fe = append(fe, errs.Field("actions.appSignOn.verificationMethod.constraints", "actions.appSignOn.verificationMethod.constraints: Gatehouse accepts any second factor (authenticator app, passkey, recovery code); leave constraints empty"))
			}
			if vm.ReauthenticateIn != "" {
				d, err := policy.ParseDuration(vm.ReauthenticateIn)
				if err != nil {
					fe = append(fe, errs.Field("actions.appSignOn.verificationMethod.reauthenticateIn", "actions.appSignOn.verificationMethod.reauthenticateIn: %s", err.Error()))
				}
				out.Reauthenticate = d
			}
		}
	}
	if fe != nil {
		return nil, errs.InvalidFields("Api validation failed: rule", fe...)
	}
	return out, nil
}

func (p *Policies) list(w http.ResponseWriter, r *http.Request) error {
	t := policy.Type(r.URL.Query().Get("type"))
	if t == "" {
		return errs.InvalidFields("Api validation failed: type", errs.Field("type", "type: The field cannot be left blank"))
	}
	status := r.URL.Query().Get("status")
	if status != "" && status != policy.StatusActive && status != policy.StatusInactive {
		return errs.InvalidFields("Api validation failed: status", errs.Field("status", "status: must be ACTIVE or INACTIVE"))
	}
	ps, err := p.Policies.List(r.Context(), t)
	if err != nil {
		return err
	}
	withRules := Expands(r)["rules"]
	out := make([]map[string]any, 0, len(ps))
	for _, x := range ps {
		if status == "" || x.Status == status {
			j, err := p.expanded(r, x, withRules)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
	}
	return WriteJSON(w, out)
}

// expanded renders a policy, with its rules in _embedded.rules when
// expand=rules asks for them (as Okta does; a PASSWORD policy, which has
// no rules in Gatehouse, embeds an empty list).
func (p *Policies) expanded(r *http.Request, x *policy.Policy, withRules bool) (map[string]any, error) {
	j := p.PolicyJSON(x)
	if !withRules {
		return j, nil
	}
	rules := []map[string]any{}
	if x.Type != policy.Password {
		_, rs, err := p.Policies.Rules(r.Context(), x.ID)
		if err != nil {
			return nil, err
		}
		for _, rule := range rs {
			rules = append(rules, p.RuleJSON(x.Type, rule))
		}
	}
	j["_embedded"] = map[string]any{"rules": rules}
	return j, nil
}

func (p *Policies) get(w http.ResponseWriter, r *http.Request) error {
	x, err := p.Policies.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := p.expanded(r, x, Expands(r)["rules"])
	if err != nil {
		return err
	}
	return WriteJSON(w, j)
}

func (p *Policies) create(w http.ResponseWriter, r *http.Request) error {
	b, err := readAll(r)
	if err != nil {
		return err
	}
	in, err := DecodePolicy(b, nil)
	if err != nil {
		return err
	}
	x, err := p.Policies.Create(r.Context(), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, p.PolicyJSON(x))
}

func (p *Policies) update(w http.ResponseWriter, r *http.Request) error {
	cur, err := p.Policies.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	b, err := readAll(r)
	if err != nil {
		return err
	}
	in, err := DecodePolicy(b, cur)
	if err != nil {
		return err
	}
	x, err := p.Policies.Update(r.Context(), cur.ID, in)
	if err != nil {
		return err
	}
	return WriteJSON(w, p.PolicyJSON(x))
}

func (p *Policies) delete(w http.ResponseWriter, r *http.Request) error {
	if err := p.Policies.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (p *Policies) rules(w http.ResponseWriter, r *http.Request) error {
	x, rs, err := p.Policies.Rules(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(rs))
	for _, rule := range rs {
		out = append(out, p.RuleJSON(x.Type, rule))
	}
	return WriteJSON(w, out)
}

func (p *Policies) rule(w http.ResponseWriter, r *http.Request) error {
	x, err := p.Policies.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	rule, err := p.Policies.Rule(r.Context(), x.ID, r.PathValue("ruleId"))
	if err != nil {
		return err
	}
	return WriteJSON(w, p.RuleJSON(x.Type, rule))
}

func (p *Policies) createRule(w http.ResponseWriter, r *http.Request) error {
	x, err := p.Policies.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	b, err := readAll(r)
	if err != nil {
		return err
	}
	in, err := DecodeRule(b, x.Type)
	if err != nil {
		return err
	}
	rule, err := p.Policies.CreateRule(r.Context(), x.ID, in)
	if err != nil {
		return err
	}
	return WriteJSON(w, p.RuleJSON(x.Type, rule))
}

func (p *Policies) updateRule(w http.ResponseWriter, r *http.Request) error {
	x, err := p.Policies.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	b, err := readAll(r)
	if err != nil {
		return err
	}
	in, err := DecodeRule(b, x.Type)
	if err != nil {
		return err
	}
	rule, err := p.Policies.UpdateRule(r.Context(), x.ID, r.PathValue("ruleId"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, p.RuleJSON(x.Type, rule))
}

func (p *Policies) deleteRule(w http.ResponseWriter, r *http.Request) error {
	if err := p.Policies.DeleteRule(r.Context(), r.PathValue("id"), r.PathValue("ruleId")); err != nil {
		return err
	}
	return NoContent(w)
}

// assignApp makes an ACCESS_POLICY the sign-on policy of an app (Okta's
// PUT /api/v1/apps/{appId}/policies/{policyId}).
func (p *Policies) assignApp(w http.ResponseWriter, r *http.Request) error {
	a, err := p.Catalog.Store.App(r.Context(), r.PathValue("appId"))
	if err != nil {
		return err
	}
	if err := p.Policies.AssignApp(r.Context(), a.ID, a.Label, r.PathValue("policyId")); err != nil {
		return err
	}
	return NoContent(w)
}

package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Security → Session Policy, Password Policy and App Sign-On Rules, and
// an app's Sign-On Rules tab: the policies of internal/policy, edited in
// forms. The session policy and app rules share one rule editor.

// ruleRow is a rule in a list.
type ruleRow struct {
	ID, Name, Groups, Access, Factor, Session, Status string
	Priority                                          int
	System                                            bool
}

type rulesData struct {
	// Head is set on an app's tab.
	Head *appHead
	// Kind is "session" or "app".
	Kind     string
	Action   string // where a new rule is posted
	Base     string // the rules' address
	PolicyID string
	Rules    []ruleRow
	New      []Field
	// CatchAll is the "everyone else" choice of an app's policy.
	CatchAll  *Field
	Unclaimed []string
}

type ruleEditData struct {
	Head      *appHead
	Kind      string
	Title     string
	Action    string
	Back      string
	Delete    string
	System    bool
	Fields    []Field
	Unclaimed []string
}

type passwordPolicyData struct {
	Fields    []Field
	Unclaimed []string
}

type appRulesRow struct {
	ID, Label, Template, Summary string
}

type appRulesListData struct {
	Apps []appRulesRow
}

func minutesText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.Itoa(int(d / time.Minute))
}

func (c *Console) groupNames(ctx context.Context) (map[string]string, []*directory.Group, error) {
	gs, err := c.Directory.Store.Groups(ctx, directory.GroupQuery{Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, g := range gs {
		names[g.ID] = g.Name
	}
	return names, sortedGroups(gs), nil
}

func describeGroups(g policy.Groups, names map[string]string) string {
	name := func(ids []string) string {
		var out []string
		for _, id := range ids {
			if n := names[id]; n != "" {
				out = append(out, n)
			} else {
				out = append(out, id)
			}
		}
		return strings.Join(out, ", ")
	}
	s := "Everyone"
	if len(g.Include) > 0 {
		s = name(g.Include)
	}
	if len(g.Exclude) > 0 {
		s += " except " + name(g.Exclude)
	}
	return s
}

func rowOfRule(kind string, r *policy.Rule, names map[string]string) ruleRow {
	row := ruleRow{ID: r.ID, Name: r.Name, Groups: describeGroups(r.Groups, names), Access: r.Access, Status: r.Status, Priority: r.Priority, System: r.System}
	if r.Access == policy.Deny {
		row.Access = "Deny"
	} else {
		row.Access = "Allow"
	}
	switch {
	case r.Access == policy.Deny:
		row.Factor = "—"
	case r.RequireMFA && r.Reauthenticate > 0:
		row.Factor = "Second factor, again after " + durationWords(r.Reauthenticate)
	case r.RequireMFA:
		row.Factor = "Second factor"
	default:
		row.Factor = "Password (and a factor if the person has one)"
		if kind == "app" {
			row.Factor = "As signed in"
		}
	}
	if kind == "session" {
		var parts []string
		if r.RememberDevice > 0 {
			parts = append(parts, "remember device "+durationWords(r.RememberDevice))
		}
		if r.SessionIdle > 0 {
			parts = append(parts, "idle "+durationWords(r.SessionIdle))
		}
		if r.SessionMax > 0 {
			parts = append(parts, "at most "+durationWords(r.SessionMax))
		}
		row.Session = strings.Join(parts, ", ")
		if row.Session == "" {
			row.Session = "Configured timeouts"
		}
	}
	return row
}

func durationWords(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	case d%time.Hour == 0:
		n := int(d / time.Hour)
		if n == 1 {
			return "1 hour"
		}
		return strconv.Itoa(n) + " hours"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// ruleFields are the inputs of a rule; form, when set, supplies posted
// values.
func ruleFields(kind string, r *policy.Rule, groups []*directory.Group, form func(string) string, formGroups []string) []Field {
	if r == nil {
		r = &policy.Rule{Access: policy.Allow, Status: policy.StatusActive}
	}
	val := func(name, v string) string {
		if form != nil {
			return strings.TrimSpace(form(name))
		}
		return v
	}
	name := text("name", "Rule name", val("name", r.Name))
	name.Required = true
	access := choice("access", "Access", val("access", r.Access), policy.Allow, policy.Deny)
	access.Options = []Option{{Value: policy.Allow, Label: "Allow", Selected: access.Value == policy.Allow}, {Value: policy.Deny, Label: "Deny", Selected: access.Value == policy.Deny}}
	access.Keys = []string{"actions.signon.access", "actions.appSignOn.access"}
	sel := map[string]bool{}
	if form != nil {
		for _, g := range formGroups {
			sel[g] = true
		}
	} else {
		for _, g := range r.Groups.Include {
			sel[g] = true
		}
	}
	gf := Field{Name: "groups", Label: "People in these groups", Type: "multiselect", Help: "Select none for everyone.",
		Keys: []string{"conditions.people.groups"}}
	for _, g := range groups {
		gf.Options = append(gf.Options, Option{Value: g.ID, Label: g.Name, Selected: sel[g.ID]})
	}
	mfaChecked := r.RequireMFA
	if form != nil {
		mfaChecked = form("requireMFA") == "true"
	}
	mfaBox := checkbox("requireMFA", "Require a second factor", mfaChecked)
	prio := Field{Name: "priority", Label: "Priority", Type: "number", Value: val("priority", strconv.Itoa(r.Priority)), Help: "1 is evaluated first."}
	if r.Priority == 0 && form == nil {
		prio.Value = ""
	}
	activeChecked := r.Status != policy.StatusInactive
	if form != nil {
		activeChecked = form("active") == "true"
	}
	active := checkbox("active", "Active", activeChecked)
	fields := []Field{name, gf, access, mfaBox}
	switch kind {
	case "session":
		remember := Field{Name: "rememberDays", Label: "Remember the device for (days)", Type: "number", Value: val("rememberDays", daysText(r.RememberDevice)),
			Help: "After a second factor, the browser is not asked again for this long. Empty: ask at every sign-in.", Keys: []string{"actions.signon.factorLifetime"}}
		idle := Field{Name: "idleMinutes", Label: "Session idle timeout (minutes)", Type: "number", Value: val("idleMinutes", minutesText(r.SessionIdle)),
			Help: "Empty: the configured session_idle.", Keys: []string{"actions.signon.session.maxSessionIdleMinutes"}}
		lifetime := Field{Name: "lifetimeMinutes", Label: "Session lifetime (minutes)", Type: "number", Value: val("lifetimeMinutes", minutesText(r.SessionMax)),
			Help: "Empty: the configured session_max.", Keys: []string{"actions.signon.session.maxSessionLifetimeMinutes"}}
		fields = append(fields, remember, idle, lifetime)
	case "app":
		hours := ""
		if r.Reauthenticate > 0 {
			hours = strconv.Itoa(int(r.Reauthenticate / time.Hour))
		}
		again := Field{Name: "reauthHours", Label: "Ask for the factor again after (hours)", Type: "number", Value: val("reauthHours", hours),
			Help: "Empty: a factor given once in the session is enough.", Keys: []string{"actions.appSignOn.verificationMethod.reauthenticateIn"}}
		fields = append(fields, again)
	}
	if !r.System {
		fields = append(fields, prio, active)
	}
	return fields
}

func daysText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.Itoa(int(d / (24 * time.Hour)))
}

// parseRule reads a rule form. Numbers that do not parse are reported
// beside their fields.
func parseRule(kind string, r *http.Request, system bool) (*policy.Rule, []errs.FieldError) {
	var fe []errs.FieldError
	num := func(name, label string, max int) int {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > max {
			fe = append(fe, errs.Field(name, "%s must be a whole number from 0 to %d.", label, max))
			return 0
		}
		return n
	}
	out := &policy.Rule{Name: strings.TrimSpace(r.PostFormValue("name")), Access: r.PostFormValue("access"), RequireMFA: r.PostFormValue("requireMFA") == "true",
		Status: policy.StatusActive}
	if !system && r.PostFormValue("active") != "true" {
		out.Status = policy.StatusInactive
	}
	if !system {
		out.Priority = num("priority", "Priority", 1000)
		out.Groups.Include = r.PostForm["groups"]
	}
	switch kind {
	case "session":
		out.RememberDevice = time.Duration(num("rememberDays", "Days", 90)) * 24 * time.Hour
		out.SessionIdle = time.Duration(num("idleMinutes", "Minutes", 90*24*60)) * time.Minute
		out.SessionMax = time.Duration(num("lifetimeMinutes", "Minutes", 90*24*60)) * time.Minute
	case "app":
		out.Reauthenticate = time.Duration(num("reauthHours", "Hours", 90*24)) * time.Hour
	}
	return out, fe
}

func (c *Console) policiesOn() error {
	if c.Policies == nil {
		return errs.NotFoundf("Policies are not available.")
	}
	return nil
}

// defaultPolicy is the default policy of a type.
func (c *Console) defaultPolicy(ctx context.Context, t policy.Type) (*policy.Policy, error) {
	if err := c.policiesOn(); err != nil {
		return nil, err
	}
	return c.Policies.Default(ctx, t)
}

// Session policy.

func (c *Console) sessionPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.sessionPolicyPage(w, r, rq, http.StatusOK, nil, "")
}

func (c *Console) sessionPolicyPage(w http.ResponseWriter, r *http.Request, rq *request, status int, form []Field, summary string, unclaimed ...string) error {
	if err := c.policiesOn(); err != nil {
		return err
	}
	ctx := r.Context()
	p, err := c.Policies.Default(ctx, policy.SignOn)
	if err != nil {
		return err
	}
	_, rs, err := c.Policies.Rules(ctx, p.ID)
	if err != nil {
		return err
	}
	names, groups, err := c.groupNames(ctx)
	if err != nil {
		return err
	}
	d := rulesData{Kind: "session", Action: "/admin/security/session-policy/rules", Base: "/admin/security/session-policy/rules", PolicyID: p.ID, Unclaimed: unclaimed}
	for _, x := range rs {
		d.Rules = append(d.Rules, rowOfRule("session", x, names))
	}
	d.New = form
	if d.New == nil {
		d.New = ruleFields("session", nil, groups, nil, nil)
	}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_policy_rules", "Session Policy", "security", "session", d, opts...)
	return nil
}

func (c *Console) addSessionRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.SignOn)
	if err != nil {
		return err
	}
	return c.addRule(w, r, rq, "session", p.ID, "/admin/security/session-policy", func(fields []Field, summary string, unclaimed []string) error {
		return c.sessionPolicyPage(w, r, rq, http.StatusBadRequest, fields, summary, unclaimed...)
	})
}

// addRule creates a rule from the form, or shows the form again with its
// errors (through again).
func (c *Console) addRule(w http.ResponseWriter, r *http.Request, rq *request, kind, policyID, back string, again func([]Field, string, []string) error) error {
	ctx := r.Context()
	in, fe := parseRule(kind, r, false)
	var err error
	if fe == nil {
		if _, err = c.Policies.CreateRule(ctx, policyID, in); err == nil {
			return done(w, r, back, "rule")
		}
	} else {
		err = errs.InvalidFields("Api validation failed: rule", fe...)
	}
	summary, fm, ok := fieldErrors(err)
	if !ok {
		return err
	}
	_, groups, gerr := c.groupNames(ctx)
	if gerr != nil {
		return gerr
	}
	fields := ruleFields(kind, nil, groups, r.PostFormValue, r.PostForm["groups"])
	unclaimed := bind(fields, fm)
	return again(fields, summary, unclaimed)
}

// ruleEditor renders the page of one rule.
func (c *Console) ruleEditor(w http.ResponseWriter, r *http.Request, rq *request, status int, kind string, head *appHead, policyID, ruleID, base string, form bool, fm map[string]string, summary string) error {
	ctx := r.Context()
	rule, err := c.Policies.Rule(ctx, policyID, ruleID)
	if err != nil {
		return err
	}
	_, groups, err := c.groupNames(ctx)
	if err != nil {
		return err
	}
	var fields []Field
	if form {
		fields = ruleFields(kind, rule, groups, r.PostFormValue, r.PostForm["groups"])
	} else {
		fields = ruleFields(kind, rule, groups, nil, nil)
	}
	d := ruleEditData{Head: head, Kind: kind, Title: rule.Name, Action: base + "/" + rule.ID, Back: strings.TrimSuffix(base, "/rules"),
		Delete: base + "/" + rule.ID + "/delete", System: rule.System, Fields: fields}
	if kind == "session" {
		d.Back = "/admin/security/session-policy"
	}
	d.Unclaimed = bind(d.Fields, fm)
	section, sub := "security", "session"
	if kind == "app" {
		section, sub = "apps", ""
	}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_policy_rule", "Rule: "+rule.Name, section, sub, d, opts...)
	return nil
}

func (c *Console) sessionRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.SignOn)
	if err != nil {
		return err
	}
	return c.ruleEditor(w, r, rq, http.StatusOK, "session", nil, p.ID, r.PathValue("rid"), "/admin/security/session-policy/rules", false, nil, "")
}

// saveRule updates a rule from its form.
func (c *Console) saveRule(w http.ResponseWriter, r *http.Request, rq *request, kind string, head *appHead, policyID, base, back string) error {
	ctx := r.Context()
	cur, err := c.Policies.Rule(ctx, policyID, r.PathValue("rid"))
	if err != nil {
		return err
	}
	in, fe := parseRule(kind, r, cur.System)
	if fe == nil {
		if cur.System {
			in.Priority = cur.Priority
		}
		if _, err = c.Policies.UpdateRule(ctx, policyID, cur.ID, in); err == nil {
			return done(w, r, back, "saved")
		}
	} else {
		err = errs.InvalidFields("Api validation failed: rule", fe...)
	}
	summary, fm, ok := fieldErrors(err)
	if !ok {
		return err
	}
	return c.ruleEditor(w, r, rq, http.StatusBadRequest, kind, head, policyID, cur.ID, base, true, fm, summary)
}

func (c *Console) saveSessionRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.SignOn)
	if err != nil {
		return err
	}
	return c.saveRule(w, r, rq, "session", nil, p.ID, "/admin/security/session-policy/rules", "/admin/security/session-policy")
}

func (c *Console) deleteSessionRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.SignOn)
	if err != nil {
		return err
	}
	if err := c.Policies.DeleteRule(r.Context(), p.ID, r.PathValue("rid")); err != nil {
		return err
	}
	return done(w, r, "/admin/security/session-policy", "deleted")
}

// Password policy.

func passwordFields(ps policy.PasswordSettings, form func(string) string) []Field {
	num := func(name, label, help string, v int, keys ...string) Field {
		value := strconv.Itoa(v)
		if form != nil {
			value = strings.TrimSpace(form(name))
		}
		return Field{Name: name, Label: label, Type: "number", Value: value, Help: help, Keys: keys}
	}
	box := func(name, label string, v bool, key string) Field {
		if form != nil {
			v = form(name) == "true"
		}
		f := checkbox(name, label, v)
		f.Keys = []string{key}
		return f
	}
	first, last := false, false
	for _, a := range ps.ExcludeAttributes {
		first = first || a == "firstName"
		last = last || a == "lastName"
	}
	c := "settings.password.complexity."
	return []Field{
		num("minLength", "Minimum length", "Characters; at least 4.", ps.MinLength, c+"minLength"),
		box("minLowerCase", "A lowercase letter", ps.MinLowerCase > 0, c+"minLowerCase"),
		box("minUpperCase", "An uppercase letter", ps.MinUpperCase > 0, c+"minUpperCase"),
		box("minNumber", "A number", ps.MinNumber > 0, c+"minNumber"),
		box("minSymbol", "A symbol", ps.MinSymbol > 0, c+"minSymbol"),
		box("excludeUsername", "No part of the username", ps.ExcludeUsername, c+"excludeUsername"),
		box("excludeFirstName", "Not the first name", first, c+"excludeAttributes"),
		box("excludeLastName", "Not the last name", last, c+"excludeAttributes"),
		num("historyCount", "Remembered passwords", "A new password cannot be any of these last ones (0 to 30).", ps.HistoryCount, "settings.password.age.historyCount"),
		num("maxAgeDays", "Maximum age (days)", "After this, the person must choose a new password at sign-in. 0: passwords never expire.", ps.MaxAgeDays, "settings.password.age.maxAgeDays"),
	}
}

func (c *Console) passwordPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.Password)
	if err != nil {
		return err
	}
	ps := policy.PasswordSettings{}
	if p.Password != nil {
		ps = *p.Password
	}
	c.render(w, r, rq, http.StatusOK, "admin_password_policy", "Password Policy", "security", "password", passwordPolicyData{Fields: passwordFields(ps, nil)})
	return nil
}

func (c *Console) savePasswordPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := c.defaultPolicy(r.Context(), policy.Password)
	if err != nil {
		return err
	}
	var fe []errs.FieldError
	num := func(name, label string) int {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
		if err != nil {
			fe = append(fe, errs.Field(name, "%s must be a whole number.", label))
		}
		return n
	}
	flag := func(name string) int {
		if r.PostFormValue(name) == "true" {
			return 1
		}
		return 0
	}
	ps := policy.PasswordSettings{MinLength: num("minLength", "Minimum length"), MinLowerCase: flag("minLowerCase"), MinUpperCase: flag("minUpperCase"),
		MinNumber: flag("minNumber"), MinSymbol: flag("minSymbol"), ExcludeUsername: r.PostFormValue("excludeUsername") == "true",
		HistoryCount: num("historyCount", "Remembered passwords"), MaxAgeDays: num("maxAgeDays", "Maximum age")}
	if r.PostFormValue("excludeFirstName") == "true" {
		ps.ExcludeAttributes = append(ps.ExcludeAttributes, "firstName")
	}
	if r.PostFormValue("excludeLastName") == "true" {
		ps.ExcludeAttributes = append(ps.ExcludeAttributes, "lastName")
	}
	if fe == nil {
		if _, err = c.Policies.Update(r.Context(), p.ID, &policy.Policy{Name: p.Name, Description: p.Description, Status: p.Status, Password: &ps}); err == nil {
			return done(w, r, "/admin/security/password-policy", "saved")
		}
	} else {
		err = errs.InvalidFields("Api validation failed: policy", fe...)
	}
	summary, fm, ok := fieldErrors(err)
	if !ok {
		return err
	}
	fields := passwordFields(ps, r.PostFormValue)
	d := passwordPolicyData{Fields: fields, Unclaimed: bind(fields, fm)}
	c.render(w, r, rq, http.StatusBadRequest, "admin_password_policy", "Password Policy", "security", "password", d, withError(summary))
	return nil
}

// App sign-on rules.

func (c *Console) appRulesList(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.policiesOn(); err != nil {
		return err
	}
	ctx := r.Context()
	apps, err := c.Catalog.Store.Apps(ctx, catalog.AppQuery{Limit: 200})
	if err != nil {
		return err
	}
	var d appRulesListData
	for _, a := range apps {
		row := appRulesRow{ID: a.ID, Label: a.Label, Template: catalog.TemplateFor(a.Name).Title, Summary: "No rules: everyone assigned signs on as signed in"}
		pid, rules, err := c.Policies.Store.AppRules(ctx, a.ID)
		if err != nil {
			return err
		}
		if pid != "" {
			mfa, deny := 0, false
			for _, x := range rules {
				if x.RequireMFA && x.Active() {
					mfa++
				}
				if x.System && x.Access == policy.Deny {
					deny = true
				}
			}
			row.Summary = strconv.Itoa(len(rules)) + " rules"
			if mfa > 0 {
				row.Summary += ", second factor required by " + strconv.Itoa(mfa)
			}
			if deny {
				row.Summary += "; everyone else is refused"
			}
		}
		d.Apps = append(d.Apps, row)
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_rules", "App Sign-On Rules", "security", "apprules", d)
	return nil
}

func (c *Console) appRules(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.appRulesPage(w, r, rq, http.StatusOK, nil, "")
}

func (c *Console) appRulesPage(w http.ResponseWriter, r *http.Request, rq *request, status int, form []Field, summary string, unclaimed ...string) error {
	if err := c.policiesOn(); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	head := c.head(a, "rules")
	base := "/admin/apps/" + a.ID + "/signon-rules"
	d := rulesData{Head: &head, Kind: "app", Action: base, Base: base + "/rules", Unclaimed: unclaimed}
	names, groups, err := c.groupNames(ctx)
	if err != nil {
		return err
	}
	p, err := c.Policies.AppPolicy(ctx, a.ID, a.Label, false)
	if err != nil {
		return err
	}
	if p != nil {
		d.PolicyID = p.ID
		_, rs, err := c.Policies.Rules(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, x := range rs {
			d.Rules = append(d.Rules, rowOfRule("app", x, names))
			if x.System {
				f := choice("everyoneElse", "Everyone else assigned to the app", x.Access, policy.Allow, policy.Deny)
				f.Options = []Option{{Value: policy.Allow, Label: "Allow (as signed in)", Selected: x.Access == policy.Allow}, {Value: policy.Deny, Label: "Refuse", Selected: x.Access == policy.Deny}}
				f.Keys = []string{"actions.appSignOn.access"}
				d.CatchAll = &f
			}
		}
	}
	d.New = form
	if d.New == nil {
		d.New = ruleFields("app", nil, groups, nil, nil)
	}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_policy_rules", a.Label+" · Sign-On Rules", "apps", "", d, opts...)
	return nil
}

// appPolicy returns the app and its policy, creating the policy on first use.
func (c *Console) appPolicy(r *http.Request) (*catalog.App, *policy.Policy, error) {
	if err := c.policiesOn(); err != nil {
		return nil, nil, err
	}
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	p, err := c.Policies.AppPolicy(r.Context(), a.ID, a.Label, true)
	return a, p, err
}

func (c *Console) addAppRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, p, err := c.appPolicy(r)
	if err != nil {
		return err
	}
	return c.addRule(w, r, rq, "app", p.ID, "/admin/apps/"+a.ID+"/signon-rules", func(fields []Field, summary string, unclaimed []string) error {
		return c.appRulesPage(w, r, rq, http.StatusBadRequest, fields, summary, unclaimed...)
	})
}

func (c *Console) saveAppCatchAll(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, p, err := c.appPolicy(r)
	if err != nil {
		return err
	}
	_, rs, err := c.Policies.Rules(r.Context(), p.ID)
	if err != nil {
		return err
	}
	for _, x := range rs {
		if !x.System {
			continue
		}
		next := *x
		next.Access = r.PostFormValue("everyoneElse")
		if _, err := c.Policies.UpdateRule(r.Context(), p.ID, x.ID, &next); err != nil {
			if summary, fm, ok := fieldErrors(err); ok {
				return c.appRulesPage(w, r, rq, http.StatusBadRequest, nil, summary+" "+strings.Join(bind(nil, fm), " "))
			}
			return err
		}
	}
	return done(w, r, "/admin/apps/"+a.ID+"/signon-rules", "saved")
}

func (c *Console) appRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, p, err := c.appPolicy(r)
	if err != nil {
		return err
	}
	head := c.head(a, "rules")
	return c.ruleEditor(w, r, rq, http.StatusOK, "app", &head, p.ID, r.PathValue("rid"), "/admin/apps/"+a.ID+"/signon-rules/rules", false, nil, "")
}

func (c *Console) saveAppRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, p, err := c.appPolicy(r)
	if err != nil {
		return err
	}
	head := c.head(a, "rules")
	return c.saveRule(w, r, rq, "app", &head, p.ID, "/admin/apps/"+a.ID+"/signon-rules/rules", "/admin/apps/"+a.ID+"/signon-rules")
}

func (c *Console) deleteAppRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, p, err := c.appPolicy(r)
	if err != nil {
		return err
	}
	if err := c.Policies.DeleteRule(r.Context(), p.ID, r.PathValue("rid")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+a.ID+"/signon-rules", "deleted")
}

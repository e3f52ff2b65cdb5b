package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/grouprule"
)

// Directory → Groups → Rules: Okta's group rules.

const ruleBase = "/admin/group-rules"

type groupRuleRow struct {
	ID, Name, Expression, Groups string
	Status                       string
}

type groupRulesData struct {
	Search    Field
	Q         string
	Rules     []groupRuleRow
	Pager     Pager
	New       []Field
	Unclaimed []string
}

type groupRuleData struct {
	Rule      *grouprule.Rule
	Groups    string
	Excluded  string
	Managed   int
	Fields    []Field
	Editable  bool
	Unclaimed []string
}

// groupRuleFields are the inputs of a rule: its name, condition, target groups
// (names or ids, comma-separated) and excluded people (usernames).
func groupRuleFields(name, expression, groups, exclude string, locked bool) []Field {
	n := text("name", "Name", name)
	n.Required = true
	e := Field{Name: "expression", Label: "If (Okta Expression Language)", Type: "textarea", Value: expression, Required: true,
		Keys: []string{grouprule.FieldExpression, grouprule.FieldExprType},
		Help: `A condition on the person's profile and groups, true or false: user.department == "Sales", String.stringContains(user.email, "@example.com"), isMemberOfGroupName("Contractors").`}
	g := text("groups", "Then assign to groups", groups)
	g.Required, g.Keys = true, []string{grouprule.FieldGroups}
	g.Help = "Group names or ids, separated by commas."
	if locked {
		g.Help = "The groups of a rule cannot change; to assign to other groups, create another rule."
	}
	x := text("exclude", "Except these people", exclude)
	x.Keys, x.Help = []string{grouprule.FieldExclude}, "Usernames, separated by commas (at most 100)."
	return []Field{n, e, g, x}
}

func splitCommas(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// groupRuleInput reads the rule form, resolving group names and usernames; a
// name that names nothing or several groups is an error beside its field.
func (c *Console) groupRuleInput(ctx context.Context, r *http.Request) (grouprule.Input, []errs.FieldError, error) {
	in := grouprule.Input{Name: r.PostFormValue("name"), Expression: strings.TrimSpace(r.PostFormValue("expression"))}
	var fe []errs.FieldError
	for _, ref := range splitCommas(r.PostFormValue("groups")) {
		if g, err := c.Directory.Store.Group(ctx, ref); err == nil {
			in.GroupIDs = append(in.GroupIDs, g.ID)
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return in, nil, err
		}
		gs, err := c.Directory.Store.Groups(ctx, directory.GroupQuery{Q: ref, Limit: 50})
		if err != nil {
			return in, nil, err
		}
		var match []string
		for _, g := range gs {
			if strings.EqualFold(g.Name, ref) {
				match = append(match, g.ID)
			}
		}
		switch len(match) {
		case 1:
			in.GroupIDs = append(in.GroupIDs, match[0])
		case 0:
			fe = append(fe, errs.Field(grouprule.FieldGroups, "No group is named %q.", ref))
		default:
			fe = append(fe, errs.Field(grouprule.FieldGroups, "Several groups are named %q; give the id of the one you mean.", ref))
		}
	}
	for _, login := range splitCommas(r.PostFormValue("exclude")) {
		u, err := c.Directory.Store.User(ctx, login)
		if errs.Is(err, errs.NotFound) {
			fe = append(fe, errs.Field(grouprule.FieldExclude, "No person has the username %q.", login))
			continue
		}
		if err != nil {
			return in, nil, err
		}
		in.ExcludeUserIDs = append(in.ExcludeUserIDs, u.ID)
	}
	return in, fe, nil
}

// ruleGroupNames renders group ids as their names (an id whose group is gone
// as the id).
func (c *Console) ruleGroupNames(ctx context.Context, ids []string) (string, error) {
	var out []string
	for _, id := range ids {
		g, err := c.Directory.Store.Group(ctx, id)
		if errs.Is(err, errs.NotFound) {
			out = append(out, id+" (deleted)")
			continue
		}
		if err != nil {
			return "", err
		}
		out = append(out, g.Name)
	}
	return strings.Join(out, ", "), nil
}

func (c *Console) ruleLogins(ctx context.Context, ids []string) (string, error) {
	var out []string
	for _, id := range ids {
		u, err := c.Directory.Store.User(ctx, id)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		out = append(out, u.Login())
	}
	return strings.Join(out, ", "), nil
}

func (c *Console) groupRulesPage(w http.ResponseWriter, r *http.Request, rq *request, status int, fields []Field, unclaimed []string, summary string) error {
	ctx := r.Context()
	q := r.URL.Query()
	after, trail := cursor(q)
	search := strings.TrimSpace(q.Get("q"))
	rs, err := c.GroupRules.List(ctx, grouprule.Query{Search: search, After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(rs) > pageSize
	if more {
		rs = rs[:pageSize]
	}
	d := groupRulesData{Q: search, Search: Field{Name: "q", Label: "Search rules", Type: "search", Value: search}, New: fields, Unclaimed: unclaimed}
	last := ""
	for _, x := range rs {
		names, err := c.ruleGroupNames(ctx, x.GroupIDs)
		if err != nil {
			return err
		}
		d.Rules = append(d.Rules, groupRuleRow{ID: x.ID, Name: x.Name, Expression: x.Expression, Groups: names, Status: string(x.Status)})
		last = x.ID
	}
	d.Pager = pager(ruleBase, q, after, trail, last, more)
	if summary != "" {
		c.render(w, r, rq, status, "admin_group_rules", "Group Rules", "directory", "groups", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_group_rules", "Group Rules", "directory", "groups", d)
	return nil
}

func (c *Console) groupRules(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.groupRulesPage(w, r, rq, http.StatusOK, groupRuleFields("", "", "", "", false), nil, "")
}

// refusedFields puts an error's messages beside the fields; ok is false
// when err is not about the input.
func refusedFields(err error, fields []Field) (summary string, unclaimed []string, ok bool) {
	summary, fe, ok := fieldErrors(err)
	if !ok {
		return "", nil, false
	}
	return summary, bind(fields, fe), true
}

func (c *Console) createGroupRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	fields := groupRuleFields(r.PostFormValue("name"), r.PostFormValue("expression"), r.PostFormValue("groups"), r.PostFormValue("exclude"), false)
	in, fe, err := c.groupRuleInput(ctx, r)
	if err != nil {
		return err
	}
	if fe != nil {
		if err = c.allProblems(ctx, in, fe); err == nil {
			return nil // unreachable: fe is not empty
		}
	} else {
		var x *grouprule.Rule
		if x, err = c.GroupRules.Create(ctx, in); err == nil {
			return done(w, r, ruleBase+"/"+x.ID, "created")
		}
	}
	summary, unclaimed, ok := refusedFields(err, fields)
	if !ok {
		return err
	}
	return c.groupRulesPage(w, r, rq, http.StatusBadRequest, fields, unclaimed, summary)
}

// allProblems adds to the form's own errors (names that name no group
// or person) what the rule's validation says of the rest.
func (c *Console) allProblems(ctx context.Context, in grouprule.Input, fe []errs.FieldError) error {
	more, err := c.GroupRules.Check(ctx, in)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, f := range fe {
		own[f.Field] = true
	}
	for _, f := range more {
		if !own[f.Field] {
			fe = append(fe, f)
		}
	}
	return errs.InvalidFields("Api validation failed: groupRule", fe...)
}

func (c *Console) groupRulePage(w http.ResponseWriter, r *http.Request, rq *request, x *grouprule.Rule, fields []Field, unclaimed []string, status int, summary string) error {
	ctx := r.Context()
	d := groupRuleData{Rule: x, Editable: x.Status == grouprule.Inactive, Unclaimed: unclaimed}
	var err error
	if d.Groups, err = c.ruleGroupNames(ctx, x.GroupIDs); err != nil {
		return err
	}
	if d.Excluded, err = c.ruleLogins(ctx, x.ExcludeUserIDs); err != nil {
		return err
	}
	if d.Managed, err = c.GroupRules.Store.ManagedCount(ctx, x.ID); err != nil {
		return err
	}
	if fields == nil {
		fields = groupRuleFields(x.Name, x.Expression, d.Groups, d.Excluded, true)
	}
	d.Fields = fields
	if summary != "" {
		c.render(w, r, rq, status, "admin_group_rule", x.Name, "directory", "groups", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_group_rule", x.Name, "directory", "groups", d)
	return nil
}

func (c *Console) groupRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	x, err := c.GroupRules.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.groupRulePage(w, r, rq, x, nil, nil, http.StatusOK, "")
}

// saveGroupRule replaces an INACTIVE rule's name, condition and
// exclusions; its groups stay (the form shows them, and names the same).
func (c *Console) saveGroupRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	x, err := c.GroupRules.Get(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	fields := groupRuleFields(r.PostFormValue("name"), r.PostFormValue("expression"), r.PostFormValue("groups"), r.PostFormValue("exclude"), true)
	in, fe, err := c.groupRuleInput(ctx, r)
	if err != nil {
		return err
	}
	if fe != nil {
		if err = c.allProblems(ctx, in, fe); err == nil {
			return nil // unreachable: fe is not empty
		}
	} else if _, err = c.GroupRules.Replace(ctx, x.ID, in); err == nil {
		return done(w, r, ruleBase+"/"+x.ID, "saved")
	}
	summary, unclaimed, ok := refusedFields(err, fields)
	if !ok {
		return err
	}
	return c.groupRulePage(w, r, rq, x, fields, unclaimed, http.StatusBadRequest, summary)
}

func (c *Console) groupRuleLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	switch r.PathValue("op") {
	case "activate":
		if err := c.GroupRules.Activate(r.Context(), id); err != nil {
			return err
		}
		return done(w, r, ruleBase+"/"+id, "activated")
	case "deactivate":
		if err := c.GroupRules.Deactivate(r.Context(), id); err != nil {
			return err
		}
		return done(w, r, ruleBase+"/"+id, "deactivated")
	}
	return errs.NotFoundf("No such operation.")
}

func (c *Console) deleteGroupRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	remove := r.PostFormValue("removeUsers") == "true"
	if err := c.GroupRules.Delete(r.Context(), r.PathValue("id"), remove); err != nil {
		return err
	}
	return done(w, r, ruleBase, "deleted")
}

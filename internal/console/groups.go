package console

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

type groupsData struct {
	Q         string
	Search    Field
	Groups    []*directory.Group
	Pager     Pager
	New       []Field
	Unclaimed []string
}

func groupFields(name, description string) []Field {
	n := text("name", "Name", name)
	n.Required = true
	return []Field{n, text("description", "Description", description)}
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, rq *request, status int, fields []Field, unclaimed []string, summary string) error {
	q := r.URL.Query()
	after, trail := cursor(q)
	search := strings.TrimSpace(q.Get("q"))
	groups, err := c.Directory.Store.Groups(r.Context(), directory.GroupQuery{Q: search, After: after, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	more := len(groups) > pageSize
	if more {
		groups = groups[:pageSize]
	}
	d := groupsData{Q: search, Search: Field{Name: "q", Label: "Search groups", Type: "search", Value: search}, Groups: groups, New: fields, Unclaimed: unclaimed}
	last := ""
	if len(groups) > 0 {
		last = groups[len(groups)-1].ID
	}
	d.Pager = pager("/admin/groups", q, after, trail, last, more)
	if summary != "" {
		c.render(w, r, rq, status, "admin_groups", "Groups", "directory", "groups", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_groups", "Groups", "directory", "groups", d)
	return nil
}

func (c *Console) groups(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.groupsPage(w, r, rq, http.StatusOK, groupFields("", ""), nil, "")
}

func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, rq *request) error {
	name, desc := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description"))
	g, err := c.Directory.CreateGroup(r.Context(), name, desc)
	if err != nil {
		summary, fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		fields := groupFields(name, desc)
		unclaimed := bind(fields, fe)
		return c.groupsPage(w, r, rq, http.StatusBadRequest, fields, unclaimed, summary)
	}
	return done(w, r, "/admin/groups/"+g.ID, "created")
}

type groupData struct {
	Group     *directory.Group
	Fields    []Field
	Unclaimed []string
	Members   []personRow
	Pager     Pager
	Add       Field
	Apps      []groupAppRow
	// Roles are the administrator roles the group holds: every member
	// holds them.
	Roles []string
}

func (c *Console) groupPage(w http.ResponseWriter, r *http.Request, rq *request, g *directory.Group, fields []Field, add Field, unclaimed []string, status int, summary string) error {
	ctx := r.Context()
	q := r.URL.Query()
	after, trail := cursor(q)
	var roles []string
	if c.AdminRoles != nil {
		gs, err := c.AdminRoles.GroupGrants(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, gr := range gs {
			roles = append(roles, gr.Role)
		}
	}
	members, err := c.Directory.Store.GroupMembers(ctx, g.ID, after, pageSize+1)
	if err != nil {
		return err
	}
	more := len(members) > pageSize
	if more {
		members = members[:pageSize]
	}
	d := groupData{Group: g, Fields: fields, Add: add, Unclaimed: unclaimed, Roles: roles}
	last := ""
	for _, u := range members {
		d.Members = append(d.Members, rowOf(u))
		last = u.ID
	}
	d.Pager = pager("/admin/groups/"+g.ID, q, after, trail, last, more)
	if d.Apps, err = c.groupApps(ctx, g.ID); err != nil {
		return err
	}
	if summary != "" {
		c.render(w, r, rq, status, "admin_group", g.Name, "directory", "groups", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, status, "admin_group", g.Name, "directory", "groups", d)
	return nil
}

func addMemberField(v string) Field {
	return Field{Name: "username", Label: "Username of the person to add", Type: "text", Value: v, Keys: []string{"userId"}, Autocomplete: "off"}
}

func (c *Console) group(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, err := c.Directory.Store.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.groupPage(w, r, rq, g, groupFields(g.Name, g.Description), addMemberField(""), nil, http.StatusOK, "")
}

func (c *Console) updateGroup(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	g, err := c.Directory.Store.Group(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	name, desc := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description"))
	if _, err := c.Directory.UpdateGroup(ctx, g.ID, name, desc); err != nil {
		summary, fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		fields := groupFields(name, desc)
		unclaimed := bind(fields, fe)
		return c.groupPage(w, r, rq, g, fields, addMemberField(""), unclaimed, http.StatusBadRequest, summary)
	}
	return done(w, r, "/admin/groups/"+g.ID, "saved")
}

func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.Directory.DeleteGroup(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return done(w, r, "/admin/groups", "deleted")
}

func (c *Console) addMember(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	g, err := c.Directory.Store.Group(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	login := strings.TrimSpace(r.PostFormValue("username"))
	err = errs.InvalidFields("Enter the username of a person.", errs.Field("username", "Enter a username."))
	if login != "" {
		var u *directory.User
		u, err = c.Directory.Store.User(ctx, login)
		if errs.Is(err, errs.NotFound) {
			err = errs.InvalidFields("No such person.", errs.Field("username", "No person has the username %q.", login))
		} else if err == nil {
			if err = c.Directory.AddMember(ctx, g.ID, u.ID); err == nil {
				return done(w, r, "/admin/groups/"+g.ID, "added")
			}
		}
	}
	summary, fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	add := []Field{addMemberField(login)}
	unclaimed := bind(add, fe)
	return c.groupPage(w, r, rq, g, groupFields(g.Name, g.Description), add[0], unclaimed, http.StatusBadRequest, summary)
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Directory.RemoveMember(r.Context(), id, r.PathValue("userId")); err != nil {
		return err
	}
	return done(w, r, "/admin/groups/"+id, "removed")
}

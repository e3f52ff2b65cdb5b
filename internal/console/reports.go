package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// eventRow is one system-log event as a table row.
type eventRow struct {
	Time, Type, Message, Actor, Outcome, Reason, IP string
	Targets                                         []string
}

func rowOfEvent(ev audit.Event) eventRow {
	row := eventRow{Time: ev.Published.UTC().Format("2006-01-02 15:04:05"), Type: ev.EventType, Message: ev.DisplayMessage,
		Actor: ev.Actor.DisplayName, Outcome: ev.Outcome.Result, Reason: ev.Outcome.Reason, IP: ev.Client.IPAddress}
	if ev.Actor.AlternateID != "" && ev.Actor.AlternateID != ev.Actor.DisplayName {
		row.Actor += " (" + ev.Actor.AlternateID + ")"
	}
	for _, t := range ev.Target {
		s := t.DisplayName
		if t.AlternateID != "" && t.AlternateID != "unknown" && t.AlternateID != s {
			s += " (" + t.AlternateID + ")"
		}
		row.Targets = append(row.Targets, t.Type+": "+s)
	}
	return row
}

type dashboardData struct {
	ActiveApps, InactiveApps, Counted int
	MoreApps                          bool
	Events                            []eventRow
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	var d dashboardData
	apps, err := c.Catalog.Store.Apps(ctx, catalog.AppQuery{Limit: 501})
	if err != nil {
		return err
	}
	if len(apps) > 500 {
		apps, d.MoreApps = apps[:500], true
	}
	d.Counted = len(apps)
	for _, a := range apps {
		if a.Status == catalog.Active {
			d.ActiveApps++
		} else {
			d.InactiveApps++
		}
	}
	evs, _, err := c.Events.Query(ctx, audit.Query{Limit: 10, Descending: true})
	if err != nil {
		return err
	}
	for _, ev := range evs {
		d.Events = append(d.Events, rowOfEvent(ev))
	}
	c.render(w, r, rq, http.StatusOK, "admin_dashboard", "Dashboard", "dashboard", "", d)
	return nil
}

type syslogData struct {
	Fields    []Field
	Events    []eventRow
	Pager     Pager
	Unclaimed []string
	Filter    string
}

// outcomes are the outcome filter's choices.
var outcomes = []string{"", audit.Success, audit.Failure, audit.Allow, audit.Deny, audit.Skipped, audit.Unknown}

// timeLayouts are what the since/until inputs accept (datetime-local
// sends the first).
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02 15:04", "2006-01-02"}

func parseWhen(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// resolver turns what an admin typed in the Actor and Target filters into
// indexed comparisons (a person's username into their id, an API token's
// name into its actor id); nil, or a nil result, keeps the plain filter.
type resolver interface {
	actor(v string) filter.Expr
	target(v string) filter.Expr
}

// logQuery maps the System Log filters onto the filter AST. Each filter
// is one comparison; they are joined with and.
func logQuery(q url.Values, who resolver) (audit.Query, error) {
	var aq audit.Query
	var fe []errs.FieldError
	var terms []filter.Expr
	str := func(attr string, op filter.Op, v string) filter.Expr {
		return &filter.Compare{Attr: attr, Op: op, Value: filter.StringValue(v)}
	}
	if v := strings.TrimSpace(q.Get("eventType")); v != "" {
		op := filter.OpEq
		if strings.HasSuffix(v, "*") || strings.HasSuffix(v, ".") {
			v, op = strings.TrimSuffix(v, "*"), filter.OpSw
		}
		terms = append(terms, str("eventType", op, v))
	}
	if v := strings.TrimSpace(q.Get("actor")); v != "" {
		var e filter.Expr
		if who != nil {
			e = who.actor(v)
		}
		if e == nil {
			e = &filter.Logical{Op: filter.Or, Left: str("actor.alternateId", filter.OpEq, v), Right: str("actor.id", filter.OpEq, v)}
		}
		terms = append(terms, e)
	}
	if v := strings.TrimSpace(q.Get("target")); v != "" {
		// target.id is indexed; a person's username becomes their id, and
		// anything else (an app label) is searched in the event text.
		var e filter.Expr
		if who != nil {
			e = who.target(v)
		}
		switch {
		case e != nil:
			terms = append(terms, e)
		case strings.ContainsAny(v, "@ ."):
			aq.Q = v
		default:
			terms = append(terms, str("target.id", filter.OpEq, v))
		}
	}
	if v := q.Get("outcome"); v != "" {
		ok := false
		for _, o := range outcomes {
			ok = ok || o == v
		}
		if !ok {
			fe = append(fe, errs.Field("outcome", "Choose one of the listed outcomes."))
		} else {
			terms = append(terms, str("outcome.result", filter.OpEq, v))
		}
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		aq.Q = strings.TrimSpace(aq.Q + " " + v)
	}
	for _, k := range []string{"since", "until"} {
		v := strings.TrimSpace(q.Get(k))
		if v == "" {
			continue
		}
		t, ok := parseWhen(v)
		if !ok {
			fe = append(fe, errs.Field(k, "Enter a date and time such as 2026-01-31T09:00 (UTC)."))
			continue
		}
		if k == "since" {
			aq.Since = t
		} else {
			aq.Until = t
		}
	}
	if !aq.Since.IsZero() && !aq.Until.IsZero() && !aq.Until.After(aq.Since) {
		fe = append(fe, errs.Field("until", "Until must be after Since."))
	}
	if fe != nil {
		return aq, errs.InvalidFields("Check the filters.", fe...)
	}
	for _, t := range terms {
		if aq.Filter == nil {
			aq.Filter = t
		} else {
			aq.Filter = &filter.Logical{Op: filter.And, Left: aq.Filter, Right: t}
		}
	}
	return aq, nil
}

func syslogFields(q url.Values) []Field {
	return []Field{
		{Name: "eventType", Label: "Event type", Type: "text", Value: q.Get("eventType"), Placeholder: "user.lifecycle.create",
			Help: "An exact event type; end it with * for every type that starts so (user.lifecycle.*)."},
		{Name: "actor", Label: "Actor", Type: "text", Value: q.Get("actor"), Help: "Username, API token (api-token:name) or id of who acted."},
		{Name: "target", Label: "Target", Type: "text", Value: q.Get("target"), Help: "Id of the person, group or application acted on, or a word of its name."},
		choice("outcome", "Outcome", q.Get("outcome"), outcomes...),
		{Name: "since", Label: "Since (UTC)", Type: "datetime-local", Value: q.Get("since")},
		{Name: "until", Label: "Until (UTC)", Type: "datetime-local", Value: q.Get("until")},
		{Name: "q", Label: "Search", Type: "search", Value: q.Get("q"), Help: "Words that must all appear in the event."},
	}
}

func (c *Console) systemLog(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	fields := syslogFields(q)
	if len(fields[3].Options) > 0 {
		fields[3].Options[0].Label = "Any"
	}
	d := syslogData{Fields: fields}
	aq, err := logQuery(q, lookup{r.Context(), c})
	if err == nil {
		after, trail := cursor(q)
		aq.After, aq.Limit, aq.Descending = after, pageSize, true
		var evs []audit.Event
		var next string
		if evs, next, err = c.Events.Query(r.Context(), aq); err == nil {
			for _, ev := range evs {
				d.Events = append(d.Events, rowOfEvent(ev))
			}
			d.Pager = pager("/admin/reports/system-log", q, after, trail, next, next != "")
			if aq.Filter != nil {
				d.Filter = filter.String(aq.Filter)
			}
			c.render(w, r, rq, http.StatusOK, "admin_syslog", "System Log", "reports", "syslog", d)
			return nil
		}
	}
	summary, fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	if m, ok := fe["filter"]; ok {
		delete(fe, "filter")
		summary += " " + m
	}
	d.Unclaimed = bind(d.Fields, fe)
	c.render(w, r, rq, http.StatusBadRequest, "admin_syslog", "System Log", "reports", "syslog", d, withError(summary))
	return nil
}

// lookup resolves System Log filter values against the directory and the
// API tokens.
type lookup struct {
	ctx context.Context
	c   *Console
}

func (l lookup) person(v string) *directory.User {
	if strings.HasPrefix(v, "api-token:") {
		return nil
	}
	u, err := l.c.Directory.Store.User(l.ctx, v)
	if err != nil {
		return nil
	}
	return u
}

func (l lookup) actor(v string) filter.Expr {
	id := func(x string) filter.Expr {
		return &filter.Compare{Attr: "actor.id", Op: filter.OpEq, Value: filter.StringValue(x)}
	}
	if name, ok := strings.CutPrefix(v, "api-token:"); ok && l.c.Tokens != nil {
		toks, err := l.c.Tokens.List(l.ctx)
		if err != nil {
			return nil
		}
		for _, t := range toks {
			if t.Name == name {
				who := t.UserID
				if who == "" {
					who = t.ID
				}
				// The token's actor id first (indexed), then its name.
				return &filter.Logical{Op: filter.And, Left: id(who),
					Right: &filter.Compare{Attr: "actor.alternateId", Op: filter.OpEq, Value: filter.StringValue(v)}}
			}
		}
		return nil
	}
	if u := l.person(v); u != nil {
		return id(u.ID)
	}
	return nil
}

func (l lookup) target(v string) filter.Expr {
	if u := l.person(v); u != nil {
		return &filter.Compare{Attr: "target.id", Op: filter.OpEq, Value: filter.StringValue(u.ID)}
	}
	return nil
}

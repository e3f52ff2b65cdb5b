package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Workflow → Event Hooks: Okta's event hooks, through the same service as
// /api/v1/eventHooks (package eventhook), so the rules and the System Log
// events are the API's. The secret header value is write-only: the form
// never shows it, says only that one is set, and an empty field keeps it.

const hookBase = "/admin/workflow/event-hooks"

type hookRow struct {
	ID, Name, URI, Status, Verification string
	Events                              int
	Filtered                            bool
}

type hooksData struct {
	Hooks     []hookRow
	Max       int
	New       []Field
	Unclaimed []string
}

type hookData struct {
	Hook      *eventhook.Hook
	SecretSet bool
	Filters   []eventhook.FilterCondition
	Fields    []Field
	Unclaimed []string
}

// hookForm is the hook form as posted (or as the hook has it).
type hookForm struct {
	Name, Description, URI, AuthKey, AuthValue, Headers, Filters string
	Events                                                       []string
}

func formOf(h *eventhook.Hook) hookForm {
	f := hookForm{Name: h.Name, URI: h.URI, AuthKey: h.AuthKey, Events: h.Events}
	if h.Description != nil {
		f.Description = *h.Description
	}
	var lines []string
	for _, hd := range h.Headers {
		lines = append(lines, hd.Key+": "+hd.Value)
	}
	f.Headers = strings.Join(lines, "\n")
	if h.Filter != nil {
		lines = nil
		for _, c := range h.Filter.Map {
			lines = append(lines, c.Event+": "+c.Expression)
		}
		f.Filters = strings.Join(lines, "\n")
	}
	return f
}

func postedHookForm(r *http.Request) hookForm {
	return hookForm{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), URI: strings.TrimSpace(r.PostFormValue("uri")),
		AuthKey: strings.TrimSpace(r.PostFormValue("authKey")), AuthValue: r.PostFormValue("authValue"),
		Headers: r.PostFormValue("headers"), Filters: r.PostFormValue("filters"), Events: r.PostForm["events"]}
}

// hookFields are the inputs of a hook. secretSet says whether the hook has
// a secret already (the value is never put back in the form).
func hookFields(f hookForm, secretSet bool) []Field {
	name := text("name", "Name", f.Name)
	name.Required, name.Autocomplete = true, "off"
	desc := text("description", "Description", f.Description)
	uri := Field{Name: "uri", Label: "Endpoint URL", Type: "url", Value: f.URI, Required: true, Autocomplete: "off",
		Keys: []string{"channel.config.uri", "channel.type", "channel.version", "channel.config.method"},
		Help: "The https URL Gatehouse POSTs the events to. It must answer the one-time verification request."}
	key := text("authKey", "Authentication field", f.AuthKey)
	key.Autocomplete, key.Keys = "off", []string{"channel.config.authScheme.key", "channel.config.authScheme.type"}
	key.Help = "The request header that carries the secret, such as Authorization. Leave empty for none (emptying it removes a stored secret)."
	secret := Field{Name: "authValue", Label: "Authentication secret", Type: "password", Autocomplete: "new-password",
		Keys: []string{"channel.config.authScheme.value"},
		Help: "Sent as the value of the authentication field. It is stored encrypted and never shown again."}
	if secretSet {
		secret.Help = "A secret is set. Leave this empty to keep it (with the same URL and field); it is never shown again."
	}
	headers := Field{Name: "headers", Label: "Custom headers", Type: "textarea", Value: f.Headers, Keys: []string{"channel.config.headers"},
		Help: "One a line, Name: value (at most 10). Their values are shown to administrators; put secrets in the authentication field."}
	events := Field{Name: "events", Label: "Event types", Type: "multiselect", Required: true, Keys: []string{"events.items", "events.type"},
		Help: "The System Log event types sent to the endpoint (hold Ctrl or ⌘ to choose several)."}
	chosen := map[string]bool{}
	for _, e := range f.Events {
		chosen[e] = true
	}
	for _, t := range eventhook.EligibleTypes() {
		events.Options = append(events.Options, Option{Value: t, Label: t, Selected: chosen[t]})
	}
	filters := Field{Name: "filters", Label: "Filters (Okta Expression Language)", Type: "textarea", Value: f.Filters, Keys: []string{"events.filter"},
		Help: "Optional, one a line: an event type chosen above, a colon, and a condition on the event; an event of that type is sent only when it is true. " +
			"For example user.lifecycle.create: event.target.?[type eq 'User' && alternateId eq 'pat@example.com'].size() > 0"}
	return []Field{name, desc, uri, key, secret, headers, events, filters}
}

// hookInput reads the form; problems of its own lines (a header or filter
// line without a colon) are returned as field errors.
func hookInput(f hookForm) (eventhook.Input, []errs.FieldError) {
	in := eventhook.Input{Name: f.Name, EventsType: "EVENT_TYPE", Events: f.Events, ChannelType: "HTTP", ChannelVersion: "1.0.0",
		URI: f.URI, Headers: []eventhook.Header{}}
	if d := strings.TrimSpace(f.Description); d != "" {
		in.Description = &d
	}
	var fe []errs.FieldError
	for i, line := range strings.Split(f.Headers, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			fe = append(fe, errs.Field("channel.config.headers", "Line %d: write the header as Name: value.", i+1))
			continue
		}
		in.Headers = append(in.Headers, eventhook.Header{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	if f.AuthKey != "" || f.AuthValue != "" {
		in.Auth, in.AuthType, in.AuthKey = true, "HEADER", f.AuthKey
		if f.AuthValue != "" {
			v := f.AuthValue
			in.AuthValue = &v
		}
	}
	var conds []eventhook.FilterCondition
	for i, line := range strings.Split(f.Filters, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		ev, cond, ok := strings.Cut(line, ":")
		if !ok {
			fe = append(fe, errs.Field("events.filter", "Line %d: write the filter as event.type: condition.", i+1))
			continue
		}
		conds = append(conds, eventhook.FilterCondition{Event: strings.TrimSpace(ev), Expression: strings.TrimSpace(cond)})
	}
	if len(conds) > 0 {
		in.Filter = &eventhook.Filter{Type: eventhook.FilterType, Map: conds}
	}
	return in, fe
}

func (c *Console) hooksPage(w http.ResponseWriter, r *http.Request, rq *request, status int, fields []Field, unclaimed []string, summary string) error {
	if c.EventHooks == nil {
		return errs.NotFoundf("Event hooks are not available.")
	}
	hooks, err := c.EventHooks.Store.EventHooks(r.Context())
	if err != nil {
		return err
	}
	d := hooksData{Max: eventhook.MaxHooks, New: fields, Unclaimed: unclaimed}
	for _, h := range hooks {
		d.Hooks = append(d.Hooks, hookRow{ID: h.ID, Name: h.Name, URI: h.URI, Status: h.Status, Verification: h.VerificationStatus,
			Events: len(h.Events), Filtered: h.Filter != nil})
	}
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_event_hooks", "Event Hooks", "workflow", "eventhooks", d, opts...)
	return nil
}

func (c *Console) eventHooks(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.hooksPage(w, r, rq, http.StatusOK, hookFields(hookForm{}, false), nil, "")
}

// hookProblems adds to the form's own errors what the service's
// validation says of the rest.
func (c *Console) hookProblems(ctx context.Context, id string, in eventhook.Input, fe []errs.FieldError) error {
	err := c.EventHooks.Check(ctx, id, in)
	e, ok := errs.As(err)
	if err != nil && (!ok || e.Kind != errs.Invalid) {
		return err
	}
	own := map[string]bool{}
	for _, f := range fe {
		own[f.Field] = true
	}
	if ok {
		for _, f := range e.Fields {
			if !own[f.Field] {
				fe = append(fe, f)
			}
		}
	}
	return errs.InvalidFields("Api validation failed: eventHook", fe...)
}

func (c *Console) createEventHook(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.EventHooks == nil {
		return errs.NotFoundf("Event hooks are not available.")
	}
	ctx := r.Context()
	form := postedHookForm(r)
	fields := hookFields(form, false)
	in, fe := hookInput(form)
	var err error
	if fe != nil {
		err = c.hookProblems(ctx, "", in, fe)
	} else {
		var h *eventhook.Hook
		if h, err = c.EventHooks.Create(ctx, in); err == nil {
			return done(w, r, hookBase+"/"+h.ID, "created")
		}
	}
	summary, unclaimed, ok := refusedFields(err, fields)
	if !ok {
		return err
	}
	return c.hooksPage(w, r, rq, http.StatusBadRequest, fields, unclaimed, summary)
}

func (c *Console) hookPage(w http.ResponseWriter, r *http.Request, rq *request, h *eventhook.Hook, fields []Field, unclaimed []string, status int, summary string) error {
	d := hookData{Hook: h, SecretSet: h.AuthSealed != "", Unclaimed: unclaimed}
	if h.Filter != nil {
		d.Filters = h.Filter.Map
	}
	if fields == nil {
		fields = hookFields(formOf(h), d.SecretSet)
	}
	d.Fields = fields
	var opts []func(*web.Page)
	if summary != "" {
		opts = append(opts, withError(summary))
	}
	c.render(w, r, rq, status, "admin_event_hook", h.Name, "workflow", "eventhooks", d, opts...)
	return nil
}

func (c *Console) hook(r *http.Request) (*eventhook.Hook, error) {
	if c.EventHooks == nil {
		return nil, errs.NotFoundf("Event hooks are not available.")
	}
	return c.EventHooks.Store.EventHook(r.Context(), r.PathValue("id"))
}

func (c *Console) eventHook(w http.ResponseWriter, r *http.Request, rq *request) error {
	h, err := c.hook(r)
	if err != nil {
		return err
	}
	return c.hookPage(w, r, rq, h, nil, nil, http.StatusOK, "")
}

func (c *Console) saveEventHook(w http.ResponseWriter, r *http.Request, rq *request) error {
	h, err := c.hook(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	form := postedHookForm(r)
	fields := hookFields(form, h.AuthSealed != "")
	in, fe := hookInput(form)
	if fe != nil {
		err = c.hookProblems(ctx, h.ID, in, fe)
	} else if _, err = c.EventHooks.Replace(ctx, h.ID, in); err == nil {
		return done(w, r, hookBase+"/"+h.ID, "saved")
	}
	summary, unclaimed, ok := refusedFields(err, fields)
	if !ok {
		return err
	}
	return c.hookPage(w, r, rq, h, fields, unclaimed, http.StatusBadRequest, summary)
}

// hookRefused shows a refused action (verify, delete) on the hook's page.
func (c *Console) hookRefused(w http.ResponseWriter, r *http.Request, rq *request, id string, err error) error {
	e, ok := errs.As(err)
	if !ok || (e.Kind != errs.Invalid && e.Kind != errs.IllegalState && e.Kind != errs.Conflict) {
		return err
	}
	h, herr := c.EventHooks.Store.EventHook(r.Context(), id)
	if herr != nil {
		return err
	}
	msg := e.Msg
	if len(e.Fields) > 0 {
		var parts []string
		for _, f := range e.Fields {
			parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(f.Message, f.Field+": "), "verification: "))
		}
		msg = strings.Join(parts, " ")
	}
	status := http.StatusBadRequest
	if e.Kind == errs.Conflict {
		status = http.StatusConflict
	}
	return c.hookPage(w, r, rq, h, nil, nil, status, msg)
}

func (c *Console) verifyEventHook(w http.ResponseWriter, r *http.Request, rq *request) error {
	h, err := c.hook(r)
	if err != nil {
		return err
	}
	if _, err := c.EventHooks.Verify(r.Context(), h.ID); err != nil {
		return c.hookRefused(w, r, rq, h.ID, err)
	}
	return done(w, r, hookBase+"/"+h.ID, "verified")
}

func (c *Console) eventHookLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	h, err := c.hook(r)
	if err != nil {
		return err
	}
	status, flash := eventhook.Active, "activated"
	switch r.PathValue("op") {
	case "activate":
	case "deactivate":
		status, flash = eventhook.Inactive, "deactivated"
	default:
		return errs.NotFoundf("No such operation.")
	}
	if _, err := c.EventHooks.SetStatus(r.Context(), h.ID, status); err != nil {
		return err
	}
	return done(w, r, hookBase+"/"+h.ID, flash)
}

func (c *Console) deleteEventHook(w http.ResponseWriter, r *http.Request, rq *request) error {
	h, err := c.hook(r)
	if err != nil {
		return err
	}
	if err := c.EventHooks.Delete(r.Context(), h.ID); err != nil {
		return c.hookRefused(w, r, rq, h.ID, err)
	}
	return done(w, r, hookBase, "deleted")
}

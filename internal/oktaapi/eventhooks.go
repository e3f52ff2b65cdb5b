package oktaapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/eventhook"
)

// EventHooks serves /api/v1/eventHooks: Okta's Event Hooks Management
// API. The secret header value (channel.config.authScheme.value) is
// write-only: sealed at rest, never rendered.
type EventHooks struct {
	API     *API
	Service *eventhook.Service
}

// Mount registers the routes.
func (h *EventHooks) Mount(m *Mux) {
	m.Handle("GET /api/v1/eventHooks", ReadAccess, h.list)
	m.Handle("POST /api/v1/eventHooks", WriteAccess, h.create)
	m.Handle("GET /api/v1/eventHooks/{id}", ReadAccess, h.get)
	m.Handle("PUT /api/v1/eventHooks/{id}", WriteAccess, h.replace)
	m.Handle("DELETE /api/v1/eventHooks/{id}", WriteAccess, h.remove)
	m.Handle("POST /api/v1/eventHooks/{id}/lifecycle/activate", WriteAccess, h.lifecycle(eventhook.Active))
	m.Handle("POST /api/v1/eventHooks/{id}/lifecycle/deactivate", WriteAccess, h.lifecycle(eventhook.Inactive))
	m.Handle("POST /api/v1/eventHooks/{id}/lifecycle/verify", WriteAccess, h.verify)
}

// eventHookBody is the accepted request body, in Okta's shape.
type eventHookBody struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Events      struct {
		Type   string          `json:"type"`
		Items  []string        `json:"items"`
		Filter json.RawMessage `json:"filter"`
	} `json:"events"`
	Channel struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Config  struct {
			URI     string             `json:"uri"`
			Method  string             `json:"method"`
			Headers []eventhook.Header `json:"headers"`
			// AuthScheme is kept raw: null and absent mean none.
			AuthScheme json.RawMessage `json:"authScheme"`
		} `json:"config"`
	} `json:"channel"`
}

var eventHookMembers = []string{"name", "description", "events", "channel"}
var eventHookIgnored = []string{"id", "status", "verificationStatus", "created", "createdBy", "lastUpdated", "_links"}

func isNull(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || string(t) == "null"
}

func decodeEventHook(r *http.Request) (eventhook.Input, error) {
	var b eventHookBody
	if err := DecodeStrict(r, &b, eventHookMembers, eventHookIgnored...); err != nil {
		return eventhook.Input{}, err
	}
	c := b.Channel.Config
	in := eventhook.Input{Name: b.Name, Description: b.Description, EventsType: b.Events.Type, Events: b.Events.Items,
		ChannelType: b.Channel.Type, ChannelVersion: b.Channel.Version,
		Method: c.Method, URI: c.URI, Headers: c.Headers}
	if in.Headers == nil {
		in.Headers = []eventhook.Header{}
	}
	if !isNull(b.Events.Filter) {
		var f struct {
			Type           string `json:"type"`
			EventFilterMap []struct {
				Event     string `json:"event"`
				Condition *struct {
					Version    *string `json:"version"`
					Expression string  `json:"expression"`
				} `json:"condition"`
			} `json:"eventFilterMap"`
		}
		if err := json.Unmarshal(b.Events.Filter, &f); err != nil {
			return eventhook.Input{}, Malformed(jsonProblem(err))
		}
		in.Filter = &eventhook.Filter{Type: f.Type, Map: []eventhook.FilterCondition{}}
		for _, m := range f.EventFilterMap {
			c := eventhook.FilterCondition{Event: m.Event}
			if m.Condition != nil {
				c.Expression = m.Condition.Expression
			}
			in.Filter.Map = append(in.Filter.Map, c)
		}
	}
	if !isNull(c.AuthScheme) {
		var a struct {
			Type  string  `json:"type"`
			Key   string  `json:"key"`
			Value *string `json:"value"`
		}
		if err := json.Unmarshal(c.AuthScheme, &a); err != nil {
			return eventhook.Input{}, Malformed(jsonProblem(err))
		}
		in.Auth, in.AuthType, in.AuthKey, in.AuthValue = true, a.Type, a.Key, a.Value
	}
	return in, nil
}

// EventHookJSON renders a hook as Okta does, without the secret value.
func (h *EventHooks) EventHookJSON(x *eventhook.Hook) map[string]any {
	a := h.API
	headers := make([]map[string]any, 0, len(x.Headers))
	for _, hd := range x.Headers {
		headers = append(headers, map[string]any{"key": hd.Key, "value": hd.Value})
	}
	config := map[string]any{"uri": x.URI, "headers": headers, "method": "POST", "authScheme": nil}
	if x.AuthKey != "" {
		config["authScheme"] = map[string]any{"type": "HEADER", "key": x.AuthKey}
	}
	self := "/api/v1/eventHooks/" + x.ID
	links := map[string]any{
		"self":   a.Href("%s", self),
		"verify": map[string]any{"href": a.BaseURL + self + "/lifecycle/verify", "hints": map[string]any{"allow": []string{"POST"}}},
	}
	if x.Status == eventhook.Active {
		links["deactivate"] = map[string]any{"href": a.BaseURL + self + "/lifecycle/deactivate", "hints": map[string]any{"allow": []string{"POST"}}}
	} else {
		links["activate"] = map[string]any{"href": a.BaseURL + self + "/lifecycle/activate", "hints": map[string]any{"allow": []string{"POST"}}}
	}
	var createdBy any
	if x.CreatedBy != "" {
		createdBy = x.CreatedBy
	}
	return map[string]any{
		"id":                 x.ID,
		"status":             x.Status,
		"verificationStatus": x.VerificationStatus,
		"name":               x.Name,
		"description":        x.Description,
		"created":            Time(x.Created),
		"createdBy":          createdBy,
		"lastUpdated":        Time(x.Updated),
		"events":             map[string]any{"type": "EVENT_TYPE", "items": x.Events, "filter": filterJSON(x.Filter)},
		"channel":            map[string]any{"type": "HTTP", "version": "1.0.0", "config": config},
		"_links":             links,
	}
}

// filterJSON renders events.filter in Okta's shape (condition.version is
// Okta's internal field, always null); nil without a filter.
func filterJSON(f *eventhook.Filter) any {
	if f == nil {
		return nil
	}
	m := make([]map[string]any, 0, len(f.Map))
	for _, c := range f.Map {
		m = append(m, map[string]any{"event": c.Event, "condition": map[string]any{"version": nil, "expression": c.Expression}})
	}
	return map[string]any{"type": f.Type, "eventFilterMap": m}
}

func (h *EventHooks) list(w http.ResponseWriter, r *http.Request) error {
	hooks, err := h.Service.Store.EventHooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(hooks))
	for _, x := range hooks {
		out = append(out, h.EventHookJSON(x))
	}
	return WriteJSON(w, out)
}

func (h *EventHooks) create(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeEventHook(r)
	if err != nil {
		return err
	}
	x, err := h.Service.Create(r.Context(), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.EventHookJSON(x))
}

func (h *EventHooks) get(w http.ResponseWriter, r *http.Request) error {
	x, err := h.Service.Store.EventHook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, h.EventHookJSON(x))
}

func (h *EventHooks) replace(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeEventHook(r)
	if err != nil {
		return err
	}
	x, err := h.Service.Replace(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, h.EventHookJSON(x))
}

func (h *EventHooks) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.Service.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return NoContent(w)
}

func (h *EventHooks) lifecycle(status string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		x, err := h.Service.SetStatus(r.Context(), r.PathValue("id"), status)
		if err != nil {
			return err
		}
		return WriteJSON(w, h.EventHookJSON(x))
	}
}

func (h *EventHooks) verify(w http.ResponseWriter, r *http.Request) error {
	x, err := h.Service.Verify(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, h.EventHookJSON(x))
}

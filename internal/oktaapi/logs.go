package oktaapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

func (a *API) mountLogs(m *Mux) {
	m.Handle("GET /api/v1/logs", ReadAccess, a.listLogs)
}

// LogFilterOptions are the attributes the System Log filter accepts.
var LogFilterOptions = filter.Options{Attributes: map[string]filter.OpSet{
	"eventType":         filter.Ops(filter.OpEq, filter.OpNe, filter.OpSw, filter.OpCo),
	"severity":          filter.Ops(filter.OpEq, filter.OpNe),
	"actor.id":          filter.Ops(filter.OpEq, filter.OpNe),
	"actor.alternateId": filter.Ops(filter.OpEq, filter.OpNe, filter.OpSw, filter.OpCo, filter.OpEw),
	"actor.displayName": filter.Ops(filter.OpEq, filter.OpSw, filter.OpCo),
	"target.id":         filter.Ops(filter.OpEq),
	"outcome.result":    filter.Ops(filter.OpEq, filter.OpNe),
	"client.ipAddress":  filter.Ops(filter.OpEq, filter.OpNe, filter.OpSw),
	"transaction.id":    filter.Ops(filter.OpEq),
	"displayMessage":    filter.Ops(filter.OpEq, filter.OpSw, filter.OpCo),
	"uuid":              filter.Ops(filter.OpEq),
}}

func parseTime(param, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: " + param,
		Fields: []errs.FieldError{{Field: param, Message: param + ": must be an ISO 8601 timestamp such as 2026-01-31T12:00:00.000Z"}}}
}

// listLogs is GET /api/v1/logs. Okta distinguishes two request types: a
// polling request (no until, ascending order) follows the ongoing stream
// of events and always has a next link, even on an empty page, that
// continues after the last event returned (or where the request started);
// any other request (a bounded one, with until, or a descending one) has
// a next link only while more events match. since defaults to 7 days
// before until (which defaults to now); a request with a cursor (after)
// starts at the cursor instead. A polling request's pages are in commit
// order (the store's Query with Polling), so a poller following the next
// links sees every event exactly once however transactions interleave;
// the others are in published order (docs/systemlog.md).
func (a *API) listLogs(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	limit, err := Limit(r, 100, 1000)
	if err != nil {
		return err
	}
	q := audit.Query{Limit: limit, After: qs.Get("after"), Q: qs.Get("q")}
	switch qs.Get("sortOrder") {
	case "", "ASCENDING":
	case "DESCENDING":
		q.Descending = true
	default:
		return errs.InvalidFields("Api validation failed: sortOrder", errs.Field("sortOrder", "sortOrder: must be ASCENDING or DESCENDING"))
	}
	if s := qs.Get("until"); s != "" {
		if q.Until, err = parseTime("until", s); err != nil {
			return err
		}
	}
	if s := qs.Get("since"); s != "" {
		if q.Since, err = parseTime("since", s); err != nil {
			return err
		}
	} else if q.After == "" {
		end := q.Until
		if end.IsZero() {
			end = a.Now()
		}
		q.Since = end.Add(-7 * 24 * time.Hour)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return errs.InvalidFields("Api validation failed: until", errs.Field("until", "until: must not be before since"))
	}
	if f := qs.Get("filter"); f != "" {
		if q.Filter, err = filter.Parse(f, LogFilterOptions); err != nil {
			return searchError("filter", err)
		}
	}
	q.Polling = q.Until.IsZero() && !q.Descending
	evs, next, err := a.Events.Query(r.Context(), q)
	if err != nil {
		return err
	}
	if q.Polling && next == "" {
		// An empty page: poll again from the same place.
		next = q.After
	}
	if q.Polling && next == "" {
		a.selfAsNext(w, r)
	} else {
		a.LinkHeaders(w, r, next)
	}
	out := make([]map[string]any, len(evs))
	for i, e := range evs {
		out[i] = EventJSON(e)
	}
	return WriteJSON(w, out)
}

// selfAsNext writes the self link and a next link to the same request:
// an empty first page of a polling request continues where it started.
func (a *API) selfAsNext(w http.ResponseWriter, r *http.Request) {
	a.LinkHeaders(w, r, "")
	self := a.BaseURL + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="next"`)
}

// EventJSON renders an event in the System Log's shape.
func EventJSON(e audit.Event) map[string]any {
	targets := make([]map[string]any, len(e.Target))
	for i, t := range e.Target {
		targets[i] = map[string]any{"id": t.ID, "type": t.Type, "alternateId": t.AlternateID, "displayName": t.DisplayName, "detailEntry": nil}
	}
	var debug map[string]any
	if len(e.Debug) > 0 {
		data := map[string]any{}
		for k, v := range e.Debug {
			data[k] = v
		}
		debug = map[string]any{"debugData": data}
	}
	return map[string]any{
		"uuid":            e.UUID,
		"published":       Time(e.Published),
		"eventType":       e.EventType,
		"version":         e.Version,
		"severity":        e.Severity,
		"legacyEventType": nil,
		"displayMessage":  e.DisplayMessage,
		"actor":           map[string]any{"id": e.Actor.ID, "type": e.Actor.Type, "alternateId": e.Actor.AlternateID, "displayName": e.Actor.DisplayName, "detailEntry": nil},
		"client": map[string]any{"ipAddress": e.Client.IPAddress, "userAgent": map[string]any{"rawUserAgent": e.Client.UserAgent},
			"zone": "null", "device": "Unknown", "id": nil, "geographicalContext": nil},
		"outcome":               map[string]any{"result": e.Outcome.Result, "reason": nilIfEmpty(e.Outcome.Reason)},
		"target":                targets,
		"transaction":           map[string]any{"type": "WEB", "id": e.TransactionID, "detail": map[string]any{}},
		"debugContext":          debug,
		"authenticationContext": map[string]any{"authenticationStep": 0, "externalSessionId": nil},
		"securityContext":       map[string]any{},
		"request":               map[string]any{"ipChain": []any{}},
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

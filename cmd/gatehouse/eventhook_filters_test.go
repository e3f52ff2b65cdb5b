package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// TestEventHookFilters: a hook with Okta's events.filter, through the Okta
// Go SDK: the filter is stored and returned in Okta's shape; an event of the
// filtered type for which the condition is false is neither enqueued nor
// delivered, one for which it is true is, and events of the subscribed types
// without a condition all are. A condition that does not compile is refused
// with E0000001 and its position, and the hook keeps its filter.
func TestEventHookFilters(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		rc, tweak := newHookReceiver(t)
		ts := newTestServer(t, pg, tweak)
		ctx := context.Background()
		c := sdkClient(t, ts)
		cond := "event.target.?[type eq 'User' && alternateId eq 'keep@example.com'].size() > 0"
		filter := okta.NewNullableEventHookFilters(&okta.EventHookFilters{Type: okta.PtrString("EXPRESSION_LANGUAGE"),
			EventFilterMap: []okta.EventHookFilterMapObject{{Event: okta.PtrString("user.lifecycle.create"),
				Condition: &okta.EventHookFilterMapObjectCondition{Expression: okta.PtrString(cond)}}}})
		hook := okta.EventHook{
			Name:   "Filtered",
			Events: okta.EventSubscriptions{Type: "EVENT_TYPE", Items: []string{"user.lifecycle.create", "group.lifecycle.create"}, Filter: *filter},
			Channel: okta.EventHookChannel{Type: "HTTP", Version: "1.0.0", Config: okta.EventHookChannelConfig{
				Uri: rc.srv.URL + "/okta/events", Headers: []okta.EventHookChannelConfigHeader{}}},
		}
		created, _, err := c.EventHookAPI.CreateEventHook(ctx).EventHook(hook).Execute()
		if err != nil {
			t.Fatalf("create: %s", oktaErrorCode(err))
		}
		id := created.GetId()
		got := created.Events.GetFilter()
		if got.GetType() != "EXPRESSION_LANGUAGE" || len(got.EventFilterMap) != 1 || got.EventFilterMap[0].GetEvent() != "user.lifecycle.create" ||
			got.EventFilterMap[0].Condition.GetExpression() != cond {
			t.Fatalf("filter in the answer: %+v", got)
		}
		raw := ts.call(t, "GET", "/api/v1/eventHooks/"+id, ts.token, "")
		if !strings.Contains(raw.raw, `"eventFilterMap":[{"condition":{"expression":"event.target.?[type eq 'User' && alternateId eq 'keep@example.com'].size() > 0","version":null},"event":"user.lifecycle.create"}],"type":"EXPRESSION_LANGUAGE"}`) {
			t.Fatalf("GET renders the filter as: %s", raw.raw)
		}
		if _, _, err := c.EventHookAPI.VerifyEventHook(ctx, id).Execute(); err != nil {
			t.Fatalf("verify: %s", oktaErrorCode(err))
		}

		ts.createUser(t, "drop@example.com", "Correct-Horse-42")
		ts.createUser(t, "keep@example.com", "Correct-Horse-42")
		ts.group(t, "unfiltered-group")
		rc.waitPost(t, "the user the condition takes", eventIs("user.lifecycle.create", "keep@example.com"))
		rc.waitPost(t, "the group (its type has no condition)", eventIs("group.lifecycle.create", "unfiltered-group"))
		jobs, _, err := ts.queue.List(ctx, provisioning.Filter{Kind: eventhook.KindDeliver}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if strings.Contains(string(j.Payload), "drop@example.com") {
				t.Fatalf("a delivery of the filtered-out event was enqueued: %s", j.Payload)
			}
		}
		if _, posts := rc.snapshot(); len(posts) == 0 {
			t.Fatal("nothing delivered")
		} else {
			for _, p := range posts {
				b, _ := json.Marshal(p.body)
				if strings.Contains(string(b), "drop@example.com") {
					t.Fatalf("the filtered-out event was delivered: %s", b)
				}
			}
		}

		// A condition that does not compile: 400 E0000001 with the
		// position; the hook keeps its filter.
		bad := `{"name":"Filtered","events":{"type":"EVENT_TYPE","items":["user.lifecycle.create"],"filter":{"type":"EXPRESSION_LANGUAGE",
			"eventFilterMap":[{"event":"user.lifecycle.create","condition":{"version":null,"expression":"event.target.?[type eq 'User'].size() >"}},
			{"event":"group.lifecycle.create","condition":{"expression":"event.actor.type eq 'User'"}}]}},
			"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"` + rc.srv.URL + `/okta/events"}}}`
		r := ts.call(t, "PUT", "/api/v1/eventHooks/"+id, ts.token, bad)
		if r.status != 400 || r.body["errorCode"] != "E0000001" ||
			!strings.Contains(r.raw, "events.filter.eventFilterMap[0].condition.expression: the expression ends too early at 1:40") ||
			!strings.Contains(r.raw, `events.filter.eventFilterMap[1].event: \"group.lifecycle.create\" is not one of events.items`) {
			t.Fatalf("bad filter: %d %s", r.status, r.raw)
		}
		for _, refused := range []string{"event.client.ipAddress eq '1.2.3.4'", "user.login eq 'x'", "event.eventType.toUpperCase() eq 'X'"} {
			body := strings.Replace(bad, "event.target.?[type eq 'User'].size() >", refused, 1)
			if r := ts.call(t, "PUT", "/api/v1/eventHooks/"+id, ts.token, body); r.status != 400 || !strings.Contains(r.raw, " at 1:") {
				t.Errorf("%s: %d %s", refused, r.status, r.raw)
			}
		}
		after, _, err := c.EventHookAPI.GetEventHook(ctx, id).Execute()
		if err != nil || after.Events.GetFilter().EventFilterMap[0].Condition.GetExpression() != cond {
			t.Fatalf("the refused replace changed the hook: %v", err)
		}

		// Without its filter the hook takes every event of its types again.
		hook.Events.Filter = okta.NullableEventHookFilters{}
		if _, _, err := c.EventHookAPI.ReplaceEventHook(ctx, id).EventHook(hook).Execute(); err != nil {
			t.Fatalf("replace without the filter: %s", oktaErrorCode(err))
		}
		if r := ts.call(t, "GET", "/api/v1/eventHooks/"+id, ts.token, ""); !strings.Contains(r.raw, `"filter":null`) {
			t.Fatalf("filter after its removal: %s", r.raw)
		}
		if _, _, err := c.EventHookAPI.VerifyEventHook(ctx, id).Execute(); err != nil {
			t.Fatalf("verify: %s", oktaErrorCode(err))
		}
		ts.createUser(t, "drop2@example.com", "Correct-Horse-42")
		rc.waitPost(t, "a user after the filter was removed", eventIs("user.lifecycle.create", "drop2@example.com"))
	})
}

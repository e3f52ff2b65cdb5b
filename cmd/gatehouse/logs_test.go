package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// TestSystemLogRequestTypes: Okta's two System Log request types, driven
// with the official Okta Go SDK's ListLogEvents. A polling request (no
// until, ascending) always carries a next link, also on an empty page,
// that continues after the last event returned, so a poller following it
// sees each later event once, in order. A bounded request (until given)
// has a next link only while more events match. since defaults to 7 days
// before until.
func TestSystemLogRequestTypes(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	start := time.Now().Add(-time.Second)
	newGroup := func(name string) string {
		t.Helper()
		r := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"`+name+`"}}`)
		if r.status != 200 {
			t.Fatalf("group: %d %s", r.status, r.raw)
		}
		return r.body["id"].(string)
	}
	const created = `eventType eq "group.lifecycle.create"`
	targets := func(evs []okta.LogEvent) []string {
		var out []string
		for _, e := range evs {
			for _, tg := range e.Target {
				out = append(out, tg.GetId())
			}
		}
		return out
	}
	g1, g2, g3 := newGroup("One"), newGroup("Two"), newGroup("Three")

	// Polling: 2, then 1, then an empty page, each with a next link.
	evs, resp, err := c.SystemLogAPI.ListLogEvents(ctx).Since(start).Filter(created).Limit(2).Execute()
	if err != nil || strings.Join(targets(evs), ",") != g1+","+g2 || !resp.HasNextPage() {
		t.Fatalf("first polling page: %v %v next=%v", err, targets(evs), err == nil && resp.HasNextPage())
	}
	var page []okta.LogEvent
	if resp, err = resp.Next(&page); err != nil || strings.Join(targets(page), ",") != g3 || !resp.HasNextPage() {
		t.Fatalf("second polling page: %v %v next=%v", err, targets(page), err == nil && resp.HasNextPage())
	}
	last := resp
	page = nil
	if resp, err = resp.Next(&page); err != nil || len(page) != 0 || !resp.HasNextPage() {
		t.Fatalf("empty polling page: %v %d next=%v", err, len(page), err == nil && resp.HasNextPage())
	}
	if resp.NextPage() != last.NextPage() {
		t.Fatalf("the empty page's next link moved: %s, was %s", resp.NextPage(), last.NextPage())
	}
	// A later event: the poller gets it, and only it, in ascending order.
	g4, g5 := newGroup("Four"), newGroup("Five")
	page = nil
	if resp, err = resp.Next(&page); err != nil || strings.Join(targets(page), ",") != g4+","+g5 || !resp.HasNextPage() {
		t.Fatalf("polling after new events: %v %v", err, targets(page))
	}
	if !page[0].GetPublished().Before(page[1].GetPublished()) && !page[0].GetPublished().Equal(page[1].GetPublished()) {
		t.Fatalf("not ascending: %s then %s", page[0].GetPublished(), page[1].GetPublished())
	}

	// An empty first polling page (nothing matches yet): its next link is
	// the request itself.
	r := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "no.such.event"`), ts.token, "")
	if r.status != 200 || strings.TrimSpace(r.raw) != "[]" || !strings.Contains(strings.Join(r.header.Values("Link"), ","), `rel="next"`) {
		t.Fatalf("empty first polling page: %d %s %v", r.status, r.raw, r.header.Values("Link"))
	}

	// Bounded: a next link while more match, none on the last page.
	until := time.Now().Add(time.Minute)
	evs, resp, err = c.SystemLogAPI.ListLogEvents(ctx).Since(start).Until(until).Filter(created).Limit(3).Execute()
	if err != nil || len(evs) != 3 || !resp.HasNextPage() {
		t.Fatalf("first bounded page: %v %d", err, len(evs))
	}
	page = nil
	if resp, err = resp.Next(&page); err != nil || strings.Join(targets(page), ",") != g4+","+g5 || resp.HasNextPage() {
		t.Fatalf("last bounded page: %v %v next=%v", err, targets(page), err == nil && resp.HasNextPage())
	}
	// A bounded request that matches nothing: no next link.
	if evs, resp, err = c.SystemLogAPI.ListLogEvents(ctx).Since(start).Until(until).Filter(`eventType eq "no.such.event"`).Execute(); err != nil || len(evs) != 0 || resp.HasNextPage() {
		t.Fatalf("empty bounded request: %v %d", err, len(evs))
	}
	// DESCENDING is not a polling request: newest first, no next link at
	// the end.
	if evs, resp, err = c.SystemLogAPI.ListLogEvents(ctx).Filter(created).SortOrder("DESCENDING").Execute(); err != nil || strings.Join(targets(evs), ",") != strings.Join([]string{g5, g4, g3, g2, g1}, ",") || resp.HasNextPage() {
		t.Fatalf("descending: %v %v", err, targets(evs))
	}
	// since defaults to 7 days before until: an until in the past alone is
	// a valid (here empty) window, not an until before the default since.
	if evs, resp, err = c.SystemLogAPI.ListLogEvents(ctx).Until(start.Add(-24 * time.Hour)).Execute(); err != nil || len(evs) != 0 || resp.HasNextPage() {
		t.Fatalf("until a day ago: %v %d", err, len(evs))
	}
}

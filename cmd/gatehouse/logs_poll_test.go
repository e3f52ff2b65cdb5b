package main

import (
	"context"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
)

// TestSystemLogPollingCommitOrder: a collector that follows a polling
// request's next links with the Okta Go SDK sees every event exactly once
// although events commit out of the order they were published in: an
// event created before a group (published earlier) commits after the
// group's event has been polled. On PostgreSQL the earlier event's
// transaction is held open while the group is created and polled (its
// sequence number is also the smaller); on SQLite, where one write
// transaction runs at a time, it is written once the group has been
// polled. Filtered (eventType, target.id) and unfiltered pollers alike.
func TestSystemLogPollingCommitOrder(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		ctx := context.Background()
		c := sdkClient(t, ts)
		start := time.Now().Add(-time.Second)
		type collector struct {
			name string
			resp *okta.APIResponse
			seen map[string]int
		}
		var collectors []*collector
		for _, f := range []string{"", `eventType eq "group.lifecycle.create"`, `target.id eq "00gheldgroup"`} {
			req := c.SystemLogAPI.ListLogEvents(ctx).Since(start).Limit(2)
			if f != "" {
				req = req.Filter(f)
			}
			evs, resp, err := req.Execute()
			if err != nil || !resp.HasNextPage() {
				t.Fatalf("%q: first page: %v", f, err)
			}
			col := &collector{name: f, resp: resp, seen: map[string]int{}}
			for _, e := range evs {
				col.seen[e.GetUuid()]++
			}
			collectors = append(collectors, col)
		}
		poll := func() {
			t.Helper()
			for _, col := range collectors {
				for {
					var page []okta.LogEvent
					resp, err := col.resp.Next(&page)
					if err != nil || !resp.HasNextPage() {
						t.Fatalf("%q: polling page: %v (next link %v)", col.name, err, err == nil && resp.HasNextPage())
					}
					col.resp = resp
					for _, e := range page {
						col.seen[e.GetUuid()]++
					}
					if len(page) < 2 {
						break
					}
				}
			}
		}
		// An event of a group created before the API's: published first.
		early := audit.Event{UUID: "held-event", Published: time.Now().Add(-100 * time.Millisecond).UTC(), EventType: "group.lifecycle.create", Version: "0", Severity: audit.Info,
			DisplayMessage: "Create okta user group", Actor: audit.Actor{ID: "system", Type: "SystemPrincipal"}, Outcome: audit.Outcome{Result: audit.Success},
			Target: []audit.Target{audit.GroupTarget("00gheldgroup", "Held")}}
		release, held := make(chan struct{}), make(chan error, 1)
		if pg {
			locked := make(chan struct{})
			go func() {
				held <- ts.app.db.InTx(ctx, func(tx *sqlstore.Tx) error {
					if err := tx.Append(early); err != nil {
						return err
					}
					close(locked)
					<-release
					return nil
				})
			}()
			<-locked
		}
		r := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"Polled"}}`)
		if r.status != 200 {
			t.Fatalf("group: %d %s", r.status, r.raw)
		}
		poll()
		if pg {
			close(release)
			if err := <-held; err != nil {
				t.Fatal(err)
			}
		} else if err := ts.app.db.Events().Append(ctx, early); err != nil {
			t.Fatal(err)
		}
		evs, _, err := c.SystemLogAPI.ListLogEvents(ctx).Since(start).Until(time.Now().Add(time.Minute)).Filter(`eventType eq "group.lifecycle.create"`).Execute()
		if err != nil || len(evs) != 2 || evs[0].GetUuid() != "held-event" {
			t.Fatalf("bounded request, published order: %v %d", err, len(evs))
		}
		created := evs[1].GetUuid()
		want := func(col *collector) []string {
			if col.name == `target.id eq "00gheldgroup"` {
				return []string{"held-event"}
			}
			return []string{"held-event", created}
		}
		// PostgreSQL: a poll waits for the transactions that were running
		// before (the job runner's too): poll until caught up.
		for deadline := time.Now().Add(10 * time.Second); ; {
			poll()
			caught := true
			for _, col := range collectors {
				for _, w := range want(col) {
					caught = caught && col.seen[w] > 0
				}
			}
			if caught || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, col := range collectors {
			for _, w := range want(col) {
				if col.seen[w] != 1 {
					t.Errorf("%q: saw %s %d times", col.name, w, col.seen[w])
				}
			}
			for u, n := range col.seen {
				if n != 1 {
					t.Errorf("%q: saw %s %d times", col.name, u, n)
				}
			}
		}
	})
}

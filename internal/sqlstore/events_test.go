package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// TestEventFilters: the System Log's filters on SQLite and PostgreSQL,
// newest first with the cursor, target.id through event_targets (also for
// events written before migration 8, which the migration indexes).
func TestEventFilters(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "gatehouse.db")
			if pg {
				dsn = storetest.PostgresURL(t)
			}
			db, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.MigrateUpTo(ctx, 7); err != nil {
				t.Fatal(err)
			}
			base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			// Two events as Gatehouse wrote them before event_targets.
			for i, body := range []string{
				`{"uuid":"old-1","eventType":"user.session.start","target":[{"id":"00uold","type":"User"}],"outcome":{"result":"SUCCESS"}}`,
				`{"uuid":"old-2","eventType":"user.lifecycle.create","target":null,"outcome":{"result":"SUCCESS"}}`,
			} {
				if err := db.Exec(ctx, `INSERT INTO events (uuid, published, event_type, severity, actor_id, outcome, target_ids, body) VALUES (?, ?, ?, 'INFO', 'a', 'SUCCESS', ' 00uold ', ?)`,
					fmt.Sprintf("old-%d", i+1), base.UnixMilli(), "user.session.start", body); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var evs []audit.Event
			for i := range 30 {
				ev := audit.Event{UUID: fmt.Sprintf("new-%02d", i), Published: base.Add(time.Duration(i) * time.Minute), EventType: "user.session.start",
					Severity: audit.Info, Actor: audit.Actor{ID: "00uactor"}, Outcome: audit.Outcome{Result: audit.Success},
					Target: []audit.Target{{ID: "00uold", Type: "User"}}}
				if i%3 == 0 {
					ev.EventType, ev.Outcome.Result = "user.account.update_profile", audit.Failure
					// The same id twice is indexed once.
					ev.Target = append(ev.Target, audit.Target{ID: "0oaapp", Type: "AppInstance"}, audit.Target{ID: "0oaapp", Type: "AppInstance"})
				}
				evs = append(evs, ev)
			}
			if err := db.Events().AppendBatch(ctx, evs); err != nil {
				t.Fatal(err)
			}
			query := func(f string, after string, limit int) ([]audit.Event, string) {
				t.Helper()
				q := audit.Query{Limit: limit, After: after, Descending: true}
				if f != "" {
					e, err := filter.Parse(f, filter.Options{})
					if err != nil {
						t.Fatal(err)
					}
					q.Filter = e
				}
				out, next, err := db.Events().Query(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				return out, next
			}
			// target.id: the old event and the 30 new ones.
			all, _ := query(`target.id eq "00uold"`, "", 100)
			if len(all) != 31 || all[0].UUID != "new-29" || all[30].UUID != "old-1" {
				t.Fatalf("target 00uold: %d events, first %v", len(all), uuids(all))
			}
			apps, _ := query(`target.id eq "0oaapp"`, "", 100)
			if len(apps) != 10 || apps[0].UUID != "new-27" {
				t.Fatalf("target 0oaapp: %v", uuids(apps))
			}
			// Paging keeps the filter and the order.
			p1, next := query(`target.id eq "0oaapp" and outcome.result eq "FAILURE"`, "", 4)
			p2, _ := query(`target.id eq "0oaapp" and outcome.result eq "FAILURE"`, next, 4)
			if len(p1) != 4 || len(p2) != 4 || p1[3].UUID != "new-18" || p2[0].UUID != "new-15" {
				t.Fatalf("pages: %v %v", uuids(p1), uuids(p2))
			}
			if got, _ := query(`eventType eq "user.account.update_profile" and actor.id eq "00uactor"`, "", 100); len(got) != 10 {
				t.Fatalf("type and actor: %d", len(got))
			}
			if got, _ := query(`target.id eq "00unone"`, "", 100); len(got) != 0 {
				t.Fatalf("unknown target: %d", len(got))
			}
			// A target under an or: the event_targets subquery.
			if got, _ := query(`target.id eq "0oaapp" or eventType eq "user.lifecycle.none"`, "", 100); len(got) != 10 {
				t.Fatalf("target under or: %d", len(got))
			}
			// Events of the same millisecond keep their order of writing,
			// across pages, both ways; a bare seq (an older cursor) still
			// pages.
			same := []audit.Event{}
			for i := range 5 {
				same = append(same, audit.Event{UUID: fmt.Sprintf("same-%d", i), Published: base.Add(time.Hour), EventType: "user.session.end",
					Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}})
			}
			if err := db.Events().AppendBatch(ctx, same); err != nil {
				t.Fatal(err)
			}
			d1, next := query(`eventType eq "user.session.end"`, "", 2)
			d2, _ := query(`eventType eq "user.session.end"`, next, 10)
			if got := append(uuids(d1), uuids(d2)...); fmt.Sprint(got) != "[same-4 same-3 same-2 same-1 same-0]" {
				t.Fatalf("same millisecond, newest first: %v", got)
			}
			asc, next, err := db.Events().Query(ctx, audit.Query{Limit: 2, Since: base.Add(30 * time.Minute)})
			if err != nil || fmt.Sprint(uuids(asc)) != "[same-0 same-1]" {
				t.Fatalf("ascending: %v %v", err, uuids(asc))
			}
			_, seqPart, _ := strings.Cut(next, ".")
			more, _, err := db.Events().Query(ctx, audit.Query{Limit: 10, After: seqPart})
			if err != nil || fmt.Sprint(uuids(more)) != "[same-2 same-3 same-4]" {
				t.Fatalf("bare seq cursor: %v %v", err, uuids(more))
			}
			// Polling: the cursor after the last event also when none
			// follow, none on an empty page; it continues with a later
			// event.
			poll := audit.Query{Limit: 10, After: next, Polling: true}
			more, pnext, err := db.Events().Query(ctx, poll)
			if err != nil || fmt.Sprint(uuids(more)) != "[same-2 same-3 same-4]" || pnext == "" {
				t.Fatalf("polling page: %v %v %q", err, uuids(more), pnext)
			}
			if empty, enext, err := db.Events().Query(ctx, audit.Query{Limit: 10, After: pnext, Polling: true}); err != nil || len(empty) != 0 || enext != "" {
				t.Fatalf("empty polling page: %v %v %q", err, uuids(empty), enext)
			}
			if _, bnext, _ := db.Events().Query(ctx, audit.Query{Limit: 10, After: next}); bnext != "" {
				t.Fatalf("a last page that is not polled has a cursor: %q", bnext)
			}
			if err := db.Events().Append(ctx, audit.Event{UUID: "later", Published: base.Add(2 * time.Hour), EventType: "user.session.end",
				Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}}); err != nil {
				t.Fatal(err)
			}
			if later, _, err := db.Events().Query(ctx, audit.Query{Limit: 10, After: pnext, Polling: true}); err != nil || fmt.Sprint(uuids(later)) != "[later]" {
				t.Fatalf("polling after a later event: %v %v", err, uuids(later))
			}
			// An event type prefix with few matches (sorted) and with more
			// than typePrefixSort (walked in order): the same answers.
			if got, _ := query(`eventType sw "user.account."`, "", 100); len(got) != 10 || got[0].UUID != "new-27" {
				t.Fatalf("few prefix matches: %v", uuids(got))
			}
			var many []audit.Event
			for i := range 6000 {
				many = append(many, audit.Event{UUID: fmt.Sprintf("many-%04d", i), Published: base.Add(2*time.Hour + time.Duration(i)*time.Millisecond),
					EventType: "app.many.event", Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}})
			}
			if err := db.Events().AppendBatch(ctx, many); err != nil {
				t.Fatal(err)
			}
			m1, next := query(`eventType sw "app.many." and outcome.result eq "SUCCESS"`, "", 50)
			m2, _ := query(`eventType sw "app.many." and outcome.result eq "SUCCESS"`, next, 50)
			if len(m1) != 50 || m1[0].UUID != "many-5999" || len(m2) != 50 || m2[0].UUID != "many-5949" {
				t.Fatalf("many prefix matches: %v … %v", uuids(m1)[:2], uuids(m2)[:2])
			}
			if got, _ := query(`eventType sw "user.account."`, "", 100); len(got) != 10 {
				t.Fatalf("few prefix matches among many events: %d", len(got))
			}
			// Two types under one prefix merge in published order.
			var other []audit.Event
			for i := range 3 {
				other = append(other, audit.Event{UUID: fmt.Sprintf("other-%d", i), Published: base.Add(2*time.Hour + time.Duration(5990+2*i)*time.Millisecond + time.Microsecond*500),
					EventType: "app.many.other", Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}})
			}
			if err := db.Events().AppendBatch(ctx, other); err != nil {
				t.Fatal(err)
			}
			mixed, _ := query(`eventType sw "app.many"`, "", 8)
			if got := fmt.Sprint(uuids(mixed)); got != "[many-5999 many-5998 many-5997 many-5996 many-5995 other-2 many-5994 many-5993]" {
				for _, e := range mixed {
					t.Log(e.UUID, e.Published.UnixMicro())
				}
				t.Fatalf("merged types: %s", got)
			}
			if got, _ := query(`eventType sw "app.none."`, "", 8); len(got) != 0 {
				t.Fatalf("no such prefix: %d", len(got))
			}
			for _, bad := range []string{"x", "1.y", "999999"} {
				if _, _, err := db.Events().Query(ctx, audit.Query{Limit: 10, After: bad}); err == nil {
					t.Errorf("cursor %q accepted", bad)
				}
			}
		})
	}
}

func uuids(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.UUID
	}
	return out
}

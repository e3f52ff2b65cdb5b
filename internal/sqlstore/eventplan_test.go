package sqlstore_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// pgSort matches a Sort node of a PostgreSQL plan (not the sort key of a
// Merge Append, which merges ordered inputs).
var pgSort = regexp.MustCompile(`(?m)^\s*(->\s+)?(Incremental )?Sort\s+\(`)

// TestEventPollingPlans: every polling page is read in commit order from
// an index and never sorts its matches, on SQLite and on PostgreSQL, with
// and without a cursor; a rare event type, actor, outcome or target is
// read through its own commit-order index (migration 16).
func TestEventPollingPlans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		pg := db.Dialect() == sqlstore.Postgres
		ctx := context.Background()
		base := time.Now().Add(-2 * time.Hour)
		var evs []audit.Event
		for i := range 4000 {
			e := ev(fmt.Sprintf("e-%d", i), base.Add(time.Duration(i)*time.Second), fmt.Sprintf("app.type%d.event", i%40))
			e.Actor.ID = fmt.Sprintf("00uactor%d", i%50)
			e.Target = []audit.Target{{ID: fmt.Sprintf("00utarget%d", i%60), Type: "User"}}
			if i%500 == 0 {
				e.EventType, e.Outcome.Result = "user.rare.event", audit.Failure
				e.Actor.ID, e.Target[0].ID = "00urare", "00urare"
			}
			evs = append(evs, e)
		}
		for i := 0; i < len(evs); i += 20 { // one transaction each
			if err := db.Events().AppendBatch(ctx, evs[i:i+20]); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if !pg {
			// PRAGMA optimize analyzes only tables it finds worth it.
			if err := db.Exec(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		index := func(sqlite, postgres string) string {
			if pg {
				return postgres
			}
			return sqlite
		}
		for _, c := range []struct{ filter, index string }{
			{"", index("INTEGER PRIMARY KEY", "events_commit")},
			{`eventType eq "user.rare.event"`, index("events_type_seq", "events_type_commit")},
			{`eventType sw "app.type1"`, index("events_type_seq", "")},
			{`actor.id eq "00urare"`, index("events_actor_seq", "events_actor_commit")},
			{`outcome.result eq "FAILURE"`, index("events_outcome_seq", "events_outcome_commit")},
			{`target.id eq "00urare"`, index("event_targets_seq", "event_targets_commit")},
			{`target.id eq "00urare" and eventType eq "user.rare.event"`, index("event_targets_seq", "event_targets_commit")},
			{`severity eq "INFO"`, index("INTEGER PRIMARY KEY", "events_commit")},
		} {
			for _, after := range []string{"", "c0.5"} {
				q := audit.Query{Limit: 100, Since: base.Add(30 * time.Minute), After: after, Polling: true}
				if c.filter != "" {
					var err error
					if q.Filter, err = filter.Parse(c.filter, filter.Options{}); err != nil {
						t.Fatal(err)
					}
				}
				plan, err := db.Events().ExplainEvents(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				merged := strings.Contains(plan, "MERGE (UNION ALL)") || strings.Contains(plan, "Merge Append")
				switch {
				case !strings.Contains(plan, c.index):
					t.Errorf("%s (after %q): not through %s:\n%s", c.filter, after, c.index, plan)
				case pg && pgSort.MatchString(plan), pg && strings.Contains(plan, "Seq Scan"):
					t.Errorf("%s (after %q): sorts or scans:\n%s", c.filter, after, plan)
				case !pg && strings.Contains(plan, "TEMP B-TREE") && !merged, !pg && strings.Contains(plan, "SCAN events"):
					// The arms of a merged prefix are sorted by the merge, at most a page each.
					t.Errorf("%s (after %q): sorts or scans:\n%s", c.filter, after, plan)
				}
			}
		}
	})
}

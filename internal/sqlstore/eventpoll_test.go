package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// poller follows a System Log polling request's cursor, as a collector
// does, and counts every event it is given.
type poller struct {
	name  string
	q     audit.Query
	seen  map[string]int
	order []string
}

func newPoller(t *testing.T, name, f, q string, since time.Time) *poller {
	t.Helper()
	p := &poller{name: name, q: audit.Query{Limit: 2, Since: since, Q: q, Polling: true}, seen: map[string]int{}}
	if f != "" {
		e, err := filter.Parse(f, filter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p.q.Filter = e
	}
	return p
}

// poll reads pages until one is not full, as a collector that catches up
// and then waits.
func (p *poller) poll(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	for {
		evs, next, err := db.Events().Query(context.Background(), p.q)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		for _, e := range evs {
			p.seen[e.UUID]++
			p.order = append(p.order, e.UUID)
		}
		if next != "" {
			p.q.After = next
		}
		if len(evs) < p.q.Limit {
			return
		}
	}
}

// check asserts that the poller saw exactly want, each once.
func (p *poller) check(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if p.seen[w] != 1 {
			t.Errorf("%s: saw %s %d times (saw %v)", p.name, w, p.seen[w], p.order)
		}
	}
	if len(p.order) != len(want) {
		t.Errorf("%s: saw %v, want each of %v once", p.name, p.order, want)
	}
}

// TestEventPollingCommitOrder: a System Log poller sees every event exactly
// once although events commit in another order than they are published
// (and, on PostgreSQL, than their sequence numbers): an event published
// earlier than one already polled, and on PostgreSQL a transaction that
// holds its event while a later one commits and is polled, then commits.
// Every filter that has an index of its own, and the others, poll alike.
// Published order and the older cursors keep working.
func TestEventPollingCommitOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		pg := db.Dialect() == sqlstore.Postgres
		ctx := context.Background()
		base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
		// Old events, before since (and more than pollSlack before it).
		var old []audit.Event
		for i := range 5 {
			old = append(old, ev(fmt.Sprintf("old-%d", i), base.Add(-time.Hour), "user.session.start"))
		}
		if err := db.Events().AppendBatch(ctx, old); err != nil {
			t.Fatal(err)
		}
		pollers := []*poller{
			newPoller(t, "all", "", "", base),
			newPoller(t, "type", `eventType eq "user.session.start"`, "", base),
			newPoller(t, "type prefix", `eventType sw "user.session."`, "", base),
			newPoller(t, "actor", `actor.id eq "00uactor"`, "", base),
			newPoller(t, "outcome", `outcome.result eq "SUCCESS"`, "", base),
			newPoller(t, "target", `target.id eq "00utarget"`, "", base),
			newPoller(t, "target and type", `target.id eq "00utarget" and eventType eq "user.session.start"`, "", base),
			newPoller(t, "severity", `severity eq "INFO"`, "", base),
			newPoller(t, "q", "", "gatehouse", base),
		}
		pollAll := func() {
			for _, p := range pollers {
				p.poll(t, db)
			}
		}
		pollAll()
		want := []string{}
		appendOne := func(e audit.Event) {
			t.Helper()
			if err := db.Events().Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			want = append(want, e.UUID)
		}
		// Three events, polled; then one published before them commits.
		for i := range 3 {
			appendOne(ev(fmt.Sprintf("late-%d", i), base.Add(time.Duration(10+i)*time.Second), "user.session.start"))
		}
		pollAll()
		appendOne(ev("early", base.Add(5*time.Second), "user.session.start"))
		pollAll()

		// A transaction holds its event while a later event commits
		// (PostgreSQL; on SQLite the later one waits for the writer).
		held, release, heldDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			heldDone <- db.InTx(ctx, func(tx *sqlstore.Tx) error {
				if err := tx.Append(ev("held", base.Add(20*time.Second), "user.session.start")); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		laterDone := make(chan error, 1)
		go func() {
			laterDone <- db.Events().Append(ctx, ev("after-held", base.Add(21*time.Second), "user.session.start"))
		}()
		if pg {
			if err := <-laterDone; err != nil {
				t.Fatal(err)
			}
		}
		pollAll()
		close(release)
		if err := <-heldDone; err != nil {
			t.Fatal(err)
		}
		if !pg {
			if err := <-laterDone; err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, "held", "after-held")
		pollAll()
		// The group-commit writer too.
		if err := db.EventLog().Append(ctx, ev("logged", base.Add(time.Second), "user.session.start")); err != nil {
			t.Fatal(err)
		}
		want = append(want, "logged")
		pollAll()
		for _, p := range pollers {
			p.check(t, want...)
		}

		// Published order stays for a bounded and a descending request.
		all, _, err := db.Events().Query(ctx, audit.Query{Limit: 100, Since: base, Until: base.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(uuids(all), " "); got != "logged early late-0 late-1 late-2 held after-held" {
			t.Fatalf("published order: %s", got)
		}
		desc, dnext, err := db.Events().Query(ctx, audit.Query{Limit: 2, Descending: true})
		if err != nil || strings.Join(uuids(desc), " ") != "after-held held" || dnext == "" {
			t.Fatalf("descending: %v %v %q", err, uuids(desc), dnext)
		}
		// A published-order cursor (a poller's next link from an older
		// version) continues a polling request after the same event; a
		// polling cursor continues a bounded one.
		bounded, bnext, err := db.Events().Query(ctx, audit.Query{Limit: 2, Since: base, Until: base.Add(time.Minute)})
		if err != nil || bnext == "" || strings.Join(uuids(bounded), " ") != "logged early" {
			t.Fatalf("bounded: %v %v %q", err, uuids(bounded), bnext)
		}
		_, seqPart, _ := strings.Cut(bnext, ".")
		for _, c := range []string{bnext, seqPart} {
			cont, _, err := db.Events().Query(ctx, audit.Query{Limit: 100, After: c, Polling: true})
			if err != nil || len(cont) == 0 || cont[len(cont)-1].UUID != "logged" {
				t.Fatalf("polling after older cursor %q: %v %v", c, err, uuids(cont))
			}
			for _, e := range cont {
				if e.UUID == "early" {
					t.Fatalf("polling after older cursor %q repeats its event: %v", c, uuids(cont))
				}
			}
		}
		first, pnext, err := db.Events().Query(ctx, audit.Query{Limit: 1, Since: base, Polling: true})
		if err != nil || len(first) != 1 || !strings.HasPrefix(pnext, "c") {
			t.Fatalf("polling cursor: %v %v %q", err, uuids(first), pnext)
		}
		if rest, _, err := db.Events().Query(ctx, audit.Query{Limit: 100, After: pnext, Since: base, Until: base.Add(time.Minute)}); err != nil {
			t.Fatalf("bounded after a polling cursor: %v", err)
		} else if len(rest) == 0 || rest[len(rest)-1].UUID != "after-held" {
			t.Fatalf("bounded after a polling cursor: %v", uuids(rest))
		}
		for _, bad := range []string{"c", "c1", "cx.1", "c1.-2", "c-1.2", "x", "1.y", "999999"} {
			for _, polling := range []bool{true, false} {
				_, _, err := db.Events().Query(ctx, audit.Query{Limit: 10, After: bad, Polling: polling})
				var e *errs.Error
				if !errors.As(err, &e) || e.Code != "E0000054" {
					t.Errorf("cursor %q (polling %v): %v", bad, polling, err)
				}
			}
		}
		if pg {
			// A transaction open in another database of the server does
			// not hold polling back.
			other, err := sql.Open("pgx", storetest.PostgresAdminURL())
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			otx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var x string
			if err := otx.QueryRowContext(ctx, "SELECT pg_current_xact_id()::text").Scan(&x); err != nil {
				t.Fatal(err)
			}
			appendOne(ev("beside-other-db", base.Add(30*time.Second), "user.session.start"))
			pollAll()
			otx.Rollback()
			for _, p := range pollers {
				if p.seen["beside-other-db"] != 1 {
					t.Errorf("%s: an event waited for a transaction of another database (xid %s): %v", p.name, x, p.order)
				}
			}
		}
	})
}

func ev(uuid string, published time.Time, typ string) audit.Event {
	return audit.Event{UUID: uuid, Published: published, EventType: typ, Severity: audit.Info, DisplayMessage: "Gatehouse " + uuid,
		Actor: audit.Actor{ID: "00uactor"}, Outcome: audit.Outcome{Result: audit.Success}, Target: []audit.Target{{ID: "00utarget", Type: "User"}}}
}

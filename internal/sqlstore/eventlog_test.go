package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func logEvent(i int64, typ string) audit.Event {
	return audit.Event{UUID: fmt.Sprintf("00000000-0000-7000-8000-%012d", i), Published: time.Now().UTC(), EventType: typ,
		Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}, Target: []audit.Target{{ID: fmt.Sprint(i)}}}
}

func countEvents(t *testing.T, db *sqlstore.DB, typ string) map[string]int {
	t.Helper()
	evs, _, err := db.Events().Query(context.Background(), audit.Query{Limit: 100000,
		Filter: &filter.Compare{Attr: "eventType", Op: filter.OpEq, Value: filter.StringValue(typ)}})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range evs {
		n[e.UUID]++
	}
	return n
}

// TestEventLogGroupCommit: concurrent appends all return after their
// event is committed, each exactly once; a failing event (a duplicate
// uuid) fails alone.
func TestEventLogGroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		l := db.EventLog()
		var wg sync.WaitGroup
		var failed atomic.Int64
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					id := int64(w*25 + i)
					if err := l.Append(context.Background(), logEvent(id, "test.group")); err != nil {
						t.Error(err)
					}
					if i == 10 { // the same uuid again: refused, alone
						if err := l.Append(context.Background(), logEvent(id, "test.group")); err == nil {
							failed.Add(1)
						}
					}
				}
			}(w)
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Errorf("%d duplicate events were accepted", failed.Load())
		}
		got := countEvents(t, db, "test.group")
		if len(got) != 400 {
			t.Errorf("%d events stored, want 400", len(got))
		}
		for u, n := range got {
			if n != 1 {
				t.Errorf("event %s stored %d times", u, n)
			}
		}
	})
}

// TestEventLogCloseLosesNothing closes the database while appends are
// under way: every append that returned nil is stored, later ones are
// refused with ErrLogClosed.
func TestEventLogCloseLosesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dir+"/g.db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l := db.EventLog()
	var acked sync.Map
	var next, refused atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id := next.Add(1)
				err := l.Append(ctx, logEvent(id, "test.close"))
				if errors.Is(err, sqlstore.ErrLogClosed) {
					refused.Add(1)
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				acked.Store(fmt.Sprintf("00000000-0000-7000-8000-%012d", id), true)
			}
		}()
	}
	for countAcked(&acked) < 200 {
		time.Sleep(time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if refused.Load() != 8 {
		t.Errorf("%d appenders were refused after close, want 8", refused.Load())
	}
	db2, err := sqlstore.Open(ctx, dir+"/g.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got := countEvents(t, db2, "test.close")
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		if got[k.(string)] != 1 {
			t.Errorf("acknowledged event %s stored %d times", k, got[k.(string)])
		}
		return true
	})
	t.Logf("%d events acknowledged before close, %d stored", n, len(got))
}

func countAcked(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return true })
	return n
}

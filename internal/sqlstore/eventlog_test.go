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
	"github.com/gatehouse/gatehouse/internal/inflight"
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

// TestEventLogWaitsForRequestsInProgress: with the server's count of
// requests, the writer holds a commit while another request is still in
// progress, and that request's event shares it; a lone event is committed
// without waiting.
func TestEventLogWaitsForRequestsInProgress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		sqlstore.SetGroupWait(t, 10*time.Second)
		busy := &inflight.Counter{}
		l := db.EventLog()
		l.SetBusy(busy)
		ctx := context.Background()

		start := time.Now()
		lone, end := busy.Begin(ctx)
		if err := l.Append(lone, logEvent(1, "test.wait")); err != nil {
			t.Fatal(err)
		}
		end()
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a lone event took %v: the writer waited for its own request", d)
		}

		c0, e0 := l.Counts()
		first, endFirst := busy.Begin(ctx)
		second, endSecond := busy.Begin(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Append(first, logEvent(2, "test.wait")); endFirst() }()
		select {
		case err := <-done:
			t.Fatalf("the first event was committed (err %v) while another request was in progress", err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := l.Append(second, logEvent(3, "test.wait")); err != nil {
			t.Fatal(err)
		}
		endSecond()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		c1, e1 := l.Counts()
		if c1-c0 != 1 || e1-e0 != 2 {
			t.Errorf("%d commits holding %d events, want the two events in one commit", c1-c0, e1-e0)
		}
		if n := busy.N(); n != 0 {
			t.Errorf("%d requests counted after all ended, want 0", n)
		}
	})
}

// BenchmarkEventCommit measures the CPU of committing sign-on events on
// SQLite, k events per transaction, as the group-commit writer does.
// An event here is shaped like an SSO event: actor, two targets, client.
func BenchmarkEventCommit(b *testing.B) {
	for _, k := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("group-%d", k), func(b *testing.B) {
			db := storetest.SQLite(b)
			ctx := context.Background()
			var n int64
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i += k {
				err := db.InTx(ctx, func(t *sqlstore.Tx) error {
					for j := 0; j < k; j++ {
						n++
						ev := logEvent(n, "user.authentication.sso")
						ev.Actor = audit.Actor{ID: "00u1234567890abcdefg", Type: "User", AlternateID: "agent@example.com", DisplayName: "An Agent"}
						ev.Target = []audit.Target{{ID: "0oa1234567890abcdefg", Type: "AppInstance", AlternateID: "Amazon Connect"}, {ID: "00u1234567890abcdefg", Type: "User"}}
						ev.Client = audit.Client{IPAddress: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}
						if err := t.Append(ev); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/event")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/event")
		})
	}
}

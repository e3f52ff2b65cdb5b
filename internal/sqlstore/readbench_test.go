package sqlstore_test

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// BenchmarkReadBesideCommits measures an indexed one-row read on SQLite
// while sign-on events are committed beside it (one every millisecond, as
// under SSO load): each commit changes the database, which a reader's next
// transaction must notice.
func BenchmarkReadBesideCommits(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	l := db.EventLog()
	if err := l.Append(ctx, logEvent(0, "bench.read")); err != nil {
		b.Fatal(err)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); !stop.Load(); i++ {
			if err := l.Append(ctx, logEvent(i, "bench.write")); err != nil {
				b.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	q := audit.Query{Limit: 1, Filter: &filter.Compare{Attr: "eventType", Op: filter.OpEq, Value: filter.StringValue("bench.read")}}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		evs, _, err := db.Events().Query(ctx, q)
		if err != nil || len(evs) != 1 {
			b.Fatal(len(evs), err)
		}
	}
	b.StopTimer()
	// The writer's CPU is in this figure too: the reads' share of it is
	// what changes with the read path.
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	stop.Store(true)
	<-done
}

// cpuTime is the process's CPU time so far (user and system): on a shared
// machine it moves less with other work than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

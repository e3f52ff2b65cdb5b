package sqlstore

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// ErrLogClosed is returned by EventLog.Append after the database closed.
var ErrLogClosed = errors.New("sqlstore: the event log is closed")

// EventLog appends events that record no other change (a single sign-on,
// a refused request) by group commit: one goroutine writes whatever has
// queued up while the previous transaction ran, up to maxGroup events, in
// one transaction. Append returns only once its event is committed, so a
// caller that answers after Append has its answer on record; there is no
// timer, so a lone event waits for nothing but its own commit, and under
// load an event waits for the transaction before its own and for the
// goroutines that were ready to run when it arrived. With SetBusy, the
// writer also waits, at most groupWait, while other requests are still in
// progress: they are about to queue their events, and a transaction costs
// about twice an event (BenchmarkEventCommit). Close
// (DB.Close calls it) lets every queued event commit before it returns.
// Never call Append inside a transaction of the same database: on SQLite
// the writer's one connection belongs to that transaction until it ends.
type EventLog struct {
	db   *DB
	busy atomic.Pointer[busyRef]
	// commits and events count the transactions written and the events
	// they held (Counts).
	commits, events atomic.Int64
	queue           chan *queuedEvent
	mu              sync.RWMutex // held for reading while enqueueing, for writing by Close
	shut            bool
	done            chan struct{}
}

type queuedEvent struct {
	ev  audit.Event
	err chan error
}

const maxGroup = 256

// Busy counts the requests in progress (inflight.Counter).
type Busy interface {
	// Aside stops counting ctx's request until back is called.
	Aside(ctx context.Context) (back func())
	// N is the number of requests in progress and not aside.
	N() int64
	// Wait returns as soon as ready reports true, at the latest after limit.
	Wait(ctx context.Context, limit time.Duration, ready func() bool) bool
}

type busyRef struct{ Busy }

// groupWait bounds the writer's wait for requests in progress: about two
// responses' work on one core. Under SSO load on one core it took the mean
// group from 2.8 to 4.1-4.4 events (docs/benchmarks.md).
var groupWait = 2 * time.Millisecond

// SetBusy gives the log the server's count of requests in progress: a
// request waiting in Append is aside, and the writer waits for the others
// (at most groupWait) so that their events share its commit.
func (l *EventLog) SetBusy(b Busy) { l.busy.Store(&busyRef{b}) }

// EventLog returns the database's group-commit event log, starting it on
// first use.
func (db *DB) EventLog() *EventLog {
	db.logOnce.Do(func() {
		db.log = &EventLog{db: db, queue: make(chan *queuedEvent, maxGroup), done: make(chan struct{})}
		go db.log.run()
	})
	return db.log
}

// Append writes ev durably (in a transaction of its own or shared with
// other queued events) and returns once it is committed.
func (l *EventLog) Append(ctx context.Context, ev audit.Event) error {
	q := &queuedEvent{ev: ev, err: make(chan error, 1)}
	l.mu.RLock()
	if l.shut {
		l.mu.RUnlock()
		return ErrLogClosed
	}
	select {
	case l.queue <- q:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the event is written whatever happens to ctx: wait for
	// the outcome, so that a caller never reports as lost an event that
	// was in fact recorded. The request is aside meanwhile (after it has
	// queued, so that a writer seeing no request left finds its event).
	if b := l.busy.Load(); b != nil {
		defer b.Aside(ctx)()
	}
	return <-q.err
}

// Close stops taking events (Append then returns ErrLogClosed) and returns
// when every queued event is written. DB.Close calls it.
func (l *EventLog) Close() {
	l.mu.Lock()
	if !l.shut {
		l.shut = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.done
}

func (l *EventLog) run() {
	defer close(l.done)
	group := make([]*queuedEvent, 0, maxGroup)
	for q := range l.queue {
		group = append(group[:0], q)
		// Let the goroutines that are ready to run go first: on a busy
		// server they are other responses about to queue their events,
		// which then share this commit (a transaction costs about twice
		// an event here). Idle, nothing else is runnable and Gosched
		// returns at once, so a lone event still waits for nothing.
		runtime.Gosched()
		if b := l.busy.Load(); b != nil {
			b.Wait(context.Background(), groupWait, func() bool { return b.N() == 0 })
		}
	fill:
		for len(group) < maxGroup {
			select {
			case q, ok := <-l.queue:
				if !ok {
					break fill
				}
				group = append(group, q)
			default:
				break fill
			}
		}
		l.write(group)
	}
}

// Counts returns the transactions the writer has committed and the events
// they held: their ratio is the mean size of a commit group.
func (l *EventLog) Counts() (commits, events int64) { return l.commits.Load(), l.events.Load() }

// write commits a group in one transaction; if that fails, each event is
// tried on its own so that one bad event does not take the others with it.
func (l *EventLog) write(group []*queuedEvent) {
	ctx := context.Background()
	err := l.db.InTx(ctx, func(t *Tx) error {
		for _, q := range group {
			if err := t.Append(q.ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		l.commits.Add(1)
		l.events.Add(int64(len(group)))
	}
	if err == nil || len(group) == 1 {
		for _, q := range group {
			q.err <- err
		}
		return
	}
	for _, q := range group {
		err := l.db.InTx(ctx, func(t *Tx) error { return t.Append(q.ev) })
		if err == nil {
			l.commits.Add(1)
			l.events.Add(1)
		}
		q.err <- err
	}
}

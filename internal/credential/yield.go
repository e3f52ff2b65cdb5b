package credential

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Hashes give way to other work. A hash holds a CPU for 15-50 ms, and the
// kernel shares a CPU evenly between the threads that want it, so under a
// flood of sign-ins every other request (a person already signed in
// opening an app) would get at most half of the CPU its hashes run on. A
// Hasher therefore counts the requests in progress that are not hashing
// (those marked by Foreground) and starts a hash, once it has a slot, only
// while fewer of them are running than there are slots free of hashes, or
// when it has waited as long as the last hash took. Other requests get
// first call on the CPU; sign-ins are never starved (a slot computes at
// least half of the time), and on a server with nothing else to do a hash
// starts at once.

// yieldFactor bounds a hash's wait for other work, as a multiple of the
// time the last hash took.
const yieldFactor = 1

// maxYield caps that wait whatever the last hash took.
const maxYield = 250 * time.Millisecond

type yielder struct {
	slots   int64
	fg      atomic.Int64 // requests in progress that are not hashing
	hashing atomic.Int64 // hashes computing now
	lastNS  atomic.Int64 // how long the last hash took
	waiters atomic.Int64

	mu   sync.Mutex
	free chan struct{} // closed when fg falls while hashes wait
}

func newYielder(slots int) *yielder {
	return &yielder{slots: int64(slots), free: make(chan struct{})}
}

// foreground is the mark of one request, carried by its context.
type foreground struct {
	y *yielder
	// hashing counts the request's hashes waiting or computing; while it
	// is above zero the request is not counted in fg.
	hashing atomic.Int32
	done    atomic.Bool
}

type foregroundKey struct{}

// Foreground marks the work of ctx as a request that hashes give way to,
// until done is called. A request that then hashes through this Hasher is
// not counted while it waits for or computes its hash.
func (h *Hasher) Foreground(ctx context.Context) (_ context.Context, done func()) {
	f := &foreground{y: h.yield}
	h.yield.fg.Add(1)
	return context.WithValue(ctx, foregroundKey{}, f), func() {
		if f.done.Swap(true) {
			return
		}
		if f.hashing.Load() == 0 {
			f.y.leave()
		}
	}
}

// leave takes one request out of fg and wakes hashes waiting for it.
func (y *yielder) leave() {
	y.fg.Add(-1)
	if y.waiters.Load() > 0 {
		y.mu.Lock()
		close(y.free)
		y.free = make(chan struct{})
		y.mu.Unlock()
	}
}

// startHash takes ctx's request, if marked, out of the foreground count.
func (y *yielder) startHash(ctx context.Context) *foreground {
	f, _ := ctx.Value(foregroundKey{}).(*foreground)
	if f == nil || f.y != y {
		return nil
	}
	if f.hashing.Add(1) == 1 && !f.done.Load() {
		y.leave()
	}
	return f
}

// endHash counts f's request in the foreground again.
func (y *yielder) endHash(f *foreground) {
	if f != nil && f.hashing.Add(-1) == 0 && !f.done.Load() {
		y.fg.Add(1)
	}
}

// clear reports whether a hash may start now.
func (y *yielder) clear() bool { return y.fg.Load()+y.hashing.Load() < y.slots }

// wait returns when a hash may start: when clear, or after the wait that
// the last hash's duration allows, or when ctx ends.
func (y *yielder) wait(ctx context.Context) {
	if y.clear() {
		return
	}
	limit := min(time.Duration(y.lastNS.Load())*yieldFactor, maxYield)
	if limit <= 0 {
		return
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		y.waiters.Add(1)
		y.mu.Lock()
		free := y.free
		y.mu.Unlock()
		if y.clear() {
			y.waiters.Add(-1)
			return
		}
		select {
		case <-free:
			y.waiters.Add(-1)
			if y.clear() {
				return
			}
		case <-timer.C:
			y.waiters.Add(-1)
			return
		case <-ctx.Done():
			y.waiters.Add(-1)
			return
		}
	}
}

// slot is a hashing slot held by one hash.
type slot struct {
	f     *foreground
	start time.Time
}

package credential

import (
	"context"
	"sync/atomic"
	"time"
)

// Hashes give way to other work. A hash holds a CPU for 15-50 ms, and the
// kernel shares a CPU evenly between the threads that want it, so under a
// flood of sign-ins every other request (a person already signed in
// opening an app) would get at most half of the CPU its hashes run on.
// Given the server's count of requests in progress (Config.Busy), a hash
// that has its slot starts only while fewer requests are running than
// there are slots free of hashes, or once it has waited as long as the
// last hash took. Other requests get first call on the CPU; sign-ins are
// never starved (a slot computes at least half of the time), and on a
// server with nothing else to do a hash starts at once. A request steps
// aside from the count while it waits for or computes a hash.

// Busy counts the requests in progress that hashes give way to
// (inflight.Counter).
type Busy interface {
	// Aside stops counting ctx's request until back is called.
	Aside(ctx context.Context) (back func())
	// N is the number of requests in progress and not aside.
	N() int64
	// Wait returns as soon as ready reports true, at the latest after limit.
	Wait(ctx context.Context, limit time.Duration, ready func() bool) bool
}

// yieldFactor bounds a hash's wait for other work, as a multiple of the
// time the last hash took.
const yieldFactor = 1

// maxYield caps that wait whatever the last hash took.
const maxYield = 250 * time.Millisecond

type yielder struct {
	busy    Busy // nil: hashes never wait for other work
	slots   int64
	hashing atomic.Int64 // hashes computing now
	lastNS  atomic.Int64 // how long the last hash took
}

// clear reports whether a hash may start now.
func (y *yielder) clear() bool { return y.busy.N()+y.hashing.Load() < y.slots }

// wait returns when a hash may start: when clear, or after the wait that
// the last hash's duration allows, or when ctx ends.
func (y *yielder) wait(ctx context.Context) {
	if y.busy == nil {
		return
	}
	limit := min(time.Duration(y.lastNS.Load())*yieldFactor, maxYield)
	y.busy.Wait(ctx, limit, y.clear)
}

// slot is a hashing slot held by one hash.
type slot struct {
	back  func() // counts the request again
	start time.Time
}

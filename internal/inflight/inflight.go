// Package inflight counts the requests a server is working on, so that
// work that can wait gives way to them: a password hash waits while other
// requests run (credential), and the event log's writer waits for the
// events of requests about to finish so that they share one commit
// (sqlstore). A request steps aside while it waits for such a resource,
// and is then not counted: the count is of requests that want the CPU.
//
// The package is domain code: it knows nothing of HTTP or storage.
package inflight

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Counter counts requests in progress. The zero value is ready to use.
type Counter struct {
	n       atomic.Int64
	waiters atomic.Int64

	mu      sync.Mutex
	changed chan struct{} // closed at the next decrement while waiters > 0
}

// request is the mark of one request, carried by its context.
type request struct {
	c *Counter
	// aside counts the request's waits in progress; while it is above
	// zero the request is not counted.
	aside atomic.Int32
	ended atomic.Bool
}

type key struct{}

// Begin counts a request until end is called, and returns its context,
// which Aside recognises. end may be called more than once.
func (c *Counter) Begin(ctx context.Context) (_ context.Context, end func()) {
	r := &request{c: c}
	c.n.Add(1)
	return context.WithValue(ctx, key{}, r), func() {
		if !r.ended.Swap(true) && r.aside.Load() == 0 {
			c.down()
		}
	}
}

// Aside stops counting ctx's request until back is called: call it before
// waiting for something that is not the CPU. A context not begun by c is
// not affected. Asides of one request may nest or overlap.
func (c *Counter) Aside(ctx context.Context) (back func()) {
	r, _ := ctx.Value(key{}).(*request)
	if r == nil || r.c != c {
		return func() {}
	}
	if r.aside.Add(1) == 1 && !r.ended.Load() {
		c.down()
	}
	return func() {
		if r.aside.Add(-1) == 0 && !r.ended.Load() {
			c.n.Add(1)
		}
	}
}

// N returns the number of requests in progress and not aside.
func (c *Counter) N() int64 { return c.n.Load() }

func (c *Counter) down() {
	c.n.Add(-1)
	if c.waiters.Load() > 0 {
		c.mu.Lock()
		if c.changed != nil {
			close(c.changed)
			c.changed = nil
		}
		c.mu.Unlock()
	}
}

// Wait returns true as soon as ready reports true, checking it now and at
// each fall of the count; it returns false after limit, or when ctx ends.
func (c *Counter) Wait(ctx context.Context, limit time.Duration, ready func() bool) bool {
	if ready() {
		return true
	}
	if limit <= 0 {
		return false
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	c.waiters.Add(1)
	defer c.waiters.Add(-1)
	for {
		c.mu.Lock()
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		changed := c.changed
		c.mu.Unlock()
		if ready() {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return ready()
		case <-ctx.Done():
			return ready()
		}
	}
}

package credential

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Hashes run on the Hasher's own worker goroutines, each locked to an OS
// thread whose nice value is raised to 19, the lowest priority, for as long
// as the thread lives. A password hash is 15-50 ms of CPU that the Go
// scheduler preempts only every 10 ms; run on a request's goroutine, every
// request that became ready meanwhile (a signed-in person's SSO, an API
// call) waited behind it. On low-priority threads the kernel runs those
// requests first and hashing takes the CPU they leave; for that the server
// keeps Go processors to spare beyond the hashing slots (cmd/gatehouse:
// GOMAXPROCS). Measured on one core with SSO at half its peak beside 40
// connections of sign-ins (docs/benchmarks.md): hashing on the callers'
// goroutines with spare processors, SSO p99 97-608 ms; on threads at
// nice 10, 104-114 ms; at nice 19, 33-50 ms, with as many sign-ins per
// second and the same CPU per sign-in without SSO load. Without processors
// to spare (GOMAXPROCS no larger than the slots) a hashing thread would
// hold the only ones and its priority would only slow everything down, so
// the Hasher then hashes on the caller's goroutine, one slot each, as a
// semaphore. The nice value cannot be lowered again without privilege, so
// a worker's thread never runs other goroutines: an idle worker exits
// after workerIdle, and its thread with it.
const (
	workerNice = 19
	workerIdle = 30 * time.Second
)

type hashJob struct {
	run   func()
	done  chan struct{}
	panic any // what run panicked with, re-raised on the caller's goroutine
}

// runJob runs j, keeping a panic for its caller (net/http recovers a
// handler's panic; on the worker it would end the process).
func runJob(j *hashJob) {
	defer func() {
		j.panic = recover()
		close(j.done)
	}()
	j.run()
}

// do runs f on a hashing worker, waiting for a free one until ctx ends.
// Once f has started, do waits for it to finish whatever ctx does.
func (h *Hasher) do(ctx context.Context, f func()) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("credential: waiting to hash: %w", err)
	}
	if !h.isolate {
		select {
		case h.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("credential: waiting to hash: %w", ctx.Err())
		}
		defer func() { <-h.sem }()
		f()
		return nil
	}
	j := &hashJob{run: f, done: make(chan struct{})}
	select {
	case h.jobs <- j: // an idle worker took it
	default:
		select {
		case h.jobs <- j:
		case h.sem <- struct{}{}: // a free slot: a new worker starts with j
			go h.worker(j)
		case <-ctx.Done():
			return fmt.Errorf("credential: waiting to hash: %w", ctx.Err())
		}
	}
	<-j.done
	if j.panic != nil {
		panic(j.panic)
	}
	return nil
}

// worker runs jobs on a low-priority thread of its own until it has been
// idle for workerIdle, then gives its slot back and exits (still locked,
// so the runtime ends the thread).
func (h *Hasher) worker(first *hashJob) {
	runtime.LockOSThread()
	lowerThreadPriority(workerNice)
	idle := time.NewTimer(h.idle)
	defer idle.Stop()
	for j := first; ; {
		runJob(j)
		idle.Reset(h.idle)
		select {
		case j = <-h.jobs:
		case <-idle.C:
			<-h.sem
			return
		}
	}
}

package main

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Garbage-collector defaults for the server. Gatehouse's live heap is small
// (a few MB: sessions, apps and the directory live in the database), while
// each request allocates a lot that dies at once: an argon2id hash takes
// 19 MiB, a signed SAML response a few hundred KB. With Go's default
// (GOGC=100) a collection then runs at nearly every sign-in, and took 8 %
// of a core under sign-in load (docs/benchmarks.md). Collecting at 400 %
// growth, under a soft limit that makes the collector work harder before
// the heap reaches 128 MiB, keeps the CPU on the work and memory bounded:
// a burst of 16 password hashes leaves 146 MB resident, returned to the
// system within five idle minutes (52 MB); a 256 MiB limit left 188 MB.
// GOGC and GOMEMLIMIT in the environment override either, as for any Go
// program.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 128 << 20
)

func tuneGC(getenv func(string) string) (restore func()) {
	gc, limit := -2, int64(-1)
	if getenv("GOGC") == "" {
		gc = debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(defaultMemoryLimit)
	}
	return func() {
		if gc != -2 {
			debug.SetGCPercent(gc)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}

// Processors for the server. A password hash is 15-50 ms of CPU, and the
// Go scheduler takes a processor from a running goroutine only every
// 10 ms: with GOMAXPROCS equal to the CPUs, as Go sets it, and one hash
// slot per processor, a flood of sign-ins held every processor and each
// request of a person already signed in waited behind hashes (one core,
// 100 SSO/s beside 40 connections of sign-ins: p99 197 ms). So while
// hashes run the server has twice Go's default processors, and the Hasher
// uses only as many slots as Go's default: requests always find a free
// processor, and the kernel interleaves their threads with the hashing
// ones in much finer slices (the same flood: p99 24-32 ms;
// docs/benchmarks.md). When no hash has run for a second the server goes
// back to Go's default: idle processors cost CPU of their own (threads
// woken to look for work), 10-20 % more per SSO response at half the
// peak rate on one core. Hashing on threads of lower priority was measured
// and not kept: it shortened the tail under a flood at high SSO rates, but
// starved sign-ins behind any other busy process on the machine. A
// GOMAXPROCS in the environment overrides all of this, and then hashes
// may take every processor.
var (
	hashSlots int        // 0: the Hasher's default, GOMAXPROCS
	hashBoost *procBoost // nil: GOMAXPROCS stays as it is
)

// boostLinger is how long the extra processors stay after the last hash.
const boostLinger = time.Second

func tuneProcs(getenv func(string) string) (restore func()) {
	if getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	hashSlots = runtime.GOMAXPROCS(0)
	hashBoost = &procBoost{linger: boostLinger, raise: func() {
		runtime.GOMAXPROCS(2 * runtime.GOMAXPROCS(0))
	}, lower: runtime.SetDefaultGOMAXPROCS}
	return func() { hashSlots, hashBoost = 0, nil; runtime.SetDefaultGOMAXPROCS() }
}

// procBoost raises the processors while hashes run (credential.Boost):
// raise when the first hash begins, lower once none has run for linger.
type procBoost struct {
	linger       time.Duration
	raise, lower func()
	after        func(time.Duration, func()) // nil: time.AfterFunc

	mu     sync.Mutex
	n      int  // hashes running
	raised bool // raise called, lower not since
	idle   int  // counts the idle spells; a timer lowers only in its own
}

func (p *procBoost) Begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if !p.raised {
		p.raise()
		p.raised = true
	}
}

func (p *procBoost) End() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.n == 0 {
		p.idle++
		spell := p.idle
		expire := func() { p.expire(spell) }
		if p.after != nil {
			p.after(p.linger, expire)
		} else {
			time.AfterFunc(p.linger, expire)
		}
	}
}

// expire lowers the processors if no hash began since idle spell began.
func (p *procBoost) expire(spell int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 && p.raised && p.idle == spell {
		p.lower()
		p.raised = false
	}
}

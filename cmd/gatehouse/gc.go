package main

import (
	"runtime"
	"runtime/debug"
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

// Processors for the server. Password hashes run on lowest-priority
// threads of the Hasher's own, at most one per CPU at a time
// (internal/credential), so that a flood of sign-ins does not delay the
// requests of people already signed in. A hashing thread holds a Go
// processor while it hashes: with GOMAXPROCS equal to the CPUs, as Go sets
// it, hashes would take every processor and leave requests waiting for the
// scheduler's 10 ms preemption, whatever the threads' priorities. The
// server therefore runs with twice Go's default (a processor per CPU for
// requests besides one per hashing slot); the kernel shares the CPUs and
// runs requests first. A GOMAXPROCS in the environment overrides this,
// and then hashes run on their callers' goroutines and may take every
// processor, as before. (Setting GOMAXPROCS also stops Go from following a
// later change of the container's CPU limit; restart the server after one.)
var hashSlots int // 0: the Hasher's default, GOMAXPROCS

func tuneProcs(getenv func(string) string) (restore func()) {
	if getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	cpus := runtime.GOMAXPROCS(0)
	hashSlots = cpus
	runtime.GOMAXPROCS(2 * cpus)
	return func() { hashSlots = 0; runtime.GOMAXPROCS(cpus) }
}

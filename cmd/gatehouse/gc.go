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

// Processors for the server. A password hash is 15-50 ms of CPU, and the
// Go scheduler takes a processor from a running goroutine only every
// 10 ms: with GOMAXPROCS equal to the CPUs, as Go sets it, and one hash
// slot per processor, a flood of sign-ins held every processor and each
// request of a person already signed in waited behind hashes (one core,
// 100 SSO/s beside 40 connections of sign-ins: p99 197 ms). The server
// therefore runs with twice Go's default and lets the Hasher use only as
// many slots as Go's default: requests always find a free processor, and
// the kernel interleaves their threads with the hashing ones in much finer
// slices (the same flood: p99 24-32 ms; docs/benchmarks.md). Hashing on
// threads of lower priority was measured and not kept: it shortened the
// tail under a flood at high SSO rates, but starved sign-ins behind any
// other busy process on the machine. A GOMAXPROCS in the environment
// overrides this, and then hashes may take every processor, as before.
// (Setting GOMAXPROCS also stops Go from following a later change of the
// container's CPU limit; restart the server after one.)
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

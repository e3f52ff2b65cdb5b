package main

import "runtime/debug"

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

package main

import (
	"runtime"
	"testing"
	"time"
)

// TestTuneProcs: without GOMAXPROCS in the environment the Hasher gets one
// slot per processor of Go's default and the processors double while a
// hash runs, back to the default a linger after the last; with GOMAXPROCS
// set, nothing changes.
func TestTuneProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	restore := tuneProcs(func(string) string { return "" })
	if got := runtime.GOMAXPROCS(0); got != before || hashSlots != before || hashBoost == nil {
		t.Fatalf("GOMAXPROCS %d, %d hash slots, boost %v; want %d, %d and a boost", got, hashSlots, hashBoost, before, before)
	}
	hashBoost.linger = 10 * time.Millisecond
	hashBoost.Begin()
	if got := runtime.GOMAXPROCS(0); got != 2*before {
		t.Fatalf("GOMAXPROCS %d while hashing, want %d", got, 2*before)
	}
	hashBoost.End()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.GOMAXPROCS(0) != before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after the linger, want %d", got, before)
	}
	restore()
	if runtime.GOMAXPROCS(0) != before || hashSlots != 0 || hashBoost != nil {
		t.Fatalf("restore left GOMAXPROCS %d, %d hash slots, boost %v", runtime.GOMAXPROCS(0), hashSlots, hashBoost)
	}
	tuneProcs(func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	})()
	if runtime.GOMAXPROCS(0) != before || hashSlots != 0 || hashBoost != nil {
		t.Fatalf("with GOMAXPROCS set: GOMAXPROCS %d, %d hash slots, boost %v", runtime.GOMAXPROCS(0), hashSlots, hashBoost)
	}
}

// TestProcBoost: raised once for overlapping hashes, kept while any runs
// and through a linger in which another hash begins, lowered once a whole
// linger passes with none. The linger's timers are fired by the test.
func TestProcBoost(t *testing.T) {
	var raises, lowers int
	var timers []func()
	p := &procBoost{linger: time.Second, raise: func() { raises++ }, lower: func() { lowers++ },
		after: func(_ time.Duration, f func()) { timers = append(timers, f) }}
	check := func(when string, r, l, n int) {
		t.Helper()
		if raises != r || lowers != l || len(timers) != n {
			t.Fatalf("%s: %d raises, %d lowers, %d timers; want %d, %d, %d", when, raises, lowers, len(timers), r, l, n)
		}
	}
	p.Begin()
	p.Begin()
	p.End()
	check("one of two hashes ended", 1, 0, 0)
	p.End()
	check("both ended", 1, 0, 1)
	p.Begin() // within the linger
	timers[0]()
	check("a hash began within the linger", 1, 0, 1)
	p.End()
	check("it ended", 1, 0, 2)
	timers[1]()
	check("a whole linger without a hash", 1, 1, 2)
	timers[1]()
	check("the same timer again", 1, 1, 2)
	p.Begin()
	check("a hash after the lowering", 2, 1, 2)
}

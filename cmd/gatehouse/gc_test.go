package main

import (
	"runtime"
	"testing"
)

// TestTuneProcs: without GOMAXPROCS in the environment the server doubles
// Go's processors and gives the Hasher one slot per original processor, so
// that hashes never hold every processor; with GOMAXPROCS set, nothing
// changes.
func TestTuneProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	restore := tuneProcs(func(string) string { return "" })
	got, slots := runtime.GOMAXPROCS(0), hashSlots
	restore()
	if got != 2*before || slots != before {
		t.Fatalf("GOMAXPROCS %d and %d hash slots, want %d and %d", got, slots, 2*before, before)
	}
	if runtime.GOMAXPROCS(0) != before || hashSlots != 0 {
		t.Fatalf("restore left GOMAXPROCS %d, %d hash slots", runtime.GOMAXPROCS(0), hashSlots)
	}
	tuneProcs(func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	})()
	if runtime.GOMAXPROCS(0) != before || hashSlots != 0 {
		t.Fatalf("with GOMAXPROCS set: GOMAXPROCS %d, %d hash slots", runtime.GOMAXPROCS(0), hashSlots)
	}
}

package main

import (
	"runtime"
	"testing"

	"github.com/gatehouse/gatehouse/internal/credential"
)

// TestTuneProcs: without GOMAXPROCS in the environment the server doubles
// Go's processors and gives the Hasher one slot per original processor, so
// that its hashes run on low-priority workers with processors to spare;
// with GOMAXPROCS set, nothing changes.
func TestTuneProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	restore := tuneProcs(func(string) string { return "" })
	got, slots := runtime.GOMAXPROCS(0), hashSlots
	h, err := credential.NewHasher(credential.Config{MaxConcurrent: hashSlots})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if got != 2*before || slots != before {
		t.Fatalf("GOMAXPROCS %d and %d hash slots, want %d and %d", got, slots, 2*before, before)
	}
	if !h.Isolated() {
		t.Fatal("the server's Hasher hashes on its callers' goroutines")
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

package main

import (
	"regexp"
	"testing"
	"time"
)

func TestNewUUIDVersion7(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		u := newUUID()
		if !re.MatchString(u) {
			t.Fatalf("%q is not a version 7 UUID", u)
		}
		if seen[u] {
			t.Fatalf("%q made twice", u)
		}
		seen[u] = true
		if u[:13] < prev { // the millisecond time prefix never goes back
			t.Fatalf("%q sorts before the previous %q", u, prev)
		}
		prev = u[:13]
		if i == 1000 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

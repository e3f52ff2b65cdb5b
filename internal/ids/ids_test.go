package ids

import (
	"sort"
	"testing"
	"time"
)

func TestNewOrdered(t *testing.T) {
	s := NewSource(nil)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var made []string
	seen := map[string]bool{}
	for i := 0; i < 3000; i++ {
		id := s.NewOrdered(User, at.Add(time.Duration(i/1000)*time.Second))
		if !Valid(id, User) {
			t.Fatalf("%q is not a valid user id", id)
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
		made = append(made, id)
	}
	// Ordered by second: every id of a later second sorts after every id of
	// an earlier one (byte order).
	for i := 1000; i < len(made); i++ {
		if made[i][:len(User)+timeDigits] <= made[i-1000][:len(User)+timeDigits] {
			t.Fatalf("%q (second %d) sorts before %q (second %d)", made[i], i/1000, made[i-1000], i/1000-1)
		}
	}
	// Within one second the order is random, not sequential.
	first := append([]string(nil), made[:1000]...)
	if sort.StringsAreSorted(first) {
		t.Fatal("ids made in one second are sequential")
	}
	if a, b := s.NewOrdered(User, at), s.NewOrdered(User, at.Add(time.Hour)); a[:9] >= b[:9] {
		t.Errorf("time part not increasing: %q, %q", a, b)
	}
}

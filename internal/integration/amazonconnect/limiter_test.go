package amazonconnect

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiterReserve(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(0, 0, clk.now) // defaults: 2/s, burst 5
	k := Key("123456789012", "us-east-1")
	for i := range 5 {
		if d := l.Reserve(k); d != 0 {
			t.Fatalf("burst token %d waits %v", i, d)
		}
	}
	// Queued reservations wait 0.5 s, 1 s, 1.5 s …
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond} {
		if d := l.Reserve(k); d != want {
			t.Fatalf("reservation %d waits %v, want %v", i, d, want)
		}
	}
	// Another account+region has its own bucket.
	if d := l.Reserve(Key("123456789012", "eu-west-2")); d != 0 {
		t.Fatalf("other region waits %v", d)
	}
	// After 10 s the bucket is full again (never above burst).
	clk.advance(10 * time.Second)
	for i := range 5 {
		if d := l.Reserve(k); d != 0 {
			t.Fatalf("refilled token %d waits %v", i, d)
		}
	}
	if d := l.Reserve(k); d != 500*time.Millisecond {
		t.Fatalf("sixth waits %v", d)
	}
	// Over a long run the rate holds: 2 per second.
	clk.advance(time.Hour)
	for range 5 {
		l.Reserve(k)
	}
	var last time.Duration
	for range 20 {
		last = l.Reserve(k)
	}
	if last != 10*time.Second {
		t.Fatalf("20 queued calls end after %v, want 10s", last)
	}
}

func TestLimiterWait(t *testing.T) {
	l := NewLimiter(50, 1, nil)
	ctx := context.Background()
	start := time.Now()
	for range 4 {
		if err := l.Wait(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 55*time.Millisecond {
		t.Fatalf("4 waits at 50/s burst 1 took %v, want >= 60ms", el)
	}
	// A cancelled wait returns the context error and gives its token back.
	slow := NewLimiter(0.5, 1, nil)
	_ = slow.Wait(ctx, "k") // takes the only token
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := slow.Wait(cctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
	if d := slow.Reserve("k"); d > 2*time.Second {
		t.Fatalf("cancelled reservation kept its token: next waits %v", d)
	}
	done, stop := context.WithCancel(ctx)
	stop()
	if err := slow.Wait(done, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	var asked []int64
	top := func(n int64) int64 { asked = append(asked, n); return n - 1 }
	b := BackoffPolicy{Base: time.Second, Cap: 10 * time.Second, Rand: top}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 60: 10 * time.Second} {
		if got := b.Backoff(attempt); got != want-1 {
			t.Errorf("attempt %d: %v, want just under %v", attempt, got, want)
		}
	}
	zero := BackoffPolicy{Rand: func(int64) int64 { return 0 }}
	if zero.Backoff(3) != 0 {
		t.Fatal("full jitter allows zero")
	}
	// Defaults: ceiling 1s, 2s, … capped at 2 minutes; real randomness stays below the ceiling.
	for attempt := 1; attempt < 40; attempt++ {
		if d := (BackoffPolicy{}).Backoff(attempt); d < 0 || d >= 2*time.Minute {
			t.Fatalf("attempt %d: %v", attempt, d)
		}
	}
}

package provisioning

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// virtualClock is a clock whose Sleep advances time instead of waiting.
// Concurrent sleeps add up, so in concurrent tests it only bounds the
// rate from below; the runner test in sqlstore measures real time.
type virtualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *virtualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return ctx.Err()
}

func TestTokenBucketsSchedule(t *testing.T) {
	c := &virtualClock{t: time.Unix(1_700_000_000, 0)}
	start := c.Now()
	l := &TokenBuckets{Rate: 2, Burst: 5, Now: c.Now, Sleep: c.Sleep}
	var got []time.Duration
	for range 9 {
		if err := l.Wait(context.Background(), "aws:1:us-east-1"); err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Now().Sub(start))
	}
	// Five at once (the burst), then one every 500ms.
	want := []time.Duration{0, 0, 0, 0, 0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("call %d returned at %v; want %v (all: %v)", i+1, got[i], want[i], got)
		}
	}
	// Another key has its own bucket.
	before := c.Now()
	if err := l.Wait(context.Background(), "aws:2:eu-west-1"); err != nil || c.Now() != before {
		t.Fatalf("separate key waited: %v", err)
	}
	// An idle bucket refills up to the burst, not beyond.
	c.Sleep(context.Background(), time.Hour)
	before = c.Now()
	for range 5 {
		l.Wait(context.Background(), "aws:1:us-east-1")
	}
	if c.Now() != before {
		t.Fatal("refilled bucket made the burst wait")
	}
	l.Wait(context.Background(), "aws:1:us-east-1")
	if c.Now().Sub(before) != 500*time.Millisecond {
		t.Fatalf("sixth call after refill waited %v", c.Now().Sub(before))
	}
}

// Concurrent waiters in virtual time: in no window of length w do more than
// burst + rate·w calls pass.
func TestTokenBucketsConcurrent(t *testing.T) {
	c := &virtualClock{t: time.Unix(1_700_000_000, 0)}
	l := &TokenBuckets{Rate: 2, Burst: 5, Now: c.Now, Sleep: c.Sleep}
	var mu sync.Mutex
	var passed []time.Time
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if err := l.Wait(context.Background(), "k"); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				passed = append(passed, c.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	first, last := passed[0], passed[0]
	for _, p := range passed {
		if p.Before(first) {
			first = p
		}
		if p.After(last) {
			last = p
		}
	}
	// 40 calls need at least (40-5)/2 seconds of virtual time.
	if span := last.Sub(first); span < 17500*time.Millisecond {
		t.Fatalf("40 calls passed within %v; the bucket allows no faster than 17.5s", span)
	}
}

func TestTokenBucketsCancel(t *testing.T) {
	l := NewTokenBuckets(1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if err := l.Wait(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := l.Wait(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want canceled, got %v", err)
	}
	// The canceled reservation was given back: the next token is due one
	// interval after the first, not two.
	l.mu.Lock()
	tokens := l.buckets["k"].tokens
	l.mu.Unlock()
	if tokens < -0.01 {
		t.Fatalf("reservation not returned: %v tokens", tokens)
	}
	if err := (&TokenBuckets{}).Wait(context.Background(), "k"); err == nil {
		t.Fatal("a zero limiter must refuse rather than spin")
	}
}

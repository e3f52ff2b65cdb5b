package provisioning

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limiter throttles work per key. Wait blocks until one call under key may
// proceed, or ctx ends.
type Limiter interface {
	Wait(ctx context.Context, key string) error
}

// TokenBuckets is a Limiter with one token bucket per key: Rate tokens a
// second, at most Burst saved up. Buckets live in memory, so the limit is
// per node: with N nodes sharing an AWS account, give each Rate/N.
//
// A waiter reserves its token at once and then sleeps until the token
// exists, so waiters are served in arrival order and the rate holds under
// any number of concurrent workers.
type TokenBuckets struct {
	Rate  float64 // tokens per second, > 0
	Burst int     // bucket size, >= 1
	// Now and Sleep are the clock; nil means the real one. Sleep returns
	// early with ctx's error when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64 // may go negative: reservations not yet covered
	at     time.Time
}

// NewTokenBuckets returns a limiter of rate tokens a second with the given
// burst.
func NewTokenBuckets(rate float64, burst int) *TokenBuckets {
	return &TokenBuckets{Rate: rate, Burst: burst}
}

func (l *TokenBuckets) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Wait takes one token from key's bucket, sleeping until it is available.
func (l *TokenBuckets) Wait(ctx context.Context, key string) error {
	if l.Rate <= 0 || l.Burst < 1 {
		return fmt.Errorf("token bucket %q: rate and burst must be positive", key)
	}
	l.mu.Lock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.Burst), at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(float64(l.Burst), b.tokens+el.Seconds()*l.Rate)
		b.at = now
	}
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / l.Rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait == 0 {
		return nil
	}
	if err := l.sleep(ctx, wait); err != nil {
		l.mu.Lock()
		b.tokens++ // give the reservation back
		l.mu.Unlock()
		return err
	}
	return nil
}

func (l *TokenBuckets) sleep(ctx context.Context, d time.Duration) error {
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package amazonconnect

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Amazon Connect's documented default API throttle, per account and region,
// shared by every operation Gatehouse uses.
const (
	DefaultRate  = 2.0 // requests per second
	DefaultBurst = 5
)

// Key identifies a Connect throttle bucket: AWS throttles per account and
// region, across instances and callers.
func Key(accountID, region string) string { return accountID + "/" + region }

// Limiter is a token bucket per key. Callers take a token before each
// Connect call; when the bucket is empty they wait their turn (reservations
// queue in order rather than racing). Safe for concurrent use.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter refilling rate tokens per second up to burst
// per key (defaults 2 and 5 when zero). now is the clock (time.Now when nil).
func NewLimiter(rate float64, burst int, now func() time.Time) *Limiter {
	if rate <= 0 {
		rate = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Reserve takes a token for key and returns how long the caller must wait
// before using it (0 when a token was available).
func (l *Limiter) Reserve(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / l.rate * float64(time.Second))
}

// cancel returns a reserved token that will not be used.
func (l *Limiter) cancel(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		b.tokens = min(l.burst, b.tokens+1)
	}
}

// Wait blocks until a token for key is available or ctx ends (then the
// token is given back and ctx's error returned).
func (l *Limiter) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := l.Reserve(key)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.cancel(key)
		return ctx.Err()
	}
}

// BackoffPolicy is exponential backoff with full jitter: after failed
// attempt n (1 for the first failure) the wait is uniform in
// [0, min(Cap, Base·2^(n-1))).
type BackoffPolicy struct {
	Base time.Duration // default 1s
	Cap  time.Duration // default 2m
	// Rand returns a uniform integer in [0, n); nil uses math/rand/v2.
	Rand func(n int64) int64
}

// Backoff returns the jittered wait after the given failed attempt.
func (b BackoffPolicy) Backoff(attempt int) time.Duration {
	base, limit := b.Base, b.Cap
	if base <= 0 {
		base = time.Second
	}
	if limit <= 0 {
		limit = 2 * time.Minute
	}
	ceil := base
	for i := 1; i < attempt && ceil < limit; i++ {
		ceil *= 2
	}
	ceil = min(ceil, limit)
	if b.Rand != nil {
		return time.Duration(b.Rand(int64(ceil)))
	}
	return time.Duration(rand.Int64N(int64(ceil)))
}

package provisioning

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential schedule with full jitter: before attempt n+1
// the job waits a uniformly random time in [0, min(Cap, Base·2^(n-1))).
type Backoff struct {
	Base time.Duration // default 1s
	Cap  time.Duration // default 5m
	// Rand returns a uniform integer in [0, n); nil uses math/rand/v2.
	Rand func(n int64) int64
}

// Default backoff bounds.
const (
	DefaultBackoffBase = time.Second
	DefaultBackoffCap  = 5 * time.Minute
)

// Ceiling is the upper bound of the delay after the given failed attempt
// (1 for the first failure).
func (b Backoff) Ceiling(attempt int) time.Duration {
	base, limit := b.Base, b.Cap
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if limit <= 0 {
		limit = DefaultBackoffCap
	}
	d := base
	for i := 1; i < attempt; i++ {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// Delay returns the jittered wait after the given failed attempt.
func (b Backoff) Delay(attempt int) time.Duration {
	c := int64(b.Ceiling(attempt))
	if c <= 0 {
		return 0
	}
	if b.Rand != nil {
		return time.Duration(b.Rand(c))
	}
	return time.Duration(rand.Int64N(c))
}

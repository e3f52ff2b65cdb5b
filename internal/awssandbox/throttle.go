package awssandbox

import "time"

// tokenBucket is the Connect API throttle: one bucket per account and
// region, shared by every Connect operation, refilled at rate tokens per
// second up to burst.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func (s *Sandbox) takeToken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucket.take(s.now()) {
		return true
	}
	s.throttled++
	return false
}

// SetConnectThrottle changes the Connect API rate (requests per second) and
// burst at run time; the bucket starts full.
func (s *Sandbox) SetConnectThrottle(rate float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket = tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: s.now()}
}

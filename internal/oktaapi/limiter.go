package oktaapi

import (
	"sync"
	"time"
)

// Limiter counts API requests per token in fixed one-minute windows, as
// Okta's per-minute limits do. Counts are per node.
type Limiter struct {
	PerMinute int
	mu        sync.Mutex
	windows   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// NewLimiter returns a limiter allowing perMinute requests per key.
func NewLimiter(perMinute int) *Limiter {
	return &Limiter{PerMinute: perMinute, windows: map[string]*window{}}
}

// Take counts one request for key and reports the limit, what remains, when
// the window resets, and whether the request is allowed.
func (l *Limiter) Take(key string, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now.Truncate(time.Minute)
	w := l.windows[key]
	if w == nil || !w.start.Equal(start) {
		if len(l.windows) > 100000 {
			l.windows = map[string]*window{}
		}
		w = &window{start: start}
		l.windows[key] = w
	}
	reset = start.Add(time.Minute)
	if w.n >= l.PerMinute {
		return l.PerMinute, 0, reset, false
	}
	w.n++
	return l.PerMinute, l.PerMinute - w.n, reset, true
}

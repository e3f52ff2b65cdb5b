package credential

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/inflight"
)

func busyHasher(t *testing.T, slots int) (*Hasher, *inflight.Counter) {
	t.Helper()
	c := &inflight.Counter{}
	h, err := NewHasher(Config{Params: cheapParams, MaxConcurrent: slots, Busy: c})
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

// hashDone runs h.Hash(ctx) in the background and returns a channel that
// is closed when it returns.
func hashDone(t *testing.T, h *Hasher, ctx context.Context) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := h.Hash(ctx, "pw"); err != nil {
			t.Error(err)
		}
	}()
	return done
}

func returned(c <-chan struct{}, within time.Duration) bool {
	select {
	case <-c:
		return true
	case <-time.After(within):
		return false
	}
}

// A hash waits while another request is in progress, and starts as soon as
// that request ends.
func TestHashGivesWayToOtherRequests(t *testing.T) {
	h, c := busyHasher(t, 1)
	h.yield.lastNS.Store(int64(time.Hour)) // the wait is bounded by maxYield only
	_, end := c.Begin(context.Background())
	done := hashDone(t, h, context.Background())
	if returned(done, 50*time.Millisecond) {
		t.Fatal("a hash ran while another request was in progress")
	}
	end()
	if !returned(done, 5*time.Second) {
		t.Fatal("the hash did not start when the other request ended")
	}
}

// A hash waits at most as long as the last hash took: sign-ins are not
// starved by a server that is always busy.
func TestHashWaitIsBounded(t *testing.T) {
	h, c := busyHasher(t, 1)
	_, end := c.Begin(context.Background())
	defer end()
	h.yield.lastNS.Store(int64(100 * time.Millisecond))
	start := time.Now()
	if !returned(hashDone(t, h, context.Background()), 5*time.Second) {
		t.Fatal("the hash waited for ever behind a busy request")
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("the hash started after %v, want it to wait about the last hash's 100ms", d)
	}
}

// A request's own hash does not wait for the request itself, and with two
// slots one other request leaves a hash free to run.
func TestHashDoesNotWaitForItself(t *testing.T) {
	h, c := busyHasher(t, 1)
	h.yield.lastNS.Store(int64(time.Hour))
	ctx, end := c.Begin(context.Background())
	if !returned(hashDone(t, h, ctx), 5*time.Second) {
		t.Fatal("a request's hash waited for the request itself")
	}
	if n := c.N(); n != 1 {
		t.Errorf("%d requests counted after the request's hash, want 1 (it is still in progress)", n)
	}
	end()
	if n := c.N(); n != 0 {
		t.Errorf("%d requests counted after the request ended, want 0", n)
	}

	two, c2 := busyHasher(t, 2)
	two.yield.lastNS.Store(int64(time.Hour))
	_, end2 := c2.Begin(context.Background())
	defer end2()
	if !returned(hashDone(t, two, context.Background()), 5*time.Second) {
		t.Fatal("with two slots and one other request, a hash waited")
	}
}

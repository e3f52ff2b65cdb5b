package credential

import (
	"context"
	"testing"
	"time"
)

// hashDone runs h.Hash(ctx) in the background and returns a channel that
// receives when it returns.
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
func TestHashGivesWayToForeground(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	h.yield.lastNS.Store(int64(time.Hour)) // the wait is bounded by maxYield only
	_, end := h.Foreground(context.Background())
	done := hashDone(t, h, context.Background())
	if returned(done, 50*time.Millisecond) {
		t.Fatal("a hash ran while another request was in progress")
	}
	end()
	if !returned(done, 5*time.Second) {
		t.Fatal("the hash did not start when the other request ended")
	}
	if n := h.yield.fg.Load(); n != 0 {
		t.Errorf("foreground count %d after every request ended, want 0", n)
	}
}

// A hash waits at most as long as the last hash took: sign-ins are not
// starved by a server that is always busy.
func TestHashWaitIsBounded(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	_, end := h.Foreground(context.Background())
	defer end()
	h.yield.lastNS.Store(int64(100 * time.Millisecond))
	start := time.Now()
	done := hashDone(t, h, context.Background())
	if !returned(done, 5*time.Second) {
		t.Fatal("the hash waited for ever behind a busy request")
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("the hash started after %v, want it to wait about the last hash's 100ms", d)
	}
}

// A request's own hash does not wait for itself, nor for requests beyond
// the slots: with two slots, one other request leaves a hash free to run.
func TestHashDoesNotWaitForItself(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	h.yield.lastNS.Store(int64(time.Hour))
	ctx, end := h.Foreground(context.Background())
	if !returned(hashDone(t, h, ctx), 5*time.Second) {
		t.Fatal("a request's hash waited for the request itself")
	}
	if n := h.yield.fg.Load(); n != 1 {
		t.Errorf("foreground count %d after the request's hash, want 1 (the request is still in progress)", n)
	}
	end()
	end() // a second call changes nothing
	if n := h.yield.fg.Load(); n != 0 {
		t.Errorf("foreground count %d after the request ended, want 0", n)
	}

	two := newTestHasher(t, cheapParams, 2)
	two.yield.lastNS.Store(int64(time.Hour))
	_, end2 := two.Foreground(context.Background())
	defer end2()
	if !returned(hashDone(t, two, context.Background()), 5*time.Second) {
		t.Fatal("with two slots and one other request, a hash waited")
	}
}

// A request that ends while its hash is computing is not counted again
// when the hash returns.
func TestForegroundEndsDuringHash(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	ctx, end := h.Foreground(context.Background())
	f := h.yield.startHash(ctx)
	end()
	h.yield.endHash(f)
	if n := h.yield.fg.Load(); n != 0 {
		t.Errorf("foreground count %d, want 0", n)
	}
}

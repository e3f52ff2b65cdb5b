//go:build linux

package credential

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadNice is the nice value of the calling thread.
func threadNice(t *testing.T) int {
	t.Helper()
	p, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

func cheapHasher(t *testing.T, slots int) *Hasher {
	t.Helper()
	h, err := NewHasher(Config{MaxConcurrent: slots, Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHashWorkersRunAtLowPriority: with processors to spare, hashes run
// on threads whose nice value is at least workerNice, never on the
// caller's; at most MaxConcurrent at a time; a caller whose context ends
// while waiting gets an error and its hash never runs; idle workers give
// their slots back. Without processors to spare, the caller's thread
// hashes (and keeps its priority).
func TestHashWorkersRunAtLowPriority(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	h := cheapHasher(t, 2)
	if !h.isolate {
		t.Fatal("two slots under GOMAXPROCS 4 do not run on workers")
	}
	h.idle = 50 * time.Millisecond
	ctx := context.Background()
	runtime.LockOSThread()
	callerNice := threadNice(t)
	runtime.UnlockOSThread()
	var nice int
	if err := h.do(ctx, func() { nice = threadNice(t) }); err != nil {
		t.Fatal(err)
	}
	if nice < max(workerNice, callerNice) {
		t.Fatalf("hash ran at nice %d (caller %d)", nice, callerNice)
	}

	// Six jobs on two slots: two run, the others wait, all finish.
	var running, peak atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.do(ctx, func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				<-release
				running.Add(-1)
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); running.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	// A seventh caller gives up while both slots are busy.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	ran := false
	err := h.do(short, func() { ran = true })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Fatalf("a caller whose context ended: err %v, ran %v", err, ran)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Fatalf("%d hashes ran at once on two slots", p)
	}
	for deadline := time.Now().Add(5 * time.Second); len(h.sem) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(h.sem); n != 0 {
		t.Fatalf("%d workers still hold slots after being idle", n)
	}

	// A panic on a worker reaches the caller, and the worker goes on.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the worker's panic", r)
			}
		}()
		_ = h.do(ctx, func() { panic("boom") })
		t.Fatal("do returned after its job panicked")
	}()
	if err := h.do(ctx, func() {}); err != nil {
		t.Fatal(err)
	}

	// No processors to spare: the caller's goroutine hashes.
	runtime.GOMAXPROCS(2)
	inline := cheapHasher(t, 2)
	if inline.isolate {
		t.Fatal("two slots under GOMAXPROCS 2 run on workers")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice(t)
	if err := inline.do(ctx, func() { nice = threadNice(t) }); err != nil {
		t.Fatal(err)
	}
	if nice != before {
		t.Fatalf("an inline hash ran at nice %d on a thread at %d", nice, before)
	}
	// The real hash goes through the same path.
	enc, err := inline.Hash(ctx, "Secret-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, enc, "Secret-Passw0rd"); err != nil || !ok {
		t.Fatalf("verify on a worker: %v %v", ok, err)
	}
}

package inflight

import (
	"context"
	"testing"
	"time"
)

func TestCounting(t *testing.T) {
	var c Counter
	ctx, end := c.Begin(context.Background())
	_, end2 := c.Begin(context.Background())
	if c.N() != 2 {
		t.Fatalf("N = %d, want 2", c.N())
	}
	back := c.Aside(ctx)
	back2 := c.Aside(ctx) // nested: still one request aside
	if c.N() != 1 {
		t.Fatalf("N = %d with one request aside, want 1", c.N())
	}
	back2()
	if c.N() != 1 {
		t.Fatalf("N = %d after the inner aside ended, want 1", c.N())
	}
	back()
	if c.N() != 2 {
		t.Fatalf("N = %d after the aside, want 2", c.N())
	}
	// A request that ends while aside is not counted again.
	back = c.Aside(ctx)
	end()
	end()
	back()
	if c.N() != 1 {
		t.Fatalf("N = %d after a request ended while aside, want 1", c.N())
	}
	end2()
	if c.N() != 0 {
		t.Fatalf("N = %d after every request ended, want 0", c.N())
	}
	// Another counter's context, or none, changes nothing.
	var other Counter
	octx, oend := other.Begin(context.Background())
	c.Aside(octx)()
	c.Aside(context.Background())()
	oend()
	if c.N() != 0 || other.N() != 0 {
		t.Fatalf("N = %d, %d, want 0, 0", c.N(), other.N())
	}
}

func TestWait(t *testing.T) {
	var c Counter
	_, end := c.Begin(context.Background())
	idle := func() bool { return c.N() == 0 }
	got := make(chan bool)
	go func() { got <- c.Wait(context.Background(), time.Hour, idle) }()
	select {
	case <-got:
		t.Fatal("Wait returned while a request was in progress")
	case <-time.After(30 * time.Millisecond):
	}
	end()
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("Wait reported false when the count fell to zero")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return when the count fell to zero")
	}

	_, end = c.Begin(context.Background())
	defer end()
	start := time.Now()
	if c.Wait(context.Background(), 50*time.Millisecond, idle) {
		t.Fatal("Wait reported true while a request was in progress")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("Wait gave up after %v, want 50ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c.Wait(ctx, time.Hour, idle) {
		t.Fatal("Wait reported true for an ended context")
	}
}

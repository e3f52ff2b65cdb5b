package provisioning

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBackoffCeiling(t *testing.T) {
	tests := []struct {
		b       Backoff
		attempt int
		want    time.Duration
	}{
		{Backoff{}, 1, time.Second},
		{Backoff{}, 2, 2 * time.Second},
		{Backoff{}, 5, 16 * time.Second},
		{Backoff{}, 9, 256 * time.Second},
		{Backoff{}, 10, 5 * time.Minute},
		{Backoff{}, 1000, 5 * time.Minute},
		{Backoff{Base: 100 * time.Millisecond, Cap: time.Second}, 4, 800 * time.Millisecond},
		{Backoff{Base: 100 * time.Millisecond, Cap: time.Second}, 5, time.Second},
		{Backoff{Base: 3 * time.Second, Cap: time.Second}, 1, time.Second},
	}
	for _, tc := range tests {
		if got := tc.b.Ceiling(tc.attempt); got != tc.want {
			t.Errorf("%+v attempt %d: got %v want %v", tc.b, tc.attempt, got, tc.want)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	var asked []int64
	b := Backoff{Rand: func(n int64) int64 { asked = append(asked, n); return n - 1 }}
	if got := b.Delay(3); got != 4*time.Second-1 {
		t.Fatalf("delay %v", got)
	}
	if len(asked) != 1 || asked[0] != int64(4*time.Second) {
		t.Fatalf("jitter drawn over %v; want [0, 4s)", asked)
	}
	// The real source stays inside [0, ceiling).
	var d Backoff
	for i := range 200 {
		attempt := i%12 + 1
		if got := d.Delay(attempt); got < 0 || got >= d.Ceiling(attempt) {
			t.Fatalf("attempt %d: delay %v outside [0, %v)", attempt, got, d.Ceiling(attempt))
		}
	}
}

func TestClassify(t *testing.T) {
	base := errors.New("ThrottlingException: Rate exceeded")
	tests := []struct {
		err       error
		permanent bool
		after     time.Duration
	}{
		{base, false, 0},
		{Retryable(base, 0), false, 0},
		{Retryable(base, 7*time.Second), false, 7 * time.Second},
		{fmt.Errorf("create user: %w", Retryable(base, time.Second)), false, time.Second},
		{Permanent(base), true, 0},
		{fmt.Errorf("create user: %w", Permanent(base)), true, 0},
		{panicError("boom"), true, 0},
	}
	for _, tc := range tests {
		p, a := classify(tc.err)
		if p != tc.permanent || a != tc.after {
			t.Errorf("%v: got permanent=%v after=%v", tc.err, p, a)
		}
	}
	if Retryable(nil, time.Second) != nil || Permanent(nil) != nil {
		t.Fatal("wrapping nil must stay nil")
	}
	if !errors.Is(Permanent(base), base) || !errors.Is(Retryable(base, 0), base) {
		t.Fatal("wrappers must unwrap to the cause")
	}
}

func TestErrorTextBounded(t *testing.T) {
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	if got := errorText(errors.New(string(long))); len(got) > maxErrorLen+len("…") {
		t.Fatalf("error text of %d bytes", len(got))
	}
	if got := errorText(errors.New("short")); got != "short" {
		t.Fatal(got)
	}
}

func TestFailureEventType(t *testing.T) {
	for kind, want := range map[string]string{
		KindConnectCreateUser: "application.provision.user.push",
		KindConnectUpdateUser: "application.provision.user.push_profile",
		KindConnectDeleteUser: "application.provision.user.deactivate",
		KindConnectReconcile:  "application.provision.user.sync",
		"aws.refresh_roles":   "application.provision.user.push",
	} {
		if got := FailureEventType(kind); got != want {
			t.Errorf("%s: got %s want %s", kind, got, want)
		}
	}
}

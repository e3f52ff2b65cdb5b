package awsapp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

func TestConnectCallRetriesThrottlingInPlace(t *testing.T) {
	throttled := &amazonconnect.Error{Kind: amazonconnect.Throttled, Op: "CreateUser", Code: "ThrottlingException", Message: "Rate exceeded"}
	denied := &amazonconnect.Error{Kind: amazonconnect.Denied, Op: "CreateUser", Code: "AccessDeniedException", Message: "no"}
	cases := []struct {
		name      string
		answers   []error
		wantCalls int
		wantErr   error
	}{
		{"success", []error{nil}, 1, nil},
		{"throttled twice, then success", []error{throttled, throttled, nil}, 3, nil},
		{"other errors are not retried", []error{denied, nil}, 1, denied},
		{"throttled, then another error", []error{throttled, denied}, 2, denied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lim := amazonconnect.NewLimiter(1000, 1000, nil)
			calls := 0
			err := connectCall{lim: lim, key: "k"}.do(context.Background(), func() error {
				calls++
				return c.answers[calls-1]
			})
			if calls != c.wantCalls || !errors.Is(err, c.wantErr) {
				t.Fatalf("%d calls, err %v; want %d calls, err %v", calls, err, c.wantCalls, c.wantErr)
			}
		})
	}
}

func TestConnectCallStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	throttled := &amazonconnect.Error{Kind: amazonconnect.Throttled, Op: "ListUsers", Code: "ThrottlingException", Message: "Rate exceeded"}
	start := time.Now()
	err := connectCall{}.do(ctx, func() error { return throttled })
	if !amazonconnect.IsKind(err, amazonconnect.Throttled) || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
	var re *provisioning.RetryableError
	if errors.As(err, &re) {
		t.Fatal("an interrupted call is not a spent budget")
	}
}

// Each 429 takes a token from the node's limiter, so the node slows down.
func TestConnectCallThrottlingCostsTheNodeATokenEach(t *testing.T) {
	at := time.Unix(1700000000, 0)
	lim := amazonconnect.NewLimiter(0.001, 3, func() time.Time { return at })
	throttled := &amazonconnect.Error{Kind: amazonconnect.Throttled, Op: "ListUsers", Code: "ThrottlingException", Message: "Rate exceeded"}
	answers := []error{throttled, throttled, nil}
	n := 0
	if err := (connectCall{lim: lim, key: "k"}).do(context.Background(), func() error { n++; return answers[n-1] }); err != nil {
		t.Fatal(err)
	}
	if d := lim.Reserve("k"); d != 0 {
		t.Fatalf("the third token was taken too: wait %s", d)
	}
	if d := lim.Reserve("k"); d == 0 {
		t.Fatal("two 429s did not cost the node two tokens")
	}
}

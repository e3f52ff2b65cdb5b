package amazonconnect

import (
	"fmt"
	"testing"
)

func BenchmarkLimiterReserve(b *testing.B) {
	l := NewLimiter(1e12, 1<<30, nil) // never waits: measures the bookkeeping
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = Key(fmt.Sprintf("%012d", i), "us-east-1")
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Reserve(keys[i%len(keys)])
	}
}

func BenchmarkPlan(b *testing.B) {
	want := validSpec()
	want.IdentityInfo.LastName = "Roe"
	cur := current()
	b.ReportAllocs()
	for b.Loop() {
		if len(Plan(want, cur)) != 1 {
			b.Fatal("plan")
		}
	}
}

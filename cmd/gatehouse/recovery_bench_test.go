package main

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// BenchmarkPasswordResetRequest measures a "Forgot password?" request for
// an existing account (enqueues the email job with its event) and for an
// unknown name (writes the FAILURE event), interleaved, and reports the
// p50 and p99 of each and their ratio: the answer must not take measurably
// longer for one than the other. The relay is a closed port, so the jobs
// only wait for retries; the per-account limit is lifted so every known
// request takes the enqueue path.
func BenchmarkPasswordResetRequest(b *testing.B) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		b.Run(name, func(b *testing.B) {
			ts := newTestServer(b, pg, func(c *config.Config) {
				c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPFrom = "127.0.0.1", 1, "none", "no-reply@gatehouse.test"
			})
			ts.recovery.AccountLimit = 1 << 30
			ts.recovery.IPLimit = 1 << 30
			ctx := context.Background()
			for i := range 50 {
				ts.createUser(b, fmt.Sprintf("user%d@example.com", i), "Bench-Passw0rd-1")
			}
			var known, unknown []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				who := fmt.Sprintf("user%d@example.com", i%50)
				if i%2 == 1 {
					who = fmt.Sprintf("ghost%d@example.com", i)
				}
				start := time.Now()
				if err := ts.recovery.Request(ctx, who, "192.0.2.1"); err != nil {
					b.Fatal(err)
				}
				if i%2 == 1 {
					unknown = append(unknown, time.Since(start))
				} else {
					known = append(known, time.Since(start))
				}
			}
			b.StopTimer()
			q := func(ds []time.Duration, p float64) time.Duration {
				if len(ds) == 0 {
					return 0
				}
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				return ds[int(p*float64(len(ds)-1))]
			}
			k50, u50 := q(known, .5), q(unknown, .5)
			b.ReportMetric(float64(k50.Microseconds())/1000, "known-p50-ms")
			b.ReportMetric(float64(q(known, .99).Microseconds())/1000, "known-p99-ms")
			b.ReportMetric(float64(u50.Microseconds())/1000, "unknown-p50-ms")
			b.ReportMetric(float64(q(unknown, .99).Microseconds())/1000, "unknown-p99-ms")
			if u50 > 0 {
				b.ReportMetric(float64(k50)/float64(u50), "known/unknown-p50")
			}
		})
	}
}

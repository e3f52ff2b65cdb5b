package policy_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func pcts(d []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	if len(d) == 0 {
		return 0, 0
	}
	return d[len(d)/2], d[len(d)*99/100]
}

// BenchmarkPolicyEvaluation is the time policy evaluation adds to every
// single sign-on: EvaluateApp (a read of the policy version, the app's
// rules from the node's cache, the first matching rule) for an app without
// a policy and for an app with five rules (the matching one last) and a
// person in 20 groups; and, uncached, the one query that loads an app's
// policy and rules after a change. Beside it, in the same run, a
// primary-key read of one policy: the cheapest round trip to the same
// database. Reported: p50 and p99, p99 against the 1 ms target, and
// against the point read.
func BenchmarkPolicyEvaluation(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *sqlstore.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			w := newBenchWorld(b, db)
			ctx := context.Background()
			plain := w.app(b)
			ruled := w.app(b)
			p, err := w.svc.AppPolicy(ctx, ruled, "Connect", true)
			if err != nil {
				b.Fatal(err)
			}
			var groups []string
			for i := 0; i < 20; i++ {
				g, err := w.dir.CreateGroup(ctx, "group-"+string(rune('a'+i)), "")
				if err != nil {
					b.Fatal(err)
				}
				groups = append(groups, g.ID)
			}
			other, _ := w.dir.CreateGroup(ctx, "elsewhere", "")
			for i := 0; i < 4; i++ {
				if _, err := w.svc.CreateRule(ctx, p.ID, &policy.Rule{Name: "not them", Access: policy.Deny, Groups: policy.Groups{Include: []string{other.ID}}}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.svc.CreateRule(ctx, p.ID, &policy.Rule{Name: "them", Access: policy.Allow, RequireMFA: true, Reauthenticate: 2 * time.Hour,
				Groups: policy.Groups{Include: []string{groups[19]}}}); err != nil {
				b.Fatal(err)
			}
			mfa := time.Now().Add(-time.Hour)
			measure := func(name string, f func() error) (time.Duration, time.Duration) {
				lat := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if err := f(); err != nil {
						b.Fatalf("%s: %v", name, err)
					}
					lat = append(lat, time.Since(t0))
				}
				return pcts(lat)
			}
			// Warm the prepared statements.
			for i := 0; i < 20; i++ {
				w.svc.EvaluateApp(ctx, ruled, groups, mfa)
				w.svc.EvaluateApp(ctx, plain, groups, mfa)
				db.Policies().Policy(ctx, p.ID)
			}
			b.ResetTimer()
			_, readP99 := measure("point read", func() error { _, err := db.Policies().Policy(ctx, p.ID); return err })
			noneP50, noneP99 := measure("no policy", func() error {
				d, err := w.svc.EvaluateApp(ctx, plain, groups, mfa)
				if err == nil && d.Outcome != policy.Allow {
					b.Fatalf("no policy: %+v", d)
				}
				return err
			})
			ruleP50, ruleP99 := measure("five rules", func() error {
				d, err := w.svc.EvaluateApp(ctx, ruled, groups, mfa)
				if err == nil && (d.Outcome != policy.Allow || d.RuleName != "them") {
					b.Fatalf("five rules: %+v", d)
				}
				return err
			})
			loadP50, loadP99 := measure("rules after a change", func() error { _, _, err := db.Policies().AppRules(ctx, ruled); return err })
			b.StopTimer()
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(noneP50), "no-policy-p50-ms")
			b.ReportMetric(ms(noneP99), "no-policy-p99-ms")
			b.ReportMetric(ms(ruleP50), "rules-p50-ms")
			b.ReportMetric(ms(ruleP99), "rules-p99-ms")
			b.ReportMetric(ms(readP99), "point-read-p99-ms")
			b.ReportMetric(ms(loadP50), "uncached-p50-ms")
			b.ReportMetric(ms(loadP99), "uncached-p99-ms")
			b.ReportMetric(100*ms(ruleP99)/1.0, "rules-p99-%-of-1ms")
			b.ReportMetric(float64(ruleP99)/float64(readP99), "rules-p99/point-read-p99")
		})
	}
}

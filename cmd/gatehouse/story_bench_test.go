package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
)

// benchStory is newStory for benchmarks: the story set up against a
// sandbox, with provisioning done.
func benchStory(b *testing.B, opts awssandbox.Options, rec *connectRecorder) *storyEnv {
	b.Helper()
	sb, err := awssandbox.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	var h http.Handler = sb.Handler()
	if rec != nil {
		h = rec.wrap(h)
	}
	sbSrv := httptest.NewServer(h)
	b.Cleanup(sbSrv.Close)
	info := sb.Info(sbSrv.URL)
	ts := newTestServer(b, false, func(c *config.Config) { c.AWSEndpoint = sbSrv.URL })
	gh := &demo.Client{BaseURL: ts.srv.URL, Token: ts.token}
	st, err := demo.SetUp(context.Background(), gh, demo.AWS{Endpoint: sbSrv.URL, AccountID: info.AccountID, AccessKeyID: info.AccessKeyID,
		SecretAccessKey: info.SecretAccessKey, Region: info.Region, ConnectInstanceID: info.ConnectInstanceID},
		demo.Agent{Login: "agent.smith@example.com", Password: agentPassword, FirstName: "Agatha", LastName: "Smith"})
	if err != nil {
		b.Fatalf("story set-up: %v", err)
	}
	if err := demo.WaitProvisioned(context.Background(), gh, st.AppID, 60*time.Second); err != nil {
		b.Fatal(err)
	}
	return &storyEnv{ts: ts, sb: sb, sbSrv: sbSrv, info: info, gh: gh, story: st}
}

// connectRecorder notes when the sandbox accepted each Connect call.
type connectRecorder struct {
	mu       sync.Mutex
	accepted []time.Time
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (r *connectRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, req)
		if strings.Contains(req.Header.Get("Authorization"), "/connect/aws4_request") && sw.status != http.StatusTooManyRequests {
			r.mu.Lock()
			r.accepted = append(r.accepted, time.Now())
			r.mu.Unlock()
		}
	})
}

// since returns the accepted calls from t on.
func (r *connectRecorder) since(t time.Time) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Time
	for _, at := range r.accepted {
		if !at.Before(t) {
			out = append(out, at)
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkConnectProvisioning assigns N agents (GATEHOUSE_BENCH_AGENTS,
// default 40) at once against a Connect instance that allows Connect's
// documented default, 2 requests a second with a burst of 5, and measures
// how much of that rate provisioning sustains and how many calls were
// throttled (each a retry). Run with -benchtime=1x.
func BenchmarkConnectProvisioning(b *testing.B) {
	n := envInt("GATEHOUSE_BENCH_AGENTS", 40)
	const rate, burst = 2.0, 5
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rec := &connectRecorder{}
		e := benchStory(b, awssandbox.Options{ConnectRate: rate, ConnectBurst: burst}, rec)
		ids := make([]string, n)
		for j := range ids {
			ids[j] = e.newAgent(b, fmt.Sprintf("bench%03d@example.com", j), "Bench", fmt.Sprintf("Agent%03d", j))
		}
		// Let both buckets fill, as on an idle account.
		time.Sleep(time.Duration(float64(burst)/rate*float64(time.Second)) + 100*time.Millisecond)
		calls0, thr0 := connectCalls(e.sb), e.sb.Throttled()
		b.StartTimer()
		start := time.Now()
		for j, id := range ids {
			e.assignAgent(b, id, fmt.Sprintf("bench%03d@example.com", j))
		}
		e.waitProvisioned(b, 10*time.Minute)
		el := time.Since(start)
		b.StopTimer()
		if got := len(e.sb.ConnectUsers("")); got != n+1 {
			b.Fatalf("%d Connect users, want %d", got, n+1)
		}
		calls, thr := connectCalls(e.sb)-calls0, e.sb.Throttled()-thr0
		accepted := calls - thr
		// End to end: from the first assignment to the last job's end.
		allowed := float64(burst) + rate*el.Seconds()
		// Sustained: after the burst, between the first and the last
		// accepted call, against the refill rate.
		times := rec.since(start)
		var sustained float64
		if len(times) > burst+1 {
			w := times[len(times)-1].Sub(times[burst])
			sustained = float64(len(times)-burst-1) / w.Seconds()
		}
		b.ReportMetric(sustained, "calls/s")
		b.ReportMetric(100*sustained/rate, "%-of-allowed")
		b.ReportMetric(100*float64(accepted)/allowed, "%-of-allowed-e2e")
		b.ReportMetric(100*float64(thr)/float64(max(calls, 1)), "%-retries")
		b.ReportMetric(float64(n)/el.Seconds(), "agents/s")
		b.Logf("%d agents in %s: %d Connect calls (%d throttled); %d accepted, %.1f allowed end to end; sustained %.3f calls/s after the burst",
			n, el.Round(time.Millisecond), calls, thr, accepted, allowed, sustained)
	}
}

// BenchmarkConnectReconcileDryRun compares 10,000 assignments
// (GATEHOUSE_BENCH_RECONCILE_USERS) with 10,000 Connect users, 1% of each
// side unmatched, through Reconcile(dryRun) at Connect's default API rate.
func BenchmarkConnectReconcileDryRun(b *testing.B) {
	n := envInt("GATEHOUSE_BENCH_RECONCILE_USERS", 10000)
	ctx := context.Background()
	e := benchStory(b, awssandbox.Options{ConnectRate: 1e6, ConnectBurst: 1e6, UserQuota: 2*n + 10}, nil)
	// No provisioning while seeding: only the comparison is measured.
	ps, err := e.ts.aws.Provisioning(ctx, e.story.AppID)
	if err != nil {
		b.Fatal(err)
	}
	ps.APIIntegration, ps.CreateUsers, ps.UpdateUsers, ps.DeactivateUsers = false, false, false, false
	if err := e.ts.aws.SaveProvisioning(ctx, e.story.AppID, ps); err != nil {
		b.Fatal(err)
	}
	// Gatehouse: n people (bulk import), each assigned directly.
	seedStart := time.Now()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		var in []directory.CreateUserInput
		for j := lo; j < min(lo+batch, n); j++ {
			login := fmt.Sprintf("rec%05d@example.com", j)
			in = append(in, directory.CreateUserInput{Profile: directory.Profile{"login": login, "email": login, "firstName": "Rec", "lastName": "User"}, Activate: true, Provider: true})
		}
		res, err := e.ts.directory.ImportUsers(ctx, in)
		if err != nil || len(res.Problems) > 0 {
			b.Fatalf("import: %v %v", err, res.Problems)
		}
	}
	users, err := e.ts.directory.Store.Users(ctx, directory.UserQuery{Limit: n + 10})
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range users {
		if u.Login() == "agent.smith@example.com" {
			continue
		}
		name := u.Login()
		if _, err := e.ts.catalog.AssignUser(ctx, e.story.AppID, u.ID, catalog.AssignUserInput{UserName: &name, Profile: map[string]any{"role": demo.RoleName}}); err != nil {
			b.Fatal(err)
		}
	}
	// Connect: n users, 99% of them the assigned people, 1% unknown to
	// Gatehouse; the other 1% of the assigned people are missing.
	c, err := amazonconnect.New(amazonconnect.Options{Region: e.info.Region, InstanceID: e.info.ConnectInstanceID,
		AccessKeyID: e.info.AccessKeyID, SecretAccessKey: e.info.SecretAccessKey, Endpoint: e.sbSrv.URL})
	if err != nil {
		b.Fatal(err)
	}
	spec := amazonconnect.UserSpec{IdentityInfo: amazonconnect.IdentityInfo{FirstName: "Rec", LastName: "User"}, PhoneConfig: amazonconnect.PhoneConfig{PhoneType: amazonconnect.SoftPhone},
		SecurityProfileIDs: []string{e.info.SecurityProfileIDs["Agent"]}, RoutingProfileID: e.info.RoutingProfileID}
	missing := n / 100
	for j := missing; j < n+missing; j++ {
		spec.Username = fmt.Sprintf("rec%05d@example.com", j)
		if j >= n {
			spec.Username = fmt.Sprintf("stranger%05d@example.com", j)
		}
		if _, err := c.CreateUser(ctx, spec); err != nil {
			b.Fatal(err)
		}
	}
	seeded := time.Since(seedStart)
	b.Logf("seeded %d people, %d assignments and %d Connect users in %s", len(users), len(users), len(e.sb.ConnectUsers("")), seeded.Round(time.Second))
	e.sb.SetConnectThrottle(amazonconnect.DefaultRate, amazonconnect.DefaultBurst)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// An idle account: full buckets on both sides.
		b.StopTimer()
		e.ts.aws.Limiter = amazonconnect.NewLimiter(amazonconnect.DefaultRate, amazonconnect.DefaultBurst, nil)
		e.sb.SetConnectThrottle(amazonconnect.DefaultRate, amazonconnect.DefaultBurst)
		b.StartTimer()
		start := time.Now()
		d, err := e.ts.aws.Reconcile(ctx, e.story.AppID, true)
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		var missingN, strangers int
		for _, x := range d {
			if x.UserID == "" {
				strangers++
			} else {
				missingN++
			}
		}
		// The story's agent is in both.
		if missingN != missing || strangers != missing {
			b.Fatalf("differences: %d missing in Connect, %d unknown to Gatehouse; want %d each", missingN, strangers, missing)
		}
		b.ReportMetric(el.Seconds(), "s/reconcile")
		b.Logf("%d assignments vs %d Connect users: %d differences in %s", n, n, len(d), el.Round(time.Millisecond))
	}
}

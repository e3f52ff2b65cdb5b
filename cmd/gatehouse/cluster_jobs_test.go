package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Provisioning on several nodes: every node's runner works the one queue
// in the database, a node that dies leaves its jobs to the others, and
// the schedulers of all nodes keep one series of each periodic job.

// createRecorder counts the sandbox's answers to Connect CreateUser by
// username: 200 (created) and 409 (DuplicateResourceException).
type createRecorder struct {
	mu         sync.Mutex
	created    map[string]int
	duplicates map[string]int
}

func (cr *createRecorder) wrap(h http.Handler) http.Handler {
	cr.created, cr.duplicates = map[string]int{}, map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method != http.MethodPut || len(seg) != 2 || seg[0] != "users" {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ Username string }
		json.Unmarshal(body, &in)
		sw := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		cr.mu.Lock()
		defer cr.mu.Unlock()
		switch sw.status {
		case 0, 200:
			cr.created[in.Username]++
		case 409:
			cr.duplicates[in.Username]++
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// storyCluster is the Amazon Connect story played through the load
// balancer of a cluster, against the AWS sandbox.
type storyCluster struct {
	*cluster
	sb    *awssandbox.Sandbox
	rec   *createRecorder
	gh    *demo.Client
	story *demo.Story
}

func newStoryCluster(t *testing.T, o clusterOptions) *storyCluster {
	t.Helper()
	sb, err := awssandbox.New(awssandbox.Options{ConnectRate: 1000, ConnectBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rec := &createRecorder{}
	sbSrv := httptest.NewServer(rec.wrap(sb.Handler()))
	t.Cleanup(sbSrv.Close)
	info := sb.Info(sbSrv.URL)
	tweak := o.tweak
	o.tweak = func(cfg *config.Config) {
		cfg.AWSEndpoint = sbSrv.URL
		if tweak != nil {
			tweak(cfg)
		}
	}
	c := newCluster(t, o)
	gh := &demo.Client{BaseURL: c.url, Token: c.token}
	ctx := context.Background()
	st, err := demo.SetUp(ctx, gh, demo.AWS{Endpoint: sbSrv.URL, AccountID: info.AccountID, AccessKeyID: info.AccessKeyID,
		SecretAccessKey: info.SecretAccessKey, Region: info.Region, ConnectInstanceID: info.ConnectInstanceID},
		demo.Agent{Login: "agent.smith@example.com", Password: agentPassword, FirstName: "Agatha", LastName: "Smith"})
	if err != nil {
		t.Fatalf("story set-up through the load balancer: %v", err)
	}
	if err := demo.WaitProvisioned(ctx, gh, st.AppID, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return &storyCluster{cluster: c, sb: sb, rec: rec, gh: gh, story: st}
}

// TestClusterProvisioning: 30 agents assigned through the load balancer
// are provisioned by both nodes' runners from the one queue; node A is
// killed in the middle, and node B takes over A's jobs when their leases
// expire and finishes the work. Every Connect user is created exactly
// once: the sandbox answers one successful CreateUser per agent.
func TestClusterProvisioning(t *testing.T) {
	t.Parallel()
	e := newStoryCluster(t, clusterOptions{})
	a, b := e.nodes[0], e.nodes[1]
	ctx := context.Background()
	// A modest Connect rate per node keeps the run going long enough to
	// kill a node in the middle of it.
	ps, err := b.aws.Provisioning(ctx, e.story.AppID)
	if err != nil {
		t.Fatal(err)
	}
	ps.APIRate, ps.APIBurst = 6, 2
	if err := b.aws.SaveProvisioning(ctx, e.story.AppID, ps); err != nil {
		t.Fatal(err)
	}

	const n = 30
	ids := make([]string, n)
	parallel(t, n, func(i int) error {
		login := fmt.Sprintf("agent%02d@example.com", i)
		var u map[string]any
		err := e.gh.Do(ctx, "POST", "/api/v1/users?activate=true", map[string]any{
			"profile":     map[string]any{"login": login, "email": login, "firstName": "Agent", "lastName": fmt.Sprintf("N%02d", i)},
			"credentials": map[string]any{"password": map[string]any{"value": agentPassword}},
		}, &u)
		if err == nil {
			ids[i] = u["id"].(string)
		}
		return err
	})
	parallel(t, n, func(i int) error {
		return e.gh.Do(ctx, "POST", "/api/v1/apps/"+e.story.AppID+"/users", map[string]any{
			"id": ids[i], "scope": "USER", "credentials": map[string]any{"userName": fmt.Sprintf("agent%02d@example.com", i)},
			"profile": map[string]any{"role": demo.RoleName, "samlRoles": []string{demo.RoleName}},
		}, nil)
	})

	// Kill A once both nodes have done some of the work.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ran := map[string]int{}
		for _, r := range e.jobs.snapshot() {
			if r.kind == awsapp.KindConnectSync && r.err == nil {
				ran[r.node]++
			}
		}
		if ran["a"] >= 3 && ran["b"] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the nodes ran %v syncs", ran)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.kill()
	killed := time.Now()
	atKill := len(e.sb.ConnectUsers(""))
	orphans := map[string]bool{}
	running, _, err := b.queue.List(ctx, provisioning.Filter{AppID: e.story.AppID, State: provisioning.Running}, "", provisioning.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range running {
		if strings.HasPrefix(j.LeaseOwner, "a/") {
			orphans[j.ID] = true
		}
	}
	if atKill >= n+1 || len(orphans) == 0 {
		t.Fatalf("at the kill: %d of %d Connect users, %d jobs held by A: the test proves nothing", atKill, n+1, len(orphans))
	}

	if err := demo.WaitProvisioned(ctx, e.gh, e.story.AppID, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	tookOver := time.Since(killed)

	// Connect has each agent once, created once.
	users := e.sb.ConnectUsers("")
	seen := map[string]int{}
	for _, u := range users {
		seen[u.Username]++
	}
	if len(users) != n+1 || len(seen) != n+1 {
		t.Fatalf("%d Connect users (%d names), want %d", len(users), len(seen), n+1)
	}
	e.rec.mu.Lock()
	duplicates := 0
	for name := range seen {
		if got := e.rec.created[name]; got != 1 {
			t.Errorf("Connect created %s %d times", name, got)
		}
		duplicates += e.rec.duplicates[name]
	}
	e.rec.mu.Unlock()
	// A CreateUser that A sent before it died and B repeats finds the user
	// and links it: at most one duplicate answer per orphaned job.
	if duplicates > len(orphans) {
		t.Errorf("%d DuplicateResource answers for %d orphaned jobs", duplicates, len(orphans))
	}

	// Every job A held when it died was finished by B.
	after := map[string]bool{}
	for _, r := range e.jobs.snapshot() {
		if r.node == "b" && r.err == nil && r.start.After(killed) {
			after[r.id] = true
		}
	}
	for id := range orphans {
		j, err := b.queue.Job(ctx, id)
		if err != nil || j.State != provisioning.Succeeded || !after[id] || j.Attempts < 2 {
			t.Errorf("job %s held by A at its death: %+v (run by B after: %v) %v", id, j, after[id], err)
		}
	}
	counts, err := b.queue.Status(ctx, e.story.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Counts[provisioning.Failed] != 0 || counts.Counts[provisioning.Succeeded] < n+1 {
		t.Fatalf("job counts: %v", counts.Counts)
	}
	t.Logf("A killed with %d/%d Connect users and %d jobs; B finished %s later; %d CreateUser calls, %d duplicate answers",
		atKill, n+1, len(orphans), tookOver.Round(100*time.Millisecond), e.sb.Calls("CreateUser"), duplicates)
}

// parallel runs f(0..n-1) on four workers and fails the test on the first
// error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				if err := f(i); err != nil {
					errc <- fmt.Errorf("%d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// TestClusterPeriodicJobs: with both nodes' schedulers ticking and both
// runners working, each periodic series (the role refresh and the Connect
// reconciliation of the story's app) runs again and again, at most once
// per interval and never twice at the same time, and each new job of a
// series waits the series' interval after the previous one, whichever
// node enqueued it.
func TestClusterPeriodicJobs(t *testing.T) {
	t.Parallel()
	const every = 400 * time.Millisecond
	e := newStoryCluster(t, clusterOptions{periodic: every, jobDelay: 150 * time.Millisecond})
	ctx := context.Background()
	since := time.Now()
	// Let both series run several times (however loaded the machine is),
	// then stop every runner and scheduler.
	runs := func() map[string]map[string]int {
		byKind := map[string]map[string]int{}
		for _, r := range e.jobs.snapshot() {
			if r.err != nil || r.start.Before(since) || (r.kind != awsapp.KindRefreshRoles && r.kind != awsapp.KindConnectReconcile) {
				continue
			}
			if byKind[r.kind] == nil {
				byKind[r.kind] = map[string]int{}
			}
			byKind[r.kind][r.node]++
		}
		return byKind
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		byKind := runs()
		total := func(kind string) int { return byKind[kind]["a"] + byKind[kind]["b"] }
		if total(awsapp.KindRefreshRoles) >= 5 && total(awsapp.KindConnectReconcile) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 40s the periodic jobs ran %v times (every %s)", byKind, every)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, n := range e.nodes {
		n.stopJobs()
	}
	elapsed := time.Since(since)
	byKind := runs()
	for _, kind := range []string{awsapp.KindRefreshRoles, awsapp.KindConnectReconcile} {
		// At most one run per interval: more would mean a second job
		// of the series (the check below says which).
		if n := byKind[kind]["a"] + byKind[kind]["b"]; n > int(elapsed/every)+1 {
			t.Errorf("%s ran %d times in %s (every %s)", kind, n, elapsed.Round(time.Millisecond), every)
		}
		// The series in the database: one job at a time, each created at
		// least the interval after the one before.
		jobs, _, err := e.nodes[0].queue.List(ctx, provisioning.Filter{AppID: e.story.AppID, Kind: kind}, "", provisioning.MaxListLimit)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(jobs, func(i, j int) bool { return jobs[i].Created.Before(jobs[j].Created) })
		var prev *provisioning.Job
		for _, j := range jobs {
			if j.Created.Before(since) {
				prev = j
				continue
			}
			if prev != nil && j.Created.Sub(prev.Created) < every {
				t.Errorf("%s: job %s created %s after %s", kind, j.ID, j.Created.Sub(prev.Created), prev.ID)
			}
			prev = j
		}
		t.Logf("%s: runs by node %v", kind, byKind[kind])
	}
	// Overlaps (two runs of one series at once) fail the test in the
	// cluster's cleanup, from the trace of every run.
}

// Package conformance is the test suite every implementation of
// provisioning.Store must pass, driving the store through the Queue,
// Runner and Scheduler of package provisioning with a fake clock. sqlstore
// runs it on SQLite and PostgreSQL.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Run runs the suite; newStore returns an empty store for each subtest.
// Subtests run one after another, so newStore may hand out one database
// emptied between subtests.
func Run(t *testing.T, newStore func(t *testing.T) provisioning.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s provisioning.Store)
	}{
		{"EnqueueRoundTrip", testRoundTrip},
		{"EnqueueRollbackLeavesNoJob", testRollback},
		{"DedupeCoalescesPending", testCoalesce},
		{"FollowUpWhileRunning", testFollowUp},
		{"CoalesceUnderConcurrency", testCoalesceConcurrent},
		{"ClaimExclusivity", testClaimExclusive},
		{"LeaseExpiryReclaims", testLeaseExpiry},
		{"RenewKeepsLease", testRenew},
		{"BackoffSchedule", testBackoff},
		{"RetryAfterHonored", testRetryAfter},
		{"PermanentFailure", testPermanent},
		{"PanicFailsJob", testPanic},
		{"MaxAttempts", testMaxAttempts},
		{"AbandonedAfterExpiredLeases", testAbandoned},
		{"SucceededResult", testSucceeded},
		{"RetryAndCancel", testRetryCancel},
		{"CancelRunning", testCancelRunning},
		{"SupersededRetry", testSuperseded},
		{"StatusCounts", testStatus},
		{"ListPaging", testList},
		{"Scheduler", testScheduler},
		{"SchedulersRace", testSchedulersRace},
		{"KindsFilterClaims", testKinds},
		{"Prune", testPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var src = ids.NewSource(nil)

func queue(s provisioning.Store, c *Clock) *provisioning.Queue {
	return &provisioning.Queue{Store: s, IDs: src, Now: c.Now}
}

func runner(s provisioning.Store, c *Clock, h map[string]provisioning.Handler) *provisioning.Runner {
	return &provisioning.Runner{Store: s, Handlers: h, Now: c.Now, IDs: src, Lease: 10 * time.Second, Node: "test",
		Backoff: provisioning.Backoff{Rand: func(n int64) int64 { return n / 2 }}}
}

func enqueue(t *testing.T, q *provisioning.Queue, jobs ...*provisioning.Job) {
	t.Helper()
	err := q.Store.UpdateJobs(context.Background(), func(tx provisioning.Tx) error {
		for _, j := range jobs {
			if err := q.Enqueue(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

func get(t *testing.T, s provisioning.Store, id string) *provisioning.Job {
	t.Helper()
	j, err := s.Job(context.Background(), id)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return j
}

func userJob(kind, app, user, payload string) *provisioning.Job {
	return &provisioning.Job{Kind: kind, AppID: app, UserID: user, DedupeKey: "app:" + app + ":user:" + user, Payload: json.RawMessage(payload)}
}

func claim(t *testing.T, s provisioning.Store, c *Clock, owner string, lease time.Duration, kinds ...string) *provisioning.Job {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []string{provisioning.KindConnectCreateUser, provisioning.KindConnectUpdateUser, provisioning.KindConnectDeleteUser}
	}
	j, err := s.ClaimJob(context.Background(), provisioning.Claim{Owner: owner, Kinds: kinds, Now: c.Now(), LeaseUntil: c.Now().Add(lease)})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return j
}

func runOnce(t *testing.T, r *provisioning.Runner) bool {
	t.Helper()
	ran, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("run once: %v", err)
	}
	return ran
}

func testRoundTrip(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{"username":"ana@example.com"}`)
	enqueue(t, q, j)
	got := get(t, s, j.ID)
	if got.Kind != j.Kind || got.AppID != "0oa1" || got.UserID != "00u1" || got.DedupeKey != "app:0oa1:user:00u1" ||
		string(got.Payload) != `{"username":"ana@example.com"}` || got.State != provisioning.Pending || got.Attempts != 0 ||
		got.MaxAttempts != provisioning.DefaultMaxAttempts || !got.RunAfter.Equal(c.Now()) || !got.Created.Equal(c.Now()) ||
		got.LeaseOwner != "" || !got.LeaseExpires.IsZero() || got.Result != nil || got.LastError != "" {
		t.Fatalf("round trip mismatch: %+v", got)
	}
	var p struct{ Username string }
	if err := got.Decode(&p); err != nil || p.Username != "ana@example.com" {
		t.Fatalf("decode payload: %v %+v", err, p)
	}
	// A job without a payload or a dedupe key.
	k := &provisioning.Job{Kind: provisioning.KindConnectReconcile, AppID: "0oa1"}
	enqueue(t, q, k)
	if g := get(t, s, k.ID); string(g.Payload) != "{}" || g.DedupeKey != "" {
		t.Fatalf("defaults: %+v", g)
	}
	if _, err := s.Job(context.Background(), "job_missing_missing"); !isKind(err, errs.NotFound) {
		t.Fatalf("missing job: want NotFound, got %v", err)
	}
	if err := s.UpdateJobs(context.Background(), func(tx provisioning.Tx) error {
		return q.Enqueue(tx, &provisioning.Job{Kind: "x", Payload: json.RawMessage("{not json")})
	}); err == nil {
		t.Fatal("invalid payload accepted")
	}
}

func isKind(err error, k errs.Kind) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == k
}

func testRollback(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	boom := errors.New("the user change failed validation")
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	err := s.UpdateJobs(context.Background(), func(tx provisioning.Tx) error {
		if err := q.Enqueue(tx, j); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want the domain error back, got %v", err)
	}
	if _, err := s.Job(context.Background(), j.ID); !isKind(err, errs.NotFound) {
		t.Fatalf("job survived the rollback: %v", err)
	}
	if got := claim(t, s, c, "w", time.Minute); got != nil {
		t.Fatalf("claimed a rolled-back job %s", got.ID)
	}
	// The dedupe key is free again.
	k := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{"n":2}`)
	enqueue(t, q, k)
	if k.ID == j.ID || get(t, s, k.ID).State != provisioning.Pending {
		t.Fatalf("enqueue after rollback: %+v", k)
	}
}

func testCoalesce(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	a := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{"v":1}`)
	enqueue(t, q, a)
	c.Advance(time.Second)
	b := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"v":2}`)
	enqueue(t, q, b)
	if b.ID != a.ID {
		t.Fatalf("coalesced enqueue should report the pending job's id %s, got %s", a.ID, b.ID)
	}
	got := get(t, s, a.ID)
	if string(got.Payload) != `{"v":2}` || got.Kind != provisioning.KindConnectUpdateUser || !got.Created.Equal(a.Created) ||
		!got.Updated.Equal(c.Now()) || got.State != provisioning.Pending {
		t.Fatalf("coalesced job: %+v", got)
	}
	// Another user, another app, and jobs without keys stay separate.
	enqueue(t, q, userJob(provisioning.KindConnectCreateUser, "0oa1", "00u2", `{}`), userJob(provisioning.KindConnectCreateUser, "0oa2", "00u1", `{}`),
		&provisioning.Job{Kind: provisioning.KindConnectReconcile, AppID: "0oa1"}, &provisioning.Job{Kind: provisioning.KindConnectReconcile, AppID: "0oa1"})
	all, err := s.Jobs(ctx, provisioning.Filter{}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("want 5 jobs, got %d", len(all))
	}
	// Coalescing within one transaction too.
	x := userJob(provisioning.KindConnectUpdateUser, "0oa3", "00u1", `{"v":1}`)
	y := userJob(provisioning.KindConnectUpdateUser, "0oa3", "00u1", `{"v":3}`)
	enqueue(t, q, x, y)
	if x.ID != y.ID || string(get(t, s, x.ID).Payload) != `{"v":3}` {
		t.Fatalf("same-transaction coalescing failed: %s %s", x.ID, y.ID)
	}
}

func testFollowUp(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	a := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{"v":1}`)
	enqueue(t, q, a)
	first := claim(t, s, c, "w1", time.Minute)
	if first == nil || first.ID != a.ID || first.State != provisioning.Running || first.Attempts != 1 || first.LeaseOwner != "w1" {
		t.Fatalf("claim: %+v", first)
	}
	b := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"v":2}`)
	enqueue(t, q, b)
	if b.ID == a.ID {
		t.Fatal("enqueue while running must add a follow-up, not touch the running job")
	}
	if got := get(t, s, a.ID); string(got.Payload) != `{"v":1}` || got.State != provisioning.Running {
		t.Fatalf("running job changed: %+v", got)
	}
	if got := claim(t, s, c, "w2", time.Minute); got != nil {
		t.Fatalf("follow-up %s ran while the job for its key was running", got.ID)
	}
	cc := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"v":3}`)
	enqueue(t, q, cc)
	if cc.ID != b.ID {
		t.Fatal("a second enqueue must coalesce into the pending follow-up")
	}
	first.State, first.Updated = provisioning.Succeeded, c.Now()
	finish(t, s, first, "w1")
	next := claim(t, s, c, "w2", time.Minute)
	if next == nil || next.ID != b.ID || string(next.Payload) != `{"v":3}` {
		t.Fatalf("follow-up not claimed after the first finished: %+v", next)
	}
}

func finish(t *testing.T, s provisioning.Store, j *provisioning.Job, owner string) {
	t.Helper()
	j.LeaseOwner, j.LeaseExpires = "", time.Time{}
	err := s.UpdateJobs(context.Background(), func(tx provisioning.Tx) error {
		ok, err := tx.SetJobState(j, provisioning.Running, owner)
		if err == nil && !ok {
			err = fmt.Errorf("lease of %s lost", j.ID)
		}
		return err
	})
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
}

func testClaimExclusive(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	const jobs, claimers = 120, 12
	var all []*provisioning.Job
	for i := range jobs {
		if i%3 == 0 {
			all = append(all, &provisioning.Job{Kind: provisioning.KindConnectUpdateUser, AppID: "0oa1"})
		} else {
			all = append(all, userJob(provisioning.KindConnectUpdateUser, "0oa1", fmt.Sprintf("00u%03d", i), `{}`))
		}
	}
	enqueue(t, q, all...)
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	errc := make(chan error, claimers)
	for w := range claimers {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for {
				j, err := s.ClaimJob(context.Background(), provisioning.Claim{Owner: owner, Kinds: []string{provisioning.KindConnectUpdateUser},
					Now: c.Now(), LeaseUntil: c.Now().Add(time.Minute)})
				if err != nil {
					errc <- err
					return
				}
				if j == nil {
					return
				}
				mu.Lock()
				prev, dup := claimed[j.ID]
				claimed[j.ID] = owner
				mu.Unlock()
				if dup {
					errc <- fmt.Errorf("job %s claimed by %s and again by %s", j.ID, prev, owner)
					return
				}
				if j.LeaseOwner != owner || j.Attempts != 1 {
					errc <- fmt.Errorf("claimed job %+v", j)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if len(claimed) != jobs {
		t.Fatalf("claimed %d of %d jobs", len(claimed), jobs)
	}
	counts, err := s.JobCounts(context.Background(), "")
	if err != nil || counts[provisioning.Running] != jobs {
		t.Fatalf("counts %v %v", counts, err)
	}
}

func testLeaseExpiry(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	j := userJob(provisioning.KindConnectDeleteUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	a := claim(t, s, c, "crashed", 10*time.Second)
	if a == nil || !a.LeaseExpires.Equal(c.Now().Add(10*time.Second)) {
		t.Fatalf("claim: %+v", a)
	}
	c.Advance(9 * time.Second)
	if got := claim(t, s, c, "b", 10*time.Second); got != nil {
		t.Fatal("claimed a job under a live lease")
	}
	c.Advance(time.Second)
	b := claim(t, s, c, "b", 10*time.Second)
	if b == nil || b.ID != j.ID || b.Attempts != 2 || b.LeaseOwner != "b" {
		t.Fatalf("expired lease not re-claimed: %+v", b)
	}
	ok, err := s.RenewJobLease(context.Background(), j.ID, "crashed", c.Now().Add(time.Hour), c.Now())
	if err != nil || ok {
		t.Fatalf("old owner renewed a lost lease: %v %v", ok, err)
	}
	a.State = provisioning.Succeeded
	err = s.UpdateJobs(context.Background(), func(tx provisioning.Tx) error {
		ok, err := tx.SetJobState(a, provisioning.Running, "crashed")
		if ok {
			return errors.New("old owner wrote the outcome of a re-claimed job")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, j.ID); got.State != provisioning.Running || got.LeaseOwner != "b" {
		t.Fatalf("job after stale finish: %+v", got)
	}
}

func testRenew(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	j := userJob(provisioning.KindConnectDeleteUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	claim(t, s, c, "a", 10*time.Second)
	c.Advance(8 * time.Second)
	ok, err := s.RenewJobLease(context.Background(), j.ID, "a", c.Now().Add(10*time.Second), c.Now())
	if err != nil || !ok {
		t.Fatalf("renew: %v %v", ok, err)
	}
	c.Advance(8 * time.Second)
	if got := claim(t, s, c, "b", 10*time.Second); got != nil {
		t.Fatal("a renewed lease was taken")
	}
	if got := get(t, s, j.ID); !got.LeaseExpires.Equal(c.Now().Add(2 * time.Second)) {
		t.Fatalf("lease expires %v", got.LeaseExpires)
	}
}

func testBackoff(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	calls := 0
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			calls++
			return nil, provisioning.Retryable(errors.New("ThrottlingException: Rate exceeded"), 0)
		},
	})
	r.Backoff.Base, r.Backoff.Cap = time.Second, 5*time.Second
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	j.MaxAttempts = 6
	enqueue(t, q, j)
	// Rand returns n/2: the delay is half the ceiling 1s, 2s, 4s, 5s, 5s.
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond}
	for i, d := range want {
		if !runOnce(t, r) {
			t.Fatalf("attempt %d: nothing due", i+1)
		}
		got := get(t, s, j.ID)
		if got.State != provisioning.Pending || got.Attempts != i+1 || !got.RunAfter.Equal(c.Now().Add(d)) ||
			got.LastError != "ThrottlingException: Rate exceeded" || got.LeaseOwner != "" || !got.LeaseExpires.IsZero() {
			t.Fatalf("after attempt %d: want pending due in %v, got %+v (now %v)", i+1, d, got, c.Now())
		}
		c.Advance(d - time.Millisecond)
		if runOnce(t, r) {
			t.Fatalf("attempt %d ran before its backoff ended", i+2)
		}
		c.Advance(time.Millisecond)
	}
	if !runOnce(t, r) {
		t.Fatal("last attempt not due")
	}
	got := get(t, s, j.ID)
	if got.State != provisioning.Failed || got.Attempts != 6 || calls != 6 ||
		got.LastError != "Failed after 6 attempts: ThrottlingException: Rate exceeded" {
		t.Fatalf("after max attempts: calls %d, %+v", calls, got)
	}
	if runOnce(t, r) {
		t.Fatal("a failed job ran again")
	}
}

func testRetryAfter(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			return nil, provisioning.Retryable(errors.New("LimitExceededException"), 42*time.Second)
		},
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	runOnce(t, r)
	if got := get(t, s, j.ID); !got.RunAfter.Equal(c.Now().Add(42 * time.Second)) {
		t.Fatalf("RetryAfter not honored: %+v", got)
	}
	// An unclassified error is retried on the backoff schedule.
	c.Advance(42 * time.Second)
	r.Handlers[provisioning.KindConnectCreateUser] = func(ctx context.Context, j *provisioning.Job) (any, error) {
		return nil, errors.New("connection reset by peer")
	}
	runOnce(t, r)
	if got := get(t, s, j.ID); got.State != provisioning.Pending || !got.RunAfter.Equal(c.Now().Add(time.Second)) || got.Attempts != 2 {
		t.Fatalf("plain error: %+v", got)
	}
}

func testPermanent(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			return nil, provisioning.Permanent(fmt.Errorf("create user: %w", errors.New("InvalidParameterException: RoutingProfileId is not valid")))
		},
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	runOnce(t, r)
	got := get(t, s, j.ID)
	if got.State != provisioning.Failed || got.Attempts != 1 || got.LastError != "create user: InvalidParameterException: RoutingProfileId is not valid" {
		t.Fatalf("permanent failure: %+v", got)
	}
}

func testPanic(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) { panic("nil map") },
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	runOnce(t, r)
	if got := get(t, s, j.ID); got.State != provisioning.Failed || !strings.Contains(got.LastError, "handler panicked: nil map") {
		t.Fatalf("panic: %+v", got)
	}
}

func testMaxAttempts(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			return nil, provisioning.Retryable(errors.New("InternalServiceException"), 0)
		},
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	for i := range provisioning.DefaultMaxAttempts {
		c.Advance(10 * time.Minute)
		if !runOnce(t, r) {
			t.Fatalf("attempt %d not due", i+1)
		}
	}
	got := get(t, s, j.ID)
	if got.State != provisioning.Failed || got.Attempts != provisioning.DefaultMaxAttempts || !strings.HasSuffix(got.LastError, "InternalServiceException") {
		t.Fatalf("after %d attempts: %+v", provisioning.DefaultMaxAttempts, got)
	}
}

func testAbandoned(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ran := false
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) { ran = true; return nil, nil },
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	j.MaxAttempts = 2
	enqueue(t, q, j)
	for range 2 { // two claims whose holders die
		if claim(t, s, c, "dies", time.Second) == nil {
			t.Fatal("not claimed")
		}
		c.Advance(2 * time.Second)
	}
	runOnce(t, r)
	got := get(t, s, j.ID)
	if ran || got.State != provisioning.Failed || !strings.HasPrefix(got.LastError, "Abandoned after 2 attempts") {
		t.Fatalf("ran=%v %+v", ran, got)
	}
}

func testSucceeded(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	var seen *provisioning.Job
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			seen = j
			return map[string]string{"UserId": "b0e1c2", "UserArn": "arn:aws:connect:us-east-1:123456789012:instance/i/agent/b0e1c2"}, nil
		},
		provisioning.KindConnectDeleteUser: func(ctx context.Context, j *provisioning.Job) (any, error) { return nil, nil },
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{"username":"ana"}`)
	d := userJob(provisioning.KindConnectDeleteUser, "0oa1", "00u2", `{}`)
	enqueue(t, q, j, d)
	c.Advance(time.Second)
	runOnce(t, r)
	runOnce(t, r)
	if seen == nil || seen.ID != j.ID || seen.State != provisioning.Running || seen.Attempts != 1 || string(seen.Payload) != `{"username":"ana"}` {
		t.Fatalf("handler saw %+v", seen)
	}
	got := get(t, s, j.ID)
	if got.State != provisioning.Succeeded || string(got.Result) != `{"UserArn":"arn:aws:connect:us-east-1:123456789012:instance/i/agent/b0e1c2","UserId":"b0e1c2"}` ||
		got.LeaseOwner != "" || !got.LeaseExpires.IsZero() || !got.Updated.Equal(c.Now()) {
		t.Fatalf("succeeded job: %+v", got)
	}
	if got := get(t, s, d.ID); got.State != provisioning.Succeeded || got.Result != nil {
		t.Fatalf("nil result: %+v", got)
	}
}

func testRetryCancel(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			return nil, provisioning.Permanent(errors.New("AccessDeniedException"))
		},
	})
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	if _, err := q.Retry(ctx, j.ID); !isKind(err, errs.IllegalState) {
		t.Fatalf("retry of a pending job: %v", err)
	}
	runOnce(t, r)
	c.Advance(time.Minute)
	got, err := q.Retry(ctx, j.ID)
	if err != nil || got.State != provisioning.Pending || got.Attempts != 0 || !got.RunAfter.Equal(c.Now()) {
		t.Fatalf("retry: %v %+v", err, got)
	}
	if stored := get(t, s, j.ID); stored.State != provisioning.Pending || stored.Attempts != 0 || stored.LastError != "AccessDeniedException" {
		t.Fatalf("stored after retry: %+v", stored)
	}
	got, err = q.Cancel(ctx, j.ID)
	if err != nil || got.State != provisioning.Canceled {
		t.Fatalf("cancel: %v %+v", err, got)
	}
	if runOnce(t, r) {
		t.Fatal("a canceled job ran")
	}
	if _, err := q.Cancel(ctx, j.ID); !isKind(err, errs.IllegalState) {
		t.Fatalf("cancel twice: %v", err)
	}
	if _, err := q.Retry(ctx, "job_does_not_exist0"); !isKind(err, errs.NotFound) {
		t.Fatalf("retry missing: %v", err)
	}
	// A failed job can be dismissed with Cancel; a failed job whose key has
	// a newer pending job cannot be retried.
	k := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u2", `{}`)
	enqueue(t, q, k)
	runOnce(t, r)
	enqueue(t, q, userJob(provisioning.KindConnectCreateUser, "0oa1", "00u2", `{"newer":true}`))
	if _, err := q.Retry(ctx, k.ID); !isKind(err, errs.Conflict) {
		t.Fatalf("retry under a newer pending job: %v", err)
	}
	if got, err := q.Cancel(ctx, k.ID); err != nil || got.State != provisioning.Canceled {
		t.Fatalf("cancel failed job: %v %+v", err, got)
	}
}

func testCancelRunning(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(hctx context.Context, j *provisioning.Job) (any, error) {
			close(started)
			select {
			case <-release:
			case <-hctx.Done():
			}
			return "done", nil
		},
	})
	r.Lease = 30 * time.Millisecond // renewals every 10ms notice the cancel
	j := userJob(provisioning.KindConnectCreateUser, "0oa1", "00u1", `{}`)
	enqueue(t, q, j)
	done := make(chan error, 1)
	go func() { _, err := r.RunOnce(ctx); done <- err }()
	<-started
	if _, err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the handler of a canceled job was not canceled")
	}
	if got := get(t, s, j.ID); got.State != provisioning.Canceled || got.Result != nil {
		t.Fatalf("canceled running job: %+v", got)
	}
}

func testSuperseded(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	var follow *provisioning.Job
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectUpdateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			if follow == nil {
				follow = userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"v":2}`)
				enqueue(t, q, follow)
			}
			return nil, provisioning.Retryable(errors.New("ThrottlingException"), 0)
		},
	})
	j := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"v":1}`)
	enqueue(t, q, j)
	runOnce(t, r)
	got := get(t, s, j.ID)
	if got.State != provisioning.Canceled || !strings.HasPrefix(got.LastError, "Superseded by job "+follow.ID) {
		t.Fatalf("old job: %+v", got)
	}
	if f := get(t, s, follow.ID); f.State != provisioning.Pending || string(f.Payload) != `{"v":2}` {
		t.Fatalf("follow-up: %+v", f)
	}
}

func testStatus(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	fail := map[string]bool{"00u2": true, "00u3": true}
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
			if fail[j.UserID] {
				return nil, provisioning.Permanent(errors.New("DuplicateResourceException: User " + j.UserID + " exists"))
			}
			return nil, nil
		},
	})
	for i := 1; i <= 4; i++ {
		enqueue(t, q, userJob(provisioning.KindConnectCreateUser, "0oa1", fmt.Sprintf("00u%d", i), `{}`))
		c.Advance(time.Second)
	}
	for range 4 {
		runOnce(t, r)
		c.Advance(time.Second)
	}
	enqueue(t, q, userJob(provisioning.KindConnectCreateUser, "0oa1", "00u9", `{}`), userJob(provisioning.KindConnectCreateUser, "0oa2", "00u1", `{}`))
	claim(t, s, c, "w", time.Minute) // 0oa1/00u9 runs
	st, err := q.Status(ctx, "0oa1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[provisioning.State]int{provisioning.Pending: 0, provisioning.Running: 1, provisioning.Succeeded: 2, provisioning.Failed: 2, provisioning.Canceled: 0}
	if fmt.Sprint(st.Counts) != fmt.Sprint(want) {
		t.Fatalf("counts: got %v want %v", st.Counts, want)
	}
	if len(st.RecentFailures) != 2 || st.RecentFailures[0].UserID != "00u3" || st.RecentFailures[1].UserID != "00u2" ||
		st.RecentFailures[0].LastError != "DuplicateResourceException: User 00u3 exists" {
		t.Fatalf("recent failures: %+v", st.RecentFailures)
	}
	all, err := q.Status(ctx, "")
	if err != nil || all.Counts[provisioning.Pending] != 1 || all.Counts[provisioning.Running] != 1 {
		t.Fatalf("all apps: %v %+v", err, all)
	}
}

func testList(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	var made []*provisioning.Job
	for i := range 5 {
		j := userJob(provisioning.KindConnectUpdateUser, "0oa1", fmt.Sprintf("00u%d", i%2), `{}`)
		j.DedupeKey = ""
		made = append(made, j)
		enqueue(t, q, j)
	}
	enqueue(t, q, userJob(provisioning.KindConnectUpdateUser, "0oa2", "00u0", `{}`))
	var ids []string
	after := ""
	for page := 0; ; page++ {
		jobs, next, err := q.List(ctx, provisioning.Filter{AppID: "0oa1"}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		after = next
	}
	want := []string{made[4].ID, made[3].ID, made[2].ID, made[1].ID, made[0].ID}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("pages newest first: got %v want %v", ids, want)
	}
	jobs, _, err := q.List(ctx, provisioning.Filter{AppID: "0oa1", UserID: "00u1", State: provisioning.Pending}, "", 50)
	if err != nil || len(jobs) != 2 || jobs[0].ID != made[3].ID {
		t.Fatalf("filtered: %v %+v", err, jobs)
	}
	if jobs, _, _ := q.List(ctx, provisioning.Filter{State: provisioning.Failed}, "", 50); len(jobs) != 0 {
		t.Fatalf("failed filter: %+v", jobs)
	}
	if _, _, err := q.List(ctx, provisioning.Filter{State: "exploded"}, "", 50); !isKind(err, errs.Invalid) {
		t.Fatalf("bad state: %v", err)
	}
}

func testScheduler(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	series := []provisioning.Periodic{
		{Kind: provisioning.KindConnectReconcile, AppID: "0oa1", DedupeKey: "app:0oa1:reconcile", Interval: time.Hour},
		{Kind: "aws.refresh_roles", AppID: "0oa1", DedupeKey: "app:0oa1:roles", Interval: 10 * time.Minute, Payload: json.RawMessage(`{"full":true}`)},
	}
	sch := &provisioning.Scheduler{Queue: q, Jobs: func(context.Context) ([]provisioning.Periodic, error) { return series, nil }}
	once := func() []*provisioning.Job {
		t.Helper()
		jobs, err := sch.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	first := once()
	if len(first) != 2 || string(first[1].Payload) != `{"full":true}` {
		t.Fatalf("first tick: %+v", first)
	}
	c.Advance(2 * time.Hour)
	if got := once(); len(got) != 0 {
		t.Fatalf("enqueued while one is pending: %+v", got)
	}
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectReconcile: func(context.Context, *provisioning.Job) (any, error) { return nil, nil },
		"aws.refresh_roles":               func(context.Context, *provisioning.Job) (any, error) { return nil, nil },
	})
	runOnce(t, r)
	runOnce(t, r)
	c.Advance(5 * time.Minute) // 2h05 after the first jobs were enqueued
	if got := once(); len(got) != 2 {
		t.Fatalf("after the jobs ran and the intervals passed: %+v", got)
	}
	runOnce(t, r)
	runOnce(t, r)
	c.Advance(30 * time.Minute)
	got := once()
	if len(got) != 1 || got[0].Kind != "aws.refresh_roles" {
		t.Fatalf("only the 10-minute series is due: %+v", got)
	}
	bad := &provisioning.Scheduler{Queue: q, Jobs: func(context.Context) ([]provisioning.Periodic, error) {
		return []provisioning.Periodic{{Kind: "x", Interval: time.Hour}}, nil
	}}
	if _, err := bad.Once(ctx); err == nil {
		t.Fatal("a series without a dedupe key was accepted")
	}
}

// raceStore lets a test act between a scheduler's read of a series'
// latest job and its enqueue of the next one.
type raceStore struct {
	provisioning.Store
	afterLatest func()
}

func (r raceStore) UpdateJobs(ctx context.Context, fn func(provisioning.Tx) error) error {
	return r.Store.UpdateJobs(ctx, func(tx provisioning.Tx) error { return fn(raceTx{Tx: tx, after: r.afterLatest}) })
}

type raceTx struct {
	provisioning.Tx
	after func()
}

func (r raceTx) LatestJob(key string) (*provisioning.Job, error) {
	j, err := r.Tx.LatestJob(key)
	if r.after != nil {
		r.after()
	}
	return j, err
}

// testSchedulersRace: two schedulers (two nodes) tick at once. While one
// has read the series' latest job and not yet enqueued the next, the
// other enqueues it and a runner claims it. The series still gets one job
// for the period, not a second one that would run right after the first.
func testSchedulersRace(t *testing.T, s provisioning.Store) {
	c := NewClock()
	ctx := context.Background()
	series := []provisioning.Periodic{{Kind: provisioning.KindConnectReconcile, AppID: "0oa1", DedupeKey: "app:0oa1:reconcile", Interval: time.Hour}}
	jobs := func(context.Context) ([]provisioning.Periodic, error) { return series, nil }
	other := &provisioning.Scheduler{Queue: queue(s, c), Jobs: jobs}
	var once sync.Once
	var wg sync.WaitGroup
	racing := raceStore{Store: s, afterLatest: func() {
		once.Do(func() {
			// The other node's tick and a claim, given a moment to run
			// before this transaction goes on (a store that makes them
			// wait for it is what the contract asks for).
			wg.Add(1)
			done := make(chan struct{})
			go func() {
				defer wg.Done()
				defer close(done)
				if _, err := other.Once(ctx); err != nil {
					t.Error(err)
				}
				if _, err := s.ClaimJob(ctx, provisioning.Claim{Owner: "node-b", Kinds: []string{provisioning.KindConnectReconcile}, Now: c.Now(), LeaseUntil: c.Now().Add(time.Minute)}); err != nil {
					t.Error(err)
				}
			}()
			select {
			case <-done:
			case <-time.After(300 * time.Millisecond):
			}
		})
	}}
	mine := &provisioning.Scheduler{Queue: queue(racing, c), Jobs: jobs}
	if _, err := mine.Once(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	all, _, err := queue(s, c).List(ctx, provisioning.Filter{AppID: "0oa1"}, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("two schedulers ticking together enqueued %d jobs of one series: %+v", len(all), all)
	}
}

func testKinds(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	enqueue(t, q, &provisioning.Job{Kind: "other.kind"})
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectCreateUser: func(context.Context, *provisioning.Job) (any, error) { return nil, nil },
	})
	if runOnce(t, r) {
		t.Fatal("claimed a job of a kind without a handler")
	}
	if j := claim(t, s, c, "w", time.Minute, "other.kind"); j == nil {
		t.Fatal("job not claimable for its own kind")
	}
}

// Enqueuers and claimers race on one dedupe key: enqueues never fail, at
// most one job for the key runs at a time, and the last enqueue is the
// last to run.
func testCoalesceConcurrent(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	const key = "app:0oa1:user:00u1"
	kinds := []string{provisioning.KindConnectUpdateUser}
	var running, maxRunning, ran int32
	var mu sync.Mutex
	lastPayload := ""
	work := func(owner string) (bool, error) {
		j, err := s.ClaimJob(ctx, provisioning.Claim{Owner: owner, Kinds: kinds, Now: c.Now(), LeaseUntil: c.Now().Add(time.Hour)})
		if err != nil || j == nil {
			return false, err
		}
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		ran++
		lastPayload = string(j.Payload)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		j.State, j.LeaseOwner, j.LeaseExpires = provisioning.Succeeded, "", time.Time{}
		err = s.UpdateJobs(ctx, func(tx provisioning.Tx) error {
			ok, err := tx.SetJobState(j, provisioning.Running, owner)
			if err == nil && !ok {
				err = errors.New("lease lost")
			}
			return err
		})
		return true, err
	}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	stop := make(chan struct{})
	for w := range 6 {
		wg.Go(func() {
			for i := range 15 {
				j := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				if err := q.EnqueueNow(ctx, j); err != nil {
					errc <- fmt.Errorf("enqueue: %w", err)
					return
				}
			}
		})
	}
	var cw sync.WaitGroup
	for w := range 3 {
		cw.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := work(fmt.Sprintf("c%d", w)); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	final := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u1", `{"final":true}`)
	if err := q.EnqueueNow(ctx, final); err != nil {
		t.Fatal(err)
	}
	close(stop)
	cw.Wait()
	for {
		ok, err := work("drain")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if maxRunning != 1 {
		t.Fatalf("%d jobs for one key ran at once", maxRunning)
	}
	if lastPayload != `{"final":true}` {
		t.Fatalf("the last enqueue was lost; last run payload %s", lastPayload)
	}
	counts, err := s.JobCounts(ctx, "0oa1")
	if err != nil || counts[provisioning.Pending] != 0 || counts[provisioning.Running] != 0 || counts[provisioning.Succeeded] != int(ran) {
		t.Fatalf("counts %v (ran %d) %v", counts, ran, err)
	}
	t.Logf("91 enqueues for one key ran as %d jobs", ran)
}

func testPrune(t *testing.T, s provisioning.Store) {
	c := NewClock()
	q := queue(s, c)
	ctx := context.Background()
	r := runner(s, c, map[string]provisioning.Handler{
		provisioning.KindConnectUpdateUser: func(_ context.Context, j *provisioning.Job) (any, error) {
			if j.UserID == "00u2" {
				return nil, provisioning.Permanent(errors.New("AccessDeniedException"))
			}
			return nil, nil
		},
	})
	var jobs []*provisioning.Job
	for i := 1; i <= 3; i++ {
		j := userJob(provisioning.KindConnectUpdateUser, "0oa1", fmt.Sprintf("00u%d", i), `{}`)
		jobs = append(jobs, j)
		enqueue(t, q, j)
	}
	for range 3 {
		runOnce(t, r) // 00u1 and 00u3 succeed, 00u2 fails
	}
	c.Advance(time.Hour)
	canceled := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u4", `{}`)
	pending := userJob(provisioning.KindConnectUpdateUser, "0oa1", "00u5", `{}`)
	enqueue(t, q, canceled, pending)
	if _, err := q.Cancel(ctx, canceled.ID); err != nil {
		t.Fatal(err)
	}
	n, err := q.Prune(ctx, c.Now().Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	for _, want := range []struct {
		id   string
		gone bool
	}{{jobs[0].ID, true}, {jobs[1].ID, false}, {jobs[2].ID, true}, {canceled.ID, false}, {pending.ID, false}} {
		_, err := s.Job(ctx, want.id)
		if gone := isKind(err, errs.NotFound); gone != want.gone {
			t.Fatalf("job %s: gone=%v want %v (%v)", want.id, gone, want.gone, err)
		}
	}
	if n, err := q.Prune(ctx, c.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("second prune: %d %v", n, err)
	}
}

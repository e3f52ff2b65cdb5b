package sqlstore_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/provisioning/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func TestJobsConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) provisioning.Store { return storetest.SQLite(t).Jobs() })
}

// The PostgreSQL suite shares one database, emptied before each subtest:
// creating a database per subtest costs a second each.
func TestJobsConformancePostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conformance.Run(t, func(t *testing.T) provisioning.Store {
		if _, err := raw.Exec("TRUNCATE jobs RESTART IDENTITY"); err != nil {
			t.Fatal(err)
		}
		return db.Jobs()
	})
}

// A job's final failure writes its system-log event in the transaction
// that marks the job failed.
func TestJobsFailureEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		c := conformance.NewClock()
		src := ids.NewSource(nil)
		q := &provisioning.Queue{Store: db.Jobs(), IDs: src, Now: c.Now}
		j := &provisioning.Job{Kind: provisioning.KindConnectCreateUser, AppID: "0oa1", UserID: "00u1", DedupeKey: "app:0oa1:user:00u1"}
		if err := q.EnqueueNow(ctx, j); err != nil {
			t.Fatal(err)
		}
		r := &provisioning.Runner{Store: db.Jobs(), Now: c.Now, IDs: src,
			Events: audit.Builder{Now: c.Now, UUID: func() string { return src.New(ids.Event) }},
			Handlers: map[string]provisioning.Handler{provisioning.KindConnectCreateUser: func(context.Context, *provisioning.Job) (any, error) {
				return nil, provisioning.Permanent(errors.New("AccessDeniedException: User is not authorized to perform connect:CreateUser"))
			}}}
		if ran, err := r.RunOnce(ctx); !ran || err != nil {
			t.Fatalf("run: %v %v", ran, err)
		}
		evs, _, err := db.Events().Query(ctx, audit.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("want one event, got %d", len(evs))
		}
		ev := evs[0]
		if ev.EventType != "application.provision.user.push" || ev.Outcome.Result != audit.Failure ||
			ev.Outcome.Reason != "AccessDeniedException: User is not authorized to perform connect:CreateUser" ||
			len(ev.Target) != 2 || ev.Target[0].ID != "0oa1" || ev.Target[1].ID != "00u1" || ev.Debug["jobId"] != j.ID || ev.Actor.ID != "system" {
			t.Fatalf("event: %+v", ev)
		}
		// Retries write no event; only the final failure does.
		k := &provisioning.Job{Kind: provisioning.KindConnectUpdateUser, AppID: "0oa1", UserID: "00u2"}
		if err := q.EnqueueNow(ctx, k); err != nil {
			t.Fatal(err)
		}
		r.Handlers[provisioning.KindConnectUpdateUser] = func(context.Context, *provisioning.Job) (any, error) {
			return nil, provisioning.Retryable(errors.New("ThrottlingException"), 0)
		}
		r.RunOnce(ctx)
		if evs, _, _ := db.Events().Query(ctx, audit.Query{Limit: 10}); len(evs) != 1 {
			t.Fatalf("a retry wrote an event: %d events", len(evs))
		}
	})
}

// The runner shares one token bucket among its workers: with 2/s and a
// burst of 5, no interval of length w sees more than 5 + 2w handler starts.
func TestJobsRunnerRespectsRateLimit(t *testing.T) {
	db := storetest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 9
	q := &provisioning.Queue{Store: db.Jobs(), IDs: ids.NewSource(nil), Now: time.Now}
	for i := range n {
		if err := q.EnqueueNow(ctx, &provisioning.Job{Kind: provisioning.KindConnectUpdateUser, AppID: "0oa1", UserID: fmt.Sprintf("00u%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var starts []time.Time
	done := make(chan struct{})
	r := &provisioning.Runner{Store: db.Jobs(), Workers: 4, Poll: 10 * time.Millisecond,
		Limiter:  provisioning.NewTokenBuckets(2, 5),
		LimitKey: func(*provisioning.Job) string { return "aws:123456789012:us-east-1" },
		Handlers: map[string]provisioning.Handler{provisioning.KindConnectUpdateUser: func(context.Context, *provisioning.Job) (any, error) {
			mu.Lock()
			starts = append(starts, time.Now())
			if len(starts) == n {
				close(done)
			}
			mu.Unlock()
			return nil, nil
		}}}
	begin := time.Now()
	stopped := make(chan error)
	go func() { stopped <- r.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("jobs did not finish")
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	elapsed := starts[n-1].Sub(begin)
	if elapsed < 2*time.Second-50*time.Millisecond {
		t.Fatalf("%d jobs through a 2/s burst-5 bucket took %v; want at least 2s", n, elapsed)
	}
	const slack = 100 * time.Millisecond
	for i := range starts {
		for j := i; j < len(starts); j++ {
			w := starts[j].Sub(starts[i])
			if allowed := 5 + 2*(w+slack).Seconds(); float64(j-i+1) > allowed {
				t.Fatalf("%d starts within %v exceeds 5 + 2/s", j-i+1, w)
			}
		}
	}
	t.Logf("%d jobs in %v through a 2/s burst-5 bucket", n, elapsed)
}

const crashEnv = "GATEHOUSE_JOBS_CRASH_CHILD"

const crashJobs = 200

// crashHandler records each job's side effect idempotently in crash_effects
// (keyed by the job's dedupe key) and appends every execution to a side
// log, then lingers so that a kill lands between effect and completion.
func crashHandler(side *sql.DB, logPath string) provisioning.Handler {
	var mu sync.Mutex
	return func(ctx context.Context, j *provisioning.Job) (any, error) {
		if _, err := side.ExecContext(ctx, "INSERT INTO crash_effects (key, job_id) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", j.DedupeKey, j.ID); err != nil {
			return nil, provisioning.Retryable(err, 0)
		}
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = f.WriteString(j.DedupeKey + "\n")
			f.Close()
		}
		mu.Unlock()
		if err != nil {
			return nil, err
		}
		time.Sleep(3 * time.Millisecond)
		return map[string]string{"key": j.DedupeKey}, nil
	}
}

func openSide(t testing.TB, path string) *sql.DB {
	side, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	side.SetMaxOpenConns(1)
	return side
}

func crashRunner(db *sqlstore.DB, side *sql.DB, logPath string) *provisioning.Runner {
	return &provisioning.Runner{Store: db.Jobs(), Workers: 4, Lease: 600 * time.Millisecond, Poll: 20 * time.Millisecond, Node: "crash",
		Backoff:  provisioning.Backoff{Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond},
		Handlers: map[string]provisioning.Handler{provisioning.KindConnectCreateUser: crashHandler(side, logPath)}}
}

// TestJobsCrashChild is the process TestJobsSurviveSIGKILL kills.
func TestJobsCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestJobsSurviveSIGKILL")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	side := openSide(t, filepath.Join(dir, "jobs.db"))
	crashRunner(db, side, filepath.Join(dir, "side.log")).Run(ctx) // until killed
}

// A runner killed with SIGKILL mid-way loses no job: a new runner finishes
// all of them, and idempotent handlers record each effect exactly once.
func TestJobsSurviveSIGKILL(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("child")
	}
	ctx := context.Background()
	dir := t.TempDir()
	dbPath, logPath := filepath.Join(dir, "jobs.db"), filepath.Join(dir, "side.log")
	db, err := sqlstore.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	side := openSide(t, dbPath)
	defer side.Close()
	if _, err := side.Exec("CREATE TABLE crash_effects (key TEXT PRIMARY KEY, job_id TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	q := &provisioning.Queue{Store: db.Jobs(), IDs: ids.NewSource(nil), Now: time.Now}
	err = db.Jobs().UpdateJobs(ctx, func(tx provisioning.Tx) error {
		for i := range crashJobs {
			if err := q.Enqueue(tx, &provisioning.Job{Kind: provisioning.KindConnectCreateUser, AppID: "0oa1",
				UserID: fmt.Sprintf("00u%03d", i), DedupeKey: fmt.Sprintf("app:0oa1:user:00u%03d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestJobsCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), crashEnv+"="+dir)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for lines(t, logPath) < crashJobs*2/5 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child made no progress")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	counts, err := db.Jobs().JobCounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if counts[provisioning.Succeeded] == crashJobs {
		t.Fatal("the child finished before it was killed; the test proves nothing")
	}
	t.Logf("at SIGKILL: %v", counts)

	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error)
	go func() { stopped <- crashRunner(db, side, logPath).Run(runCtx) }()
	for {
		counts, err = db.Jobs().JobCounts(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if counts[provisioning.Succeeded] == crashJobs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not all finish after restart: %v", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	var effects, distinct int
	if err := side.QueryRow("SELECT COUNT(*), COUNT(DISTINCT key) FROM crash_effects").Scan(&effects, &distinct); err != nil {
		t.Fatal(err)
	}
	if effects != crashJobs || distinct != crashJobs {
		t.Fatalf("idempotent table holds %d rows (%d distinct); want %d", effects, distinct, crashJobs)
	}
	runs := map[string]int{}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		runs[sc.Text()]++
	}
	twice := 0
	for _, n := range runs {
		if n > 1 {
			twice++
		}
	}
	if len(runs) != crashJobs {
		t.Fatalf("side log names %d jobs; want %d", len(runs), crashJobs)
	}
	// Only jobs in flight at the kill can run twice: at most one per worker.
	if twice > 4 {
		t.Fatalf("%d handlers ran twice; at most 4 were in flight", twice)
	}
	t.Logf("all %d jobs completed; each effect recorded once; %d handlers ran twice (in flight at SIGKILL)", crashJobs, twice)
}

func lines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// BenchmarkRunnerNoop measures jobs/s through claim and complete with a
// handler that does nothing, 4 workers.
func BenchmarkRunnerNoop(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchRunner(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchRunner(b, storetest.Postgres(b)) })
}

func benchRunner(b *testing.B, db *sqlstore.DB) {
	ctx := context.Background()
	q := &provisioning.Queue{Store: db.Jobs(), IDs: ids.NewSource(nil), Now: time.Now}
	for i := 0; i < b.N; i += 500 {
		err := db.Jobs().UpdateJobs(ctx, func(tx provisioning.Tx) error {
			for k := i; k < min(i+500, b.N); k++ {
				if err := q.Enqueue(tx, &provisioning.Job{Kind: "noop", AppID: "0oa1", DedupeKey: fmt.Sprintf("bench:%d", k), Payload: json.RawMessage(`{"n":1}`)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	all := make(chan struct{})
	r := &provisioning.Runner{Store: db.Jobs(), Workers: 4, Poll: 5 * time.Millisecond,
		Handlers: map[string]provisioning.Handler{"noop": func(context.Context, *provisioning.Job) (any, error) {
			if n.Add(1) == int64(b.N) {
				close(all)
			}
			return nil, nil
		}}}
	runCtx, stop := context.WithCancel(ctx)
	b.ResetTimer()
	start := time.Now()
	stopped := make(chan error)
	go func() { stopped <- r.Run(runCtx) }()
	<-all
	stop()
	if err := <-stopped; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

// Stopping waits for a running handler, keeps its lease alive meanwhile,
// and records its outcome; a handler that outlives StopTimeout is canceled
// and its job goes back to pending without spending an attempt.
func TestJobsRunnerStop(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(ctx context.Context) error
		timeout   time.Duration
		wantErr   error
		wantState provisioning.State
		attempts  int
	}{
		{"graceful", func(ctx context.Context) error { time.Sleep(400 * time.Millisecond); return nil }, 5 * time.Second, nil, provisioning.Succeeded, 1},
		{"forced", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 100 * time.Millisecond, provisioning.ErrStopTimeout, provisioning.Pending, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			q := &provisioning.Queue{Store: db.Jobs(), IDs: ids.NewSource(nil), Now: time.Now}
			j := &provisioning.Job{Kind: provisioning.KindConnectUpdateUser, AppID: "0oa1", UserID: "00u1", DedupeKey: "app:0oa1:user:00u1"}
			if err := q.EnqueueNow(ctx, j); err != nil {
				t.Fatal(err)
			}
			started := make(chan struct{})
			r := &provisioning.Runner{Store: db.Jobs(), Workers: 2, Poll: 10 * time.Millisecond, Lease: 150 * time.Millisecond, StopTimeout: tc.timeout,
				Handlers: map[string]provisioning.Handler{provisioning.KindConnectUpdateUser: func(hctx context.Context, _ *provisioning.Job) (any, error) {
					close(started)
					return nil, tc.handler(hctx)
				}}}
			stopped := make(chan error)
			go func() { stopped <- r.Run(ctx) }()
			<-started
			stop()
			if tc.wantState == provisioning.Succeeded {
				// The lease (150ms) is renewed while the stop waits: nobody
				// else may claim the job.
				time.Sleep(250 * time.Millisecond)
				other, err := db.Jobs().ClaimJob(context.Background(), provisioning.Claim{Owner: "other", Kinds: []string{provisioning.KindConnectUpdateUser},
					Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				if other != nil {
					t.Fatal("the lease of a running job lapsed during a graceful stop")
				}
			}
			if err := <-stopped; !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run returned %v; want %v", err, tc.wantErr)
			}
			got, err := db.Jobs().Job(context.Background(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.wantState || got.Attempts != tc.attempts {
				t.Fatalf("after stop: %+v", got)
			}
		})
	}
}

package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Handler does one job. It returns a result to store (marshaled to JSON)
// or an error: Permanent to fail at once, Retryable (or any other error) to
// retry with backoff. Handlers must be idempotent (see the package comment)
// and must return when ctx ends: the runner cancels ctx when the lease is
// lost, the job is canceled, or a stop runs out of patience.
type Handler func(ctx context.Context, j *Job) (result any, err error)

// Runner defaults.
const (
	DefaultWorkers     = 4
	DefaultLease       = 30 * time.Second
	DefaultPoll        = time.Second
	DefaultStopTimeout = 30 * time.Second
)

// Runner runs jobs from a Store with a pool of workers. Set the fields,
// then call Run. Every node may run a Runner on the same database.
type Runner struct {
	Store Store
	// Handlers maps a job kind to its handler; the runner claims only
	// these kinds.
	Handlers map[string]Handler
	Workers  int           // concurrent handlers; default 4
	Lease    time.Duration // lease per claim, renewed every Lease/3; default 30s
	Poll     time.Duration // idle wait when nothing is due; default 1s
	// StopTimeout bounds how long Run waits for running handlers after its
	// context ends before canceling theirs; default 30s.
	StopTimeout time.Duration
	Backoff     Backoff
	// Limiter, when set, is waited on before each handler runs, with the
	// key LimitKey returns for the job (no wait when LimitKey is nil or
	// returns ""). All workers share it.
	Limiter  Limiter
	LimitKey func(*Job) string
	// Events makes the system-log event written, in the same transaction,
	// when a job fails for good. A zero Builder writes no events.
	Events audit.Builder
	// EventType names the event for a job kind; nil uses FailureEventType.
	EventType func(kind string) string
	// Describe, when set, may rewrite the failure event of a job kind
	// that is not about an app or a user (an event hook's delivery).
	Describe map[string]func(j *Job, ev *audit.Event)
	Node     string // names this node in lease owners
	IDs      *ids.Source
	Now      func() time.Time
	Logger   *slog.Logger

	once sync.Once
	wake chan struct{}
}

func (r *Runner) init() {
	r.once.Do(func() {
		if r.Workers <= 0 {
			r.Workers = DefaultWorkers
		}
		if r.Lease <= 0 {
			r.Lease = DefaultLease
		}
		if r.Poll <= 0 {
			r.Poll = DefaultPoll
		}
		if r.StopTimeout <= 0 {
			r.StopTimeout = DefaultStopTimeout
		}
		if r.Now == nil {
			r.Now = time.Now
		}
		if r.IDs == nil {
			r.IDs = ids.NewSource(nil)
		}
		if r.Logger == nil {
			r.Logger = slog.New(slog.DiscardHandler)
		}
		r.wake = make(chan struct{}, r.Workers)
	})
}

func (r *Runner) now() time.Time { return r.Now().UTC().Truncate(time.Millisecond) }

func (r *Runner) kinds() []string {
	out := make([]string, 0, len(r.Handlers))
	for k := range r.Handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Wake tells idle workers to look for due jobs now, for callers that just
// committed a job.
func (r *Runner) Wake() {
	r.init()
	for range r.Workers {
		select {
		case r.wake <- struct{}{}:
		default:
			return
		}
	}
}

// ErrStopTimeout is returned by Run when handlers were still running after
// StopTimeout and had to be canceled.
var ErrStopTimeout = errors.New("provisioning runner: handlers still running at stop; their jobs are released or will be re-claimed when their leases expire")

// Run claims and runs jobs until ctx ends, then stops claiming and waits up
// to StopTimeout for running handlers, whose contexts stay live meanwhile.
// Handlers still running then have their contexts canceled and get the
// same time again to return; a job interrupted this way goes back to
// pending without counting the attempt.
func (r *Runner) Run(ctx context.Context) error {
	r.init()
	if r.Store == nil || len(r.Handlers) == 0 {
		return errors.New("provisioning runner: a store and at least one handler are required")
	}
	work, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	kinds := r.kinds()
	var wg sync.WaitGroup
	for i := range r.Workers {
		wg.Go(func() { r.worker(ctx, work, kinds, i) })
	}
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(r.StopTimeout):
	}
	hardStop()
	select {
	case <-done:
	case <-time.After(r.StopTimeout):
	}
	return ErrStopTimeout
}

func (r *Runner) worker(ctx, work context.Context, kinds []string, n int) {
	for ctx.Err() == nil {
		ran, err := r.runOne(ctx, work, kinds)
		if err != nil && ctx.Err() == nil {
			r.Logger.Error("provisioning: claim failed", "worker", n, "err", err)
		}
		if ran && err == nil {
			continue
		}
		t := time.NewTimer(r.Poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunOnce claims one due job and runs it to its outcome. It reports
// whether there was a job. Tests and tools use it; Run uses the same path.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	r.init()
	return r.runOne(ctx, ctx, r.kinds())
}

func (r *Runner) runOne(claimCtx, work context.Context, kinds []string) (bool, error) {
	now := r.now()
	owner := r.Node + "/" + r.IDs.Secret(16)
	j, err := r.Store.ClaimJob(claimCtx, Claim{Owner: owner, Kinds: kinds, Now: now, LeaseUntil: now.Add(r.Lease)})
	if err != nil || j == nil {
		return false, err
	}
	return true, r.process(work, j)
}

func (r *Runner) process(work context.Context, j *Job) error {
	log := r.Logger.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	owner := j.LeaseOwner
	if j.Attempts > j.MaxAttempts {
		// Every allowed attempt was claimed and none finished: the
		// process died or the handler hung each time.
		j.State = Failed
		j.LastError = fmt.Sprintf("Abandoned after %d attempts: the lease expired while the job was running (the process stopped or the handler did not return).", j.MaxAttempts)
		return r.finish(work, j, owner, log)
	}
	hctx, cancel := context.WithCancel(work)
	var lost bool
	var mu sync.Mutex
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		r.renew(hctx, j, owner, func() { mu.Lock(); lost = true; mu.Unlock(); cancel() }, log)
	}()
	result, herr := r.call(hctx, j)
	cancel()
	<-renewDone
	mu.Lock()
	lostLease := lost
	mu.Unlock()
	if lostLease {
		log.Warn("provisioning: lease lost while running; outcome discarded", "err", herr)
		return nil
	}
	now := r.now()
	j.Updated = now
	switch {
	case herr == nil:
		b, err := json.Marshal(result)
		if err != nil {
			herr = Permanent(fmt.Errorf("encode result: %w", err))
			break
		}
		if result == nil {
			b = nil
		}
		j.State, j.Result, j.LastError = Succeeded, b, ""
		return r.finish(work, j, owner, log)
	case work.Err() != nil:
		// Interrupted by a stop: release without counting the attempt.
		j.State, j.Attempts, j.RunAfter = Pending, j.Attempts-1, now
		j.LastError = "Interrupted by a shutdown: " + errorText(herr)
		return r.finish(context.WithoutCancel(work), j, owner, log)
	}
	j.LastError = errorText(herr)
	permanent, after := classify(herr)
	switch {
	case permanent:
		j.State = Failed
	case j.Attempts >= j.MaxAttempts:
		j.State = Failed
		j.LastError = fmt.Sprintf("Failed after %d attempts: %s", j.Attempts, j.LastError)
	default:
		if after <= 0 {
			after = r.Backoff.Delay(j.Attempts)
		}
		j.State, j.RunAfter = Pending, now.Add(after)
	}
	return r.finish(work, j, owner, log)
}

// call runs the handler after the limiter, turning a panic into a
// permanent failure.
func (r *Runner) call(ctx context.Context, j *Job) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, panicError(p)
		}
	}()
	h := r.Handlers[j.Kind]
	if h == nil {
		return nil, Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	if r.Limiter != nil && r.LimitKey != nil {
		if key := r.LimitKey(j); key != "" {
			if err := r.Limiter.Wait(ctx, key); err != nil {
				return nil, Retryable(fmt.Errorf("rate limiter: %w", err), 0)
			}
		}
	}
	jc := *j // the handler gets its own copy; the runner goes on using j
	return h(ctx, &jc)
}

// renew extends the lease every Lease/3 until ctx ends. It calls lose when
// the lease is gone (the job was canceled or re-claimed) or could not be
// renewed before it expired.
func (r *Runner) renew(ctx context.Context, j *Job, owner string, lose func(), log *slog.Logger) {
	every := max(r.Lease/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	expires := j.LeaseExpires
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.now()
		until := now.Add(r.Lease)
		ok, err := r.Store.RenewJobLease(ctx, j.ID, owner, until, now)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("provisioning: renew lease", "err", err)
			if !now.Before(expires) {
				lose()
				return
			}
		case !ok:
			lose()
			return
		default:
			expires = until
		}
	}
}

// finish writes the outcome while the lease is still ours, with the
// failure event in the same transaction.
func (r *Runner) finish(ctx context.Context, j *Job, owner string, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	j.LeaseOwner, j.LeaseExpires = "", time.Time{}
	j.Updated = r.now()
	err := r.Store.UpdateJobs(ctx, func(tx Tx) error {
		if err := supersede(tx, j); err != nil {
			return err
		}
		ok, err := tx.SetJobState(j, Running, owner)
		if err != nil || !ok {
			if err == nil {
				log.Warn("provisioning: lease lost before the outcome was written; outcome discarded", "state", j.State)
			}
			return err
		}
		if j.State == Failed {
			if ev := r.failureEvent(ctx, j); ev != nil {
				return tx.Append(*ev)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record outcome of job %s: %w", j.ID, err)
	}
	switch j.State {
	case Failed:
		log.Warn("provisioning: job failed", "err", j.LastError)
	case Pending:
		log.Info("provisioning: job will retry", "runAfter", j.RunAfter, "err", j.LastError)
	}
	return nil
}

// supersede cancels a job that would go back to pending while a newer job
// with its dedupe key (a follow-up enqueued while it ran) is pending: the
// newer job carries the later intent and will run instead.
func supersede(tx Tx, j *Job) error {
	if j.State != Pending || j.DedupeKey == "" {
		return nil
	}
	last, err := tx.LatestJob(j.DedupeKey)
	if err != nil {
		return err
	}
	if last != nil && last.ID != j.ID && last.State == Pending {
		j.State = Canceled
		j.LastError = fmt.Sprintf("Superseded by job %s, enqueued while this one ran. Last error: %s", last.ID, j.LastError)
	}
	return nil
}

// FailureEventType names the system-log event of a failed job of the given
// kind, after Okta's application.provision.* events.
func FailureEventType(kind string) string {
	switch kind {
	case KindConnectUpdateUser:
		return "application.provision.user.push_profile"
	case KindConnectDeleteUser:
		return "application.provision.user.deactivate"
	case KindConnectReconcile:
		return "application.provision.user.sync"
	}
	return "application.provision.user.push"
}

func (r *Runner) failureEvent(ctx context.Context, j *Job) *audit.Event {
	if r.Events.Now == nil || r.Events.UUID == nil {
		return nil
	}
	typ := FailureEventType
	if r.EventType != nil {
		typ = r.EventType
	}
	var targets []audit.Target
	if j.AppID != "" {
		targets = append(targets, audit.Target{ID: j.AppID, Type: "AppInstance", AlternateID: "unknown", DisplayName: "unknown"})
	}
	if j.UserID != "" {
		targets = append(targets, audit.Target{ID: j.UserID, Type: "User", AlternateID: "unknown", DisplayName: "unknown"})
	}
	ev := r.Events.New(ctx, typ(j.Kind), "Provisioning failed: "+j.Kind, audit.Failure, targets...)
	ev.Outcome.Reason = j.LastError
	ev.Debug = map[string]string{"jobId": j.ID, "jobKind": j.Kind, "attempts": strconv.Itoa(j.Attempts)}
	if d := r.Describe[j.Kind]; d != nil {
		d(j, &ev)
	}
	return &ev
}

package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Queue enqueues jobs and serves the admin operations on them.
type Queue struct {
	Store Store
	IDs   *ids.Source
	Now   func() time.Time
}

func (q *Queue) now() time.Time { return q.Now().UTC().Truncate(time.Millisecond) }

// Enqueue stores j in tx, the transaction of the change that causes it, so
// the job commits or rolls back with that change. It fills ID, State,
// Created, Updated, MaxAttempts (DefaultMaxAttempts), RunAfter (now) and an
// empty Payload ({}) when unset. With a DedupeKey it may coalesce into a
// pending job (see the package comment); j then carries that job's ID.
func (q *Queue) Enqueue(tx Enqueuer, j *Job) error {
	if j.Kind == "" {
		return errors.New("enqueue job: kind is required")
	}
	if len(j.Payload) == 0 {
		j.Payload = json.RawMessage("{}")
	} else if !json.Valid(j.Payload) {
		return fmt.Errorf("enqueue %s job: payload is not valid JSON", j.Kind)
	}
	now := q.now()
	if j.ID == "" {
		j.ID = q.IDs.New(ids.Job)
	}
	j.State = Pending
	j.Attempts = 0
	j.LeaseOwner, j.LeaseExpires = "", time.Time{}
	j.LastError, j.Result = "", nil
	j.Created, j.Updated = now, now
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = DefaultMaxAttempts
	}
	if j.RunAfter.IsZero() {
		j.RunAfter = now
	}
	if err := tx.EnqueueJob(j); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}

// EnqueueNow enqueues j in a transaction of its own, for work that no
// other change causes (an admin's "sync now").
func (q *Queue) EnqueueNow(ctx context.Context, j *Job) error {
	return q.Store.UpdateJobs(ctx, func(tx Tx) error { return q.Enqueue(tx, j) })
}

// Status summarizes an app's jobs (all apps when appID is empty).
type Status struct {
	Counts map[State]int // every state present, zero when none
	// RecentFailures are the most recently failed jobs, with LastError.
	RecentFailures []*Job
}

// RecentFailureLimit is how many failures Status reports.
const RecentFailureLimit = 20

// Status counts jobs by state and lists recent failures.
func (q *Queue) Status(ctx context.Context, appID string) (*Status, error) {
	counts, err := q.Store.JobCounts(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	st := &Status{Counts: map[State]int{}}
	for _, s := range AllStates() {
		st.Counts[s] = counts[s]
	}
	if st.RecentFailures, err = q.Store.RecentFailedJobs(ctx, appID, RecentFailureLimit); err != nil {
		return nil, fmt.Errorf("list failed jobs: %w", err)
	}
	return st, nil
}

// MaxListLimit bounds one page of List.
const MaxListLimit = 200

// List returns one page of jobs, newest first, and the cursor of the next
// page ("" on the last page).
func (q *Queue) List(ctx context.Context, f Filter, after string, limit int) ([]*Job, string, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if f.State != "" && !validState(f.State) {
		return nil, "", errs.InvalidFields("Invalid job state", errs.Field("state", "unknown job state %q", f.State))
	}
	jobs, err := q.Store.Jobs(ctx, f, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(jobs) > limit {
		jobs = jobs[:limit]
		next = jobs[limit-1].ID
	}
	return jobs, next, nil
}

func validState(s State) bool {
	for _, v := range AllStates() {
		if v == s {
			return true
		}
	}
	return false
}

// Job returns one job.
func (q *Queue) Job(ctx context.Context, id string) (*Job, error) { return q.Store.Job(ctx, id) }

// Retry makes a failed job pending again, due now, with its attempts reset.
func (q *Queue) Retry(ctx context.Context, id string) (*Job, error) {
	var out *Job
	err := q.Store.UpdateJobs(ctx, func(tx Tx) error {
		j, err := tx.JobForUpdate(id)
		if err != nil {
			return err
		}
		if j.State != Failed {
			return &errs.Error{Kind: errs.IllegalState, Msg: fmt.Sprintf("Only a failed job can be retried; this job is %s.", j.State)}
		}
		if j.DedupeKey != "" {
			last, err := tx.LatestJob(j.DedupeKey)
			if err != nil {
				return err
			}
			if last != nil && last.ID != j.ID && (last.State == Pending || last.State == Running) {
				return &errs.Error{Kind: errs.Conflict, Msg: fmt.Sprintf("A newer job (%s) for the same key is %s; it carries the latest change.", last.ID, last.State)}
			}
		}
		now := q.now()
		j.State, j.Attempts, j.RunAfter, j.Updated = Pending, 0, now, now
		j.LeaseOwner, j.LeaseExpires = "", time.Time{}
		ok, err := tx.SetJobState(j, Failed, "")
		if err != nil {
			return err
		}
		if !ok {
			return &errs.Error{Kind: errs.Conflict, Msg: "The job changed while it was being retried; reload and try again."}
		}
		out = j
		return nil
	})
	return out, err
}

// RetryFailed makes every failed job of an app pending again (as Retry
// does) and returns how many it queued. A failed job whose key has a newer
// pending or running job is left as it is: the newer one carries the
// latest change.
func (q *Queue) RetryFailed(ctx context.Context, appID string) (int, error) {
	n, after := 0, ""
	for {
		jobs, next, err := q.List(ctx, Filter{AppID: appID, State: Failed}, after, MaxListLimit)
		if err != nil {
			return n, err
		}
		for _, j := range jobs {
			_, err := q.Retry(ctx, j.ID)
			switch {
			case err == nil:
				n++
			case errs.Is(err, errs.Conflict), errs.Is(err, errs.IllegalState):
			default:
				return n, err
			}
		}
		if next == "" {
			return n, nil
		}
		after = next
	}
}

// Cancel stops a job from running again. A pending or failed job is
// canceled at once; a running job is canceled and its handler's context is
// canceled when the runner next renews the lease, and its outcome is
// discarded. Succeeded and canceled jobs cannot be canceled.
func (q *Queue) Cancel(ctx context.Context, id string) (*Job, error) {
	var out *Job
	err := q.Store.UpdateJobs(ctx, func(tx Tx) error {
		j, err := tx.JobForUpdate(id)
		if err != nil {
			return err
		}
		from := j.State
		if from == Succeeded || from == Canceled {
			return &errs.Error{Kind: errs.IllegalState, Msg: fmt.Sprintf("The job is already %s.", from)}
		}
		now := q.now()
		j.State, j.Updated = Canceled, now
		j.LeaseOwner, j.LeaseExpires = "", time.Time{}
		ok, err := tx.SetJobState(j, from, "")
		if err != nil {
			return err
		}
		if !ok {
			return &errs.Error{Kind: errs.Conflict, Msg: "The job changed while it was being canceled; reload and try again."}
		}
		out = j
		return nil
	})
	return out, err
}

// Prune deletes succeeded and canceled jobs last updated before the given
// time, in batches, and returns how many it deleted. Run it periodically
// (for example daily, keeping 30 days) so the table keeps a bounded
// history.
func (q *Queue) Prune(ctx context.Context, before time.Time) (int, error) {
	const batch = 1000
	total := 0
	for {
		n, err := q.Store.DeleteFinishedJobs(ctx, before, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune jobs: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

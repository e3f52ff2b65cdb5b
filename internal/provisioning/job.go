// Package provisioning is the durable job engine that carries changes in
// Gatehouse out to connected applications (Amazon Connect users first).
//
// A job is a row in the store. It is enqueued inside the transaction of the
// change that causes it (Queue.Enqueue with the domain's transaction as the
// Enqueuer), so a job exists exactly when its cause committed. A Runner
// claims due jobs with a time-limited lease, renews the lease while the
// handler runs, and records the outcome: success with a result, a retry
// with exponential backoff and full jitter, or a final failure that is
// written to the system log in the same transaction.
//
// # Delivery contract
//
// Jobs are delivered at least once. A process killed mid-job leaves the job
// "running" with a lease that expires; another runner then claims it again.
// Handlers must therefore be idempotent: running one twice must leave the
// remote system as running it once does (look up before create, treat
// "already exists" and "already gone" as success, write absolute state
// rather than increments). Two jobs with the same dedupe key never run at
// the same time.
//
// # Dedupe and coalescing
//
// At most one pending job exists per DedupeKey. Enqueuing again while one is
// pending replaces that job's Kind and Payload (the latest enqueue states the
// current intent) and makes it due at the new RunAfter with its attempts
// reset. Enqueuing while the job for the key is running adds one pending
// follow-up, which waits until the running job ends. Handlers of kinds that
// share a dedupe key must therefore converge on the state their payload
// describes.
//
// # Rate limits
//
// A Limiter shared by all workers of a Runner throttles calls per key (for
// Amazon Connect: one key per AWS account and Region). Limits are per node:
// with several nodes on one database, configure each node with rate/nodes.
package provisioning

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// State is where a job is in its life.
type State string

// Job states. Pending and Running are active; the others are final until an
// admin retries a failed job.
const (
	Pending   State = "pending"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Canceled  State = "canceled"
)

// AllStates lists every state, in display order.
func AllStates() []State { return []State{Pending, Running, Succeeded, Failed, Canceled} }

// Job kinds used by the Amazon Connect integration.
const (
	KindConnectCreateUser = "connect.create_user"
	KindConnectUpdateUser = "connect.update_user"
	KindConnectDeleteUser = "connect.delete_user"
	KindConnectReconcile  = "connect.reconcile"
)

// DefaultMaxAttempts is the number of attempts before a job fails.
const DefaultMaxAttempts = 8

// Job is one unit of provisioning work.
type Job struct {
	ID     string
	Kind   string
	AppID  string
	UserID string // empty when the job is not about one user
	// DedupeKey, when set, allows at most one pending job per key, for
	// example "app:<appID>:user:<userID>".
	DedupeKey   string
	Payload     json.RawMessage
	State       State
	Attempts    int // claims so far, including the current one
	MaxAttempts int
	RunAfter    time.Time
	// LeaseOwner and LeaseExpires are set while the job is running.
	LeaseOwner   string
	LeaseExpires time.Time
	// LastError is the last failure, in words an admin can act on (for
	// example AWS's error code and message). It never holds secrets.
	LastError string
	Created   time.Time
	Updated   time.Time
	Result    json.RawMessage // what the handler returned on success
}

// Decode unmarshals the payload into v.
func (j *Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// Enqueuer stores a job inside an open transaction. sqlstore's *Tx
// implements it, so any domain's transaction can enqueue the jobs its change
// causes. Call it through Queue.Enqueue, which fills the defaults.
type Enqueuer interface {
	// EnqueueJob inserts j, or coalesces it into the pending job with the
	// same DedupeKey. On return j describes the stored job (its ID is the
	// existing job's ID when coalesced).
	EnqueueJob(j *Job) error
}

// Claim asks for the next due job.
type Claim struct {
	Owner      string   // lease owner; unique per claim
	Kinds      []string // only jobs of these kinds
	Now        time.Time
	LeaseUntil time.Time
}

// Filter selects jobs for a list.
type Filter struct {
	AppID  string
	UserID string
	Kind   string
	State  State // empty: all states
}

// Store keeps jobs. sqlstore implements it on SQLite and PostgreSQL.
type Store interface {
	// UpdateJobs runs fn in one transaction.
	UpdateJobs(ctx context.Context, fn func(Tx) error) error
	// ClaimJob atomically leases the next due job of one of c.Kinds: a
	// pending job whose RunAfter has come and no job with its dedupe key is
	// running, or a running job whose lease has expired. It moves the job
	// to Running, increments Attempts and returns it; nil when none is due.
	// Concurrent claimers never receive the same job under a live lease.
	ClaimJob(ctx context.Context, c Claim) (*Job, error)
	// RenewJobLease extends the lease while owner still holds it and
	// reports whether it does.
	RenewJobLease(ctx context.Context, id, owner string, until, now time.Time) (bool, error)
	Job(ctx context.Context, id string) (*Job, error)
	// Jobs lists jobs newest first; after is the ID of the last job of the
	// previous page.
	Jobs(ctx context.Context, f Filter, after string, limit int) ([]*Job, error)
	// JobCounts counts jobs by state; appID "" counts all apps.
	JobCounts(ctx context.Context, appID string) (map[State]int, error)
	// RecentFailedJobs lists failed jobs, most recently failed first.
	RecentFailedJobs(ctx context.Context, appID string, limit int) ([]*Job, error)
	// DeleteFinishedJobs deletes up to limit succeeded or canceled jobs
	// last updated before the given time, oldest first, and returns how
	// many it deleted. Failed jobs stay until an admin retries or cancels
	// them.
	DeleteFinishedJobs(ctx context.Context, before time.Time, limit int) (int, error)
}

// Tx is the write side of Store inside one transaction.
type Tx interface {
	Enqueuer
	// JobForUpdate reads a job and locks it until commit.
	JobForUpdate(id string) (*Job, error)
	// SetJobState writes j's State, Attempts, RunAfter, LeaseOwner,
	// LeaseExpires, LastError, Result and Updated if the stored job is in
	// state from and, when owner is not empty, is leased to owner. It
	// reports whether it wrote. Moving a job to Pending fails with a
	// Conflict when another job with its dedupe key is pending.
	SetJobState(j *Job, from State, owner string) (bool, error)
	// LatestJob returns the most recently enqueued job with the dedupe key,
	// or nil.
	LatestJob(dedupeKey string) (*Job, error)
	// LockKey holds a lock on the dedupe key until the transaction ends:
	// transactions that lock a key run one after another, and each one's
	// reads after LockKey see what the previous one committed. The
	// Scheduler takes it before it reads a series' latest job, so that
	// schedulers on several nodes decide one after another.
	LockKey(dedupeKey string) error
	Append(ev audit.Event) error
}

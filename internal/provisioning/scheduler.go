package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Periodic is work enqueued every Interval, such as a reconcile of one app
// or a refresh of its AWS roles.
type Periodic struct {
	Kind      string
	AppID     string
	DedupeKey string // required: identifies the series, e.g. "app:<id>:reconcile"
	Payload   json.RawMessage
	Interval  time.Duration
}

// Scheduler enqueues periodic jobs. A job is enqueued when no job of its
// series is pending or running and the last one was enqueued at least
// Interval ago. The state lives in the jobs table, so restarts and several
// nodes running schedulers do not multiply the work: a scheduler decides
// under a lock on the series' dedupe key (Tx.LockKey), so the scheduler of
// another node that ticks at the same moment sees the job it enqueued,
// even one a runner has already claimed.
type Scheduler struct {
	Queue *Queue
	// Jobs returns the series to keep going; it is called on every tick so
	// that apps added or removed take effect without a restart.
	Jobs   func(ctx context.Context) ([]Periodic, error)
	Tick   time.Duration // how often to look; default 1m
	Logger *slog.Logger
}

// Run ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Minute
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := s.Once(ctx); err != nil && ctx.Err() == nil {
			log.Error("provisioning: schedule periodic jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once enqueues every series that is due and returns the jobs it enqueued.
func (s *Scheduler) Once(ctx context.Context) ([]*Job, error) {
	list, err := s.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Job
	var errsSeen []error
	for _, p := range list {
		j, err := s.one(ctx, p)
		if err != nil {
			errsSeen = append(errsSeen, fmt.Errorf("%s (%s): %w", p.Kind, p.DedupeKey, err))
			continue
		}
		if j != nil {
			out = append(out, j)
		}
	}
	return out, errors.Join(errsSeen...)
}

func (s *Scheduler) one(ctx context.Context, p Periodic) (*Job, error) {
	if p.DedupeKey == "" || p.Interval <= 0 {
		return nil, errors.New("periodic job needs a dedupe key and a positive interval")
	}
	var out *Job
	err := s.Queue.Store.UpdateJobs(ctx, func(tx Tx) error {
		if err := tx.LockKey(p.DedupeKey); err != nil {
			return err
		}
		last, err := tx.LatestJob(p.DedupeKey)
		if err != nil {
			return err
		}
		now := s.Queue.now()
		if last != nil && (last.State == Pending || last.State == Running || now.Sub(last.Created) < p.Interval) {
			return nil
		}
		j := &Job{Kind: p.Kind, AppID: p.AppID, DedupeKey: p.DedupeKey, Payload: p.Payload}
		if err := s.Queue.Enqueue(tx, j); err != nil {
			return err
		}
		out = j
		return nil
	})
	return out, err
}

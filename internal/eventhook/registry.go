package eventhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// KindDeliver is the job kind of a delivery.
const KindDeliver = "eventhook.deliver"

// MaxBatch is the most events one delivery carries.
const MaxBatch = 50

// DefaultRefresh is how often a node rereads the hooks, so that a change
// made on another node of a cluster takes effect here.
const DefaultRefresh = 5 * time.Second

// DeliverAttempts is the number of attempts of a delivery: the first and
// three retries (DefaultRetry).
const DeliverAttempts = 4

// Payload is a delivery job's payload: the hook, the id and time of the
// delivery (the same on every attempt, so that a receiver can drop a
// repeat) and the events.
type Payload struct {
	HookID    string        `json:"hookId"`
	EventID   string        `json:"eventId"`
	EventTime time.Time     `json:"eventTime"`
	Events    []audit.Event `json:"events"`
}

// Registry holds in memory the event types each active, verified hook
// subscribes to, and enqueues deliveries for the events a transaction
// writes (sqlstore calls Subscribers for every event and Enqueue before
// the transaction commits). Subscribers never reads the database: the set
// is reloaded by Refresh after every change made on this node and every
// Refresh interval by Run, for changes made on other nodes.
type Registry struct {
	Store Store
	Queue *provisioning.Queue
	UUID  func() string
	Now   func() time.Time
	Log   *slog.Logger

	subs atomic.Pointer[map[string][]string]
	mu   sync.Mutex // serializes reloads
}

// Subscribers lists the hooks that take events of the type; nil when none.
// It reads only memory.
func (r *Registry) Subscribers(eventType string) []string {
	m := r.subs.Load()
	if m == nil {
		return nil
	}
	return (*m)[eventType]
}

// Refresh reloads the subscriptions from the store.
func (r *Registry) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	hooks, err := r.Store.EventHooks(ctx)
	if err != nil {
		return fmt.Errorf("load event hooks: %w", err)
	}
	m := map[string][]string{}
	for _, h := range hooks {
		if !h.Delivers() {
			continue
		}
		for _, t := range h.Events {
			m[t] = append(m[t], h.ID)
		}
	}
	r.subs.Store(&m)
	return nil
}

// Run reloads the subscriptions every interval until ctx ends.
func (r *Registry) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.Refresh(ctx); err != nil && ctx.Err() == nil && r.Log != nil {
			r.Log.Warn("event hooks: refresh subscriptions", "err", err)
		}
	}
}

// Enqueue adds, in the transaction tx, the deliveries of evs (events of
// types the hook subscribes to, in the order written) to the hook, at
// most MaxBatch events per delivery.
func (r *Registry) Enqueue(tx provisioning.Enqueuer, hookID string, evs []audit.Event) error {
	now := r.Now().UTC()
	for len(evs) > 0 {
		n := min(len(evs), MaxBatch)
		b, err := json.Marshal(Payload{HookID: hookID, EventID: r.UUID(), EventTime: now, Events: evs[:n]})
		if err != nil {
			return err
		}
		if err := r.Queue.Enqueue(tx, &provisioning.Job{Kind: KindDeliver, Payload: b, MaxAttempts: DeliverAttempts}); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

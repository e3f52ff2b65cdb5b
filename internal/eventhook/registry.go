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
	"github.com/gatehouse/gatehouse/internal/expr"
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

	subs atomic.Pointer[map[string]*subscribers]
	mu   sync.Mutex // serializes reloads
}

// subscribers are the hooks that take one event type, with the filter
// condition each has for it (nil: every event of the type).
type subscribers struct {
	ids      []string
	conds    []*expr.EventFilter
	filtered bool // some hook has a condition
}

// Subscribers lists the hooks that take the event: they subscribe to its
// type and their filter, if they have one for the type, is true for it; nil
// when none. It reads only memory.
func (r *Registry) Subscribers(ev audit.Event) []string {
	m := r.subs.Load()
	if m == nil {
		return nil
	}
	s := (*m)[ev.EventType]
	if s == nil {
		return nil
	}
	if !s.filtered {
		return s.ids
	}
	var view *expr.Event
	var out []string
	for i, id := range s.ids {
		if c := s.conds[i]; c != nil {
			if view == nil {
				view = FilterView(&ev)
			}
			if !c.Match(view) {
				continue
			}
		}
		out = append(out, id)
	}
	return out
}

// FilterView is what a filter sees of an event.
func FilterView(ev *audit.Event) *expr.Event {
	v := &expr.Event{EventType: ev.EventType, OutcomeResult: ev.Outcome.Result, OutcomeReason: ev.Outcome.Reason,
		Actor: expr.EventObject{ID: ev.Actor.ID, Type: ev.Actor.Type, AlternateID: ev.Actor.AlternateID, DisplayName: ev.Actor.DisplayName},
		Debug: ev.Debug}
	for _, t := range ev.Target {
		v.Targets = append(v.Targets, expr.EventObject{ID: t.ID, Type: t.Type, AlternateID: t.AlternateID, DisplayName: t.DisplayName})
	}
	return v
}

// conditions compiles a hook's filter: event type → condition. A stored
// condition that no longer compiles (it was checked when saved) takes no
// event of its type rather than every one.
func conditions(h *Hook, log *slog.Logger) map[string]*expr.EventFilter {
	if h.Filter == nil {
		return nil
	}
	out := map[string]*expr.EventFilter{}
	for _, c := range h.Filter.Map {
		f, err := expr.CompileEventFilter(c.Expression)
		if err != nil {
			if log != nil {
				log.Warn("event hooks: a stored filter does not compile; its events are not delivered", "hook", h.ID, "event", c.Event, "err", err)
			}
			f, _ = expr.CompileEventFilter("false")
		}
		out[c.Event] = f
	}
	return out
}

// Refresh reloads the subscriptions from the store.
func (r *Registry) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	hooks, err := r.Store.EventHooks(ctx)
	if err != nil {
		return fmt.Errorf("load event hooks: %w", err)
	}
	m := map[string]*subscribers{}
	for _, h := range hooks {
		if !h.Delivers() {
			continue
		}
		conds := conditions(h, r.Log)
		for _, t := range h.Events {
			s := m[t]
			if s == nil {
				s = &subscribers{}
				m[t] = s
			}
			c := conds[t]
			s.ids = append(s.ids, h.ID)
			s.conds = append(s.conds, c)
			s.filtered = s.filtered || c != nil
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

package eventhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// DefaultRetry is the wait before each retry of a failed delivery: Okta
// retries once; Gatehouse retries three times, after about 10 s, 1 min and
// 5 min, and then records the failure (event_hook.delivery).
var DefaultRetry = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute}

// Deliverer is the job handler that delivers events to a hook.
type Deliverer struct {
	Store   Store
	Sealer  Sealer
	Sender  *Sender
	BaseURL string
	// Render gives an event its System Log shape (as GET /api/v1/logs).
	Render func(audit.Event) any

	mu    sync.Mutex
	retry []time.Duration
}

// SetRetry sets the waits before the retries (tests shorten them).
func (d *Deliverer) SetRetry(waits []time.Duration) {
	d.mu.Lock()
	d.retry = waits
	d.mu.Unlock()
}

func (d *Deliverer) wait(attempt int) time.Duration {
	d.mu.Lock()
	w := d.retry
	d.mu.Unlock()
	if w == nil {
		w = DefaultRetry
	}
	if len(w) == 0 {
		return time.Second
	}
	return w[min(attempt-1, len(w)-1)]
}

// Result is a delivery job's result.
type Result struct {
	Delivered int    `json:"delivered"`
	Skipped   string `json:"skipped,omitempty"`
}

// Body renders the com.okta.event_hook request of a delivery.
func (d *Deliverer) Body(p Payload) ([]byte, error) {
	evs := make([]any, len(p.Events))
	for i, e := range p.Events {
		evs[i] = d.Render(e)
	}
	return json.Marshal(map[string]any{
		"eventType":          "com.okta.event_hook",
		"eventTypeVersion":   "1.0",
		"cloudEventsVersion": "0.1",
		"source":             d.BaseURL + "/api/v1/eventHooks/" + p.HookID,
		"eventId":            p.EventID,
		"eventTime":          p.EventTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		"contentType":        "application/json",
		"data":               map[string]any{"events": evs},
	})
}

// Handle delivers one job (provisioning.Handler). A hook that is gone,
// inactive or unverified by now gets nothing: Okta delivers only to
// active, verified hooks.
func (d *Deliverer) Handle(ctx context.Context, j *provisioning.Job) (any, error) {
	var p Payload
	if err := j.Decode(&p); err != nil {
		return nil, provisioning.Permanent(fmt.Errorf("decode delivery: %w", err))
	}
	h, err := d.Store.EventHook(ctx, p.HookID)
	if errs.Is(err, errs.NotFound) {
		return Result{Skipped: "the event hook was deleted"}, nil
	}
	if err != nil {
		return nil, err
	}
	if !h.Delivers() {
		return Result{Skipped: "the event hook is " + h.Status + " and " + h.VerificationStatus}, nil
	}
	secret, err := openSecret(d.Sealer, h)
	if err != nil {
		return nil, provisioning.Permanent(err)
	}
	body, err := d.Body(p)
	if err != nil {
		return nil, provisioning.Permanent(err)
	}
	if err := d.Sender.Deliver(ctx, h, secret, body); err != nil {
		var ce *CallError
		if errors.As(err, &ce) && !ce.Retryable() {
			return nil, provisioning.Permanent(fmt.Errorf("delivery to %s: %w", h.URI, err))
		}
		return nil, provisioning.Retryable(fmt.Errorf("delivery to %s: %w", h.URI, err), d.wait(j.Attempts))
	}
	return Result{Delivered: len(p.Events)}, nil
}

// FailureEvent describes a failed delivery in the System Log, as Okta's
// event_hook.delivery.
func FailureEvent(j *provisioning.Job, ev *audit.Event) {
	var p Payload
	_ = j.Decode(&p)
	ev.EventType = EventDelivery
	ev.DisplayMessage = "Event hook delivery failed"
	ev.Target = []audit.Target{{ID: p.HookID, Type: "EventHook", AlternateID: "unknown", DisplayName: "unknown"}}
	if ev.Debug == nil {
		ev.Debug = map[string]string{}
	}
	ev.Debug["eventId"] = p.EventID
}

package eventhook

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/audit"
)

type hookList []*Hook

func (l hookList) EventHooks(context.Context) ([]*Hook, error)            { return l, nil }
func (l hookList) EventHook(context.Context, string) (*Hook, error)       { return nil, nil }
func (l hookList) UpdateEventHooks(context.Context, func(Tx) error) error { return nil }

// TestRegistryFilters: Subscribers applies each hook's condition for the
// event's type, leaves the other types unfiltered, and allocates nothing
// for an event no filter looks at.
func TestRegistryFilters(t *testing.T) {
	on := func(id string, f *Filter, types ...string) *Hook {
		return &Hook{ID: id, Status: Active, VerificationStatus: Verified, Events: types, Filter: f}
	}
	cond := &Filter{Type: FilterType, Map: []FilterCondition{{Event: "user.lifecycle.create", Expression: "event.target.?[alternateId eq 'keep@example.com'].size() > 0"}}}
	broken := &Filter{Type: FilterType, Map: []FilterCondition{{Event: "user.lifecycle.create", Expression: "event.nonsense eq"}}}
	r := &Registry{Store: hookList{
		on("filtered", cond, "user.lifecycle.create", "group.lifecycle.create"),
		on("all", nil, "user.lifecycle.create"),
		on("broken", broken, "user.lifecycle.create"),
		{ID: "inactive", Status: Inactive, VerificationStatus: Verified, Events: []string{"user.lifecycle.create"}},
	}}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	user := func(login string) audit.Event {
		return audit.Event{EventType: "user.lifecycle.create", Target: []audit.Target{{ID: "00u1", Type: "User", AlternateID: login}}}
	}
	for _, c := range []struct {
		ev   audit.Event
		want []string
	}{
		{user("keep@example.com"), []string{"filtered", "all"}},
		{user("drop@example.com"), []string{"all"}},
		{audit.Event{EventType: "group.lifecycle.create"}, []string{"filtered"}},
		{audit.Event{EventType: "user.session.start"}, nil},
	} {
		if got := r.Subscribers(c.ev); !slices.Equal(got, c.want) {
			t.Errorf("%s %v: %v, want %v", c.ev.EventType, c.ev.Target, got, c.want)
		}
	}
	group, none := audit.Event{EventType: "group.lifecycle.create"}, audit.Event{EventType: "user.session.start"}
	if n := testing.AllocsPerRun(100, func() { r.Subscribers(group); r.Subscribers(none) }); n != 0 {
		t.Errorf("%v allocations for events no filter looks at", n)
	}
}
